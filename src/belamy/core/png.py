"""Writing PNGs: atomically, with text chunks as iTXt (UTF-8, so any name or record fits)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from belamy.core import atomic
from belamy.core.grid import make_grid


def save_png(arr: np.ndarray, path: Path, text: dict[str, str] | None = None) -> None:
    """(H, W, 3) uint8 -> PNG at `path`, with `text` as iTXt chunks."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for k, v in (text or {}).items():
        info.add_itxt(k, v)
    with atomic.atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(arr).save(tmp, format="PNG", pnginfo=info)


def png_bytes(arr: np.ndarray, text: dict[str, str] | None = None, compress_level: int = 6) -> bytes:
    """(H, W, 3) uint8 -> the bytes of a PNG with `text` as iTXt chunks, for writers that place
    files themselves (`atomic.write_staged`); a lower `compress_level` trades size for speed."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for k, v in (text or {}).items():
        info.add_itxt(k, v)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", pnginfo=info, compress_level=compress_level)
    return buf.getvalue()


def save_grid(images: np.ndarray, path: Path, cols: int | None = None) -> Path:
    """(N, H, W, 3) uint8 -> one contact-sheet PNG, at most 8 columns by default."""
    sheet = make_grid(list(images), cols=cols or min(8, max(1, len(images))))
    with atomic.atomic_path(path, suffix=".png") as tmp:
        sheet.save(tmp, format="PNG")
    return path
