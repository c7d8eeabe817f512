"""The quality benchmark's pure parts: which Debian files make each collection, the equal halves,
the per-level medians and the layout measure that looks for augmentation marks in renders."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/
from quality import halves, layout, level_medians, wesnoth_portrait, wesnoth_sprite, wesnoth_story  # noqa: E402


@pytest.mark.parametrize("path, keep", [
    ("core/images/units/human-loyalists/spearman.png", True),
    ("core/images/units/human-magi/white-mage+female.png", True),
    ("core/images/units/drakes/fire.png", True),
    ("core/images/units/human-loyalists/spearman-attack-2.png", False),
    ("core/images/units/human-loyalists/spearman-ne.png", False),
    ("core/images/units/human-loyalists/spearman-defend1.png", False),
    ("core/images/units/undead/zombie-3.png", False),
    ("core/images/portraits/humans/spearman.png", False),
    ("core/images/units/drakes/fire.jpg", False),
])
def test_wesnoth_sprite_keeps_the_standing_units(path, keep):
    assert wesnoth_sprite(Path(path)) is keep


def test_wesnoth_story_and_portrait_filters():
    assert wesnoth_story(Path("campaigns/Heir_To_The_Throne/images/story/httt_story1.jpg"))
    assert wesnoth_story(Path("core/images/story/landscape.png"))
    assert not wesnoth_story(Path("campaigns/The_Rise_Of_Wesnoth/images/story/trow-logo-3.png"))
    assert not wesnoth_story(Path("campaigns/X/images/portraits/story.png"))
    assert wesnoth_portrait(Path("core/images/portraits/humans/spearman.png"))
    assert not wesnoth_portrait(Path("core/images/units/humans/spearman.png"))
    assert not wesnoth_portrait(Path("core/images/portraits/humans/notes.txt"))


@pytest.mark.parametrize("n", [10, 241])
def test_halves_are_disjoint_and_equal_for_odd_counts(n):
    a, b = halves(n)
    assert len(a) == len(b) == n // 2
    assert not set(a) & set(b)
    if n % 2 == 0:  # an even count uses every image, as before
        assert sorted([*a, *b]) == list(range(n))


def test_level_medians_take_each_level_on_its_own():
    swds = [{"64": 10.0, "16": 90.0, "mean": 50.0}, {"64": 30.0, "16": 10.0, "mean": 20.0},
            {"64": 20.0, "16": 50.0, "mean": 35.0}]
    assert level_medians(swds) == {"64": 20.0, "16": 50.0, "mean": 35.0}


def test_layout_finds_the_figure_and_the_augmentation_marks():
    white = np.full((4, 64, 64, 3), 255, np.uint8)
    white[:, 16:48, 16:48] = 0  # a black square in the middle: a quarter of the frame, centred
    clean = layout(white)
    assert clean["coverage"] == pytest.approx(0.25)
    assert clean["offset"] == pytest.approx(0.0)
    assert clean["spread"] == pytest.approx(0.0)
    assert clean["bottom"] == 0.0
    assert clean["depth"] == pytest.approx(1.0)
    assert clean["grey_edge"] == clean["grey_square"] == 0.0
    marked = white.copy()
    marked[0, :, :3] = 128  # translation's zero fill along the left edge
    marked[1, 40:, 40:] = 127  # a clipped cutout square in a corner (24 x 24)
    marked[2, :, 32:] = 255  # half the figure gone: it moves left
    out = layout(marked)
    assert out["grey_edge"] == pytest.approx(0.25)
    assert out["grey_square"] == pytest.approx(0.25)
    assert out["offset"] > 0.0 and out["spread"] > 0.0


@pytest.mark.parametrize("name", ["fire-ant-flame3.png", "firetrooper_glow.png", "spearman-bow.png",
                                  "crocodile-tail.png", "drake-bite1.png"])
def test_wesnoth_sprite_drops_effect_layers_and_numbered_frames(name):
    assert not wesnoth_sprite(Path("core/images/units/monsters") / name)
