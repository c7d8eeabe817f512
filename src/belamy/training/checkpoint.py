"""Checkpoints: everything needed to continue a run bit-for-bit, never unpickled.

A checkpoint is a folder `checkpoints/step-00001234/` holding
    tensors.safetensors   G, D, G_ema weights and buffers, optimizer moments, RNG states
    state.json            config, TrainState counters, optimizer hyper-parameters, grad scaler,
                          augmentation state, code version
It is written into a temporary folder and renamed into place, then `checkpoints/latest` (a text
file naming it) is replaced atomically; only then are checkpoints beyond keep-last-K removed. A
crash at any moment leaves the previous checkpoint and pointer intact.

The exported generator (`generator.safetensors`: G_ema + model config in the metadata) is what
sampling, series, video and projection load.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from belamy.core import atomic
from belamy.core.errors import BelamyError

CKPT_DIR = "checkpoints"
LATEST = "latest"
TENSORS = "tensors.safetensors"
STATE = "state.json"
FORMAT = "belamy.checkpoint"
VERSION = 1


# -- flattening --------------------------------------------------------------------------------
def module_tensors(prefix: str, module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {f"{prefix}/{k}": v.detach().cpu().contiguous().clone() for k, v in module.state_dict().items()}


def optimizer_tensors(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer state dict into tensors (moments) and JSON (hyper-parameters, scalars)."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for key, val in st.items():
            if torch.is_tensor(val):
                tensors[f"{prefix}/{pid}/{key}"] = val.detach().cpu().contiguous().clone()
            else:
                scalars.setdefault(str(pid), {})[key] = val
    return tensors, {"param_groups": _jsonable(sd["param_groups"]), "scalars": scalars}


def load_optimizer(opt: torch.optim.Optimizer, prefix: str, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {}
    head = f"{prefix}/"
    for name, val in tensors.items():
        if name.startswith(head):
            pid, key = name[len(head):].split("/", 1)
            state.setdefault(int(pid), {})[key] = val
    for pid, sc in meta.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(sc)
    groups = meta["param_groups"]
    for g in groups:
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
    opt.load_state_dict({"state": state, "param_groups": groups})
    # Moments were saved contiguous; give each its parameter's memory layout again (channels_last
    # conv weights). A fused optimizer walks a parameter and its moments in memory order, so a
    # moment in another layout would be updated with the wrong elements' gradients.
    for group in opt.param_groups:
        for param in group["params"]:
            for key, val in opt.state.get(param, {}).items():
                if torch.is_tensor(val) and val.shape == param.shape and val.stride() != param.stride():
                    opt.state[param][key] = torch.empty_like(param, dtype=val.dtype).copy_(val)


def load_module(module: torch.nn.Module, prefix: str, tensors: dict[str, torch.Tensor]) -> None:
    head = f"{prefix}/"
    sd = {k[len(head):]: v for k, v in tensors.items() if k.startswith(head)}
    missing, unexpected = module.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise BelamyError(
            f"checkpoint does not fit the model ({prefix}: {len(missing)} missing, {len(unexpected)} unexpected "
            f"tensors, e.g. {(missing or unexpected)[0]}): was it made with another model config?"
        )


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if torch.is_tensor(x):
        return x.item() if x.numel() == 1 else x.tolist()
    return x


# -- writing -----------------------------------------------------------------------------------
def save(run_dir: Path, step: int, tensors: dict[str, torch.Tensor], state: dict[str, Any], keep: int) -> Path:
    """Write checkpoint `step` atomically, move the `latest` pointer, prune to the last `keep`."""
    root = run_dir / CKPT_DIR
    root.mkdir(parents=True, exist_ok=True)
    name = f"step-{step:08d}"
    final = root / name
    tmp = root / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        save_file(tensors, str(tmp / TENSORS), metadata={"format": FORMAT})
        (tmp / STATE).write_text(json.dumps({"format": FORMAT, "version": VERSION, **state}, indent=1))
        for f in (TENSORS, STATE):
            with open(tmp / f, "rb") as fh:
                os.fsync(fh.fileno())
        if final.exists():  # the same step saved again (e.g. Ctrl-C right after a periodic save)
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    atomic.write_text(root / LATEST, name + "\n")
    prune(root, keep, protect=name)
    return final


def prune(root: Path, keep: int, protect: str) -> None:
    if keep <= 0:
        return
    ckpts = sorted(p for p in root.glob("step-*") if p.is_dir())
    for old in ckpts[:-keep]:
        if old.name != protect:
            shutil.rmtree(old, ignore_errors=True)


# -- reading -----------------------------------------------------------------------------------
def latest(run_dir: Path) -> Path | None:
    """The checkpoint `latest` points to (or the newest complete one if the pointer is gone)."""
    root = run_dir / CKPT_DIR
    pointer = root / LATEST
    if pointer.is_file():
        cand = root / pointer.read_text().strip()
        if (cand / STATE).is_file() and (cand / TENSORS).is_file():
            return cand
    ckpts = sorted(p for p in root.glob("step-*") if (p / STATE).is_file() and (p / TENSORS).is_file())
    return ckpts[-1] if ckpts else None


def load(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    try:
        state = json.loads((path / STATE).read_text())
        tensors = load_file(str(path / TENSORS))
    except (OSError, json.JSONDecodeError, SafetensorError) as exc:
        raise BelamyError(f"checkpoint {path} is unreadable ({exc.__class__.__name__}): resume from an older one") from None
    if state.get("format") != FORMAT:
        raise BelamyError(f"{path} is not a belamy checkpoint")
    if int(state.get("version", 0)) > VERSION:
        raise BelamyError(f"{path} was written by a newer belamy: upgrade belamy to resume it")
    return tensors, state
