"""Bytes of a source file -> one square RGB uint8 array, or a reason why the file can't be used.

Real collections hold everything: CMYK scans, 16-bit TIFFs, palette GIFs with transparency,
animated WebPs, photos with EXIF rotation, files whose extension lies. This module turns any of
them into the same thing (size x size x 3 uint8, sRGB) and turns every failure into a `Skip`
with a human reason, so a bad file is reported and never crashes an ingest run.

It runs in worker processes, so it imports only Pillow, numpy and imagehash (and `embedded`, which
reads the credits and consent fields the file carries with Pillow and the standard library).
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageColor, ImageOps, UnidentifiedImageError

from belamy.data.embedded import read_embedded


class Skip(Exception):
    """A file that cannot be used; the message is the reason shown in the report."""


@dataclass(frozen=True)
class DecodeOptions:
    size: int
    fit: str = "crop"
    background: str = "white"
    min_side: int = 1
    max_pixels: int = 89_478_485


@dataclass
class Decoded:
    pixels: bytes  # size*size*3 uint8, row-major RGB
    phash: int  # 64-bit DCT perceptual hash of the prepared image
    dhash: int  # 64-bit difference hash (a second, independent opinion for near duplicates)
    colors: bytes  # 4x4 RGB thumbnail: the hashes above are colour-blind
    width: int  # original size, after EXIF orientation
    height: int
    format: str  # the real format, whatever the extension said
    mode: str  # the original pixel mode (e.g. CMYK, I;16, P)
    frames: int
    meta: dict[str, Any] = field(default_factory=dict)  # credits and consent it carries (`embedded`)


def sniff_vector(head: bytes) -> str | None:
    """Name the vector format of a file from its first bytes, if it is one."""
    h = head.lstrip()[:2048]
    if h.startswith(b"%PDF"):
        return "PDF"
    if h.startswith(b"%!PS") or head[:4] == b"\xc5\xd0\xd3\xc6":
        return "PostScript/EPS"
    low = h.lower()
    if b"<svg" in low and (low.startswith(b"<?xml") or low.startswith(b"<svg") or low.startswith(b"<!doctype")):
        return "SVG"
    return None


_RASTER_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF8", "GIF"), (b"BM", "BMP"),
    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"),
)


def sniff_raster(head: bytes) -> str | None:
    """Name the raster format a file claims by its signature (to tell corrupt from not-an-image)."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    for magic, name in _RASTER_MAGIC:
        if head.startswith(magic):
            return name
    return None


def decode(data: bytes, opts: DecodeOptions) -> Decoded:
    """Decode and prepare one image; raise `Skip` with a reason if it can't be used."""
    if not data:
        raise Skip("empty file")
    vector = sniff_vector(data[:4096])
    if vector:
        raise Skip(f"vector format ({vector}) is not supported: rasterise it to PNG first")
    Image.MAX_IMAGE_PIXELS = opts.max_pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data))
            fmt = im.format or "unknown"
            frames = getattr(im, "n_frames", 1)
            mode = im.mode
            _check_bomb(im, opts.max_pixels)
            width, height = im.size
            _draft(im, opts.size)
            im.load()
            meta = read_embedded(im)  # after load: a PNG's text chunks may follow its pixels
            drafted = im.size
            im = ImageOps.exif_transpose(im)
            if im.size != drafted:  # rotated by EXIF: report the size as displayed
                width, height = height, width
        except Skip:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise Skip(f"decompression bomb refused ({exc.__class__.__name__})") from None
        except UnidentifiedImageError:
            magic = sniff_raster(data[:16])
            if magic:
                raise Skip(f"corrupt image (a {magic} signature, but unreadable contents)") from None
            raise Skip("not an image (or an unsupported format)") from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error) as exc:
            raise Skip(f"truncated or corrupt image ({_short(exc)})") from None
        except MemoryError:
            raise Skip("image too large to decode in memory") from None
    if min(width, height) < opts.min_side:
        raise Skip(f"too small ({width}x{height}; short side under {opts.min_side} px)")
    try:
        rgb = to_rgb(im, opts.background)
        out = fit_square(rgb, opts.size, opts.fit, opts.background)
    except (OSError, ValueError) as exc:
        raise Skip(f"cannot convert pixels ({_short(exc)})") from None
    arr = np.asarray(out, dtype=np.uint8)
    return Decoded(
        pixels=arr.tobytes(),
        phash=phash64(out),
        dhash=dhash64(out),
        colors=out.resize((4, 4), Image.Resampling.BOX).tobytes(),
        width=width,
        height=height,
        format=fmt,
        mode=mode,
        frames=frames,
        meta=meta,
    )


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return text[:120]


def _check_bomb(im: Image.Image, max_pixels: int) -> None:
    w, h = im.size
    if w * h > max_pixels:
        raise Skip(f"decompression bomb refused ({w}x{h} = {w * h:,} pixels > limit {max_pixels:,})")


def _draft(im: Image.Image, size: int) -> None:
    """Let JPEG decode at a reduced scale (DCT scaling) when the image is much larger than needed.

    The short side stays >= size, so every fit mode still has enough pixels. This is what makes
    ingest of large photos fast.
    """
    if im.format != "JPEG":
        return
    w, h = im.size
    short = min(w, h)
    if short <= size:
        return
    scale = size / short
    im.draft(im.mode if im.mode in ("RGB", "L") else None, (int(w * scale) + 1, int(h * scale) + 1))


def to_rgb(im: Image.Image, background: str) -> Image.Image:
    """Any Pillow mode -> sRGB 'RGB', with transparency composited over `background`."""
    im = _to_srgb(im)
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        hi = a.max() if a.size else 0.0
        if mode == "F":
            lo = a.min()
            a = (a - lo) / max(hi - lo, 1e-12) * 255.0
        elif hi > 255:
            a = a / 257.0
        im = Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8), "L")
        mode = "L"
    if mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
    elif mode in ("LA", "La", "PA", "RGBa"):
        im = im.convert("RGBA")
    elif mode not in ("RGB", "RGBA"):
        im = im.convert("RGB")
    if im.mode == "RGBA":
        bg = Image.new("RGB", im.size, ImageColor.getrgb(background)[:3])
        bg.paste(im, mask=im.getchannel("A"))
        im = bg
    return im


def _to_srgb(im: Image.Image) -> Image.Image:
    """Apply an embedded ICC profile (e.g. Adobe RGB museum scans) so colours are right."""
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "RGBA", "CMYK"):
        return im
    try:
        from PIL import ImageCms

        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        dst = ImageCms.createProfile("sRGB")
        out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(im, src, dst, outputMode=out_mode)
    except Exception:  # a broken profile: fall back to the plain conversion
        return im


def fit_square(im: Image.Image, size: int, fit: str, background: str) -> Image.Image:
    """Make an RGB image size x size by centre crop, padding or stretching."""
    w, h = im.size
    if fit == "stretch":
        return im.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
    if fit == "pad":
        scale = size / max(w, h)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        small = im.resize((nw, nh), Image.Resampling.LANCZOS, reducing_gap=3.0)
        canvas = Image.new("RGB", (size, size), ImageColor.getrgb(background)[:3])
        canvas.paste(small, ((size - nw) // 2, (size - nh) // 2))
        return canvas
    side = min(w, h)
    left, top = (w - side) / 2, (h - side) / 2
    return im.resize(
        (size, size), Image.Resampling.LANCZOS, box=(left, top, left + side, top + side), reducing_gap=3.0
    )


def phash64(im: Image.Image) -> int:
    """64-bit DCT perceptual hash (imagehash.phash) as an int."""
    import imagehash

    return int(str(imagehash.phash(im)), 16)


def dhash64(im: Image.Image) -> int:
    """64-bit gradient hash (imagehash.dhash) as an int."""
    import imagehash

    return int(str(imagehash.dhash(im)), 16)
