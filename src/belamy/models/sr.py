"""Super-resolution networks: a compact SRVGG-style generator (the default), ESRGAN's RRDB
generator, and a U-Net discriminator with spectral norm, after Real-ESRGAN (Wang et al. 2021).

A generator maps a low-res image (N, C, h, w) in [-1, 1] to (N, C, h*s, w*s); `scale` s is 2 or
4 and `ModelConfig.resolution` is the high-res training patch. Widths: `g_channel_max` maps in G
(`sr_blocks` convs for SRVGG, RRDB blocks for RRDB), `d_channel_max` maps at the top of D.
Both generators are fully convolutional, so `refine.upscale` can tile any image through them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from belamy.models.config import ModelConfig

SR_MODELS = ("srvgg", "rrdb")


class SRVGG(nn.Module):
    """Plain 3x3 convs with PReLU at the low resolution, then one pixel shuffle; the network
    learns the residual over a nearest-neighbour upscale. Everything runs at h x w, so it is
    the fastest design per output pixel on a CPU (Real-ESRGAN's compact model)."""

    z_dim = 0  # no latent: a translation of its input

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        f, c, s = cfg.g_channel_max, cfg.img_channels, cfg.scale
        self.scale = s
        layers: list[nn.Module] = [nn.Conv2d(c, f, 3, 1, 1), nn.PReLU(f)]
        for _ in range(cfg.sr_blocks):
            layers += [nn.Conv2d(f, f, 3, 1, 1), nn.PReLU(f)]
        layers += [nn.Conv2d(f, c * s * s, 3, 1, 1), nn.PixelShuffle(s)]
        self.body = nn.Sequential(*layers)

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        # (N, C, h, w) -> (N, C, h*s, w*s)
        return self.body(lr) + F.interpolate(lr, scale_factor=self.scale, mode="nearest")


class _DenseBlock(nn.Module):
    """Five 3x3 convs, each seeing all earlier features (growth `g`); output scaled by 0.2 and added."""

    def __init__(self, f: int, g: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(f + i * g, g if i < 4 else f, 3, 1, 1) for i in range(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for i, conv in enumerate(self.convs):
            y = conv(torch.cat(feats, 1))
            if i < 4:
                feats.append(F.leaky_relu(y, 0.2))
        return x + 0.2 * y


class _RRDB(nn.Module):
    """Residual-in-residual dense block: three dense blocks, their sum scaled by 0.2 and added."""

    def __init__(self, f: int, g: int) -> None:
        super().__init__()
        self.blocks = nn.Sequential(_DenseBlock(f, g), _DenseBlock(f, g), _DenseBlock(f, g))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.2 * self.blocks(x)


class RRDBNet(nn.Module):
    """ESRGAN's generator: `sr_blocks` RRDBs at the low resolution, then nearest x2 + conv per
    octave of `scale`. Heavier and sharper than SRVGG (the paper's 23 blocks of 64 maps)."""

    z_dim = 0

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        f, c, s = cfg.g_channel_max, cfg.img_channels, cfg.scale
        self.scale = s
        g = max(f // 2, 1)
        self.head = nn.Conv2d(c, f, 3, 1, 1)
        self.body = nn.Sequential(*[_RRDB(f, g) for _ in range(cfg.sr_blocks)])
        self.body_out = nn.Conv2d(f, f, 3, 1, 1)
        self.ups = nn.ModuleList(nn.Conv2d(f, f, 3, 1, 1) for _ in range(s.bit_length() - 1))
        self.hr = nn.Conv2d(f, f, 3, 1, 1)
        self.out = nn.Conv2d(f, c, 3, 1, 1)

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        x = self.head(lr)  # (N, f, h, w)
        x = x + self.body_out(self.body(x))
        for up in self.ups:  # (N, f, h, w) -> (N, f, 2h, 2w), log2(s) times
            x = F.leaky_relu(up(F.interpolate(x, scale_factor=2, mode="nearest")), 0.2)
        return self.out(F.leaky_relu(self.hr(x), 0.2))  # (N, C, h*s, w*s)


class UNetDiscriminator(nn.Module):
    """Real-ESRGAN's discriminator: a U-Net with spectral norm giving one logit per pixel, so it
    judges local texture and global layout at once. (N, C, R, R) -> (N, R*R)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        f, c = cfg.d_channel_max, cfg.img_channels
        sn = spectral_norm
        self.in_conv = nn.Conv2d(c, f, 3, 1, 1)
        self.down = nn.ModuleList([sn(nn.Conv2d(f, 2 * f, 4, 2, 1, bias=False)),  # R/2
                                   sn(nn.Conv2d(2 * f, 4 * f, 4, 2, 1, bias=False)),  # R/4
                                   sn(nn.Conv2d(4 * f, 8 * f, 4, 2, 1, bias=False))])  # R/8
        self.up = nn.ModuleList([sn(nn.Conv2d(8 * f, 4 * f, 3, 1, 1, bias=False)),
                                 sn(nn.Conv2d(4 * f, 2 * f, 3, 1, 1, bias=False)),
                                 sn(nn.Conv2d(2 * f, f, 3, 1, 1, bias=False))])
        self.head = nn.Sequential(sn(nn.Conv2d(f, f, 3, 1, 1, bias=False)), nn.LeakyReLU(0.2),
                                  sn(nn.Conv2d(f, f, 3, 1, 1, bias=False)), nn.LeakyReLU(0.2),
                                  nn.Conv2d(f, 1, 3, 1, 1))

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.in_conv(img), 0.2)
        skips = [x]
        for conv in self.down:
            x = F.leaky_relu(conv(x), 0.2)
            skips.append(x)
        skips.pop()
        for conv in self.up:  # back up, adding the encoder's map of each size
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = F.leaky_relu(conv(x), 0.2) + skips.pop()
        return self.head(x).flatten(1)  # (N, R*R)


def srvgg_generator(cfg: ModelConfig) -> SRVGG:
    return SRVGG(cfg)


def rrdb_generator(cfg: ModelConfig) -> RRDBNet:
    net = RRDBNet(cfg)
    for m in net.body.modules():  # ESRGAN scales the residual branches' init down (x0.1): deep nets start near identity
        if isinstance(m, nn.Conv2d):
            m.weight.data.mul_(0.1)
    return net


def unet_discriminator(cfg: ModelConfig) -> UNetDiscriminator:
    return UNetDiscriminator(cfg)
