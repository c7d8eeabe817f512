"""pix2pix on the figures demo: `belamy train-pair` against a plainly written pix2pix at equal wall time.

    python benchmarks/pix2pix_quality.py [--minutes 10] [--threads 2] [--count 400] [--size 64]
        [--seeds 0,1,2] [--set KEY=VALUE ...] [--only belamy|baseline] [--parallel] [--baseline-jitter F]
        [--work DIR [--reuse]] [--result NAME]

Data: the figures demo (painted full-body figures over sampled poses) at `--size`, paired with
their stick figures (`belamy pairs --condition pose`); the last 10% are held out. Both models
are the same size (U-Net with ngf 32, PatchGAN with ndf 32, 3 strided layers, as `pix2pix-64`)
and train for the same wall minutes, each in its own process, one after the other or with
`--parallel` side by side (each on `--threads`; alike conditions in half the time):
- belamy: `belamy train-pair` with its preset (batch 8, InstanceNorm, shared fakes, fused Adam,
  random jitter, EMA of G);
- baseline: the paper's loop written plainly in PyTorch (~50 lines, no belamy): batch 1,
  BatchNorm, a G forward for D and another for G each step, Adam 2e-4, beta1 0.5, L1 x 100,
  x-flips, and with `--baseline-jitter 0.1172` the paper's random jitter.
Held-out quality: L1 and SSIM of output against target, and SWD x1e3 of outputs against targets
(the baseline tested as the paper's code tests by default: each image alone, dropout on).
Speed: training images per second, and FLOP utilisation: the matmul and conv FLOPs of a
training step per pair (`FlopCounterMode`, forward and backward; the baseline runs one more G
forward) times img/s, over the float32 matmul peak on `--threads` measured after training.
Each seed trains both models afresh (the seed sets belamy's `--seed` and the baseline's torch
seed); GAN training is noisy, so the target is judged on the mean over seeds. Target (issue
26): at least the baseline's held-out L1 while training at least 1.5x faster. Prints a table,
writes benchmarks/results/pix2pix_quality.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import write_result  # noqa: E402
from train_speed import matmul_peak  # noqa: E402

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
pairs, minutes, threads, out, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
jitter = float(sys.argv[6])
torch.set_num_threads(threads); torch.manual_seed(seed)
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
    if jitter:  # the paper's random jitter: scale up, crop back at a random place, both alike
        r = a.shape[-1]; big = round(r * (1 + jitter)); i, j = torch.randint(0, big - r + 1, (2,)).tolist()
        ab = torch.nn.functional.interpolate(torch.cat([a, b], 1), size=(big, big), mode="bilinear")[..., i:i + r, j:j + r]
        a, b = ab[:, :3], ab[:, 3:]
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


def last_stats(run_dir: Path) -> dict | None:
    """The last timed stats line of a belamy run, or None before its first."""
    from belamy.models.run import Run

    timed = [r for r in Run.open(run_dir).stats() if "img_s" in r] if (run_dir / "run.json").is_file() else []
    return timed[-1] if timed else None


def belamy_done(run_dir: Path, args: argparse.Namespace) -> bool:
    """Whether `run_dir` holds a finished run of this length (`--reuse`)."""
    last = last_stats(run_dir)
    return last is not None and last["seconds"] >= 0.99 * args.minutes * 60


def train_belamy(train_p: Path, run_dir: Path, args: argparse.Namespace, seed: int) -> subprocess.Popen:
    """`belamy train-pair` started in its own process."""
    sets = [x for kv in [f"model.resolution={args.size}", *args.set] for x in ("--set", kv)]
    return subprocess.Popen([sys.executable, "-m", "belamy", "train-pair", str(train_p), "-o", str(run_dir),
                             "--minutes", str(args.minutes), "--threads", str(args.threads), "--device", "cpu",
                             "--seed", str(seed), *sets], env={**os.environ, "BELAMY_PROGRESS": "0"},
                            stdout=subprocess.DEVNULL)


def belamy_row(run_dir: Path, args: argparse.Namespace) -> dict:
    last = last_stats(run_dir)
    name = "belamy pix2pix-64" + (f" ({', '.join(args.set)})" if args.set else "")
    return {"model": name, "images": int(last["kimg"] * 1000), "seconds": last["seconds"]}


def train_baseline(train_p: Path, stem: Path, args: argparse.Namespace, seed: int) -> subprocess.Popen:
    """The plain loop started in its own process."""
    script = stem.parent / "baseline.py"
    script.write_text(NETS + LOOP)
    return subprocess.Popen([sys.executable, str(script), str(train_p), str(args.minutes), str(args.threads), str(stem),
                             str(seed), str(args.baseline_jitter)])


def baseline_row(stem: Path, args: argparse.Namespace, seed: int, cond: np.ndarray) -> tuple[dict, np.ndarray]:
    """The baseline's training figures and its outputs on the held-out conditions."""
    import torch

    info = json.loads(stem.with_suffix(".json").read_text())
    ns: dict = {}
    exec(NETS, ns)  # the baseline's own network code, to load its weights
    G = ns["UNet"](args.size)
    G.load_state_dict(torch.load(str(stem.with_suffix(".pt"))))
    G.train()  # tested as the paper's code tests by default: batch statistics of each image, dropout on
    torch.manual_seed(seed)
    with torch.no_grad():
        x = torch.from_numpy(cond).permute(0, 3, 1, 2).float() / 127.5 - 1
        y = torch.cat([G(x[i:i + 1]) for i in range(len(x))])
        y = ((y.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    name = "baseline: plain pix2pix (batch 1, BatchNorm" + (f", jitter {args.baseline_jitter:g})" if args.baseline_jitter else ")")
    return {"model": name, "images": info["images"],
            "seconds": info["seconds"]}, y


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--count", type=int, default=400)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seeds", default="0", help="comma-separated; each trains both models afresh")
    ap.add_argument("--set", action="append", default=[], help="a belamy setting, KEY=VALUE (repeatable)")
    ap.add_argument("--only", choices=["belamy", "baseline"], default=None)
    ap.add_argument("--baseline-jitter", type=float, default=0.0, help="the paper's random jitter for the baseline too")
    ap.add_argument("--parallel", action="store_true",
                    help="train the two models of a seed at once, each on --threads (alike conditions, half the time)")
    ap.add_argument("--result", default="pix2pix_quality", help="the results file's name")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--reuse", action="store_true",
                    help="score the runs already finished in --work instead of training them again")
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
    seeds = [int(x) for x in args.seeds.split(",")]
    tag = "".join("-" + kv.replace("=", "") for kv in args.set)
    run_dirs = {seed: work / f"belamy-seed{seed}{tag}" for seed in seeds}
    rows = []
    for seed in seeds:
        run_dir = run_dirs[seed]
        stem = work / f"baseline-seed{seed}{'-jitter' if args.baseline_jitter else ''}"
        jobs = []
        done = {"belamy": args.reuse and belamy_done(run_dir, args),
                "baseline": args.reuse and stem.with_suffix(".json").is_file()}
        for who, start in (("belamy", lambda: train_belamy(train_p, run_dir, args, seed)),
                           ("baseline", lambda: train_baseline(train_p, stem, args, seed))):
            if args.only in (None, who) and not done[who]:
                jobs.append(start())
                if not args.parallel:
                    jobs[-1].wait()
        if any(j.wait() != 0 for j in jobs):
            raise SystemExit(f"a training process failed (seed {seed})")
        torch.set_num_threads(args.threads)
        if args.only != "baseline":
            out = translate_arrays(Run.open(run_dir).generator("cpu"), cond)
            rows.append({**belamy_row(run_dir, args), "seed": seed, **held_out_scores(out, targets)})
        if args.only != "belamy":
            row, y = baseline_row(stem, args, seed, cond)
            rows.append({**row, "seed": seed, **held_out_scores(y, targets)})
    gflop = model_gflop(args, run_dirs[seeds[0]] if args.only != "baseline" else None)
    peak = matmul_peak(args.threads)  # after training, on the idle machine
    for r in rows:
        r["img_s"] = r["images"] / r["seconds"]
        r["gflop_per_img"] = gflop["baseline" if r["model"].startswith("baseline") else "belamy"]
        r["gflop_s"] = r["gflop_per_img"] * r["img_s"]
        r["of_peak"] = r["gflop_s"] / peak
    models = list(dict.fromkeys(r["model"] for r in rows))
    keys = ("img_s", "l1", "ssim", "swd", "gflop_per_img", "gflop_s", "of_peak")
    means = [{"model": m, **{k: float(np.mean([r[k] for r in rows if r["model"] == m])) for k in keys},
              "l1_range": [min(r["l1"] for r in rows if r["model"] == m), max(r["l1"] for r in rows if r["model"] == m)]}
             for m in models]
    base = means[-1]
    print(f"\npix2pix on the figures demo ({args.size} px, {cut} training pairs, {n - cut} held out), "
          f"{args.minutes:g} minutes each, {args.threads} threads{' each, side by side' if args.parallel else ''}, "
          f"seeds {args.seeds}; float32 matmul peak {peak:.0f} GFLOP/s\n")
    print(f"{'model':56s} {'seed':>5s} {'img/s':>7s} {'vs base':>8s} {'GFLOP/s':>8s} {'of peak':>8s} {'L1':>7s} "
          f"{'SSIM':>6s} {'SWD':>6s}")
    for r in [*rows, *({**m, "seed": "mean"} for m in means)]:
        print(f"{r['model']:56s} {r['seed']!s:>5s} {r['img_s']:7.1f} {r['img_s'] / base['img_s']:7.2f}x "
              f"{r['gflop_s']:8.1f} {r['of_peak']:8.0%} {r['l1']:7.4f} {r['ssim']:6.3f} {r['swd']:6.1f}")
    write_result(args.result, {"minutes": args.minutes, "threads": args.threads, "size": args.size, "train": cut,
                               "held_out": n - cut, "seeds": seeds, "settings": args.set,
                               "parallel": args.parallel, "baseline_jitter": args.baseline_jitter,
                               "matmul_peak_gflop_s": peak, "rows": rows, "means": means})


def model_gflop(args: argparse.Namespace, run_dir: Path | None) -> dict[str, float]:
    """Counted training GFLOP per pair of each model (the same for every seed)."""
    from belamy.models import build_discriminator, build_generator
    from belamy.models.config import ModelConfig
    from belamy.models.flops import pair_step_flops_per_image as per_pair
    from belamy.models.run import Run

    ns: dict = {}
    exec(NETS, ns)
    out = {"baseline": per_pair(ns["UNet"](args.size), ns["PatchD"](), args.size, g_forwards=2) / 1e9}
    if run_dir is not None:
        cfg = ModelConfig.from_dict(Run.open(run_dir).model_config)
        out["belamy"] = per_pair(build_generator(cfg), build_discriminator(cfg), args.size) / 1e9
    return out


if __name__ == "__main__":
    main()
