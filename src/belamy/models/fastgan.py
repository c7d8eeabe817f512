"""A FastGAN-style model (Liu et al. 2021, "Towards Faster and Stabilized GAN Training for
High-fidelity Few-shot Image Synthesis") with StyleGAN's mapping network, so that truncation,
style mixing and projection work on it as on the default.

Kept from FastGAN: a narrow generator whose up-blocks gate with GLUs (each conv makes twice the
maps and a gated linear unit halves them), per-pixel noise, skip-layer excitation (the features
of a coarse block, pooled to 4x4, gate the channels of a fine block, so layout steers detail
through a short path), tanh output; a discriminator with spectral norm on every weight, down
blocks that average a strided 4x4 path with a pooled 1x1 path, a second branch that judges the
image at half resolution, and patch logits.

Changed, and why: G's BatchNorm is replaced by StyleGAN2 weight modulation and demodulation from
w (BatchNorm ties a render to its batch mates, and mixing needs a style per layer), so
`num_ws` = 1 (the 4x4 input) + 2 per up-block + 1 toRGB; the 4x4 input is a learned constant as
in StyleGAN2. D has no BatchNorm (spectral norm already bounds it, and one image's logit should
not depend on its batch) and no self-supervised decoders (their perceptual loss needs pretrained
VGG weights that cannot be downloaded here); the patch logits of both branches are averaged to
one logit per image. Both nets train at the default's learning rates (see `sn_conv`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from belamy.models.config import ModelConfig
from belamy.models.layers import (
    LRELU_GAIN,
    EqualLinear,
    ModulatedConv,
    ToRGB,
    check_synthesis_inputs,
)
from belamy.models.stylegan2 import StyleGAN2Generator

D_SLOPE = 0.2  # FastGAN's leaky ReLU slope in D


def excitation_source(res: int) -> int | None:
    """The coarse resolution whose features gate block `res` (FastGAN: 8 -> 128, 16 -> 256,
    i.e. 16x finer), at least 4x4; blocks under 32 px are not gated."""
    return max(4, res // 16) if res >= 32 else None


class SkipExcitation(nn.Module):
    """(N, Cs, s, s) coarse, (N, Cb, S, S) fine -> fine x channel gates from the coarse map.

    FastGAN's SLE: adaptive-pool the coarse map to 4x4, a 4x4 conv with no padding (a linear
    layer on the 16 pooled pixels), leaky ReLU, a 1x1 conv, sigmoid.
    """

    def __init__(self, small_channels: int, big_channels: int) -> None:
        super().__init__()
        self.squeeze = EqualLinear(small_channels * 16, small_channels, activation="lrelu")
        self.excite = EqualLinear(small_channels, big_channels, input_gain=LRELU_GAIN)

    def forward(self, small: torch.Tensor, big: torch.Tensor) -> torch.Tensor:
        pooled = F.adaptive_avg_pool2d(small, 4).flatten(1)  # (N, Cs*16)
        gates = torch.sigmoid(self.excite(self.squeeze(pooled)))  # (N, Cb)
        return big * gates.to(big.dtype)[:, :, None, None]


class UpBlock(nn.Module):
    """(N, Cin, r/2, r/2) -> (N, C, r, r): a modulated up-conv and a conv, each gated by a GLU."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int,
                 use_noise: bool) -> None:
        super().__init__()
        self.conv0 = ModulatedConv(in_channels, out_channels, w_dim, resolution, up=True,
                                   use_noise=use_noise, glu=True)
        self.conv1 = ModulatedConv(out_channels, out_channels, w_dim, resolution,
                                   use_noise=use_noise, glu=True)

    def forward(self, x: torch.Tensor, ws: torch.Tensor, noise_mode: str,
                generator: torch.Generator | None) -> torch.Tensor:
        x = self.conv0(x, ws[:, 0], noise_mode, generator)
        return self.conv1(x, ws[:, 1], noise_mode, generator)


class FastGANSynthesis(nn.Module):
    """ws (N, num_ws, w_dim) -> image (N, img_channels, R, R) in (-1, 1)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.w_dim, self.resolution = cfg.w_dim, cfg.resolution
        resolutions = cfg.conv_resolutions  # 4 .. R (or R/2 with a light top)
        self.const = nn.Parameter(torch.randn(cfg.g_channels_at(4), 4, 4))
        self.conv4 = ModulatedConv(cfg.g_channels_at(4), cfg.g_channels_at(4), cfg.w_dim, 4,
                                   use_noise=cfg.noise_at(4), glu=True)
        self.blocks = nn.ModuleDict({
            str(res): UpBlock(cfg.g_channels_at(res // 2), cfg.g_channels_at(res), cfg.w_dim, res, cfg.noise_at(res))
            for res in resolutions[1:]
        })
        self.excite = nn.ModuleDict({
            str(res): SkipExcitation(cfg.g_channels_at(src), cfg.g_channels_at(res))
            for res in resolutions[1:] if (src := excitation_source(res)) is not None
        })
        top = resolutions[-1]
        # A light top draws R from the R/2 features with a modulated up-conv, as stylegan2's does.
        self.torgb = ToRGB(cfg.g_channels_at(top), cfg.img_channels, cfg.w_dim, up=cfg.light_top)
        self.num_ws = 1 + 2 * len(self.blocks) + 1

    def forward(self, ws: torch.Tensor, noise_mode: str = "const",
                generator: torch.Generator | None = None) -> torch.Tensor:
        check_synthesis_inputs(ws, self.num_ws, self.w_dim, noise_mode)
        x = self.const.unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)  # (N, C4, 4, 4)
        x = self.conv4(x, ws[:, 0], noise_mode, generator)
        feats = {4: x}
        for i, (key, block) in enumerate(self.blocks.items()):
            res = int(key)
            x = block(x, ws[:, 1 + 2 * i:3 + 2 * i], noise_mode, generator)  # (N, C, res, res)
            if key in self.excite:
                x = self.excite[key](feats[excitation_source(res)], x)
            feats[res] = x
        return torch.tanh(self.torgb(x, ws[:, -1]))  # (N, 3, R, R)


class FastGANGenerator(StyleGAN2Generator):
    """z -> w (StyleGAN2's mapping MLP, tracked w_avg, truncation) -> ws -> FastGAN-style synthesis."""

    synthesis_network = FastGANSynthesis


def sn_conv(in_channels: int, out_channels: int, kernel: int, stride: int = 1, padding: int = 0,
            bias: bool = True) -> nn.Module:
    """A spectrally normalised conv whose weights start N(0, 1): spectral norm makes their scale
    irrelevant to the output, and at unit scale Adam's step is the same fraction of each weight
    as in the equalized-lr layers, so D trains at the default's learning rate."""
    conv = nn.Conv2d(in_channels, out_channels, kernel, stride, padding, bias=bias)
    nn.init.normal_(conv.weight)
    if bias:
        nn.init.zeros_(conv.bias)
    return spectral_norm(conv)


class DownBlock(nn.Module):
    """(N, Cin, r, r) -> (N, Cout, r/2, r/2): FastGAN's DownBlockComp, the mean of a strided 4x4
    conv + 3x3 conv path and a 2x2 average-pool + 1x1 conv path, BatchNorm after each conv."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            sn_conv(in_channels, out_channels, 4, 2, 1, bias=False), nn.BatchNorm2d(out_channels), nn.LeakyReLU(D_SLOPE),
            sn_conv(out_channels, out_channels, 3, 1, 1, bias=False), nn.BatchNorm2d(out_channels), nn.LeakyReLU(D_SLOPE))
        self.direct = nn.Sequential(nn.AvgPool2d(2), sn_conv(in_channels, out_channels, 1, bias=False),
                                    nn.BatchNorm2d(out_channels), nn.LeakyReLU(D_SLOPE))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.main(x) + self.direct(x)) / 2


class Branch(nn.Module):
    """An image at `res` -> (N, 25) patch logits: a 4x4 stride-2 stem, down blocks to 8x8, an
    excitation of the 8x8 features by the stem's, a 1x1 conv and a 4x4 conv with no padding."""

    def __init__(self, cfg: ModelConfig, res: int) -> None:
        super().__init__()
        c = cfg.d_channels_at
        self.stem = nn.Sequential(sn_conv(cfg.img_channels, c(res // 2), 4, 2, 1), nn.LeakyReLU(D_SLOPE))
        sides = [res // 2 >> i for i in range((res // 16).bit_length() - 1)]  # res/2, res/4, ..., 16
        self.down = nn.Sequential(*[DownBlock(c(r), c(r // 2)) for r in sides])
        self.excite = SkipExcitation(c(res // 2), c(8)) if res // 2 > 8 else None
        self.head = nn.Sequential(sn_conv(c(8), c(8), 1), nn.LeakyReLU(D_SLOPE), sn_conv(c(8), 1, 4))

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        stem = self.stem(img)  # (N, C, res/2, res/2)
        x = self.down(stem)  # (N, C8, 8, 8)
        if self.excite is not None:
            x = self.excite(stem, x)
        return self.head(x).flatten(1)  # (N, 25)


class FastGANDiscriminator(nn.Module):
    """img (N, 3, R, R) -> logits (N,): the mean patch logit of a full-resolution branch and a
    half-resolution branch (FastGAN's D judges the image at two sizes; the coarse one sees the
    layout with fewer layers in the way)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.resolution = cfg.resolution
        self.big = Branch(cfg, cfg.resolution)
        self.small = Branch(cfg, cfg.resolution // 2)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        small = F.avg_pool2d(img, 2)  # (N, 3, R/2, R/2)
        return torch.cat([self.big(img), self.small(small)], dim=1).mean(dim=1)  # (N,)


__all__ = ["FastGANGenerator", "FastGANDiscriminator", "FastGANSynthesis", "SkipExcitation",
           "excitation_source"]
