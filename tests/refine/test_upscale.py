"""Tiled upscaling equals untiled with enough overlap, streams in strips of bounded size, and the
streaming PNG writer round-trips through Pillow (pixels, text, dpi) and leaves nothing on failure."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from belamy.core.errors import BelamyError
from belamy.core.png_stream import write_png_strips
from belamy.refine.upscale import TileConfig, tile_count, upscale_array, upscale_strips

RADIUS = 3  # three 3x3 convolutions at low resolution


class ToySR(nn.Module):
    """A stand-in upscaler: three 3x3 convs + PixelShuffle over a nearest-upsampled residual."""

    def __init__(self, scale: int, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.scale = scale
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(8, 3 * scale * scale, 3, padding=1),
            nn.PixelShuffle(scale),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=self.scale, mode="nearest") + 0.5 * torch.tanh(self.body(x))


def random_image(h: int, w: int, c: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)


@pytest.mark.parametrize("scale", [2, 4])
def test_tiled_with_enough_overlap_equals_untiled(scale):
    G, img = ToySR(scale), random_image(100, 77)
    whole = upscale_array(G, img, TileConfig(tile=0))
    calls: list[int] = []
    strips = upscale_strips(G, img, TileConfig(tile=32, overlap=RADIUS + 1), progress=calls.append)
    tiled = np.concatenate(list(strips))
    assert whole.shape == tiled.shape == (100 * scale, 77 * scale, 3) and tiled.dtype == np.uint8
    diff = np.abs(whole.astype(int) - tiled.astype(int))
    assert diff.max() <= 1 and (diff == 0).mean() > 0.999
    assert calls == list(range(1, tile_count(100, 77, TileConfig(tile=32)) + 1)) and len(calls) == 4 * 3
    assert G.training  # the module's mode is given back


def test_without_overlap_the_tile_seams_differ():
    G, img, s = ToySR(2), random_image(100, 77), 2
    whole = upscale_array(G, img, TileConfig(tile=0))
    tiled = upscale_array(G, img, TileConfig(tile=32, overlap=0))
    changed = np.abs(whole.astype(int) - tiled.astype(int)).max(axis=2) > 1
    seam = np.zeros_like(changed)
    for k in (32, 64, 96):
        seam[k * s - RADIUS * s : k * s + RADIUS * s, :] = True
        seam[:, k * s - RADIUS * s : k * s + RADIUS * s] = True
    assert changed[seam].mean() > 0.2 and not changed[~seam].any()


def test_rgba_keeps_a_bicubic_alpha_of_the_right_shape():
    G, img = ToySR(2), random_image(40, 50, 4, seed=1)
    img[..., 3] = np.linspace(0, 255, 50, dtype=np.uint8)[None, :]  # a smooth ramp of opacity
    whole = upscale_array(G, img, TileConfig(tile=0))
    tiled = upscale_array(G, img, TileConfig(tile=16, overlap=0))  # alpha takes its own context
    assert tiled.shape == (80, 100, 4)
    assert np.abs(whole.astype(int) - tiled.astype(int))[..., 3].max() <= 1
    rgb_only = upscale_array(G, img[..., :3].copy(), TileConfig(tile=0))
    assert np.array_equal(whole[..., :3], rgb_only)
    ref = F.interpolate(torch.from_numpy(img[..., 3]).float()[None, None], scale_factor=2, mode="bicubic")
    assert np.abs(whole[..., 3].astype(float) - ref[0, 0].clamp(0, 255).numpy()).max() <= 1


def test_a_20000_px_wide_image_streams_to_a_png_in_strips_of_bounded_size(tmp_path, monkeypatch):
    G, img, s, t = ToySR(2), random_image(24, 20_000, seed=2), 2, 16
    limit = t * s * img.shape[1] * s * 3
    done: list[int] = []
    kept: list[np.ndarray] = []

    def watched():
        for strip in upscale_strips(G, img, TileConfig(tile=t, overlap=RADIUS + 1), progress=done.append):
            assert strip.nbytes <= limit  # one row of tiles, never the image
            assert done[-1] == (len(kept) + 1) * tile_count(t, 20_000, TileConfig(tile=t))  # made lazily
            kept.append(strip.copy())
            yield strip

    out = tmp_path / "wide.png"
    write_png_strips(out, 40_000, 48, 3, watched(), compress_level=1)
    assert len(kept) == 2
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with Image.open(out) as im:
        assert im.size == (40_000, 48) and im.mode == "RGB"
        assert np.array_equal(np.asarray(im), np.concatenate(kept))


@pytest.mark.parametrize("channels", [3, 4])
def test_png_strips_round_trip_pixels_text_and_dpi(tmp_path, channels):
    img = random_image(37, 29, channels, seed=3)
    img[:20] = np.arange(29, dtype=np.uint8)[None, :, None] * 8  # smooth rows, where Sub matters
    text = {"title": "Belamy — №1", "record": '{"seed": 5, "name": "Édouard"}'}
    out = tmp_path / "rt.png"
    write_png_strips(out, 29, 37, channels, [img[:10], img[10:11], img[11:]], text=text, dpi=300)
    with Image.open(out) as im:
        assert im.mode == ("RGB" if channels == 3 else "RGBA")
        assert np.array_equal(np.asarray(im), img)
        assert im.text == text
        assert im.info["dpi"] == pytest.approx((300, 300), abs=0.01)


def test_png_writer_memory_is_bounded_by_a_strip(tmp_path):
    w, rows, n = 4000, 8, 100  # a 9.6 MB image in 96 kB strips
    base = random_image(rows, w, seed=4)
    tracemalloc.start()
    try:
        write_png_strips(tmp_path / "big.png", w, rows * n, 3, (base for _ in range(n)), compress_level=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < w * rows * n * 3 / 5  # about 1 MB: a strip, its filtered rows and one IDAT chunk
    with Image.open(tmp_path / "big.png") as im:
        assert im.size == (w, rows * n)


@pytest.mark.parametrize(
    "strips, match",
    [
        ([np.zeros((4, 10, 3), np.uint8), np.zeros((4, 9, 3), np.uint8)], "strip 1 must be uint8"),
        ([np.zeros((8, 10, 4), np.uint8)], "strip 0 must be uint8"),
        ([np.zeros((8, 10, 3), np.float32)], "strip 0 must be uint8"),
        ([np.zeros((4, 10, 3), np.uint8)], "have 4 rows, the image 8"),
        ([np.zeros((6, 10, 3), np.uint8)] * 2, "more than the 8 rows"),
    ],
)
def test_a_bad_strip_raises_and_leaves_no_file(tmp_path, strips, match):
    with pytest.raises(ValueError, match=match):
        write_png_strips(tmp_path / "bad.png", 10, 8, 3, strips)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "tiles, image, match",
    [
        (TileConfig(tile=8), random_image(20, 20), r"tile 8 is too small: use 0 \(whole image\) or at least 16"),
        (TileConfig(overlap=-1), random_image(20, 20), "overlap -1 is negative"),
        (TileConfig(), random_image(20, 20, 2), "H x W x 3 \\(RGB\\) or 4"),
        (TileConfig(), np.zeros((0, 5, 3), np.uint8), "H x W x 3"),
        (TileConfig(), np.zeros((5, 5, 3), np.float32), "must be a uint8 array, not float32"),
    ],
)
def test_bad_arguments_raise_one_clear_line(tiles, image, match):
    with pytest.raises(BelamyError, match=match):
        upscale_strips(ToySR(2), image, tiles)  # raised at the call, before any strip
    with pytest.raises(BelamyError, match="tile 8"):
        tile_count(10, 10, TileConfig(tile=8))


def test_an_upscaler_without_a_scale_is_refused():
    G = ToySR(2)
    del G.scale
    with pytest.raises(BelamyError, match="integer `scale`"):
        upscale_strips(G, random_image(20, 20), TileConfig())
