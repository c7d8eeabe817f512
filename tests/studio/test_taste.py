"""Learned taste: on renders whose ratings follow their brightness, the model beats predicting the
mean in cross-validation and ranks the unrated ones; below 30 ratings it stays silent."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from belamy.studio import taste
from belamy.studio.service import Studio


def write_toned(folder, count: int, seed: int = 0) -> dict[str, float]:
    """`count` renders of noise around a random brightness; name -> brightness."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for i in range(count):
        level = float(rng.uniform(0.1, 0.9))
        arr = np.clip(level + rng.normal(0, 0.08, (32, 32, 3)), 0, 1)
        name = f"r{i:03d}.png"
        Image.fromarray((arr * 255).astype(np.uint8)).save(folder / name)
        (folder / f"r{i:03d}.record.json").write_text(json.dumps({"kind": "sample", "seed": i}))
        out[name] = level
    return out


def rating_of(level: float) -> int:
    return int(np.clip(1 + round(level * 5 - 0.5), 1, 5))


def test_taste_beats_the_mean_and_ranks_the_unrated(tmp_path):
    levels = write_toned(tmp_path / "r", 80)
    studio = Studio([tmp_path / "r"], tmp_path / "state", warm=False)
    try:
        tiles = {t.name: t for t in studio.library.tiles()}
        names = sorted(levels)
        for name in names[:40]:
            studio.set_mark(tiles[name], {"rating": rating_of(levels[name])})
        summary, _ = studio.taste()
        assert summary["ready"] and summary["ratings"] == 40 and summary["uses_w"] is False
        assert summary["mae"] < summary["baseline_mae"] * 0.7, summary
        assert summary["spearman"] > 0.6, summary
        # sorted by predicted taste, the unrated renders come brightest first
        page = studio.page({"sort": "-taste", "status": "unrated", "limit": "40"})
        ranked = [levels[item["name"]] for item in page["items"]]
        assert taste.spearman(np.array(ranked), -np.arange(len(ranked))) > 0.6
        # it updates as the artist rates: one more rating refits it
        studio.set_mark(tiles[names[40]], {"rating": rating_of(levels[names[40]])})
        assert studio.taste()[0]["ratings"] == 41
    finally:
        studio.close()


def test_no_model_below_the_minimum(tmp_path):
    levels = write_toned(tmp_path / "r", 40)
    studio = Studio([tmp_path / "r"], tmp_path / "state", warm=False)
    try:
        tiles = {t.name: t for t in studio.library.tiles()}
        for name in sorted(levels)[:taste.MIN_RATINGS - 1]:
            studio.set_mark(tiles[name], {"rating": rating_of(levels[name])})
        summary, scores = studio.taste()
        assert summary == {"ready": False, "ratings": taste.MIN_RATINGS - 1, "needed": taste.MIN_RATINGS}
        assert scores == {}
        page = studio.page({"sort": "-taste", "limit": "5"})  # no predictions: name order
        assert [i["name"] for i in page["items"]] == sorted(levels)[:5]
    finally:
        studio.close()
    X = np.random.default_rng(0).normal(size=(taste.MIN_RATINGS - 1, 4))
    assert taste.learn(X, X[:, 0]) is None
    assert taste.learn(np.ones((40, 2)), np.full(40, 3.0)) is None  # nothing to learn


def test_w_latents_from_the_run(run, tmp_path):
    from belamy.api.sample import sample

    sample(run, list(range(32)), tmp_path / "r", originality=False, device="cpu", progress=False, grid=False)
    studio = Studio([tmp_path / "r"], tmp_path / "state", warm=False)
    try:
        for i, t in enumerate(studio.library.tiles()):
            studio.set_mark(t, {"rating": 1 + i % 5})
        summary, scores = studio.taste()
        assert summary["ready"] and summary["uses_w"] is True and len(scores) == 32
    finally:
        studio.close()
