"""The picture and HTML report of an evaluation: what an artist looks at, not just numbers.

`originality.png`: the renders closest to the collection, worst first, each beside its nearest
training image (mirrored when the match was the mirror image), with the score and the training
image's title. `report.html`: the metrics with one line on what each means, and that picture.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from belamy.core import atomic

SHOW = 16  # pairs in the picture
CELL = 128
COLS = 4

MEANINGS = {
    "swd": "Sliced Wasserstein distance of 7x7 patches per Laplacian-pyramid level, x1e3 (Karras et al. 2018). "
           "Lower is closer to the collection; per level: fine texture (finest) to composition (coarsest).",
    "kid": "Kernel distance (Binkowski et al. 2018): unbiased squared MMD of image features. 0 = indistinguishable; "
           "can be slightly negative; small-sample safe.",
    "pr": "Precision: share of renders that look like some collection image; recall: share of the collection's "
          "variety the renders cover (Kynkaanniemi et al. 2019, k=3).",
    "fid": "Frechet distance of Gaussians fitted to the features (Heusel et al. 2017). Lower is better; biased "
           "upward at small N, compare at equal N only.",
    "originality": "Distance of each render to its nearest training image over the collection's typical "
                   "neighbour distance: ~1 as new as the collection's own images, below the threshold a near copy.",
}


def worst_first(renders: list[dict[str, Any]], k: int = SHOW) -> list[dict[str, Any]]:
    return sorted(renders, key=lambda r: r["score"])[:k]


def originality_sheet(renders: list[dict[str, Any]], fakes: np.ndarray, reals: np.ndarray, out: Path) -> Path:
    """Closest pairs side by side, worst first: render | nearest training image, caption below."""
    pairs = worst_first(renders)
    seed0 = min(r["seed"] for r in renders)
    caption_h = 30
    tile_w, tile_h = 2 * CELL + 6, CELL + caption_h
    rows = (len(pairs) + COLS - 1) // COLS
    sheet = Image.new("RGB", (COLS * (tile_w + 8) + 8, rows * (tile_h + 8) + 8), (245, 244, 240))
    draw = ImageDraw.Draw(sheet)
    for i, r in enumerate(pairs):
        x = 8 + (i % COLS) * (tile_w + 8)
        y = 8 + (i // COLS) * (tile_h + 8)
        near = r["nearest"]
        real = reals[near["index"]]
        real = real[:, ::-1] if near["flipped"] else real
        for j, arr in enumerate((fakes[r["seed"] - seed0], real)):
            tile = Image.fromarray(np.ascontiguousarray(arr)).resize((CELL, CELL), Image.Resampling.NEAREST)
            sheet.paste(tile, (x + j * (CELL + 6), y))
        colour = (200, 30, 30) if r["near_copy"] else (60, 60, 60)
        flag = "  NEAR COPY" if r["near_copy"] else ""
        draw.text((x, y + CELL + 2), f"seed {r['seed']}  score {r['score']:.2f}{flag}", fill=colour)
        title = near.get("title") or near.get("id") or f"#{near['index']}"
        draw.text((x, y + CELL + 15), f"{title[:34]}{' (mirrored)' if near['flipped'] else ''}", fill=(90, 90, 90))
    with atomic.atomic_path(out, suffix=".png") as tmp:
        sheet.save(tmp, format="PNG")
    return out


def metric_lines(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(metric, value, meaning) rows shared by the HTML report and the CLI table."""
    m = result["metrics"]
    feat = result["features"]["name"]
    rows = []
    if "swd" in m:
        levels = ", ".join(f"{k}: {v:.1f}" for k, v in m["swd"].items() if k != "mean")
        rows.append(("SWD x1e3", f"{m['swd']['mean']:.2f} ({levels})", MEANINGS["swd"]))
    if "kid" in m:
        rows.append((f"KID ({feat})", f"{m['kid']['mean']:.4f} ± {m['kid']['std']:.4f}", MEANINGS["kid"]))
    if "pr" in m:
        rows.append((f"precision / recall ({feat})", f"{m['pr']['precision']:.3f} / {m['pr']['recall']:.3f}", MEANINGS["pr"]))
    if "fid" in m:
        rows.append((f"FID ({feat})", f"{m['fid']:.3f}", MEANINGS["fid"]))
    if "originality" in m:
        o = m["originality"]
        rows.append(("originality", f"median {o['score_median']:.2f}, min {o['score_min']:.2f}; "
                     f"{o['near_copies']} of {o['count']} near copies (< {o['threshold']})", MEANINGS["originality"]))
    return rows


def _detail(pixel: dict[str, Any]) -> str:
    """The pixel match's band-pass correlation (the pixel space counts from `detail_min` up)."""
    return f"{pixel['detail']:.2f}" if pixel.get("detail") is not None else "-"


def write_report(result: dict[str, Any], out: Path, sheet: Path | None) -> Path:
    e = html.escape
    rows = "".join(f"<tr><td>{e(a)}</td><td><b>{e(b)}</b></td><td>{e(c)}</td></tr>" for a, b, c in metric_lines(result))
    pairs = ""
    if "originality" in result["metrics"]:
        items = []
        for r in worst_first(result["metrics"]["originality"]["renders"]):
            near = r["nearest"]
            items.append(
                f"<tr{' class=copy' if r['near_copy'] else ''}><td>{r['seed']}</td><td>{r['score']:.3f}</td>"
                f"<td>{e(str(near.get('title') or ''))}</td><td>{e(str(near.get('author') or ''))}</td>"
                f"<td>{e(str(near.get('id') or near['index']))}{' (mirrored)' if near['flipped'] else ''}</td>"
                f"<td>{r['pixel']['distance']:.1f}</td><td>{_detail(r['pixel'])}</td>"
                f"<td>{r['feature']['distance']:.3f}</td></tr>")
        pairs = ("<h2>Closest renders</h2><p>Each render beside its nearest training image, worst first "
                 "(<code>belamy sample RUN --seeds N</code> re-renders one).</p>"
                 + (f'<img src="{e(sheet.name)}" alt="closest pairs">' if sheet else "")
                 + "<table><tr><th>seed</th><th>score</th><th>nearest: title</th><th>author</th><th>id</th>"
                   "<th>pixel RMS</th><th>pixel detail</th><th>feature dist.</th></tr>" + "".join(items) + "</table>")
    doc = f"""<!doctype html><html><head><meta charset="utf-8"><title>belamy eval {e(result['run'])}</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}}td,th{{padding:4px 10px;
text-align:left;vertical-align:top;border-bottom:1px solid #ddd}}tr.copy td{{color:#b00}}img{{max-width:100%}}</style>
</head><body><h1>Evaluation of run {e(result['run'])}</h1>
<p>{e(result['source'])}, step {result['step']} ({result['kimg']} kimg): {result['n']} renders (seeds
{result['seeds'][0]}-{result['seeds'][1]}, truncation {result['truncation']}) against {result['reals']} collection
images at {result['resolution']} px; features {e(result['features']['name'])}. {e(result['created'])}</p>
<table><tr><th>metric</th><th>value</th><th>what it means</th></tr>{rows}</table>{pairs}</body></html>
"""
    atomic.write_text(out, doc)
    return out
