"""Seeds: every random thing in belamy is a function of explicit integers.

`mix` derives independent 63-bit seeds from (run seed, purpose, step, ...) so that the random
numbers of step 1000 do not depend on anything that happened before it: a resumed run, or a run on
four GPUs, draws exactly the same numbers as an uninterrupted single-process run.
"""

from __future__ import annotations

import torch

from belamy.core.errors import BelamyError

_MASK = 0xFFFFFFFFFFFFFFFF


def mix(*parts: int) -> int:
    """A stable 63-bit seed from several integers (a splitmix64-style hash)."""
    h = 0x9E3779B97F4A7C15
    for p in parts:
        h = (h ^ (int(p) & _MASK)) & _MASK
        h = (h + 0x9E3779B97F4A7C15) & _MASK
        z = h
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        h = z ^ (z >> 31)
    return h & 0x7FFFFFFFFFFFFFFF


def generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def parse_seeds(text: str) -> list[int]:
    """'0-63', '3,17,42' or '0-3,10' -> a list of seeds."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            if "-" in part[1:]:
                a, b = part.split("-", 1) if not part.startswith("-") else (part, "")
                lo, hi = int(a), int(b)
                if hi < lo:
                    raise ValueError
                seeds.extend(range(lo, hi + 1))
            else:
                seeds.append(int(part))
    except ValueError:
        raise BelamyError(f"--seeds '{text}' is not a seed list: use e.g. 0-63 or 3,17,42") from None
    if not seeds or any(s < 0 for s in seeds):
        raise BelamyError(f"--seeds '{text}' must name non-negative seeds, e.g. 0-63")
    return seeds


def z_from_seed(seed: int, z_dim: int) -> torch.Tensor:
    """The latent of a seed: drawn on the CPU in float32, so it is the same on every device."""
    return torch.randn(z_dim, generator=torch.Generator().manual_seed(seed))
