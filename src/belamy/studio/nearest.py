"""A render's training collection: its summary for the lineage, and the nearest training image.

A render's record names its run (`run_path`); the run's `run.json` names the collection it was
trained on (`collection`), and the record's originality entry names the collection row nearest to
the render (`nearest.index`, with its `id`). The studio reads only that: `collection.json`,
`manifest.jsonl` and one row of `images.u8` (memory-mapped read-only) of the collection folder
that a served render's run names, each file checked to resolve inside that folder. No URL carries
a path or an index: the route takes a render's opaque id and everything else comes from the
render's record, bounds-checked against the collection (and its id against the manifest's row).
The row is written once as a WebP in `STATE/nearest/`, then served from there.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from PIL import Image

from belamy.core.errors import BelamyError
from belamy.data import names
from belamy.data.collection import IMAGES_FILE, MANIFEST_FILE, META_FILE, Collection

MAX_RUN_JSON = 1 << 20
THUMB = 256


def _inside(path: Path, root: Path) -> bool:
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return False
    return real.is_file() and real.is_relative_to(root)


def collection_path(meta: dict[str, Any]) -> Path | None:
    """The collection folder named by the run of a render (its lineage `meta`), or None."""
    run = meta.get("run_path")
    if not isinstance(run, str) or not run:
        return None
    info_file = Path(run) / "run.json"
    try:
        if not info_file.is_file() or info_file.stat().st_size > MAX_RUN_JSON:
            return None
        info = json.loads(info_file.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    coll = info.get("collection") if isinstance(info, dict) else None
    return Path(names.local_path(coll)) if isinstance(coll, str) and coll else None


class Collections:
    """Open collections by folder (reopened when their collection.json changes) and the nearest
    training images cut from them, cached as WebP files in `cache`."""

    def __init__(self, cache: Path) -> None:
        self.cache = Path(cache)
        self._lock = threading.Lock()
        self._open: dict[Path, tuple[int, Collection]] = {}

    def open(self, folder: Path) -> Collection:
        """The collection in `folder`, its files checked to be inside it; BelamyError when absent."""
        try:
            root = folder.resolve(strict=True)
        except (OSError, RuntimeError):
            raise BelamyError(f"the run's collection {folder} is not here") from None
        for name in (META_FILE, MANIFEST_FILE):
            if not _inside(root / name, root):
                raise BelamyError(f"the run's collection {folder} is not here (no {name})")
        stamp = (root / META_FILE).stat().st_mtime_ns
        with self._lock:
            held = self._open.get(root)
            if held is not None and held[0] == stamp:
                return held[1]
        coll = Collection.open(root)
        with self._lock:
            self._open[root] = (stamp, coll)
        return coll

    def summary(self, meta: dict[str, Any]) -> dict[str, Any] | None:
        """The lineage's collection: name, image count, licences, authors; or why it is absent.
        None when the render's record names no run that names a collection."""
        folder = collection_path(meta)
        if folder is None:
            run = meta.get("run_path")
            return {"present": False, "problem": f"the run {run} is not here, so neither is its collection"} \
                if isinstance(run, str) and run else None
        try:
            coll = self.open(folder)
        except BelamyError as exc:
            return {"present": False, "name": folder.name, "problem": str(exc)}
        licences = coll.license_counts().most_common()
        return {"present": True, "name": folder.name, "count": len(coll), "size": coll.size,
                "licenses": dict(licences),
                "authors": len({r["author"] for r in coll.manifest if r.get("author")}),
                "missing_credits": coll.missing_credits()}

    def nearest(self, meta: dict[str, Any]) -> Path:
        """The WebP of the render's nearest training image (made once), or BelamyError saying why not."""
        near = meta.get("nearest") or {}
        index = near.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            raise BelamyError("the record names no nearest training image")
        folder = collection_path(meta)
        if folder is None:
            raise BelamyError("the render's run, and so its collection, is not here")
        coll = self.open(folder)
        if not 0 <= index < len(coll):
            raise BelamyError(f"the nearest image's row {index} is not in the collection ({len(coll)} images)")
        row = coll.manifest[index] if index < len(coll.manifest) else {}
        if near.get("id") is not None and row.get("id") is not None and str(row.get("id")) != str(near.get("id")):
            raise BelamyError("the collection changed since the render was checked (the row's id differs)")
        root = coll.path.resolve()
        if not _inside(root / IMAGES_FILE, root):
            raise BelamyError(f"the collection's {IMAGES_FILE} is not inside it")
        key = hashlib.blake2b(f"{root}|{(root / META_FILE).stat().st_mtime_ns}|{index}".encode(),
                              digest_size=16).hexdigest()
        out = self.cache / key[:2] / f"{key}.webp"
        if out.is_file():
            return out
        pixels = coll.images[index]  # one row of the read-only memory map
        im = Image.fromarray(pixels, "RGB")
        if im.width > THUMB:
            im = im.resize((THUMB, THUMB), Image.Resampling.LANCZOS)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        im.save(tmp, "WEBP", quality=88)
        os.replace(tmp, out)
        return out
