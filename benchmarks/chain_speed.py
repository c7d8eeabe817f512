"""Chain throughput at 128 px: renders per second and FLOP utilisation of the pix2pix step.

    python benchmarks/chain_speed.py [--count 256] [--threads 2] [--rounds 3] [--sr-count 32] [--result NAME]

A `pix2pix-128` generator at its initial weights (what it learned does not change the cost) runs
`belamy chain` on `--count` sampled poses: stick figures drawn, translated in batches of 16,
each render written with its record. Cases, alternated round by round (the median and the
range are reported, since a shared machine drifts): the pieces alone (drawing the sticks; the
generator's convolutions alone, each on its captured input; the generator's forward passes on
ready tensors, what a chain could at best reach), the chain's former loop (each render then its
record, each file fsynced on its own, nothing overlapped), the chain with one durability barrier
a batch but drawing and writing in turn (`overlap=False`), `belamy chain` without and with
keeping the sticks, and with an `[upscale]` step through an
`sr-x2` run (also at its initial weights; 128 -> 256 px), beside the two generators alone.
Utilisation: the counted forward FLOPs (`models.flops`; for the upscale case the pix2pix and
the SR generator's) times renders/s over the float32 matmul peak measured with the same threads
in the same run. Prints a table, writes benchmarks/results/chain_speed.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import untrained_run, write_result
from train_speed import matmul_peak


def former_chain(cfg, out: Path) -> None:
    """The chain's loop before the writer lane: sticks, forward, then per render its PNG and its
    record, each atomically (two fsyncs a file), all in turn. The baseline of the I/O changes."""
    import numpy as np

    from belamy.api.chain import _flat, chain_poses, name, stick_config
    from belamy.core.png import save_png
    from belamy.data.stick import render_stick
    from belamy.generate.records import render_record, save_render
    from belamy.generate.translate import translate_arrays
    from belamy.models.run import Run

    run = Run.open(cfg.translate.run)
    G = run.generator("cpu")
    poses, source = chain_poses(cfg)
    sc = stick_config(cfg, G.resolution)
    n, size = cfg.poses.count, cfg.output.batch
    for s in range(0, n, size):
        batch = list(range(s, min(s + size, n)))
        drawn = np.stack([render_stick(poses[i], sc) for i in batch])
        made = translate_arrays(G, drawn, batch=len(batch))
        for i in batch:
            j = i - batch[0]
            if cfg.output.sticks:
                save_png(drawn[j], out / "sticks" / f"{name(i)}.png")
            record = render_record(run, "chain", "cpu", index=i, batch=[batch[0], batch[-1] + 1],
                                   pose=_flat(poses[i]), pose_source=source, stick=asdict(sc))
            save_render(made[j], out / "renders" / f"{name(i)}.png", record)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--result", default="chain_speed", help="the results file's name")
    ap.add_argument("--sr-count", type=int, default=32, help="renders of the two upscale cases (each ~11x the cost)")
    args = ap.parse_args()
    import numpy as np
    import torch

    from belamy.api.chain import run_chain
    from belamy.api.upscale import SRUpscaler
    from belamy.chain.config import (
        ChainConfig,
        OutputStep,
        PosesStep,
        TranslateStep,
        UpscaleStep,
    )
    from belamy.data.pose_sampler import sample_poses
    from belamy.data.stick import StickConfig, render_stick
    from belamy.generate.translate import translate_arrays
    from belamy.models.flops import count_flops

    torch.set_num_threads(args.threads)
    root = Path(tempfile.mkdtemp(prefix="belamy-chain-bench-"))
    run = untrained_run(root / "p2p", "pix2pix-128", {"collection": str(root)})
    sr_run = untrained_run(root / "sr", "sr-x2", {"collection": str(root)})
    G = run.generator("cpu")
    R = G.resolution
    up = SRUpscaler(sr_run, "cpu")
    flops = count_flops(G, torch.zeros(1, 3, R, R))  # per render, forward
    sr_flops = count_flops(up.G, torch.zeros(1, 3, R, R))
    n = args.count

    poses = sample_poses(n, 0)
    cfg_stick = StickConfig(size=R)
    sticks = np.stack([render_stick(p, cfg_stick) for p in poses])
    made = translate_arrays(G, sticks[:16])  # warm-up

    def chain_cfg(keep: bool, upscale: bool = False) -> ChainConfig:
        return ChainConfig(poses=PosesStep(count=m if upscale else n, seed=0), translate=TranslateStep(run=str(run.path)),
                           output=OutputStep(batch=16, sticks=keep),
                           upscale=UpscaleStep(run=str(sr_run.path)) if upscale else None)

    m = args.sr_count
    convs = [mod for mod in G.modules() if isinstance(mod, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    inputs: dict[torch.nn.Module, torch.Tensor] = {}

    def keep_input(mod: torch.nn.Module, i: tuple[torch.Tensor, ...], o: torch.Tensor) -> None:
        inputs[mod] = i[0].detach().clone()

    hooks = [mod.register_forward_hook(keep_input) for mod in convs]
    translate_arrays(G, sticks[:16])
    for h in hooks:
        h.remove()

    @torch.no_grad()
    def convs_alone() -> None:
        """Each convolution of G on its own batch-of-16 input, as many batches as renders: what
        the forward costs without its norms, activations and concatenations (the ceiling)."""
        for _ in range(0, n, 16):
            for mod in convs:
                mod(inputs[mod])

    def sr_alone() -> None:
        for a in translate_arrays(G, sticks[:m], batch=16):
            up(a, (2 * R, 2 * R))

    # (name, flops per render, what it runs); n renders each
    cases = [
        ("stick figures alone", 0.0, lambda out: [render_stick(p, cfg_stick) for p in poses]),
        ("the generator's convolutions alone (batches of 16)", flops, lambda out: convs_alone()),
        ("baseline: the generator alone (batches of 16)", flops, lambda out: translate_arrays(G, sticks, batch=16)),
        ("before: the chain's former loop (per-render fsyncs, serial)", flops,
         lambda out: former_chain(chain_cfg(False), out)),
        ("the chain, one barrier a batch, nothing overlapped", flops,
         lambda out: run_chain(chain_cfg(False), out, device="cpu", progress=False, overlap=False)),
        ("belamy chain", flops, lambda out: run_chain(chain_cfg(False), out, device="cpu", progress=False)),
        ("belamy chain (keeping the sticks)", flops,
         lambda out: run_chain(chain_cfg(True), out, device="cpu", progress=False)),
        ("baseline: pix2pix + sr-x2 alone (to 256 px)", flops + sr_flops, lambda out: sr_alone()),
        ("belamy chain with [upscale] sr-x2 (to 256 px)", flops + sr_flops,
         lambda out: run_chain(chain_cfg(False, True), out, device="cpu", progress=False)),
    ]
    def count(label: str) -> int:
        return m if "sr-x2" in label else n

    peaks = [matmul_peak(args.threads)]
    times: dict[str, list[float]] = {c[0]: [] for c in cases}
    for r in range(args.rounds):
        for k, (label, _, fn) in enumerate(cases):
            if r == 0 and "sr-x2" in label:
                up(made[0], (2 * R, 2 * R))  # warm-up
            t = time.perf_counter()
            fn(root / f"out-{r}-{k}")
            times[label].append(time.perf_counter() - t)
            print(f"  round {r}: {label}: {count(label) / times[label][-1]:.1f}/s", file=sys.stderr)
        peaks.append(matmul_peak(args.threads))
    peak = statistics.median(peaks)
    rows = []
    for label, f, _ in cases:
        rates = sorted(count(label) / s for s in times[label])
        row = {"case": label, "renders": count(label), "seconds": times[label], "renders_s": statistics.median(rates),
               "renders_s_range": [rates[0], rates[-1]]}
        if f:
            row["gflop_per_render"] = f / 1e9
            row["gflop_s"] = f * row["renders_s"] / 1e9
            row["of_peak"] = row["gflop_s"] / peak
        rows.append(row)

    print(f"\nchain at {R} px, {n} renders ({m} upscaled), {args.threads} threads, median of {args.rounds} rounds; pix2pix "
          f"{flops / 1e9:.2f} GFLOP per render, sr-x2 {sr_flops / 1e9:.2f}; float32 matmul peak {peak:.0f} GFLOP/s "
          f"(range {min(peaks):.0f}-{max(peaks):.0f})\n")
    print(f"{'case':62s} {'renders/s':>10s} {'range':>13s} {'GFLOP/s':>8s} {'of peak':>8s}")
    for r in rows:
        util = f"{r['gflop_s']:8.1f} {100 * r['of_peak']:7.0f}%" if "gflop_s" in r else f"{'':8s} {'':8s}"
        lo, hi = r["renders_s_range"]
        print(f"{r['case']:62s} {r['renders_s']:10.1f} {lo:6.1f}-{hi:<6.1f} {util}")
    write_result(args.result, {"threads": args.threads, "count": n, "sr_count": m, "rounds": args.rounds, "resolution": R,
                                 "gflop_per_render": flops / 1e9, "sr_gflop_per_render": sr_flops / 1e9,
                                 "matmul_peak_gflop_s": peak, "matmul_peaks": peaks, "rows": rows})


if __name__ == "__main__":
    main()
