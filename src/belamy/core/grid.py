"""Image grids: contact sheets of collections, preview grids of samples."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image


def make_grid(
    images: Sequence[np.ndarray] | np.ndarray,
    cols: int | None = None,
    cell: int | None = None,
    pad: int = 2,
    background: tuple[int, int, int] = (24, 24, 24),
) -> Image.Image:
    """Lay HxWx3 uint8 images out in a grid; `cell` resizes each to cell x cell first."""
    n = len(images)
    if n == 0:
        return Image.new("RGB", (max(1, pad), max(1, pad)), background)
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    h, w = images[0].shape[:2]
    ch, cw = (cell, cell) if cell else (h, w)
    sheet = Image.new("RGB", (cols * cw + (cols + 1) * pad, rows * ch + (rows + 1) * pad), background)
    for i, arr in enumerate(images):
        tile = Image.fromarray(np.ascontiguousarray(arr))
        if tile.size != (cw, ch):
            tile = tile.resize((cw, ch), Image.Resampling.LANCZOS if cw < tile.size[0] else Image.Resampling.NEAREST)
        r, c = divmod(i, cols)
        sheet.paste(tile, (pad + c * (cw + pad), pad + r * (ch + pad)))
    return sheet


def spread_indices(total: int, k: int) -> list[int]:
    """k indices spread evenly over range(total) (all of them if total <= k)."""
    if total <= k:
        return list(range(total))
    return [round(i * (total - 1) / (k - 1)) for i in range(k)] if k > 1 else [0]


def labelled_rows(
    rows: Sequence[tuple[str, Sequence[np.ndarray] | np.ndarray]],
    label_width: int = 160,
    pad: int = 2,
    background: tuple[int, int, int] = (24, 24, 24),
    ink: tuple[int, int, int] = (230, 230, 230),
) -> Image.Image:
    """One strip of images per row with its label on the left: contact sheets that compare
    models or budgets side by side, where a reader would rather look than read a table."""
    from PIL import ImageDraw

    strips = [make_grid(list(images), cols=len(images), pad=pad, background=background) for _, images in rows]
    width = label_width + max(s.width for s in strips)
    sheet = Image.new("RGB", (width, sum(s.height for s in strips)), background)
    draw = ImageDraw.Draw(sheet)
    y = 0
    for (label, _), strip in zip(rows, strips):
        sheet.paste(strip, (label_width, y))
        draw.multiline_text((6, y + strip.height // 2), label, fill=ink, anchor="lm")
        y += strip.height
    return sheet
