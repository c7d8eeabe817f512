"""Render records: what every render carries so it can be reproduced and credited.

A render is `NAME.png` with its record embedded (iTXt `belamy:record`) and beside it as
`NAME.record.json`: which run, which generator (sha256), which latent or seed, which code.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from belamy.core import atomic
from belamy.core.errors import BelamyError
from belamy.core.png import save_png
from belamy.core.version import code_version
from belamy.models.run import Run

RECORD_SUFFIX = ".record.json"
RECORD_KEY = "belamy:record"  # the PNG iTXt chunk that carries a render's record


def render_record(run: Run, kind: str, device: torch.device | str, **fields: Any) -> dict[str, Any]:
    """The fields every render record carries (which run, which generator, which code), plus `fields`."""
    return {
        "kind": kind, "run": run.run_id, "run_path": str(run.path.resolve()),
        "generator": run.export_path.name, "generator_sha256": run.generator_sha256(),
        "step": run.export_meta.get("step"), **fields, "model": run.model_config.get("name"),
        "resolution": run.model_config.get("resolution"), "device": torch.device(device).type,
        "code_version": code_version(), "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def save_render(arr: np.ndarray, png: Path, record: dict[str, Any]) -> Path:
    """A PNG with its record embedded (iTXt) and beside it as NAME.record.json."""
    save_png(arr, png, {RECORD_KEY: json.dumps(record)})
    atomic.write_json(png.with_name(png.stem + RECORD_SUFFIX), record)
    return png


def read_record(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        record = None
    if not isinstance(record, dict) or "run_path" not in record or "generator_sha256" not in record:
        raise BelamyError(f"{path} is not a readable render record (NAME.record.json)")
    return record


def recorded_run(record: dict[str, Any]) -> Run:
    """The run a record was rendered from, refused if its generator is no longer the recorded one."""
    run = Run.open(record["run_path"])
    if run.generator_sha256() != record["generator_sha256"]:
        raise BelamyError(f"{run.path} has moved on since this render (generator sha256 differs): "
                          f"use the checkpoint from step {record.get('step')}")
    return run
