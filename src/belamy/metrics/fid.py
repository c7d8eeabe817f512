"""Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017, "GANs
Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium").

    FD = |mu_r - mu_f|^2 + tr(S_r) + tr(S_f) - 2 tr((S_r^1/2 S_f S_r^1/2)^1/2)

The trace term is computed from symmetric eigen-decompositions in float64 (S_r^1/2 by `eigh`,
then the eigenvalues of the symmetric PSD matrix S_r^1/2 S_f S_r^1/2), which equals
tr(sqrtm(S_r S_f)) but never goes complex or NaN on the singular covariances that small sets
give (fewer images than feature dimensions). FID is biased upward for small N: compare values
at the same N only; KID is the small-sample measure.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from belamy.errors import BelamyError


def gaussian_stats(feats: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) features -> mean (D,) and unbiased covariance (D, D), float64."""
    x = feats.double().cpu().numpy()
    if x.shape[0] < 2:
        raise BelamyError(f"FID needs at least 2 images per set, got {x.shape[0]}")
    return x.mean(axis=0), np.cov(x, rowvar=False)


def _sqrt_psd(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    r = _sqrt_psd(s1)
    cross = np.linalg.eigvalsh(r @ s2 @ r)  # symmetric PSD: real, >= 0 up to rounding
    trace_sqrt = np.sqrt(np.clip(cross, 0, None)).sum()
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt)


def fid(real: Tensor, fake: Tensor) -> float:
    """Fréchet distance between real (N, D) and fake (M, D) features."""
    return frechet_distance(*gaussian_stats(real), *gaussian_stats(fake))
