"""The print file: a physical size at a DPI becomes pixels, the picture is upscaled to them, and the
result is encoded as PNG, TIFF or JPEG with the sRGB profile, the DPI and the XMP packet embedded.

Where each format keeps the XMP packet, and how Pillow writes it:
- PNG: an iTXt chunk with the keyword "XML:com.adobe.xmp" (Pillow has no `xmp=` for PNG; the chunk
  is added through `PngInfo`, and Pillow reads it back as `info["xmp"]`).
- JPEG: an APP1 segment "http://ns.adobe.com/xap/1.0/" (Pillow's own `xmp=` save argument; one
  segment holds at most 65,504 bytes).
- TIFF: tag 700 (XMLPacket) of type BYTE (Pillow has no `xmp=` for TIFF; the tag goes in `tiffinfo`,
  and Pillow reads it back as `info["xmp"]`).

Every file is deterministic: the same pixels and config give the same bytes (the sRGB profile's
creation date is pinned, see `srgb_icc`).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo

from belamy.core.config import bounds, check_fields
from belamy.core.errors import BelamyError
from belamy.core.rgb import check_rgb8

MAX_UPSCALE = 16
ASPECT_TOLERANCE = 0.01
MIME = {"png": "image/png", "tiff": "image/tiff", "jpeg": "image/jpeg"}
SUFFIX = {"png": ".png", "tiff": ".tif", "jpeg": ".jpg"}
PNG_XMP_KEY = "XML:com.adobe.xmp"
TIFF_XMP_TAG = 700
TIFF_COMPRESSION = "tiff_lzw"  # lossless, and the one every print shop's RIP reads
JPEG_XMP_MAX = 65504  # an APP1 segment holds 65,533 bytes, less the 29-byte XMP namespace header
_ALIASES = {"jpg": "jpeg", "tif": "tiff"}
_UNIT_INCHES = {"in": 1.0, "cm": 1 / 2.54, "mm": 1 / 25.4}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:x\s*(\d+(?:\.\d+)?)\s*)?(cm|mm|in|px)\s*", re.IGNORECASE)
_ICC_DATE = (2000, 1, 1, 0, 0, 0)  # written into the sRGB profile in place of the time it was made


@dataclass
class PrintConfig:
    """How a picture becomes a print file; `validate()` runs on construction (call it again after editing)."""

    # "30x30cm", "12x12in", "300mm", "2048px": width x height, or one number for the longer side with the
    # image's aspect kept; None keeps the pixels as they are
    size: str | None = None
    dpi: int = field(default=300, metadata=bounds(72, 1200))
    format: Literal["png", "tiff", "jpeg"] = "png"  # jpg and tif are read as jpeg and tiff
    quality: int = field(default=95, metadata=bounds(1, 100))  # JPEG only

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        if isinstance(self.format, str):
            self.format = _ALIASES.get(self.format.lower(), self.format.lower())  # type: ignore[assignment]
        check_fields(self, "print config")
        if self.size is not None:
            parse_size(self.size)


def parse_size(size: str) -> tuple[float, float | None, str]:
    """"30x40cm" -> (30.0, 40.0, "cm"); "300mm" -> (300.0, None, "mm"); one line for anything else."""
    m = _SIZE.fullmatch(size)
    if not m or float(m.group(1)) <= 0 or (m.group(2) is not None and float(m.group(2)) <= 0):
        raise BelamyError(f"print size '{size}' is not a size: use width x height and a unit (30x40cm, "
                          f"12x16in, 300x400mm, 2048x2048px) or one number for the longer side (30cm)")
    return float(m.group(1)), (float(m.group(2)) if m.group(2) is not None else None), m.group(3).lower()


def print_pixels(cfg: PrintConfig, width: int, height: int) -> tuple[int, int]:
    """The (width, height) in pixels that `cfg.size` at `cfg.dpi` needs for a `width` x `height` image.

    Two numbers are the width and height and must match the image's aspect within 1%; one number is
    the longer side, the shorter following the image's aspect.
    """
    if cfg.size is None:
        return width, height
    a, b, unit = parse_size(cfg.size)
    per_unit = 1.0 if unit == "px" else _UNIT_INCHES[unit] * cfg.dpi  # pixels per unit
    if b is None:
        long_px = max(1, round(a * per_unit))
        if width >= height:
            return long_px, max(1, round(long_px * height / width))
        return max(1, round(long_px * width / height)), long_px
    image_aspect, asked_aspect = width / height, a / b
    if abs(asked_aspect / image_aspect - 1) > ASPECT_TOLERANCE:
        keep = f"{_num(a)}x{_num(a / image_aspect)}{unit}"
        raise BelamyError(f"print size {cfg.size} is {_num(asked_aspect, 3)}:1 but the image ({width}x{height}) is "
                          f"{_num(image_aspect, 3)}:1: use {keep}, or one number ({_num(max(a, b))}{unit}) to keep "
                          f"the image's aspect")
    return max(1, round(a * per_unit)), max(1, round(b * per_unit))


def upscale(arr: np.ndarray, size: tuple[int, int],
            upscaler: Callable[[np.ndarray, tuple[int, int]], np.ndarray] | None = None,
            ) -> tuple[np.ndarray, dict[str, Any]]:
    """Resize an (H, W, 3) uint8 image to `size` = (width, height) -> (pixels, a JSON-able record of the step).

    `upscaler(arr, size)` (a super-resolution model, say) must return (height, width, 3) uint8; without one,
    Pillow's Lanczos filter is used. More than MAX_UPSCALE times is refused: it would print mush.
    """
    arr = _check_image(arr)
    h, w = arr.shape[:2]
    tw, th = int(size[0]), int(size[1])
    if tw < 1 or th < 1:
        raise BelamyError(f"cannot resize to {tw}x{th} pixels: both sides must be at least 1")
    factor = max(tw / w, th / h)
    if factor > MAX_UPSCALE:
        raise BelamyError(f"printing this {w}x{h} image at {tw}x{th} px needs {factor:.1f}x upscaling, more than "
                          f"{MAX_UPSCALE}x: print smaller, at a lower DPI, or render larger")
    step: dict[str, Any] = {"kind": "upscale", "method": "none", "from": [w, h], "to": [tw, th],
                            "factor": round(factor, 4)}
    if (tw, th) == (w, h):
        return arr, step
    if upscaler is None:
        out = np.asarray(Image.fromarray(arr).resize((tw, th), Image.Resampling.LANCZOS))
        step["method"] = "lanczos"
        return out, step
    out = np.asarray(upscaler(arr, (tw, th)))
    name = getattr(upscaler, "__name__", type(upscaler).__name__)
    if out.shape != (th, tw, 3) or out.dtype != np.uint8:
        raise BelamyError(f"the upscaler {name} returned {out.shape} {out.dtype}, not ({th}, {tw}, 3) uint8: "
                          f"fix the upscaler, or print without it")
    step["method"] = name
    return out, step


@lru_cache(maxsize=1)
def srgb_icc() -> bytes:
    """The sRGB ICC profile (Pillow's LittleCMS built-in), with a fixed creation date so files are reproducible."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    # header bytes 24-35: dateTimeNumber, six big-endian uint16 (ICC.1:2022, 7.2.1); the profile ID
    # (bytes 84-99) that LittleCMS leaves zero stays zero, so nothing else depends on the date
    data[24:36] = b"".join(v.to_bytes(2, "big") for v in _ICC_DATE)
    return bytes(data)


def encode(arr: np.ndarray, cfg: PrintConfig, xmp: bytes | None = None,
           text: dict[str, str] | None = None) -> bytes:
    """The print file's bytes: `arr` as cfg.format with the sRGB profile, cfg.dpi, the XMP packet (when
    given) and, for PNG only, `text` as iTXt chunks (JPEG and TIFF carry the record in the XMP packet)."""
    arr = _check_image(arr)
    fmt = cfg.format
    if text and fmt != "png":
        raise BelamyError(f"text chunks exist only in PNG, not {fmt.upper()}: put the record in the XMP packet, "
                          f"or print as png")
    if xmp is not None and not isinstance(xmp, bytes):
        raise BelamyError(f"the XMP packet must be bytes (UTF-8 XML), got {type(xmp).__name__}")
    im = Image.fromarray(arr)
    kw: dict[str, Any] = {"icc_profile": srgb_icc(), "dpi": (cfg.dpi, cfg.dpi)}
    if fmt == "png":
        kw["pnginfo"] = _png_info(xmp, text or {})
    elif fmt == "jpeg":
        if xmp is not None and len(xmp) > JPEG_XMP_MAX:
            raise BelamyError(f"the XMP packet is {len(xmp):,} bytes, more than a JPEG can hold in one segment "
                              f"({JPEG_XMP_MAX:,}): print as png or tiff")
        kw.update(quality=cfg.quality, subsampling=0, optimize=True)  # 4:4:4 keeps fine colour detail
        if xmp is not None:
            kw["xmp"] = xmp
    else:
        kw["compression"] = TIFF_COMPRESSION
        if xmp is not None:
            kw["tiffinfo"] = {TIFF_XMP_TAG: xmp}
    buf = io.BytesIO()
    im.save(buf, format=fmt.upper(), **kw)
    return buf.getvalue()


def _png_info(xmp: bytes | None, text: dict[str, str]) -> PngInfo:
    info = PngInfo()
    for key, value in text.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 79 or not key.isascii() or key != key.strip():
            raise BelamyError(f"PNG text key {key!r} is not a keyword: use 1-79 ASCII characters without "
                              f"leading or trailing spaces")
        if key == PNG_XMP_KEY and xmp is not None:
            raise BelamyError(f"PNG text key {PNG_XMP_KEY} is where the XMP packet goes: pass the packet as xmp")
        if not isinstance(value, str):
            raise BelamyError(f"PNG text {key} must be a string, got {type(value).__name__}")
        info.add_itxt(key, value)
    if xmp is not None:
        try:
            xmp.decode("utf-8")
        except UnicodeDecodeError:
            raise BelamyError("the XMP packet is not UTF-8: encode the XML as UTF-8") from None
        info.add_itxt(PNG_XMP_KEY, xmp)
    return info


def _check_image(arr: np.ndarray) -> np.ndarray:
    return check_rgb8(arr, "print")


def _num(x: float, digits: int = 4) -> str:
    """A size for a message: 30.0 -> "30", 22.4999 -> "22.5"."""
    return f"{x:.{digits}g}" if not math.isclose(x, round(x)) else str(round(x))
