"""pix2pix (Isola et al. 2017): a U-Net generator from a condition image to an image, and a
PatchGAN discriminator that judges (condition, image) pairs patch by patch.

Widths follow the house rule `min(channel_base // res, channel_max)` at each encoder resolution.
Differences from the paper, on purpose:
- InstanceNorm (affine) instead of BatchNorm at batch 1: the same statistics, and a render does
  not depend on its batch mates, so a record re-renders it exactly.
- Dropout (0.5, the paper's noise source) only while training: `translate` is deterministic.
- D returns every patch's logit, (N, P); the losses average over patches, as the paper's does.
"""

from __future__ import annotations

import torch
from torch import nn

from belamy.models.config import ModelConfig


def _norm(ch: int) -> nn.Module:
    return nn.InstanceNorm2d(ch, affine=True)


class _Down(nn.Module):
    """LeakyReLU -> 4x4 stride-2 conv -> norm: (N, cin, r, r) -> (N, cout, r/2, r/2)."""

    def __init__(self, cin: int, cout: int, norm: bool, act: bool) -> None:
        super().__init__()
        self.act = nn.LeakyReLU(0.2) if act else nn.Identity()
        self.conv = nn.Conv2d(cin, cout, 4, 2, 1, bias=not norm)
        self.norm = _norm(cout) if norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(self.act(x)))


class _Up(nn.Module):
    """ReLU -> 4x4 stride-2 transposed conv -> norm -> dropout: (N, cin, r, r) -> (N, cout, 2r, 2r)."""

    def __init__(self, cin: int, cout: int, norm: bool, dropout: float) -> None:
        super().__init__()
        self.act = nn.ReLU()
        self.conv = nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=not norm)
        self.norm = _norm(cout) if norm else nn.Identity()
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.norm(self.conv(self.act(x))))


class UNetGenerator(nn.Module):
    """Condition (N, cond_channels, R, R) in [-1, 1] -> image (N, img_channels, R, R) in [-1, 1].

    The encoder halves the resolution down to 1x1; the decoder doubles it back, each level
    concatenating the encoder features of its resolution (the skips carry the condition's layout).
    """

    z_dim = 0  # no latent: the trainer draws empty latents, and sampling by seed does not apply

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.resolution = cfg.resolution
        res = [cfg.resolution // 2**i for i in range(1, cfg.log2_resolution + 1)]  # R/2 .. 1
        widths = [cfg.g_channels_at(r) for r in res]
        self.down = nn.ModuleList()
        cin = cfg.cond_channels
        for i, w in enumerate(widths):
            innermost = i == len(widths) - 1
            self.down.append(_Down(cin, w, norm=0 < i and not innermost, act=i > 0))
            cin = w
        self.up = nn.ModuleList()
        for i in range(len(widths) - 1, 0, -1):  # from 1x1 up to R/2
            cin_up = widths[i] if i == len(widths) - 1 else 2 * widths[i]
            dropout = cfg.dropout if i >= len(widths) - 3 else 0.0  # the three innermost, as the paper
            self.up.append(_Up(cin_up, widths[i - 1], norm=True, dropout=dropout))
        self.to_img = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(2 * widths[0], cfg.img_channels, 4, 2, 1), nn.Tanh())

    def forward(self, cond: torch.Tensor) -> torch.Tensor:
        skips = []
        x = cond
        for block in self.down:
            x = block(x)
            skips.append(x)  # (N, w_i, R/2^(i+1), ...)
        x = skips.pop()
        for block in self.up:
            x = torch.cat([block(x), skips.pop()], dim=1)
        return self.to_img(x)  # (N, C, R, R)


class PatchDiscriminator(nn.Module):
    """(condition, image) pairs (N, cond_channels + img_channels, R, R) -> patch logits (N, P).

    `patch_layers` strided convs then two stride-1 convs: 3 layers give the paper's 70x70 patches.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        cin = cfg.cond_channels + cfg.img_channels
        layers: list[nn.Module] = []
        r = cfg.resolution
        for i in range(cfg.patch_layers):
            r //= 2
            w = cfg.d_channels_at(r)
            layers += [nn.Conv2d(cin, w, 4, 2, 1, bias=i == 0), *([_norm(w)] if i else []), nn.LeakyReLU(0.2)]
            cin = w
        w = cfg.d_channels_at(max(r // 2, 1))
        layers += [nn.Conv2d(cin, w, 4, 1, 1, bias=False), _norm(w), nn.LeakyReLU(0.2), nn.Conv2d(w, 1, 4, 1, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, pair: torch.Tensor) -> torch.Tensor:
        return self.net(pair).flatten(1)  # (N, P)


def init_weights(module: nn.Module) -> nn.Module:
    """The paper's initialisation: N(0, 0.02) convolutions, N(1, 0.02) norm scales."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.InstanceNorm2d) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return module


def pix2pix_generator(cfg: ModelConfig) -> UNetGenerator:
    return init_weights(UNetGenerator(cfg))


def pix2pix_discriminator(cfg: ModelConfig) -> PatchDiscriminator:
    return init_weights(PatchDiscriminator(cfg))
