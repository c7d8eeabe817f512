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

    python benchmarks/train_speed.py --device cuda
the same on a GPU, for the StyleGAN2-ADA preset at 256 px (`portrait-256`, whose utilisation is
its fraction of the GPU's bf16 matmul peak: float32 products are timed without TF32) beside the
64 px CPU default and DCGAN; writes benchmarks/results/train_speed-cuda.json and leaves the CPU
reference alone.

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
dev = torch.device(sys.argv[4])
sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
x = (torch.from_numpy(Collection.open(sys.argv[1]).load()).permute(0, 3, 1, 2).float() / 127.5 - 1).to(dev)
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
g, d = G().to(dev), D().to(dev)
og = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999)); od = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
bce = nn.BCEWithLogitsLoss(); ones, zeros = torch.ones(bs, 1, device=dev), torch.zeros(bs, 1, device=dev)
t0 = None
for step in range(steps):
    if step == 5: sync(); t0 = time.perf_counter()
    real = x[torch.randint(0, len(x), (bs,), device=dev)]
    fake = g(torch.randn(bs, nz, 1, 1, device=dev))
    od.zero_grad(); (bce(d(real), ones) + bce(d(fake.detach()), zeros)).backward(); od.step()
    og.zero_grad(); bce(d(fake), ones).backward(); og.step()
sync(); dt = time.perf_counter() - t0
print(f"RESULT {(steps - 5) * bs / dt:.2f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")
'''

# On a GPU (`--device cuda`): the 256 px figure comes from the StyleGAN2-ADA preset for one
# GPU; the CPU default and DCGAN at 64 px for comparison with the CPU table.
CUDA_CONFIGS = [
    ("belamy portrait-256 (stylegan2, one GPU)", ["--preset", "portrait-256"], 256),
    ("belamy cpu-quick-64 (the CPU default)", ["--preset", "cpu-quick-64"], 64),
    ("belamy dcgan-64", ["--preset", "dcgan-64"], 64),
]

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


def run_belamy(coll: Path, out: Path, args: list[str], steps: int, threads: int, device: str = "cpu") -> dict:
    log = max(steps // 4, 2)
    cmd = [sys.executable, "-c", "import resource, sys; from belamy.cli.main import main; sys.argv=['belamy']+sys.argv[1:];\n"
           "try:\n    main()\nfinally:\n    print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)",
           "train", str(coll), "-o", str(out), *args, "--steps", str(steps), "--threads", str(threads),
           "--device", device, "--set", f"log_steps={log}", "--preview-kimg", "0", "--checkpoint-kimg", "0",
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
    out = {"img_s": round(img_s, 2), "peak_rss_mb": round(peak, 1), "time_fraction": phases}
    if device.startswith("cuda"):
        out["cuda_peak_mb"] = max(x["mem_mb"].get("cuda_peak", 0.0) for x in rows)
    return out


PEAK = r'''
import sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
dtype, dev = getattr(torch, sys.argv[2]), torch.device(sys.argv[3])
cuda = dev.type == "cuda"
if cuda:  # float32 means float32 on a GPU too, not TF32
    torch.backends.cuda.matmul.allow_tf32 = False
n, reps = (8192, 20) if cuda else (2048, 1)  # a GPU needs big products (and many) to reach its peak
a, b = torch.randn(n, n, dtype=dtype, device=dev), torch.randn(n, n, dtype=dtype, device=dev)
sync = torch.cuda.synchronize if cuda else (lambda: None)
best = 0.0
for _ in range(12):
    sync(); t = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(); best = max(best, reps * 2 * n**3 / (time.perf_counter() - t))
print(best / 1e9)
'''


def matmul_peak(threads: int, dtype: str = "float32", device: str = "cpu") -> float:
    """Matmul GFLOP/s in `dtype` on `device` with `threads` threads (best of 12)."""
    r = subprocess.run([sys.executable, "-c", PEAK, str(threads), dtype, device], capture_output=True, text=True,
                       check=True)
    return float(r.stdout.strip())


def precision(extra: list[str], device: str = "cpu") -> str:
    """The dtype a configuration trains in on `device`: its `amp` as `belamy train` resolves it."""
    import torch

    from belamy.core.device import pick_amp

    dtype = pick_amp(train_config(extra).amp, torch.device(device))
    return "float32" if dtype is None else str(dtype).removeprefix("torch.")


def gflop_per_image(extra: list[str], res: int) -> float:
    """Counted training GFLOP per real image of the model a preset (and --resolution) trains."""
    from belamy.models import build_discriminator, build_generator
    from belamy.models.flops import train_step_flops_per_image

    train = train_config(extra)
    cfg = train.model.replace(resolution=res)
    return train_step_flops_per_image(build_generator(cfg), build_discriminator(cfg), cfg,
                                      shared_fakes=train.shared_fakes)["total"] / 1e9


def _cuda_name() -> str:
    import torch

    return torch.cuda.get_device_name()


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
    ap.add_argument("--steps", type=int, default=None, help="steps per run (default 40 on a CPU, 200 on a GPU)")
    ap.add_argument("--min-images", type=int, default=1280,
                    help="belamy configurations run at least this many images (small batches: enough lazy-R1 intervals)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--only-64", action="store_true", help="skip the 128 px configurations (minutes each on a CPU)")
    ap.add_argument("--compare", help="NAME:key=value;... : the default against this variant, alternately")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--compare-steps", type=int, default=80, help="steps of each --compare run (more: less noise)")
    ap.add_argument("--device", default="cpu",
                    help="cuda: the GPU table (256 px preset, bf16 peak), written to train_speed-cuda.json")
    args = ap.parse_args()
    if args.compare:
        return compare(args.compare, args.rounds, args.threads, args.compare_steps)
    dev = args.device
    cuda = dev.startswith("cuda")
    args.steps = args.steps or (200 if cuda else 40)
    configs = CUDA_CONFIGS if cuda else [c for c in CONFIGS if c[2] == 64 or not args.only_64]
    root = Path(tempfile.mkdtemp(prefix="belamy-trainspeed-"))
    colls = {s: make_collection(root, s) for s in sorted({c[2] for c in configs})}
    results = []
    dtypes = {"float32"} | {precision(extra, dev) for _, extra, _ in configs}
    peaks = {d: matmul_peak(args.threads, d, dev) for d in sorted(dtypes)}
    r = subprocess.run([sys.executable, "-c", PLAIN_DCGAN, str(colls[64]), str(args.steps), str(args.threads), dev],
                       capture_output=True, text=True, check=True)
    img_s, peak_rss = map(float, r.stdout.split("RESULT")[1].split())
    results.append({"config": "baseline: plain DCGAN loop @64 (batch 128)", "resolution": 64, "batch": 128, "img_s": img_s,
                    "peak_rss_mb": peak_rss, "precision": "float32",
                    "gflop_per_img": round(gflop_per_image(["--preset", "dcgan-64"], 64), 3)})  # same network
    for name, extra, res in configs:
        batch = train_config(extra).batch_at(0)
        steps = max(args.steps, -(-args.min_images // batch))
        row = run_belamy(colls[res], root / name.replace(" ", "_").replace("/", ""), extra, steps, args.threads, dev)
        results.append({"config": name, "resolution": res, "batch": batch, "steps": steps,
                        "precision": precision(extra, dev),
                        "gflop_per_img": round(gflop_per_image(extra, res), 3), **row})
        print(f"  {name}: {row['img_s']} img/s", file=sys.stderr)
    peaks = {d: max(p, matmul_peak(args.threads, d, dev)) for d, p in peaks.items()}
    for row in results:
        # against the peak of the precision it trains in, and (comparable across rows) float32's
        row["achieved_gflop_s"] = round(row["gflop_per_img"] * row["img_s"], 1)
        row["of_peak"] = round(row["achieved_gflop_s"] / peaks[row["precision"]], 3)
        row["of_float32_peak"] = round(row["achieved_gflop_s"] / peaks["float32"], 3)
    base = results[0]["img_s"]
    where = _cuda_name() if cuda else f"{os.cpu_count()} CPU cores, {args.threads} threads"
    print(f"\ntraining speed on {where}, at least {args.steps} steps and {args.min_images} images each; "
          f"matmul peak {', '.join(f'{d} {p:.0f}' for d, p in peaks.items())} GFLOP/s\n")
    mem = "cuda_peak_mb" if cuda else "peak_rss_mb"  # the plain loop's row has RSS only
    print(f"{'configuration':44s} {'px':>4s} {'dtype':>8s} {'img/s':>7s} {'vs plain':>9s} "
          f"{'GPU MB' if cuda else 'peak MB':>8s} {'GFLOP/img':>10s} {'GFLOP/s':>8s} {'of peak':>8s} {'of fp32':>8s}")
    for row in results:
        print(f"{row['config']:44s} {row['resolution']:4d} {row['precision']:>8s} {row['img_s']:7.1f} {row['img_s'] / base:8.2f}x "
              f"{row.get(mem, float('nan')):8.0f} {row['gflop_per_img']:10.2f} {row['achieved_gflop_s']:8.1f} "
              f"{row['of_peak']:8.0%} {row['of_float32_peak']:8.0%}")
    # train_speed.json stays the CPU reference that quality.py converts idle minutes with
    write_result("train_speed-cuda" if cuda else "train_speed", {
                                 "device": _cuda_name() if cuda else "cpu",
                                 "steps": args.steps, "min_images": args.min_images, "threads": args.threads,
                                 "matmul_peak_gflop_s": round(peaks["float32"], 1),
                                 "matmul_peak_gflop_s_by_dtype": {d: round(p, 1) for d, p in peaks.items()},
                                 "rows": results})


if __name__ == "__main__":
    main()
