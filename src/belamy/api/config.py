"""One path from what a user asks for to a `TrainConfig`: preset -> file -> flags -> `--set`.

The CLI, the demo, the benchmarks (and later the studio) all call `resolve_train_config`, so a
preset name, a config file or an override means the same thing everywhere.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

from belamy.core.config import read_json_file, set_field
from belamy.core.errors import BelamyError
from belamy.training.config import DEFAULT_PRESET, TrainConfig
from belamy.training.presets import MODEL_DEFAULT_PRESET, PRESETS, train_preset

__all__ = ["DEFAULT_PRESET", "PRESETS", "resolve_train_config"]

BUDGETS = ("kimg", "steps", "minutes")


def resolve_train_config(preset: str | None = None, model: str | None = None,
                         config_file: str | os.PathLike[str] | None = None, resolution: int | None = None,
                         sets: Iterable[str] = (), **flags: Any) -> TrainConfig:
    """The config a run trains with, validated.

    1. `config_file` (a JSON object of config.json's fields), else the preset `preset`, else the
       default preset of `model` (stylegan2: cpu-quick-64, dcgan: dcgan-64);
    2. `resolution`, then `flags` (TrainConfig fields; None means "not given"). A budget given
       here replaces the preset's budget; `batch` also replaces its start batch;
    3. `sets`: "field=value" or "model.field=value" strings, values parsed as JSON.
    """
    if config_file is not None:
        cfg = TrainConfig.from_dict(read_json_file(config_file), where=str(config_file))
    else:
        name = preset or MODEL_DEFAULT_PRESET.get(model or "stylegan2")
        if name is None:
            raise BelamyError(f"unknown --model '{model}': use {' or '.join(MODEL_DEFAULT_PRESET)}")
        cfg = train_preset(name)
        if model and cfg.model.name != model:
            raise BelamyError(f"--preset {preset} is a {cfg.model.name} preset, not {model}")
    if resolution is not None:
        cfg.model.resolution = resolution
    given = {k: v for k, v in flags.items() if v is not None}
    unknown = [k for k in given if not hasattr(cfg, k)]
    if unknown:
        raise BelamyError(f"unknown training option '{unknown[0]}'")
    if any(k in BUDGETS for k in given):
        cfg.kimg = cfg.steps = cfg.minutes = None
    if "batch" in given:
        cfg.batch_start = 0  # the batch asked for, from the first step (a --set batch_start=N still works)
    for k, v in given.items():
        setattr(cfg, k, v)
    for item in sets:
        if "=" not in item:
            raise BelamyError(f"--set {item}: use --set field=value")
        key, value = item.split("=", 1)
        set_field(cfg, key.strip(), value.strip())
    cfg.model.validate()
    return cfg
