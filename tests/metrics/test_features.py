"""The weight-free feature space and the Inception path (with a tiny injected network)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_swd import gradients

from belamy.core.errors import BelamyError
from belamy.metrics.features import RAND_NAME, inception_features, random_features
from belamy.metrics.kid import kid


def test_random_features_are_fixed_and_shaped() -> None:
    state = torch.get_rng_state()
    a, b = random_features(), random_features()
    assert torch.equal(torch.get_rng_state(), state)  # training checkpoints the global RNG: never touch it
    assert a.name == RAND_NAME and a.fingerprint == b.fingerprint
    x = gradients(5, 0)
    fa, fb = a(x), b(torch.from_numpy(x))
    assert fa.shape == (5, a.dim) and torch.equal(fa, fb)
    assert a(gradients(5, 0, size=64)).shape == (5, a.dim)  # any size: resized to 64 internally


def test_random_features_separate_structure_and_colour() -> None:
    fx = random_features()
    from belamy.data.demo import render_portrait

    portraits = np.stack([np.asarray(render_portrait(i, 32)) for i in range(128)])
    real, other = portraits[:64], portraits[64:]  # two draws of one distribution
    rng = np.random.default_rng(0)
    shuffled = np.stack([im.reshape(-1, 3)[rng.permutation(32 * 32)].reshape(32, 32, 3) for im in other])
    tinted = np.clip(other.astype(int) * np.array([1.3, 1.0, 0.6]), 0, 255).astype(np.uint8)
    flat = np.clip((other.astype(float) - 127.5) * 0.6 + 127.5, 0, 255).astype(np.uint8)
    fr = fx(real)
    base = kid(fr, fx(other), subsets=10, subset_size=64).mean
    for name, x in (("shuffled pixels", shuffled), ("tinted", tinted), ("low contrast", flat)):
        value = kid(fr, fx(x), subsets=10, subset_size=64).mean
        assert value > 20 * abs(base) + 0.02, name


def test_kid_images_from_uint8_sets() -> None:
    from belamy.metrics.kid import kid_images

    a, b = gradients(24, 0), gradients(24, 1)  # two draws of one distribution
    same = kid_images(a, b, subsets=5)
    other = kid_images(a, np.random.default_rng(0).integers(0, 256, a.shape, dtype=np.uint8), subsets=5)
    assert other.mean > 10 * abs(same.mean) and same.subset_size == 24


class TinyNet(torch.nn.Module):
    """A locally built stand-in for Inception: uint8 NCHW in, (features,) out."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, stride=2)

    def forward(self, x: torch.Tensor):
        return (self.conv(x.float() / 255).relu().mean(dim=(2, 3)),)


def test_injected_network_path() -> None:
    fx = inception_features(TinyNet(), dim=8, name="tiny")
    f = fx(gradients(6, 0))
    assert fx.name == "tiny" and f.shape == (6, 8) and f.dtype == torch.float32


def test_missing_extra_or_weights_is_one_line(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BELAMY_INCEPTION_WEIGHTS", str(tmp_path / "nothing.pth"))
    with pytest.raises(BelamyError) as err:
        inception_features()
    msg = str(err.value)
    assert "\n" not in msg and ("'fid' extra" in msg or "Inception weights are missing" in msg)
