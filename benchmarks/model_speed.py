"""Model presets: parameters, training FLOPs per image, and measured CPU training speed.

    python benchmarks/model_speed.py                     # table + benchmarks/results/model_speed.json
    python benchmarks/model_speed.py --iters 30 --no-channels-last

For every preset: G and D parameter counts and the FLOPs of one D step + one G step per real image
(forward and backward, `belamy.models.flops`). For the CPU-sized presets (default dcgan-64, the
baseline, and cpu-quick-64) it also times real training iterations on this machine: batch 32,
Adam, one D step on augmented reals and fakes (DiffAugment color,translation,cutout, p=0.5) and
one G step (fresh z, random noise, w_avg tracking, D frozen), no R1, `torch.set_num_threads(2)`.
Presets are timed in alternating rounds so that load from other processes hits both alike; the
table reports the median and the best iteration. Throughput counts real images per second.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from belamy.models import build_discriminator, build_generator  # noqa: E402
from belamy.training.presets import PRESETS  # noqa: E402
from belamy.models.flops import count_params, train_step_flops_per_image  # noqa: E402
from belamy.training.augment import augment  # noqa: E402
from belamy.training.losses import get_losses  # noqa: E402

# Adam settings of each family's reference implementation (speed does not depend on them).
OPTIM = {"dcgan": dict(lr=2e-4, betas=(0.5, 0.999)), "stylegan2": dict(lr=2.5e-3, betas=(0.0, 0.99))}
LOSS = {"dcgan": "bce", "stylegan2": "logistic"}


class Bench:
    """One preset set up for timing: models, optimizers, a fixed batch of reals, RNGs."""

    def __init__(self, name: str, batch: int, channels_last: bool, aug_p: float) -> None:
        self.name, self.batch, self.aug_p = name, batch, aug_p
        self.cfg = PRESETS[name]().model
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        self.G = build_generator(self.cfg, seed=0).to(memory_format=fmt)
        self.D = build_discriminator(self.cfg, seed=1).to(memory_format=fmt)
        opt = OPTIM[self.cfg.name]
        self.opt_G = torch.optim.Adam(self.G.parameters(), **opt)
        self.opt_D = torch.optim.Adam(self.D.parameters(), **opt)
        self.d_loss, self.g_loss = get_losses(LOSS[self.cfg.name])
        self.gen = torch.Generator().manual_seed(0)
        r = self.cfg.resolution
        self.real = (torch.rand(batch, 3, r, r, generator=self.gen) * 2 - 1).contiguous(
            memory_format=fmt)
        self.times: list[float] = []

    def iteration(self) -> None:
        G, D, gen, p = self.G, self.D, self.gen, self.aug_p
        # D step: fakes without grad into G; reals and fakes in separate calls (BatchNorm, mbstd)
        z = torch.randn(self.batch, self.cfg.z_dim, generator=gen)
        with torch.no_grad():
            fake = G(z, noise_mode="random", generator=gen)
        D.requires_grad_(True)
        loss = self.d_loss(D(augment(self.real, p, generator=gen)),
                           D(augment(fake, p, generator=gen)))
        self.opt_D.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_D.step()
        # G step: D frozen (no weight gradients), gradient flows through D and augment into G
        D.requires_grad_(False)
        z = torch.randn(self.batch, self.cfg.z_dim, generator=gen)
        fake = G(z, noise_mode="random", generator=gen, update_w_avg=True)
        loss = self.g_loss(D(augment(fake, p, generator=gen)))
        self.opt_G.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_G.step()

    def timed(self) -> None:
        t0 = time.perf_counter()
        self.iteration()
        self.times.append(time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timed", nargs="+", default=["dcgan-64", "cpu-quick-64"],
                    help="presets to time (CPU-sized ones)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--iters", type=int, default=15, help="timed iterations per preset")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--aug-p", type=float, default=0.5)
    ap.add_argument("--no-channels-last", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "model_speed.json")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    channels_last = not args.no_channels_last

    rows = []
    for name, make in PRESETS.items():
        cfg = make().model
        G, D = build_generator(cfg, seed=0), build_discriminator(cfg, seed=1)
        flops = train_step_flops_per_image(G, D, cfg)
        rows.append({"preset": name, "model": cfg.name, "resolution": cfg.resolution,
                     "g_params": count_params(G), "d_params": count_params(D),
                     "gflop_per_image": flops["total"] / 1e9,
                     "gflop_g_forward": flops["g_forward"] / 1e9,
                     "gflop_d_forward": flops["d_forward"] / 1e9})
        del G, D

    load_before = os.getloadavg()[0]
    benches = [Bench(n, args.batch, channels_last, args.aug_p) for n in args.timed]
    for b in benches:
        for _ in range(args.warmup):
            b.iteration()
    for _ in range(args.iters):  # alternate presets so background load affects all alike
        for b in benches:
            b.timed()
    load_after = os.getloadavg()[0]

    by_name = {r["preset"]: r for r in rows}
    for b in benches:
        med, best = statistics.median(b.times), min(b.times)
        r = by_name[b.name]
        r["img_per_s_median"] = args.batch / med
        r["img_per_s_best"] = args.batch / best
        r["ms_per_iter_median"] = med * 1000
        r["achieved_gflop_per_s_median"] = r["gflop_per_image"] * args.batch / med

    header = (f"{'preset':<18}{'res':>5}{'G params':>12}{'D params':>12}{'GFLOP/img':>11}"
              f"{'img/s med':>11}{'img/s best':>12}{'GFLOP/s':>9}")
    print(header)
    print("-" * len(header))
    for r in rows:
        timed = "img_per_s_median" in r
        print(f"{r['preset']:<18}{r['resolution']:>5}{r['g_params']:>12,}{r['d_params']:>12,}"
              f"{r['gflop_per_image']:>11.3f}"
              + (f"{r['img_per_s_median']:>11.1f}{r['img_per_s_best']:>12.1f}"
                 f"{r['achieved_gflop_per_s_median']:>9.0f}" if timed else f"{'-':>11}{'-':>12}{'-':>9}"))
    if len(benches) >= 2:
        base, other = by_name[benches[0].name], by_name[benches[1].name]
        print(f"\n{benches[1].name} vs {benches[0].name}: "
              f"{other['img_per_s_median'] / base['img_per_s_median']:.2f}x images/s (median), "
              f"{base['gflop_per_image'] / other['gflop_per_image']:.2f}x fewer FLOPs per image")
    print(f"(batch {args.batch}, {args.threads} threads, channels_last={channels_last}, "
          f"load average {load_before:.1f} -> {load_after:.1f})")

    result = {
        "benchmark": "model_speed",
        "settings": {"batch": args.batch, "iters": args.iters, "warmup": args.warmup,
                     "threads": args.threads, "aug_p": args.aug_p,
                     "channels_last": channels_last, "timed": args.timed},
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count(), "torch": torch.__version__,
                    "load_average_before": load_before, "load_average_after": load_after},
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
