"""The exported generator: `RUN/generator.safetensors`, the EMA generator's weights plus its
ModelConfig and a little metadata, all that sampling needs. Safetensors only: never unpickled.

`format_version` (metadata, absent in files written before it existed: 1) says which layout the
file has; a reader refuses a newer one in one line instead of misreading it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from belamy.core import atomic
from belamy.core.errors import BelamyError
from belamy.core.version import code_version

EXPORT = "generator.safetensors"
FORMAT_VERSION = 1  # the newest generator file layout this belamy reads and writes


def export_generator(path: Path, g_ema: torch.nn.Module, model_config: dict[str, Any], meta: dict[str, Any]) -> None:
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in g_ema.state_dict().items()}
    metadata = {"format": "belamy.generator", "format_version": str(FORMAT_VERSION),
                "model_config": json.dumps(model_config), "meta": json.dumps(meta)}
    with atomic.atomic_path(path, suffix=".safetensors") as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def read_export(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, Any]]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            md = fh.metadata() or {}
    except (OSError, SafetensorError) as exc:
        raise BelamyError(f"{path} is not a readable generator file ({exc.__class__.__name__})") from None
    if md.get("format") != "belamy.generator":
        raise BelamyError(f"{path} is not a belamy generator export")
    check_format_version(md.get("format_version"), f"{path} (generator file)")
    try:
        model_config, meta = json.loads(md["model_config"]), json.loads(md.get("meta", "{}"))
    except (KeyError, json.JSONDecodeError):
        raise BelamyError(f"{path} has no readable model config in its metadata: export it again") from None
    if not isinstance(model_config, dict) or not isinstance(meta, dict):
        raise BelamyError(f"{path} has no readable model config in its metadata: export it again")
    try:
        tensors = load_file(str(path))
    except (OSError, SafetensorError) as exc:
        raise BelamyError(f"{path} is not a readable generator file ({exc.__class__.__name__})") from None
    return tensors, model_config, meta


def check_format_version(value: Any, what: str, newest: int = FORMAT_VERSION) -> int:
    """The format version a file declares (absent: 1), or one line saying it is newer than this
    belamy reads (or not a version at all)."""
    if value is None:
        return 1
    try:
        version = int(value)
    except (TypeError, ValueError):
        raise BelamyError(f"{what} has format_version {value!r}, not a number: the file is damaged") from None
    if version > newest:
        raise BelamyError(f"{what} was written by a newer belamy (format_version {version}; this belamy "
                          f"{code_version()} reads up to {newest}): upgrade belamy to load it")
    return version
