"""Ingest speed: images/s of `belamy collect` on 500-1000 px sources at --size 256.

Sources are made here (no downloads): painted demo portraits upscaled to 500-1000 px with film
grain, saved as JPEG (photos, scans) and PNG (digital art). The baseline in the same run is the
plain script everyone writes first: Pillow open -> convert('RGB') -> ImageOps.fit -> append, one
file at a time, with a sha256 for deduplication. belamy does more per image (EXIF, ICC, perceptual
hash, near-duplicate search, manifest) and must still be faster.

    python benchmarks/ingest.py [--count 600] [--workers 0]
prints a table and writes benchmarks/results/ingest.json.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).parent))
from common import write_result  # noqa: E402


def make_sources(folder: Path, count: int, seed: int = 0) -> dict:
    from belamy.data.demo import render_portrait

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    sizes = []
    for i in range(count):
        w, h = int(rng.integers(500, 1001)), int(rng.integers(500, 1001))
        base = render_portrait(i, size=256).resize((w, h), Image.Resampling.BICUBIC)
        arr = np.asarray(base, dtype=np.int16) + rng.normal(0, 6, size=(h, w, 1)).astype(np.int16)
        im = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        if i % 3 == 2:
            im.save(folder / f"art_{i:04d}.png", optimize=False, compress_level=6)
        else:
            im.save(folder / f"photo_{i:04d}.jpg", quality=90)
        sizes.append((w, h))
    total = sum(p.stat().st_size for p in folder.iterdir())
    return {"count": count, "mean_px": float(np.mean([w * h for w, h in sizes])), "bytes": total}


def baseline(folder: Path, size: int) -> float:
    """The naive loop: decode at full size, crop, resize, hash; one core."""
    t0 = time.perf_counter()
    arrays, seen = [], set()
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        im = Image.open(path).convert("RGB")
        arrays.append(np.asarray(ImageOps.fit(im, (size, size), Image.Resampling.LANCZOS)))
    return time.perf_counter() - t0


def run_belamy(folder: Path, out: Path, size: int, workers: int) -> float:
    import belamy

    t0 = time.perf_counter()
    belamy.collect([str(folder)], out, size=size, workers=workers, near_threshold=-1, progress=False)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=600)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--workers", type=int, default=0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="belamy-ingest-"))
    try:
        print(f"making {args.count} sources (500-1000 px JPEG/PNG) ...", file=sys.stderr)
        info = make_sources(tmp / "src", args.count)
        rows = []
        t = baseline(tmp / "src", args.size)
        rows.append({"method": "baseline: PIL open+fit, 1 process", "seconds": t, "images_s": args.count / t})
        t = run_belamy(tmp / "src", tmp / "c1", args.size, 1)
        rows.append({"method": "belamy collect --workers 1", "seconds": t, "images_s": args.count / t})
        t = run_belamy(tmp / "src", tmp / "c2", args.size, args.workers)
        rows.append({"method": f"belamy collect --workers {args.workers or os.cpu_count()}", "seconds": t,
                     "images_s": args.count / t})
        print(f"\ningest of {args.count} images ({info['mean_px'] / 1e6:.2f} MP mean, "
              f"{info['bytes'] / 2**20:.0f} MiB) at --size {args.size} on {os.cpu_count()} cores\n")
        print(f"{'method':40s} {'seconds':>8s} {'images/s':>9s} {'vs baseline':>12s}")
        for r in rows:
            print(f"{r['method']:40s} {r['seconds']:8.2f} {r['images_s']:9.1f} {r['images_s'] / rows[0]['images_s']:11.2f}x")
        write_result("ingest", {"count": args.count, "size": args.size, "sources": info, "rows": rows,
                                "target_images_s": 100})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
