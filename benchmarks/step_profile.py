"""Where a training step of the default model spends its time, and how close its convolutions run
to the machine's matmul peak: the evidence behind the utilisation figure of `train_speed.py`.

For each thread count, one process trains the default preset on the demo collection: warm-up
steps, then timed steps (img/s without the profiler), then profiled steps (torch.profiler, self
time per ATen op). The table splits a step into convolution kernels (forward, backward, the
transposed up-convs), matrix products, and everything else (element-wise ops, augmentation,
optimizer, autograd bookkeeping), and gives the convolutions' rate: the step's counted FLOPs
(`belamy.models.flops`, which are almost all convolution FLOPs) over the time spent in
convolution kernels, against the matmul peak measured with the same threads in the precision the
preset trains in (bf16 on a CPU with native bf16, see `train_speed.precision`) and in float32.
The convolutions' own rate is the ceiling of the step's utilisation: a step made of nothing but
its convolutions would reach it, so everything else can only pull the step below it.

    python benchmarks/step_profile.py [--threads 1,2] [--steps 40]
prints a table and writes benchmarks/results/step_profile.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_result  # noqa: E402
from train_speed import gflop_per_image, make_collection, matmul_peak, precision  # noqa: E402

WARMUP = 20


def category(op: str) -> str:
    if "conv" in op:
        return "conv"
    if op in ("aten::mm", "aten::addmm", "aten::bmm"):
        return "matmul"
    return "other"


def child(collection: str, out: str, threads: int, steps: int) -> None:
    """Train in this process and print one JSON line: timings per step by category."""
    import time

    from torch.profiler import profile

    from belamy.training.presets import train_preset
    from belamy.training import loop
    from belamy.training.train import train

    state = {"n": 0}
    timed_end, total = WARMUP + steps, WARMUP + 2 * steps
    orig = loop.Trainer.train_step

    def step(self) -> None:
        n = state["n"]
        state["n"] += 1
        if n == WARMUP:
            state["t0"] = time.perf_counter()
        if n == timed_end:
            state["timed"] = time.perf_counter() - state["t0"]
            state["prof"] = profile()
            state["prof"].__enter__()
        orig(self)
        if n == total - 1:
            state["prof"].__exit__(None, None, None)

    loop.Trainer.train_step = step
    cfg = train_preset("cpu-quick-64")
    cfg.mirror = True  # the training stage runs a decided config (belamy.train decides "auto")
    train(collection, out, cfg, steps=total, threads=threads, device="cpu", preview_kimg=0,
          checkpoint_kimg=0, checkpoint_minutes=0, originality_n=0, progress=False)
    events = state["prof"].key_averages()
    ms = {"conv": 0.0, "matmul": 0.0, "other": 0.0}
    others: dict[str, float] = {}
    for e in events:
        t = e.self_cpu_time_total / 1000 / steps
        ms[category(e.key)] += t
        if category(e.key) == "other":
            others[e.key] = others.get(e.key, 0.0) + t
    top = sorted(others.items(), key=lambda kv: -kv[1])[:10]
    print("RESULT " + json.dumps({"threads": threads, "batch": cfg.batch,
                                  "img_s": cfg.batch * steps / state["timed"],
                                  "ms": ms, "top_other": top}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--steps", type=int, default=40, help="timed steps, then as many profiled")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        coll, out, threads, steps = args.child
        return child(coll, out, int(threads), int(steps))
    root = Path(tempfile.mkdtemp(prefix="belamy-profile-"))
    coll = make_collection(root, 64)
    gflop = gflop_per_image(["--preset", "cpu-quick-64"], 64)
    dtype = precision(["--preset", "cpu-quick-64"])
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        r = subprocess.run([sys.executable, __file__, "--child", str(coll), str(root / f"run{threads}"),
                            str(threads), str(args.steps)], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(r.stderr)
        row = json.loads(r.stdout.split("RESULT ", 1)[1].splitlines()[0])
        peak, fp32 = matmul_peak(threads, dtype), matmul_peak(threads)
        step_ms = sum(row["ms"].values())
        conv_gflop_s = gflop * row["batch"] / (row["ms"]["conv"] / 1000)
        row.update(precision=dtype, matmul_peak_gflop_s=round(peak, 1), float32_peak_gflop_s=round(fp32, 1),
                   profiled_step_ms=round(step_ms, 1), gflop_per_img=round(gflop, 3),
                   of_peak=round(gflop * row["img_s"] / peak, 3), of_float32_peak=round(gflop * row["img_s"] / fp32, 3),
                   conv_gflop_s=round(conv_gflop_s, 1), conv_of_peak=round(conv_gflop_s / peak, 3))
        rows.append(row)
    print(f"\ndefault model (cpu-quick-64), batch {rows[0]['batch']}, {gflop:.2f} counted GFLOP per image, trains in {dtype}; "
          f"peaks are {dtype} matmul (float32 in brackets)\n")
    print(f"{'threads':>7s} {'img/s':>7s} {'of peak':>8s} {'step ms':>8s} {'conv ms':>14s} {'matmul ms':>10s} "
          f"{'other ms':>14s} {'conv GFLOP/s':>13s} {'conv of peak':>13s} {'peak GFLOP/s':>14s}")
    for r in rows:
        s, m = r["profiled_step_ms"], r["ms"]
        print(f"{r['threads']:7d} {r['img_s']:7.1f} {r['of_peak']:8.0%} {s:8.1f} {m['conv']:8.1f} ({m['conv'] / s:3.0%}) "
              f"{m['matmul']:10.1f} {m['other']:8.1f} ({m['other'] / s:3.0%}) {r['conv_gflop_s']:13.1f} {r['conv_of_peak']:13.0%} "
              f"{r['matmul_peak_gflop_s']:6.0f} ({r['float32_peak_gflop_s']:.0f})")
    for r in rows:
        print(f"  {r['threads']} thread(s), largest other ops (ms/step): "
              + ", ".join(f"{k.replace('aten::', '')} {v:.1f}" for k, v in r["top_other"]))
    write_result("step_profile", {"steps": args.steps, "warmup": WARMUP, "rows": rows})


if __name__ == "__main__":
    main()
