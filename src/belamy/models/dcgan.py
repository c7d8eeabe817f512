"""DCGAN (Radford, Metz & Chintala 2015), as in the paper and the PyTorch DCGAN example.

G: z (100) -> 4x4 transposed conv -> stride-2 4x4 transposed convs halving the width and doubling
the resolution, BatchNorm + ReLU after each, Tanh on the output. D mirrors it: stride-2 4x4 convs,
LeakyReLU 0.2, BatchNorm on all but the first layer, no pooling, no fully-connected layers, a final
4x4 conv to one logit. Weights N(0, 0.02), BatchNorm gamma N(1, 0.02), no conv biases.

Widths follow `ModelConfig.{g,d}_channels_at(res)`; with the dcgan presets (`channel_base =
ngf * R // 2`) ngf=64 at 64 px gives the example's 512/256/128/64 maps, and 128 px adds one
block (1024 at 4x4), the variant popular for art. Other resolutions (32..256) add or drop blocks.

Differences from the paper, on purpose: D returns the logit (the sigmoid lives in the loss, which
is numerically safer and identical in value), and z is drawn N(0, 1) by the caller like every other
generator here (the PyTorch example does the same; the paper used U(-1, 1)).
"""

from __future__ import annotations

import torch
from torch import nn

from belamy.models.base import Generator
from belamy.models.config import ModelConfig
from belamy.models.layers import NOISE_MODES


def dcgan_init_(module: nn.Module) -> None:
    """The DCGAN initialisation: conv weights N(0, 0.02), BatchNorm gamma N(1, 0.02), beta 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class DCGANGenerator(Generator):
    """z (N, z_dim) -> image (N, 3, R, R) in [-1, 1].

    Exposes the same interface as `StyleGAN2Generator` so sampling code need not care: the
    "mapping" is the identity (ws = z as a single row, num_ws = 1, w_dim = z_dim), `w_avg` is a
    zero buffer (the mean of N(0, I)), so truncation psi scales z towards 0, and `synthesis`
    accepts and ignores the noise arguments (DCGAN has no noise inputs).

    BatchNorm makes outputs depend on the batch in training mode and on running statistics in
    eval mode; the PyTorch example always samples in training mode.
    """

    num_ws = 1

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.z_dim = self.w_dim = cfg.z_dim
        self.resolution, self.img_channels = cfg.resolution, cfg.img_channels
        ch = cfg.g_channels_at
        layers: list[nn.Module] = [
            # (N, z, 1, 1) -> (N, C4, 4, 4)
            nn.ConvTranspose2d(cfg.z_dim, ch(4), 4, 1, 0, bias=False),
            nn.BatchNorm2d(ch(4)),
            nn.ReLU(inplace=True),
        ]
        for res in cfg.block_resolutions[1:-1]:
            # (N, C_{res/2}, res/2, res/2) -> (N, C_res, res, res)
            layers += [
                nn.ConvTranspose2d(ch(res // 2), ch(res), 4, 2, 1, bias=False),
                nn.BatchNorm2d(ch(res)),
                nn.ReLU(inplace=True),
            ]
        # (N, C_{R/2}, R/2, R/2) -> (N, 3, R, R)
        layers += [
            nn.ConvTranspose2d(ch(cfg.resolution // 2), cfg.img_channels, 4, 2, 1, bias=False),
            nn.Tanh(),
        ]
        self.net = nn.Sequential(*layers)
        self.register_buffer("w_avg", torch.zeros(cfg.z_dim))
        dcgan_init_(self)

    def mapping(self, z: torch.Tensor, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None, update_w_avg: bool = False
                ) -> torch.Tensor:
        """z (N, z_dim) -> ws (N, 1, z_dim); truncation lerps towards w_avg (zeros).

        `truncation_cutoff` of 0 disables truncation, anything else keeps it (one layer);
        `update_w_avg` is accepted and ignored: the mean of z is known to be zero.
        """
        ws = z.unsqueeze(1)  # (N, 1, z_dim)
        if truncation_psi != 1.0 and (truncation_cutoff is None or truncation_cutoff > 0):
            ws = self.w_avg.lerp(ws, truncation_psi)
        return ws

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const",
                  generator: torch.Generator | None = None) -> torch.Tensor:
        """ws (N, 1, z_dim) -> image (N, 3, R, R); the noise arguments are ignored."""
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        if ws.ndim != 3 or ws.shape[1] != 1 or ws.shape[2] != self.z_dim:
            raise ValueError(f"ws must have shape (N, 1, {self.z_dim}), got {tuple(ws.shape)}")
        return self.net(ws.reshape(ws.shape[0], self.z_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    """image (N, 3, R, R) -> logits (N,). Strided convs, LeakyReLU 0.2, BatchNorm after the first.

    BatchNorm couples the samples of a batch: feed real and fake batches in separate calls, as the
    PyTorch example does, and mind that R1 on a BatchNorm D is not the per-sample penalty it is for
    StyleGAN2 (use it with care, or not at all, for DCGAN).
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.resolution = cfg.resolution
        ch = cfg.d_channels_at
        half = cfg.resolution // 2
        layers: list[nn.Module] = [
            # (N, 3, R, R) -> (N, C_{R/2}, R/2, R/2), no BatchNorm on the input layer
            nn.Conv2d(cfg.img_channels, ch(half), 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        for res in reversed(cfg.block_resolutions[:-2]):
            # (N, C_{2res}, 2res, 2res) -> (N, C_res, res, res)
            layers += [
                nn.Conv2d(ch(res * 2), ch(res), 4, 2, 1, bias=False),
                nn.BatchNorm2d(ch(res)),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        # (N, C_4, 4, 4) -> (N, 1, 1, 1)
        layers.append(nn.Conv2d(ch(4), 1, 4, 1, 0, bias=False))
        self.net = nn.Sequential(*layers)
        dcgan_init_(self)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return self.net(img).reshape(img.shape[0])  # (N,)


__all__ = ["DCGANGenerator", "DCGANDiscriminator", "dcgan_init_"]
