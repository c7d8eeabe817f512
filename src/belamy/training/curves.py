"""Curves as a picture: training curves (losses, augmentation p, speed) from stats.jsonl, and any
other per-kimg series (the `belamy eval --curve` metrics) through `plot_panels`."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageDraw

from belamy.core import atomic

PANELS = (("loss_D", "loss_G"), ("D_real", "D_fake"), ("aug_p",), ("img_s",))
COLOURS = ((220, 80, 60), (60, 120, 220), (60, 170, 90), (160, 90, 200))


def plot_curves(run_dir: Path, width: int = 900, panel_h: int = 150) -> Path | None:
    """Draw one panel per quantity group against kimg; returns the PNG path (None without stats)."""
    rows = []
    f = run_dir / "stats.jsonl"
    if not f.is_file():
        return None
    for line in f.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "kimg" in row:
            rows.append(row)
    return plot_panels(rows, PANELS, run_dir / "curves.png", width, panel_h)


def plot_panels(rows: list[dict], panels: tuple[tuple[str, ...], ...], out: Path, width: int = 900,
                panel_h: int = 150) -> Path | None:
    """One panel per key group of `rows` against their "kimg"; None with fewer than 2 rows."""
    if len(rows) < 2:
        return None
    im = Image.new("RGB", (width, panel_h * len(panels)), (250, 250, 248))
    draw = ImageDraw.Draw(im)
    xs = [r["kimg"] for r in rows]
    x0, x1 = min(xs), max(xs) or 1.0
    left = 60
    for i, keys in enumerate(panels):
        top = i * panel_h
        right, pt, pb = width - 10, top + 18, top + panel_h - 20
        draw.rectangle((left, pt, right, pb), outline=(180, 180, 180))
        series = [[(r["kimg"], r[k]) for r in rows if isinstance(r.get(k), (int, float))] for k in keys]
        vals = [v for s in series for _, v in s]
        if not vals:
            continue
        lo, hi = min(vals), max(vals)
        if hi <= lo:  # a constant (e.g. a fixed augmentation p): centre it
            lo, hi = lo - 0.5, hi + 0.5
        for j, (k, s) in enumerate(zip(keys, series)):
            pts = [(left + (x - x0) / max(x1 - x0, 1e-9) * (right - left), pb - (v - lo) / (hi - lo) * (pb - pt)) for x, v in s]
            if len(pts) > 1:
                draw.line(pts, fill=COLOURS[j], width=2)
            for p in pts if len(pts) < 40 else ():  # few points (eval curves): mark each
                draw.ellipse((p[0] - 2, p[1] - 2, p[0] + 2, p[1] + 2), fill=COLOURS[j])
            draw.text((left + 5 + 90 * j, top + 3), k, fill=COLOURS[j])
        draw.text((4, pt), f"{hi:.3g}", fill=(90, 90, 90))
        draw.text((4, pb - 10), f"{lo:.3g}", fill=(90, 90, 90))
    draw.text((left, im.height - 14), f"kimg {x0:.1f} .. {x1:.1f}", fill=(90, 90, 90))

    with atomic.atomic_path(out, suffix=".png") as tmp:
        im.save(tmp, format="PNG")
    return out
