"""The interface every generator shares, so sampling, truncation, mixing and projection treat all alike.

A generator has `z_dim`, `w_dim`, `num_ws`, a buffer `w_avg`, and two halves:
`mapping(z, truncation_psi, truncation_cutoff, update_w_avg) -> ws (N, num_ws, w_dim)` and
`synthesis(ws, noise_mode, generator) -> img (N, 3, R, R)`. `forward` is their composition.
"""

from __future__ import annotations

import torch
from torch import nn


class Generator(nn.Module):
    z_dim: int
    w_dim: int
    num_ws: int

    def forward(self, z: torch.Tensor, truncation_psi: float = 1.0, noise_mode: str = "const",
                generator: torch.Generator | None = None, truncation_cutoff: int | None = None,
                update_w_avg: bool = False) -> torch.Tensor:
        ws = self.mapping(z, truncation_psi, truncation_cutoff, update_w_avg)  # (N, num_ws, w_dim)
        return self.synthesis(ws, noise_mode=noise_mode, generator=generator)  # (N, 3, R, R)
