"""The learned pose sampler (`belamy poses train`) against the procedural one and held-out poses.

    python benchmarks/pose_sampler.py [--train 5000] [--held 1000] [--samples 1000]

The data set: COCO cannot be downloaded here, and the figures demo draws its poses from the
procedural sampler, so the "data set" is the procedural sampler's output itself (seed 1), split
into `--train` poses to learn from and `--held` held-out poses. Each sampler draws `--samples`
poses: the Gaussian mixture at a few sizes (fitted on the training split), and the procedural
sampler with another seed, which is a fresh draw from the very distribution the data came from,
so it is the ceiling a learned sampler can reach here, not a rival.

Measured per sampler, with the pose distance the RMS distance (canvas units) over the keypoints
labelled in both poses:
- nearest training pose: median distance, and the fraction of samples within 0.01 of one (copies);
- nearest held-out pose: median distance (precision: do samples look like unseen data);
- plausibility: the fraction passing `belamy.data.pose.plausible`;
- coverage: the fraction of held-out poses with a sample within R, where R is the median
  distance from a held-out pose to its nearest training pose (how far real poses lie apart).
Prints a table, writes benchmarks/results/pose_sampler.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import write_result  # noqa: E402

from belamy.data.pose import plausibility_rates  # noqa: E402
from belamy.data.pose_model import PoseModelConfig, fit_pose_model  # noqa: E402
from belamy.data.pose_sampler import sample_poses  # noqa: E402

COPY = 0.01


def nearest(a: np.ndarray, b: np.ndarray, block: int = 256) -> np.ndarray:
    """For each pose of `a`, the RMS distance to its nearest pose of `b` over jointly labelled keypoints."""
    bx, bm = b[..., :2].astype(np.float32), (b[..., 2] > 0).astype(np.float32)
    out = np.empty(len(a))
    for s in range(0, len(a), block):
        ax, am = a[s:s + block, :, :2].astype(np.float32), (a[s:s + block, :, 2] > 0).astype(np.float32)
        d2 = ((ax[:, None] - bx[None]) ** 2).sum(-1)  # (A, B, 17)
        m = am[:, None] * bm[None]
        n = m.sum(-1)
        rms = np.sqrt((d2 * m).sum(-1) / np.maximum(n, 1))
        rms[n < 4] = np.inf
        out[s:s + block] = rms.min(axis=1)
    return out


def measure(name: str, samples: np.ndarray, train: np.ndarray, held: np.ndarray, radius: float,
            seconds: float) -> dict:
    to_train = nearest(samples, train)
    to_held = nearest(samples, held)
    held_to_samples = nearest(held, samples)
    return {"sampler": name, "seconds": round(seconds, 2),
            "nearest_train_median": round(float(np.median(to_train)), 4),
            "copies": round(float((to_train < COPY).mean()), 4),
            "nearest_held_median": round(float(np.median(to_held)), 4),
            "plausible": round(plausibility_rates(samples)["ok"], 4),
            "coverage": round(float((held_to_samples < radius).mean()), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", type=int, default=5000)
    ap.add_argument("--held", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=1000)
    args = ap.parse_args()
    data = sample_poses(args.train + args.held, seed=1)
    order = np.random.default_rng(0).permutation(len(data))
    train, held = data[order[:args.train]], data[order[args.train:]]
    radius = float(np.median(nearest(held, train)))
    rows = []
    t = time.perf_counter()
    rows.append(measure("procedural (seed 2: the ceiling)", sample_poses(args.samples, seed=2), train, held, radius,
                        time.perf_counter() - t))
    fits = []
    for k, cov in ((8, "full"), (24, "full"), (64, "full"), (24, "diag")):
        t = time.perf_counter()
        model = fit_pose_model(train, PoseModelConfig(components=k, covariance=cov, seed=0))
        fit_s = time.perf_counter() - t
        t = time.perf_counter()
        samples = model.sample(args.samples, seed=7)
        row = measure(f"mixture K={k} {cov}", samples, train, held, radius, time.perf_counter() - t)
        row["fit_seconds"] = round(fit_s, 2)
        row["held_loglik"] = round(float(model.log_likelihood(held).mean()), 2)
        row["iterations"] = model.meta["iterations_run"]
        rows.append(row)
        fits.append(row)
    ref = {"held_nearest_train_median": round(radius, 4),
           "held_plausible": round(plausibility_rates(held)["ok"], 4)}
    cols = ("sampler", "nearest_train_median", "copies", "nearest_held_median", "plausible", "coverage")
    print(f"data: procedural sampler seed 1, {args.train} train / {args.held} held out; R = {radius:.4f} "
          f"(held-out to nearest training pose, median); held-out plausible {ref['held_plausible']:.3f}")
    print(" | ".join(cols) + " | fit s | held loglik")
    for r in rows:
        print(" | ".join(str(r[c]) for c in cols) + f" | {r.get('fit_seconds', '-')} | {r.get('held_loglik', '-')}")
    path = write_result("pose_sampler", {"data": {"kind": "procedural sampler (seed 1) as a stand-in data set",
                                                  "train": args.train, "held": args.held},
                                         "samples": args.samples, "copy_radius": COPY, "coverage_radius": radius,
                                         "reference": ref, "rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
