"""Is a collection the same distribution as its mirror image? Then x-flips are fair augmentation.

Flipping the reals at random teaches G the collection with half its images turned round. For
faces and scenes that is more of the same; for a collection whose figures mostly face one way
it is a different layout, and a perfect G of it still scores far from the collection at the
coarse SWD level (docs/decisions/0040). `flip_ratio` measures that directly: the coarsest SWD
level of half B mirrored against half A, over that of half B as it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from belamy.core.resize import at_resolution
from belamy.metrics.swd import swd

FLIP_TOLERANCE = 1.5  # x-flips stay on while the mirrored half scores within this of the half itself
MAX_IMAGES = 512  # a seeded subset of larger collections is enough
SIDE = 64  # compared at 64 px (the coarse level is the question)
MIN_HALF = 8  # fewer images a half say nothing: keep the flips


def flip_ratio(images: Any, seed: int = 0) -> float | None:
    """images (N, S, S, 3) uint8 (a memory map is fine) -> coarsest-level SWD of half B mirrored
    against half A over that of B as it is; None when the collection is too small to tell."""
    n = len(images)
    if n < 2 * MIN_HALF:
        return None
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(n, min(n, MAX_IMAGES), replace=False))
    x = np.asarray(images[pick])
    if x.shape[1] > SIDE:
        x = at_resolution(x, SIDE)  # (M, 64, 64, 3)
    order = rng.permutation(len(x))
    half = len(x) // 2
    a, b = x[order[:half]], x[order[half:2 * half]]
    as_is = swd(a, b, seed=seed)
    mirrored = swd(a, np.ascontiguousarray(b[:, :, ::-1]), seed=seed)
    coarse = [k for k in as_is if k != "mean"][-1]
    return float(mirrored[coarse] / max(as_is[coarse], 1e-9))


def flips_fit(images: Any, seed: int = 0) -> tuple[bool, float | None]:
    """(whether to flip the reals at random, the ratio it was decided by)."""
    ratio = flip_ratio(images, seed)
    return (ratio is None or ratio <= FLIP_TOLERANCE), ratio
