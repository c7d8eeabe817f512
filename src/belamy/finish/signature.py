"""Signing a painting with a typeset signature, placed and inked so that it reads on that painting.

The default signature is the GAN objective, as the 2018 "Portrait of Edmond de Belamy" was signed;
any other text is the artist's own, set in a serif italic. Either is typeset by matplotlib off
screen (an Agg canvas of its own: no pyplot, no backend switch, text settings pinned in an
`rc_context`), rasterised as an alpha mask up to 4x larger than needed, reduced to the exact
height and composited in the ink colour. The same painting and config give the same bytes.

`corner="auto"` takes the calmest corner: the least mean luminance gradient under the box and a
little around it, near-ties (within 5%) going to the painter's habit, bottom-right first.
`ink="auto"` takes the most contrasting of the painting's own colours (16 octree colours, which keep
a painting's highlights and darks apart where median cut averages them away; each must cover at
least 0.5% of the picture) whose WCAG contrast ratio against the mean colour under the box is at
least 4.5, else near-black or near-white, whichever contrasts more.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import matplotlib
import numpy as np
from matplotlib import ft2font
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, fontManager
from PIL import Image

from belamy.core.config import bounds, check_fields
from belamy.core.errors import BelamyError
from belamy.core.rgb import check_rgb8

# min_G max_D E_x[log D(x)] + E_z[log(1 - D(G(z)))]. min and max take their limits below them; \, is
# the thin space TeX puts after an operator; \mathbb{E} is STIX's double-struck E (it renders in every
# fontset of MATH_FONTSETS, those without one falling back to STIX)
GAN_FORMULA = r"$\min_G\,\max_D\,\mathbb{E}_x[\log D(x)] + \mathbb{E}_z[\log(1 - D(G(z)))]$"

CORNERS = ("bottom-right", "bottom-left", "top-right", "top-left")  # near-ties go to the first
MATH_FONTSETS = ("stix", "stixsans", "cm", "dejavuserif", "dejavusans")  # mathtext's own fontsets
FORMULA_FONTSET = "stix"  # Times-like, as a typeset paper prints the objective
TEXT_FAMILIES = ["STIXGeneral", "DejaVu Serif"]  # custom text in auto: a serif italic (both ship with matplotlib)
GENERIC_FAMILIES = ("serif", "sans-serif", "cursive", "fantasy", "monospace")
MIN_HEIGHT_PX = 10  # below this a signature no longer reads
MIN_CONTRAST = 4.5  # WCAG AA for normal text
NEAR_BLACK, NEAR_WHITE = (0x16, 0x14, 0x12), (0xF5, 0xF2, 0xEB)
PALETTE_COLORS, PALETTE_MIN_SHARE = 16, 0.005
TIE = 0.05  # corners whose busyness is within 5% of the calmest count as calm
_HEX = re.compile(r"#[0-9a-fA-F]{6}")
_MEASURE_PT = 64.0  # font size of the first, measuring render


@dataclass
class SignatureConfig:
    """How a painting is signed; `validate()` runs on construction (call it again after editing)."""

    text: str = "formula"  # "formula": the GAN minimax objective (GAN_FORMULA); anything else: that text
    corner: Literal["auto", "bottom-right", "bottom-left", "top-right", "top-left"] = "auto"
    ink: str = "auto"  # auto (from the painting's palette) or "#rrggbb"
    height: float = field(default=0.03, metadata=bounds(0.001, 0.5))  # of the image's shorter side
    # auto: the stix mathtext fontset for the formula, a serif italic (STIXGeneral) for text; the
    # formula also takes another mathtext fontset (MATH_FONTSETS), text any family matplotlib knows
    font: str = "auto"
    margin: float = field(default=0.03, metadata=bounds(0.0, 0.25))  # from the edges, of the shorter side

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        check_fields(self, "signature config")
        if not self.text.strip():
            raise BelamyError("the signature text is empty: give the text to sign with, 'formula' for the GAN "
                              "objective, or use --no-signature")
        if self.ink != "auto" and not _HEX.fullmatch(self.ink):
            raise BelamyError(f"signature ink '{self.ink}' is not a colour: use auto or a hex colour such as #2b1d14")
        if not self.font.strip():
            raise BelamyError("the signature font is empty: use auto or a font family name such as 'DejaVu Serif'")
        if self.text == "formula" and self.font not in ("auto", *MATH_FONTSETS):
            raise BelamyError(f"the formula is set in a mathtext fontset, not the font '{self.font}': use auto "
                              f"(stix) or one of {', '.join(MATH_FONTSETS)}")


def sign(arr: np.ndarray, cfg: SignatureConfig) -> tuple[np.ndarray, dict[str, Any]]:
    """Sign an (H, W, 3) uint8 painting -> (the signed copy, a JSON-able record of the step).

    Only pixels inside the record's `box` [x0, y0, x1, y1] (x1, y1 exclusive) change.
    """
    arr = _check_image(arr)
    h_img, w_img = arr.shape[:2]
    side = min(h_img, w_img)
    height_px = round(cfg.height * side)
    if height_px < MIN_HEIGHT_PX:
        raise BelamyError(
            f"the signature would be {height_px} px tall on this {w_img}x{h_img} image, under the "
            f"{MIN_HEIGHT_PX} px it needs to read: print at a larger size, raise --signature-height "
            f"(now {cfg.height:g}), or use --no-signature"
        )
    margin_px = round(cfg.margin * side)
    if height_px > h_img - 2 * margin_px:
        raise BelamyError(f"a {height_px} px signature with {margin_px} px margins does not fit this "
                          f"{w_img}x{h_img} image: lower --signature-height or the margin")
    mask, typeface = _typeset(cfg, height_px, max_width=w_img - 2 * margin_px)
    mh, mw = mask.shape

    boxes = {c: _box(c, w_img, h_img, mw, mh, margin_px) for c in CORNERS}
    busyness = {c: _busyness(arr, boxes[c], pad=max(1, mh // 2)) for c in CORNERS}
    corner = _calmest(busyness) if cfg.corner == "auto" else cfg.corner
    x0, y0, x1, y1 = boxes[corner]

    region = arr[y0:y1, x0:x1].astype(np.float32)
    background = tuple(float(v) for v in region.reshape(-1, 3).mean(axis=0))
    if cfg.ink == "auto":
        ink, ink_source = _choose_ink(arr, background)
    else:
        ink, ink_source = _parse_hex(cfg.ink), "given"

    out = arr.copy()
    alpha = mask[..., None]
    inked = region + (np.asarray(ink, np.float32) - region) * alpha
    out[y0:y1, x0:x1] = np.clip(np.rint(inked), 0, 255).astype(np.uint8)

    step: dict[str, Any] = {
        "kind": "signature",
        "text": cfg.text,
        **({"mathtext": GAN_FORMULA} if cfg.text == "formula" else {}),
        **typeface,
        "corner": corner,
        "corner_choice": "auto" if cfg.corner == "auto" else "given",
        "busyness": {c: round(v, 3) for c, v in busyness.items()},
        "ink": _hex(ink),
        "ink_choice": ink_source,
        "background": _hex(tuple(round(v) for v in background)),
        "contrast": round(contrast_ratio(ink, background), 2),
        "height_px": mh,
        "box": [x0, y0, x1, y1],
        "matplotlib": matplotlib.__version__,  # the glyphs' pixels depend on these two versions
        "freetype": ft2font.__freetype_version__,
    }
    return out, step


# ---------------------------------------------------------------- typesetting


def _typeset(cfg: SignatureConfig, height_px: int, max_width: int) -> tuple[np.ndarray, dict[str, Any]]:
    """The signature as an alpha mask exactly `height_px` tall (float32 in [0, 1]) and its typeface."""
    if cfg.text == "formula":
        fontset = FORMULA_FONTSET if cfg.font == "auto" else cfg.font
        text, parse_math = GAN_FORMULA, True
        families: list[str] = ["DejaVu Sans"]  # unused by the formula: every glyph comes from the fontset
        style = "normal"
        typeface: dict[str, Any] = {"fontset": fontset}
    else:
        text, parse_math, fontset = cfg.text, False, "dejavusans"
        families = TEXT_FAMILIES if cfg.font == "auto" else [_known_family(cfg.font)]
        style = "italic" if cfg.font == "auto" else "normal"

    def props(size: float) -> FontProperties:
        return FontProperties(family=families, style=style, size=size, math_fontfamily=fontset)

    with matplotlib.rc_context(_PINNED_RC):
        if cfg.text != "formula":
            try:
                font_file = Path(findfont(props(12), fallback_to_default=False)).name
            except ValueError:
                raise BelamyError(f"no installed font matches '{cfg.font}': use auto or name an installed "
                                  f"family such as 'DejaVu Serif'") from None
            typeface = {"font": families[0], "style": style, "font_file": font_file}
        first = _render(text, props(_MEASURE_PT), parse_math)
        width = first.shape[1] * height_px / first.shape[0]
        if width > max_width:
            raise BelamyError(f"the signature would be {width:.0f} px wide, more than the {max_width} px this "
                              f"image has between its margins: lower --signature-height or use a shorter text")
        # render at up to 4x the final height (at most 256 px, never less than the final height), then reduce
        render_px = max(height_px, min(4 * height_px, 256))
        big = _render(text, props(_MEASURE_PT * render_px / first.shape[0]), parse_math)
    size = (max(1, round(big.shape[1] * height_px / big.shape[0])), height_px)
    small = Image.fromarray(big).resize(size, Image.Resampling.LANCZOS)
    return np.asarray(small, dtype=np.float32) / 255.0, typeface


def _render(text: str, prop: FontProperties, parse_math: bool) -> np.ndarray:
    """`text` drawn black on a transparent Agg canvas -> its alpha (uint8), cropped to the ink."""
    fig = Figure(figsize=(1, 1), dpi=72)  # 72 dpi: a point is a pixel
    fig.patch.set_alpha(0.0)
    canvas = FigureCanvasAgg(fig)
    label = fig.text(0, 0, text, fontproperties=prop, parse_math=parse_math, color="black",
                     antialiased=True, ha="left", va="bottom")
    # a glyph a font lacks is a warning for text and a log record for mathtext (each canvas has its own
    # mathtext parser and layout cache, so a fresh figure logs it every time): both are caught
    mathtext_log, glyph_log = logging.getLogger("matplotlib.mathtext"), _Records()
    mathtext_log.addHandler(glyph_log)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            extent = label.get_window_extent(canvas.get_renderer())
            pad = 8 + math.ceil(0.5 * prop.get_size_in_points())  # italic overhang and mathtext limits
            w, h = math.ceil(extent.width) + 2 * pad, math.ceil(extent.height) + 2 * pad
            fig.set_size_inches(w / 72, h / 72)
            label.set_position((pad / w, pad / h))
            canvas.draw()
    finally:
        mathtext_log.removeHandler(glyph_log)
    missing = [str(c.message) for c in caught if "missing from" in str(c.message)]
    missing += [m.split(", substituting")[0] for m in glyph_log.messages if "does not have a glyph" in m]
    if missing:
        raise BelamyError(f"the signature font cannot draw all of '{text}' ({missing[0].rstrip('.')}): "
                          f"choose another --signature-font or change the text")
    alpha = np.asarray(canvas.buffer_rgba())[..., 3]
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    if not len(rows):
        raise BelamyError(f"the signature '{text}' draws no visible ink: use a text with letters in it")
    return np.ascontiguousarray(alpha[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])


class _Records(logging.Handler):
    """Keeps the messages logged while it is attached."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _known_family(name: str) -> str:
    """`name` as matplotlib spells it, or one line saying how to pick a font it knows."""
    if name.lower() in GENERIC_FAMILIES:
        return name.lower()
    known = {f.name.lower(): f.name for f in fontManager.ttflist}
    if name.lower() not in known:
        raise BelamyError(f"the font '{name}' is not known to matplotlib: use auto, a generic family "
                          f"({', '.join(GENERIC_FAMILIES)}) or an installed family such as 'DejaVu Serif' "
                          f"(fc-list : family lists them)")
    return known[name.lower()]


def _pinned_rc() -> dict[str, Any]:
    """matplotlib's own defaults for everything that shapes text, whatever the user's matplotlibrc says."""
    keep = ("text.", "mathtext.", "font.")
    return {k: v for k, v in matplotlib.rcParamsDefault.items()
            if k.startswith(keep) and not k.startswith("text.latex")}


_PINNED_RC = _pinned_rc()


# ---------------------------------------------------------------- placement and ink


def _box(corner: str, w: int, h: int, mw: int, mh: int, margin: int) -> tuple[int, int, int, int]:
    x0 = w - margin - mw if corner.endswith("right") else margin
    y0 = h - margin - mh if corner.startswith("bottom") else margin
    return x0, y0, x0 + mw, y0 + mh


def _busyness(arr: np.ndarray, box: tuple[int, int, int, int], pad: int) -> float:
    """Mean absolute luminance gradient (0-255 per pixel step) under `box` and `pad` pixels around it."""
    x0, y0, x1, y1 = box
    h, w = arr.shape[:2]
    patch = arr[max(0, y0 - pad):min(h, y1 + pad), max(0, x0 - pad):min(w, x1 + pad)].astype(np.float32)
    lum = patch @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    dx = np.abs(np.diff(lum, axis=1)).mean() if lum.shape[1] > 1 else 0.0
    dy = np.abs(np.diff(lum, axis=0)).mean() if lum.shape[0] > 1 else 0.0
    return float(dx + dy)


def _calmest(busyness: dict[str, float]) -> str:
    least = min(busyness.values())
    return next(c for c in CORNERS if busyness[c] <= least * (1 + TIE) + 1e-6)


def palette(arr: np.ndarray, colors: int = PALETTE_COLORS) -> list[tuple[tuple[int, int, int], float]]:
    """The painting's own colours: (rgb, share of the picture) for up to `colors` octree colours, most first."""
    step = max(1, math.ceil(max(arr.shape[:2]) / 256))
    small = Image.fromarray(np.ascontiguousarray(arr[::step, ::step]))
    quant = small.quantize(colors=colors, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    index = np.asarray(quant).ravel()
    counts = np.bincount(index, minlength=colors)
    pal = np.asarray(quant.getpalette() or [], dtype=np.int64)[: 3 * len(counts)].reshape(-1, 3)
    found = [(tuple(int(v) for v in pal[i]), counts[i] / index.size) for i in range(len(pal)) if counts[i]]
    return sorted(found, key=lambda cs: -cs[1])


def _choose_ink(arr: np.ndarray, background: tuple[float, ...]) -> tuple[tuple[int, int, int], str]:
    """The most contrasting palette colour with a ratio of at least 4.5, else near-black or near-white."""
    usable = [(contrast_ratio(rgb, background), share, rgb) for rgb, share in palette(arr)
              if share >= PALETTE_MIN_SHARE]
    usable = [u for u in usable if u[0] >= MIN_CONTRAST]
    if usable:
        return max(usable, key=lambda u: (round(u[0], 6), u[1], u[2]))[2], "palette"
    for dark, light in ((NEAR_BLACK, NEAR_WHITE), ((0, 0, 0), (255, 255, 255))):
        best = max((dark, light), key=lambda rgb: contrast_ratio(rgb, background))
        if contrast_ratio(best, background) >= MIN_CONTRAST:
            return best, "fallback"
    return best, "fallback"


def relative_luminance(rgb: tuple[float, ...]) -> float:
    """WCAG 2 relative luminance of an sRGB colour given as 0-255 values."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(lin @ np.array([0.2126, 0.7152, 0.0722]))


def contrast_ratio(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours (1 to 21)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def _parse_hex(text: str) -> tuple[int, int, int]:
    return int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16)


def _hex(rgb: tuple[float, ...]) -> str:
    return "#" + "".join(f"{int(v):02x}" for v in rgb)


def _check_image(arr: np.ndarray) -> np.ndarray:
    return check_rgb8(arr, "sign")
