"""Image-to-image similarity without downloaded weights: PSNR, SSIM, multi-scale SSIM and a
Laplacian-pyramid L1 distance.

Projection needs a loss that cares about structure (edges, shapes at several scales), not just
pixel colours; LPIPS would need a downloaded VGG. SSIM (Wang et al. 2004) compares local means,
contrasts and correlations; averaged over a pyramid of scales (a simplified MS-SSIM, Wang et al.
2003) it sees both features and composition. The Laplacian-pyramid L1 (as used by Bojanowski et
al. 2018 to fit latents of GLO models) weights each frequency band equally, so fine detail is not
drowned by flat areas. All functions take (N, C, H, W) tensors in [0, 1] and are differentiable.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image, for images in [0, 1]: (N,)."""
    mse = (a.float() - b.float()).square().flatten(1).mean(1).clamp_min(1e-10)
    return 10.0 * torch.log10(1.0 / mse)


def _gauss(win: int, sigma: float, channels: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    x = torch.arange(win, device=device, dtype=dtype) - (win - 1) / 2
    g = torch.exp(-x.square() / (2 * sigma * sigma))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, win, win).contiguous()  # (C, 1, win, win)


def ssim(a: torch.Tensor, b: torch.Tensor, win: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Mean structural similarity per image, (N,), with a Gaussian window (valid positions only).

    The window shrinks for images smaller than it, so tiny test renders still get a number.
    """
    c = a.shape[1]
    win = min(win, a.shape[-1], a.shape[-2])
    k = _gauss(win, sigma * win / 11 if win < 11 else sigma, c, a.device, a.dtype)
    c1, c2 = 0.01 ** 2, 0.03 ** 2

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, k, groups=c)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a.square()
    var_b = blur(b * b) - mu_b.square()
    cov = blur(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a.square() + mu_b.square() + c1) * (var_a + var_b + c2))
    return s.flatten(1).mean(1)


def multiscale_ssim(a: torch.Tensor, b: torch.Tensor, min_size: int = 16, win: int = 7) -> torch.Tensor:
    """SSIM averaged over 2x-downsampled scales down to `min_size` px: (N,)."""
    scores = []
    while True:
        scores.append(ssim(a, b, win=win))
        if min(a.shape[-2:]) // 2 < min_size:
            break
        a, b = F.avg_pool2d(a, 2), F.avg_pool2d(b, 2)
    return torch.stack(scores).mean(0)


def laplacian_pyramid(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Band-pass images (fine to coarse) plus the low-pass residual: `levels` + 1 tensors."""
    out = []
    for _ in range(levels):
        low = F.avg_pool2d(x, 2)
        out.append(x - F.interpolate(low, scale_factor=2.0, mode="bilinear", align_corners=False))
        x = low
    out.append(x)
    return out


def laplacian_l1(a: torch.Tensor, b: torch.Tensor, min_size: int = 4) -> torch.Tensor:
    """Sum over pyramid levels of the mean L1 difference: (N,).

    Bojanowski et al.'s Lap1 (sum_j 2^(2j) |L_j(a) - L_j(b)|_1) up to a constant: level j has 4^-j
    as many pixels, so their weights make every octave's *mean* difference count the same.
    """
    levels = max(0, int(math.log2(min(a.shape[-2:]) / min_size)))
    total = torch.zeros(a.shape[0], device=a.device, dtype=a.dtype)
    for pa, pb in zip(laplacian_pyramid(a, levels), laplacian_pyramid(b, levels)):
        total = total + (pa - pb).abs().flatten(1).mean(1)
    return total
