"""Seconds to finish a 1024 px render, end to end, signing included.

    python benchmarks/finish_speed.py [--threads 2] [--repeats 3]

A run of the `gpu-1024` preset is made with its initial weights (what the weights learned does not
change the cost of finishing), one seed is rendered as `belamy sample` does, and `belamy finish`
turns it into an artwork: the re-render check, the signature, the record, XMP and the signed C2PA
manifest (with the 1024 px generator as an ingredient, which C2PA hashes). Also a 30x30 cm print
at 300 dpi (3543 px), and TIFF and JPEG. The baseline, in the same run, is what saving the same
pixels as a plain PNG costs (Pillow, no metadata). Prints a table, writes results/finish_speed.json.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import untrained_run, write_result  # noqa: E402


def make_run(root: Path):
    """The gpu-1024 generator at its initial weights, trained (in name) on 16 demo portraits."""
    from belamy.data.collect import collect

    coll = collect(["demo://portraits"], root / "collection", size=64, demo_count=16, progress=False)
    return untrained_run(root, "gpu-1024", {"collection": str(coll.path.resolve()), "collection_count": len(coll)})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import numpy as np
    import torch
    from PIL import Image

    from belamy.api.finish import FinishOptions, finish, verify
    from belamy.api.sample import sample
    from belamy.finish.printing import PrintConfig
    from belamy.provenance.keys import init_keys

    torch.set_num_threads(args.threads)
    root = Path(tempfile.mkdtemp(prefix="belamy-finish-bench-"))
    run = make_run(root)
    render = sample(run, [7], root / "renders", originality=False, progress=False)[0]
    init_keys(root / "keys", "Benchmark Artist")
    pixels = np.asarray(Image.open(render).convert("RGB"))

    def baseline() -> float:
        t = time.perf_counter()
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="PNG")
        return time.perf_counter() - t

    cases = [("PNG, 1024 px (the render's size)", PrintConfig()),
             ("TIFF, 1024 px", PrintConfig(format="tiff")),
             ("JPEG, 1024 px", PrintConfig(format="jpeg")),
             ("PNG, 30x30 cm at 300 dpi (3543 px)", PrintConfig(size="30x30cm"))]
    rows = []
    base = statistics.median(baseline() for _ in range(args.repeats))
    for name, printing in cases:
        runs = []
        for i in range(args.repeats):
            res = finish(render, root / f"out-{len(rows)}-{i}", FinishOptions(printing=printing, keys=root / "keys"))
            runs.append(res.seconds)
        t = time.perf_counter()
        verdict = verify(res.artwork, keys=root / "keys")
        verify_s = time.perf_counter() - t
        assert verdict.status == "verified", verdict.findings
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        rows.append({"case": name, "seconds": med, "verify_s": verify_s, "bytes": res.artwork.stat().st_size,
                     "size": [res.record["artwork"]["width"], res.record["artwork"]["height"]]})
        print(f"  {name}: {med['total']:.2f} s", file=sys.stderr)

    print(f"\nfinishing a 1024 px gpu-1024 render, {args.threads} threads, median of {args.repeats}\n")
    print(f"{'case':38s} {'total s':>8s} {'check':>6s} {'upscale':>8s} {'sign':>6s} {'record':>7s} {'c2pa':>6s}"
          f" {'verify s':>9s} {'MB':>6s}")
    print(f"{'baseline: plain PNG save (Pillow)':38s} {base:8.2f}")
    for r in rows:
        s = r["seconds"]
        print(f"{r['case']:38s} {s['total']:8.2f} {s['check']:6.2f} {s['upscale']:8.2f} {s['signature']:6.2f} "
              f"{s['record']:7.2f} {s['c2pa']:6.2f} {r['verify_s']:9.2f} {r['bytes'] / 2**20:6.1f}")
    write_result("finish_speed", {"threads": args.threads, "repeats": args.repeats, "baseline_png_save_s": base,
                                  "rows": rows})


if __name__ == "__main__":
    main()
