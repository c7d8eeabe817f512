"""The pose collection: poses on disk, the way a Collection holds images.

Layout of a pose collection folder (format version 1):

    poses.json    format "belamy.poses", version, count, source, normalisation, created,
                  code_version, keypoints (the COCO-17 names), credits, and the sha256 of
                  poses.jsonl: the commit point
    poses.jsonl   one JSON object per pose, in order: id, keypoints (51 numbers: x, y, v for each
                  COCO-17 keypoint, x and y in canvas units rounded to 5 decimals, v 0/1/2),
                  source (where it came from: a COCO file's image and annotation ids and box, a
                  sampler's seed and index), and any credits
    preview.png   a contact sheet of stick figures (up to 8 x 8, spread over the collection)
    report.json   what the run that wrote it kept and skipped, with counts by reason

Writing is atomic as a whole: the new poses.jsonl, preview.png and report.json are first written
completely under staging names (`.NAME.next`), then poses.json is renamed into place (the commit),
then the staged files are renamed over the old ones. A run killed before the commit leaves the old
collection as it was; one killed after it leaves the new one, which `PoseCollection.open` finds by
its checksum among the staged files (and finishes putting in place when it may write).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from belamy.core import atomic
from belamy.core.config import check_version
from belamy.core.errors import BelamyError
from belamy.core.grid import make_grid, spread_indices
from belamy.core.version import code_version
from belamy.data.pose import KEYPOINTS, NUM_KEYPOINTS, check_poses
from belamy.data.stick import StickConfig, render_stick

FORMAT = "belamy.poses"
VERSION = 1
META_FILE = "poses.json"
POSES_FILE = "poses.jsonl"
PREVIEW_FILE = "preview.png"
REPORT_FILE = "report.json"
DECIMALS = 5
_STAGED = (POSES_FILE, PREVIEW_FILE, REPORT_FILE)


def _staged(path: Path, name: str) -> Path:
    return path / f".{name}.next"


class PoseCollection:
    """A folder of poses: `.poses` (N, 17, 3) float32, `.rows` (one dict per pose), `.meta`."""

    def __init__(self, path: Path, meta: dict[str, Any], rows: list[dict[str, Any]], poses: np.ndarray) -> None:
        self.path = path
        self.meta = meta
        self.rows = rows
        self.poses = poses

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> "PoseCollection":
        path = Path(path)
        meta_path = path / META_FILE
        how = f"make one with `belamy poses import` or `belamy poses sample -o {path}`"
        if not meta_path.is_file():
            raise BelamyError(f"{path} is not a belamy pose collection (no {META_FILE}): {how}")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BelamyError(f"{meta_path} is corrupt (not JSON): write the poses again into a new folder") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise BelamyError(f"{meta_path} is not a belamy pose collection file (format is not '{FORMAT}')")
        check_version(meta.get("version"), VERSION, meta_path, "pose format",
                      "write the poses again into a new folder")
        count = meta.get("count")
        if not isinstance(count, int) or count < 0:
            raise BelamyError(f"{meta_path} has no valid count: write the poses again into a new folder")
        data = _committed_rows_file(path, meta)
        rows, poses = _read_rows(data, count)
        _finish_commit(path, meta)
        return cls(path, meta, rows, poses)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def report(self) -> dict[str, Any] | None:
        """The report of the run that wrote the collection, if it is there."""
        for file in (self.path / REPORT_FILE, _staged(self.path, REPORT_FILE)):
            if file.is_file():
                try:
                    rep = json.loads(file.read_text(encoding="utf-8"))
                except (json.JSONDecodeError, UnicodeDecodeError):
                    continue
                if isinstance(rep, dict) and rep.get("sha256") == self.meta.get("sha256"):
                    return rep
        return None

    def ids(self) -> list[str]:
        return [str(r.get("id", i)) for i, r in enumerate(self.rows)]

    def summary(self) -> dict[str, Any]:
        vis = self.poses[..., 2] if len(self) else np.zeros((0, NUM_KEYPOINTS))
        return {
            "path": str(self.path),
            "count": len(self),
            "source": self.meta.get("source"),
            "normalisation": self.meta.get("normalisation"),
            "created": self.meta.get("created"),
            "code_version": self.meta.get("code_version"),
            "labelled_per_pose": round(float((vis > 0).sum(axis=1).mean()), 2) if len(self) else 0.0,
            "visible_per_pose": round(float((vis == 2).sum(axis=1).mean()), 2) if len(self) else 0.0,
        }

    def __repr__(self) -> str:
        return f"PoseCollection({str(self.path)!r}, count={len(self)})"


def _sha256(path: Path) -> str | None:
    return atomic.sha256_file(path) if path.is_file() else None


def _committed_rows_file(path: Path, meta: dict[str, Any]) -> Path:
    """poses.jsonl as committed: the file in place, or a staged one a killed write committed."""
    want = meta.get("sha256")
    final = path / POSES_FILE
    if not isinstance(want, str):
        raise BelamyError(f"{path / META_FILE} has no checksum of {POSES_FILE}: write the poses again")
    for file in (final, _staged(path, POSES_FILE)):
        if _sha256(file) == want:
            return file
    if not final.is_file():
        raise BelamyError(f"{final} is missing: write the poses again into a new folder")
    raise BelamyError(f"{final} does not match its checksum in {META_FILE} (changed or damaged): "
                      f"write the poses again into a new folder")


def _finish_commit(path: Path, meta: dict[str, Any]) -> None:
    """Put a committed write's staged files in place (a write killed after its commit)."""
    staged = _staged(path, POSES_FILE)
    if not staged.is_file() or _sha256(staged) != meta.get("sha256"):
        return
    try:
        for name in _STAGED:
            if _staged(path, name).is_file():
                os.replace(_staged(path, name), path / name)
    except OSError:  # a read-only folder: read the staged files, as `open` already did
        pass


def _read_rows(file: Path, count: int) -> tuple[list[dict[str, Any]], np.ndarray]:
    rows: list[dict[str, Any]] = []
    poses = np.zeros((count, NUM_KEYPOINTS, 3), dtype=np.float32)
    with open(file, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if len(rows) == count:
                raise BelamyError(f"{file} has more rows than its count ({count}): write the poses again")
            try:
                row = json.loads(line)
                kp = np.asarray(row.pop("keypoints"), dtype=np.float32)
                poses[len(rows)] = kp.reshape(NUM_KEYPOINTS, 3)
            except (json.JSONDecodeError, KeyError, ValueError, TypeError, AttributeError):
                raise BelamyError(f"{file} line {n} is not a pose row: write the poses again") from None
            rows.append(row)
    if len(rows) < count:
        raise BelamyError(f"{file} has {len(rows)} rows but the collection says {count}: write the poses again")
    check_poses(poses, str(file))
    return rows, poses


# ----------------------------------------------------------------------------- writing
def pose_row(pose: np.ndarray, row: dict[str, Any]) -> dict[str, Any]:
    """A poses.jsonl row: `row`'s id first, then the 51 keypoint numbers, then the rest of `row`."""
    kp: list[float | int] = []
    for x, y, v in np.asarray(pose, dtype=np.float64):
        if v > 0:
            kp += [round(float(x), DECIMALS), round(float(y), DECIMALS), int(v)]
        else:
            kp += [0, 0, 0]
    rest = {k: v for k, v in row.items() if k not in ("id", "keypoints")}
    return {"id": row.get("id"), "keypoints": kp, **rest}


def write_poses(path: str | os.PathLike[str], poses: np.ndarray, rows: Iterable[dict[str, Any]] | None,
                meta: dict[str, Any], report: dict[str, Any] | None = None,
                preview: StickConfig | None = None) -> PoseCollection:
    """Write (or replace) the pose collection at `path`, atomically as a whole; return it opened.

    `poses` is (N, 17, 3) in canvas units; `rows` one dict per pose (id, source, credits; ids
    default to the index); `meta` adds to poses.json (source, normalisation, credits, ...); `report`
    is saved as report.json."""
    path = Path(path)
    poses = check_poses(poses, "write_poses")
    if path.exists() and not path.is_dir():
        raise BelamyError(f"{path} exists and is not a folder: choose another output folder")
    path.mkdir(parents=True, exist_ok=True)
    for name in _STAGED:  # leftovers of a write killed before its commit
        _staged(path, name).unlink(missing_ok=True)
    staged = _staged(path, POSES_FILE)
    h = hashlib.sha256()
    n = 0
    with atomic.atomic_path(staged) as tmp:
        with open(tmp, "wb") as fh:
            for row in rows if rows is not None else ({} for _ in range(len(poses))):
                if n >= len(poses):
                    raise BelamyError(f"write_poses: more rows than the {len(poses)} poses")
                line = (json.dumps(pose_row(poses[n], {"id": str(n), **row}), ensure_ascii=False) + "\n").encode()
                h.update(line)
                fh.write(line)
                n += 1
        if n != len(poses):
            raise BelamyError(f"write_poses: {n} rows for {len(poses)} poses")
    sha = h.hexdigest()
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    full_meta = {
        "format": FORMAT,
        "version": VERSION,
        "count": int(len(poses)),
        **{k: v for k, v in meta.items() if k not in ("format", "version", "count", "sha256")},
        "created": meta.get("created", now),
        "code_version": meta.get("code_version", code_version()),
        "keypoints": list(KEYPOINTS),
        "file": POSES_FILE,
        "sha256": sha,
    }
    atomic.write_json(_staged(path, REPORT_FILE), {**(report or {}), "sha256": sha})
    sheet = preview_sheet(poses, preview)
    with atomic.atomic_path(_staged(path, PREVIEW_FILE)) as tmp:
        sheet.save(tmp, format="PNG", optimize=True)
    atomic.write_json(path / META_FILE, full_meta)  # the commit point
    _finish_commit(path, full_meta)
    return PoseCollection.open(path)


def preview_sheet(poses: np.ndarray, cfg: StickConfig | None = None, k: int = 64):
    """A contact sheet (PIL image) of up to `k` stick figures spread over `poses`, 8 columns."""
    cfg = cfg or StickConfig(size=96)
    idx = spread_indices(len(poses), k)
    tiles = [render_stick(poses[i], cfg) for i in idx]
    return make_grid(tiles, cols=min(8, max(1, len(tiles))))
