"""Pairs for conditional training (pix2pix): a condition image beside each target image.

    PAIRS/pairs.json     "format": "belamy.pairs", "version": 1, count, size, condition, source
    PAIRS/condition/     a belamy Collection of the condition images (stick figures, edges, ...)
    PAIRS/target/        a belamy Collection of the targets, row i paired with condition row i
    PAIRS/preview.png    condition | target, side by side

The two halves are ordinary collections, so everything that reads a collection reads them; the
targets keep their manifest (credits, and the pose each was painted over). `pairs.json` is
written last: a folder without it is not a pairs folder, so an interrupted build is never read
as a finished one. Conditions derived here (`CONDITIONS`) need no download; `pose` needs each
target's pose in its manifest (the figures demo stores it) or the `pose` extra.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image, ImageFilter

from belamy.core import atomic
from belamy.core.errors import BelamyError
from belamy.core.grid import make_grid
from belamy.core.version import code_version
from belamy.data.collection import Collection, CollectionWriter
from belamy.data.pose import check_pose
from belamy.data.stick import StickConfig, render_stick

FORMAT, VERSION = "belamy.pairs", 1
META_FILE = "pairs.json"
CONDITIONS = ("pose", "edges", "blur", "lowres")


class Pairs:
    """A pairs folder: `condition` and `target` collections of equal length, aligned by row."""

    def __init__(self, path: Path, meta: dict[str, Any], condition: Collection, target: Collection) -> None:
        self.path, self.meta, self.condition, self.target = path, meta, condition, target

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> "Pairs":
        path = Path(path)
        meta_path = path / META_FILE
        if not meta_path.is_file():
            raise BelamyError(f"{path} is not a belamy pairs folder (no {META_FILE}): make one with "
                              f"`belamy pairs COLLECTION --condition edges -o {path}`")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            raise BelamyError(f"{meta_path} is corrupt (not JSON): build the pairs again into a new folder") from None
        if meta.get("format") != FORMAT:
            raise BelamyError(f"{meta_path} is not a belamy pairs file")
        if int(meta.get("version", 0)) > VERSION:
            raise BelamyError(f"{path} was written by a newer belamy (pairs format {meta['version']}): upgrade belamy")
        cond, target = Collection.open(path / "condition"), Collection.open(path / "target")
        if len(cond) != len(target) or cond.size != target.size:
            raise BelamyError(f"{path}: condition ({len(cond)} at {cond.size} px) and target ({len(target)} at "
                              f"{target.size} px) differ: build the pairs again")
        return cls(path, meta, cond, target)

    # the Collection interface training and the model card use: the targets are the works
    def __len__(self) -> int:
        return len(self.target)

    @property
    def size(self) -> int:
        return self.target.size

    @property
    def manifest(self) -> list[dict[str, Any]]:
        return self.target.manifest

    def license_counts(self) -> Counter:
        return self.target.license_counts()

    def missing_credits(self) -> int:
        return self.target.missing_credits()

    def load(self) -> np.ndarray:
        """(N, S, S, 6) uint8: condition channels, then target channels (flips keep them together)."""
        return np.concatenate([self.condition.load(), self.target.load()], axis=-1)


def is_pairs(path: str | os.PathLike[str]) -> bool:
    return (Path(path) / META_FILE).is_file()


def open_training_data(path: str | os.PathLike[str]) -> Collection | Pairs:
    """What a run trains on: a collection, or a pairs folder for a conditional model."""
    return Pairs.open(path) if is_pairs(path) else Collection.open(path)


# -- conditions derived from an image ----------------------------------------------------------------
def edges(img: np.ndarray) -> np.ndarray:
    """Dark lines on white where the luminance changes (Sobel magnitude, contrast-normalised)."""
    y = img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    p = np.pad(y, 1, mode="edge")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    mag = np.hypot(gx, gy)
    scale = max(float(np.percentile(mag, 98)), 1e-6)
    ink = np.clip(mag / scale, 0, 1)
    v = (255 * (1 - ink)).round().astype(np.uint8)
    return np.repeat(v[..., None], 3, axis=-1)


def blur(img: np.ndarray) -> np.ndarray:
    """A Gaussian blur of radius 1/32 of the side: the layout and colour masses, no detail."""
    radius = max(1.0, img.shape[0] / 32)
    return np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(radius)))


def lowres(img: np.ndarray) -> np.ndarray:
    """The image at a quarter of its side, scaled back up (bicubic): for super-resolution-like pairs."""
    s = img.shape[0]
    small = Image.fromarray(img).resize((max(1, s // 4),) * 2, Image.Resampling.BOX)
    return np.asarray(small.resize((s, s), Image.Resampling.BICUBIC))


def pose_condition(row: dict[str, Any], size: int) -> np.ndarray:
    """The stick figure of the pose a target was painted over (its manifest's `pose`)."""
    pose = np.asarray(row["pose"], np.float32).reshape(17, 3)
    check_pose(pose, f"the pose of {row.get('id', 'an image')}")
    return render_stick(pose, StickConfig(size=size))


def derive_pairs(collection: str | os.PathLike[str], out: str | os.PathLike[str], condition: str,
                 progress: Callable[[int], None] | None = None) -> Pairs:
    """Pairs whose targets are `collection`'s images and whose conditions are derived from them."""
    if condition not in CONDITIONS:
        raise BelamyError(f"unknown condition '{condition}': choose one of {', '.join(CONDITIONS)}")
    coll = Collection.open(collection)
    if len(coll) == 0:
        raise BelamyError(f"{collection} is empty: nothing to pair")
    out = Path(out)
    if (out / META_FILE).exists():
        raise BelamyError(f"{out} already holds pairs: choose a new -o")
    if condition == "pose":
        missing = sum(1 for row in coll.manifest if "pose" not in row)
        if missing:
            raise BelamyError(f"{missing} of {len(coll)} images in {collection} have no pose in their manifest: "
                              "use the figures demo (belamy collect --demo figures), or extract poses with the "
                              "'pose' extra (pip install 'belamy[pose]', belamy poses extract)")
    derive = {"edges": edges, "blur": blur, "lowres": lowres}.get(condition)
    cond_w = CollectionWriter(out / "condition", coll.size)
    target_w = CollectionWriter(out / "target", coll.size)
    try:
        for i, row in enumerate(coll.manifest):
            img = np.asarray(coll.images[i])
            a = pose_condition(row, coll.size) if derive is None else derive(img)
            cond_w.append(np.ascontiguousarray(a, np.uint8).tobytes(), {"id": row.get("id", i), "condition": condition,
                                                                       "of": row.get("sha256")})
            target_w.append(img.tobytes(), {k: v for k, v in row.items() if k != "index"})
            if progress is not None:
                progress(1)
        stamp = {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "code_version": code_version()}
        cond_w.commit({**stamp, "source": f"condition '{condition}' of {coll.path}"})
        target_w.commit({**stamp, "source": str(coll.path)})
    except BaseException:
        cond_w.abort()
        target_w.abort()
        raise
    pairs_meta = {"format": FORMAT, "version": VERSION, "count": len(coll), "size": coll.size, "condition": condition,
                  "source": str(Path(collection).resolve()), **stamp}
    _write_preview(Pairs(out, pairs_meta, Collection.open(out / "condition"), Collection.open(out / "target")))
    atomic.write_json(out / META_FILE, pairs_meta)  # last: now it is a pairs folder
    return Pairs.open(out)


def side_by_side(*images: np.ndarray) -> np.ndarray:
    """(H, W, 3) images -> one (H, sum W, 3) image, left to right."""
    return np.concatenate(images, axis=1)


def _write_preview(pairs: Pairs, k: int = 16) -> Path:
    idx = np.linspace(0, len(pairs) - 1, min(k, len(pairs))).round().astype(int)
    tiles = [side_by_side(pairs.condition.images[i], pairs.target.images[i]) for i in idx]
    sheet = make_grid(tiles, cols=min(4, len(tiles)))
    out = pairs.path / "preview.png"
    with atomic.atomic_path(out, suffix=".png") as tmp:
        sheet.save(tmp, format="PNG", optimize=True)
    return out
