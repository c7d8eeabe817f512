"""Signing: the typeset signature lands only in its box, reproducibly, in a calm corner, in ink that reads."""

from __future__ import annotations

import json
import warnings

import matplotlib
import numpy as np
import pytest

from belamy.core.errors import BelamyError
from belamy.finish import signature
from belamy.finish.signature import CORNERS, MATH_FONTSETS, SignatureConfig, sign


def painting(seed: int = 0, side: int = 384, lo: float = 60, hi: float = 190, noise: float = 3.0) -> np.ndarray:
    """A smooth diagonal colour gradient between `lo` and `hi` with a little grain."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side] / side
    t = (0.6 * x + 0.4 * y)[..., None]
    base = lo + (hi - lo) * t * np.array([1.0, 0.85, 0.7])
    return np.clip(base + rng.normal(0, noise, base.shape), 0, 255).astype(np.uint8)


def wcag(a, b) -> float:
    """WCAG 2 contrast ratio, written out here independently of the module under test."""
    def lum(rgb):
        c = np.asarray(rgb, float) / 255
        c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=2)


def test_the_formula_changes_pixels_only_inside_its_box_and_is_deterministic():
    arr = painting()
    before = arr.copy()
    out, step = sign(arr, SignatureConfig())
    assert np.array_equal(arr, before)  # the input is not touched
    x0, y0, x1, y1 = step["box"]
    diff = changed(out, arr)
    assert diff[y0:y1, x0:x1].sum() > 0.1 * (x1 - x0) * (y1 - y0)  # there is ink
    diff[y0:y1, x0:x1] = False
    assert not diff.any()
    assert step["height_px"] == y1 - y0 == round(0.03 * 384)
    assert step["kind"] == "signature" and step["fontset"] == "stix" and r"\mathbb{E}" in step["mathtext"]
    assert step["matplotlib"] == matplotlib.__version__ and step["freetype"]
    json.dumps(step)  # JSON-able

    again, step2 = sign(arr.copy(), SignatureConfig())
    assert again.tobytes() == out.tobytes() and step2 == step


def test_signing_leaves_matplotlib_settings_alone():
    before = dict(matplotlib.rcParams)
    backend = matplotlib.get_backend()
    sign(painting(1), SignatureConfig())
    sign(painting(1), SignatureConfig(text="A. Painter"))
    assert dict(matplotlib.rcParams) == before
    assert matplotlib.get_backend() == backend


@pytest.mark.parametrize("flat", CORNERS)
def test_auto_corner_picks_the_one_calm_corner(flat):
    side = 384
    rng = np.random.default_rng(3)
    arr = rng.integers(0, 256, size=(side, side, 3), dtype=np.uint8)  # busy everywhere...
    half = side // 2
    ys = slice(half, side) if flat.startswith("bottom") else slice(0, half)
    xs = slice(half, side) if flat.endswith("right") else slice(0, half)
    arr[ys, xs] = (120, 110, 100)  # ...but one quarter
    step = sign(arr, SignatureConfig(corner="auto", text="Sig"))[1]
    assert step["corner"] == flat
    assert min(step["busyness"], key=step["busyness"].get) == flat
    x0, y0, x1, y1 = step["box"]
    assert (xs.start <= x0 and x1 <= xs.stop) and (ys.start <= y0 and y1 <= ys.stop)


def test_a_flat_painting_is_signed_bottom_right():
    arr = np.full((400, 400, 3), 200, np.uint8)
    assert sign(arr, SignatureConfig())[1]["corner"] == "bottom-right"


def test_a_given_corner_is_kept():
    step = sign(painting(), SignatureConfig(corner="top-left", text="Sig"))[1]
    assert step["corner"] == "top-left" and step["corner_choice"] == "given"
    margin = round(0.03 * 384)
    assert step["box"][:2] == [margin, margin]


@pytest.mark.parametrize("tone", ["dark", "light", "mid"])
def test_auto_ink_reads_on_dark_light_and_mid_paintings(tone):
    lo, hi = {"dark": (5, 60), "light": (200, 250), "mid": (100, 140)}[tone]
    arr = painting(7, side=640, lo=lo, hi=hi)  # 29 px: glyph stems wide enough to hold solid ink
    out, step = sign(arr, SignatureConfig())
    x0, y0, x1, y1 = step["box"]
    background = arr[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0)
    ink = tuple(int(step["ink"][i:i + 2], 16) for i in (1, 3, 5))
    assert wcag(ink, background) >= 4.5
    assert step["contrast"] == pytest.approx(wcag(ink, background), abs=0.01)
    # the glyphs' solid pixels are the ink itself
    assert np.all(out[y0:y1, x0:x1] == ink, axis=2).sum() > 20


def test_auto_ink_takes_a_colour_from_the_painting():
    arr = painting(2, lo=10, hi=50)
    arr[120:260, 120:260] = (226, 196, 150)  # a light passage in a dark painting, away from the corners
    step = sign(arr, SignatureConfig())[1]
    assert step["ink_choice"] == "palette"
    ink = np.array([int(step["ink"][i:i + 2], 16) for i in (1, 3, 5)])
    assert np.abs(ink - (226, 196, 150)).max() <= 16
    assert step["contrast"] >= 4.5


def test_a_given_ink_is_used_as_given():
    out, step = sign(painting(), SignatureConfig(ink="#102030", text="Sig"))
    assert step["ink"] == "#102030" and step["ink_choice"] == "given"
    x0, y0, x1, y1 = step["box"]
    assert np.all(out[y0:y1, x0:x1] == (0x10, 0x20, 0x30), axis=2).any()


def test_custom_text_is_set_in_a_serif_italic():
    arr = painting()
    out, step = sign(arr, SignatureConfig(text="Obvious"))
    assert step["text"] == "Obvious" and "mathtext" not in step
    assert (step["font"], step["style"], step["font_file"]) == ("STIXGeneral", "italic", "STIXGeneralItalic.ttf")
    x0, y0, x1, y1 = step["box"]
    assert 2 < (x1 - x0) / (y1 - y0) < 6  # a word, not the long formula
    assert changed(out, arr)[y0:y1, x0:x1].any()
    assert sign(arr, SignatureConfig(text="Obvious"))[0].tobytes() == out.tobytes()


def test_a_named_font_is_used_and_an_unknown_one_is_one_line():
    step = sign(painting(), SignatureConfig(text="Obvious", font="dejavu sans"))[1]
    assert step["font"] == "DejaVu Sans" and step["font_file"] == "DejaVuSans.ttf"
    with pytest.raises(BelamyError, match="not known to matplotlib"):
        sign(painting(), SignatureConfig(text="Obvious", font="No Such Font Family"))


@pytest.mark.parametrize("fontset", MATH_FONTSETS)
def test_the_formula_renders_in_every_mathtext_fontset_without_missing_glyphs(fontset):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        step = sign(painting(), SignatureConfig(font=fontset))[1]
    assert step["fontset"] == fontset


def test_a_glyph_the_font_lacks_is_an_error_not_a_box(monkeypatch):
    with pytest.raises(BelamyError, match="cannot draw all of"):
        sign(painting(), SignatureConfig(text="Fehu \u16a0"))  # a runic letter: in no bundled font
    # the formula's fontset check is live too: a formula with a glyph stix lacks fails the same way, twice
    monkeypatch.setattr(signature, "GAN_FORMULA", "$x \u16a0$")
    for _ in range(2):
        with pytest.raises(BelamyError, match="cannot draw all of"):
            sign(painting(), SignatureConfig())


def test_too_small_an_image_is_one_line_saying_how_to_fix_it():
    with pytest.raises(BelamyError, match=r"9 px tall.*--signature-height.*--no-signature") as info:
        sign(painting(side=300), SignatureConfig())
    assert "\n" not in str(info.value)
    sign(painting(side=334), SignatureConfig())  # 10 px reads


def test_a_signature_wider_than_the_image_is_refused():
    with pytest.raises(BelamyError, match="wide"):
        sign(painting(side=384)[:, :200], SignatureConfig(height=0.1))


@pytest.mark.parametrize("kw, match", [
    ({"corner": "middle"}, "corner"),
    ({"ink": "red"}, "not a colour"),
    ({"ink": "#12345"}, "not a colour"),
    ({"height": 0.0}, "height"),
    ({"height": "big"}, "height"),
    ({"margin": 0.4}, "margin"),
    ({"text": "  "}, "empty"),
    ({"font": "DejaVu Serif"}, "mathtext fontset"),
])
def test_bad_configs_are_one_line(kw, match):
    with pytest.raises(BelamyError, match=match) as info:
        SignatureConfig(**kw)
    assert "\n" not in str(info.value)


def test_the_image_must_be_rgb_uint8():
    with pytest.raises(BelamyError, match="uint8"):
        sign(np.zeros((300, 300), np.uint8), SignatureConfig())
