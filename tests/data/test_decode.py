"""Every kind of file a real collection contains decodes to size x size RGB, or is skipped with a reason."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from belamy.data.decode import DecodeOptions, Skip, decode
from conftest import encode, pattern, png_bomb

OPTS = DecodeOptions(size=32, min_side=8)


def arr(d) -> np.ndarray:
    return np.frombuffer(d.pixels, np.uint8).reshape(32, 32, 3)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF"])
def test_common_formats(fmt):
    d = decode(encode(pattern(1), fmt), OPTS)
    assert d.format == fmt and len(d.pixels) == 32 * 32 * 3 and (d.width, d.height) == (96, 80)


def test_extension_lies_format_is_sniffed():
    d = decode(encode(pattern(2), "PNG"), OPTS)  # the caller's file name says nothing
    assert d.format == "PNG"


def test_exif_orientation_is_applied():
    im = pattern(3, 96, 48)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    d = decode(encode(im, "JPEG", exif=exif.tobytes()), OPTS)
    assert (d.width, d.height) == (48, 96)


def test_cmyk_jpeg():
    d = decode(encode(pattern(4).convert("CMYK"), "JPEG"), OPTS)
    assert d.mode == "CMYK" and arr(d).std() > 5


def test_16bit_grayscale_png_is_scaled_not_clipped():
    a = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    d = decode(encode(Image.fromarray(a), "PNG"), OPTS)
    out = arr(d)
    assert out.max() > 200 and out.min() < 20  # a clip to 255 would make almost everything white


def test_palette_with_transparency_uses_background():
    im = Image.new("P", (40, 40), 0)
    im.putpalette([255, 0, 0] + [0, 0, 255] * 255)
    im.info["transparency"] = 0
    d = decode(encode(im, "GIF", transparency=0), DecodeOptions(size=32, background="#00ff00", min_side=8))
    assert tuple(arr(d)[16, 16]) == (0, 255, 0)


def test_rgba_and_la_composited_on_white():
    rgba = Image.new("RGBA", (40, 40), (10, 20, 30, 0))
    assert tuple(arr(decode(encode(rgba, "PNG"), OPTS))[5, 5]) == (255, 255, 255)
    la = Image.new("LA", (40, 40), (0, 0))
    assert tuple(arr(decode(encode(la, "PNG"), OPTS))[5, 5]) == (255, 255, 255)


def test_animated_gif_and_multipage_tiff_take_first_frame():
    frames = [pattern(5).convert("P"), pattern(6).convert("P")]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    d = decode(gif, OPTS)
    assert d.frames == 2
    single = decode(encode(frames[0], "GIF"), OPTS)
    assert d.pixels == single.pixels
    tiff = encode(pattern(7), "TIFF", save_all=True, append_images=[pattern(8)])
    assert decode(tiff, OPTS).frames == 2


@pytest.mark.parametrize("fit", ["crop", "pad", "stretch"])
def test_fit_modes(fit):
    im = Image.new("RGB", (100, 50), (200, 0, 0))
    d = decode(encode(im, "PNG"), DecodeOptions(size=32, fit=fit, background="black", min_side=8))
    corner = tuple(arr(d)[0, 0])
    assert corner == ((0, 0, 0) if fit == "pad" else (200, 0, 0))


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty file"),
        (b"hello, this is a text file\n", "not an image"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "corrupt"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "vector format (SVG)"),
        (b"%PDF-1.4\n%...", "vector format (PDF)"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n", "vector format (PostScript/EPS)"),
    ],
)
def test_bad_files_give_a_reason(data, reason):
    with pytest.raises(Skip, match=reason.replace("(", r"\(").replace(")", r"\)")):
        decode(data, OPTS)


def test_truncated_jpeg_is_skipped():
    data = encode(pattern(9, 300, 300), "JPEG", quality=95)
    with pytest.raises(Skip, match="truncated or corrupt"):
        decode(data[: len(data) // 2], OPTS)


def test_decompression_bomb_is_refused_without_allocating():
    with pytest.raises(Skip, match="decompression bomb"):
        decode(png_bomb(), OPTS)


def test_too_small_is_skipped():
    with pytest.raises(Skip, match="too small"):
        decode(encode(pattern(1, 4, 4), "PNG"), OPTS)
