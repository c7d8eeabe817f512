"""How far each SWD level moves for known, small changes to real images: the scale for reading the
quality tables' per-level figures (what "64 px level 45 against a floor of 15" means in pixels).

For each collection, half B of the real images is altered in one controlled way and measured
against half A, exactly as `quality.py` measures renders (the unaltered half gives the floor):
faint per-pixel noise (the speckle of a generator's flat regions), noise drawn at half resolution
and upsampled, two blurs (soft edges), and colour quantisation (flat colours). Renders saved by
`quality.py` (`--renders WORK/RUN/renders-KIMG.npy`) get the statistics of their finest Laplacian
level next to the reals': how flat the flat regions are (median |L|) and how strong the edges are
(90th/99th percentiles), so a render set can be placed on this scale.

    python benchmarks/swd_sensitivity.py [--collections demo,clipart] [--renders A.npy,B.npy]
prints a table and writes benchmarks/results/swd_sensitivity.json.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from common import write_result  # noqa: E402
from quality import halves, prepare  # noqa: E402


def _signed(u8: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float (N, 3, H, W) in [-1, 1], the range G draws in."""
    return torch.from_numpy(u8).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def _u8(x: torch.Tensor) -> np.ndarray:
    """Back to uint8 through the renders' own clip and rounding."""
    from belamy.generate.sample import to_uint8

    return to_uint8(x)


def alterations(seed: int = 1) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Named changes of a uint8 (N, H, W, 3) batch, each deterministic given `seed`."""
    def noise(sd: float) -> Callable[[np.ndarray], np.ndarray]:
        def f(u8: np.ndarray) -> np.ndarray:
            g = torch.Generator().manual_seed(seed)
            return _u8(_signed(u8) + torch.randn(u8.shape[0], 3, *u8.shape[1:3], generator=g) * (sd / 127.5))
        return f

    def half_res_noise(sd: float) -> Callable[[np.ndarray], np.ndarray]:
        def f(u8: np.ndarray) -> np.ndarray:
            g = torch.Generator().manual_seed(seed)
            n = torch.randn(u8.shape[0], 3, u8.shape[1] // 2, u8.shape[2] // 2, generator=g) * (sd / 127.5)
            return _u8(_signed(u8) + F.interpolate(n, scale_factor=2.0, mode="bilinear", align_corners=False))
        return f

    def binomial_blur(u8: np.ndarray) -> np.ndarray:
        k = torch.tensor([1.0, 2.0, 1.0])
        k = (k[:, None] * k[None, :] / 16).expand(3, 1, 3, 3)
        return _u8(F.conv2d(F.pad(_signed(u8), (1, 1, 1, 1), mode="replicate"), k, groups=3))

    def down_up(u8: np.ndarray) -> np.ndarray:
        return _u8(F.interpolate(F.avg_pool2d(_signed(u8), 2), scale_factor=2.0, mode="bilinear",
                                 align_corners=False))

    return {
        "none (the floor)": lambda u8: u8,
        "noise sd 1/255": noise(1.0),
        "noise sd 2/255": noise(2.0),
        "noise sd 4/255": noise(4.0),
        "half-res noise sd 4/255": half_res_noise(4.0),
        "3x3 binomial blur": binomial_blur,
        "2x down, bilinear up": down_up,
        "8 levels per channel": lambda u8: (u8 // 32) * 32 + 16,
    }


def finest_level_stats(u8: np.ndarray) -> dict[str, float]:
    """|L| of the finest Laplacian level (images in [-1, 1]): median (flatness), 90th and 99th
    percentiles (edge strength), and its RMS."""
    from belamy.metrics.swd import laplacian_pyramid

    lap = laplacian_pyramid(_signed(u8), 2)[0].abs().flatten()
    sample = lap[torch.randperm(lap.numel(), generator=torch.Generator().manual_seed(0))[:200_000]]
    q = torch.quantile(sample, torch.tensor([0.5, 0.9, 0.99]))
    return {"median": float(q[0]), "q90": float(q[1]), "q99": float(q[2]), "rms": float(lap.square().mean().sqrt())}


def main() -> None:
    from belamy.data.collection import Collection
    from belamy.metrics.swd import swd

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--collections", default="demo,clipart")
    ap.add_argument("--renders", default="", help="comma-separated renders-*.npy files saved by quality.py")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "belamy-bench")
    ap.add_argument("--name", default="swd_sensitivity")
    args = ap.parse_args()

    rows, stats = [], []
    for cname in args.collections.split(","):
        images = Collection.open(prepare(cname, args.cache)).load()
        a, b = halves(len(images))
        b = b[: len(a)]
        stats.append({"set": f"{cname} reals", **finest_level_stats(images)})
        for name, alter in alterations().items():
            rows.append({"collection": cname, "alteration": name, "swd": swd(images[a], alter(images[b]))})
            print(f"  {cname} {name}: SWD {rows[-1]['swd']['mean']:.1f}", file=sys.stderr)
    for path in filter(None, args.renders.split(",")):
        stats.append({"set": path, **finest_level_stats(np.load(path))})

    levels = [k for k in rows[0]["swd"] if k != "mean"]
    print("\nSWD x1e3 of half B of the reals, altered, against half A (lower is closer)\n")
    print(f"{'collection':10s} {'alteration':26s} " + " ".join(f"{lv + ' px':>7s}" for lv in levels) + f" {'mean':>7s}")
    for r in rows:
        print(f"{r['collection']:10s} {r['alteration']:26s} "
              + " ".join(f"{r['swd'][lv]:7.1f}" for lv in levels) + f" {r['swd']['mean']:7.1f}")
    print("\nfinest Laplacian level, |L| of images in [-1, 1]\n")
    print(f"{'set':60s} {'median':>8s} {'q90':>7s} {'q99':>7s} {'rms':>7s}")
    for s in stats:
        print(f"{s['set'][-60:]:60s} {s['median']:8.4f} {s['q90']:7.3f} {s['q99']:7.3f} {s['rms']:7.3f}")
    path = write_result(args.name, {"command": " ".join(sys.argv), "rows": rows, "finest_level": stats})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
