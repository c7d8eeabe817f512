"""The EMA generator (Karras et al. 2018): a moving average of G's weights that samples better."""

from __future__ import annotations

import torch


def ema_beta(batch: int, images_seen: int, ema_kimg: float, rampup: float) -> float:
    """Decay per step for a half-life of `ema_kimg` thousand images, ramped up early in training."""
    if ema_kimg <= 0:
        return 0.0
    ema_nimg = ema_kimg * 1000.0
    if rampup > 0:
        ema_nimg = min(ema_nimg, images_seen * rampup)
    return 0.5 ** (batch / max(ema_nimg, 1e-8))


@torch.no_grad()
def update_ema(g_ema: torch.nn.Module, g: torch.nn.Module, beta: float) -> None:
    """g_ema <- beta * g_ema + (1 - beta) * g for the parameters, buffers copied; one fused
    (foreach) call per kind instead of a Python loop over every small tensor."""
    params, buffers = list(g_ema.parameters()), list(g_ema.buffers())
    if params:  # foreach ops refuse empty lists
        torch._foreach_lerp_(params, list(g.parameters()), 1.0 - beta)
    if buffers:
        torch._foreach_copy_(buffers, list(g.buffers()))
