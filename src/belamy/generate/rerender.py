"""Re-rendering a video from its `.record.json`: a walk (`interpolate`) or a morph (`morph`).

Kept apart from both so that each imports only what it builds on: morph is a walk from a
projection, and this module is the one place that knows both kinds of video record.
"""

from __future__ import annotations

from pathlib import Path

from belamy.core.errors import BelamyError
from belamy.generate.interpolate import WalkConfig, walk
from belamy.generate.morph import morph_from_record
from belamy.generate.records import read_record, recorded_run


def video_from_record(record_path: Path, out: Path, device: str = "auto", progress: bool | None = None) -> Path:
    """Re-render a walk or morph video from its `.record.json` (same latents, settings, generator)."""
    record = read_record(record_path)
    if record.get("kind") == "morph":
        return morph_from_record(record, out, device, progress)
    if record.get("kind") != "video":
        raise BelamyError(f"{record_path} is not a video record (it is a '{record.get('kind')}' record)")
    return walk(recorded_run(record), record["keyframes"], out, WalkConfig.from_dict(record["config"]), device, progress)
