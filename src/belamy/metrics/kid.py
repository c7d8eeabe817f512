"""Kernel Inception Distance (Binkowski et al. 2018, "Demystifying MMD GANs", sec. 4 / app. D).

KID is the squared maximum mean discrepancy between real and generated features under the cubic
polynomial kernel k(x, y) = (x.y / d + 1)^3, estimated without bias: unlike FID it has no
small-sample bias, so values from 100 images and from 10,000 estimate the same number (only the
spread differs), which suits small art collections. Unbiased means it can come out slightly
negative when the two sets are equally good draws of one distribution.

As in the reference code, the estimate is averaged over `subsets` random subsets of `subset_size`
images of each set; the standard deviation over subsets says how much to trust the digits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from belamy.core.errors import BelamyError
from belamy.metrics.features import get_features


@dataclass
class KIDResult:
    mean: float
    std: float
    subsets: int
    subset_size: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def polynomial_kernel(x: Tensor, y: Tensor, degree: int = 3, coef: float = 1.0) -> Tensor:
    """(..., M, D) x (..., K, D) -> (..., M, K) kernel matrices (x.y / D + coef) ** degree, float64."""
    return (x.double() @ y.double().transpose(-1, -2) / x.shape[-1] + coef) ** degree


def mmd2_unbiased(x: Tensor, y: Tensor) -> Tensor:
    """Unbiased MMD^2 of equal-size sets (..., m, D) under the polynomial kernel -> (...): the
    within-set means leave out the diagonal (k(x_i, x_i)), the cross term keeps every pair."""
    m = x.shape[-2]
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within = (kxx.sum((-1, -2)) - kxx.diagonal(dim1=-2, dim2=-1).sum(-1)
              + kyy.sum((-1, -2)) - kyy.diagonal(dim1=-2, dim2=-1).sum(-1)) / (m * (m - 1))
    return within - 2 * kxy.mean((-1, -2))


FULL_KERNEL_MAX = 4096  # up to this many images per set, kernel matrices are computed once


def kid(real: Tensor, fake: Tensor, subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> KIDResult:
    """KID between real (N, D) and fake (M, D) features; `subset_size` is capped at min(N, M).

    Up to FULL_KERNEL_MAX images per set the three kernel matrices are computed once and every
    subset's block sums are quadratic forms c^T K c with its 0/1 membership vector c, all subsets
    in one matmul: 100 subsets of 500 cost about one 500-image kernel, not a hundred. Larger sets
    batch the subsets' own matmuls."""
    n = min(real.shape[0], fake.shape[0])
    if n < 2:
        raise BelamyError(f"KID needs at least 2 images in each set, got {real.shape[0]} real and {fake.shape[0]} generated")
    m = min(subset_size, n)
    rng = np.random.default_rng(seed)
    ir = torch.from_numpy(np.stack([rng.choice(real.shape[0], m, replace=False) for _ in range(subsets)]))
    jf = torch.from_numpy(np.stack([rng.choice(fake.shape[0], m, replace=False) for _ in range(subsets)]))
    if max(real.shape[0], fake.shape[0]) <= FULL_KERNEL_MAX:
        krr, kff, krf = polynomial_kernel(real, real), polynomial_kernel(fake, fake), polynomial_kernel(real, fake)
        cr = _membership(ir, real.shape[0])  # (S, N) 0/1
        cf = _membership(jf, fake.shape[0])  # (S, M)
        within = ((cr @ krr * cr).sum(1) - cr @ krr.diagonal() + (cf @ kff * cf).sum(1) - cf @ kff.diagonal()) / (m * (m - 1))
        values = (within - 2 * (cr @ krf * cf).sum(1) / (m * m)).numpy()
    else:
        per_batch = max(1, 4_000_000 // (m * m))
        values = torch.cat([mmd2_unbiased(real[ir[i:i + per_batch]], fake[jf[i:i + per_batch]])
                            for i in range(0, subsets, per_batch)]).numpy()
    return KIDResult(float(np.mean(values)), float(np.std(values)), subsets, m)


def _membership(idx: Tensor, n: int) -> Tensor:
    """(S, m) index rows -> (S, n) float64 0/1 membership matrix."""
    c = torch.zeros(idx.shape[0], n, dtype=torch.float64)
    return c.scatter_(1, idx, 1.0)


def kid_images(real: Any, fake: Any, features: Any = "rand", subsets: int = 100, subset_size: int = 1000,
               seed: int = 0) -> KIDResult:
    """KID straight from two uint8 (N, H, W, 3) image sets, in a feature space by name ('rand':
    belamy-rand-v1, no downloaded weights) or a feature extractor object. For benchmarks."""
    fx = get_features(features)
    return kid(fx(real), fx(fake), subsets=subsets, subset_size=subset_size, seed=seed)
