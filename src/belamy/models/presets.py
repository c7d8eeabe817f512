"""Model configurations the training presets are built from (the preset registry itself is
`belamy.training.presets`). Each returns a fresh `ModelConfig`; override fields with
`make().replace(field=value)`.

Sizes are chosen by FLOPs per training image, not by habit (docs/design.md, performance notes);
`benchmarks/model_speed.py` prints each one's parameters, GFLOP per image and images/s
(docs/benchmarks.md).
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
    """The default: a small StyleGAN2 at 64 px sized to train on a 2-core CPU (1.32 M parameters).

    - G widths 128/128/64/32 at 4..32 px: with width ~ 1/res each resolution costs about the same
      FLOPs, and the low resolutions, where composition is decided, are wide and nearly free. D is
      half as wide, since a training step runs D about 9 forward-equivalents per image and G 4.
    - Two mapping layers and w_dim 128: enough for collections of hundreds of images.
    - `top="light"`: no feature maps at 64 px, where narrow layers run far below the CPU's matmul
      rate; D reads the image through overlapping 4x4 windows (decisions 0009, 0020).
    - `tanh_output`: flat white or black is any large value, not exactly +-1 (0033).
    - `mbstd_group=8`: a less noisy estimate of a batch's variety for D (0035).
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


def stylegan2_cpu_128() -> ModelConfig:
    """The default's design at 128 px (`cpu-128`): every width moves up one octave with the image,
    so each level of the picture (layout at 1/16 of the side ... detail at 1/2) gets the maps it
    gets at 64 px, and nothing runs at 128 x 128 (1.5x the parameters)."""
    return stylegan2_cpu_64().replace(resolution=128, g_channel_base=2048, d_channel_base=1024)


def fastgan_cpu_64() -> ModelConfig:
    """The FastGAN-style model at 64 px for a CPU (`belamy.models.fastgan`): StyleGAN2's small
    mapping network, GLU up-blocks from 128 maps at 4 px to 24 at 32 px, a D of two branches;
    1.4 M parameters in all, the size of the reference in issue 32."""
    return stylegan2_cpu_64().replace(name="fastgan", g_channel_base=768, mbstd_group=0)


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


__all__ = ["dcgan", "dcgan_64", "dcgan_128", "fastgan_cpu_64", "stylegan2_cpu_128", "stylegan2_256", "stylegan2_1024", "stylegan2_cpu_64", "stylegan2_gpu"]


def pix2pix(resolution: int, ngf: int = 64, ndf: int = 64, patch_layers: int = 3) -> ModelConfig:
    """pix2pix as in the paper: `ngf`/`ndf` maps at R/2, doubling to at most 8x; PatchGAN of
    `patch_layers` strided layers (3: the 70x70 patches)."""
    return ModelConfig(name="pix2pix", resolution=resolution, g_channel_base=ngf * resolution // 2,
                       g_channel_max=ngf * 8, d_channel_base=ndf * resolution // 2, d_channel_max=ndf * 8,
                       patch_layers=patch_layers, use_noise=False, mbstd_group=0)


def srvgg(scale: int, patch: int, feat: int = 48, convs: int = 12, d_feat: int = 32) -> ModelConfig:
    """The compact SR model: `convs` 3x3 convs of `feat` maps at the low resolution (Real-ESRGAN's
    compact nets use 64 x 16-32); trained on `patch`-px high-res crops."""
    return ModelConfig(name="srvgg", resolution=patch, scale=scale, g_channel_max=feat, sr_blocks=convs,
                       d_channel_max=d_feat, use_noise=False, mbstd_group=0)


def rrdb(scale: int, patch: int, feat: int = 64, blocks: int = 23, d_feat: int = 64) -> ModelConfig:
    """ESRGAN's RRDB generator (the paper: 23 blocks of 64 maps, growth 32)."""
    return ModelConfig(name="rrdb", resolution=patch, scale=scale, g_channel_max=feat, sr_blocks=blocks,
                       d_channel_max=d_feat, use_noise=False, mbstd_group=0)
