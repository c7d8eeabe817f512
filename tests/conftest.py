"""Shared fixtures: images made on the fly (never third-party files), tiny and seeded."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image


def pattern(seed: int, w: int = 96, h: int = 80) -> Image.Image:
    """A distinct, structured RGB image per seed (blocky, so perceptual hashes differ)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(6, 6, 3), dtype=np.uint8)
    im = Image.fromarray(small).resize((w, h), Image.Resampling.NEAREST)
    return im


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb)."""
    raw = encode(Image.new("L", (1, 1)), "PNG")
    ihdr_start = 8
    length = struct.unpack(">I", raw[ihdr_start:ihdr_start + 4])[0]
    body = bytearray(raw[ihdr_start + 4:ihdr_start + 8 + length])
    body[4:12] = struct.pack(">II", width, height)
    crc = struct.pack(">I", zlib.crc32(bytes(body)) & 0xFFFFFFFF)
    return raw[:ihdr_start + 4] + bytes(body) + crc + raw[ihdr_start + 8 + length + 4:]


@pytest.fixture
def make_pattern():
    return pattern
