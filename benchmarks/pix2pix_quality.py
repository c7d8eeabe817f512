"""pix2pix on the figures demo: `belamy train-pair` against a plainly written pix2pix at equal wall time.

    python benchmarks/pix2pix_quality.py [--minutes 10] [--threads 2] [--count 400] [--size 64]

Data: the figures demo (painted full-body figures over sampled poses) at `--size`, paired with
their stick figures (`belamy pairs --condition pose`); the last 10% are held out. Both models
are the same size (U-Net with ngf 32, PatchGAN with ndf 32, 3 strided layers, as `pix2pix-64`)
and train for the same wall minutes, one after the other, each in its own process:
- belamy: `belamy train-pair` with its preset (batch 8, InstanceNorm, shared fakes, fused Adam);
- baseline: the paper's loop written plainly in PyTorch (~50 lines, no belamy): batch 1,
  BatchNorm, a G forward for D and another for G each step, Adam 2e-4, beta1 0.5, L1 x 100.
Held-out quality: L1 and SSIM of output against target, and SWD x1e3 of outputs against targets
(the baseline tested as the paper's code tests by default: each image alone, dropout on).
Speed: training images per second. Target (issue 26): at least the baseline's held-out L1 while
training at least 1.5x faster. Prints a table, writes benchmarks/results/pix2pix_quality.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import write_result  # noqa: E402

NETS = r'''
import numpy as np, torch, torch.nn as nn
ngf = ndf = 32
def down(i, o, norm=True): return [nn.LeakyReLU(0.2), nn.Conv2d(i, o, 4, 2, 1)] + ([nn.BatchNorm2d(o)] if norm else [])
class UNet(nn.Module):
    def __init__(s, res):
        super().__init__()
        n = int(np.log2(res)); w = [min(ngf * 2 ** i, ngf * 8) for i in range(n)]
        s.downs = nn.ModuleList([nn.Conv2d(3, w[0], 4, 2, 1)] + [nn.Sequential(*down(w[i - 1], w[i], i < n - 1)) for i in range(1, n)])
        ups = []
        for i in range(n - 1, 0, -1):
            cin = w[i] if i == n - 1 else 2 * w[i]
            ups.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(cin, w[i - 1], 4, 2, 1), nn.BatchNorm2d(w[i - 1]),
                                     *([nn.Dropout(0.5)] if i >= n - 3 else [])))
        s.ups = nn.ModuleList(ups)
        s.out = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(2 * w[0], 3, 4, 2, 1), nn.Tanh())
    def forward(s, x):
        skips = []
        for d in s.downs: x = d(x); skips.append(x)
        x = skips.pop()
        for u in s.ups: x = torch.cat([u(x), skips.pop()], 1)
        return s.out(x)
def PatchD():
    return nn.Sequential(nn.Conv2d(6, ndf, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(ndf, ndf * 2, 4, 2, 1), nn.BatchNorm2d(ndf * 2),
        nn.LeakyReLU(0.2), nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 1, 1), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2), nn.Conv2d(ndf * 8, 1, 4, 1, 1))
'''

LOOP = r'''
import json, sys, time
pairs, minutes, threads, out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
torch.set_num_threads(threads); torch.manual_seed(0)
from belamy.data.pairs import Pairs
p = Pairs.open(pairs)
A = torch.from_numpy(p.condition.load()).permute(0, 3, 1, 2).float() / 127.5 - 1
B = torch.from_numpy(p.target.load()).permute(0, 3, 1, 2).float() / 127.5 - 1
G, D = UNet(A.shape[-1]), PatchD()
oG = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999)); oD = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
bce = nn.BCEWithLogitsLoss()
t0, step = time.perf_counter(), 0
while time.perf_counter() - t0 < minutes * 60:
    i = step % len(A); a, b = A[i:i + 1], B[i:i + 1]
    if torch.rand(1).item() < 0.5: a, b = a.flip(3), b.flip(3)
    oD.zero_grad()
    r, f = D(torch.cat([a, b], 1)), D(torch.cat([a, G(a).detach()], 1))
    (0.5 * (bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f)))).backward(); oD.step()
    oG.zero_grad(); fake = G(a); f = D(torch.cat([a, fake], 1))
    (bce(f, torch.ones_like(f)) + 100 * (fake - b).abs().mean()).backward(); oG.step()
    step += 1
torch.save(G.state_dict(), out + ".pt")
json.dump({"images": step, "seconds": time.perf_counter() - t0}, open(out + ".json", "w"))
'''


def split_pairs(src: Path, out: Path, lo: int, hi: int) -> Path:
    """Rows lo..hi-1 of a pairs folder as a pairs folder of their own."""
    from belamy.core import atomic
    from belamy.data.collection import CollectionWriter
    from belamy.data.pairs import META_FILE, Pairs

    p = Pairs.open(src)
    for side in ("condition", "target"):
        coll = getattr(p, side)
        w = CollectionWriter(out / side, coll.size)
        for i in range(lo, hi):
            w.append(np.asarray(coll.images[i]).tobytes(), {k: v for k, v in coll.manifest[i].items() if k != "index"})
        w.commit({"source": f"rows {lo}-{hi - 1} of {src}"})
    atomic.write_json(out / META_FILE, {**p.meta, "count": hi - lo})
    return out


def held_out_scores(outputs: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    import torch

    from belamy.core.similarity import ssim
    from belamy.metrics.swd import swd

    a = torch.from_numpy(outputs).permute(0, 3, 1, 2).float() / 255
    b = torch.from_numpy(targets).permute(0, 3, 1, 2).float() / 255
    return {"l1": float((a - b).abs().mean()), "ssim": float(ssim(a, b).mean()),
            "swd": float(swd(targets, outputs, min_res=16)["mean"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--count", type=int, default=400)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args()
    import torch

    from belamy.data.collect import collect
    from belamy.data.pairs import Pairs, derive_pairs
    from belamy.generate.translate import translate_arrays
    from belamy.models.run import Run

    work = args.work or Path(tempfile.mkdtemp(prefix="belamy-p2p-bench-"))
    coll = collect(["demo://figures"], work / "figures", size=args.size, demo_count=args.count, near_threshold=-1)
    allp = work / "pairs"
    if not (allp / "pairs.json").is_file():
        derive_pairs(coll.path, allp, "pose")
    n = len(Pairs.open(allp))
    cut = n - max(1, n // 10)
    train_p = split_pairs(allp, work / "train", 0, cut) if not (work / "train" / "pairs.json").is_file() else work / "train"
    test_p = split_pairs(allp, work / "test", cut, n) if not (work / "test" / "pairs.json").is_file() else work / "test"
    test = Pairs.open(test_p)
    cond, targets = np.array(test.condition.images), np.array(test.target.images)
    rows = []

    belamy_cli = [sys.executable, "-m", "belamy"]
    run_dir = work / "belamy-run"
    subprocess.run([*belamy_cli, "train-pair", str(train_p), "-o", str(run_dir), "--minutes", str(args.minutes),
                    "--threads", str(args.threads), "--device", "cpu", "--set", f"model.resolution={args.size}"],
                   check=True, env={**__import__("os").environ, "BELAMY_PROGRESS": "0"})
    run = Run.open(run_dir)
    stats = [json.loads(x) for x in (run_dir / "stats.jsonl").read_text().splitlines() if '"img_s"' in x]
    torch.set_num_threads(args.threads)
    out = translate_arrays(run.generator("cpu"), cond)
    last = stats[-1]
    rows.append({"model": "belamy pix2pix-64", "images": int(last["kimg"] * 1000), "seconds": last["seconds"],
                 **held_out_scores(out, targets)})

    script = work / "baseline.py"
    script.write_text(NETS + LOOP)
    subprocess.run([sys.executable, str(script), str(train_p), str(args.minutes), str(args.threads),
                    str(work / "baseline")], check=True)
    info = json.loads((work / "baseline.json").read_text())
    ns: dict = {}
    exec(NETS, ns)  # the baseline's own network code, to load its weights
    G = ns["UNet"](args.size)
    G.load_state_dict(torch.load(str(work / "baseline.pt")))
    G.train()  # tested as the paper's code tests by default: batch statistics of each image, dropout on
    torch.manual_seed(0)
    with torch.no_grad():
        x = torch.from_numpy(cond).permute(0, 3, 1, 2).float() / 127.5 - 1
        y = torch.cat([G(x[i:i + 1]) for i in range(len(x))])
        y = ((y.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    rows.append({"model": "baseline: plain pix2pix (batch 1, BatchNorm)", "images": info["images"],
                 "seconds": info["seconds"], **held_out_scores(y, targets)})

    for r in rows:
        r["img_s"] = r["images"] / r["seconds"]
    base = rows[1]
    print(f"\npix2pix on the figures demo ({args.size} px, {cut} training pairs, {n - cut} held out), "
          f"{args.minutes:g} minutes each, {args.threads} threads\n")
    print(f"{'model':46s} {'img/s':>7s} {'vs base':>8s} {'L1':>7s} {'SSIM':>6s} {'SWD':>6s}")
    for r in rows:
        print(f"{r['model']:46s} {r['img_s']:7.1f} {r['img_s'] / base['img_s']:7.2f}x {r['l1']:7.4f} {r['ssim']:6.3f} "
              f"{r['swd']:6.1f}")
    write_result("pix2pix_quality", {"minutes": args.minutes, "threads": args.threads, "size": args.size,
                                     "train": cut, "held_out": n - cut, "rows": rows})


if __name__ == "__main__":
    main()
