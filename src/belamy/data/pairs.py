"""Pairs for conditional training (pix2pix): a condition image beside each target image.

    PAIRS/pairs.json     "format": "belamy.pairs", "version": 1, count, size, condition, source
    PAIRS/condition/     a belamy Collection of the condition images (stick figures, edges, ...)
    PAIRS/target/        a belamy Collection of the targets, row i paired with condition row i
    PAIRS/preview.png    condition | target, side by side

The two halves are ordinary collections, so everything that reads a collection reads them; the
targets keep their manifest (credits, and the pose each was painted over). `pairs.json` is
written last: a folder without it is not a pairs folder, so an interrupted build is never read
as a finished one. Conditions derived here (`CONDITIONS`) need no download; `pose` needs each
target's pose in its manifest (the figures demo stores it) or the `pose` extra, which then finds
the pose in each target (`belamy.data.pose_extract`; targets without a detected person are left out).
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
from belamy.data.decode import DecodeOptions, Skip, decode
from belamy.data.pose import COORD_RANGE, check_pose
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
    extractor = None
    if condition == "pose":
        missing = sum(1 for row in coll.manifest if "pose" not in row)
        if missing:
            from belamy.data.pose_extract import PoseExtractor

            try:
                extractor = PoseExtractor()
            except BelamyError:
                raise BelamyError(f"{missing} of {len(coll)} images in {collection} have no pose in their manifest: "
                                  "use the figures demo (belamy collect --demo figures), or extract poses with the "
                                  "'pose' extra (pip install 'belamy[pose]', belamy poses extract)") from None
    derive = {"edges": edges, "blur": blur, "lowres": lowres}.get(condition)
    cond_w = CollectionWriter(out / "condition", coll.size)
    target_w = CollectionWriter(out / "target", coll.size)
    written = 0
    try:
        for i, row in enumerate(coll.manifest):
            img = np.asarray(coll.images[i])
            if derive is not None:
                a = derive(img)
            elif "pose" in row or extractor is None:
                a = pose_condition(row, coll.size)
            else:
                found = extractor.extract(img)  # fractions of the square image: canvas units
                if found is None:
                    if progress is not None:
                        progress(1)
                    continue
                lo, hi = COORD_RANGE
                found[((found[:, :2] < lo) | (found[:, :2] > hi)).any(axis=1)] = 0.0
                a = pose_condition({**row, "pose": found.reshape(-1).tolist()}, coll.size)
            written += 1
            cond_w.append(np.ascontiguousarray(a, np.uint8).tobytes(), {"id": row.get("id", i), "condition": condition,
                                                                       "of": row.get("sha256")})
            target_w.append(img.tobytes(), {k: v for k, v in row.items() if k != "index"})
            if progress is not None:
                progress(1)
        if written == 0:
            raise BelamyError(f"no person detected in any of the {len(coll)} images of {collection}: no pose pairs")
        stamp = {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "code_version": code_version()}
        cond_w.commit({**stamp, "source": f"condition '{condition}' of {coll.path}"})
        target_w.commit({**stamp, "source": str(coll.path)})
    except BaseException:
        cond_w.abort()
        target_w.abort()
        raise
    finally:
        if extractor is not None:
            extractor.close()
    pairs_meta = {"format": FORMAT, "version": VERSION, "count": written, "size": coll.size, "condition": condition,
                  "source": str(Path(collection).resolve()), **stamp}
    if extractor is not None:
        pairs_meta["no_person"] = len(coll) - written  # targets left out: no person detected
    _write_preview(Pairs(out, pairs_meta, Collection.open(out / "condition"), Collection.open(out / "target")))
    atomic.write_json(out / META_FILE, pairs_meta)  # last: now it is a pairs folder
    return Pairs.open(out)


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


def _by_name(folder: Path) -> dict[str, Path]:
    """Image files under `folder` by their relative path without suffix, case-folded (a.png ~ A.jpg)."""
    if not folder.is_dir():
        raise BelamyError(f"{folder} is not a folder: give two folders of images paired by name")
    found: dict[str, Path] = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not any(x.startswith(".") for x in p.parts):
            found.setdefault(str(p.relative_to(folder).with_suffix("")).casefold(), p)
    return found


def pairs_from_folders(a_dir: str | os.PathLike[str], b_dir: str | os.PathLike[str], out: str | os.PathLike[str],
                       size: int, fit: str = "crop", progress: Callable[[int], None] | None = None) -> Pairs:
    """Pairs of condition images in `a_dir` and targets in `b_dir` matched by name (`pose/0001.png`
    with `pose/0001.jpg`). Unmatched and unreadable files are skipped and listed in report.json;
    no deduplication (two conditions may well be the same image)."""
    a, b = _by_name(Path(a_dir)), _by_name(Path(b_dir))
    out = Path(out)
    if (out / META_FILE).exists():
        raise BelamyError(f"{out} already holds pairs: choose a new -o")
    keys = sorted(set(a) & set(b))
    report: dict[str, Any] = {"matched": len(keys), "only_in_condition": [str(a[k]) for k in sorted(set(a) - set(b))],
                              "only_in_target": [str(b[k]) for k in sorted(set(b) - set(a))], "skipped": []}
    if not keys:
        raise BelamyError(f"no file in {a_dir} has a partner of the same name in {b_dir}: pairs are matched by name")
    opts = DecodeOptions(size=size, fit=fit)
    writers = {"condition": CollectionWriter(out / "condition", size), "target": CollectionWriter(out / "target", size)}
    try:
        for k in keys:
            try:
                both = {side: (path, decode(path.read_bytes(), opts)) for side, path in (("condition", a[k]),
                                                                                         ("target", b[k]))}
            except (Skip, OSError) as exc:
                report["skipped"].append({"pair": k, "reason": str(exc)})
                continue
            for side, (path, dec) in both.items():
                writers[side].append(dec.pixels, {"id": k, "source": str(path.resolve()), "width": dec.width,
                                                  "height": dec.height, "format": dec.format})
            if progress is not None:
                progress(1)
        if not writers["target"].rows:
            raise BelamyError(f"none of the {len(keys)} pairs could be read: see the reasons with --debug")
        stamp = {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "code_version": code_version()}
        for side, w in writers.items():
            w.commit({**stamp, "source": str(Path(a_dir if side == "condition" else b_dir).resolve())})
    except BaseException:
        for w in writers.values():
            w.abort()
        raise
    atomic.write_json(out / "report.json", report)
    meta = {"format": FORMAT, "version": VERSION, "count": len(writers["target"].rows), "size": size,
            "condition": "files", "source": str(Path(b_dir).resolve()), **stamp}
    _write_preview(Pairs(out, meta, Collection.open(out / "condition"), Collection.open(out / "target")))
    atomic.write_json(out / META_FILE, meta)
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
