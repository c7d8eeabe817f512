"""mirror=auto: x-flips only for collections that look like their mirror image (decision 0040)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from belamy.core.errors import BelamyError
from belamy.metrics.symmetry import FLIP_TOLERANCE, flip_ratio


def figures(n: int, seed: int, facing: str) -> np.ndarray:
    """(n, 64, 64, 3) dark figures on white: a body, and a head and arm on one side."""
    rng = np.random.default_rng(seed)
    out = np.full((n, 64, 64, 3), 245, np.uint8)
    for i in range(n):
        right = facing == "right" or (facing == "both" and rng.random() < 0.5)
        c = rng.integers(24, 40)
        colour = rng.integers(20, 120, 3)
        out[i, 16:60, c - 6:c + 6] = colour  # body
        h = c + 10 if right else c - 10
        out[i, 8:20, h - 5:h + 5] = colour // 2  # head, off to one side
        a = c + 18 if right else c - 18
        out[i, 28:34, min(a, c) - 2:max(a, c) + 2] = colour  # arm reaching that way
    return out


def test_a_collection_facing_one_way_is_told_from_a_symmetric_one():
    one_way = flip_ratio(figures(96, 0, "right"))
    both_ways = flip_ratio(figures(96, 0, "both"))
    assert one_way is not None and both_ways is not None
    assert both_ways <= FLIP_TOLERANCE < one_way
    assert flip_ratio(figures(10, 0, "right")) is None  # too few to tell: flips stay on


def test_train_decides_mirror_auto_once_and_stores_the_choice(tmp_path: Path):
    import belamy
    from belamy.api.train import train
    from belamy.core.png import save_png
    from conftest import tiny_config

    src = tmp_path / "src"
    src.mkdir()
    for i, im in enumerate(figures(40, 1, "right")):
        save_png(im, src / f"{i:03d}.png")
    coll = belamy.collect([str(src)], tmp_path / "coll", size=32, workers=1, near_threshold=-1)
    from belamy.training.config import TrainConfig

    assert TrainConfig().mirror == "auto"  # the default
    cfg = tiny_config()
    cfg.steps, cfg.mirror, cfg.originality_n = 2, "auto", 0
    said: list[str] = []
    train(coll.path, tmp_path / "run", cfg, progress=False, warn=said.append)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["mirror"] is False
    assert any(line.startswith("mirror=auto: x-flips off") for line in said)
    train(None, tmp_path / "run", resume=True, progress=False, steps=3)  # resumes with the stored choice
    from belamy.training.train import train as stage_train

    with pytest.raises(BelamyError, match="mirror=auto is decided"):
        stage_train(coll.path, tmp_path / "run2", cfg, progress=False)
