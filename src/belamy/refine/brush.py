"""The brush layer: strokes, colour and texture taken from a photograph and laid on a portrait.

A layered painterly rendering after Hertzmann ("Painterly rendering with curved brush strokes of
multiple sizes", SIGGRAPH 1998), written with numpy alone:

- **Where and which way.** Brushes go from large to small (`layers` sizes, each half the one
  before, the largest `stroke_size` of the portrait's shorter side). For each size the portrait is
  blurred in proportion to the brush (the reference), and the strokes follow its edge tangents:
  the minor eigenvector of the structure tensor (smoothed products of the luminance gradient),
  with the tensor of the whole picture's large-scale structure added so that flat areas take the
  surrounding flow instead of noise. The first brush covers the region on a jittered grid (a cell
  a brush width wide). Each finer brush paints only the grid cells where its paint would bring the
  canvas nearer the wanted colour by more than `threshold` (CIELAB delta E, the cell's mean; what
  is not painted yet counts as far): Hertzmann's error, less what the palette cannot do better, so
  noise between two palette colours calls for no stroke. Its strokes start at the cell's worst pixel.
- **Shape.** A stroke is traced from its seed both ways along the tangent field, half a width per
  step, up to `length` widths in all; it stops where the colour it would paint changes by more than
  twice `threshold`, where it leaves the region, or where it turns more than 60 degrees. The traced
  points are fitted with a quadratic centreline, and the stroke is drawn as a bent capsule that
  tapers and runs dry towards its end.
- **Colour.** The photo's palette: `colors` k-means colours (CIELAB, lightness counting double)
  and the photo's own deepest dark and brightest light, which k-means would average away. The
  portrait's colours are moved to the photo's (mean and standard deviation of a* and b*, a Reinhard
  transfer of the chroma; the portrait keeps its lightness), each stroke takes the palette colour
  nearest that at its seed (lightness counting double), and the paint's lightness is moved `tone`
  of the way to the portrait's own: the photo's colours in the portrait's values.
- **Texture.** The photo's luminance detail (a band-pass of its lightness, normalised) is sampled
  in patches at a random place of the photo for each stroke, in the stroke's own coordinates and
  stretched along it: the bristle streaks, the ragged edges, the dry-brush gaps and the impasto
  shading of every stroke are the photo's texture.
- **Order.** Strokes of one brush are drawn in batches that cannot overlap (grid cells a stroke's
  extent apart), the batches in a random order, each batch vectorised over all its pixels (only
  the tiles of a stroke's box that can touch it); every stroke is composited over the canvas with
  its own alpha, as paint over paint.

The layer's alpha is the paint's coverage times `strength`, and zero outside the region. Regions:
`all`; `figure` and `background` from a segmentation by geodesic colour distance from the
portrait's edges (see `segment_figure`); or a mask the caller gives.

Large portraits are painted at a bounded internal resolution (at most `work_side` squared pixels,
1024 x 1024 by default, the aspect kept): the layer is painted there, then resampled (bicubic, premultiplied alpha) to the
portrait's size band by band, and composited band by band, so memory beyond the portrait and the
two outputs stays bounded whatever the portrait's size. The same inputs and config give the same
bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from PIL import Image

from belamy.core.config import bounds, check_fields
from belamy.core.errors import BelamyError
from belamy.core.rgb import check_rgb8

PHOTO_SIDE = 512  # the photo's palette and texture are taken at most this large
SEGMENT_SIDE = 128  # the figure/background segmentation works at most this large
MIN_PORTRAIT_PX = 16
MIN_PHOTO_PX = 8
MIN_WIDTH_PX = 1.5  # finer brushes than this are dropped
TIMELAPSE_FRAMES = 48  # frames handed to `frames` over a whole painting (plus the bare portrait first)
BAND_PIXELS = 1 << 21  # pixels per band when the layer is resampled to a larger portrait
SPACING = 1.0  # grid step of the seeds, in brush widths
STREAK = 0.25  # the photo's texture is read 4x stretched along a stroke: bristle streaks
JITTER = (2.5, 1.5, 1.5)  # std of each stroke's own variation of its paint (CIELAB)
TAPER = 0.35  # a stroke ends this much narrower than it starts
MAX_TURN_COS = 0.5  # a stroke stops where it turns more than 60 degrees from its start
LIGHTNESS_WEIGHT = 2.0  # in the palette and the choice of paint, lightness differences count double
EXTREME_SHARE = 0.02  # the photo's darkest and lightest 2% give the palette its two extreme colours
MIX_DE = 8.0  # paint this much nearer one palette colour than the next is that colour unmixed
FLAT_DE = 2.0  # a photo whose colours vary less than this (std, delta E) is flat
FLAT_DETAIL = 0.4  # ... and one whose lightness detail varies less than this has no texture
ALGORITHM = ("layered painterly rendering (Hertzmann 1998): coarse-to-fine brushes, strokes along the "
             "structure tensor's edge tangents, the photo's palette (k-means in CIELAB, plus its extremes) "
             "after a Reinhard transfer of the chroma, bristle texture sampled from the photo's lightness detail")
SEGMENTATION = ("nearer in geodesic CIELAB colour distance to the bottom edge's middle third (figure) than to "
                "the top edge and upper sides (background), or unlike the background's colours (Otsu); holes "
                "filled; at most 128 px")


@dataclass
class BrushConfig:
    """How a brush layer is painted; `validate()` runs on construction (call it again after editing)."""

    strength: float = field(default=0.7, metadata=bounds(0.0, 1.0))  # the layer's opacity: 0 leaves the portrait
    stroke_size: float = field(default=0.04, metadata=bounds(0.002, 0.25))  # widest brush, of the shorter side
    layers: int = field(default=3, metadata=bounds(1, 6))  # brush sizes, each half the one before
    region: Literal["all", "figure", "background"] = "all"  # where to paint, unless a mask is given
    seed: int = field(default=0, metadata=bounds(0, 2**32 - 1))
    colors: int = field(default=12, metadata=bounds(2, 64))  # k-means colours of the photo (+ its darkest, lightest)
    length: float = field(default=4.0, metadata=bounds(1.0, 16.0))  # longest stroke, in brush widths
    threshold: float = field(default=4.0, metadata=bounds(0.0, 100.0))  # delta E that calls for a finer brush
    texture: float = field(default=0.6, metadata=bounds(0.0, 1.0))  # how much the photo's texture shows
    # how much of the portrait's own light and shade the paint keeps: 0 the palette's colours as they are,
    # 1 the palette's hues at the portrait's lightness
    tone: float = field(default=0.5, metadata=bounds(0.0, 1.0))
    # the strokes are painted on at most work_side^2 pixels (a larger portrait: on a reduced copy, and the layer
    # resampled to its size)
    work_side: int = field(default=1024, metadata=bounds(128, 4096))

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        check_fields(self, "brush config")


# ---------------------------------------------------------------- colour and filters


_M_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                   [0.2126729, 0.7151522, 0.0721750],
                   [0.0193339, 0.1191920, 0.9503041]], np.float32)
_WHITE = np.array([0.95047, 1.0, 1.08883], np.float32)


def _linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


_LINEAR_LUT, _LINEAR_LUT_12 = _linear(np.arange(256) / 255), _linear(np.arange(4096) / 4095)


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (uint8, or float in [0, 1]) (..., 3) -> CIELAB (D65) float32 (..., 3)."""
    if rgb.dtype == np.uint8:
        lin = _LINEAR_LUT[rgb]
    else:  # 4096 levels: within 0.1 delta E of the exact curve, and a lookup instead of a power
        lin = _LINEAR_LUT_12[np.rint(np.clip(rgb, 0, 1) * 4095).astype(np.int32)]
    m = _M_XYZ / _WHITE[:, None]
    f = []
    for row in m:  # X/Xn, Y/Yn, Z/Zn, then CIE's f(): channel by channel (a 3x3 matmul per pixel is slow)
        t = lin[..., 0] * row[0] + lin[..., 1] * row[1] + lin[..., 2] * row[2]
        low = t <= 216 / 24389
        ft = np.cbrt(t)
        ft[low] = (24389 / 27 * t[low] + 16) / 116
        f.append(ft)
    out = np.empty(lin.shape, np.float32)
    out[..., 0] = 116 * f[1] - 16
    out[..., 1] = 500 * (f[0] - f[1])
    out[..., 2] = 200 * (f[1] - f[2])
    return out


def from_lab(lab: np.ndarray) -> np.ndarray:
    """CIELAB (D65) (..., 3) -> sRGB float32 in [0, 1] (clipped)."""
    lab = np.asarray(lab, np.float32)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], -1)
    xyz = np.where(f > 6 / 29, f ** 3, (116 * f - 16) * 27 / 24389) * _WHITE
    lin = np.clip(xyz @ np.linalg.inv(_M_XYZ).T.astype(np.float32), 0, 1)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055).astype(np.float32)


def _box(a: np.ndarray, r: int, axis: int) -> np.ndarray:
    """Mean over 2r+1 samples along `axis`, edges repeated (a running sum: the cost is independent of r)."""
    n = a.shape[axis]
    pad = [(0, 0)] * a.ndim
    pad[axis] = (r + 1, r)
    c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis, dtype=np.float32)
    hi = [slice(None)] * a.ndim
    lo = [slice(None)] * a.ndim
    hi[axis], lo[axis] = slice(2 * r + 1, 2 * r + 1 + n), slice(0, n)
    out = c[tuple(hi)]
    out -= c[tuple(lo)]
    out *= np.float32(1 / (2 * r + 1))
    return out


def blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of `sigma` px over the first two axes, as three box blurs (float32). From 6 px on, the
    blur runs on a copy reduced by whole blocks (of sigma / 2 px) and is resampled back bilinearly: the same
    result within a few percent of the signal's range, several times faster."""
    small, f = _blur_small(a, sigma)
    return small if f == 1 else _upsample(small, f, *np.shape(a)[:2])


def _blur_small(a: np.ndarray, sigma: float, min_factor: int = 3) -> tuple[np.ndarray, int]:
    """`a` blurred by `sigma`, on a copy reduced by blocks of f x f px (f = sigma / 2, when at least
    `min_factor`; else f = 1, full size) -> (the blurred copy, f)."""
    a = np.asarray(a, np.float32)
    h, w = a.shape[:2]
    f = min(int(sigma // 2), min(h, w) // 4)
    if f < min_factor:
        return _blur_boxes(a, sigma), 1
    hs, ws = -(-h // f), -(-w // f)
    pad = [(0, hs * f - h), (0, ws * f - w)] + [(0, 0)] * (a.ndim - 2)
    small = np.pad(a, pad, mode="edge").reshape(hs, f, ws, f, *a.shape[2:]).mean(axis=(1, 3))
    return _blur_boxes(small, sigma / f), f


def _blur_boxes(a: np.ndarray, sigma: float) -> np.ndarray:
    r = int(round((math.sqrt(4 * sigma * sigma + 1) - 1) / 2))  # 3 boxes of 2r+1 have variance ~ sigma^2
    if r < 1:
        return a
    for axis in (0, 1):
        for _ in range(3):
            a = _box(a, min(r, a.shape[axis]), axis)  # a box wider than the picture: its mean, near enough
    return a


def _upsample(a: np.ndarray, f: int, h: int, w: int) -> np.ndarray:
    """Bilinear resampling of blocks of f x f px back to (h, w) (block centres as samples; Pillow, channel by
    channel in float32)."""
    hs, ws = a.shape[:2]
    box = (0, 0, w / f, h / f)  # the blocks cover a little more than (h, w) where the sides were padded
    channels = [a] if a.ndim == 2 else [a[..., i] for i in range(a.shape[2])]
    out = [np.asarray(Image.fromarray(np.ascontiguousarray(c, np.float32), "F").resize(
        (w, h), Image.Resampling.BILINEAR, box=box)) for c in channels]
    return out[0] if a.ndim == 2 else np.stack(out, -1)


def _resize(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 (H, W[, C]) -> `size` (w, h), Lanczos (box-averaged first when much smaller)."""
    if (arr.shape[1], arr.shape[0]) == size:
        return arr
    return np.asarray(Image.fromarray(np.ascontiguousarray(arr)).resize(size, Image.Resampling.LANCZOS,
                                                                        reducing_gap=3.0))


def _shrink(arr: np.ndarray, side: int, area: bool = False) -> np.ndarray:
    """uint8 (H, W, C) with its longer side at most `side` (`area`: at most side * side pixels). Whole blocks
    are averaged band by band first, so a very large image is never copied whole, then Lanczos."""
    h, w = arr.shape[:2]
    scale = side / (math.sqrt(h * w) if area else max(h, w))
    if scale >= 1:
        return arr
    size = (max(1, int(w * scale + 1e-6)), max(1, int(h * scale + 1e-6)))  # rounded down: the bound holds
    f = int(1 / (2 * scale))  # block averaging down to at most twice the target, exact and streaming
    if f >= 2:
        hb, wb = h // f, w // f
        out = np.empty((hb, wb, arr.shape[2]), np.uint8)
        step = max(1, (1 << 20) // (wb * f * f))  # ~1 M source pixels per band
        for y in range(0, hb, step):
            y1 = min(hb, y + step)
            block = arr[y * f:y1 * f, :wb * f].reshape(y1 - y, f, wb, f, -1).mean(axis=(1, 3))
            out[y:y1] = np.rint(block).astype(np.uint8)
        arr = out
    return _resize(arr, size)


def _kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) float32 -> (centres (k', D), labels (N,)), k-means++ seeded by `rng`; empty clusters dropped."""
    centres = [x[rng.integers(len(x))]]
    d2 = ((x - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        if d2.sum() <= 0:
            break
        centres.append(x[rng.choice(len(x), p=d2 / d2.sum())])
        d2 = np.minimum(d2, ((x - centres[-1]) ** 2).sum(1))
    c = np.array(centres, np.float32)
    labels = np.zeros(len(x), np.int64)
    for _ in range(iters):
        labels = _nearest(x, c)
        counts = np.bincount(labels, minlength=len(c))
        keep = counts > 0
        sums = np.zeros_like(c)
        np.add.at(sums, labels, x)
        c = (sums[keep] / counts[keep, None]).astype(np.float32)
    return c, _nearest(x, c)


def _nearest(x: np.ndarray, c: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Index of the nearest row of `c` for each row of `x` (squared distance, optionally weighted per axis)."""
    w = np.ones(x.shape[-1], np.float32) if weight is None else np.asarray(weight, np.float32)
    best = np.full(x.shape[:-1], np.inf, np.float32)
    index = np.zeros(x.shape[:-1], np.int64)
    for i, centre in enumerate(np.asarray(c, np.float32)):  # one pass per centre: no (N, K) matrix
        d = ((x[..., 0] - centre[0]) ** 2) * w[0]
        for j in range(1, x.shape[-1]):
            d += ((x[..., j] - centre[j]) ** 2) * w[j]
        closer = d < best
        best = np.where(closer, d, best)
        index[closer] = i
    return index


def _two_nearest(x: np.ndarray, c: np.ndarray, weight: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """((index, distance) of the nearest row of `c`, (index, distance) of the second nearest) for each `x`."""
    shape = x.shape[:-1]
    flat = x.reshape(-1, x.shape[-1])
    sw = np.sqrt(np.asarray(weight, np.float32))
    cw = np.asarray(c, np.float32) * sw
    out = np.empty((len(flat), 4), np.float32)
    for i in range(0, len(flat), 1 << 16):  # (chunk, K) distances at a time
        xw = flat[i:i + (1 << 16)] * sw
        d = np.zeros((len(xw), len(cw)), np.float32)
        for j in range(xw.shape[1]):
            d += (xw[:, j:j + 1] - cw[:, j]) ** 2
        two = np.argpartition(d, 1, axis=1)[:, :2] if len(cw) > 2 else np.argsort(d, axis=1)[:, :2]
        dd = np.take_along_axis(d, two, 1)
        swap = dd[:, 1] < dd[:, 0]
        two[swap] = two[swap][:, ::-1]
        dd[swap] = dd[swap][:, ::-1]
        out[i:i + len(xw)] = np.concatenate([two, np.sqrt(dd)], 1)
    i1, i2 = out[:, 0].astype(np.int64).reshape(shape), out[:, 1].astype(np.int64).reshape(shape)
    return (i1, out[:, 2].reshape(shape)), (i2, out[:, 3].reshape(shape))


def _otsu(values: np.ndarray) -> float:
    hist, edges = np.histogram(values, bins=256)
    p = hist / max(1, hist.sum())
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(p)
    m0 = np.cumsum(p * centres)
    between = (m0[-1] * w0 - m0) ** 2 / np.maximum(w0 * (1 - w0), 1e-12)
    return float(centres[int(np.argmax(between))])


# ---------------------------------------------------------------- the photo: palette and texture


@dataclass
class PhotoPaint:
    """What a brush takes from a photograph."""

    palette_rgb: np.ndarray  # (K, 3) float32 in [0, 1], most used first
    palette_lab: np.ndarray  # (K, 3)
    share: np.ndarray  # (K,) how much of the photo each colour covers
    lab_mean: np.ndarray  # (3,) the photo's colour statistics, for the transfer
    lab_std: np.ndarray
    texture: np.ndarray  # (h, w) float32: lightness detail, zero mean, unit std, clipped to +-2.5


def photo_paint(photo: np.ndarray, colors: int, seed: int) -> PhotoPaint:
    """The palette and texture of an (H, W, 3) uint8 photo, or one line saying why it has none."""
    photo = check_rgb8(photo, "take paint from")
    h, w = photo.shape[:2]
    if min(h, w) < MIN_PHOTO_PX:
        raise BelamyError(f"the photo is {w}x{h} px, too small to take a palette and a texture from: give a "
                          f"photograph of at least {MIN_PHOTO_PX} px a side (a few hundred is better)")
    small = _shrink(photo, PHOTO_SIDE)
    lab = to_lab(small)
    flat = lab.reshape(-1, 3)
    std = flat.std(0)
    if float(std.max()) < FLAT_DE:
        raise BelamyError("the photo is flat (one colour all over): there is no palette or texture to take from "
                          "it; give a photograph with colours and texture in it")
    lightness = lab[..., 0]
    detail = blur(lightness, 0.7) - blur(lightness, 3.0)  # bristle-sized detail: a band-pass of the lightness
    if min(detail.shape) > 32:
        detail = detail[8:-8, 8:-8]  # the blurs' repeated edges are not the photo's texture
    spread = float(detail.std())
    if spread < FLAT_DETAIL:
        raise BelamyError("the photo is smooth (no texture in its lightness): there is no paint texture to take "
                          "from it; give a photograph with visible texture (paint, skin, fabric)")
    texture = np.clip((detail - detail.mean()) / spread, -2.5, 2.5).astype(np.float32)

    rng = np.random.default_rng([seed, 0xB0C])
    sample = flat[rng.choice(len(flat), size=min(len(flat), 20000), replace=False)]
    lw = np.array([LIGHTNESS_WEIGHT, 1, 1], np.float32)
    centres, labels = _kmeans(sample * np.sqrt(lw), colors, rng)  # lightness counts double: darks and lights kept
    centres = centres / np.sqrt(lw)
    share = np.bincount(labels, minlength=len(centres)) / len(labels)
    order = np.argsort(-share, kind="stable")
    rgb_small = small.reshape(-1, 3).astype(np.float32) / 255
    # each palette colour as sRGB: the mean sRGB of the photo's pixels nearest it (no Lab -> sRGB round trip)
    near = _nearest(flat, centres, lw)
    sums = np.zeros((len(centres), 3), np.float32)
    np.add.at(sums, near, rgb_small)
    counts = np.maximum(np.bincount(near, minlength=len(centres)), 1)[:, None]
    pal_rgb = (sums / counts)[order].astype(np.float32)
    share = share[order]
    # k-means averages the extremes away: the photo's own deepest dark and brightest light join the palette
    # (the mean colour of its darkest and of its lightest EXTREME_SHARE of pixels), so values are kept
    ranks = np.argsort(flat[:, 0], kind="stable")
    tail = max(1, round(EXTREME_SHARE * len(ranks)))
    extremes = np.stack([rgb_small[ranks[:tail]].mean(0), rgb_small[ranks[-tail:]].mean(0)]).astype(np.float32)
    pal_rgb = np.concatenate([pal_rgb, extremes])
    share = np.concatenate([share, [tail / len(ranks)] * 2])
    return PhotoPaint(palette_rgb=pal_rgb, palette_lab=to_lab(pal_rgb), share=share.astype(np.float32),
                      lab_mean=flat.mean(0), lab_std=np.maximum(std, 1e-3), texture=texture)


# ---------------------------------------------------------------- the portrait: region and structure


def segment_figure(portrait: np.ndarray) -> np.ndarray:
    """How much each pixel of an (H, W, 3) uint8 portrait belongs to the figure, float32 in [0, 1].

    A portrait's sitter is cut off by the bottom edge, below the middle, and the background shows
    along the top and the upper sides. So the bottom band's middle third seeds the figure, the top
    band and the upper halves of the side bands seed the background, and every pixel goes to the seed
    it is nearer to in geodesic colour distance (the sum of CIELAB delta E along the cheapest path,
    plus 1 per pixel walked): a region reaches as far as it can without crossing a colour edge. A
    head set off from the body by its own colour edges is caught by the second rule: a pixel unlike
    all the background seeds' colours (3 k-means colours; a delta E above their Otsu threshold, and
    at least 10) is figure too. Background the background seeds cannot reach is a hole in the figure
    and filled. The split is smoothed and resampled to the portrait's size with soft edges. Works at
    most 128 px, so its cost does not depend on the portrait's size.
    """
    h, w = portrait.shape[:2]
    lab = to_lab(_shrink(portrait, SEGMENT_SIDE)).astype(np.float64)
    sh, sw = lab.shape[:2]
    b = max(1, round(0.05 * min(sh, sw)))
    background = np.zeros((sh, sw), bool)
    background[:b] = True
    background[:sh // 2, :b] = True
    background[:sh // 2, -b:] = True
    figure = np.zeros((sh, sw), bool)
    figure[-b:, sw // 3:sw - sw // 3] = True
    step_x = np.sqrt(((lab[:, 1:] - lab[:, :-1]) ** 2).sum(-1)) + 1  # cost of a step right (or left)
    step_y = np.sqrt(((lab[1:] - lab[:-1]) ** 2).sum(-1)) + 1  # ... down (or up)
    near_figure = _geodesic(figure, step_x, step_y) < _geodesic(background, step_x, step_y)
    centres, _ = _kmeans(lab[background].astype(np.float32), 3, np.random.default_rng(0))
    unlike = np.sqrt(((lab[:, :, None, :] - centres[None, None]) ** 2).sum(-1)).min(-1)
    is_figure = blur((near_figure | (unlike > max(10.0, _otsu(unlike)))).astype(np.float32), 1.0) > 0.5
    # background that the background seeds cannot reach without crossing the figure is a hole in it
    wall = 1e6  # a step into the figure costs more than any walk through the background
    open_ = ~is_figure
    reach = _geodesic(background & open_, np.where(open_[:, 1:] & open_[:, :-1], 1.0, wall),
                      np.where(open_[1:] & open_[:-1], 1.0, wall)) < wall
    smooth = blur((~(reach & open_)).astype(np.float32), 1.0)
    soft = _resize(np.rint(smooth * 255).astype(np.uint8), (w, h)).astype(np.float32) / 255
    return np.clip((soft - 0.5) * 2 + 0.5, 0, 1)


def _geodesic(seeds: np.ndarray, step_x: np.ndarray, step_y: np.ndarray) -> np.ndarray:
    """Cheapest path cost from `seeds` to every pixel, 4-connected, by repeated sweeps in the four directions;
    each sweep is one min-plus scan over all rows (or columns) at once: d[i] = min_j<=i (d[j] + C[i] - C[j])."""
    d = np.where(seeds, 0.0, np.inf)
    cx = np.concatenate([np.zeros((len(d), 1)), np.cumsum(step_x, 1)], 1)
    cy = np.concatenate([np.zeros((1, d.shape[1])), np.cumsum(step_y, 0)], 0)
    for _ in range(50):
        before = d
        d = np.minimum(d, np.minimum.accumulate(d - cx, 1) + cx)  # left to right
        d = np.minimum(d, np.minimum.accumulate((d + cx)[:, ::-1], 1)[:, ::-1] - cx)  # right to left
        d = np.minimum(d, np.minimum.accumulate(d - cy, 0) + cy)  # top to bottom
        d = np.minimum(d, np.minimum.accumulate((d + cy)[::-1], 0)[::-1] - cy)  # bottom to top
        if np.array_equal(d, before):
            break
    return d


def _tangents(lum: np.ndarray, sigma: float, broad: np.ndarray) -> np.ndarray:
    """(H, W, 2) unit edge tangents (x, y) of `lum`: the structure tensor smoothed at `sigma`, plus `broad`."""
    gy, gx = np.gradient(lum)
    tensor = blur(np.stack([gx * gx, gx * gy, gy * gy], -1), sigma) + broad
    jxx, jxy, jyy = tensor[..., 0], tensor[..., 1], tensor[..., 2]
    theta = 0.5 * np.arctan2(2 * jxy, jxx - jyy) + np.pi / 2  # across the gradient: along the edge
    return np.stack([np.cos(theta), np.sin(theta)], -1).astype(np.float32)


# ---------------------------------------------------------------- painting


@dataclass
class _Canvas:
    color: np.ndarray  # (H*W, 3) premultiplied paint
    alpha: np.ndarray  # (H*W,)
    cover: np.ndarray  # (H*W,) the strokes' shapes, texture aside: where paint has been laid at all


@dataclass
class _Strokes:
    y: np.ndarray  # seed (float px)
    x: np.ndarray
    tx: np.ndarray  # unit direction at the seed (the stroke runs from u_min to u_max along it)
    ty: np.ndarray
    a: np.ndarray  # centreline v = a u + b u^2 in the seed's frame
    b: np.ndarray
    u0: np.ndarray
    u1: np.ndarray
    rgb: np.ndarray  # (N, 3) paint colour
    ox: np.ndarray  # where in the photo's texture the stroke's patch starts
    oy: np.ndarray
    phase: np.ndarray


def brush_layer(portrait: np.ndarray, photo: np.ndarray, cfg: BrushConfig, mask: np.ndarray | None = None,
                frames: Callable[[np.ndarray], None] | None = None,
                on_step: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Paint a brush layer over an (H, W, 3) uint8 portrait with the paint of an (h, w, 3) uint8 photo.

    Returns (the layer (H, W, 4) uint8 RGBA, straight alpha, transparent where no stroke; the composite
    (H, W, 3) uint8, the layer alpha-blended over the portrait; the step, a JSON-able record of it).
    `mask` (H, W), uint8 or float in [0, 1], limits the paint (0: none) and replaces `cfg.region`.
    `frames` is called with the composite at the painting's resolution as the strokes are laid
    (TIMELAPSE_FRAMES + 1 times, the bare portrait first); `on_step(done, total)` reports progress.
    """
    cfg.validate()
    portrait = check_rgb8(portrait, "brush")
    H, W = portrait.shape[:2]
    if min(H, W) < MIN_PORTRAIT_PX:
        raise BelamyError(f"the portrait is {W}x{H} px, too small to paint strokes on: give one of at least "
                          f"{MIN_PORTRAIT_PX} px a side")
    full_mask = _check_mask(mask, H, W)
    paint = photo_paint(photo, cfg.colors, cfg.seed)

    work = _shrink(portrait, cfg.work_side, area=True)
    h, w = work.shape[:2]
    if full_mask is not None:
        region = _resize(full_mask, (w, h)).astype(np.float32) / 255
        region_name, segmentation = "mask", None
    elif cfg.region == "all":
        region, region_name, segmentation = np.ones((h, w), np.float32), "all", None
    else:
        figure = segment_figure(work)
        region = figure if cfg.region == "figure" else 1 - figure
        region_name, segmentation = cfg.region, SEGMENTATION
    share = float((region >= 0.5).mean())
    if share < 0.002:
        what = "the mask is black (or nearly) everywhere" if region_name == "mask" else \
            f"the segmentation finds no {region_name} in this portrait"
        raise BelamyError(f"{what}: there is nowhere to paint; use --region all or a mask with white where the "
                          "strokes go")

    widths = [cfg.stroke_size * min(h, w) / 2 ** i for i in range(cfg.layers)]
    widths = [wd for wd in widths if wd >= MIN_WIDTH_PX] or [MIN_WIDTH_PX]
    canvas = _Canvas(np.zeros((h * w, 3), np.float32), np.zeros(h * w, np.float32), np.zeros(h * w, np.float32))
    counts: list[int] = []
    if cfg.strength > 0:
        counts = _paint(work, region, paint, cfg, widths, canvas, frames, on_step)
    elif frames is not None:
        for _ in range(TIMELAPSE_FRAMES + 1):
            frames(work.copy())

    rgb = canvas.color / np.maximum(canvas.alpha, 1e-6)[:, None]
    # a mask is applied once, at the portrait's size (in _full_size); a segmented region here
    alpha = canvas.alpha * cfg.strength * (1 if full_mask is not None else region.reshape(-1))
    small_layer = np.empty((h, w, 4), np.uint8)
    small_layer[..., :3] = np.rint(np.clip(rgb, 0, 1) * 255).reshape(h, w, 3)
    small_layer[..., 3] = np.rint(np.clip(alpha, 0, 1) * 255).reshape(h, w)
    small_layer[small_layer[..., 3] == 0, :3] = 0
    layer, composite = _full_size(small_layer, portrait, full_mask)

    step: dict[str, Any] = {
        "kind": "brush",
        "algorithm": ALGORITHM,
        "config": asdict(cfg),
        "seed": cfg.seed,
        "strokes": int(sum(counts)),
        "strokes_per_layer": counts,
        "brush_widths_px": [round(wd, 2) for wd in widths],
        "size": [W, H],
        "work_size": [w, h],
        "resampled": (w, h) != (W, H),
        "region": region_name,
        **({"segmentation": segmentation} if segmentation else {}),
        "region_share": round(share, 4),
        "palette": [_hex(c) for c in paint.palette_rgb],
        "palette_share": [round(float(s), 4) for s in paint.share],
        "layer_coverage": round(float((layer[..., 3] > 0).mean()), 4),
    }
    return layer, composite, step


def _check_mask(mask: np.ndarray | None, h: int, w: int) -> np.ndarray | None:
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[..., 0]
    if mask.ndim != 2:
        raise BelamyError(f"the mask must be one channel (grey), got shape {mask.shape}: save it as a greyscale "
                          "image, white where the strokes go")
    if mask.shape != (h, w):
        raise BelamyError(f"the mask is {mask.shape[1]}x{mask.shape[0]} px but the portrait is {w}x{h}: draw the "
                          "mask at the portrait's size")
    if mask.dtype == np.uint8:
        return mask
    if mask.dtype == bool:
        return mask.astype(np.uint8) * 255
    return np.rint(np.clip(mask.astype(np.float32), 0, 1) * 255).astype(np.uint8)


def _paint(work: np.ndarray, region: np.ndarray, paint: PhotoPaint, cfg: BrushConfig, widths: list[float],
           canvas: _Canvas, frames: Callable[[np.ndarray], None] | None,
           on_step: Callable[[int, int], None] | None) -> list[int]:
    """Lay every brush's strokes on `canvas` over the uint8 `work`; returns the stroke count of each brush."""
    h, w = work.shape[:2]
    rng = np.random.default_rng([cfg.seed, 0xB7])
    lab = to_lab(work)
    work = work.astype(np.float32) / 255  # for the time-lapse frames
    inside = region >= 0.5
    # Reinhard transfer of the chroma: the painted part's a*, b* statistics become the photo's
    mean, std = lab[inside].mean(0), np.maximum(lab[inside].std(0), 1e-3)
    gain = np.clip(paint.lab_std / std, 0.25, 3.0)
    lum = lab[..., 0] / 100
    gy, gx = np.gradient(blur(lum, 1.0))
    broad_sigma = math.sqrt(h * w) / 8
    broad = blur(np.stack([gx * gx, gx * gy, gy * gy], -1), broad_sigma)
    floor = np.float32(1e-3 * max(float(broad[..., 0].mean() + broad[..., 2].mean()), 1e-8))
    broad += np.array([0.5, 0.5, 0.5], np.float32) * floor  # a last resort for flat pictures: 45 degrees
    geoms = [_geometry(wd, cfg.length) for wd in widths]
    total = sum(geom[2] ** 2 for geom in geoms)
    done, emitted = 0, 0
    if frames is not None:
        frames(_frame(work, canvas, region, cfg.strength))
    counts = []
    for li, wd in enumerate(widths):
        g, _, m, _, _ = geoms[li]
        # the reference and its colours on a copy reduced in step with the blur, then resampled to full size
        ref_lab, f = _blur_small(lab, 0.25 * wd, min_factor=2)
        paint_lab, wanted = _colours(ref_lab, mean, gain, paint, cfg.tone)
        if f > 1:
            ref_lab, paint_lab, wanted = (_upsample(a, f, h, w) for a in (ref_lab, paint_lab, wanted))
        tangents = _tangents(ref_lab[..., 0] / 100, max(1.0, wd / 2), broad * 0.3)
        strokes = _seed(li, wd, g, m, paint_lab, wanted, region, canvas, paint, cfg.threshold, rng)
        strokes = _trace(strokes, wd, cfg.length, tangents, paint_lab, region, 2 * cfg.threshold, rng)
        counts.append(len(strokes.y))
        for phase in rng.permutation(m * m):
            sel = np.flatnonzero(strokes.phase == phase)
            if len(sel):
                _render(strokes, sel, wd, geoms[li], paint.texture, cfg.texture, canvas, h, w)
            done += 1
            if on_step is not None:
                on_step(done, total)
            if frames is not None and done * TIMELAPSE_FRAMES // total > emitted:
                frame = _frame(work, canvas, region, cfg.strength)
                while done * TIMELAPSE_FRAMES // total > emitted:  # exactly TIMELAPSE_FRAMES in all
                    frames(frame)
                    emitted += 1
    return counts


def _colours(ref_lab: np.ndarray, mean: np.ndarray, gain: np.ndarray, paint: PhotoPaint,
             tone: float) -> tuple[np.ndarray, np.ndarray]:
    """For each pixel: the paint a stroke seeded there lays and the colour wanted there (CIELAB). The portrait's chroma is moved to the photo's statistics (Reinhard on a*, b*),
    the nearest palette colour is taken, and its lightness moved `tone` of the way to the portrait's."""
    h, w = ref_lab.shape[:2]
    moved = (ref_lab - mean) * gain + paint.lab_mean
    moved[..., 0] = ref_lab[..., 0]  # the transfer moves the colours only: the portrait keeps its values
    (i1, d1), (i2, d2) = _two_nearest(moved, paint.palette_lab, np.array([LIGHTNESS_WEIGHT, 1, 1], np.float32))
    # near the line between two palette colours the paint is a mix of both (half and half on it, none of the
    # second MIX_DE further away), so that a small change in the portrait never makes a jump in the paint
    t = np.clip(0.5 - 0.5 * (d2 - d1) / MIX_DE, 0, 0.5)[..., None]
    paint_lab = paint.palette_lab[i1] * (1 - t) + paint.palette_lab[i2] * t
    paint_lab[..., 0] += tone * (ref_lab[..., 0] - paint_lab[..., 0])
    return paint_lab, moved


def _geometry(wd: float, length: float) -> tuple[int, int, int, int, int]:
    """Grid step g; a stroke's box (from `ext` px before its seed, `nt` tiles of `tile` px a side); the phase
    period m (m*m batches whose seeds lie at least (m - 1) cells apart, so their boxes cannot meet)."""
    g = max(1, round(SPACING * wd))
    half_len, half_w = length * wd / 2, wd / 2 * 1.3
    ext = math.ceil(math.hypot(half_len + half_w + 2, wd + half_w + 2))
    tile = int(min(16, max(4, wd // 2)))
    nt = math.ceil((2 * ext + 1) / tile)
    m = math.ceil((nt * tile + 2) / g) + 1
    return g, ext, m, tile, nt


def _seed(li: int, wd: float, g: int, m: int, paint_lab: np.ndarray, wanted: np.ndarray, region: np.ndarray,
          canvas: _Canvas, paint: PhotoPaint, threshold: float, rng: np.random.Generator) -> _Strokes:
    """One stroke per grid cell: every cell of the region for the first brush (li 0), at a random place in it;
    for the finer ones, the cells where this brush's paint would improve on the canvas by more than
    `threshold` (Hertzmann's error, see the module's docstring), at the cell's worst pixel."""
    h, w = region.shape
    ny, nx = -(-h // g), -(-w // g)
    inside = region >= 0.5
    if li == 0:
        cy, cx = np.nonzero(_blocks(inside.astype(np.float32), g, ny, nx).max(-1) > 0)
        y = np.minimum(cy * g + rng.uniform(0, g, len(cy)), h - 1)
        x = np.minimum(cx * g + rng.uniform(0, g, len(cx)), w - 1)
    else:
        covered = canvas.cover.reshape(h, w) >= 0.5
        rgb = canvas.color.reshape(h, w, 3) / np.maximum(canvas.alpha.reshape(h, w, 1), 1e-6)
        # how much nearer the wanted colour this brush's paint would be than the canvas is (Hertzmann's error,
        # less what the palette cannot do better: noise between two palette colours calls for no stroke)
        err = (np.sqrt(((to_lab(np.clip(rgb, 0, 1)) - wanted) ** 2).sum(-1))
               - np.sqrt(((paint_lab - wanted) ** 2).sum(-1)))
        err = np.where(covered, np.maximum(err, 0), 100.0) * inside
        cells = _blocks(err, g, ny, nx)
        area = np.maximum(_blocks(inside.astype(np.float32), g, ny, nx).sum(-1), 1)
        cy, cx = np.nonzero(cells.sum(-1) / area > threshold)
        worst = cells[cy, cx].argmax(-1)
        y = np.minimum(cy * g + worst // g + rng.uniform(-0.5, 0.5, len(cy)), h - 1)
        x = np.minimum(cx * g + worst % g + rng.uniform(-0.5, 0.5, len(cy)), w - 1)
    y, x = np.clip(y, 0, h - 1), np.clip(x, 0, w - 1)
    ok = inside[np.rint(y).astype(int), np.rint(x).astype(int)]
    y, x, cy, cx = y[ok], x[ok], cy[ok], cx[ok]
    n = len(y)
    jitter = rng.normal(0, 1, (n, 3)).astype(np.float32) * np.array(JITTER, np.float32)  # each stroke its own mix
    rgb = from_lab(paint_lab[np.rint(y).astype(int), np.rint(x).astype(int)] + jitter)
    th, tw = paint.texture.shape
    zeros = np.zeros(n, np.float32)
    return _Strokes(y=y.astype(np.float32), x=x.astype(np.float32), tx=zeros, ty=zeros, a=zeros, b=zeros,
                    u0=zeros, u1=zeros, rgb=rgb, ox=rng.uniform(0, tw, n).astype(np.float32),
                    oy=rng.uniform(0, th, n).astype(np.float32), phase=(cy % m) * m + (cx % m))


def _blocks(a: np.ndarray, g: int, ny: int, nx: int) -> np.ndarray:
    """(H, W) -> (ny, nx, g*g): the grid's cells, padded with zeros."""
    h, w = a.shape
    padded = np.zeros((ny * g, nx * g), np.float32)
    padded[:h, :w] = a
    return padded.reshape(ny, g, nx, g).transpose(0, 2, 1, 3).reshape(ny, nx, g * g)


def _trace(s: _Strokes, wd: float, length: float, tangents: np.ndarray, paint_lab: np.ndarray, region: np.ndarray,
           stop_de: float, rng: np.random.Generator) -> _Strokes:
    """Follow the tangent field from each seed both ways and fit each stroke's bent centreline."""
    h, w = region.shape
    n = len(s.y)
    yi, xi = np.rint(s.y).astype(int), np.rint(s.x).astype(int)
    t0 = tangents[yi, xi] * rng.choice(np.array([-1, 1], np.float32), n)[:, None]  # which end the stroke starts
    own = paint_lab[yi, xi]
    step = max(1.0, wd / 2)
    k = max(1, math.ceil(length * wd / 2 / step))
    us, vs = [np.zeros(n, np.float32)], [np.zeros(n, np.float32)]
    seed = np.stack([s.x, s.y], -1)
    for sign in (1.0, -1.0):
        p, d = seed.copy(), t0 * sign
        alive = np.ones(n, bool)
        for i in range(k):
            q = p + d * step
            qx, qy = np.rint(q[:, 0]).astype(int), np.rint(q[:, 1]).astype(int)
            ok = (qx >= 0) & (qx < w) & (qy >= 0) & (qy < h)
            qx, qy = np.clip(qx, 0, w - 1), np.clip(qy, 0, h - 1)
            t = tangents[qy, qx]
            t = np.where(((t * d).sum(-1) < 0)[:, None], -t, t)
            ok &= region[qy, qx] >= 0.5
            ok &= (t * t0 * sign).sum(-1) > MAX_TURN_COS
            if i > 0:  # the first step always: every stroke is at least a dab
                ok &= np.sqrt(((paint_lab[qy, qx] - own) ** 2).sum(-1)) <= stop_de
            alive &= ok
            p = np.where(alive[:, None], q, p)
            d = np.where(alive[:, None], t, d)
            rel = p - seed
            us.append((rel * t0).sum(-1))
            vs.append(rel[:, 1] * t0[:, 0] - rel[:, 0] * t0[:, 1])
    u, v = np.stack(us, -1), np.stack(vs, -1)
    s2, s3, s4 = (u ** 2).sum(-1), (u ** 3).sum(-1), (u ** 4).sum(-1)
    t1, t2 = (u * v).sum(-1), (u * u * v).sum(-1)
    det = s2 * s4 - s3 * s3
    good = det > 1e-6 * np.maximum(s2 * s4, 1e-12)
    a = np.where(good, (t1 * s4 - t2 * s3) / np.where(good, det, 1), t1 / np.maximum(s2, 1e-6))
    b = np.where(good, (s2 * t2 - s3 * t1) / np.where(good, det, 1), 0)
    half_len = max(length * wd / 2, 1.0)
    a = np.clip(a, -0.6, 0.6)
    b = np.clip(b, -wd / half_len ** 2, wd / half_len ** 2)  # the centreline bends at most one width
    u0 = np.minimum(u.min(-1), -wd / 4)
    u1 = np.maximum(u.max(-1), wd / 4)
    s.tx, s.ty = t0[:, 0].copy(), t0[:, 1].copy()
    s.a, s.b, s.u0, s.u1 = a.astype(np.float32), b.astype(np.float32), u0.astype(np.float32), u1.astype(np.float32)
    return s


def _render(s: _Strokes, sel: np.ndarray, wd: float, geom: tuple[int, int, int, int, int], texture: np.ndarray,
            amount: float, canvas: _Canvas, h: int, w: int) -> None:
    """Composite the strokes `sel` (whose boxes do not overlap) over the canvas, all their pixels at once.

    Each stroke's box is cut into tiles; only the tiles that can touch the stroke are drawn."""
    _, ext, _, tile, nt = geom
    hw = wd / 2 * 1.3  # the widest a stroke gets, ragged edges included
    sy, sx = np.rint(s.y[sel]).astype(np.int64), np.rint(s.x[sel]).astype(np.int64)
    starts = np.arange(nt, dtype=np.int64) * tile - ext
    cy = (sy[:, None] + starts + (tile - 1) / 2 - s.y[sel, None]).astype(np.float32)  # tile centres, (n, nt)
    cx = (sx[:, None] + starts + (tile - 1) / 2 - s.x[sel, None]).astype(np.float32)
    tx, ty = s.tx[sel, None, None], s.ty[sel, None, None]
    u = cx[:, None, :] * tx + cy[:, :, None] * ty  # along the stroke, (n, nt, nt)
    v = cy[:, :, None] * tx - cx[:, None, :] * ty  # across it
    a, b, u0, u1 = (z[sel, None, None] for z in (s.a, s.b, s.u0, s.u1))
    uc = np.clip(u, u0, u1)
    reach = tile * 0.71 + 1
    cand = ((u >= u0 - hw - reach) & (u <= u1 + hw + reach) & (np.abs(v - (a + b * uc) * uc) <= hw + 1.7 * reach)
            & ((sy[:, None] + starts + tile > 0) & (sy[:, None] + starts < h))[:, :, None]
            & ((sx[:, None] + starts + tile > 0) & (sx[:, None] + starts < w))[:, None, :])
    k, ti, tj = np.nonzero(cand)
    if not len(k):
        return
    inner = np.arange(tile, dtype=np.int64)
    ys = sy[k, None] + starts[ti, None] + inner  # (c, tile) rows and columns of each candidate tile
    xs = sx[k, None] + starts[tj, None] + inner
    stroke = sel[k]
    dy = (ys - s.y[stroke, None]).astype(np.float32)
    dx = (xs - s.x[stroke, None]).astype(np.float32)
    tx, ty = s.tx[stroke, None, None], s.ty[stroke, None, None]
    u = dx[:, None, :] * tx + dy[:, :, None] * ty  # (c, tile, tile)
    v = dy[:, :, None] * tx - dx[:, None, :] * ty
    inside = ((ys >= 0) & (ys < h))[:, :, None] & ((xs >= 0) & (xs < w))[:, None, :]
    c, iy, ix = np.nonzero(inside & (u >= s.u0[stroke, None, None] - hw) & (u <= s.u1[stroke, None, None] + hw))
    uu, vv = u[c, iy, ix], v[c, iy, ix]
    flat = ys[c, iy] * w + xs[c, ix]
    stroke = stroke[c]
    a, b, u0, u1 = s.a[stroke], s.b[stroke], s.u0[stroke], s.u1[stroke]
    vp = (vv - (a + b * uu) * uu) / np.sqrt(1 + (a + 2 * b * uu) ** 2)  # distance from the bent centreline
    t = np.clip((uu - u0) / (u1 - u0), 0, 1)  # 0 where the brush lands, 1 where it lifts
    th, tw = texture.shape
    ty_ = np.floor(s.oy[stroke] + vp).astype(np.int64) % th
    tx_ = s.ox[stroke] + (uu - u0) * STREAK  # streaks along the stroke, interpolated along it
    tx0 = np.floor(tx_)
    frac = (tx_ - tx0).astype(np.float32)
    tx0 = tx0.astype(np.int64) % tw
    tex = texture[ty_, tx0] * (1 - frac) + texture[ty_, (tx0 + 1) % tw] * frac
    half = wd / 2 * (1 - TAPER * t) * (1 + 0.15 * amount * tex)
    du = np.maximum(np.maximum(u0 - uu, uu - u1), 0)
    dist = np.sqrt(du * du + vp * vp)
    shape = np.clip(half - dist + 0.5, 0, 1)
    load = 1 - 0.9 * amount * t * t  # the brush runs dry towards the end
    alpha = shape * np.clip(load + 0.7 * amount * tex, 0, 1)
    keep = alpha > 1 / 512
    flat, alpha, tex, shape, stroke = flat[keep], alpha[keep], tex[keep], shape[keep], stroke[keep]
    rim = np.clip(dist[keep] / half[keep] * 3 - 2, 0, 1)  # paint piles up along the stroke's sides
    rgb = np.clip(s.rgb[stroke] * (1 + amount * (0.2 * tex - 0.15 * rim))[:, None], 0, 1)
    a1 = alpha[:, None]
    canvas.color[flat] = rgb * a1 + canvas.color[flat] * (1 - a1)
    canvas.alpha[flat] = alpha + canvas.alpha[flat] * (1 - alpha)
    canvas.cover[flat] = np.maximum(canvas.cover[flat], shape)


def _frame(work: np.ndarray, canvas: _Canvas, region: np.ndarray, strength: float) -> np.ndarray:
    h, w = work.shape[:2]
    a = (canvas.alpha.reshape(h, w) * region * strength)[..., None]
    paint = canvas.color.reshape(h, w, 3) * (region * strength)[..., None]
    return np.rint(np.clip(work * (1 - a) + paint, 0, 1) * 255).astype(np.uint8)


def composite_over(layer: np.ndarray, portrait: np.ndarray) -> np.ndarray:
    """An (H, W, 4) uint8 straight-alpha layer over an (H, W, 3) uint8 portrait -> (H, W, 3) uint8."""
    a = layer[..., 3:4].astype(np.uint16)
    out = portrait.astype(np.uint16) * (255 - a)  # at most 255 * 255 + 127: integer, 2 bytes a value
    out += layer[..., :3].astype(np.uint16) * a
    out += 127
    return (out // 255).astype(np.uint8)


def _full_size(small: np.ndarray, portrait: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The layer at the portrait's size (bicubic, premultiplied, band by band) and the composite."""
    H, W = portrait.shape[:2]
    h, w = small.shape[:2]
    if (h, w) == (H, W):
        layer = small
        if mask is not None:
            layer[..., 3] = _times(layer[..., 3], mask)
            layer[layer[..., 3] == 0, :3] = 0
        return layer, composite_over(layer, portrait)
    layer = np.empty((H, W, 4), np.uint8)
    composite = np.empty((H, W, 3), np.uint8)
    im = Image.fromarray(small, "RGBA")  # Pillow resamples RGBA premultiplied
    sy = h / H
    rows = max(1, BAND_PIXELS // W)
    for y0 in range(0, H, rows):
        y1 = min(H, y0 + rows)
        band = np.asarray(im.resize((W, y1 - y0), Image.Resampling.BICUBIC, box=(0, y0 * sy, w, y1 * sy))).copy()
        if mask is not None:
            band[..., 3] = _times(band[..., 3], mask[y0:y1])  # the mask holds at full size
        band[band[..., 3] == 0, :3] = 0
        layer[y0:y1] = band
        composite[y0:y1] = composite_over(band, portrait[y0:y1])
    return layer, composite


def _times(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """uint8 * uint8 / 255, rounded."""
    return ((a.astype(np.uint16) * b + 127) // 255).astype(np.uint8)


def _hex(rgb: np.ndarray) -> str:
    r, g, b = (int(round(float(c) * 255)) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"
