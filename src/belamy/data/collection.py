"""The Collection: the on-disk format that training reads fast and that remembers every source.

Layout of a collection directory (format version 1):

    collection.json   format, version, size, count, fit, created/updated, code version
    manifest.jsonl    one JSON object per image, in array order: id, sha256, source, credits, ...
    images.u8         count x size x size x 3 uint8 (row-major RGB), memory-mapped for training
    preview.png       contact sheet
    reports/          one JSON report per collect run (what was added, skipped and why)

`collection.json` is the commit point: it is renamed into place last and its `count` says how many
rows of the (append-only) manifest and image file are valid. A run that dies before that rename
leaves the previous collection exactly as it was.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from belamy.core import atomic
from belamy.core.errors import BelamyError
from belamy.core.grid import make_grid, spread_indices

FORMAT = "belamy.collection"
VERSION = 1
IMAGES_FILE = "images.u8"
MANIFEST_FILE = "manifest.jsonl"
META_FILE = "collection.json"
PREVIEW_FILE = "preview.png"


class Collection:
    """A prepared collection of square RGB images with their manifest."""

    def __init__(self, path: Path, meta: dict[str, Any], manifest: list[dict[str, Any]]) -> None:
        self.path = path
        self.meta = meta
        self.manifest = manifest
        self._images: np.ndarray | None = None

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> "Collection":
        path = Path(path)
        meta_path = path / META_FILE
        if not meta_path.is_file():
            raise BelamyError(
                f"{path} is not a belamy collection (no {META_FILE}): create one with `belamy collect SOURCE -o {path}`"
            )
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            raise BelamyError(f"{meta_path} is corrupt (not JSON): re-run `belamy collect` into a new folder") from None
        if meta.get("format") != FORMAT:
            raise BelamyError(f"{meta_path} is not a belamy collection file")
        if int(meta.get("version", 0)) > VERSION:
            raise BelamyError(
                f"{path} was written by a newer belamy (collection format {meta['version']}): upgrade belamy"
            )
        count = int(meta["count"])
        manifest = read_manifest(path / MANIFEST_FILE, count)
        return cls(path, meta, manifest)

    # -- properties ----------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return int(self.meta["size"])

    def __len__(self) -> int:
        return int(self.meta["count"])

    @property
    def images(self) -> np.ndarray:
        """(count, size, size, 3) uint8, memory-mapped read-only (nothing loaded until touched)."""
        if self._images is None:
            n, s = len(self), self.size
            if n == 0:
                self._images = np.zeros((0, s, s, 3), dtype=np.uint8)
            else:
                file = self.path / IMAGES_FILE
                need = n * s * s * 3
                if not file.is_file() or file.stat().st_size < need:
                    raise BelamyError(f"{file} is missing or truncated: re-run `belamy collect` on the sources")
                self._images = np.memmap(file, dtype=np.uint8, mode="r", shape=(n, s, s, 3))
        return self._images

    def load(self) -> np.ndarray:
        """All images as an in-memory array (training keeps the collection in RAM as uint8)."""
        return np.array(self.images)

    def license_counts(self) -> Counter:
        return Counter(row.get("license") or "unknown" for row in self.manifest)

    def opted_out(self) -> list[dict[str, Any]]:
        """Rows of images whose creators opted out of training, kept by `--include-opted-out`."""
        return [row for row in self.manifest if row.get("opt_out")]

    def missing_credits(self) -> int:
        """Images that lack an author or a licence."""
        return sum(1 for row in self.manifest if not row.get("author") or not row.get("license"))

    def summary(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "count": len(self),
            "size": self.size,
            "fit": self.meta.get("fit"),
            "licenses": dict(self.license_counts().most_common()),
            "authors": len({row["author"] for row in self.manifest if row.get("author")}),
            "missing_credits": self.missing_credits(),
            "opted_out_included": len(self.opted_out()),
            "updated": self.meta.get("updated"),
        }

    def __repr__(self) -> str:
        return f"Collection({str(self.path)!r}, count={len(self)}, size={self.size})"


def read_manifest(path: Path, count: int) -> list[dict[str, Any]]:
    """The first `count` rows of a manifest (later rows belong to an interrupted run)."""
    rows: list[dict[str, Any]] = []
    if count == 0:
        return rows
    if not path.is_file():
        raise BelamyError(f"{path} is missing: re-run `belamy collect` on the sources")
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if len(rows) == count:
                break
            if line.strip():
                rows.append(json.loads(line))
    if len(rows) < count:
        raise BelamyError(f"{path} has {len(rows)} rows but the collection says {count}: re-run `belamy collect`")
    return rows


@dataclass
class CollectionWriter:
    """Builds the next version of a collection in temporary files and commits it atomically.

    The image file is append-only: the previous images are copied to a temporary file, new ones
    are streamed after them (so memory stays bounded), and `commit` renames everything into place
    with `collection.json` last.
    """

    path: Path
    size: int
    base: Collection | None = None

    def __post_init__(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self._tmp_images = self.path / f".{IMAGES_FILE}.{os.getpid()}.tmp"
        if self.base is not None and len(self.base):
            with open(self.base.path / IMAGES_FILE, "rb") as src, open(self._tmp_images, "wb") as dst:
                _copy_prefix(src, dst, len(self.base) * self.size * self.size * 3)
        else:
            self._tmp_images.write_bytes(b"")
        self._fh = open(self._tmp_images, "ab")
        self._reader = None  # opened on the first `image` call
        self.rows: list[dict[str, Any]] = list(self.base.manifest) if self.base else []

    def append(self, pixels: bytes, row: dict[str, Any]) -> int:
        """Add one prepared image; return its index."""
        assert len(pixels) == self.size * self.size * 3
        self._fh.write(pixels)
        row["index"] = len(self.rows)
        self.rows.append(row)
        return row["index"]

    def image(self, index: int) -> np.ndarray:
        """The prepared pixels of row `index` (kept before or in this run), as (size, size, 3) uint8."""
        n = self.size * self.size * 3
        self._fh.flush()
        if self._reader is None:
            self._reader = open(self._tmp_images, "rb")
        self._reader.seek(index * n)
        data = self._reader.read(n)
        if len(data) != n:
            raise IndexError(f"no image {index} in {self.path}")
        return np.frombuffer(data, dtype=np.uint8).reshape(self.size, self.size, 3)

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def commit(self, meta: dict[str, Any]) -> Collection:
        self._close_reader()
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        meta = {**meta, "format": FORMAT, "version": VERSION, "size": self.size, "count": len(self.rows),
                "images": {"file": IMAGES_FILE, "dtype": "uint8", "shape": [len(self.rows), self.size, self.size, 3]}}
        # encoded before any rename, so a row that cannot be written leaves the collection as it was
        manifest = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.rows).encode("utf-8")
        os.replace(self._tmp_images, self.path / IMAGES_FILE)
        atomic.write_bytes(self.path / MANIFEST_FILE, manifest)
        atomic.write_json(self.path / META_FILE, meta)
        return Collection.open(self.path)

    def abort(self) -> None:
        self._close_reader()
        if not self._fh.closed:
            self._fh.close()
        self._tmp_images.unlink(missing_ok=True)


def _copy_prefix(src, dst, nbytes: int) -> None:
    remaining = nbytes
    while remaining > 0:
        chunk = src.read(min(remaining, 1 << 24))
        if not chunk:
            raise BelamyError("the existing collection's image file is truncated: collect into a new folder")
        dst.write(chunk)
        remaining -= len(chunk)


def write_preview(collection: Collection, k: int = 64, cell: int = 96) -> Path:
    """A contact sheet of up to k images spread over the collection."""
    idx = spread_indices(len(collection), k)
    sheet = make_grid([collection.images[i] for i in idx], cell=min(cell, collection.size), cols=min(8, max(1, len(idx))))
    out = collection.path / PREVIEW_FILE
    with atomic.atomic_path(out, suffix=".png") as tmp:
        sheet.save(tmp, format="PNG", optimize=True)
    return out

