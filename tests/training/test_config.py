"""One config path: the preset registry, TrainConfig's defaults, resolve order and typed validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from belamy.api.config import resolve_train_config
from belamy.core.errors import BelamyError
from belamy.training.config import TrainConfig
from belamy.training.presets import PRESETS, train_preset


def test_the_default_config_is_the_default_preset():
    assert TrainConfig().to_dict() == train_preset("cpu-quick-64").to_dict()
    assert resolve_train_config().to_dict() == TrainConfig().to_dict()
    assert sorted(PRESETS) == ["cpu-128", "cpu-quick-64", "dcgan-128", "dcgan-64", "fastgan-64", "gpu-1024",
                               "pix2pix-128", "pix2pix-256", "pix2pix-512", "pix2pix-64", "portrait-256", "rrdb-x2",
                               "rrdb-x4", "sr-x2", "sr-x2-gpu", "sr-x4", "sr-x4-gpu"]
    for name, make in PRESETS.items():
        cfg = make()
        assert cfg.preset == name
        assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))).to_dict() == cfg.to_dict()


def test_preset_then_file_then_flags_then_set(tmp_path: Path):
    cfg = resolve_train_config(preset="dcgan-64", lr_g=1e-3, minutes=2.0, sets=["lr_g=5e-4"])
    assert (cfg.preset, cfg.model.name, cfg.lr_g, cfg.minutes, cfg.kimg) == ("dcgan-64", "dcgan", 5e-4, 2.0, None)
    assert resolve_train_config(model="dcgan").preset == "dcgan-64"
    assert resolve_train_config(model="fastgan").model.name == "fastgan"
    saved = train_preset("portrait-256")
    saved.r1_gamma = 7.0
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(saved.to_dict()))
    cfg = resolve_train_config(preset="dcgan-64", config_file=path, batch=8, resolution=128,
                               sets=["model.g_channel_max=256", "ema_kimg=3"])
    assert (cfg.preset, cfg.r1_gamma, cfg.batch, cfg.batch_start) == ("portrait-256", 7.0, 8, 0)
    assert (cfg.model.resolution, cfg.model.g_channel_max, cfg.ema_kimg) == (128, 256, 3.0)
    assert isinstance(cfg.ema_kimg, float)  # "3" from --set is stored as the float the field declares


def test_bad_options_are_one_line_errors(tmp_path: Path):
    with pytest.raises(BelamyError, match="unknown preset 'tiny'"):
        resolve_train_config(preset="tiny")
    with pytest.raises(BelamyError, match="is a dcgan preset, not stylegan2"):
        resolve_train_config(preset="dcgan-64", model="stylegan2")
    with pytest.raises(BelamyError, match="unknown field 'lr'"):
        resolve_train_config(sets=["lr=1"])
    with pytest.raises(BelamyError, match="use --set field=value"):
        resolve_train_config(sets=["lr_g"])
    (tmp_path / "bad.json").write_text('{"batch": 8, "bach": 4}')
    with pytest.raises(BelamyError, match="unknown key 'bach'"):
        resolve_train_config(config_file=tmp_path / "bad.json")


@pytest.mark.parametrize("field, value, message", [
    ("augment", "adaa", "augment='adaa' must be one of diffaug, ada, none"),
    ("batch", 0, "batch=0 must be at least 1"),
    ("lr_rampdown", 1.5, "lr_rampdown=1.5 must be in \\[0, 1\\]"),
    ("aug_p", 2.0, "aug_p=2.0 must be in \\[0, 1\\]"),
    ("mirror", "yes", "mirror='yes' must be true or false"),
    ("steps", 2.5, "steps=2.5 must be an integer or null"),
    ("originality_n", -1, "originality_n=-1 must be at least 0"),
])
def test_fields_are_validated_from_their_declared_types(field: str, value, message: str):
    cfg = TrainConfig(kimg=1.0)
    cfg.validate()
    setattr(cfg, field, value)
    with pytest.raises(BelamyError, match=message):
        cfg.validate()
