"""A compact StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the Image Quality of
StyleGAN"), the default model: config-e generator with skip (toRGB-sum) outputs and a residual
discriminator, in plain PyTorch.

Kept from the paper: mapping MLP with pixel-norm and lr multiplier 0.01, tracked w_avg for the
truncation trick, learned 4x4 constant input, weight modulation + demodulation, per-layer noise,
skip-architecture generator, residual discriminator with minibatch-stddev, equalized learning rate
everywhere, transposed-conv + [1,3,3,1] blur upsampling. Changed for speed on small machines,
computing the same functions: the modulated conv is the non-fused form (one dense conv per layer
instead of a batch-grouped conv, see `layers.modulated_conv2d`), activation gains are folded into
the next layer's weights, and element-wise ops run in place where autograd allows. Changed in
substance: D downsamples with a 2x2 box filter instead of [1,3,3,1] (cheaper, still
anti-aliased), the mapping depth is a config field (2 layers in the CPU preset, 8 on GPU), and
`top="light"` (CPU preset) drops the feature maps at the top resolution: G draws it with a
modulated up-conv to RGB, D starts with a 4x4 stride-2 conv (or, with "light-s2d", with
space-to-depth and a 1x1 conv). `tanh_output` (CPU preset) squashes G's image with tanh as DCGAN does, so
the flat white of a drawing is any large value instead of exactly 1.0.
Widths follow `ModelConfig.{g,d}_channels_at`, so tiny CPU presets are just configs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from belamy.models.base import Generator
from belamy.models.config import ModelConfig
from belamy.models.layers import (
    LRELU_GAIN,
    EqualConv2d,
    EqualLinear,
    ModulatedConv,
    ToRGB,
    check_synthesis_inputs,
    minibatch_stddev,
    pixel_norm,
    upsample2x,
)

SQRT_HALF = math.sqrt(0.5)

W_AVG_BETA = 0.995  # EMA decay of the tracked mean w (StyleGAN2's w_avg_beta)


class MappingNetwork(nn.Module):
    """z (N, z_dim) -> w (N, w_dim): pixel-norm, then an MLP with a 0.01 learning-rate multiplier.

    The low lr multiplier keeps the mapping slow relative to synthesis, which StyleGAN found
    stabilises training; a few layers suffice for small collections.
    """

    def __init__(self, z_dim: int, w_dim: int, num_layers: int, lr_mult: float) -> None:
        super().__init__()
        dims = [z_dim] + [w_dim] * num_layers
        self.layers = nn.Sequential(*[
            EqualLinear(dims[i], dims[i + 1], lr_mult=lr_mult, activation="lrelu",
                        input_gain=1.0 if i == 0 else LRELU_GAIN)
            for i in range(num_layers)
        ])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # (N, z_dim) -> (N, w_dim); the last lrelu's gain is applied here (w is tiny).
        return self.layers(pixel_norm(z)) * LRELU_GAIN


class SynthesisBlock(nn.Module):
    """One resolution of the synthesis network.

    At 4x4: learned constant -> conv -> toRGB. Above: up-conv -> conv -> toRGB, and the image so
    far is bilinearly upsampled and the new toRGB output added (skip architecture), so every
    resolution contributes directly to the final picture.
    """

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int,
                 img_channels: int, use_noise: bool) -> None:
        super().__init__()
        self.resolution = resolution
        if resolution == 4:
            self.const = nn.Parameter(torch.randn(out_channels, 4, 4))
            self.conv0 = None
        else:
            self.conv0 = ModulatedConv(in_channels, out_channels, w_dim, resolution, up=True,
                                       use_noise=use_noise, input_gain=LRELU_GAIN)
        # The const input has unit variance and no activation gain to fold; convs after a lrelu do.
        self.conv1 = ModulatedConv(out_channels, out_channels, w_dim, resolution,
                                   use_noise=use_noise,
                                   input_gain=1.0 if resolution == 4 else LRELU_GAIN)
        self.torgb = ToRGB(out_channels, img_channels, w_dim, input_gain=LRELU_GAIN)
        self.num_conv = 1 if resolution == 4 else 2
        self.num_ws = self.num_conv + 1  # toRGB shares its w with the next block's first conv

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None, ws: torch.Tensor,
                noise_mode: str, generator: torch.Generator | None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        # ws: (N, num_ws, w_dim) for this block; x: (N, Cin, res/2, res/2) or None at 4x4
        w_iter = iter(ws.unbind(dim=1))
        if self.conv0 is None:
            x = self.const.unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)  # (N, C, 4, 4)
        else:
            x = self.conv0(x, next(w_iter), noise_mode, generator)  # (N, C, res, res)
        x = self.conv1(x, next(w_iter), noise_mode, generator)  # (N, C, res, res)
        y = self.torgb(x, next(w_iter))  # (N, 3, res, res)
        img = y if img is None else upsample2x(img) + y
        return x, img


class SynthesisNetwork(nn.Module):
    """ws (N, num_ws, w_dim) -> image (N, img_channels, R, R), roughly in [-1, 1] (inside it with
    `tanh_output`)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.w_dim = cfg.w_dim
        self.resolution = cfg.resolution
        blocks = []
        for res in cfg.conv_resolutions:
            cin = cfg.g_channels_at(res // 2) if res > 4 else 0
            blocks.append(SynthesisBlock(cin, cfg.g_channels_at(res), cfg.w_dim, res,
                                         cfg.img_channels, cfg.noise_at(res)))
        self.blocks = nn.ModuleList(blocks)
        self.num_ws = sum(b.num_conv for b in blocks) + 1
        # light_top: the top resolution has no feature maps; its RGB comes straight from the
        # R/2 features through a 3x3 modulated up-conv (transposed conv + [1,3,3,1] blur, i.e.
        # bilinear-upsample-then-3x3-conv to 3 channels), added to the upsampled image as any
        # toRGB is. Nothing wide runs at R x R, where narrow layers are slowest on a CPU.
        self.top_rgb = ToRGB(cfg.g_channels_at(self.resolution // 2), cfg.img_channels, cfg.w_dim,
                             input_gain=LRELU_GAIN, up=True) if cfg.light_top else None
        self.tanh_output = cfg.tanh_output

    def forward(self, ws: torch.Tensor, noise_mode: str = "const",
                generator: torch.Generator | None = None) -> torch.Tensor:
        check_synthesis_inputs(ws, self.num_ws, self.w_dim, noise_mode)
        x = img = None
        w_idx = 0
        for block in self.blocks:
            x, img = block(x, img, ws[:, w_idx:w_idx + block.num_ws], noise_mode, generator)
            w_idx += block.num_conv
        if self.top_rgb is not None:  # (N, 3, R/2, R/2) -> (N, 3, R, R)
            img = upsample2x(img) + self.top_rgb(x, ws[:, -1])
        if self.tanh_output:  # renders clip to [-1, 1] but D judges raw values: saturate instead
            img = torch.tanh(img)
        return img  # (N, 3, R, R)


class StyleGAN2Generator(Generator):
    """z -> w (mapping) -> image (synthesis); see module docstring.

    Interface shared with `DCGANGenerator` so sampling, truncation, style mixing and projection
    code treats every generator alike: `z_dim`, `w_dim`, `num_ws`, buffer `w_avg`,
    `mapping(z, ...) -> ws (N, num_ws, w_dim)`, `synthesis(ws, noise_mode, generator) -> img`.
    """

    synthesis_network = SynthesisNetwork  # ws -> image; another architecture may bring its own (fastgan)

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.z_dim, self.w_dim = cfg.z_dim, cfg.w_dim
        self.resolution, self.img_channels = cfg.resolution, cfg.img_channels
        self.mapping_net = MappingNetwork(cfg.z_dim, cfg.w_dim, cfg.mapping_layers,
                                          cfg.mapping_lr_mult)
        self.synthesis = self.synthesis_network(cfg)
        self.num_ws = self.synthesis.num_ws
        self.register_buffer("w_avg", torch.zeros(cfg.w_dim))

    def mapping(self, z: torch.Tensor, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None, update_w_avg: bool = False
                ) -> torch.Tensor:
        """z (N, z_dim) -> ws (N, num_ws, w_dim).

        `update_w_avg` (honoured only in training mode) moves `w_avg` towards this batch's mean w
        with decay 0.995; the training loop sets it on its G steps so truncation has a centre.
        Truncation pulls the first `truncation_cutoff` layers (all when None) towards `w_avg`:
        psi=1 is no truncation, psi=0 gives the average image for every z.
        """
        # (N, w_dim), in w_avg's precision: under autocast the MLP returns bf16/fp16, and the
        # tracked mean and truncation must not mix dtypes (nor lose precision in the EMA).
        w = self.mapping_net(z).to(self.w_avg.dtype)
        if update_w_avg and self.training:
            with torch.no_grad():
                self.w_avg.copy_(w.detach().mean(dim=0).lerp(self.w_avg, W_AVG_BETA))
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)  # (N, num_ws, w_dim)
        if truncation_psi != 1.0:
            cutoff = self.num_ws if truncation_cutoff is None else truncation_cutoff
            ws[:, :cutoff] = self.w_avg.lerp(ws[:, :cutoff], truncation_psi)
        return ws


class DiscriminatorBlock(nn.Module):
    """Residual block: conv -> down-conv, plus a 1x1 down skip, summed with 1/sqrt(2).

    Gains are folded into weights (see `layers` docstring): the input arrives `input_gain` times
    too small, the convs' leaky ReLUs return without their sqrt(2), and the 1/sqrt(2) of the sum
    is taken by the skip's weights, so the block ends in one addition and returns the exact
    StyleGAN2 activation (gain 1).
    """

    def __init__(self, in_channels: int, out_channels: int, input_gain: float) -> None:
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3, activation="lrelu",
                                 input_gain=input_gain)
        self.conv1 = EqualConv2d(in_channels, out_channels, 3, activation="lrelu", down=True,
                                 input_gain=LRELU_GAIN)
        # (sqrt2 * conv1 + skip) * sqrt(1/2) = conv1_without_gain + skip * sqrt(1/2)
        self.skip = EqualConv2d(in_channels, out_channels, 1, bias=False, down=True,
                                input_gain=input_gain * SQRT_HALF)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (N, Cin, res, res) -> (N, Cout, res/2, res/2)
        y = self.skip(x)  # a fresh tensor, not needed by backward: add in place
        return y.add_(self.conv1(self.conv0(x)))


class StyleGAN2Discriminator(nn.Module):
    """Residual discriminator: fromRGB, one block per resolution down to 4x4, then an epilogue
    (minibatch-stddev, conv, fully-connected, linear logit). img (N,3,R,R) -> logits (N,)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.resolution = cfg.resolution
        self.mbstd_group, self.mbstd_channels = cfg.mbstd_group, cfg.mbstd_channels
        # light_top: no convolution at R x R. Either space-to-depth first (a lossless 2x2
        # pixel-to-channel reshape, so every pixel is seen, as 4x the channels at R/2) and a 1x1
        # fromRGB, which is a 2x2 stride-2 conv: each R/2 feature sees one 2x2 block, so a pattern
        # looks different to D one pixel to the side ("light-s2d"); or ("light") a 4x4 stride-2 fromRGB,
        # whose windows overlap.
        self.unshuffle = cfg.light_top and not cfg.d_stem_conv
        resolutions = cfg.conv_resolutions
        top = cfg.d_channels_at(resolutions[-1])
        if cfg.d_stem_conv:
            self.from_rgb = EqualConv2d(cfg.img_channels, top, 4, activation="lrelu", stride=2)
        else:
            in_channels = cfg.img_channels * (4 if self.unshuffle else 1)
            self.from_rgb = EqualConv2d(in_channels, top, 1, activation="lrelu")
        self.blocks = nn.Sequential(*[
            DiscriminatorBlock(cfg.d_channels_at(res), cfg.d_channels_at(res // 2),
                               input_gain=LRELU_GAIN if res == resolutions[-1] else 1.0)
            for res in reversed(resolutions[1:])
        ])
        c4 = cfg.d_channels_at(4)
        extra = cfg.mbstd_channels if cfg.mbstd_group > 0 else 0
        if extra and c4 % cfg.mbstd_channels:
            raise ValueError(f"d_channels_at(4)={c4} must be divisible by mbstd_channels")
        self.conv = EqualConv2d(c4 + extra, c4, 3, activation="lrelu")
        self.fc = EqualLinear(c4 * 16, c4, activation="lrelu", input_gain=LRELU_GAIN)
        self.out = EqualLinear(c4, 1, input_gain=LRELU_GAIN)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        if self.unshuffle:
            img = F.pixel_unshuffle(img, 2)  # (N, 12, R/2, R/2)
        x = self.from_rgb(img)  # (N, C_T, T, T) with T = R (R/2 with light_top), without its lrelu gain
        x = self.blocks(x)  # (N, C_4, 4, 4)
        if self.mbstd_group > 0:
            x = minibatch_stddev(x, self.mbstd_group, self.mbstd_channels)  # (N, C_4+1, 4, 4)
        x = self.conv(x)  # (N, C_4, 4, 4)
        x = self.fc(x.flatten(1))  # (N, C_4)
        return self.out(x).squeeze(1)  # (N,)


__all__ = ["StyleGAN2Generator", "StyleGAN2Discriminator", "MappingNetwork",
           "SynthesisNetwork", "W_AVG_BETA"]
