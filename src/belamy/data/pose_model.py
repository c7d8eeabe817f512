"""The learned pose sampler: a Gaussian mixture over normalised COCO-17 poses (decision 0049).

A pose (17, 3) is read as 34 coordinates (x, y of every keypoint) and 17 visibilities (0, 1, 2).
Each of K components holds a weight, a mean and a full covariance of the 34 coordinates, and for
every keypoint the probabilities of its three visibility values. The likelihood of a pose under a
component is the Gaussian's density of its coordinates times the product of its visibility
probabilities. Unlabelled keypoints (v = 0) have no position; before fitting they are filled in
with the position the labelled keypoints predict under one Gaussian of the whole set (its
conditional mean), so a missing wrist is put where wrists go for that pose, not at the origin.

Fitting is EM in numpy (k-means++ start, seeded; covariances regularised by `reg` on the
diagonal). Sampling draws pose i from `numpy.random.default_rng([seed, i])`: pose i depends only
on (model, seed, i), as with the procedural sampler. A drawn keypoint with v = 0 is written as
(0, 0, 0); positions are clipped to `belamy.data.pose.COORD_RANGE`.

On disk a model is one safetensors file (no pickle): the tensors `weights` (K), `means` (K, 34),
`chol` (K, 34, 34, the covariances' lower Cholesky factors) and `vis` (K, 17, 3), and in its header
the metadata key `belamy` holding JSON: format `belamy.pose_model`, version, components,
covariance, reg, seed, the training collection's path, count and sha256, log-likelihood per pose,
iterations, created and code_version.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import numpy as np

from belamy.core import atomic
from belamy.core.config import bounds, check_fields
from belamy.core.config import check_version
from belamy.core.errors import BelamyError
from belamy.core.version import code_version
from belamy.data.pose import COORD_RANGE, NUM_KEYPOINTS, check_poses

FORMAT = "belamy.pose_model"
VERSION = 1
D = 2 * NUM_KEYPOINTS
_EPS = 1e-3  # floor of a visibility probability


@dataclass
class PoseModelConfig:
    components: int = field(default=24, metadata=bounds(1, 512))
    covariance: Literal["full", "diag"] = "full"
    iterations: int = field(default=100, metadata=bounds(1, 10000))
    tol: float = field(default=1e-4, metadata=bounds(0.0, 1.0))  # stop when the mean log-likelihood gains less
    reg: float = field(default=1e-5, metadata=bounds(0.0, 1.0))  # added to each covariance's diagonal
    seed: int = field(default=0, metadata=bounds(0, 2**63 - 1))

    def validate(self) -> None:
        check_fields(self)


class PoseModel:
    """A fitted mixture: `weights` (K,), `means` (K, 34), `chol` (K, 34, 34), `vis` (K, 17, 3)."""

    def __init__(self, weights: np.ndarray, means: np.ndarray, chol: np.ndarray, vis: np.ndarray,
                 meta: dict[str, Any]) -> None:
        self.weights = weights
        self.means = means
        self.chol = chol
        self.vis = vis
        self.meta = meta

    @property
    def components(self) -> int:
        return len(self.weights)

    def sample(self, n: int, seed: int = 0, start: int = 0) -> np.ndarray:
        """`n` poses (n, 17, 3) float32; pose i is drawn from `default_rng([seed, start + i])`."""
        out = np.zeros((n, NUM_KEYPOINTS, 3), dtype=np.float32)
        cum = np.cumsum(self.weights)
        cum /= cum[-1]
        vcum = np.cumsum(self.vis, axis=-1)
        lo, hi = COORD_RANGE
        for i in range(n):
            rng = np.random.default_rng([seed, start + i])
            k = min(int(np.searchsorted(cum, rng.random(), side="right")), self.components - 1)
            z = rng.standard_normal(D)
            xy = (self.means[k] + self.chol[k] @ z).reshape(NUM_KEYPOINTS, 2)
            u = rng.random(NUM_KEYPOINTS)
            v = (u[:, None] > vcum[k, :, :2]).sum(axis=1)
            xy = np.clip(xy, lo, hi)
            out[i, :, :2] = np.where(v[:, None] > 0, xy, 0.0)
            out[i, :, 2] = v
        return out

    def log_likelihood(self, poses: np.ndarray) -> np.ndarray:
        """Per-pose log-likelihood of (N, 17, 3) poses (unlabelled positions filled in first)."""
        x, v = _features(poses, self.meta.get("fill_mean"), self.meta.get("fill_cov"))
        return _logsumexp(_log_joint(x, v, self.weights, self.means, self.chol, self.vis), axis=1)

    def save(self, path: str | os.PathLike[str]) -> Path:
        from safetensors.numpy import save_file

        path = Path(path)
        if path.is_dir():
            raise BelamyError(f"{path} is a folder: -o names the model file (e.g. poses.safetensors)")
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {"weights": self.weights.astype(np.float64), "means": self.means.astype(np.float64),
                   "chol": self.chol.astype(np.float64), "vis": self.vis.astype(np.float64)}
        with atomic.atomic_path(path) as tmp:
            save_file(tensors, str(tmp), metadata={"belamy": json.dumps(self.meta)})
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "PoseModel":
        from safetensors import SafetensorError, safe_open

        path = Path(path)
        how = "train one with `belamy poses train POSES -o MODEL`"
        if not path.is_file():
            raise BelamyError(f"{path} is not a file: {how}")
        try:
            with safe_open(str(path), framework="numpy") as fh:
                header = fh.metadata() or {}
                tensors = {k: fh.get_tensor(k) for k in fh.keys()}
        except (SafetensorError, OSError, ValueError, RuntimeError):
            raise BelamyError(f"{path} is not a belamy pose model (not a safetensors file): {how}") from None
        try:
            meta = json.loads(header.get("belamy", ""))
        except json.JSONDecodeError:
            meta = None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise BelamyError(f"{path} is not a belamy pose model (no '{FORMAT}' header): {how}")
        check_version(meta.get("version"), VERSION, path, "pose model", "train it again")
        try:
            w, mu, ch, vis = (np.asarray(tensors[k], dtype=np.float64) for k in ("weights", "means", "chol", "vis"))
        except KeyError as e:
            raise BelamyError(f"{path} lacks the tensor {e.args[0]!r}: train it again") from None
        k = len(w)
        if (w.shape != (k,) or k < 1 or mu.shape != (k, D) or ch.shape != (k, D, D)
                or vis.shape != (k, NUM_KEYPOINTS, 3)):
            raise BelamyError(f"{path} has tensors of the wrong shapes for a pose model: train it again")
        if not all(np.isfinite(a).all() for a in (w, mu, ch, vis)) or (w < 0).any() or w.sum() <= 0:
            raise BelamyError(f"{path} holds NaN, infinite or negative weights: train it again")
        return cls(w, mu, ch, vis, meta)


# ----------------------------------------------------------------------------- fitting
def _features(poses: np.ndarray, fill_mean: Any, fill_cov: Any) -> tuple[np.ndarray, np.ndarray]:
    """(N, 34) coordinates with unlabelled ones filled in, and (N, 17) int visibilities."""
    p = np.asarray(poses, dtype=np.float64)
    v = p[..., 2].astype(np.int64)
    x = p[..., :2].reshape(len(p), D).copy()
    if fill_mean is None:
        return x, v
    mu = np.asarray(fill_mean, dtype=np.float64)
    cov = np.asarray(fill_cov, dtype=np.float64)
    missing = np.repeat(v == 0, 2, axis=1)
    for pattern in np.unique(missing, axis=0):
        if not pattern.any():
            continue
        rows = (missing == pattern).all(axis=1)
        m, o = pattern, ~pattern
        if not o.any():
            x[np.ix_(rows, m)] = mu[m]
            continue
        gain = cov[np.ix_(m, o)] @ np.linalg.pinv(cov[np.ix_(o, o)])
        x[np.ix_(rows, m)] = mu[m] + (x[np.ix_(rows, o)] - mu[o]) @ gain.T
    return x, v


def _fill_stats(poses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of the 34 coordinates over the labelled values (pairwise)."""
    p = np.asarray(poses, dtype=np.float64)
    lab = np.repeat(p[..., 2] > 0, 2, axis=1).astype(np.float64)
    x = p[..., :2].reshape(len(p), D)
    n = lab.sum(axis=0)
    mu = np.where(n > 0, (x * lab).sum(axis=0) / np.maximum(n, 1), 0.5)
    c = (x - mu) * lab
    nn = lab.T @ lab
    cov = (c.T @ c) / np.maximum(nn, 1)
    cov[nn == 0] = 0.0
    cov += 1e-6 * np.eye(D)
    return mu, cov


def _log_gauss(x: np.ndarray, mu: np.ndarray, chol: np.ndarray) -> np.ndarray:
    diff = (x - mu).T
    z = np.linalg.solve(chol, diff)  # triangular, solved densely: 34 x 34 is small
    return -0.5 * (z * z).sum(axis=0) - np.log(np.diag(chol)).sum() - 0.5 * D * math.log(2 * math.pi)


def _log_joint(x: np.ndarray, v: np.ndarray, w: np.ndarray, mu: np.ndarray, chol: np.ndarray,
               vis: np.ndarray) -> np.ndarray:
    out = np.empty((len(x), len(w)))
    logvis = np.log(np.maximum(vis, _EPS))
    cols = np.arange(NUM_KEYPOINTS)
    for k in range(len(w)):
        out[:, k] = (math.log(max(w[k], 1e-300)) + _log_gauss(x, mu[k], chol[k])
                     + logvis[k][cols, v].sum(axis=1))
    return out


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    m = a.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def _cholesky(cov: np.ndarray) -> np.ndarray:
    """The lower Cholesky factor, with the diagonal raised until it exists (a component left with
    fewer poses than dimensions, fitted with reg = 0)."""
    jitter = 1e-9
    while True:
        try:
            return np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            cov = cov + jitter * np.eye(len(cov))
            jitter *= 10


def _kmeanspp(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centres = [x[rng.integers(len(x))]]
    d2 = ((x - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = d2.sum()
        i = int(rng.choice(len(x), p=d2 / total)) if total > 0 else int(rng.integers(len(x)))
        centres.append(x[i])
        d2 = np.minimum(d2, ((x - x[i]) ** 2).sum(axis=1))
    return np.stack(centres)


def fit_pose_model(poses: Any, cfg: PoseModelConfig | None = None, source: dict[str, Any] | None = None,
                   on_step: Any = None) -> PoseModel:
    """Fit a `PoseModel` to (N, 17, 3) normalised poses by EM; `on_step(iteration, loglik)` reports."""
    cfg = cfg or PoseModelConfig()
    cfg.validate()
    poses = check_poses(poses, "poses")
    n = len(poses)
    if n < 2 * cfg.components:
        raise BelamyError(f"{n} poses are too few for {cfg.components} components: use at least "
                          f"{2 * cfg.components} poses or fewer --components")
    fill_mean, fill_cov = _fill_stats(poses)
    x, v = _features(poses, fill_mean, fill_cov)
    rng = np.random.default_rng([cfg.seed, 0x9053])
    k = cfg.components
    mu = _kmeanspp(x, k, rng)
    assign = ((x[:, None, :] - mu[None]) ** 2).sum(axis=2).argmin(axis=1)
    resp = np.zeros((n, k))
    resp[np.arange(n), assign] = 1.0
    onehot = np.eye(3)[v]  # (N, 17, 3)
    prev = -math.inf
    ll = -math.inf
    it = 0
    for it in range(1, cfg.iterations + 1):
        # M step
        nk = resp.sum(axis=0) + 1e-10
        w = nk / n
        mu = (resp.T @ x) / nk[:, None]
        chol = np.empty((k, D, D))
        for j in range(k):
            diff = x - mu[j]
            if cfg.covariance == "full":
                cov = (resp[:, j, None] * diff).T @ diff / nk[j]
            else:
                cov = np.diag((resp[:, j, None] * diff * diff).sum(axis=0) / nk[j])
            cov += (cfg.reg + 1e-9) * np.eye(D)
            chol[j] = _cholesky(cov)
        vis = (np.einsum("nk,njc->kjc", resp, onehot) + 0.1) / (nk[:, None, None] + 0.3)
        # E step
        lj = _log_joint(x, v, w, mu, chol, vis)
        lse = _logsumexp(lj, axis=1)
        resp = np.exp(lj - lse[:, None])
        ll = float(lse.mean())
        if on_step is not None:
            on_step(it, ll)
        if ll - prev < cfg.tol * max(1.0, abs(ll)) and it > 1:
            break
        prev = ll
    meta = {
        "format": FORMAT, "version": VERSION, "model": "gaussian-mixture", **asdict(cfg),
        "iterations_run": it, "loglik_per_pose": round(ll, 4), "poses": n,
        "source": source or {}, "fill_mean": [round(float(a), 6) for a in fill_mean],
        "fill_cov": [[float(b) for b in row] for row in fill_cov],
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "code_version": code_version(),
    }
    return PoseModel(w, mu, chol, vis, meta)
