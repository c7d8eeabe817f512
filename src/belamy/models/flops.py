"""FLOP counting, so presets are sized by what they cost rather than by habit.

Counts come from `torch.utils.flop_counter.FlopCounterMode`: matrix multiplies and convolutions
(forward and backward), 2 FLOPs per multiply-add. Element-wise work (activations, normalisation,
noise, resampling) is not counted; it is memory-bound and small in FLOPs, but on a CPU it can
still cost real time, which is why benchmarks/model_speed.py measures images per second too.

Counting runs on a copy of the modules moved to the "meta" device: nothing is computed, so even
the 1024 px presets are counted in a second, and the caller's modules and RNG are untouched.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from belamy.models.config import ModelConfig


def _meta_copy(module: nn.Module) -> nn.Module:
    return copy.deepcopy(module).to("meta")


def _to_meta(x):
    return x.to("meta") if isinstance(x, torch.Tensor) else x


def count_flops(module: nn.Module, *inputs) -> int:
    """FLOPs of one forward pass of `module(*inputs)` (matmuls and convs, 2 per MAC)."""
    meta = _meta_copy(module)
    args = [_to_meta(x) for x in inputs]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        meta(*args)
    return int(counter.get_total_flops())


def train_step_flops_per_image(G: nn.Module, D: nn.Module, cfg: ModelConfig,
                               batch_size: int = 4, shared_fakes: bool = False) -> dict[str, int]:
    """FLOPs per real image of one D step plus one G step, forward and backward.

    Phases as the training loop runs them (same batch size of fakes as reals):
      D step: G forward without grad; D forward+backward on fakes and on reals.
      G step: G forward; D forward; backward through D (its weights frozen) into G.
    With `shared_fakes` (`TrainConfig.shared_fakes`) the D step reuses the G step's fakes, so its
    G forward is not counted.
    Backward is counted by autograd itself (about 2x the forward: input and weight gradients).
    Returns {"d_step", "g_step", "total", "g_forward", "d_forward"} per image; regularisation
    (R1, path length) and EMA are not included.
    """
    Gm, Dm = _meta_copy(G), _meta_copy(D)
    Gm.train()
    Dm.train()
    n, r = batch_size, cfg.resolution
    z = torch.randn(n, cfg.z_dim, device="meta")
    real = torch.randn(n, cfg.img_channels, r, r, device="meta")

    with torch.no_grad(), FlopCounterMode(display=False) as c:
        Gm(z, noise_mode="random")
    g_forward = c.get_total_flops()
    with torch.no_grad(), FlopCounterMode(display=False) as c:
        Dm(real)
    d_forward = c.get_total_flops()

    with torch.no_grad():
        fake = Gm(z, noise_mode="random")
    with FlopCounterMode(display=False) as c:
        loss = F.softplus(Dm(fake)).mean() + F.softplus(-Dm(real)).mean()
        loss.backward()
    d_step = c.get_total_flops() + (0 if shared_fakes else g_forward)

    for p in Dm.parameters():
        p.requires_grad_(False)
    with FlopCounterMode(display=False) as c:
        loss = F.softplus(-Dm(Gm(z, noise_mode="random"))).mean()
        loss.backward()
    g_step = c.get_total_flops()

    per = {"d_step": d_step, "g_step": g_step, "total": d_step + g_step,
           "g_forward": g_forward, "d_forward": d_forward}
    return {k: int(v) // n for k, v in per.items()}


def pair_step_flops_per_image(G: nn.Module, D: nn.Module, resolution: int, g_forwards: int = 1,
                              batch_size: int = 2) -> int:
    """FLOPs per pair of one pix2pix training step, forward and backward: D on a (condition, real)
    and a (condition, fake) pair; G's loss through D (its weights frozen) and L1 to the target,
    back into G. `g_forwards` counts G's forward passes a step: 1 with shared fakes (belamy's
    `g_pair`), 2 in the paper's loop, which runs G again for D."""
    Gm, Dm = _meta_copy(G).train(), _meta_copy(D).train()
    a, b = (torch.randn(batch_size, 3, resolution, resolution, device="meta") for _ in range(2))
    with FlopCounterMode(display=False) as c:
        fake = Gm(a)  # (B, 3, R, R)
        for _ in range(g_forwards - 1):
            with torch.no_grad():
                Gm(a)
        (Dm(torch.cat([a, fake.detach()], 1)).mean() + Dm(torch.cat([a, b], 1)).mean()).backward()
        for p in Dm.parameters():
            p.requires_grad_(False)
        (Dm(torch.cat([a, fake], 1)).mean() + (fake - b).abs().mean()).backward()
    return int(c.get_total_flops()) // batch_size


def count_params(module: nn.Module) -> int:
    """Trainable parameters (buffers such as noise constants and w_avg excluded)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


__all__ = ["count_flops", "count_params", "train_step_flops_per_image"]
