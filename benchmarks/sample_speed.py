"""Sampling throughput and peak memory: images/s of the EMA generator at 64, 256 and 1024 px.

    python benchmarks/sample_speed.py [--threads 2] [--device cpu]

Rendering speed does not depend on what the weights learned, so each preset is built with its
initial weights (no training needed) and renders batches of fixed seeds exactly as `belamy sample`
does (`render_batch`: latents from seeds on the CPU, constant noise, uint8 out). Each preset runs
in its own process, so peak resident memory (and peak CUDA memory on a GPU) is its own. The
baseline row is the plain DCGAN-64 generator in the same run. Prints a table and writes
benchmarks/results/sample_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_result  # noqa: E402

CHILD = r'''
import json, resource, sys, time, torch
from belamy.generate.sample import render_batch
from belamy.models import build_generator
from belamy.training.presets import train_preset
name, device, threads, batch, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
G = build_generator(train_preset(name).model, seed=0).eval().requires_grad_(False).to(device)
render_batch(G, list(range(batch)), device=device, batch=batch)  # warm-up
if device.startswith("cuda"): torch.cuda.synchronize()
t0 = time.perf_counter()
render_batch(G, list(range(count)), device=device, batch=batch)
if device.startswith("cuda"): torch.cuda.synchronize()
dt = time.perf_counter() - t0
out = {"img_s": count / dt, "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
if device.startswith("cuda"): out["cuda_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
print("RESULT " + json.dumps(out))
'''

# (preset, resolution, batch, images on the CPU)
CONFIGS = [("dcgan-64", 64, 16, 256), ("cpu-quick-64", 64, 16, 256),
           ("portrait-256", 256, 4, 16), ("gpu-1024", 1024, 1, 3)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--scale", type=int, default=1, help="render this many times more images (steadier on a GPU)")
    args = ap.parse_args()
    rows = []
    for name, res, batch, count in CONFIGS:
        if args.device.startswith("cuda"):
            batch, count = batch * 4, count * 16
        count *= args.scale
        r = subprocess.run([sys.executable, "-c", CHILD, name, args.device, str(args.threads), str(batch), str(count)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(r.stderr[-2000:])
        result = json.loads(r.stdout.split("RESULT ", 1)[1])
        rows.append({"preset": name, "resolution": res, "batch": batch, "images": count, **result})
        print(f"  {name}: {result['img_s']:.2f} img/s", file=sys.stderr)
    base = rows[0]["img_s"]
    print(f"\nsampling speed, {args.device}, {args.threads} threads (baseline: DCGAN-64 generator)\n")
    print(f"{'preset':18s} {'px':>5s} {'batch':>6s} {'img/s':>9s} {'vs dcgan':>9s} {'peak RSS MB':>12s}"
          + (f" {'CUDA peak MB':>13s}" if args.device.startswith("cuda") else ""))
    for r in rows:
        line = (f"{r['preset']:18s} {r['resolution']:5d} {r['batch']:6d} {r['img_s']:9.2f} "
                f"{r['img_s'] / base:8.2f}x {r['rss_peak_mb']:12.0f}")
        if "cuda_peak_mb" in r:
            line += f" {r['cuda_peak_mb']:13.0f}"
        print(line)
    write_result("sample_speed" if args.device == "cpu" else f"sample_speed_{args.device.split(':')[0]}",
                 {"device": args.device, "threads": args.threads, "rows": rows})


if __name__ == "__main__":
    main()
