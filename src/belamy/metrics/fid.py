"""Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017, "GANs
Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium").

    FD = |mu_r - mu_f|^2 + tr(S_r) + tr(S_f) - 2 tr((S_r^1/2 S_f S_r^1/2)^1/2)

The trace term is computed without `sqrtm` (which goes complex or NaN on the singular
covariances that small sets give), in whichever of two exact forms is cheaper, in float64:
- features space (D <= images): eigenvalues of the symmetric PSD matrix S_r^1/2 S_f S_r^1/2,
  with S_r^1/2 from `eigh`;
- image space (fewer images than dimensions, e.g. 500 renders in 2048-d): with centred data
  matrices X_r (N, D), X_f (M, D), the eigenvalues of S_r S_f are the squared singular values of
  X_f X_r^T / sqrt((N-1)(M-1)), so the trace term is that (M, N) matrix's nuclear norm — an
  (M, N) SVD instead of (D, D) eigen-decompositions (seconds become milliseconds).
FID is biased upward for small N: compare values at the same N only; KID is the small-sample
measure.
"""

from __future__ import annotations

import numpy as np
from torch import Tensor

from belamy.core.errors import BelamyError


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
    n, m, d = real.shape[0], fake.shape[0], real.shape[1]
    if min(n, m) >= d:
        return frechet_distance(*gaussian_stats(real), *gaussian_stats(fake))
    if min(n, m) < 2:
        raise BelamyError(f"FID needs at least 2 images per set, got {min(n, m)}")
    xr, xf = real.double().cpu().numpy(), fake.double().cpu().numpy()
    mu_r, mu_f = xr.mean(axis=0), xf.mean(axis=0)
    xr, xf = xr - mu_r, xf - mu_f
    trace_sqrt = np.linalg.svd(xf @ xr.T, compute_uv=False).sum() / np.sqrt((n - 1) * (m - 1))
    traces = (xr**2).sum() / (n - 1) + (xf**2).sum() / (m - 1)
    return float(np.sum((mu_r - mu_f) ** 2) + traces - 2 * trace_sqrt)
