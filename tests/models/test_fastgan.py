"""The FastGAN-style model: its own parts (GLU, skip-layer excitation, spectral norm) and the W-space
interface that truncation, mixing and projection rely on."""

import pytest
import torch
import torch.nn.functional as F

from belamy.models import ModelConfig, build_discriminator, build_generator, presets
from belamy.models.fastgan import SkipExcitation, excitation_source
from belamy.models.layers import ModulatedConv


def tiny(resolution: int = 32, top: str = "light") -> ModelConfig:
    return ModelConfig(name="fastgan", resolution=resolution, z_dim=16, w_dim=12, mapping_layers=2,
                       g_channel_base=8 * resolution // 2, g_channel_max=16, d_channel_base=8 * resolution // 2,
                       d_channel_max=16, top=top, tanh_output=True, mbstd_group=0)


def test_excitation_pairs_follow_fastgan():
    assert [excitation_source(r) for r in (8, 16, 32, 64, 128, 256)] == [None, None, 4, 4, 8, 16]
    G = build_generator(tiny(64, "full"), seed=0)
    assert set(G.synthesis.excite) == {"32", "64"}


def test_excitation_gates_the_fine_map_by_the_coarse_one():
    sle = SkipExcitation(8, 6)
    big = torch.ones(2, 6, 16, 16)
    small = torch.randn(2, 8, 4, 4)
    out = sle(small, big)
    assert out.shape == big.shape and (out > 0).all() and (out < 1).all()  # sigmoid gates of ones
    assert not torch.allclose(out[0], out[1])  # each image its own gates
    assert torch.equal(out, sle(small, big))


def test_glu_conv_gates_half_its_maps():
    torch.manual_seed(0)
    glu = ModulatedConv(4, 3, 8, 8, use_noise=False, glu=True)
    plain = ModulatedConv(4, 6, 8, 8, use_noise=False)  # the same six maps, before the gate
    plain.load_state_dict(glu.state_dict())
    x, w = torch.randn(2, 4, 8, 8), torch.randn(2, 8)
    y = plain(x, w)
    pre = torch.where(y >= 0, y, y / 0.2)  # undo the leaky ReLU
    assert glu(x, w).shape == (2, 3, 8, 8)
    torch.testing.assert_close(glu(x, w), F.glu(pre, dim=1))
    xl = x.contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(glu(xl, w), glu(x, w))


@pytest.mark.parametrize("top", ["light", "full"])
def test_truncation_zero_gives_one_image_and_mixing_uses_rows(top):
    G = build_generator(tiny(32, top), seed=0).eval()
    G.w_avg.normal_()
    z = torch.randn(3, 16)
    imgs = G(z, truncation_psi=0.0)
    assert torch.allclose(imgs[0], imgs[1]) and torch.allclose(imgs[1], imgs[2])
    ws1, ws2 = G.mapping(z[:1]), G.mapping(z[1:2])
    assert ws1.shape == (1, G.num_ws, 12)
    for cut in range(1, G.num_ws):  # every style row steers the picture
        mixed = torch.cat([ws1[:, :cut], ws2[:, cut:]], dim=1)
        assert not torch.allclose(G.synthesis(mixed), G.synthesis(ws1))
    assert G(z).abs().max() < 1  # tanh


def test_discriminator_weights_are_spectrally_normalised():
    D = build_discriminator(tiny(32), seed=1).train()
    x = torch.randn(8, 3, 32, 32)
    for _ in range(30):  # power iterations run on training forwards
        D(x)
    conv = D.big.stem[0]
    top = torch.linalg.matrix_norm(conv.weight.flatten(1), ord=2)
    assert abs(top.item() - 1.0) < 0.05
    assert D(x).shape == (8,)


def test_preset_is_the_size_of_the_issue_reference():
    cfg = presets.fastgan_cpu_64()
    G, D = build_generator(cfg, seed=0), build_discriminator(cfg, seed=1)
    params = sum(p.numel() for p in G.parameters()) + sum(p.numel() for p in D.parameters())
    assert 1.2e6 < params < 1.6e6
    assert G(torch.randn(2, 128)).shape == (2, 3, 64, 64)
