"""The outside peers (lightweight-gan and stylegan2-pytorch from PyPI) at equal wall time, scored
exactly as `benchmarks/quality.py` scores belamy's models.

Each peer trains on the same prepared collection (exported as a folder of PNGs, which is what the
peers read) for MINUTES of wall-clock time on an otherwise idle machine, then draws as many
renders as quality.py does (half B's size) and they are measured against half A: SWD, KID,
precision, recall and near copies. The peers live in their own environment because their PyPI
packages pull torchvision (on this machine a CUDA build of torch, several GB), so the training
runs in `--python`, an interpreter of that environment (`benchmarks/peer_child.py`, where the CPU
shim is described: both peers hard-code CUDA).

    python -m venv .peers && .peers/bin/pip install torch==2.14.1 torchvision==0.29.1 \\
        lightweight-gan stylegan2-pytorch
    python benchmarks/peers.py --python .peers/bin/python [--minutes 5] [--collections demo,clipart]

On a GPU machine add `--device cuda` (the peers then run unmodified). Prints a table with the floor
and belamy's default and DCGAN at the same idle minutes (from `--belamy`, a committed quality
result), writes benchmarks/results/peers.json and a contact sheet per collection to `--sheets`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import write_result  # noqa: E402
from quality import ROOT, Judge, halves, prepare, save_sheet  # noqa: E402

PEERS = ("lightweight-gan", "stylegan2-pytorch")


def export_folder(images: np.ndarray, folder: Path) -> Path:
    """The collection as PNG files (what the peers train from), written once: into a temporary
    folder renamed when complete, so an interrupted export is never taken for a whole one."""
    import shutil

    from belamy.core.png import save_png

    if folder.is_dir():
        return folder
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for i, im in enumerate(images):
        save_png(im, tmp / f"{i:05d}.png")
    tmp.rename(folder)
    return folder


def belamy_rows(path: Path, collection: str, budget: float) -> list[dict]:
    """The median rows of belamy's models at `budget` (in the result's own unit) of a committed
    quality result: the same measures of the same collection."""
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    return [{**row, "peer": f"belamy {row['model']} (median of seeds {row['seeds']})"}
            for row in data.get("medians", [])
            if row.get("collection") == collection and abs(float(row.get("minutes", -1)) - budget) < 0.01]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", required=True, help="interpreter of the environment with the peers installed")
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--collections", default="demo,clipart")
    ap.add_argument("--configs", default="default,small", help="peer settings: default, small (see peer_child.py)")
    ap.add_argument("--minutes", type=float, default=5.0, help="wall-clock training time of each peer")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--name", default="peers", help="results/NAME.json and the sheets' prefix")
    ap.add_argument("--device", default="cpu", help="cpu (through the shim) or cuda")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "belamy-bench")
    ap.add_argument("--work", type=Path, default=Path("/tmp/belamy-peers"))
    ap.add_argument("--sheets", type=Path, default=ROOT / "docs" / "quality")
    ap.add_argument("--belamy", type=Path, default=ROOT / "benchmarks" / "results" / "quality-mbstd8.json",
                    help="quality result whose medians give belamy's rows")
    ap.add_argument("--belamy-budget", type=float, default=35.75,
                    help="its budget equal to --minutes of idle wall time (35.75 kimg: 5 idle minutes of the default)")
    args = ap.parse_args()
    from belamy.data.collection import Collection

    rows = []
    for cname in args.collections.split(","):
        images = Collection.open(prepare(cname, args.cache)).load()
        a, b = halves(len(images))
        judge = Judge(images, a, b)
        folder = export_folder(images, args.work / f"images-{cname}")
        sheet = []
        for peer in args.peers.split(","):
            for config in args.configs.split(","):
                work = args.work / f"{cname}-{peer}-{config}-{args.minutes:g}min-s{args.seed}"
                if not (work / "result.json").is_file():
                    print(f"  training {peer} ({config}) on {cname} for {args.minutes:g} minutes", file=sys.stderr)
                    subprocess.run([args.python, str(Path(__file__).parent / "peer_child.py"), peer, str(folder),
                                    str(work), str(args.minutes), str(judge.n), str(args.threads), str(args.seed),
                                    args.device, config], check=True, stdout=subprocess.DEVNULL)
                run = json.loads((work / "result.json").read_text())
                run["peer"] = f"{peer} ({config}, {sum(run['params'].values()) / 1e6:.2f}M params)"
                fake = np.load(work / "renders.npy")
                rows.append({"collection": cname, **run, **judge.score(fake)})
                sheet.append((f"{peer} {config}", fake))
        rows.append({"collection": cname, "peer": "floor (half B against half A)", **judge.floor})
        rows += belamy_rows(args.belamy, cname, args.belamy_budget)
        save_sheet(args.sheets / f"{args.name}-{cname}.png", images[b] if cname == "demo" else None, sheet)
    print(f"\npeers at {args.minutes:g} minutes of wall time, {args.threads} threads, device {args.device}\n")
    print(f"{'collection':10s} {'model':48s} {'kimg':>6s} {'img/s':>6s} {'SWD x1e3':>9s} {'KID x1e3':>9s} "
          f"{'prec':>5s} {'recall':>6s} {'near copies':>11s}")
    for r in rows:
        kid = r.get("kid", {}).get("mean")
        orig = r.get("originality", {}).get("near_copies")
        print(f"{r['collection']:10s} {r['peer']:48s} {r.get('kimg', float('nan')):6.2f} {r.get('img_s', float('nan')):6.1f} "
              f"{r['swd']['mean']:9.1f} {kid * 1e3 if kid is not None else float('nan'):9.1f} "
              f"{r.get('precision', float('nan')):5.2f} {r.get('recall', float('nan')):6.2f} "
              f"{'' if orig is None else orig:>11}")
    write_result(args.name, {"minutes": args.minutes, "belamy": args.belamy.name, "belamy_budget": args.belamy_budget, "threads": args.threads, "device": args.device,
                           "seed": args.seed, "rows": rows})


if __name__ == "__main__":
    main()
