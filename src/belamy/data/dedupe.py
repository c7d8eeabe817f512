"""Exact and near duplicate detection.

A GAN trained on duplicates memorises them, so a collection keeps one copy. Exact duplicates share
the sha256 of their source bytes. Near duplicates (re-encodes, resizes, small crops, small colour
changes) are found in two steps:

1. Candidates: kept images whose two 64-bit perceptual hashes (DCT and gradient) are both within a
   wide Hamming radius and whose mean colours are close, or whose 4x4 colour thumbnails are almost
   equal (the hashes of near-blank and symmetric drawings are unstable).
2. Confirmation: a direct comparison of 32x32 grey thumbnails, each normalised to zero mean and
   unit contrast (a low-contrast one, such as a fine texture seen from afar, by a floor instead,
   so that encoder noise is not blown up into structure) and slightly blurred. The *difference*
   of a pair is the 99th percentile of the absolute difference of its thumbnails: a re-encode or
   resize differs a little everywhere, a different picture of the same genre a lot somewhere.
   For the closest candidates, either image may also be a crop (down to about 90% of the side)
   of the other: crops of one are compared with the other, on a grid, then refined. Thumbnails
   are colour-blind, so the 4x4 colour thumbnails (of the matched crop) must also be close: a
   green dress and a blue one are never duplicates.

Hashes alone are not enough either way: fine textures move them by 10 bits or more under a resize
and a JPEG save, while portraits of one genre (a centred head on a dark ground) share them.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

NEAR_RADIUS = 20  # default hash radius (of 64 bits) for candidates: `--near-threshold`
NEAR_DIFFERENCE = 0.33  # largest thumbnail difference (in units of the image's contrast) of a near duplicate
COLOR_TOLERANCE = 20.0  # largest colour difference (any channel, 0-255) of any cell of 4x4 thumbnails
COLOR_CLOSE = 6.0  # colour thumbnails this close make a candidate whatever the hashes say
CANDIDATES = 8  # per route, the closest ones confirmed (bounds the work per image)
THUMB = 32  # thumbnail side
BLUR = 1.0  # Gaussian sigma (thumbnail pixels) against resampling phase and JPEG blocks
CONTRAST_FLOOR = 2.0  # grey levels: thumbnails with less contrast (std) are divided by this instead
CROPS = (0.97, 0.94, 0.91)  # shares of the side tried when one image may be a crop of the other
ALIGNED = 2  # candidates (closest hashes first) also compared as crops of each other

_POP8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_FULL = (1.0, 0.0, 0.0)  # a crop (share of the side, left, top) that is the whole image


def popcount64(x: np.ndarray) -> np.ndarray:
    """Bits set in each uint64."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.int64)
    return _POP8[x.view(np.uint8).reshape(-1, 8)].sum(axis=1).astype(np.int64)  # pragma: no cover


def thumbnail(pixels: np.ndarray) -> np.ndarray:
    """(S, S, 3) uint8 prepared image -> normalised, blurred THUMB x THUMB grey float32."""
    grey = pixels.astype(np.float32) @ _LUMA
    s = grey.shape[0]
    t = min(THUMB, s)
    return _normalise(grey.reshape(t, s // t, t, s // t).mean(axis=(1, 3)))


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """99th percentile of |a - b| of two thumbnails: ~0 for copies, 1 and more for different images."""
    d = np.abs(a - b).ravel()
    k = int(round(0.99 * (d.size - 1)))
    return float(np.partition(d, k)[k])


@dataclass
class Alignment:
    difference: float
    big: int  # 0: the second image is a crop of the first; 1: the other way round
    crop: tuple[float, float, float]  # of the big one: share of the side, left, top (fractions)


def align(a: np.ndarray, b: np.ndarray, target: float) -> Alignment:
    """The crop of one prepared image that best matches the other, and its `difference`.

    The whole images first, then crops of the side shares in CROPS at the corners, edge middles
    and centre of either; the best is refined (share, then position, in halving steps) when it is
    within twice `target`. Returns as soon as a difference is at most `target`.
    """
    greys = (_grey(a), _grey(b))
    thumbs = tuple(_crop_thumbnail(g, _FULL) for g in greys)
    best = Alignment(difference(*thumbs), 0, _FULL)
    if best.difference <= target:
        return best
    for share in CROPS:
        for fx in (0.0, 0.5, 1.0):
            for fy in (0.0, 0.5, 1.0):
                crop = (share, fx * (1 - share), fy * (1 - share))
                for big in (0, 1):
                    d = difference(_crop_thumbnail(greys[big], crop), thumbs[1 - big])
                    if d < best.difference:
                        best = Alignment(d, big, crop)
                        if d <= target:
                            return best
    if best.crop == _FULL or best.difference > 2 * target:
        return best
    share, x, y = best.crop
    at = [share, x + share / 2, y + share / 2]  # refined about the crop's centre: a zoom keeps it
    steps = [0.01, 0.5 / THUMB, 0.5 / THUMB]
    for _ in range(8):
        improved = False
        for k in range(3):
            for sign in (-1, 1):
                trial = list(at)
                trial[k] += sign * steps[k]
                share, cx, cy = trial
                crop = (share, cx - share / 2, cy - share / 2)
                inside = -1e-9 <= min(crop[1:]) <= max(crop[1:]) <= 1 - share + 1e-9
                if not (min(CROPS) - 0.02 <= share <= 1 and inside):
                    continue
                d = difference(_crop_thumbnail(greys[best.big], crop), thumbs[1 - best.big])
                if d < best.difference:
                    best, at, improved = Alignment(d, best.big, crop), trial, True
                    if d <= target:
                        return best
        if not improved:
            steps = [st / 2 for st in steps]
    return best


def colors_close(a: np.ndarray, b: np.ndarray, found: Alignment) -> bool:
    """Whether the 4x4 colour thumbnails of the aligned images agree within COLOR_TOLERANCE."""
    big, small = (a, b) if found.big == 0 else (b, a)
    ca = _colors(big, found.crop).astype(np.float32)
    return float(np.abs(ca - _colors(small, _FULL)).max()) <= COLOR_TOLERANCE


def _colors(pixels: np.ndarray, crop: tuple[float, float, float]) -> np.ndarray:
    box = _box(crop, pixels.shape[0])
    return np.asarray(Image.fromarray(pixels).resize((4, 4), Image.Resampling.BOX, box=box))


def _grey(pixels: np.ndarray) -> Image.Image:
    """The grey image crops are cut from, at most 4 x THUMB on a side (crops are cheap)."""
    grey = pixels.astype(np.float32) @ _LUMA
    s = grey.shape[0]
    f = max(1, s // (4 * THUMB))
    return Image.fromarray(np.ascontiguousarray(grey.reshape(s // f, f, s // f, f).mean(axis=(1, 3))), "F")


def _crop_thumbnail(grey: Image.Image, crop) -> np.ndarray:
    """`thumbnail` of a crop (share of the side, left, top) of a `_grey` image."""
    s = grey.size[0]
    t = min(THUMB, s)
    small = grey.resize((t, t), Image.Resampling.BOX, box=_box(crop, s))
    return _normalise(np.asarray(small, dtype=np.float32))


def _box(crop, s: int) -> tuple[float, float, float, float]:
    share, x, y = crop
    return tuple(min(max(v * s, 0.0), float(s)) for v in (x, y, x + share, y + share))  # type: ignore[return-value]


def _normalise(grey: np.ndarray) -> np.ndarray:
    b = _blur_matrix(grey.shape[0])
    return b @ ((grey - grey.mean()) / max(float(grey.std()), CONTRAST_FLOOR)) @ b.T


@functools.lru_cache(maxsize=8)
def _blur_matrix(n: int) -> np.ndarray:
    """(n, n): a Gaussian blur of BLUR * n / THUMB pixels with reflected edges, as a matrix."""
    sigma = BLUR * n / THUMB
    r = max(1, int(3 * sigma + 0.5))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    m = np.zeros((n, n))
    for i in range(n):
        for j, w in zip(range(i - r, i + r + 1), k):
            j = -j if j < 0 else 2 * (n - 1) - j if j >= n else j  # reflect, as numpy.pad(mode="reflect")
            m[i, j] += w
    return m.astype(np.float32)


@dataclass
class Candidate:
    position: int  # in the index (the kept image's row in the collection)
    distance: int  # the larger of the two hash distances
    color: float  # the largest difference of the 4x4 colour thumbnails


class NearIndex:
    """Perceptual hashes and colour thumbnails of the images kept so far; finds candidates."""

    def __init__(self) -> None:
        self._hashes = np.zeros((16, 2), dtype=np.uint64)
        self._colors = np.zeros((16, 48), dtype=np.float32)
        self._ids: list[str] = []

    def __len__(self) -> int:
        return len(self._ids)

    def ident(self, position: int) -> str:
        return self._ids[position]

    def add(self, hashes: tuple[int, int], colors: bytes, ident: str) -> None:
        n = len(self._ids)
        if n == len(self._hashes):
            self._hashes = np.concatenate([self._hashes, np.zeros_like(self._hashes)])
            self._colors = np.concatenate([self._colors, np.zeros_like(self._colors)])
        self._hashes[n] = np.array(hashes, dtype=np.uint64)
        self._colors[n] = np.frombuffer(colors, dtype=np.uint8)
        self._ids.append(ident)

    def candidates(self, hashes: tuple[int, int], colors: bytes, radius: int) -> list[Candidate]:
        """Closest hashes first (mean colours close), then almost equal colour thumbnails."""
        n = len(self._ids)
        if n == 0:
            return []
        x = self._hashes[:n] ^ np.array(hashes, dtype=np.uint64)
        dist = np.maximum(popcount64(x[:, 0]), popcount64(x[:, 1]))
        diff = self._colors[:n] - np.frombuffer(colors, dtype=np.uint8).astype(np.float32)
        cdiff = np.abs(diff).max(axis=1)
        mdiff = np.abs(diff.reshape(n, 16, 3).mean(axis=1)).max(axis=1)
        by_hash = np.nonzero((mdiff <= COLOR_TOLERANCE) & (dist <= radius))[0]
        by_hash = by_hash[np.argsort(dist[by_hash], kind="stable")][:CANDIDATES]
        by_color = np.nonzero(cdiff <= COLOR_CLOSE)[0]
        by_color = by_color[np.argsort(cdiff[by_color], kind="stable")][:CANDIDATES]
        order = dict.fromkeys([*by_hash.tolist(), *by_color.tolist()])
        return [Candidate(i, int(dist[i]), float(cdiff[i])) for i in order]


@dataclass
class NearMatch:
    ident: str  # the kept image it duplicates
    position: int  # that image's place in the index (its row in the collection)
    distance: int  # the larger of the two hash distances
    difference: float  # of the thumbnails (see `difference`), of the aligned crop when one is a crop
    cropped: bool = False  # one image is a crop of the other


class NearFinder:
    """Candidates from a `NearIndex`, confirmed on thumbnails of the kept images' pixels."""

    def __init__(self, radius: int, max_difference: float, pixels: Callable[[int], np.ndarray],
                 cache: int = 4096) -> None:
        self.radius = radius
        self.max_difference = max_difference
        self.index = NearIndex()
        self._pixels = pixels  # position -> (S, S, 3) uint8 of a kept image
        self._thumbs: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache = cache

    def __len__(self) -> int:
        return len(self.index)

    def add(self, hashes: tuple[int, int], colors: bytes, ident: str) -> None:
        self.index.add(hashes, colors, ident)

    def find(self, hashes: tuple[int, int], colors: bytes, pixels: np.ndarray) -> NearMatch | None:
        """The first kept image that this one (prepared pixels) nearly duplicates, or None."""
        found = self.index.candidates(hashes, colors, self.radius)
        if not found:
            return None
        mine = thumbnail(pixels)
        for c in found:
            if c.color <= COLOR_TOLERANCE:
                diff = difference(mine, self._thumb(c.position))
                if diff <= self.max_difference:
                    return NearMatch(self.index.ident(c.position), c.position, c.distance, diff)
        for c in found[:ALIGNED]:  # one may be a crop of the other
            kept = self._pixels(c.position)
            best = align(kept, pixels, self.max_difference)
            if best.difference <= self.max_difference and colors_close(kept, pixels, best):
                return NearMatch(self.index.ident(c.position), c.position, c.distance, best.difference,
                                 cropped=best.crop != _FULL)
        return None

    def _thumb(self, position: int) -> np.ndarray:
        if position in self._thumbs:
            self._thumbs.move_to_end(position)
            return self._thumbs[position]
        thumb = self._thumbs[position] = thumbnail(self._pixels(position))
        if len(self._thumbs) > self._cache:
            self._thumbs.popitem(last=False)
        return thumb
