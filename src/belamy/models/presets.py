"""Model configurations the training presets are built from (the preset registry itself is
`belamy.training.presets`). Each returns a fresh `ModelConfig`; override fields with
`make().replace(field=value)`.

Sizes are chosen by FLOPs per training image, not by habit (see DESIGN.md, performance notes).
Figures below are from `benchmarks/model_speed.py`: parameters of G / D; GFLOP for one D step and
one G step per real image, forward + backward, as counted by `belamy.models.flops`; and, for the
CPU presets, training images/s on the 2-core development machine (batch 32, Adam, DiffAugment,
no R1, channels_last, 2 threads, median of alternating runs on a shared machine).

    preset              G params   D params   GFLOP/img   img/s (2-core CPU)
    dcgan_64              3.58 M     2.77 M        2.48     ~37
    dcgan_128            12.79 M    11.16 M       13.15     -
    stylegan2_cpu_64      0.75 M     0.57 M        0.58     ~92
    stylegan2_256        24.77 M    24.00 M       366       GPU
    stylegan2_1024       24.90 M    24.04 M       548       GPU
"""

from __future__ import annotations

from belamy.models.config import ModelConfig


def dcgan(resolution: int = 64, ngf: int = 64, ndf: int = 64, z_dim: int = 100) -> ModelConfig:
    """DCGAN at any supported resolution; `ngf`/`ndf` are the widths at R/2 as in the paper."""
    half = resolution // 2
    return ModelConfig(
        name="dcgan",
        resolution=resolution,
        z_dim=z_dim,
        w_dim=z_dim,
        g_channel_base=ngf * half,
        g_channel_max=ngf * 16,  # only bites above 128 px, where 4x4 would need 32*ngf maps
        d_channel_base=ndf * half,
        d_channel_max=ndf * 16,
        use_noise=False,
        mbstd_group=0,
    )


def dcgan_64() -> ModelConfig:
    """The PyTorch DCGAN example: 64 px, ngf=ndf=64 (G 512/256/128/64 maps)."""
    return dcgan(64)


def dcgan_128() -> ModelConfig:
    """The 128 px DCGAN popular for art: one more block each side (G 1024/.../64 maps)."""
    return dcgan(128)


def stylegan2_cpu_64() -> ModelConfig:
    """The default: a small StyleGAN2 at 64 px sized to train on a 2-core CPU.

    G widths 128/128/64/32 at 4..32 px: with width ~ 1/res every resolution costs the same
    FLOPs, and the wide low resolutions (where composition is decided) are nearly free. D is half
    as wide (128..16) because one training iteration runs D about 9 forward-equivalents per image
    and G about 4. Two mapping layers and w_dim 128 suffice for collections of hundreds of
    images. `light_top`: no feature maps at 64 px (G draws the 64 px RGB from its 32 px features
    with one modulated up-conv, D reads the image straight into 32 px features), because the
    16- and 8-channel 64 px layers ran at ~20% of the CPU's matmul rate and took the largest
    share of the step: 1.6x the images/s (train_speed.py: 52.9 -> 83.6), and at equal idle CPU
    time (5 minutes, demo, seeds 0/1) SWD 81/88 and KID 35/33 x1e3 instead of 102/109 and
    100/84 with them (`quality.py`).
    Wider layers run closer to peak but lose at equal time (G and D x2: SWD 144/179).
    `d_stem_conv`: D reads the 64 px image with a 4x4 stride-2 conv instead of a space-to-depth
    reshape and a 1x1 conv (a 2x2 stride-2 conv, whose blocks make a pattern look different one
    pixel to the side); the overlapping windows cost 1.2% more FLOPs (3-6% slower: a 3-channel conv) and,
    after 5 idle minutes, scored SWD 80 instead of 101 on clipart and about the same on the demo
    (77 vs 75; medians of 5 seeds; `quality.py`, README "The overlapping D stem").
    `tanh_output`: G's image passes through tanh, as DCGAN's does. Without it G has to hold a
    white background at exactly 1.0 (D knows no real pixel is brighter), and about half of it
    lands just below (251-254 when rendered): a faint speckle over the flat colours of drawings,
    which the finest SWD level counts like a blur. With tanh, white is any large value. Clipart
    (seeds 0-1) after 5 idle minutes: SWD 53/47 instead of 73/81; the renders' flat regions are
    as flat as the drawings' (README "A tanh output").
    `mbstd_group=8`: D's minibatch-stddev feature, its one view of how varied a batch is, is
    taken over groups of 8 images instead of StyleGAN's 4 (two groups per batch of 16). Tried
    because the clipart renders were as real-looking as the drawings but less varied (precision
    0.75-0.81 against 0.84, recall 0.47-0.59 against 0.82), and a stddev over 4 samples is a noisy
    estimate. Clipart after 30 idle minutes: SWD 27.2 instead of 32.0 (medians of 5 seeds; 1.45x
    the floor, within the 1.5x target). The demo lost there (26.5 against 23.5, 1.27x, still within).
    Same parameters and FLOPs (README "A wider minibatch-stddev group").
    1.32 M parameters in all, 0.585 GFLOP per training image.
    """
    return ModelConfig(
        name="stylegan2",
        resolution=64,
        z_dim=128,
        w_dim=128,
        mapping_layers=2,
        g_channel_base=1024,
        g_channel_max=128,
        d_channel_base=512,
        d_channel_max=128,
        use_noise=True,
        top="light",
        tanh_output=True,
        mbstd_group=8,
    )


def stylegan2_gpu(resolution: int) -> ModelConfig:
    """StyleGAN2 for a GPU: config-e widths (16384/res, capped at 512 from 32 px), 8 mapping layers.

    Config-e is the paper's width; config-f doubles `g/d_channel_base` to 32768 for more quality
    at 4x the FLOPs of every layer below the 512 cap.
    """
    return ModelConfig(
        name="stylegan2",
        resolution=resolution,
        z_dim=512,
        w_dim=512,
        mapping_layers=8,
        g_channel_base=16384,
        g_channel_max=512,
        d_channel_base=16384,
        d_channel_max=512,
        use_noise=True,
        mbstd_group=4,
    )


def stylegan2_256() -> ModelConfig:
    """StyleGAN2 at 256 px (portraits on one GPU)."""
    return stylegan2_gpu(256)


def stylegan2_1024() -> ModelConfig:
    """StyleGAN2 at 1024 px (16 maps at 1024 px ... 512 at 32 px; many GPUs)."""
    return stylegan2_gpu(1024)


__all__ = ["dcgan", "dcgan_64", "dcgan_128", "stylegan2_256", "stylegan2_1024", "stylegan2_cpu_64", "stylegan2_gpu"]
