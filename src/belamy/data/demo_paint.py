"""A procedural stand-in for a photograph of body paint, for the brush layer's demo and tests.

Smeared fields of vivid paint, streaks and grain, depending only on (seed, size): no
third-party photograph is needed to show or test `belamy brush`.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

PAINTS = np.array([[20, 60, 200], [250, 140, 20], [230, 30, 120], [250, 220, 40], [20, 170, 150],
                   [120, 40, 170], [240, 240, 230]], np.float32)


def render_paint_photo(seed: int = 0, size: int = 512) -> np.ndarray:
    """(size, size, 3) uint8: five of the paints, smeared, with streaks and grain."""
    rng = np.random.default_rng(seed)

    def field(rows: int, cols: int, h: int = size, w: int = size) -> np.ndarray:
        small = rng.random((rows, cols)).astype(np.float32)
        return np.asarray(Image.fromarray(small, "F").resize((w, h), Image.Resampling.BICUBIC))

    pick = rng.choice(len(PAINTS), 5, replace=False)
    weights = np.exp(np.stack([field(5, 5) + 0.35 * field(30, 6) for _ in pick], -1) * 9)
    rgb = (weights / weights.sum(-1, keepdims=True)) @ PAINTS[pick]
    streaks = field(2 * size // 3, 12, 2 * size) - 0.5
    shift = (field(3, 4) * size * 0.6).astype(int)
    streaks = streaks[np.arange(size)[:, None] + shift, np.arange(size)[None, :]]
    shade = 1 + 0.6 * streaks + 0.06 * rng.normal(0, 1, (size, size)).astype(np.float32)
    return np.clip(rgb * shade[..., None], 0, 255).astype(np.uint8)
