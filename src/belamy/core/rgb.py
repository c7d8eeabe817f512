"""The one check of an image array that a stage is about to paint on or encode."""

from __future__ import annotations

import numpy as np

from belamy.core.errors import BelamyError


def check_rgb8(arr: np.ndarray, doing: str) -> np.ndarray:
    """`arr` as an (H, W, 3) uint8 array, or one line saying what it is instead (`doing`: "sign", ...)."""
    arr = np.asarray(arr)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise BelamyError(f"can only {doing} an (H, W, 3) uint8 RGB image, got shape {arr.shape} {arr.dtype}: "
                          "convert it to 8-bit RGB first")
    return arr
