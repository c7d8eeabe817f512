"""Writing a PNG from horizontal strips, without ever holding the whole image.

Pillow encodes from a full image in memory, which an 80,000 x 80,000 upscale cannot be. Here the
rows are filtered and deflated strip by strip through one zlib stream and written out as IDAT
chunks as they fill, so memory stays bounded by a strip. Rows use PNG filter 1 (Sub: each byte
less the same channel of the pixel to its left): on smooth images such as upscales it deflates to
about a third less than no filter, and at compress_level 1 it is both smaller and faster than
unfiltered rows at the default 6. The file is written atomically: a bad strip leaves nothing behind.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterable
from typing import BinaryIO

import numpy as np

from belamy.core.atomic import atomic_path

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IDAT_BYTES = 1 << 18  # flush compressed data as an IDAT chunk once this much has gathered
_BLOCK_BYTES = 4 << 20  # filter at most this many raw bytes of a strip at once
_MAX_SIDE = 2**31 - 1  # the PNG limit on width and height


def write_png_strips(
    path: str | os.PathLike[str],
    width: int,
    height: int,
    channels: int,
    strips: Iterable[np.ndarray],
    text: dict[str, str] | None = None,
    dpi: float | None = None,
    compress_level: int = 6,
) -> None:
    """Write an 8-bit RGB (3) or RGBA (4) PNG from (h_i, width, channels) uint8 strips, top to bottom.

    The strips' heights must add up to `height`. `text` becomes uncompressed iTXt chunks (as
    Pillow's `PngInfo.add_itxt` writes them), `dpi` a pHYs chunk. A wrong strip or a height
    mismatch raises ValueError and leaves no file (nor temporary file) behind.
    """
    if channels not in (3, 4):
        raise ValueError(f"channels must be 3 (RGB) or 4 (RGBA), not {channels}")
    if not (1 <= width <= _MAX_SIDE and 1 <= height <= _MAX_SIDE):
        raise ValueError(f"a PNG is 1 to {_MAX_SIDE} pixels a side, not {width} x {height}")
    if dpi is not None and not dpi > 0:
        raise ValueError(f"dpi must be positive, not {dpi}")
    if not 0 <= compress_level <= 9:
        raise ValueError(f"compress_level must be 0 to 9, not {compress_level}")
    text_chunks = [_itxt(k, v) for k, v in (text or {}).items()]

    with atomic_path(path, suffix=".png") as tmp, open(tmp, "wb") as fh:
        fh.write(_SIGNATURE)
        colour_type = 2 if channels == 3 else 6
        _chunk(fh, b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))
        if dpi is not None:
            ppm = int(dpi / 0.0254 + 0.5)  # pixels per metre, rounded as Pillow does
            _chunk(fh, b"pHYs", struct.pack(">IIB", ppm, ppm, 1))
        for data in text_chunks:
            _chunk(fh, b"iTXt", data)
        _write_idat(fh, width, height, channels, strips, compress_level)
        _chunk(fh, b"IEND", b"")


def _write_idat(
    fh: BinaryIO, width: int, height: int, channels: int, strips: Iterable[np.ndarray], level: int
) -> None:
    """Filter and deflate the strips into IDAT chunks of about `_IDAT_BYTES` each."""
    z = zlib.compressobj(level)
    pending = bytearray()
    rows_done = 0
    block_rows = max(1, _BLOCK_BYTES // (width * channels + 1))
    for i, strip in enumerate(strips):
        _check_strip(i, strip, width, channels)
        if rows_done + strip.shape[0] > height:
            raise ValueError(f"the strips have more than the {height} rows of the image")
        for r in range(0, strip.shape[0], block_rows):
            pending += z.compress(_filter_sub(strip[r : r + block_rows], channels))
            if len(pending) >= _IDAT_BYTES:
                _chunk(fh, b"IDAT", pending)
                pending.clear()
        rows_done += strip.shape[0]
    if rows_done != height:
        raise ValueError(f"the strips have {rows_done} rows, the image {height}")
    pending += z.flush()
    _chunk(fh, b"IDAT", pending)


def _check_strip(i: int, strip: object, width: int, channels: int) -> None:
    """A strip must be (rows, width, channels) uint8 (the shape test also rules out other ndims)."""
    ok = isinstance(strip, np.ndarray) and strip.dtype == np.uint8 and strip.shape[1:] == (width, channels)
    if not ok:
        got = f"{strip.dtype} {strip.shape}" if isinstance(strip, np.ndarray) else type(strip).__name__
        raise ValueError(f"strip {i} must be uint8 (rows, {width}, {channels}), not {got}")


def _filter_sub(rows: np.ndarray, channels: int) -> bytes:
    """Rows (h, w, c) uint8 -> PNG scanlines with filter type 1 (Sub), as bytes."""
    h = rows.shape[0]
    flat = rows.reshape(h, -1)
    out = np.empty((h, flat.shape[1] + 1), np.uint8)
    out[:, 0] = 1
    out[:, 1 : 1 + channels] = flat[:, :channels]
    np.subtract(flat[:, channels:], flat[:, :-channels], out=out[:, 1 + channels :])  # wraps mod 256
    return out.tobytes()


def _itxt(key: str, value: str) -> bytes:
    """An uncompressed iTXt chunk body: Latin-1 keyword, no language tag, UTF-8 text."""
    try:
        keyword = key.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"PNG text keyword {key!r} must be Latin-1") from None
    if not 1 <= len(keyword) <= 79 or b"\0" in keyword:
        raise ValueError(f"PNG text keyword {key!r} must be 1 to 79 characters, without NUL")
    return keyword + b"\0\0\0\0\0" + value.encode("utf-8")


def _chunk(fh: BinaryIO, kind: bytes, data: bytes | bytearray) -> None:
    fh.write(struct.pack(">I", len(data)))
    fh.write(kind)
    fh.write(data)
    fh.write(struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF))
