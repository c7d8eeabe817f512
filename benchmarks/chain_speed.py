"""Chain throughput at 128 px: renders per second and FLOP utilisation of the pix2pix step.

    python benchmarks/chain_speed.py [--count 128] [--threads 2]

A `pix2pix-128` generator at its initial weights (what it learned does not change the cost) runs
`belamy chain` on `--count` sampled poses: stick figures drawn, translated in batches of 16,
each render written with its record (and its stick figure). Beside it, in the same run: the
pieces alone (drawing the sticks; the generator's forward passes on ready tensors, the
baseline, which is what a chain could at best reach) and the float32 matmul peak with the same
threads. Utilisation: the generator's counted FLOPs (`models.flops`) times renders/s over that
peak. No upscaling step yet (the super-resolution runs come with the refine stage). Prints a
table, writes benchmarks/results/chain_speed.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import untrained_run, write_result  # noqa: E402
from train_speed import matmul_peak  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import numpy as np
    import torch

    from belamy.api.chain import run_chain
    from belamy.chain.config import ChainConfig, OutputStep, PosesStep, TranslateStep
    from belamy.data.pose_sampler import sample_poses
    from belamy.data.stick import StickConfig, render_stick
    from belamy.generate.translate import translate_arrays
    from belamy.models.flops import count_flops

    torch.set_num_threads(args.threads)
    peak = matmul_peak(args.threads)
    root = Path(tempfile.mkdtemp(prefix="belamy-chain-bench-"))
    run = untrained_run(root, "pix2pix-128", {"collection": str(root)})
    G = run.generator("cpu")
    R = G.resolution
    flops = count_flops(G, torch.zeros(1, 3, R, R))  # per image, forward
    rows = []

    def row(name: str, n: int, seconds: float, translate: bool) -> None:
        r = {"case": name, "renders": n, "seconds": seconds, "renders_s": n / seconds}
        if translate:
            r["gflop_s"] = flops * r["renders_s"] / 1e9
            r["of_peak"] = r["gflop_s"] / peak
        rows.append(r)
        print(f"  {name}: {r['renders_s']:.1f}/s", file=sys.stderr)

    poses = sample_poses(args.count, 0)
    cfg_stick = StickConfig(size=R)
    t = time.perf_counter()
    sticks = np.stack([render_stick(p, cfg_stick) for p in poses])
    row("stick figures alone", args.count, time.perf_counter() - t, False)
    translate_arrays(G, sticks[:16])  # warm-up
    t = time.perf_counter()
    translate_arrays(G, sticks, batch=16)
    row("baseline: the generator alone (batches of 16)", args.count, time.perf_counter() - t, True)
    for keep in (False, True):
        cfg = ChainConfig(poses=PosesStep(count=args.count, seed=0), translate=TranslateStep(run=str(run.path)),
                          output=OutputStep(batch=16, sticks=keep))
        t = time.perf_counter()
        run_chain(cfg, root / f"chain-{keep}", device="cpu", progress=False)
        row(f"belamy chain{' (keeping the sticks)' if keep else ''}", args.count, time.perf_counter() - t, True)

    print(f"\nchain at {R} px, {args.count} renders, {args.threads} threads; generator {flops / 1e9:.2f} GFLOP "
          f"per render; float32 matmul peak {peak:.0f} GFLOP/s\n")
    print(f"{'case':48s} {'renders/s':>10s} {'GFLOP/s':>8s} {'of peak':>8s}")
    for r in rows:
        util = f"{r['gflop_s']:8.1f} {100 * r['of_peak']:7.0f}%" if "gflop_s" in r else f"{'':8s} {'':8s}"
        print(f"{r['case']:48s} {r['renders_s']:10.1f} {util}")
    write_result("chain_speed", {"threads": args.threads, "count": args.count, "resolution": R,
                                 "gflop_per_render": flops / 1e9, "matmul_peak_gflop_s": peak, "rows": rows})


if __name__ == "__main__":
    main()
