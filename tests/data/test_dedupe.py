"""Near-duplicate detection: re-encodes and resizes are caught, different sitters are not."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

import belamy
from belamy.data.decode import DecodeOptions, decode
from belamy.data.dedupe import NEAR_DIFFERENCE, NEAR_RADIUS, NearFinder, difference, thumbnail
from belamy.data.demo import iter_demo


def _decoded(im, fmt="PNG", size=None, out=64, **kw):
    buf = io.BytesIO()
    (im.resize((size, size), Image.Resampling.LANCZOS) if size else im).save(buf, format=fmt, **kw)
    return decode(buf.getvalue(), DecodeOptions(size=out))


def _pixels(d, size=64):
    return np.frombuffer(d.pixels, np.uint8).reshape(size, size, 3)


def _finder(decoded: list) -> NearFinder:
    return NearFinder(NEAR_RADIUS, NEAR_DIFFERENCE, lambda i: _pixels(decoded[i]))


def weave(seed: int, n: int = 512) -> Image.Image:
    """A fine woven texture: two gratings near the pixel pitch, plus grain (what hashes see as noise)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:n, :n].astype(np.float64)
    th = rng.uniform(0, np.pi)
    u, v = x * np.cos(th) + y * np.sin(th), -x * np.sin(th) + y * np.cos(th)
    fu, fv = rng.uniform(0.9, 1.5, 2)
    g = 50 * np.sin(u * fu + rng.uniform(0, 6)) * np.sin(v * fv + rng.uniform(0, 6)) + 20 * rng.normal(size=(n, n))
    base = np.array([150.0, 130.0, 100.0])
    return Image.fromarray(np.clip(base + g[..., None] * np.array([1.0, 0.9, 0.75]), 0, 255).astype(np.uint8))


def test_reencodes_found_and_distinct_portraits_kept():
    portraits = list(iter_demo("portraits", count=40, size=128))
    kept = []
    finder = _finder(kept)
    for ident, im in portraits:
        d = _decoded(im)
        # portraits share a genre layout (centred head, dark ground) but none is a duplicate
        assert finder.find((d.phash, d.dhash), d.colors, _pixels(d)) is None, ident
        finder.add((d.phash, d.dhash), d.colors, ident)
        kept.append(d)
    for ident, im in portraits[::4]:
        d = _decoded(im, "JPEG", size=200, quality=70)
        hit = finder.find((d.phash, d.dhash), d.colors, _pixels(d))
        assert hit is not None and hit.ident == ident and hit.difference <= NEAR_DIFFERENCE


def test_resized_reencode_of_a_fine_texture_is_caught(tmp_path: Path):
    """Resized by 12% and saved as JPEG 85, a fine texture moves its hashes by 10 or more bits."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):
        im = weave(i)
        im.save(src / f"t{i}.png")
        im.resize((450, 450), Image.Resampling.LANCZOS).save(src / f"t{i}_copy.jpg", quality=85)
    coll = belamy.collect([str(src)], tmp_path / "coll", size=64, workers=1)
    near = coll.report.near_duplicates
    assert sorted(Path(x["source"]).name for x in near) == [f"t{i}_copy.jpg" for i in range(4)]
    ids = {Path(r["source"]).name: r["id"] for r in coll.manifest}
    assert all(x["duplicate_of"] == ids[Path(x["source"]).name.replace("_copy.jpg", ".png")] for x in near)
    assert max(x["distance"] for x in near) > 6  # what the hashes alone could not catch
    assert len(coll) == 4  # four different weaves of one kind stay apart
    assert (coll.report.near_threshold, coll.report.near_difference) == (NEAR_RADIUS, NEAR_DIFFERENCE)


def test_thumbnail_difference_ignores_level_and_sees_structure():
    rng = np.random.default_rng(0)
    blocks = lambda: np.kron(rng.integers(0, 200, (8, 8, 3)), np.ones((8, 8, 1))).astype(np.uint8)  # noqa: E731
    a, other = blocks(), blocks()
    assert difference(thumbnail(a), thumbnail(a + 12)) < 0.01  # brighter: the same picture
    assert difference(thumbnail(a), thumbnail(other)) > 1.0
    flat, paler = np.full((64, 64, 3), 200, np.uint8), np.full((64, 64, 3), 206, np.uint8)
    assert difference(thumbnail(flat), thumbnail(paler)) == 0.0 and difference(thumbnail(flat), thumbnail(a)) > 1.0


def test_small_crops_are_caught_and_recoloured_copies_are_not():
    portraits = list(iter_demo("portraits", count=12, size=192))
    kept = [_decoded(im) for _, im in portraits]
    finder = _finder(kept)
    for (ident, _), d in zip(portraits, kept):
        finder.add((d.phash, d.dhash), d.colors, ident)
    for ident, im in portraits[::3]:
        w, h = im.size
        for cropped in (im.crop((round(w * 0.05), 0, w, h)), im.crop((round(w * 0.04), round(h * 0.04), w, h))):
            d = _decoded(cropped, "JPEG", quality=90)
            hit = finder.find((d.phash, d.dhash), d.colors, _pixels(d))
            assert hit is not None and hit.ident == ident, ident
        swapped = Image.fromarray(np.asarray(im)[:, :, ::-1].copy())  # the same picture, other colours
        d = _decoded(swapped)
        hit = finder.find((d.phash, d.dhash), d.colors, _pixels(d))
        assert hit is None or hit.ident != ident, ident
