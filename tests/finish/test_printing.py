"""The print file: physical size -> pixels, bounded upscaling, and PNG/TIFF/JPEG with profile, DPI and XMP."""

from __future__ import annotations

import datetime
import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from belamy.core.errors import BelamyError
from belamy.finish.printing import (
    MAX_UPSCALE,
    MIME,
    SUFFIX,
    PrintConfig,
    encode,
    parse_size,
    print_pixels,
    srgb_icc,
    upscale,
)

XMP = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
       '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
       '<dc:creator>Bélamy test</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>'
       '<?xpacket end="w"?>').encode("utf-8")


def smooth(h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth picture with grain (JPEG keeps it close; PNG and TIFF keep it exactly)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([40 + 3 * x, 200 - 2 * y, 90 + x + y], -1).astype(float)
    return np.clip(base + rng.normal(0, 2, base.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("size, dpi, image, expected", [
    ("30x30cm", 300, (1024, 1024), (3543, 3543)),
    ("12x12in", 300, (1024, 1024), (3600, 3600)),
    ("300x150mm", 200, (2048, 1024), (2362, 1181)),
    ("300mm", 300, (2048, 1024), (3543, 1772)),  # one number: the longer side, the image's aspect kept
    ("20 CM", 300, (600, 900), (1575, 2362)),  # portrait: the longer side is the height
    ("2048px", 300, (512, 1024), (1024, 2048)),
    ("2048x1024px", 72, (1024, 512), (2048, 1024)),
    ("30x30.2cm", 300, (1024, 1024), (3543, 3567)),  # within 1% of the image's aspect
    (None, 300, (640, 480), (640, 480)),
])
def test_print_pixels(size, dpi, image, expected):
    assert print_pixels(PrintConfig(size=size, dpi=dpi), *image) == expected


def test_an_aspect_mismatch_names_a_size_with_the_images_aspect():
    with pytest.raises(BelamyError, match=r"use 30x30cm") as info:
        print_pixels(PrintConfig(size="30x40cm"), 1024, 1024)
    assert "\n" not in str(info.value)
    with pytest.raises(BelamyError, match=r"use 40x20in"):
        print_pixels(PrintConfig(size="40x30in"), 2000, 1000)


@pytest.mark.parametrize("size", ["30", "30x", "x30cm", "30x40", "30ft", "0cm", "-5cm", "30x0mm", ""])
def test_a_size_that_is_not_a_size_is_one_line(size):
    with pytest.raises(BelamyError, match="is not a size") as info:
        PrintConfig(size=size)
    assert "\n" not in str(info.value)


def test_parse_size():
    assert parse_size("30x40cm") == (30.0, 40.0, "cm")
    assert parse_size(" 8.5 x 11 IN ") == (8.5, 11.0, "in")
    assert parse_size("300mm") == (300.0, None, "mm")


@pytest.mark.parametrize("kw, match", [
    ({"dpi": 71}, "dpi"), ({"dpi": 1201}, "dpi"), ({"dpi": 300.0}, "dpi"),
    ({"format": "gif"}, "format"), ({"quality": 0}, "quality"), ({"quality": 101}, "quality"),
])
def test_bad_print_configs_are_one_line(kw, match):
    with pytest.raises(BelamyError, match=match):
        PrintConfig(**kw)


def test_format_aliases():
    assert PrintConfig(format="JPG").format == "jpeg" and PrintConfig(format="tif").format == "tiff"
    assert set(MIME) == set(SUFFIX) == {"png", "tiff", "jpeg"}


def test_more_than_16x_upscaling_is_refused_with_the_factor():
    arr = smooth(64, 64)
    with pytest.raises(BelamyError, match=r"17\.2x upscaling, more than 16x: print smaller") as info:
        upscale(arr, (1100, 1100))
    assert "\n" not in str(info.value)
    out, step = upscale(smooth(8, 8), (8 * MAX_UPSCALE, 8 * MAX_UPSCALE))  # exactly 16x is allowed
    assert out.shape == (128, 128, 3) and step["factor"] == 16


def test_upscale_with_lanczos_records_the_step():
    arr = smooth(48, 64)
    out, step = upscale(arr, (160, 120))
    assert out.shape == (120, 160, 3) and out.dtype == np.uint8
    assert step == {"kind": "upscale", "method": "lanczos", "from": [64, 48], "to": [160, 120], "factor": 2.5}
    assert np.array_equal(out, upscale(arr, (160, 120))[0])


def test_factor_one_is_unchanged():
    arr = smooth()
    out, step = upscale(arr, (64, 48))
    assert out is arr and step["method"] == "none" and step["factor"] == 1


def test_a_given_upscaler_is_used_and_checked():
    def nearest(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        return np.asarray(Image.fromarray(a).resize(size, Image.Resampling.NEAREST))

    arr = smooth(10, 10)
    out, step = upscale(arr, (40, 40), nearest)
    assert step["method"] == "nearest" and np.array_equal(out[::4, ::4], arr)
    with pytest.raises(BelamyError, match="returned"):
        upscale(arr, (40, 40), lambda a, size: nearest(a, (size[0], size[1] + 1)))


def test_srgb_icc_is_a_reproducible_srgb_profile():
    icc = srgb_icc()
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    assert "sRGB" in ImageCms.getProfileDescription(profile)
    assert icc[36:40] == b"acsp" and int.from_bytes(icc[:4], "big") == len(icc)
    assert profile.profile.creation_date == datetime.datetime(2000, 1, 1)  # pinned, not the time it was made
    srgb_icc.cache_clear()
    assert srgb_icc() == icc


@pytest.mark.parametrize("fmt", ["png", "tiff", "jpeg"])
def test_encode_round_trips(fmt):
    arr = smooth()
    cfg = PrintConfig(format=fmt, dpi=240)
    text = {"belamy": '{"record": "é"}', "Title": "Portrait"} if fmt == "png" else None
    data = encode(arr, cfg, xmp=XMP, text=text)
    assert data == encode(arr, cfg, xmp=XMP, text=text)  # reproducible bytes
    im = Image.open(io.BytesIO(data))
    assert im.format == fmt.upper() and Image.MIME[im.format] == MIME[fmt]
    back = np.asarray(im.convert("RGB"))
    if fmt == "jpeg":
        assert np.abs(back.astype(int) - arr).mean() < 3
    else:
        assert np.array_equal(back, arr)
    assert im.info["icc_profile"] == srgb_icc()
    assert im.info["dpi"] == pytest.approx((240, 240), abs=0.01)
    assert XMP in data and im.info["xmp"] == XMP
    if fmt == "png":
        assert im.text["belamy"] == '{"record": "é"}' and im.text["Title"] == "Portrait"
    if fmt == "tiff":
        assert im.info["compression"] == "tiff_lzw"


@pytest.mark.parametrize("fmt", ["png", "tiff", "jpeg"])
def test_encode_without_xmp(fmt):
    im = Image.open(io.BytesIO(encode(smooth(), PrintConfig(format=fmt))))
    assert "xmp" not in im.info and im.info["icc_profile"] == srgb_icc()


@pytest.mark.parametrize("fmt", ["tiff", "jpeg"])
def test_text_chunks_are_png_only(fmt):
    with pytest.raises(BelamyError, match="only in PNG"):
        encode(smooth(), PrintConfig(format=fmt), text={"belamy": "{}"})


def test_encode_refuses_what_a_format_cannot_hold():
    with pytest.raises(BelamyError, match="more than a JPEG can hold"):
        encode(smooth(), PrintConfig(format="jpeg"), xmp=b"<x>" + b"a" * 70_000 + b"</x>")
    with pytest.raises(BelamyError, match="not UTF-8"):
        encode(smooth(), PrintConfig(), xmp=b"\xff\xfe")
    with pytest.raises(BelamyError, match="XMP packet goes"):
        encode(smooth(), PrintConfig(), xmp=XMP, text={"XML:com.adobe.xmp": "x"})
    with pytest.raises(BelamyError, match="not a keyword"):
        encode(smooth(), PrintConfig(), text={"": "x"})
    with pytest.raises(BelamyError, match="uint8"):
        encode(smooth().astype(np.float32), PrintConfig())
