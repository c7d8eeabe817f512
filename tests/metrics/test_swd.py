"""SWD over Laplacian-pyramid patches: sanity on small synthetic image sets (32 px)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from belamy.metrics.swd import laplacian_pyramid, patch_descriptors, sliced_wasserstein, swd

FAST = dict(patches_per_image=64, dirs=128, repeats=2)


def gradients(n: int, seed: int, size: int = 32) -> np.ndarray:
    """Smooth images: random-direction linear colour gradients plus a little noise, uint8 NHWC."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    angle = rng.uniform(0, 2 * np.pi, (n, 1, 1))
    t = (np.cos(angle) * xx + np.sin(angle) * yy + 1) / 2  # (n, size, size) roughly in [0, 1]
    c0 = rng.uniform(0, 255, (n, 1, 1, 3))
    c1 = rng.uniform(0, 255, (n, 1, 1, 3))
    img = c0 + (c1 - c0) * t[..., None] + rng.normal(0, 3, (n, size, size, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def noise(n: int, seed: int, size: int = 32) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_pyramid_shapes_and_exact_reconstruction() -> None:
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    pyr = laplacian_pyramid(x, 3)
    assert [tuple(p.shape) for p in pyr] == [(2, 3, 32, 32), (2, 3, 16, 16), (2, 3, 8, 8)]
    # Collapsing the pyramid gives the image back.
    from belamy.metrics.swd import _up

    rec = pyr[-1]
    for lap in reversed(pyr[:-1]):
        rec = lap + _up(rec, lap.shape[-2:])
    assert torch.allclose(rec, x, atol=1e-5)
    # A constant image has (almost) no band-pass content and a constant coarsest level.
    c = torch.full((1, 3, 32, 32), 0.25)
    pc = laplacian_pyramid(c, 3)
    assert torch.allclose(pc[-1], torch.full_like(pc[-1], 0.25), atol=1e-6)
    assert len(laplacian_pyramid(x, 1)) == 1


def test_patch_descriptors_are_7x7_windows() -> None:
    level = torch.arange(2 * 3 * 16 * 16, dtype=torch.float32).reshape(2, 3, 16, 16)
    d = patch_descriptors(level, 5, torch.Generator().manual_seed(1))
    assert d.shape == (10, 3 * 7 * 7)
    for i, row in enumerate(d.view(10, 3, 7, 7)):
        n = i // 5
        y, x = divmod(int(row[0, 0, 0] - n * 3 * 256), 16)
        assert torch.equal(row, level[n, :, y : y + 7, x : x + 7])


def test_sliced_wasserstein_basic() -> None:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2000, 10, generator=g)
    assert sliced_wasserstein(a, a.clone(), dirs=64, repeats=2, generator=g) == 0.0
    # Shifting every point by a unit vector u moves each projection by <u, dir>.
    shifted = sliced_wasserstein(a, a + 1.0 / np.sqrt(10), dirs=256, repeats=2, generator=g)
    b = torch.randn(2000, 10, generator=g)
    other = sliced_wasserstein(a, b, dirs=256, repeats=2, generator=g)
    assert shifted > 5 * other


def test_identical_sets_give_zero() -> None:
    a = gradients(64, 0)
    same = swd(a, a.copy(), **FAST)
    far = swd(a, noise(64, 1), **FAST)
    assert set(same) == {"32", "16", "mean"}
    assert same["mean"] < 1e-3 * far["mean"]


def test_same_distribution_is_much_closer_than_a_different_one() -> None:
    imgs = gradients(128, 2)
    half1, half2 = imgs[:64], imgs[64:]
    near = swd(half1, half2, **FAST)
    # against noise, the real set's statistics expose the contrast change that per-set
    # normalisation (the official default) deliberately factors out
    near_real = swd(half1, half2, normalize="real", **FAST)
    far_noise = swd(half1, noise(64, 3), normalize="real", **FAST)
    # Blurred images: same colours and layout, but different texture at the finest level.
    blurred = torch.nn.functional.avg_pool2d(
        torch.from_numpy(half2).permute(0, 3, 1, 2).float(), 4
    )
    blurred = torch.nn.functional.interpolate(blurred, scale_factor=4, mode="nearest")
    blurred = blurred.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
    far_blur = swd(half1, blurred, **FAST)
    assert near_real["mean"] * 5 < far_noise["mean"]
    assert near["mean"] < swd(half1, noise(64, 3), **FAST)["mean"]
    assert near["32"] * 3 < far_blur["32"]


def test_deterministic_for_a_seed() -> None:
    a, b = gradients(64, 4), noise(64, 5)
    r1 = swd(a, b, seed=7, **FAST)
    r2 = swd(a, b, seed=7, **FAST)
    r3 = swd(a, b, seed=8, **FAST)
    assert r1 == r2
    assert r1 != r3
    assert r3["mean"] == pytest.approx(r1["mean"], rel=0.2)


def test_uint8_nhwc_and_float_nchw_agree() -> None:
    a, b = gradients(64, 6), gradients(64, 7)
    from_uint8 = swd(a, b, **FAST)
    as_float = lambda z: torch.from_numpy(z).permute(0, 3, 1, 2).float() / 127.5 - 1  # noqa: E731
    from_float = swd(as_float(a), as_float(b), **FAST)
    from_tensor = swd(torch.from_numpy(a), torch.from_numpy(b), **FAST)
    assert from_uint8.keys() == from_float.keys()
    for k in from_uint8:
        assert from_float[k] == pytest.approx(from_uint8[k], rel=1e-4)
        assert from_tensor[k] == from_uint8[k]


def test_rejects_unequal_counts_and_bad_input() -> None:
    with pytest.raises(ValueError, match="equal sample counts"):
        swd(noise(8, 0), noise(9, 1))
    with pytest.raises(ValueError, match="sizes differ"):
        swd(noise(8, 0, 32), noise(8, 1, 16))
    with pytest.raises(ValueError, match="min_res"):
        swd(noise(8, 0, 8), noise(8, 1, 8))
    with pytest.raises(ValueError):
        swd(np.zeros((4, 3, 32, 32), np.uint8), np.zeros((4, 3, 32, 32), np.uint8))


def test_non_power_of_two_sizes() -> None:
    a, b = noise(16, 0, 40), noise(16, 1, 40)
    r = swd(a, b, **FAST)
    assert list(r) == ["40", "20", "mean"]
