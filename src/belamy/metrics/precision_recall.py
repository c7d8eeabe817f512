"""Improved precision and recall (Kynkäänniemi et al. 2019, "Improved Precision and Recall
Metric for Assessing Generative Models").

Each set's manifold is the union of balls around its points, each ball's radius being the
distance to the point's k-th nearest neighbour in its own set (k = 3 as in the paper).
Precision: the share of generated images inside the real manifold (are they plausible?).
Recall: the share of real images inside the generated manifold (is the collection's variety
covered?). Both are in [0, 1]; a GAN that paints one good portrait over and over has high
precision and low recall.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from belamy.core.errors import BelamyError

CHUNK = 1024


@dataclass
class PRResult:
    precision: float
    recall: float
    k: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def kth_nn_radii(x: Tensor, k: int) -> Tensor:
    """(N, D) -> (N,) distance of each point to its k-th nearest other point of the set."""
    out = []
    for chunk in x.split(CHUNK):
        d = torch.cdist(chunk, x)  # (c, N); the point itself is at distance 0, the smallest
        out.append(d.kthvalue(k + 1, dim=1).values)
    return torch.cat(out)


def inside_manifold(points: Tensor, support: Tensor, radii: Tensor) -> Tensor:
    """(P, D) points, (S, D) support with (S,) radii -> (P,) bool: within some support ball."""
    out = []
    for chunk in points.split(CHUNK):
        out.append((torch.cdist(chunk, support) <= radii[None, :]).any(dim=1))
    return torch.cat(out)


def precision_recall(real: Tensor, fake: Tensor, k: int = 3) -> PRResult:
    if min(real.shape[0], fake.shape[0]) <= k:
        raise BelamyError(f"precision/recall with k={k} needs more than {k} images per set, "
                          f"got {real.shape[0]} real and {fake.shape[0]} generated")
    real, fake = real.float(), fake.float()
    precision = inside_manifold(fake, real, kth_nn_radii(real, k)).float().mean()
    recall = inside_manifold(real, fake, kth_nn_radii(fake, k)).float().mean()
    return PRResult(float(precision), float(recall), k)
