"""Latent arithmetic: interpolation, easing, walk timing, truncation, family, mixing layer ranges."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from belamy.core.errors import BelamyError
from belamy.generate import latents as L
from belamy.generate.interpolate import positions
from belamy.models import build_generator
from conftest import tiny_config

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def G():
    return build_generator(tiny_config().model, seed=3).eval().requires_grad_(False)


def test_slerp_endpoints_and_norm():
    a, b = torch.randn(16, generator=torch.Generator().manual_seed(1)), torch.randn(16, generator=torch.Generator().manual_seed(2))
    assert torch.equal(L.slerp(a, b, 0.0), a)
    assert torch.allclose(L.slerp(a, b, 1.0), b, atol=1e-6)
    b = b / b.norm() * a.norm()
    mid = L.slerp(a, b, 0.5)
    assert math.isclose(float(mid.norm()), float(a.norm()), rel_tol=1e-5)  # stays on the sphere
    # on the great circle: the angle to each end is half the angle between the ends
    ang = lambda x, y: torch.arccos((x @ y) / (x.norm() * y.norm()))  # noqa: E731
    assert math.isclose(float(ang(a, mid)), float(ang(mid, b)), rel_tol=1e-4)
    assert math.isclose(float(ang(a, mid) + ang(mid, b)), float(ang(a, b)), rel_tol=1e-4)
    assert torch.allclose(L.slerp(a, a * 2, 0.5), a * 1.5)  # parallel: falls back to lerp
    assert torch.equal(L.lerp(a, b, 0.0), a) and torch.allclose(L.lerp(a, b, 1.0), b)


@pytest.mark.parametrize("name", sorted(L.EASINGS))
def test_easings_fix_the_ends_and_rise(name):
    f = L.EASINGS[name]
    assert f(0.0) == 0.0 and abs(f(1.0) - 1.0) < 1e-12
    vals = [f(i / 20) for i in range(21)]
    assert all(x <= y + 1e-12 for x, y in zip(vals, vals[1:]))


def test_walk_positions_land_on_keyframes():
    pos = positions(25, 2, loop=False, easing="linear")
    assert pos[0] == (0, 0.0) and pos[-1] == (1, 1.0) and pos[12] == (1, 0.0)
    looped = positions(20, 3, loop=True, easing="ease")
    assert looped[0] == (0, 0.0) and looped[-1][0] == 2 and looped[-1][1] < 1.0  # never repeats frame 0


def test_truncation_pulls_to_the_mean(G):
    ws = L.resolve({"seed": 4}, G).ws
    w_avg = torch.randn(G.w_dim)
    assert torch.equal(L.truncate(ws, w_avg, 1.0), ws)
    assert torch.allclose(L.truncate(ws, w_avg, 0.0), w_avg.expand_as(ws))
    half = L.truncate(ws, w_avg, 0.5, cutoff=2)
    assert torch.allclose(half[:2], (ws[:2] + w_avg) / 2) and torch.equal(half[2:], ws[2:])
    # the same arithmetic as the generator's own truncation, bit for bit
    G.w_avg.copy_(w_avg)
    try:
        z = L.z_from_seed(4, G.z_dim)
        assert torch.equal(G.mapping(z[None], truncation_psi=0.6)[0], L.truncate(ws, G.w_avg, 0.6))
    finally:
        G.w_avg.zero_()


def test_family_spread(G):
    z = lambda m, s: L.family_z(5, m, s, G.z_dim)  # noqa: E731
    assert torch.equal(z(0, 0.0), z(1, 0.0))  # spread 0: identical twins
    near, far = ((z(0, s) - z(1, s)).norm() for s in (0.3, 3.0))
    assert near < far
    members = torch.stack([L.family_z(f, 0, 1.0, 4096) for f in range(4)])
    assert abs(float(members.std()) - 1.0) < 0.05  # still N(0, I): ordinary samples of the model


def test_style_layers():
    # 64 px StyleGAN2: 10 ws; w0 drives 4 px, then two per block
    assert L.layer_resolutions(10, 64) == [4, 8, 8, 16, 16, 32, 32, 64, 64, 64]
    assert L.style_layers("coarse", 10, 64) == (0, 3)
    assert L.style_layers("middle", 10, 64) == (3, 7)
    assert L.style_layers("fine", 10, 64) == (7, 10)
    assert L.parse_layers("2-4", 10, 64) == (2, 5) and L.parse_layers("9", 10, 64) == (9, 10)
    with pytest.raises(BelamyError, match="no fine layers"):
        L.style_layers("fine", 8, 32)
    with pytest.raises(BelamyError, match="out of range"):
        L.parse_layers("3-12", 10, 64)
    with pytest.raises(BelamyError, match="DCGAN"):
        L.parse_layers("coarse", 1, 64)


def test_mixing_takes_each_layer_range_from_its_donor(G):
    spec = {"base": {"seed": 1}, "mix": [{"layers": [0, 3], "latent": {"seed": 2}},
                                         {"layers": [5, 8], "latent": {"seed": 3}}]}
    mixed = L.resolve(spec, G)
    one, two, three = (L.resolve({"seed": s}, G).ws for s in (1, 2, 3))
    assert torch.equal(mixed.ws[:3], two[:3]) and torch.equal(mixed.ws[3:5], one[3:5])
    assert torch.equal(mixed.ws[5:], three[5:])
    assert L.resolve(mixed.spec, G).ws.equal(mixed.ws)  # the spec resolves to the same latent again


def test_parse_spec(tmp_path):
    assert L.parse_spec("42") == {"seed": 42}
    assert L.parse_spec("bookmark:anna") == {"bookmark": "anna"}
    assert L.parse_spec(str(tmp_path / "x.safetensors")) == {"file": str(tmp_path / "x.safetensors")}
    with pytest.raises(BelamyError, match="not a latent"):
        L.parse_spec("anna")


def test_use_noise_replaces_and_restores(G):
    before = {k: v.clone() for k, v in L.noise_buffers(G).items()}
    name = next(iter(before))
    with L.use_noise(G, {name: torch.zeros_like(before[name])}):
        assert float(L.noise_buffers(G)[name].abs().sum()) == 0.0
    after = L.noise_buffers(G)
    assert all(torch.equal(before[k], after[k]) for k in before)
    with pytest.raises(BelamyError, match="another run"):
        with L.use_noise(G, {"nope": before[name]}):
            pass


def test_as_spec_takes_seeds_command_line_latents_and_specs(tmp_path):
    assert L.as_spec(42) == {"seed": 42} and L.as_spec("42") == {"seed": 42}
    assert L.as_spec(np.int64(7)) == {"seed": 7} and type(L.as_spec(np.int64(7))["seed"]) is int
    assert L.as_spec("bookmark:anna") == {"bookmark": "anna"}
    assert L.as_spec(tmp_path / "x.safetensors") == {"file": str(tmp_path / "x.safetensors")}
    spec = {"base": {"seed": 1}, "mix": []}
    assert L.as_spec(spec) is spec
    for bad in ("anna", 1.5, True, None):
        with pytest.raises(BelamyError, match="not a latent"):
            L.as_spec(bad)
