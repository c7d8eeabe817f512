"""Re-rendering from a record: a still (`still_from_record`: a render of a latent, or a pix2pix
translation) or a video (`video_from_record`: a walk or a morph).

Kept apart from the kinds it dispatches to so that each imports only what it builds on: this
module is the one place that knows every kind of record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from belamy.core.errors import BelamyError
from belamy.generate.interpolate import WalkConfig, walk
from belamy.generate.morph import morph_from_record
from belamy.generate.records import read_record, recorded_run
from belamy.generate.sample import reproduce_record
from belamy.generate.translate import Upscaler, reproduce_chain, reproduce_translation


def still_from_record(record: dict[str, Any], device: str = "cpu", upscaler: Upscaler | None = None) -> np.ndarray:
    """The (H, W, 3) uint8 still a render record describes, made again from its run. `upscaler`
    replays a chain render's super-resolution step (`api.upscale.replay_upscale`); without it such
    a render is refused in one line."""
    if record.get("kind") == "translation":
        return reproduce_translation(record, device)
    if record.get("kind") == "chain":
        return reproduce_chain(record, device, upscaler)
    return reproduce_record(record, device)


def video_from_record(record_path: Path, out: Path, device: str = "auto", progress: bool | None = None) -> Path:
    """Re-render a walk or morph video from its `.record.json` (same latents, settings, generator)."""
    record = read_record(record_path)
    if record.get("kind") == "morph":
        return morph_from_record(record, out, device, progress)
    if record.get("kind") != "video":
        raise BelamyError(f"{record_path} is not a video record (it is a '{record.get('kind')}' record)")
    return walk(recorded_run(record), record["keyframes"], out, WalkConfig.from_dict(record["config"]), device, progress)
