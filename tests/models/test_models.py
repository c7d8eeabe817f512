"""Model zoo: shapes, the shared generator interface, truncation, noise determinism, configs."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from belamy.models import (
    MODEL_NAMES,
    InvalidModelConfig,
    ModelConfig,
    build_discriminator,
    build_generator,
    presets,
)
from belamy.models.flops import count_flops, count_params, pair_step_flops_per_image, train_step_flops_per_image
from belamy.models.layers import EqualConv2d, blur_upsampled, minibatch_stddev, modulated_conv2d, upsample2x


def tiny(name: str, resolution: int = 32) -> ModelConfig:
    """Channels 4-16 so every test runs in milliseconds."""
    z = 16
    return ModelConfig(
        name=name, resolution=resolution, z_dim=z, w_dim=z if name == "dcgan" else 12,
        mapping_layers=2, g_channel_base=8 * resolution // 2, g_channel_max=16,
        d_channel_base=8 * resolution // 2, d_channel_max=16, use_noise=True, mbstd_group=2,
    )


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize("name", ["dcgan", "stylegan2", "fastgan"])
@pytest.mark.parametrize("resolution", [32, 64])
def test_shapes(name, resolution):
    cfg = tiny(name, resolution)
    G, D = build_generator(cfg, seed=0), build_discriminator(cfg, seed=1)
    z = torch.randn(4, cfg.z_dim)
    ws = G.mapping(z)
    assert ws.shape == (4, G.num_ws, G.w_dim)
    img = G.synthesis(ws)
    assert img.shape == (4, 3, resolution, resolution)
    assert torch.isfinite(img).all()
    assert D(img).shape == (4,)
    assert G.w_avg.shape == (G.w_dim,)


def test_interface_values():
    sg = build_generator(tiny("stylegan2", 64))
    assert (sg.z_dim, sg.w_dim, sg.num_ws) == (16, 12, 10)  # 2*log2(64) - 2 style inputs
    dc = build_generator(tiny("dcgan"))
    assert (dc.z_dim, dc.w_dim, dc.num_ws) == (16, 16, 1)
    assert set(MODEL_NAMES) >= {"dcgan", "stylegan2", "fastgan"}


def test_output_range():
    dc = build_generator(tiny("dcgan"))
    img = dc(torch.randn(4, 16))
    assert img.abs().max() <= 1.0  # tanh
    sg = build_generator(tiny("stylegan2"))
    img = sg(torch.randn(8, 16))
    # A linear skip output, "about [-1, 1]" once trained; at init it is of order 1.
    assert 0.05 < img.std() < 10.0


def test_truncation_psi_zero_gives_w_avg():
    G = build_generator(tiny("stylegan2"))
    G.w_avg.copy_(torch.randn(G.w_dim))
    ws = G.mapping(torch.randn(5, G.z_dim), truncation_psi=0.0)
    torch.testing.assert_close(ws, G.w_avg.expand_as(ws))
    # cutoff: only the first layers are truncated
    z = torch.randn(3, G.z_dim)
    full, cut = G.mapping(z), G.mapping(z, truncation_psi=0.0, truncation_cutoff=2)
    torch.testing.assert_close(cut[:, :2], G.w_avg.expand(3, 2, -1))
    torch.testing.assert_close(cut[:, 2:], full[:, 2:])
    imgs = G(torch.randn(3, G.z_dim), truncation_psi=0.0)
    torch.testing.assert_close(imgs, imgs[:1].expand_as(imgs))
    dc = build_generator(tiny("dcgan"))
    torch.testing.assert_close(dc.mapping(z := torch.randn(2, 16), truncation_psi=0.0),
                               torch.zeros(2, 1, 16))
    torch.testing.assert_close(dc.mapping(z, truncation_psi=0.5), 0.5 * z.unsqueeze(1))


def test_w_avg_tracks_only_when_asked_and_training():
    G = build_generator(tiny("stylegan2"))
    z = torch.randn(8, G.z_dim)
    G.mapping(z)
    assert torch.count_nonzero(G.w_avg) == 0
    G.eval()
    G.mapping(z, update_w_avg=True)
    assert torch.count_nonzero(G.w_avg) == 0
    G.train()
    w = G.mapping(z, update_w_avg=True)[:, 0]
    torch.testing.assert_close(G.w_avg, w.mean(0) * (1 - 0.995))


def test_const_noise_is_deterministic_and_random_noise_follows_generator():
    G = build_generator(tiny("stylegan2"))
    with torch.no_grad():  # give noise a visible effect (strength starts at 0)
        for name, p in G.named_parameters():
            if name.endswith("strength"):
                p.fill_(0.5)
    ws = G.mapping(torch.randn(2, G.z_dim))
    a, b = G.synthesis(ws, noise_mode="const"), G.synthesis(ws, noise_mode="const")
    assert torch.equal(a, b)
    r1 = G.synthesis(ws, noise_mode="random", generator=torch.Generator().manual_seed(7))
    r2 = G.synthesis(ws, noise_mode="random", generator=torch.Generator().manual_seed(7))
    r3 = G.synthesis(ws, noise_mode="random", generator=torch.Generator().manual_seed(8))
    assert torch.equal(r1, r2)
    assert not torch.equal(r1, r3)
    assert not torch.equal(a, G.synthesis(ws, noise_mode="none"))
    with pytest.raises(ValueError, match="noise_mode"):
        G.synthesis(ws, noise_mode="sometimes")


def test_seeded_build_is_reproducible_and_leaves_global_rng_alone():
    cfg = tiny("stylegan2")
    state = torch.get_rng_state()
    G1, G2 = build_generator(cfg, seed=3), build_generator(cfg, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    for (k, v1), v2 in zip(G1.state_dict().items(), G2.state_dict().values()):
        assert torch.equal(v1, v2), k


def test_style_mixing_uses_per_layer_rows():
    G = build_generator(tiny("stylegan2"))
    ws1, ws2 = G.mapping(torch.randn(2, G.z_dim)), G.mapping(torch.randn(2, G.z_dim))
    mixed = torch.cat([ws1[:, :3], ws2[:, 3:]], dim=1)
    assert not torch.equal(G.synthesis(mixed), G.synthesis(ws1))


def test_gradients_reach_every_generator_and_discriminator_parameter():
    for name in MODEL_NAMES:
        if name in ("pix2pix", "srvgg", "rrdb"):  # an image, not a latent: test_pix2pix.py, test_sr.py
            continue
        cfg = tiny(name)
        G, D = build_generator(cfg), build_discriminator(cfg)
        D(G(torch.randn(4, cfg.z_dim), noise_mode="random")).mean().backward()
        for module in (G, D):
            missing = [n for n, p in module.named_parameters() if p.grad is None]
            assert not missing, f"{name}: no gradient for {missing}"


def test_channels_last_matches_contiguous():
    cfg = tiny("stylegan2")
    G, D = build_generator(cfg, seed=0), build_discriminator(cfg, seed=1)
    z = torch.randn(4, cfg.z_dim)
    ref = D(G(z))
    G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    torch.testing.assert_close(D(G(z)), ref, rtol=1e-4, atol=1e-4)


def test_bf16_autocast_tracks_w_avg_in_float32_and_stays_close_to_float32():
    """Under autocast (bf16 on a CPU or a GPU) the mapping MLP returns bf16; w_avg's EMA and the
    truncation must not mix dtypes, and the picture must stay the float32 picture within bf16's
    precision, with the full-size activations kept in bf16 (no float32 round trips)."""
    cfg = tiny("stylegan2")
    G, D = build_generator(cfg, seed=0), build_discriminator(cfg, seed=1)
    z = torch.randn(8, cfg.z_dim)
    ref = G(z, noise_mode="const")
    G.train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ws = G.mapping(z, truncation_psi=0.7, update_w_avg=True)
        img = G.synthesis(ws)
        logits = D(img.float())
    assert ws.dtype == G.w_avg.dtype == torch.float32 and torch.count_nonzero(G.w_avg) > 0
    assert torch.isfinite(logits).all()
    G.w_avg.zero_()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        img = G(z, noise_mode="const")
    err = (img.float() - ref).abs()  # bf16 keeps 8 bits: ~0.4% per layer
    assert err.mean() < 0.02 * ref.abs().mean() and err.max() < 0.1 * ref.abs().max()
    x = torch.randn(2, 16, 8, 8, dtype=torch.bfloat16)  # a bf16 activation meets float32 styles and noise
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = modulated_conv2d(x, torch.randn(16, 16, 3, 3), torch.rand(2, 16) + 0.5, add=torch.randn(1, 1, 8, 8))
    assert out.dtype == torch.bfloat16


def test_dcgan_64_is_the_pytorch_example():
    G, D = build_generator(presets.dcgan_64()), build_discriminator(presets.dcgan_64())
    g_maps = [m.out_channels for m in G.net if isinstance(m, torch.nn.ConvTranspose2d)]
    d_maps = [m.out_channels for m in D.net if isinstance(m, torch.nn.Conv2d)]
    assert g_maps == [512, 256, 128, 64, 3]
    assert d_maps == [64, 128, 256, 512, 1]
    assert count_params(G) == 3_576_704 and count_params(D) == 2_765_568
    bn = [m for m in D.net if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bn) == 3  # none after the input layer
    g128 = build_generator(presets.dcgan_128())
    assert [m.out_channels for m in g128.net if isinstance(m, torch.nn.ConvTranspose2d)] == [
        1024, 512, 256, 128, 64, 3]


def test_modulated_conv_equals_per_sample_weights():
    """The non-fused form must equal StyleGAN2's definition with per-sample weights."""
    x, w, s = torch.randn(3, 5, 8, 8), torch.randn(4, 5, 3, 3), torch.randn(3, 5)
    out = modulated_conv2d(x, w, s, demodulate=True)
    for n in range(3):
        wn = w * s[n].reshape(1, 5, 1, 1)
        wn = wn * (wn.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8).rsqrt()
        ref = torch.nn.functional.conv2d(x[n:n + 1], wn, padding=1)
        torch.testing.assert_close(out[n:n + 1], ref, rtol=1e-4, atol=1e-5)


def test_transposed_upconv_equals_bilinear_then_conv_in_the_interior():
    x, w = torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3)
    fast = modulated_conv2d(x, w, torch.ones(2, 3), demodulate=False, up=True)
    slow = torch.nn.functional.conv2d(upsample2x(x), w.flip(2, 3), padding=1)
    torch.testing.assert_close(fast[..., 2:-2, 2:-2], slow[..., 2:-2, 2:-2], rtol=1e-4, atol=1e-4)
    assert blur_upsampled(torch.ones(1, 1, 9, 9))[0, 0, 2:-2, 2:-2].allclose(torch.tensor(1.0))


def test_minibatch_stddev():
    x = torch.randn(6, 4, 4, 4)
    y = minibatch_stddev(x, group_size=4)  # 6 % 4 != 0 -> falls back to groups of 3
    assert y.shape == (6, 5, 4, 4)
    torch.testing.assert_close(y[:, :4], x)
    same = minibatch_stddev(torch.ones(4, 4, 4, 4), group_size=2)
    assert same[:, 4].abs().max() < 1e-3


def test_default_d_measures_variety_over_groups_of_eight():
    """The CPU default's D takes the stddev over 8 samples of its batch of 16 (samples i, i+2,
    ..., i+14): a group of 8 identical fakes reads as no variety even when the other group varies."""
    cfg = presets.stylegan2_cpu_64()
    assert cfg.mbstd_group == 8
    x = torch.randn(16, 4, 4, 4)
    x[0::2] = x[0]  # one group collapsed to a single image
    y = minibatch_stddev(x, group_size=cfg.mbstd_group)[:, 4]
    assert y[0::2].abs().max() < 1e-3 and y[1::2].min() > 0.5


def test_config_json_round_trip_and_unknown_key():
    for make in (presets.dcgan_64, presets.dcgan_128, presets.stylegan2_cpu_64, presets.stylegan2_256,
                 presets.stylegan2_1024, presets.fastgan_cpu_64):
        cfg = make()
        assert ModelConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    data = presets.stylegan2_cpu_64().to_dict() | {"g_chanel_max": 64}
    with pytest.raises(ValueError, match="g_chanel_max"):
        ModelConfig.from_dict(data)
    with pytest.raises(InvalidModelConfig, match="resolution"):
        ModelConfig(resolution=48)
    with pytest.raises(InvalidModelConfig, match="w_dim"):
        ModelConfig(name="dcgan", z_dim=100, w_dim=128)
    with pytest.raises(InvalidModelConfig, match="unknown model"):
        build_generator(ModelConfig(name="biggan"))


def test_channel_rule():
    cfg = presets.stylegan2_cpu_64()
    assert [cfg.g_channels_at(r) for r in cfg.block_resolutions] == [128, 128, 64, 32, 16]
    assert cfg.top == "light" and cfg.conv_resolutions == [4, 8, 16, 32]  # the default has no 64 px layers


def test_flop_counts():
    cfg = tiny("stylegan2")
    G, D = build_generator(cfg), build_discriminator(cfg)
    fwd = count_flops(G, torch.randn(2, cfg.z_dim))
    assert fwd > 0
    step = train_step_flops_per_image(G, D, cfg)
    assert step["total"] == step["d_step"] + step["g_step"]
    # one G step + one D step is roughly 4 G forwards and 9 D forwards (backward ~ 2x forward)
    approx = 4 * step["g_forward"] + 9 * step["d_forward"]
    assert 0.7 * approx < step["total"] < 1.3 * approx
    assert all(p.grad is None for p in G.parameters())  # counting touched copies only
    shared = train_step_flops_per_image(G, D, cfg, shared_fakes=True)
    assert shared["total"] == step["total"] - step["g_forward"]  # one G forward a step, not two
    dc = presets.dcgan_64()
    total = train_step_flops_per_image(build_generator(dc), build_discriminator(dc), dc)["total"]
    assert 2.3e9 < total < 2.7e9  # DESIGN.md: ~2.5 GFLOP per real image


def test_pair_step_flop_counts():
    cfg = presets.pix2pix(32, ngf=8, ndf=8)
    G, D = build_generator(cfg), build_discriminator(cfg)
    g_fwd = count_flops(G, torch.randn(1, 3, 32, 32))
    d_fwd = count_flops(D, torch.randn(1, 6, 32, 32))
    one = pair_step_flops_per_image(G, D, 32)
    assert pair_step_flops_per_image(G, D, 32, g_forwards=2) == one + g_fwd  # the paper's second G forward
    # G forward and backward (about 3 G forwards), D on three pairs with their backward passes
    # (7 to 9 D forwards: a backward costs up to twice its forward)
    assert 3 * g_fwd + 7 * d_fwd < one <= 3 * g_fwd + 9 * d_fwd
    assert all(p.grad is None for p in G.parameters())  # counting touched copies only


def test_noise_max_res_limits_noise_inputs_to_coarse_layers():
    cfg = tiny("stylegan2", 64).replace(noise_max_res=16)
    G = build_generator(cfg, seed=0)
    from belamy.generate.latents import noise_buffers

    sizes = sorted({t.shape[-1] for t in noise_buffers(G).values()})
    assert sizes == [4, 8, 16]  # no noise at 32 and 64 px
    assert build_generator(tiny("stylegan2", 64), seed=0).synthesis.blocks[-1].conv1.use_noise
    for m in G.modules():
        if hasattr(m, "strength"):
            m.strength.data.fill_(1.0)  # learned from 0: make the noise visible
    ws = G.mapping(torch.randn(2, cfg.z_dim))
    a = G.synthesis(ws, noise_mode="random", generator=torch.Generator().manual_seed(1))
    b = G.synthesis(ws, noise_mode="random", generator=torch.Generator().manual_seed(2))
    assert not torch.equal(a, b)  # the coarse layers still draw noise
    with pytest.raises(InvalidModelConfig, match="noise_max_res"):
        tiny("stylegan2").replace(noise_max_res=-1)


def test_light_top_runs_no_convolution_at_full_resolution():
    cfg = tiny("stylegan2", 64).replace(top="light-s2d")
    G, D = build_generator(cfg, seed=0), build_discriminator(cfg)
    conv_sides = []

    def record(module, inputs, output):
        conv_sides.append(inputs[0].shape[-1])

    for m in [*G.modules(), *D.modules()]:
        if hasattr(m, "weight") and getattr(m, "weight").ndim == 4:
            m.register_forward_hook(record)
    img = G(torch.randn(3, cfg.z_dim))
    logits = D(img)
    assert img.shape == (3, 3, 64, 64) and logits.shape == (3,)
    assert conv_sides and max(conv_sides) == 32  # every conv (incl. toRGB / fromRGB) reads R/2 or below
    # the top layer adds real detail at full resolution, beyond upsampling the R/2 image
    x, low, w_idx = None, None, 0
    ws = G.mapping(torch.randn(3, cfg.z_dim))
    for block in G.synthesis.blocks:
        x, low = block(x, low, ws[:, w_idx:w_idx + block.num_ws], "const", None)
        w_idx += block.num_conv
    detail = G.synthesis(ws) - upsample2x(low)
    assert detail.shape[-1] == 64 and detail.abs().amax() > 1e-3
    # D sees every pixel: changing one pixel changes its logit
    probe = img.detach().clone()
    before = D(probe)
    probe[0, 1, 63, 63] += 1.0
    assert not torch.allclose(D(probe)[0], before[0])
    from belamy.generate.latents import layer_resolutions, style_layers

    assert G.num_ws == 8 and layer_resolutions(G.num_ws, 64) == [4, 8, 8, 16, 16, 32, 32, 64]
    assert style_layers("fine", G.num_ws, 64) == (7, 8)  # the last w draws the 64 px detail
    full = tiny("stylegan2", 64)
    assert cfg.conv_resolutions == full.conv_resolutions[:-1] and 64 not in cfg.conv_resolutions
    with pytest.raises(InvalidModelConfig, match="top"):
        full.replace(top="yes")


def test_d_stem_conv_reads_overlapping_windows():
    """Space-to-depth + 1x1 gives each R/2 feature one 2x2 block; the 4x4 stride-2 stem overlaps."""
    img = torch.randn(2, 3, 64, 64)
    poked = img.clone()
    poked[:, :, 10, 10] += 1.0  # in 2x2 block (5, 5), and in 4x4 windows 4 and 5 of each axis

    def touched(cfg: ModelConfig) -> list[tuple[int, int]]:
        D = build_discriminator(cfg, seed=0)
        stem = (lambda x: D.from_rgb(F.pixel_unshuffle(x, 2))) if D.unshuffle else D.from_rgb
        with torch.no_grad():
            diff = (stem(poked) - stem(img)).abs().amax(dim=(0, 1))  # (32, 32)
        return [tuple(ix) for ix in (diff > 0).nonzero().tolist()]

    light = tiny("stylegan2", 64).replace(top="light-s2d")
    assert touched(light) == [(5, 5)]
    assert touched(light.replace(top="light")) == [(4, 4), (4, 5), (5, 4), (5, 5)]
    D = build_discriminator(light.replace(top="light"), seed=0)
    assert D(img).shape == (2,) and D.from_rgb.weight.shape[1:] == (3, 4, 4)
    with pytest.raises(ValueError, match="input/stride"):  # an even kernel at stride 1 would shift
        EqualConv2d(3, 4, 4)
    with pytest.raises(InvalidModelConfig, match="top"):
        light.replace(top=1)
    with pytest.raises(TypeError):  # one choice: a stem conv without a light top cannot be asked for
        tiny("stylegan2", 64).replace(d_stem_conv=True)


def test_tanh_output_squashes_the_same_image_into_the_open_range():
    cfg = tiny("stylegan2", 32)
    plain = build_generator(cfg, seed=0)
    squashed = build_generator(cfg.replace(tanh_output=True), seed=0)
    squashed.load_state_dict(plain.state_dict())  # tanh adds no parameters: old weights load
    ws = plain.mapping(torch.randn(4, cfg.z_dim)) * 40.0  # far-out styles push pixels past [-1, 1]
    raw, img = plain.synthesis(ws), squashed.synthesis(ws)
    assert raw.abs().amax() > 1.5
    torch.testing.assert_close(img, torch.tanh(raw))
    assert img.abs().amax() <= 1.0
    with pytest.raises(InvalidModelConfig, match="tanh_output"):
        cfg.replace(tanh_output=1)
    default = presets.stylegan2_cpu_64()
    assert default.tanh_output  # the CPU default draws through tanh...
    old = {k: v for k, v in default.to_dict().items() if k != "tanh_output"}
    assert not ModelConfig.from_dict(old).tanh_output  # ...runs saved before the field keep their linear output


def test_configs_saved_with_the_three_top_booleans_read_as_one_choice():
    """Runs saved before `top` stored light_top / d_stem_conv / subpixel_top: they load as the
    network they built, and the dropped sub-pixel experiment is refused in one line."""
    base = {k: v for k, v in presets.stylegan2_cpu_64().to_dict().items() if k != "top"}
    assert ModelConfig.from_dict(base | {"light_top": True, "d_stem_conv": True}).top == "light"
    assert ModelConfig.from_dict(base | {"light_top": True, "d_stem_conv": False}).top == "light-s2d"
    assert ModelConfig.from_dict(base | {"light_top": False, "d_stem_conv": False}).top == "full"
    with pytest.raises(InvalidModelConfig, match="subpixel_top"):
        ModelConfig.from_dict(base | {"light_top": True, "subpixel_top": True})


def test_fields_are_validated_from_their_types():
    with pytest.raises(InvalidModelConfig, match="mbstd_group=-1 must be at least 0"):
        presets.stylegan2_cpu_64().replace(mbstd_group=-1)
    with pytest.raises(InvalidModelConfig, match="use_noise=1 must be true or false"):
        presets.stylegan2_cpu_64().replace(use_noise=1)
    with pytest.raises(InvalidModelConfig, match="z_dim=2.5 must be an integer"):
        presets.stylegan2_cpu_64().replace(z_dim=2.5)
    assert ModelConfig.from_dict(presets.stylegan2_cpu_64().to_dict() | {"mapping_lr_mult": 1}).mapping_lr_mult == 1.0
