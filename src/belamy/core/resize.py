"""Resizing uint8 images the one way belamy does: area averaging down, bilinear up, rounded back.

Training resizes its collection with it, and whatever compares images with the collection
(evaluation, the mirror check) resizes them the same way, so they see the same pixels.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def resize_uint8(x: torch.Tensor, resolution: int) -> torch.Tensor:
    """(N, 3, S, S) uint8 -> (N, 3, R, R) uint8, area-downsampled (or bilinear-upsampled) in chunks,
    keeping memory bounded."""
    out = []
    mode = "area" if x.shape[-1] > resolution else "bilinear"
    for chunk in x.split(256):
        y = F.interpolate(chunk.float(), size=(resolution, resolution), mode=mode,
                          **({} if mode == "area" else {"align_corners": False}))
        out.append(y.round_().clamp_(0, 255).to(torch.uint8))
    return torch.cat(out)


def at_resolution(images: np.ndarray, resolution: int) -> np.ndarray:
    """(N, S, S, 3) uint8 -> (N, R, R, 3) uint8, resized as training resizes the collection."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)
    if x.shape[-1] != resolution:
        x = resize_uint8(x, resolution)
    return x.permute(0, 2, 3, 1).contiguous().numpy()
