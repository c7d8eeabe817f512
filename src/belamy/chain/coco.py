"""COCO keypoint annotations -> a pose collection: the first link of the chain.

COCO's person_keypoints_*.json files hold about 150,000 people with 17 keypoints each (in pixel
coordinates of their photo) beside a large `images` table and segmentation polygons. They are
read streaming with ijson, one annotation at a time, so memory stays bounded whatever the file's
size: what grows is only the kept poses (about 0.3 kB each).

Each annotation is kept or skipped with a reason (`SKIP_REASONS`): crowd regions, too few labelled
keypoints, a person too small in the photo, and invalid entries (a keypoint list of the wrong
length, numbers that are not finite, a visibility outside 0..2). Kept poses are normalised to
canvas units with `belamy.data.pose.normalise`; with `mirror`, a mirrored copy of each is added.
A file that is not COCO keypoint annotations is one clear error, before anything is written.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import ijson
import numpy as np

from belamy.core.config import bounds, check_fields
from belamy.core.errors import BelamyError
from belamy.core.progress import make_progress
from belamy.data.pose import NUM_KEYPOINTS, normalise
from belamy.data.pose_collection import PoseCollection, write_poses

SKIP_REASONS = {
    "crowd": "a crowd region (iscrowd), not one person",
    "too-few-keypoints": "fewer labelled keypoints than min_visible",
    "small-box": "the person's box is smaller than min_box pixels",
    "no-keypoints": "the annotation has no keypoints",
    "wrong-length": "keypoints is not a list of 51 numbers (17 x, y, v)",
    "not-finite": "a keypoint is not a finite number",
    "bad-visibility": "a visibility is not 0, 1 or 2",
    "degenerate": "all labelled keypoints at one point",
    "duplicate": "an annotation id seen before (the same file twice?)",
    "not-an-annotation": "an entry of the annotations array is not an object",
}
EXAMPLES = 5  # example annotations kept in the report per skip reason
_NOT_KEYPOINTS_AFTER = 100  # this many annotations without keypoints and none with: not a keypoint file
COCO_CREDIT = {"title": "COCO keypoint annotations", "author": "COCO Consortium", "license": "CC-BY-4.0",
               "source_url": "https://cocodataset.org"}


@dataclass
class CocoImportConfig:
    """Which COCO people become poses, and how they are normalised."""

    min_visible: int = field(default=8, metadata=bounds(1, 17))  # labelled keypoints (COCO's num_keypoints)
    min_box: float = field(default=64.0, metadata=bounds(0))  # pixels: longer side of the person's box
    skip_crowd: bool = True  # skip crowd regions (iscrowd = 1)
    height: float = field(default=0.8, metadata=bounds(0.1, 1.0))  # normalised box size (pose.normalise)
    mirror: bool = False  # add a mirrored copy of every kept pose
    limit: int | None = field(default=None, metadata=bounds(1))  # stop after this many kept people

    def validate(self) -> None:
        check_fields(self, "COCO import config")


class _Buffer:
    """A growing (n, ...) array: poses and their source numbers without per-pose Python objects."""

    def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
        self.data = np.zeros((1024, *shape), dtype=dtype)
        self.n = 0

    def append(self, value: Any) -> None:
        if self.n == len(self.data):
            self.data = np.concatenate([self.data, np.zeros_like(self.data)])
        self.data[self.n] = value
        self.n += 1

    def array(self) -> np.ndarray:
        return self.data[:self.n]


def import_coco(files: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str],
                cfg: CocoImportConfig | None = None, progress: bool | None = None) -> PoseCollection:
    """Read COCO person_keypoints JSON `files` into the pose collection `out` (written, or
    replaced, atomically); return it. Its report (report.json, `collection.report`) counts what
    was kept and skipped, by reason."""
    cfg = cfg or CocoImportConfig()
    cfg.validate()
    paths = [Path(f) for f in files]
    if not paths:
        raise BelamyError("no COCO files given: pass person_keypoints_*.json files")
    for p in paths:
        if not p.is_file():
            raise BelamyError(f"{p} is not a file: pass COCO person_keypoints_*.json files")
    started = time.perf_counter()
    poses = _Buffer((NUM_KEYPOINTS, 3), np.float32)
    sources = _Buffer((7,), np.float64)  # file index, image id, annotation id, box x, y, w, h
    skipped: Counter = Counter()
    examples: dict[str, list[dict[str, Any]]] = {}
    seen_ids: set[int] = set()
    file_reports: list[dict[str, Any]] = []
    kept = 0
    bar = make_progress(enabled=progress)
    with bar:
        for fi, path in enumerate(paths):
            info = _read_info(path)
            task = bar.add_task(f"reading {path.name}", total=path.stat().st_size)
            n_file = kept_file = 0
            for ann, pos in _annotations(path):
                n_file += 1
                if n_file % 500 == 0:
                    bar.update(task, completed=pos)
                reason, pose, source = _convert(ann, cfg, seen_ids)
                if reason is not None:
                    skipped[reason] += 1
                    if len(examples.setdefault(reason, [])) < EXAMPLES:
                        examples[reason].append({"file": path.name, "annotation_id": _plain(ann, "id"),
                                                 "image_id": _plain(ann, "image_id")})
                    continue
                poses.append(pose)
                sources.append((fi, *source))
                kept += 1
                kept_file += 1
                if cfg.limit is not None and kept >= cfg.limit:
                    break
            bar.update(task, completed=path.stat().st_size)
            file_reports.append({"file": str(path), "annotations": n_file, "kept": kept_file,
                                 **({"info": info} if info else {})})
            if cfg.limit is not None and kept >= cfg.limit:
                break

    base = poses.array()
    src = sources.array()
    if cfg.mirror:
        all_poses = np.empty((2 * len(base), NUM_KEYPOINTS, 3), dtype=np.float32)
        all_poses[0::2] = base
        all_poses[1::2] = normalise(base, cfg.height, mirror=True) if len(base) else base
    else:
        all_poses = base
    names = [p.name for p in paths]
    report = {
        "files": file_reports,
        "seen": sum(f["annotations"] for f in file_reports),
        "kept": kept,
        "mirrored": kept if cfg.mirror else 0,
        "count": len(all_poses),
        "skipped": dict(skipped.most_common()),
        "skip_reasons": {k: SKIP_REASONS[k] for k in skipped},
        "examples": examples,
        "config": asdict(cfg),
        "seconds": round(time.perf_counter() - started, 2),
    }
    is_coco = any("coco" in str(f.get("info", {}).get("url", "")).lower() or
                  "coco" in str(f.get("info", {}).get("description", "")).lower() for f in file_reports)
    meta = {
        "source": {"kind": "coco", "files": names},
        "normalisation": {"method": "keypoint box", "height": cfg.height, "mirror": cfg.mirror},
        "credits": [COCO_CREDIT] if is_coco else [],
    }
    return write_poses(out, all_poses, _rows(src, names, cfg.mirror), meta, report)


def _rows(src: np.ndarray, names: list[str], mirror: bool) -> Iterator[dict[str, Any]]:
    for k, (fi, image_id, ann_id, x, y, w, h) in enumerate(src):
        source: dict[str, Any] = {"file": names[int(fi)]}
        if not math.isnan(image_id):
            source["image_id"] = int(image_id)
        if not math.isnan(ann_id):
            source["annotation_id"] = int(ann_id)
        if not math.isnan(w):
            source["box"] = [round(float(v), 1) for v in (x, y, w, h)]
        ident = f"coco:{int(ann_id)}" if not math.isnan(ann_id) else f"coco:{names[int(fi)]}:{k}"
        yield {"id": ident, "source": source}
        if mirror:
            yield {"id": f"{ident}:mirrored", "source": {**source, "mirrored": True}}


def _plain(ann: Any, key: str) -> Any:
    v = ann.get(key) if isinstance(ann, dict) else None
    return v if isinstance(v, (int, float, str)) or v is None else str(v)


def _number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return math.nan
    return float(v)


def _convert(ann: Any, cfg: CocoImportConfig, seen_ids: set[int]
             ) -> tuple[str | None, np.ndarray | None, tuple[float, ...]]:
    """(skip reason or None, normalised pose, (image id, annotation id, box x, y, w, h))."""
    none: tuple[float, ...] = ()
    if not isinstance(ann, dict):
        return "not-an-annotation", None, none
    kp = ann.get("keypoints")
    if kp is None:
        return "no-keypoints", None, none
    if cfg.skip_crowd and ann.get("iscrowd"):
        return "crowd", None, none
    if not isinstance(kp, list) or len(kp) != 3 * NUM_KEYPOINTS:
        return "wrong-length", None, none
    arr = np.array([_number(v) for v in kp], dtype=np.float64).reshape(NUM_KEYPOINTS, 3)
    if not np.isfinite(arr).all():
        return "not-finite", None, none
    v = arr[:, 2]
    if not np.isin(v, (0.0, 1.0, 2.0)).all():
        return "bad-visibility", None, none
    labelled = v > 0
    if int(labelled.sum()) < cfg.min_visible:
        return "too-few-keypoints", None, none
    box = ann.get("bbox")
    box_nums = [_number(b) for b in box] if isinstance(box, list) and len(box) == 4 else []
    if len(box_nums) == 4 and all(math.isfinite(b) for b in box_nums) and box_nums[2] > 0 and box_nums[3] > 0:
        side = max(box_nums[2], box_nums[3])
    else:
        box_nums = [math.nan] * 4
        xy = arr[labelled, :2]
        side = float((xy.max(axis=0) - xy.min(axis=0)).max())
    if side < cfg.min_box:
        return "small-box", None, none
    ann_id = _number(ann.get("id"))
    if math.isfinite(ann_id):
        if int(ann_id) in seen_ids:
            return "duplicate", None, none
    try:
        pose = normalise(arr, height=cfg.height)
    except BelamyError:
        return "degenerate", None, none
    if math.isfinite(ann_id):
        seen_ids.add(int(ann_id))
    image_id = _number(ann.get("image_id"))
    return None, pose, (image_id if math.isfinite(image_id) else math.nan,
                        ann_id if math.isfinite(ann_id) else math.nan, *box_nums)


def _annotations(path: Path) -> Iterator[tuple[Any, int]]:
    """Each entry of the file's `annotations` array with the bytes read so far; one-line errors
    for a file that is not JSON or not COCO keypoint annotations."""
    n = with_keypoints = 0
    try:
        with open(path, "rb") as fh:
            for ann in ijson.items(fh, "annotations.item", use_float=True):
                n += 1
                if isinstance(ann, dict) and "keypoints" in ann:
                    with_keypoints += 1
                elif n >= _NOT_KEYPOINTS_AFTER and not with_keypoints:
                    break
                yield ann, fh.tell()
    except ijson.JSONError as exc:
        raise BelamyError(f"{path} is not valid JSON ({_short(exc)}): pass COCO person_keypoints_*.json "
                          f"files") from None
    if n == 0 and not _has_annotations(path):
        raise BelamyError(f"{path} is not a COCO annotation file (no 'annotations' array): pass "
                          f"person_keypoints_*.json files")
    if n and not with_keypoints:
        raise BelamyError(f"{path} has annotations without keypoints (captions or instances?): pass COCO "
                          f"person_keypoints_*.json files")


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:120] + ("..." if len(text) > 120 else "")


def _has_annotations(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            for prefix, event, _ in ijson.parse(fh):
                if prefix == "annotations" and event == "start_array":
                    return True
    except ijson.JSONError:
        return False
    return False


def _read_info(path: Path, max_events: int = 10_000) -> dict[str, Any]:
    """The scalar fields of the file's `info` object, if it comes before the big arrays."""
    info: dict[str, Any] = {}
    try:
        with open(path, "rb") as fh:
            inside = False
            for k, (prefix, event, value) in enumerate(ijson.parse(fh, use_float=True)):
                if k > max_events:
                    break
                if prefix == "info" and event == "start_map":
                    inside = True
                elif prefix == "info" and event == "end_map":
                    break
                elif inside and prefix.count(".") == 1 and event in ("string", "number", "boolean"):
                    info[prefix.split(".", 1)[1]] = value
                elif not inside and event == "start_array" and prefix in ("images", "annotations"):
                    break
    except ijson.JSONError:
        return {}
    return info
