"""Originality: copies of training images (also mirrored, shifted, recoloured) are flagged; new
images are not."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from belamy.core.errors import BelamyError
from belamy.metrics.features import random_features
from belamy.metrics.originality import NEAR_COPY, Reference, summarize


@pytest.fixture(scope="module")
def portraits() -> np.ndarray:
    from belamy.data.demo import render_portrait

    return np.stack([np.asarray(render_portrait(i, 64)) for i in range(56)])


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
        "shifted 3 px": np.roll(src, (3, 1), axis=(1, 2)),  # half a thumbnail pixel off the whole-pixel grid
        "shifted 4 px": np.roll(src, (-4, 4), axis=(1, 2)),  # half a shortlist cell
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
    assert set(record) == {"score", "near_copy", "threshold", "detail_min", "nearest", "pixel", "feature"}
    assert "detail" in record["pixel"] and "detail" not in record["feature"]
    assert record["nearest"] == record["pixel" if fresh[0].nearest is fresh[0].pixel else "feature"]


def test_shortlist_finds_what_exhaustive_search_finds(portraits: np.ndarray) -> None:
    from dataclasses import replace

    from belamy.metrics.originality import query_crops

    ref = Reference.build(portraits[:48], random_features())
    queries = np.concatenate([portraits[48:], np.roll(portraits[:8], 2, axis=2)])
    crops, short = query_crops(queries)
    fast = ref.pixel.nearest(crops, short)
    full = replace(ref.pixel, shortlist=None).nearest(crops)
    assert torch.allclose(fast[0], full[0]) and torch.equal(fast[1], full[1])


def test_needs_two_training_images(portraits: np.ndarray) -> None:
    with pytest.raises(BelamyError, match="at least 2"):
        Reference.build(portraits[:1], random_features())


def test_blank_canvas_is_not_a_copy_of_drawings_on_white_paper() -> None:
    """A collection of busy pictures and a few small drawings on white paper: a blank render lies
    closer to those drawings than the pictures lie to each other, yet it copies nothing; a copy
    must reproduce a drawing's content, so blank renders pass in both spaces and real copies are
    still caught."""
    rng = np.random.default_rng(0)
    busy = np.stack([np.kron(rng.integers(0, 256, (8, 8, 3)), np.ones((8, 8, 1))) for _ in range(30)]).astype(np.uint8)
    sparse = np.full((10, 64, 64, 3), 250, np.uint8)
    for img in sparse:  # a small figure somewhere on the page
        y, x = rng.integers(8, 48, 2)
        img[y:y + 8, x:x + 6] = rng.integers(0, 200, 3)
    blanks = np.clip(240 + rng.normal(0, 3, (8, 64, 64, 3)), 0, 255).astype(np.uint8)
    fx = random_features()
    ref = Reference.build(np.concatenate([busy, sparse]), fx)
    # pixel space (the one a blank canvas fooled: it scored ~0.2 before the content rule)
    assert all(r.pixel.score > 0.9 for r in ref.check(blanks, fx))
    # feature space (blanks scored 0.2-0.4 there before the rule covered it too)
    assert all(r.feature.score > 0.6 and not r.near_copy for r in ref.check(blanks, fx))
    copies = np.ascontiguousarray(np.concatenate([busy[[1, 7]], sparse[[2, 5]]])[:, :, ::-1])  # mirrored
    assert all(r.near_copy and r.pixel.score < 0.05 for r in ref.check(copies, fx))


def _line_drawings(rng: np.random.Generator, n: int) -> np.ndarray:
    """Small thin-line drawings (six 1 px strokes in one dark colour) on white 64 px paper."""
    from PIL import Image, ImageDraw

    out = []
    for _ in range(n):
        im = Image.new("RGB", (64, 64), (255, 255, 255))
        pen, colour = ImageDraw.Draw(im), tuple(int(v) for v in rng.integers(0, 120, 3))
        cx, cy = rng.integers(22, 42, 2)
        for _ in range(6):
            pen.line([(int(cx + rng.integers(-10, 11)), int(cy + rng.integers(-12, 13))) for _ in range(3)], fill=colour)
        out.append(np.asarray(im))
    return np.stack(out)


def test_smudge_over_a_line_drawing_is_not_a_copy_but_a_blurred_copy_is() -> None:
    """On blurred 32 px thumbnails a small line drawing is a faint blob, so a render that is only a
    coloured smudge where the drawing was matched it in pixel space (what the default model's
    clipart renders did). The detail rule needs the render to also carry the drawing's lines; a
    blurred, shifted, mirrored copy does and stays flagged."""
    from PIL import Image, ImageFilter

    from belamy.metrics.originality import DETAIL_MIN

    rng = np.random.default_rng(0)
    busy = np.stack([np.kron(rng.integers(0, 256, (8, 8, 3)), np.ones((8, 8, 1))) for _ in range(30)]).astype(np.uint8)
    drawings = _line_drawings(rng, 20)
    fx = random_features()
    ref = Reference.build(np.concatenate([busy, drawings]), fx)

    def blurred(img: np.ndarray, sigma: float) -> np.ndarray:
        return np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(sigma))).astype(float)

    smudges = []
    for img in drawings[:8]:  # the drawing's ink spread 3 px wide, with a texture of its own
        ink = 255 - blurred(img, 3.0)
        texture = blurred(rng.integers(0, 256, (64, 64, 3)).astype(np.uint8), 0.8) - 128
        smudges.append((255 - ink + 0.4 * texture * (ink.mean(-1, keepdims=True) > 3)).clip(0, 255).astype(np.uint8))
    results = ref.check(np.stack(smudges), fx)
    assert [r.pixel.index for r in results] == list(range(30, 38))  # found in pixel space ...
    assert all(r.pixel.score < NEAR_COPY for r in results), [r.pixel.score for r in results]  # ... would be flagged
    assert all(r.pixel.detail < DETAIL_MIN for r in results), [r.pixel.detail for r in results]
    assert not any(r.near_copy for r in results)
    assert all(r.nearest is r.feature and r.score == r.feature.score for r in results)

    copies = np.stack([blurred(img, 1.0).astype(np.uint8) for img in drawings[:8]])
    copies = np.ascontiguousarray(np.roll(copies, (3, 1), axis=(1, 2))[:, :, ::-1])
    results = ref.check(copies, fx)
    assert all(r.near_copy and r.nearest is r.pixel and r.pixel.flipped for r in results)
    assert all(r.pixel.detail >= DETAIL_MIN for r in results), [r.pixel.detail for r in results]
