"""Originality: copies of training images (also mirrored, shifted, recoloured) are flagged; new
images are not."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from belamy.errors import BelamyError
from belamy.metrics.features import random_features
from belamy.metrics.originality import NEAR_COPY, Reference, summarize


@pytest.fixture(scope="module")
def portraits() -> np.ndarray:
    from belamy.data.demo import render_portrait

    return np.stack([np.asarray(render_portrait(i, 32)) for i in range(56)])


def test_copies_flagged_new_images_not(portraits: np.ndarray) -> None:
    fx = random_features()
    train, new = portraits[:48], portraits[48:]
    manifest = [{"id": f"img{i}", "title": f"Portrait {i}"} for i in range(len(train))]
    ref = Reference.build(train, fx, manifest)
    assert ref.pixel.scale > 0 and ref.feature.scale > 0
    src = train[[3, 10, 20, 30]]
    copies = {
        "same": src,
        "mirrored": src[:, :, ::-1],
        "shifted": np.roll(src, (2, -2), axis=(1, 2)),
        "recoloured": np.clip(src.astype(int) * np.array([1.08, 1.0, 0.9]) + 6, 0, 255).astype(np.uint8),
    }
    for name, renders in copies.items():
        results = ref.check(renders, fx)
        assert all(r.near_copy for r in results), (name, [r.score for r in results])
        assert [r.nearest.index for r in results] == [3, 10, 20, 30], name
    assert ref.check(copies["mirrored"], fx)[0].nearest.flipped
    exact = ref.check(src[:1], fx)[0]
    assert exact.score < 0.01 and exact.nearest.id == "img3" and exact.nearest.title == "Portrait 3"
    fresh = ref.check(new, fx)
    assert not any(r.near_copy for r in fresh), [r.score for r in fresh]
    assert 0.5 < float(np.median([r.score for r in fresh])) < 2.0  # ~1: as far as training images are apart
    summary = summarize(fresh)
    assert summary["count"] == 8 and summary["near_copies"] == 0 and summary["threshold"] == NEAR_COPY
    record = fresh[0].to_record()
    assert set(record) >= {"score", "near_copy", "nearest", "pixel", "feature"}


def test_shortlist_finds_what_exhaustive_search_finds(portraits: np.ndarray) -> None:
    from dataclasses import replace

    from belamy.metrics.originality import coarse, shifted_crops, thumbnails

    ref = Reference.build(portraits[:48], random_features())
    queries = np.concatenate([portraits[48:], np.roll(portraits[:8], 2, axis=2)])
    th = thumbnails(queries)
    fast = ref.pixel.nearest(shifted_crops(th), coarse(th))
    full = replace(ref.pixel, shortlist=None).nearest(shifted_crops(th))
    assert torch.allclose(fast[0], full[0]) and torch.equal(fast[1], full[1])


def test_needs_two_training_images(portraits: np.ndarray) -> None:
    with pytest.raises(BelamyError, match="at least 2"):
        Reference.build(portraits[:1], random_features())
