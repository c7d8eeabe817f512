"""Super-resolution on a held-out split of a real collection: belamy's L1 and GAN models against
bicubic and Lanczos, and the speed of upscaling 256 -> 1024 px on this CPU.

    python benchmarks/sr_quality.py [--l1-kimg 36] [--gan-kimg 12] [--scale 4]

The collection is Battle for Wesnoth's 241 painted portraits (Debian's wesnoth-1.16-data, GPL-2+
art, fetched once into the cache, never into the repository), padded on white to 256 px. Every
10th portrait is held out; `belamy train-sr` (preset sr-x4) trains on the rest: `--l1-kimg`
thousand crops of the L1 + SSIM stage (its exported EMA generator is "the L1 model"), then the
run is resumed for `--gan-kimg` more with the U-Net D and the GAN loss ("the GAN model").

Measured on the held-out portraits, downscaled 4x two ways: bicubic (clean, antialiased) and the
run's own second-order degradation (seed 0):
- PSNR and SSIM (Gaussian window 1.5) of each method's 256 px result against the original;
- the finest SWD level (256 px Laplacian band, x1e3) between the results and the originals, with
  the originals' descriptor statistics applied to both sets (`normalize="real"`), so missing detail
  counts: a blurry result has too little energy in that band (and a blocky one, nearest
  neighbour's, too much of the wrong kind: it is in the table to show what this level rewards).
- upscale speed, 256 -> 1024 px, img/s and peak memory (VmHWM of a child process) for the
  SR run through `belamy.api.upscale` (tiled) and, as baselines in the same run, Pillow's Lanczos
  and torch bicubic.

Prints a table, writes results/sr_quality.json and a picture (low-res | Lanczos | belamy SR | original).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import write_result  # noqa: E402
from quality import belamy, staged, wesnoth_files  # noqa: E402

CACHE = Path(os.environ.get("BELAMY_BENCH_CACHE", Path.home() / ".cache" / "belamy-bench"))
SIZE = 256


def collections() -> tuple[Path, Path]:
    """(train, held-out) collections of the Wesnoth portraits at 256 px; every 10th is held out."""
    files = wesnoth_files(CACHE, "portraits")
    held = files[::10]
    train = [f for i, f in enumerate(files) if i % 10]
    out = []
    for name, subset in (("train", train), ("heldout", held)):
        coll = CACHE / f"collection-sr-portraits-{name}-{SIZE}"
        if not (coll / "collection.json").is_file():
            src = staged(subset, CACHE / f"staged-sr-{name}")
            belamy("collect", str(src), "-o", str(coll), "--size", str(SIZE), "--fit", "pad", "--background", "white",
                   "--license", "GPL-2.0-or-later", "--author", "Battle for Wesnoth artists")
        out.append(coll)
    return out[0], out[1]


def train(coll: Path, work: Path, l1_kimg: float, gan_kimg: float, scale: int, degrade: str) -> tuple[Path, Path, dict]:
    """Train the L1 stage, keep its generator, then resume through the GAN stage."""
    run = work / "run"
    if run.exists():
        shutil.rmtree(run)
    t = time.perf_counter()
    belamy("train-sr", str(coll), "-o", str(run), "--scale", str(scale), "--kimg", str(l1_kimg),
           "--gan-start-kimg", str(l1_kimg), "--degrade", degrade)
    l1_s = time.perf_counter() - t
    l1_run = work / "run-l1"
    if l1_run.exists():
        shutil.rmtree(l1_run)
    shutil.copytree(run, l1_run, ignore=shutil.ignore_patterns("checkpoints"))
    t = time.perf_counter()
    belamy("train-sr", "--resume", str(run), "--kimg", str(l1_kimg + gan_kimg))
    gan_s = time.perf_counter() - t
    return l1_run, run, {"l1_kimg": l1_kimg, "l1_minutes": l1_s / 60, "gan_kimg": gan_kimg, "gan_minutes": gan_s / 60,
                         "degrade": degrade}


def methods(l1_run: Path, gan_run: Path, scale: int):
    import torch
    from PIL import Image

    from belamy.api.upscale import sr_generator
    from belamy.models.run import Run
    from belamy.refine.upscale import TileConfig, upscale_array

    def pil(mode):
        return lambda lr: np.stack([np.asarray(Image.fromarray(x).resize((x.shape[1] * scale, x.shape[0] * scale), mode))
                                    for x in lr])

    def sr(path):
        G = sr_generator(Run.open(path), torch.device("cpu"))
        return lambda lr: np.stack([upscale_array(G, x, TileConfig(0, 0)) for x in lr])

    return {"nearest": pil(Image.Resampling.NEAREST), "bicubic": pil(Image.Resampling.BICUBIC),
            "Lanczos": pil(Image.Resampling.LANCZOS),
            "belamy SR, L1 model": sr(l1_run), "belamy SR, GAN model": sr(gan_run)}


def low_res(hr: np.ndarray, scale: int, kind: str) -> np.ndarray:
    import torch

    from belamy.data.degrade import DegradeConfig, degrade

    x = torch.from_numpy(hr).permute(0, 3, 1, 2).float() / 127.5 - 1
    lr = degrade(x, scale, torch.Generator().manual_seed(0), DegradeConfig.named(kind))
    return ((lr + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def scores(out: np.ndarray, hr: np.ndarray) -> dict[str, float]:
    import torch

    from belamy.core.similarity import psnr, ssim
    from belamy.metrics.swd import swd

    a = torch.from_numpy(out).permute(0, 3, 1, 2).float() / 255
    b = torch.from_numpy(hr).permute(0, 3, 1, 2).float() / 255
    finest = swd(hr, out, normalize="real", patches_per_image=256)[str(hr.shape[1])]
    return {"psnr": float(psnr(a, b).mean()), "ssim": float(ssim(a, b).mean()), "swd_finest": finest}


SPEED_CHILD = r"""
import json, sys, time
import numpy as np, torch
from PIL import Image
method, run, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = np.random.default_rng(0)
img = np.asarray(Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).resize((256, 256), Image.Resampling.BICUBIC))
def hwm():  # this process's peak resident memory in MB (ru_maxrss would carry the parent's over exec)
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
base = hwm()
if method == "sr":
    from belamy.api.upscale import sr_generator, receptive_overlap
    from belamy.models.run import Run
    from belamy.refine.upscale import TileConfig, upscale_array
    r = Run.open(run); G = sr_generator(r, torch.device("cpu")); tiles = TileConfig(512, receptive_overlap(r.model_config))
    f = lambda: upscale_array(G, img, tiles)
elif method == "lanczos":
    f = lambda: np.asarray(Image.fromarray(img).resize((1024, 1024), Image.Resampling.LANCZOS))
else:
    t = torch.from_numpy(img).permute(2, 0, 1)[None].float()
    f = lambda: torch.nn.functional.interpolate(t, size=(1024, 1024), mode="bicubic").clamp(0, 255).byte()
f()
t0 = time.perf_counter()
for _ in range(n):
    out = f()
s = time.perf_counter() - t0
print(json.dumps({"img_s": n / s, "peak_mb": hwm(), "base_mb": base}))
"""


def speed(run: Path, n: int) -> dict[str, dict[str, float]]:
    out = {}
    for method, count in (("sr", n), ("lanczos", 10 * n), ("torch bicubic", 10 * n)):
        r = subprocess.run([sys.executable, "-c", SPEED_CHILD, method.split()[-1] if method != "sr" else "sr", str(run),
                            str(count)], capture_output=True, text=True, check=True)
        out[method] = json.loads(r.stdout.strip().splitlines()[-1])
    return out


def picture(lr: np.ndarray, lanczos: np.ndarray, sr: np.ndarray, hr: np.ndarray, path: Path, crop: int = 128) -> None:
    """low-res (nearest) | Lanczos | belamy SR | original, a 128 px crop from the middle of each, 2x enlarged."""
    from PIL import Image

    s = hr.shape[1] // lr.shape[1]
    rows = []
    for a, b, c, d in zip(lr, lanczos, sr, hr):
        o = (d.shape[0] - crop) // 2
        near = np.repeat(np.repeat(a, s, 0), s, 1)
        tiles = [x[o:o + crop, o:o + crop] for x in (near, b, c, d)]
        rows.append(np.concatenate([np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=255) for t in tiles], 1))
    sheet = np.concatenate(rows, 0)
    Image.fromarray(sheet).resize((sheet.shape[1] * 2, sheet.shape[0] * 2), Image.Resampling.NEAREST).save(path)


def result_name(degrade: str) -> str:
    return "sr_quality" if degrade == "second-order" else f"sr_quality-{degrade}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--l1-kimg", type=float, default=36.0)
    ap.add_argument("--gan-kimg", type=float, default=12.0)
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--degrade", default="second-order", help="the runs' training degradations (train-sr --degrade)")
    ap.add_argument("--speed-n", type=int, default=5)
    ap.add_argument("--reuse", action="store_true", help="measure the runs already in --work (no training)")
    ap.add_argument("--work", type=Path, default=CACHE / "work-sr")
    ap.add_argument("--picture", type=Path, default=Path(__file__).parent.parent / "docs" / "sr-demo.jpg")
    args = ap.parse_args()
    from belamy.data.collection import Collection

    train_coll, held_coll = collections()
    if args.reuse:
        l1_run, gan_run = args.work / "run-l1", args.work / "run"
        training = json.loads((Path(__file__).parent / "results" / f"{result_name(args.degrade)}.json").read_text())["training"]
    else:
        l1_run, gan_run, training = train(train_coll, args.work, args.l1_kimg, args.gan_kimg, args.scale, args.degrade)
    hr = np.array(Collection.open(held_coll).images)
    table: dict[str, dict[str, dict[str, float]]] = {}
    fns = methods(l1_run, gan_run, args.scale)
    outputs = {}
    for kind in ("bicubic", "second-order"):
        lr = low_res(hr, args.scale, kind)
        for name, fn in fns.items():
            out = fn(lr)
            outputs[(kind, name)] = out
            table.setdefault(kind, {})[name] = scores(out, hr)
        if kind == "bicubic":
            pick = [1, 5, 9]
            picture(lr[pick], outputs[(kind, "Lanczos")][pick], outputs[(kind, "belamy SR, GAN model")][pick], hr[pick],
                    Path("/tmp/sr-demo.png"))
    speeds = speed(gan_run, args.speed_n)
    print(f"held-out: {len(hr)} Wesnoth portraits at {SIZE} px, x{args.scale}; training {json.dumps(training)}")
    for kind, rows in table.items():
        print(f"\nlow-res by {kind} downscaling")
        print(f"{'method':28s} {'PSNR dB':>8s} {'SSIM':>7s} {'SWD 256':>8s}")
        for name, r in rows.items():
            print(f"{name:28s} {r['psnr']:8.2f} {r['ssim']:7.4f} {r['swd_finest']:8.2f}")
    print("\nupscale 256 -> 1024 px on this CPU")
    for name, r in speeds.items():
        print(f"{name:16s} {r['img_s']:7.3f} img/s  peak {r['peak_mb']:.0f} MB ({r['base_mb']:.0f} MB after imports)")
    from PIL import Image

    args.picture.parent.mkdir(parents=True, exist_ok=True)
    Image.open("/tmp/sr-demo.png").convert("RGB").save(args.picture, quality=90)
    path = write_result(result_name(args.degrade), {"collection": "wesnoth portraits (GPL-2.0-or-later), 256 px, every 10th held out",
                                       "held_out": len(hr), "scale": args.scale, "training": training,
                                       "quality": table, "speed_256_to_1024": speeds})
    print(f"\nwrote {path} and {args.picture}")


if __name__ == "__main__":
    main()
