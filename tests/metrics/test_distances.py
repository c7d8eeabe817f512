"""KID, FID and precision/recall against closed forms and synthetic point clouds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from belamy.core.errors import BelamyError
from belamy.metrics.fid import fid, frechet_distance
from belamy.metrics.kid import kid, mmd2_unbiased
from belamy.metrics.precision_recall import precision_recall


def cloud(n: int, d: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g) + shift


def test_mmd_matches_direct_numpy_formula() -> None:
    x, y = cloud(7, 5, 0).double().numpy(), cloud(7, 5, 1, 0.3).double().numpy()
    k = lambda a, b: (a @ b / 5 + 1) ** 3  # noqa: E731
    m = 7
    kxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kyy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kxy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    assert float(mmd2_unbiased(torch.from_numpy(x), torch.from_numpy(y))) == pytest.approx(kxx + kyy - 2 * kxy, rel=1e-10)


def test_kid_near_zero_for_same_distribution_and_unbiased() -> None:
    same = kid(cloud(200, 16, 0), cloud(200, 16, 1), subsets=20, subset_size=100)
    other = kid(cloud(200, 16, 0), cloud(200, 16, 2, shift=0.5), subsets=20, subset_size=100)
    assert abs(same.mean) < 0.05 and other.mean > 10 * max(abs(same.mean), 0.01)
    # unbiased: over many subsets, draws of one distribution average around 0 and some are < 0
    values = [kid(cloud(50, 4, s), cloud(50, 4, s + 100), subsets=1).mean for s in range(20)]
    assert min(values) < 0 < max(values)
    assert same.subset_size == 100 and same.std > 0


def test_kid_subset_paths_agree(monkeypatch) -> None:
    """The shared-kernel path (quadratic forms) and the per-subset path give the same numbers."""
    from belamy.metrics import kid as kid_module

    real, fake = cloud(60, 8, 0), cloud(50, 8, 1, 0.2)
    shared = kid(real, fake, subsets=7, subset_size=20)
    monkeypatch.setattr(kid_module, "FULL_KERNEL_MAX", 0)
    direct = kid(real, fake, subsets=7, subset_size=20)
    assert shared.mean == pytest.approx(direct.mean, rel=1e-9) and shared.std == pytest.approx(direct.std, rel=1e-9)


def test_kid_too_few_images() -> None:
    with pytest.raises(BelamyError, match="at least 2"):
        kid(cloud(1, 4, 0), cloud(10, 4, 1))


def test_fid_closed_forms() -> None:
    x = cloud(300, 8, 0)
    assert abs(fid(x, x)) < 1e-6
    # diagonal Gaussians: |mu1 - mu2|^2 + sum (s1 - s2)^2
    mu1, mu2 = np.arange(4.0), np.ones(4)
    s1, s2 = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, 2.0, 1.0, 9.0])
    expect = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(s1) - np.sqrt(s2)) ** 2)
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expect, rel=1e-9)
    # full covariances: agrees with tr(sqrtm(C1 C2)) = sum of sqrt(eigenvalues of C1 C2)
    a, b = np.random.default_rng(0).normal(size=(2, 6, 6))
    c1, c2 = a @ a.T + 0.1 * np.eye(6), b @ b.T
    ref = np.trace(c1) + np.trace(c2) - 2 * np.sqrt(np.linalg.eigvals(c1 @ c2).real.clip(0)).sum()
    assert frechet_distance(np.zeros(6), c1, np.zeros(6), c2) == pytest.approx(ref, rel=1e-6)
    # fewer points than dimensions (singular covariances): the image-space form agrees with the
    # feature-space one
    from belamy.metrics.fid import gaussian_stats

    a, b = cloud(10, 32, 0), cloud(14, 32, 1, 0.3)
    assert fid(a, b) == pytest.approx(frechet_distance(*gaussian_stats(a), *gaussian_stats(b)), rel=1e-6)
    assert abs(fid(a, a)) < 1e-6


def test_precision_recall_on_point_clouds() -> None:
    real = cloud(300, 2, 0)
    same = precision_recall(real, real)
    assert same.precision == 1.0 and same.recall == 1.0
    far = precision_recall(real, cloud(300, 2, 1, shift=100.0))
    assert far.precision == 0.0 and far.recall == 0.0
    # a generator that covers only the middle of the collection: plausible, not varied
    core = real[real.norm(dim=1) < 0.5]
    part = precision_recall(real, core)
    assert part.precision > 0.9 and part.recall < 0.5
    with pytest.raises(BelamyError, match="k=3"):
        precision_recall(real, real[:3])
