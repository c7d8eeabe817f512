"""What one training step works on, and what its phases may use of the trainer.

The phases (`phases.py`) see the trainer only through `StepContext`, so they depend on this small
module and not on the loop that drives them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import torch

from belamy.core.seeds import mix
from belamy.training.config import TrainConfig
from belamy.training.distributed import Env

PURPOSES = {"z_d": 1, "z_g": 2, "noise_d": 3, "noise_g": 4, "aug_d_real": 5, "aug_d_fake": 6, "aug_r1": 7, "aug_g": 8,
            "dropout": 9,
            "degrade": 10}


def purpose_seed(seed: int, purpose: str) -> int:
    """The seed of one random draw of a step (its latents, noise or augmentation)."""
    return mix(seed, PURPOSES[purpose])


@dataclass
class StepInput:
    """What one training iteration works on: this rank's reals and latents, and seeded generators."""

    real: torch.Tensor  # (B_rank, 3, R, R) in [-1, 1]
    z_d: torch.Tensor  # (B_rank, z_dim)
    z_g: torch.Tensor
    seed: int
    device: torch.device
    batch: int  # the global batch of this step (all ranks)
    fake: torch.Tensor | None = None  # the G phase's fakes once made (`phases.g_fake`), G's graph kept
    images: int = 0  # images shown before this step (global): a phase may start after some
    low: torch.Tensor | None = None  # super-resolution: the degraded copies of `real`, once made

    def gen(self, purpose: str) -> torch.Generator:
        return torch.Generator(device=self.device).manual_seed(purpose_seed(self.seed, purpose))


class StepContext(Protocol):
    """The trainer as the phases see it."""

    cfg: TrainConfig
    env: Env
    G: torch.nn.Module
    D: torch.nn.Module
    d_loss: Callable[..., torch.Tensor]
    g_loss: Callable[..., torch.Tensor]

    def augment(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor: ...

    def observe_real_logits(self, logits: torch.Tensor) -> None: ...
