"""Pose collections: import COCO keypoints, sample procedural poses, render stick figures.

The first link of the chain of GANs (poses -> stick figures -> pix2pix -> super-resolution):
`import_poses` reads COCO person_keypoints files (`belamy.chain.coco`), `extract_poses` finds people
in photographs (MediaPipe, the optional `pose` extra: `belamy.data.pose_extract`), `sample_poses_to` draws
procedural people (`belamy.data.pose_sampler`), and `render_poses` draws a collection's poses as
OpenPose-style stick figures (`belamy.data.stick`), the pictures pix2pix learns from.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from belamy.chain.coco import CocoImportConfig, import_coco
from belamy.core import atomic
from belamy.core.errors import BelamyError
from belamy.core.grid import spread_indices
from belamy.core.png import save_png
from belamy.core.progress import make_progress
from belamy.data.pose import normalise, plausibility_rates
from belamy.data.pose_collection import PoseCollection, write_poses
from belamy.data.pose_model import PoseModel, PoseModelConfig, fit_pose_model
from belamy.data.pose_sampler import PoseSamplerConfig, sample_poses
from belamy.data.stick import StickConfig, render_stick

_CHUNK = 1000
PLAUSIBILITY_SAMPLE = 2000  # poses measured for the sampler's report


def import_poses(files: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str],
                 cfg: CocoImportConfig | None = None, progress: bool | None = None,
                 **overrides: Any) -> PoseCollection:
    """COCO person_keypoints JSON `files` -> the pose collection `out` (keyword overrides set
    `CocoImportConfig` fields, e.g. `mirror=True`). Its report is `collection.report`."""
    cfg = replace(cfg or CocoImportConfig(), **overrides)
    return import_coco(list(files), out, cfg, progress=progress)


def extract_poses(images: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str], min_visible: int = 8,
                  height: float = 0.8, progress: bool | None = None) -> PoseCollection:
    """The person in each of `images` (MediaPipe BlazePose, the `pose` extra) -> the pose collection
    `out`, each pose normalised like `import_poses`'s (keypoint box, `height` canvas units). Images
    without a detected person, with fewer than `min_visible` visible keypoints, or unreadable are
    skipped and listed in the report (`collection.report["skipped"]`, `["no_person"]`)."""
    from PIL import Image, ImageOps

    from belamy.data.pose_extract import PoseExtractor, load_mediapipe

    load_mediapipe()  # the missing-extra message before anything else
    if not isinstance(min_visible, int) or isinstance(min_visible, bool) or not 0 <= min_visible <= 17:
        raise BelamyError(f"--min-visible {min_visible!r}: use a whole number from 0 to 17")
    files = [Path(f) for f in images]
    if not files:
        raise BelamyError("poses extract: name at least one image")
    poses: list[np.ndarray] = []
    rows: list[dict[str, Any]] = []
    no_person: list[str] = []
    few: list[str] = []
    unreadable: dict[str, str] = {}
    bar = make_progress(enabled=progress)
    with PoseExtractor() as extractor, bar:
        task = bar.add_task("extracting poses", total=len(files))
        for f in files:
            try:
                with Image.open(f) as im:
                    im = ImageOps.exif_transpose(im).convert("RGB")
                    rgb = np.asarray(im)
            except (OSError, ValueError, Image.DecompressionBombError) as exc:
                unreadable[str(f)] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                bar.advance(task)
                continue
            pose = extractor.extract(rgb)
            bar.advance(task)
            if pose is None:
                no_person.append(str(f))
                continue
            visible = int((pose[:, 2] == 2).sum())
            if visible < max(min_visible, 2) or int((pose[:, 2] > 0).sum()) < 2:
                few.append(str(f))
                continue
            h, w = rgb.shape[:2]
            px = pose.copy()
            px[:, 0] *= w
            px[:, 1] *= h
            try:
                poses.append(normalise(px, height=height))
            except BelamyError:
                few.append(str(f))
                continue
            rows.append({"id": f"extract:{len(rows)}:{f.name}",
                         "source": {"image": str(f), "width": w, "height": h, "visible": visible}})
        info = extractor.info()
    if not poses:
        raise BelamyError(f"no pose found in {len(files)} image(s): {len(no_person)} without a detected person, "
                          f"{len(few)} with fewer than {min_visible} visible keypoints, {len(unreadable)} unreadable")
    arr = np.stack(poses)
    rates = plausibility_rates(arr[spread_indices(len(arr), PLAUSIBILITY_SAMPLE)])
    meta = {
        "source": {"kind": "extract", **info, "images": len(files), "min_visible": min_visible},
        "normalisation": {"method": "keypoint box", "height": height, "mirror": False},
        "credits": [],
    }
    skipped = {k: n for k, n in (("no person detected", len(no_person)),
                                 (f"fewer than {min_visible} visible keypoints", len(few)),
                                 ("unreadable", len(unreadable))) if n}
    report = {"seen": len(files), "kept": len(poses), "skipped": skipped, "no_person": no_person,
              "few_visible": few, "unreadable": unreadable,
              "plausible": {"measured": min(len(arr), PLAUSIBILITY_SAMPLE),
                            **{k: round(v, 4) for k, v in rates.items()}}}
    return write_poses(out, arr, rows, meta, report)


def sample_poses_to(out: str | os.PathLike[str], n: int, seed: int = 0, cfg: PoseSamplerConfig | None = None,
                    progress: bool | None = None) -> PoseCollection:
    """`n` procedural poses of `seed` -> the pose collection `out`; the report measures them with
    `belamy.data.pose.plausible` (on up to 2000 poses spread over the collection)."""
    cfg = cfg or PoseSamplerConfig()
    cfg.validate()
    poses, report = _sample_in_chunks(lambda k, start: sample_poses(k, seed, cfg, start=start), n, seed, progress)
    rows = ({"id": f"sample:{seed}:{i}", "source": {"sampler": "belamy.data.pose_sampler", "seed": seed, "index": i}}
            for i in range(n))
    meta = {
        "source": {"kind": "sampler", "seed": seed, "config": asdict(cfg)},
        "normalisation": {"method": "keypoint box", "height": cfg.height, "mirror": False},
        "credits": [],
    }
    return write_poses(out, poses, rows, meta, report)


def _sample_in_chunks(draw: Any, n: int, seed: int, progress: bool | None) -> tuple[np.ndarray, dict[str, Any]]:
    """`n` poses from `draw(k, start)` in chunks, with a progress bar, and the report of their
    plausibility (measured on up to PLAUSIBILITY_SAMPLE poses spread over them)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise BelamyError(f"-n {n!r}: sample at least one pose")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise BelamyError(f"--seed {seed!r}: use a whole number >= 0")
    poses = np.zeros((n, 17, 3), dtype=np.float32)
    bar = make_progress(enabled=progress)
    with bar:
        task = bar.add_task("sampling poses", total=n)
        for start in range(0, n, _CHUNK):
            k = min(_CHUNK, n - start)
            poses[start:start + k] = draw(k, start)
            bar.advance(task, k)
    measured = spread_indices(n, PLAUSIBILITY_SAMPLE)
    rates = plausibility_rates(poses[measured])
    report = {"count": n, "seed": seed, "plausible": {"measured": len(measured),
                                                       **{k: round(v, 4) for k, v in rates.items()}}}
    return poses, report


def train_pose_model(poses_dir: str | os.PathLike[str] | PoseCollection, out: str | os.PathLike[str],
                     cfg: PoseModelConfig | None = None, on_step: Any = None) -> PoseModel:
    """Fit the learned pose sampler (`belamy.data.pose_model`) to a pose collection and save it to
    the safetensors file `out`; `model.meta["report"]` holds the plausibility of 2000 of its samples."""
    coll = poses_dir if isinstance(poses_dir, PoseCollection) else PoseCollection.open(poses_dir)
    source = {"path": str(coll.path), "count": len(coll), "sha256": coll.meta.get("sha256"),
              "normalisation": coll.meta.get("normalisation")}
    model = fit_pose_model(coll.poses, cfg, source=source, on_step=on_step)
    rates = plausibility_rates(model.sample(PLAUSIBILITY_SAMPLE, seed=0))
    model.meta["report"] = {"plausible": {"measured": PLAUSIBILITY_SAMPLE,
                                          **{k: round(v, 4) for k, v in rates.items()}}}
    model.save(out)
    return model


def sample_model_to(model_path: str | os.PathLike[str], out: str | os.PathLike[str], n: int, seed: int = 0,
                    progress: bool | None = None) -> PoseCollection:
    """`n` poses of `seed` from a learned pose sampler (`belamy poses train`) -> the pose collection
    `out`, written as `sample_poses_to` writes the procedural sampler's."""
    model = PoseModel.load(model_path)
    model_sha = atomic.sha256_file(Path(model_path))
    poses, report = _sample_in_chunks(lambda k, start: model.sample(k, seed, start=start), n, seed, progress)
    src = {"sampler": "belamy.data.pose_model", "model_sha256": model_sha, "seed": seed}
    rows = ({"id": f"model:{seed}:{i}", "source": {**src, "index": i}} for i in range(n))
    meta = {
        "source": {"kind": "model", "model": str(model_path), "model_sha256": model_sha, "seed": seed,
                   "components": model.components, "trained_on": model.meta.get("source")},
        "normalisation": (model.meta.get("source") or {}).get("normalisation")
        or {"method": "keypoint box", "height": None, "mirror": False},
        "credits": [],
    }
    return write_poses(out, poses, rows, meta, report)


def render_poses(poses_dir: str | os.PathLike[str] | PoseCollection, out_dir: str | os.PathLike[str],
                 cfg: StickConfig | None = None, limit: int | None = None,
                 progress: bool | None = None) -> list[Path]:
    """Draw the first `limit` poses (all by default) of a pose collection as stick figures:
    OUT/pose000000.png, ... (each PNG carries its pose's id and source as iTXt `belamy.pose`)."""
    coll = poses_dir if isinstance(poses_dir, PoseCollection) else PoseCollection.open(poses_dir)
    cfg = cfg or StickConfig()
    cfg.validate()
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise BelamyError(f"--limit {limit!r}: render at least one pose")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise BelamyError(f"{out} exists and is not a folder: choose another -o")
    out.mkdir(parents=True, exist_ok=True)
    count = len(coll) if limit is None else min(limit, len(coll))
    written: list[Path] = []
    bar = make_progress(enabled=progress)
    with bar:
        task = bar.add_task("drawing stick figures", total=count)
        for i in range(count):
            path = out / f"pose{i:06d}.png"
            row = coll.rows[i]
            text = json.dumps({"collection": str(coll.path), "index": i, "id": row.get("id"),
                               "source": row.get("source")}, ensure_ascii=False)
            save_png(render_stick(coll.poses[i], cfg), path, text={"belamy.pose": text})
            written.append(path)
            bar.advance(task)
    return written
