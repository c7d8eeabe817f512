"""The exported generator: `RUN/generator.safetensors`, the EMA generator's weights plus its
ModelConfig and a little metadata, all that sampling needs. Safetensors only: never unpickled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from belamy.core import atomic
from belamy.core.errors import BelamyError

EXPORT = "generator.safetensors"


def export_generator(path: Path, g_ema: torch.nn.Module, model_config: dict[str, Any], meta: dict[str, Any]) -> None:
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in g_ema.state_dict().items()}
    metadata = {"format": "belamy.generator", "model_config": json.dumps(model_config), "meta": json.dumps(meta)}
    with atomic.atomic_path(path, suffix=".safetensors") as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def read_export(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, Any]]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            md = fh.metadata() or {}
        tensors = load_file(str(path))
    except (OSError, SafetensorError) as exc:
        raise BelamyError(f"{path} is not a readable generator file ({exc.__class__.__name__})") from None
    if md.get("format") != "belamy.generator":
        raise BelamyError(f"{path} is not a belamy generator export")
    return tensors, json.loads(md["model_config"]), json.loads(md.get("meta", "{}"))
