"""`belamy.data.degrade`: the second-order degradation and the tensor JPEG, on small seeded images."""

from __future__ import annotations

import ast
import io
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

import belamy.data.degrade as degrade_module
from belamy.core.errors import BelamyError
from belamy.data.degrade import DEGRADATIONS, DegradeConfig, degrade, jpeg


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def textured(n: int = 2, h: int = 64, w: int = 64, seed: int = 0) -> torch.Tensor:
    """(n, 3, h, w) in [0, 1], like a photo: fine oriented waves in brightness, slow ones in colour."""
    g = gen(seed)
    y = torch.arange(h, dtype=torch.float32).view(1, 1, h, 1)
    x = torch.arange(w, dtype=torch.float32).view(1, 1, 1, w)
    out = torch.full((n, 3, h, w), 0.5)
    for channels, freq in ((1, 1.2), (1, 1.2), (1, 0.6), (3, 0.15), (3, 0.15)):
        fx, fy = (torch.rand(2, n, channels, 1, 1, generator=g) - 0.5) * freq
        phase = torch.rand(n, channels, 1, 1, generator=g) * 2 * math.pi
        out = out + 0.1 * torch.sin(fx * x + fy * y + phase)
    return out.clamp(0, 1)


def smooth(n: int = 2, h: int = 64, w: int = 64) -> torch.Tensor:
    """(n, 3, h, w) in [-1, 1]: slow colour gradients."""
    y = torch.linspace(-0.8, 0.8, h).view(1, 1, h, 1)
    x = torch.linspace(-0.8, 0.8, w).view(1, 1, 1, w)
    img = torch.cat([x.expand(1, 1, h, w), y.expand(1, 1, h, w), (x * y).expand(1, 1, h, w)], 1)
    return img.expand(n, 3, h, w).contiguous()


# --- degrade -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DEGRADATIONS)
@pytest.mark.parametrize("scale", [1, 2, 4])
def test_shape_range_and_8bit_levels(name: str, scale: int) -> None:
    cfg = DegradeConfig.named(name)
    for h, w in ((64, 64), (37, 50)):
        hr = textured(3, h, w) * 2 - 1
        lr = degrade(hr, scale, gen(scale), cfg)
        assert lr.shape == (3, 3, h // scale, w // scale)
        assert lr.dtype == hr.dtype
        assert lr.min() >= -1 and lr.max() <= 1
        levels = (lr + 1) / 2 * 255
        assert torch.allclose(levels, levels.round(), atol=1e-3)


def test_tiny_images_survive_strong_downscales() -> None:
    hr = textured(4, 8, 12) * 2 - 1
    for seed in range(6):
        assert degrade(hr, 4, gen(seed)).shape == (4, 3, 2, 3)


def test_same_seed_same_output_other_seed_other_output() -> None:
    hr = textured(4, 48, 48) * 2 - 1
    for name in ("second-order", "light"):
        cfg = DegradeConfig.named(name)
        a, b = degrade(hr, 2, gen(7), cfg), degrade(hr, 2, gen(7), cfg)
        assert torch.equal(a, b)
        assert not torch.equal(a, degrade(hr, 2, gen(8), cfg))


def test_each_image_of_a_batch_gets_its_own_parameters() -> None:
    one = textured(1, 48, 48) * 2 - 1
    hr = one.expand(2, 3, 48, 48).contiguous()
    for name in ("second-order", "first-order", "light"):
        for seed in range(3):
            lr = degrade(hr, 2, gen(seed), DegradeConfig.named(name))
            assert (lr[0] - lr[1]).abs().mean() > 1 / 255, (name, seed)


def test_each_image_gets_its_own_blur() -> None:
    # blur alone (no resize, noise or JPEG): identical images still differ, by their kernels
    cfg = DegradeConfig(resize_prob=(0, 0, 1), noise_prob=0, jpeg_prob=0, second_order=False, sinc_prob=0)
    hr = (textured(1, 48, 48) * 2 - 1).expand(4, 3, 48, 48).contiguous()
    lr = degrade(hr, 1, gen(0), cfg)
    assert all((lr[0] - lr[i]).abs().max() > 2 / 255 for i in (1, 2, 3))

    # and the blur removes detail: less energy in the differences of neighbours than the input
    def detail(t: torch.Tensor) -> torch.Tensor:
        return (t[..., 1:] - t[..., :-1]).abs().mean()

    assert detail(lr) < detail(hr)


def test_noise_strength_and_colour_are_per_image() -> None:
    hr = torch.zeros(8, 3, 64, 64)  # flat mid-gray
    for poisson in (False, True):
        cfg = DegradeConfig(
            blur_prob=0,
            sinc_prob=0,
            resize_prob=(0, 0, 1),
            jpeg_prob=0,
            second_order=False,
            gaussian_noise_prob=0.0 if poisson else 1.0,
        )
        res = degrade(hr, 1, gen(1), cfg) - hr
        std = res.std(dim=(1, 2, 3))
        assert std.min() > 0 and std.max() > 2 * std.min()
        gray = (res[:, :1] == res).flatten(1).all(dim=1)  # one noise field for all three channels
        assert 0 < int(gray.sum()) < 8


def test_bicubic_is_a_plain_antialiased_bicubic_downscale() -> None:
    hr = textured(3, 64, 48) * 2 - 1
    lr = degrade(hr, 4, gen(0), DegradeConfig.named("bicubic"))
    x = F.interpolate((hr + 1) / 2, size=(16, 12), mode="bicubic", align_corners=False, antialias=True)
    want = torch.round(x.clamp(0, 1) * 255) / 255
    assert ((lr + 1) / 2 - want).abs().max() <= 1 / 255 + 1e-6


def test_second_order_degrades_even_a_smooth_image() -> None:
    hr = smooth()
    plain = degrade(hr, 4, gen(0), DegradeConfig.named("bicubic"))
    for seed in range(3):
        lr = degrade(hr, 4, gen(seed), DegradeConfig.named("second-order"))
        assert (lr - plain).abs().mean() > 2 / 255


def test_the_second_pass_degrades_on_its_own() -> None:
    # a first pass that does (nearly) nothing: what is left of second-order is the second pass
    quiet = {
        "blur_prob": 0.0,
        "resize_prob": (0.0, 0.0, 1.0),
        "noise_range": (0.0, 0.0),
        "poisson_scale_range": (0.0, 0.0),
        "jpeg_range": (100.0, 100.0),
    }
    hr = textured(4, 64, 64) * 2 - 1
    plain = degrade(hr, 2, gen(0), DegradeConfig.named("bicubic"))
    first_only = degrade(hr, 2, gen(0), DegradeConfig(**quiet, second_order=False))
    both = degrade(hr, 2, gen(0), DegradeConfig(**quiet, second_order=True))
    assert (first_only - plain).abs().mean() < 2 / 255
    assert (both - plain).abs().mean() > 3 * (first_only - plain).abs().mean()


def test_light_is_milder_than_second_order() -> None:
    hr = textured(8, 64, 64) * 2 - 1
    plain = degrade(hr, 2, gen(0), DegradeConfig.named("bicubic"))
    err = {
        name: (degrade(hr, 2, gen(1), DegradeConfig.named(name)) - plain).abs().mean()
        for name in ("light", "second-order")
    }
    assert err["light"] < err["second-order"]


def test_bad_scale_and_shape() -> None:
    hr = textured(1, 16, 16) * 2 - 1
    with pytest.raises(BelamyError):
        degrade(hr, 0, gen(0))
    with pytest.raises(ValueError):
        degrade(hr[:, :1], 2, gen(0))


def test_named() -> None:
    assert DegradeConfig.named("second-order") == DegradeConfig()
    assert DegradeConfig.named("first-order").second_order is False
    light = DegradeConfig.named("light")
    assert light.second_order is False and light.blur_sigma[1] <= 1.5 and light.noise_range[1] <= 10
    assert light.jpeg_range == (60.0, 95.0)
    with pytest.raises(BelamyError) as info:
        DegradeConfig.named("nope")
    msg = str(info.value)
    assert "\n" not in msg and "nope" in msg
    assert all(name in msg for name in DEGRADATIONS)


def test_module_imports_only_torch_math_dataclasses_and_core_errors() -> None:
    tree = ast.parse(Path(degrade_module.__file__).read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module or "")
    allowed = {"__future__", "math", "dataclasses", "torch", "torch.nn.functional", "belamy.core.errors"}
    assert found <= allowed, found - allowed


# --- jpeg ----------------------------------------------------------------------------------------


def test_jpeg_quality_100_is_close_and_low_quality_is_further() -> None:
    x = textured(2, 64, 64)

    def err(quality: float) -> torch.Tensor:
        return (jpeg(x, torch.full((2,), quality)) - x).abs().mean()

    assert err(100) < 0.01
    assert err(10) > err(90) > err(100)
    assert err(10) > 0.01


def test_jpeg_quality_is_per_image() -> None:
    x = textured(1, 32, 32).expand(2, 3, 32, 32).contiguous()
    y = jpeg(x, torch.tensor([5.0, 100.0]))
    assert (y[0] - x[0]).abs().mean() > 3 * (y[1] - x[1]).abs().mean()


def test_jpeg_keeps_shape_and_range_for_odd_sizes() -> None:
    x = textured(2, 37, 21)
    y = jpeg(x, torch.tensor([30.0, 80.0]))
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1


@pytest.mark.parametrize("quality", [1.0, 10.0, 50.0, 100.0])
def test_jpeg_of_block_constant_image_stays_block_constant(quality: float) -> None:
    g = gen(3)
    # gray 8x8-block-constant: only DC coefficients, nothing to ring
    gray = (
        torch.rand(2, 1, 4, 6, generator=g)
        .repeat_interleave(8, 2)
        .repeat_interleave(8, 3)
        .expand(2, 3, 32, 48)
    )
    y = jpeg(gray.contiguous(), torch.full((2,), quality))
    blocks = y.view(2, 3, 4, 8, 6, 8)
    assert blocks.std(dim=(3, 5)).max() < 1e-3
    # a flat colour stays flat, in colour too
    flat = torch.rand(2, 3, 1, 1, generator=g).expand(2, 3, 24, 40).contiguous()
    y = jpeg(flat, torch.full((2,), quality))
    assert y.std(dim=(2, 3)).max() < 1e-3


def test_jpeg_matches_a_real_jpeg_codec() -> None:
    x = textured(1, 64, 64, seed=5)
    arr = (x[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    xq = torch.from_numpy(arr.astype(np.float32) / 255).permute(2, 0, 1)[None]
    for quality in (10, 20, 50):
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="JPEG", quality=quality, subsampling=2)  # 4:2:0
        real = torch.from_numpy(np.asarray(Image.open(buf)).astype(np.float32) / 255).permute(2, 0, 1)[None]
        ours = jpeg(xq, torch.tensor([float(quality)]))
        real_err, our_err = (real - xq).abs().mean(), (ours - xq).abs().mean()
        # as far from the input as the real codec is, and much closer to the codec than to the input
        assert abs(our_err - real_err) < 0.15 * real_err, quality
        if quality <= 20:  # where the codec's error dwarfs the rounding differences of the two DCTs
            assert (ours - real).abs().mean() < 0.3 * real_err, quality


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_cuda() -> None:
    hr = (textured(4, 64, 64) * 2 - 1).cuda()
    a, b = degrade(hr, 4, gen(0)), degrade(hr, 4, gen(0))
    assert a.device == hr.device and a.shape == (4, 3, 16, 16)
    assert a.min() >= -1 and a.max() <= 1 and torch.equal(a, b)
