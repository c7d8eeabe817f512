"""Seconds to lay a brush layer on a 1024 px portrait, and what it keeps: the portrait's structure and the photo's colours.

    python benchmarks/brush_speed.py [--seeds 0 3] [--size 1024]

Each seed's demo portrait (`belamy.data.demo.render_portrait`) is painted with the paint of a
procedural stand-in for a photograph of body paint (smeared fields of vivid paint, streaks and grain:
the same generator as tests/refine/test_brush.py). Measured for each method:

- seconds for one portrait;
- SSIM of the luminance at 64 px between the result and the portrait (Gaussian window 1.5, the
  structure kept; 1 is the portrait itself);
- palette distance: the mean RGB distance (0-255) from the result's pixels to the nearest of 4096
  of the photo's pixels (0: only the photo's colours), and, for the brush, of the paint alone.

Baselines, measured in the same run: a Reinhard colour transfer (mean and standard deviation per
CIELAB channel moved to the photo's, numpy) and a Pillow "oil paint" (the portrait quantised to the
photo's palette of 14 colours, then ImageFilter.ModeFilter(9)). Prints a table, writes
results/brush_speed.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).parent))
from common import write_result  # noqa: E402

from belamy.data.demo_paint import render_paint_photo  # noqa: E402
from belamy.metrics.paint import palette_distance, structure_kept  # noqa: E402


def reinhard(portrait: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """Baseline: the portrait's CIELAB mean and standard deviation per channel moved to the photo's."""
    from belamy.refine.brush import from_lab, to_lab

    a, b = to_lab(portrait), to_lab(photo)
    moved = (a - a.mean((0, 1))) / np.maximum(a.std((0, 1)), 1e-3) * b.std((0, 1)) + b.mean((0, 1))
    return np.rint(from_lab(moved) * 255).astype(np.uint8)


def oil(portrait: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """Baseline: the portrait in the photo's 14 colours (Pillow's median cut), smeared by a 9 px mode filter."""
    palette = Image.fromarray(photo).quantize(14)
    quantised = Image.fromarray(portrait).quantize(palette=palette, dither=Image.Dither.NONE).convert("RGB")
    return np.asarray(quantised.filter(ImageFilter.ModeFilter(9)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 3])
    ap.add_argument("--size", type=int, default=1024)
    args = ap.parse_args()
    from belamy.data.demo import render_portrait
    from belamy.refine.brush import BrushConfig, brush_layer

    methods = {
        "belamy brush (strength 0.7, default)": lambda p, q, s: brush_layer(p, q, BrushConfig(seed=s)),
        "belamy brush, the paint alone (strength 1)": lambda p, q, s: brush_layer(p, q, BrushConfig(seed=s,
                                                                                                    strength=1.0)),
        "baseline: Reinhard colour transfer": lambda p, q, s: (None, reinhard(p, q), None),
        "baseline: Pillow oil paint (palette + ModeFilter 9)": lambda p, q, s: (None, oil(p, q), None),
    }
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in methods}
    for seed in args.seeds:
        portrait = np.asarray(render_portrait(seed, args.size))
        photo = render_paint_photo(seed, 512)
        for name, run in methods.items():
            t = time.perf_counter()
            layer, result, step = run(portrait, photo, seed)
            seconds = time.perf_counter() - t
            row = {"seconds": seconds, "ssim64": structure_kept(result, portrait),
                   "palette_distance": palette_distance(result, photo)}
            if layer is not None:
                row["paint_palette_distance"] = palette_distance(layer[..., :3][layer[..., 3] > 127], photo)
                row["strokes"] = step["strokes"]
            rows[name].append(row)
            print(f"  seed {seed}, {name}: {seconds:.2f} s", file=sys.stderr)
        rows.setdefault("the portrait itself", []).append(
            {"seconds": 0.0, "ssim64": 1.0, "palette_distance": palette_distance(portrait, photo)})

    def med(name: str, key: str) -> float | None:
        vals = [r[key] for r in rows[name] if key in r]
        return statistics.median(vals) if vals else None

    print(f"\nbrush layer on {args.size} px demo portraits (seeds {' '.join(map(str, args.seeds))}), "
          f"photo 512 px, median over the seeds\n")
    print(f"{'method':52s} {'s/portrait':>10s} {'SSIM@64':>8s} {'palette d':>10s} {'paint d':>8s}")
    summary = {}
    for name in rows:
        paint = med(name, "paint_palette_distance")
        summary[name] = {k: med(name, k) for k in ("seconds", "ssim64", "palette_distance", "paint_palette_distance")}
        print(f"{name:52s} {med(name, 'seconds'):10.2f} {med(name, 'ssim64'):8.3f} "
              f"{med(name, 'palette_distance'):10.1f} {'' if paint is None else f'{paint:8.1f}'}")
    write_result("brush_speed", {"size": args.size, "seeds": args.seeds, "photo_size": 512,
                                 "median": summary, "rows": rows})


if __name__ == "__main__":
    main()
