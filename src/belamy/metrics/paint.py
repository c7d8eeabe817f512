"""How a painted layer relates to its sources: structure kept from the portrait, colours taken
from the photo. Used by the brush layer's tests and benchmark."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from belamy.core.similarity import ssim


def luma(rgb: np.ndarray, side: int = 64) -> np.ndarray:
    """Rec. 709 luminance in [0, 1] at side x side (box-averaged): the layout, not the detail."""
    small = np.asarray(Image.fromarray(rgb).resize((side, side), Image.Resampling.BOX), np.float64) / 255
    return small @ np.array([0.2126, 0.7152, 0.0722])


def structure_kept(result: np.ndarray, portrait: np.ndarray, side: int = 64) -> float:
    """SSIM of the two images' luminance at `side` px."""
    a, b = (torch.from_numpy(luma(x, side)).float()[None, None] for x in (result, portrait))
    return float(ssim(a, b)[0])


def palette_distance(pixels: np.ndarray, photo: np.ndarray, n: int = 20000, ref: int = 4096) -> float:
    """Mean RGB distance (0-255) from `n` of the pixels to the nearest of `ref` of the photo's pixels."""
    rng = np.random.default_rng(0)
    refs = photo.reshape(-1, 3).astype(np.float32)
    refs = refs[rng.choice(len(refs), min(ref, len(refs)), replace=False)]
    px = pixels.reshape(-1, 3).astype(np.float32)
    px = px[rng.choice(len(px), min(n, len(px)), replace=False)]
    out = []
    for chunk in np.array_split(px, max(1, len(px) // 2000)):
        d = (chunk * chunk).sum(1)[:, None] - 2 * chunk @ refs.T + (refs * refs).sum(1)
        out.append(np.sqrt(np.maximum(d.min(1), 0)))
    return float(np.concatenate(out).mean())
