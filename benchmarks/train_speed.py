"""Training speed, peak memory and FLOP utilisation of `belamy train` per model and resolution,
against a plainly written DCGAN (the PyTorch-example loop, ~40 lines, no belamy) in the same run.

Utilisation: achieved FLOP/s (the matmul and conv FLOPs of one D step and one G step per image,
forward and backward, counted by `belamy.models.flops`, times the measured img/s; R1 and EMA not
counted) over the machine's matmul peak in the precision the configuration trains in (bf16 where
`--amp auto` picks it on a CPU with native bf16, else float32; the float32 fraction is given too),
measured in the same run with the same threads (best of repeated 2048x2048 products, before and
after the training runs).

Each configuration runs in its own process (so peak RSS is its own) on the demo collection, for a
fixed number of steps; img/s is measured over the steps after the first log interval (warm-up
excluded) from the run's stats.jsonl.

    python benchmarks/train_speed.py [--steps 40] [--threads 2]
prints a table and writes benchmarks/results/train_speed.json.

    python benchmarks/train_speed.py --compare fresh:shared_fakes=false [--rounds 3]
runs the default and the variant (NAME:key=value;key=value, as `--set`s) alternately, ROUNDS
times each, 80 steps a run (`--compare-steps`), and writes benchmarks/results/train_speed-compare.json: on a shared
virtual machine single runs vary by 10-15%, alternating runs see the same conditions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import train_config, variant, write_result  # noqa: E402

PLAIN_DCGAN = r'''
import resource, sys, time, numpy as np, torch, torch.nn as nn
from belamy.data.collection import Collection
torch.set_num_threads(int(sys.argv[3])); torch.manual_seed(0)
x = torch.from_numpy(Collection.open(sys.argv[1]).load()).permute(0, 3, 1, 2).float() / 127.5 - 1
steps, bs, nz = int(sys.argv[2]), 128, 100
def G():
    return nn.Sequential(nn.ConvTranspose2d(nz, 512, 4, 1, 0, bias=False), nn.BatchNorm2d(512), nn.ReLU(True),
        nn.ConvTranspose2d(512, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.ReLU(True),
        nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(True),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
        nn.ConvTranspose2d(64, 3, 4, 2, 1, bias=False), nn.Tanh())
def D():
    return nn.Sequential(nn.Conv2d(3, 64, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2, True),
        nn.Conv2d(128, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.LeakyReLU(0.2, True),
        nn.Conv2d(256, 512, 4, 2, 1, bias=False), nn.BatchNorm2d(512), nn.LeakyReLU(0.2, True),
        nn.Conv2d(512, 1, 4, 1, 0, bias=False), nn.Flatten())
g, d = G(), D()
og = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999)); od = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
bce = nn.BCEWithLogitsLoss(); ones, zeros = torch.ones(bs, 1), torch.zeros(bs, 1)
t0 = None
for step in range(steps):
    if step == 5: t0 = time.perf_counter()
    real = x[torch.randint(0, len(x), (bs,))]
    fake = g(torch.randn(bs, nz, 1, 1))
    od.zero_grad(); (bce(d(real), ones) + bce(d(fake.detach()), zeros)).backward(); od.step()
    og.zero_grad(); bce(d(fake), ones).backward(); og.step()
dt = time.perf_counter() - t0
print(f"RESULT {(steps - 5) * bs / dt:.2f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")
'''

CONFIGS = [
    ("belamy dcgan-64", ["--preset", "dcgan-64"], 64),
    ("belamy cpu-quick-64 (stylegan2, default)", ["--preset", "cpu-quick-64"], 64),
    ("belamy cpu-quick-64 in float32 (amp off)", ["--preset", "cpu-quick-64", "--set", "amp=off"], 64),
    ("belamy cpu-quick-64, fresh fakes for G", ["--preset", "cpu-quick-64", "--set", "shared_fakes=false"], 64),
    ("belamy dcgan-128", ["--preset", "dcgan-128"], 128),
    ("belamy stylegan2 cpu widths @128", ["--preset", "cpu-quick-64", "--resolution", "128"], 128),
]


def make_collection(root: Path, size: int) -> Path:
    out = root / f"coll{size}"
    subprocess.run([sys.executable, "-m", "belamy", "collect", "--demo", "portraits", "--demo-count", "200",
                    "-o", str(out), "--size", str(size)], check=True, capture_output=True)
    return out


def run_belamy(coll: Path, out: Path, args: list[str], steps: int, threads: int) -> dict:
    log = max(steps // 4, 2)
    cmd = [sys.executable, "-c", "import resource, sys; from belamy.cli.main import main; sys.argv=['belamy']+sys.argv[1:];\n"
           "try:\n    main()\nfinally:\n    print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)",
           "train", str(coll), "-o", str(out), *args, "--steps", str(steps), "--threads", str(threads),
           "--device", "cpu", "--set", f"log_steps={log}", "--preview-kimg", "0", "--checkpoint-kimg", "0",
           "--set", "checkpoint_minutes=0"]
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "BELAMY_PROGRESS": "0"})
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    peak = float([ln for ln in r.stdout.splitlines() if ln.startswith("PEAK")][-1].split()[1])
    rows = [json.loads(x) for x in (out / "stats.jsonl").read_text().splitlines()]
    rows = [x for x in rows if "img_s" in x][1:]  # drop the first interval (warm-up)
    img_s = sum(x["img_s"] for x in rows) / len(rows)
    phases = {k: round(sum(x["time"][k] for x in rows) / sum(x["time"]["total"] for x in rows), 3)
              for k in rows[0]["time"] if k != "total"}
    return {"img_s": round(img_s, 2), "peak_rss_mb": round(peak, 1), "time_fraction": phases}


PEAK = r'''
import sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
a, b = torch.randn(2048, 2048, dtype=getattr(torch, sys.argv[2])), torch.randn(2048, 2048, dtype=getattr(torch, sys.argv[2]))
best = 0.0
for _ in range(12):
    t = time.perf_counter(); a @ b; best = max(best, 2 * 2048**3 / (time.perf_counter() - t))
print(best / 1e9)
'''


def matmul_peak(threads: int, dtype: str = "float32") -> float:
    """Matmul GFLOP/s in `dtype` on this machine with `threads` threads (best of 12)."""
    r = subprocess.run([sys.executable, "-c", PEAK, str(threads), dtype], capture_output=True, text=True, check=True)
    return float(r.stdout.strip())


def precision(extra: list[str]) -> str:
    """The dtype a configuration trains in on this CPU: its `amp` as `belamy train` resolves it."""
    import torch

    from belamy.training.distributed import pick_amp

    dtype = pick_amp(train_config(extra).amp, torch.device("cpu"))
    return "float32" if dtype is None else str(dtype).removeprefix("torch.")


def gflop_per_image(extra: list[str], res: int) -> float:
    """Counted training GFLOP per real image of the model a preset (and --resolution) trains."""
    from belamy.models import build_discriminator, build_generator
    from belamy.models.flops import train_step_flops_per_image

    train = train_config(extra)
    cfg = train.model.replace(resolution=res)
    return train_step_flops_per_image(build_generator(cfg), build_discriminator(cfg), cfg,
                                      shared_fakes=train.shared_fakes)["total"] / 1e9


def compare(spec: str, rounds: int, threads: int, steps: int = 80) -> None:
    """img/s of the default preset and a variant of it, alternating runs (see module docstring)."""
    import statistics

    default = ["--preset", "cpu-quick-64"]
    name, extra = variant(spec, default)
    variants = {"default": default, name: extra}
    root = Path(tempfile.mkdtemp(prefix="belamy-trainspeed-"))
    coll = make_collection(root, 64)
    runs: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(rounds):
        for k, extra in variants.items():
            runs[k].append(run_belamy(coll, root / f"{k}-{r}", extra, steps, threads)["img_s"])
            print(f"  round {r}: {k} {runs[k][-1]} img/s", file=sys.stderr)
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"\n{'configuration':12s} {'img/s (median)':>15s}  runs")
    for k, v in runs.items():
        print(f"{k:12s} {med[k]:15.1f}  {', '.join(f'{x:.1f}' for x in v)}")
    print(f"default / {name}: {med['default'] / med[name]:.3f}x")
    write_result("train_speed-compare", {"variant": spec, "rounds": rounds, "threads": threads, "steps": steps,
                                         "runs": runs, "median_img_s": med,
                                         "ratio": round(med["default"] / med[name], 3)})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--min-images", type=int, default=1280,
                    help="belamy configurations run at least this many images (small batches: enough lazy-R1 intervals)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--only-64", action="store_true", help="skip the 128 px configurations (minutes each on a CPU)")
    ap.add_argument("--compare", help="NAME:key=value;... : the default against this variant, alternately")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--compare-steps", type=int, default=80, help="steps of each --compare run (more: less noise)")
    args = ap.parse_args()
    if args.compare:
        return compare(args.compare, args.rounds, args.threads, args.compare_steps)
    configs = [c for c in CONFIGS if c[2] == 64 or not args.only_64]
    root = Path(tempfile.mkdtemp(prefix="belamy-trainspeed-"))
    colls = {s: make_collection(root, s) for s in sorted({c[2] for c in configs})}
    results = []
    dtypes = {"float32"} | {precision(extra) for _, extra, _ in configs}
    peaks = {d: matmul_peak(args.threads, d) for d in sorted(dtypes)}
    r = subprocess.run([sys.executable, "-c", PLAIN_DCGAN, str(colls[64]), str(args.steps), str(args.threads)],
                       capture_output=True, text=True, check=True)
    img_s, peak_rss = map(float, r.stdout.split("RESULT")[1].split())
    results.append({"config": "baseline: plain DCGAN loop @64 (batch 128)", "resolution": 64, "batch": 128, "img_s": img_s,
                    "peak_rss_mb": peak_rss, "precision": "float32",
                    "gflop_per_img": round(gflop_per_image(["--preset", "dcgan-64"], 64), 3)})  # same network
    for name, extra, res in configs:
        batch = train_config(extra).batch_at(0)
        steps = max(args.steps, -(-args.min_images // batch))
        row = run_belamy(colls[res], root / name.replace(" ", "_").replace("/", ""), extra, steps, args.threads)
        results.append({"config": name, "resolution": res, "batch": batch, "steps": steps, "precision": precision(extra),
                        "gflop_per_img": round(gflop_per_image(extra, res), 3), **row})
        print(f"  {name}: {row['img_s']} img/s", file=sys.stderr)
    peaks = {d: max(p, matmul_peak(args.threads, d)) for d, p in peaks.items()}
    for row in results:
        # against the peak of the precision it trains in, and (comparable across rows) float32's
        row["achieved_gflop_s"] = round(row["gflop_per_img"] * row["img_s"], 1)
        row["of_peak"] = round(row["achieved_gflop_s"] / peaks[row["precision"]], 3)
        row["of_float32_peak"] = round(row["achieved_gflop_s"] / peaks["float32"], 3)
    base = results[0]["img_s"]
    print(f"\ntraining speed on {os.cpu_count()} CPU cores, {args.threads} threads, at least {args.steps} steps and {args.min_images} images each; "
          f"matmul peak {', '.join(f'{d} {p:.0f}' for d, p in peaks.items())} GFLOP/s\n")
    print(f"{'configuration':44s} {'px':>4s} {'dtype':>8s} {'img/s':>7s} {'vs plain':>9s} {'peak MB':>8s} {'GFLOP/img':>10s} "
          f"{'GFLOP/s':>8s} {'of peak':>8s} {'of fp32':>8s}")
    for row in results:
        print(f"{row['config']:44s} {row['resolution']:4d} {row['precision']:>8s} {row['img_s']:7.1f} {row['img_s'] / base:8.2f}x "
              f"{row['peak_rss_mb']:8.0f} {row['gflop_per_img']:10.2f} {row['achieved_gflop_s']:8.1f} {row['of_peak']:8.0%} "
              f"{row['of_float32_peak']:8.0%}")
    write_result("train_speed", {"steps": args.steps, "min_images": args.min_images, "threads": args.threads,
                                 "matmul_peak_gflop_s": round(peaks["float32"], 1),
                                 "matmul_peak_gflop_s_by_dtype": {d: round(p, 1) for d, p in peaks.items()},
                                 "rows": results})


if __name__ == "__main__":
    main()
