"""Built-in demo collections: a gallery of procedurally painted portraits (and `figures`, `sitter`).

belamy turns a collection of images into a series of GAN-made artworks. New users, the test suite,
CI and the docs all need a collection to run that pipeline on, without downloading anything and
without a licence question, so this module paints one from nothing but a seed: a small gallery in
the manner of 18th-19th century oil portraits (varied sitters, dress, backgrounds, side light and
visible brushwork). Every image is a pure function of its seed: the same seed gives the same
bytes in every run and process (for given numpy and Pillow versions).

Rendering is cheap on purpose (roughly 20-30 ms per 256 px image on one slow core): shapes are
drawn with PIL at twice the size and downsampled for antialiasing, the lighting comes from a
blurred relief map, and the brushwork is one vectorised pass of short oriented strokes whose
colours are picked up from the picture beneath.

`sitter` is a series of one person instead of a gallery: the face, head, skin, hair and eyes are
drawn once from `SITTER_SEED`, and only what changes between sittings is drawn per image (the
pose of the head within limits, the light, the setting, the clothes, the varnish, the brushwork),
so a model trained on it learns one likeness (the `instantiation` recipe's self-portrait).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from belamy.core.errors import BelamyError

DEMO_COLLECTIONS: dict[str, int] = {"portraits": 300, "figures": 400, "sitter": 200}  # figures: see demo_figures
SITTER_SEED = 2019  # the one person of the `sitter` collection

_MIN_SIZE = 16
_TAU = 2.0 * math.pi

Color = np.ndarray  # RGB floats in [0, 1]


def _c(*rgb: int) -> Color:
    """A colour from 0-255 sRGB components."""
    return np.array(rgb, dtype=np.float64) / 255.0


# Palettes (sRGB, already muted the way old varnished paintings are).
_SKIN = [_c(234, 204, 182), _c(228, 190, 162), _c(218, 172, 138), _c(200, 152, 114),
         _c(180, 132, 96), _c(146, 100, 70), _c(110, 72, 50), _c(80, 54, 40)]
_HAIR = {"black": _c(26, 21, 19), "dark": _c(52, 36, 27), "brown": _c(88, 60, 40),
         "chestnut": _c(112, 60, 34), "auburn": _c(142, 72, 40), "ginger": _c(168, 96, 52),
         "blond": _c(196, 164, 108), "ash": _c(150, 134, 108), "grey": _c(150, 147, 140),
         "white": _c(224, 220, 210)}
_EYES = [_c(58, 38, 24), _c(38, 26, 20), _c(96, 76, 44), _c(78, 98, 118), _c(84, 98, 78)]
_COATS = [_c(22, 22, 26), _c(30, 36, 60), _c(60, 42, 30), _c(34, 50, 38), _c(112, 30, 28),
          _c(62, 32, 52), _c(66, 66, 70), _c(40, 52, 74), _c(28, 26, 24)]
_DRESSES = [_c(128, 32, 36), _c(42, 62, 116), _c(52, 88, 62), _c(176, 134, 62), _c(160, 108, 116),
            _c(188, 178, 160), _c(30, 28, 30), _c(92, 62, 104), _c(70, 104, 112), _c(120, 84, 52)]
_WALLS = [_c(56, 42, 30), _c(48, 52, 34), _c(38, 44, 40), _c(64, 50, 40), _c(42, 42, 46),
          _c(74, 58, 38), _c(30, 26, 22), _c(58, 62, 52)]
_DRAPES = [_c(124, 30, 32), _c(42, 74, 48), _c(136, 98, 46), _c(46, 56, 94), _c(94, 42, 62)]
_LINEN = _c(236, 230, 214)
_ROUND8 = np.stack([np.cos(np.arange(8) * _TAU / 8), np.sin(np.arange(8) * _TAU / 8)], -1)


# ----------------------------------------------------------------------------- public API


def render_portrait(seed: int, size: int = 256) -> Image.Image:
    """Paint one portrait, an RGB `size` x `size` image that depends only on `seed`."""
    if size < _MIN_SIZE:
        raise BelamyError(f"demo portraits need size >= {_MIN_SIZE}, got {size}")
    rng = _rng(seed)
    return _paint(rng, _sample_sitter(rng), size)


def render_sitting(seed: int, size: int = 256) -> Image.Image:
    """Paint one sitting of the `sitter` collection's person: the likeness is fixed, `seed` picks
    the pose, light, setting, clothes, varnish and brushwork."""
    if size < _MIN_SIZE:
        raise BelamyError(f"demo portraits need size >= {_MIN_SIZE}, got {size}")
    rng = _rng(seed)
    return _paint(rng, _sample_sitting(rng), size)


def _paint(rng: np.random.Generator, sitter: _Sitter, size: int) -> Image.Image:
    """The sitter painted: backdrop, figure, light, frame, varnish and brushwork (draws from `rng`)."""
    painter = _Painter(_background(rng, sitter, max(8, size // 2)), size)
    _draw_sitter(painter, sitter, rng)
    img = _light(painter, sitter)
    if sitter.oval:
        img = _oval_frame(img, sitter)
    img = _varnish(img, sitter.varnish)
    return _finish(rng, _brushwork(rng, img, sitter))


def iter_demo(
    name: str, count: int | None = None, seed: int = 0, size: int = 256
) -> Iterator[tuple[str, Image.Image]]:
    """Yield `(f"portrait-{i:04d}", image)` for the first `count` images of collection `name`.

    `count` defaults to the collection's size in `DEMO_COLLECTIONS`; image `i` is painted from a
    seed derived from `(seed, i)`, so a longer run starts with the same images as a shorter one.
    The `figures` collection names its images `figure-{i:04d}`, `sitter` its `sitting-{i:04d}`.
    Bad arguments raise `BelamyError` at the call, before any image is painted.
    """
    return ((ident, image) for ident, image, _ in iter_demo_items(name, count, seed, size))


def iter_demo_items(
    name: str, count: int | None = None, seed: int = 0, size: int = 256
) -> Iterator[tuple[str, Image.Image, dict[str, Any]]]:
    """`iter_demo` with each image's extra manifest fields: a figure's `pose`, nothing for portraits.

    The pose is the 51 numbers x, y, v of the 17 COCO keypoints the figure was painted over.
    """
    if name not in DEMO_COLLECTIONS:
        raise BelamyError(
            f"unknown demo collection {name!r}; available: {', '.join(sorted(DEMO_COLLECTIONS))}"
        )
    total = DEMO_COLLECTIONS[name] if count is None else count
    if total < 0:
        raise BelamyError(f"demo image count must be >= 0, got {total}")
    if size < _MIN_SIZE:
        raise BelamyError(f"demo {name} need size >= {_MIN_SIZE}, got {size}")
    if name == "figures":
        figures = demo_figures.iter_figures(total, seed, size)
        return ((ident, image, {"pose": demo_figures.pose_values(pose)}) for ident, image, pose in figures)
    if name == "sitter":
        return ((f"sitting-{i:04d}", render_sitting(_image_seed(seed, i), size), {}) for i in range(total))
    return (
        (f"portrait-{i:04d}", render_portrait(_image_seed(seed, i), size), {}) for i in range(total)
    )


# ----------------------------------------------------------------------------- seeds


def _zigzag(n: int) -> int:
    """Map any int to a distinct non-negative int (numpy seeds must be >= 0)."""
    return 2 * n if n >= 0 else -2 * n - 1


def _rng(seed: int) -> np.random.Generator:
    """The only source of randomness for one portrait (no global RNG state is touched)."""
    return np.random.default_rng(_zigzag(int(seed)))


def _image_seed(seed: int, index: int) -> int:
    """The seed of image `index` in a collection drawn with `seed` (stable across runs)."""
    state = np.random.SeedSequence([_zigzag(int(seed)), index]).generate_state(2, np.uint32)
    return int(state[0]) << 32 | int(state[1])


# ----------------------------------------------------------------------------- the sitter


@lru_cache(maxsize=256)
def _arc(n: int, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    """Cosines and sines of `n` angles from t0 to t1 (shared, read-only)."""
    t = np.linspace(t0, t1, n)
    cos, sin = np.cos(t), np.sin(t)
    cos.flags.writeable = False
    sin.flags.writeable = False
    return cos, sin


@dataclass(frozen=True)
class _Head:
    """Head placement; face coordinates (u, v) are in head radii, v pointing down the face."""

    x: float
    y: float
    rx: float
    ry: float
    tilt: float  # radians, positive = clockwise on screen
    turn: float  # radians, positive = face turned towards the viewer's right

    def pts(self, u: np.ndarray | float, v: np.ndarray | float) -> np.ndarray:
        """Canvas points (n, 2) of face coordinates."""
        u = np.asarray(u, dtype=np.float64) * self.rx
        v = np.asarray(v, dtype=np.float64) * self.ry
        c, s = math.cos(self.tilt), math.sin(self.tilt)
        out = np.empty(np.broadcast(u, v).shape + (2,))
        out[..., 0] = self.x + u * c - v * s
        out[..., 1] = self.y + u * s + v * c
        return out.reshape(-1, 2)

    def ellipse(self, u: float, v: float, au: float, av: float, n: int = 24,
                t0: float = 0.0, t1: float = _TAU) -> np.ndarray:
        """Points of an ellipse (or arc, from angle t0 to t1) in face coordinates."""
        cos, sin = _arc(n, t0, t1)
        return self.pts(u + au * cos, v + av * sin)

    def circle(self, u: float, v: float, r: float, n: int = 16) -> np.ndarray:
        """A round shape of canvas radius `r` centred at face coordinates (u, v)."""
        return self.ellipse(u, v, r / self.rx, r / self.ry, n)

    def az(self, phi: float) -> tuple[float, float]:
        """Horizontal position and foreshortening of a feature at azimuth `phi` on the head."""
        return math.sin(phi + self.turn), max(0.2, math.cos(phi + self.turn))


@dataclass(frozen=True)
class _Face:
    """Proportions of the features, in face coordinates."""

    eye_phi: float  # azimuth of each eye from the midline
    eye_v: float
    eye_w: float
    eye_open: float
    nose_len: float
    nose_w: float
    mouth_v: float
    mouth_w: float
    lips: float
    age: float  # 0 young .. 1 old: lines and folds


def _sample_face(rng: np.random.Generator, gowned: bool, old: bool) -> _Face:
    """Feature proportions; `old` sitters get lines and folds."""
    return _Face(
        eye_phi=float(rng.uniform(0.38, 0.46)),
        eye_v=float(rng.uniform(-0.01, 0.08)),
        eye_w=float(rng.uniform(0.15, 0.18)),
        eye_open=float(rng.uniform(0.8, 1.15)),
        nose_len=float(rng.uniform(0.36, 0.46 if gowned else 0.5)),
        nose_w=float(rng.uniform(0.85, 1.25)),
        mouth_v=float(rng.uniform(0.6, 0.68)),
        mouth_w=float(rng.uniform(0.85, 1.2)),
        lips=float(rng.uniform(0.7, 1.3 if gowned else 1.0)),
        age=float(rng.uniform(0.55, 1.0) if old else rng.uniform(0.0, 0.5)),
    )


@dataclass(frozen=True)
class _Sitter:
    """Every random choice about one portrait except the brushwork."""

    head: _Head
    face: _Face
    jaw_square: float
    jaw_taper: float
    skin: Color
    hair: Color
    hair_style: str
    hair_length: float
    eye: Color
    smile: float
    brow: float
    beard: bool
    clothes: str
    cloth: Color
    cloth2: Color
    shoulders: tuple[float, float, float, float]  # centre x, shoulder line y, left, right width
    background: str
    wall: Color
    drape: Color
    oval: bool
    light: float  # +1 lit from the right, -1 from the left
    varnish: float


def _pick(rng: np.random.Generator, options: Sequence[object], weights: Sequence[float]) -> object:
    """One of `options`, with probabilities proportional to `weights`."""
    p = np.asarray(weights, dtype=np.float64)
    return options[int(rng.choice(len(options), p=p / p.sum()))]


def _jitter(rng: np.random.Generator, color: Color, amount: float = 0.06) -> Color:
    """`color` with each channel scaled by a random factor around 1 (std `amount`)."""
    return np.clip(color * rng.normal(1.0, amount, 3), 0.0, 1.0)


def _skin_tone(rng: np.random.Generator) -> tuple[Color, float]:
    """A skin colour from very fair to very dark, and where it sits on that range (0..1)."""
    t = float(rng.beta(1.15, 1.5))
    pos = t * (len(_SKIN) - 1)
    i = min(int(pos), len(_SKIN) - 2)
    f = pos - i
    return _jitter(rng, _SKIN[i] * (1 - f) + _SKIN[i + 1] * f, 0.03), t


def _hair_colour(rng: np.random.Generator, dark_skin: float, style: str) -> Color:
    """Hair colour: powder for wigs, otherwise natural colours (fair ones rarer on dark skin)."""
    names = list(_HAIR)
    if style == "wig":
        return _jitter(rng, _HAIR[str(_pick(rng, ["white", "grey", "ash"], [5, 3, 1]))], 0.03)
    fair = 1.0 - dark_skin
    weights = [3, 3, 3, 2, 1.2 * fair, 0.8 * fair, 1.2 * fair, 0.8 * fair, 1.2, 0.8]
    return _jitter(rng, _HAIR[str(_pick(rng, names, weights))], 0.05)


def _sample_head(rng: np.random.Generator) -> _Head:
    """Where the head sits, its size and proportions, its tilt and its turn (often a 3/4 view)."""
    ry = float(rng.uniform(0.16, 0.225))
    turn = float(rng.choice([-1, 1]) * rng.uniform(0.0, 0.45) * (rng.random() < 0.85))
    return _Head(
        x=float(0.5 + rng.normal(0, 0.035)),
        y=float(rng.uniform(0.35, 0.41)),
        rx=ry * float(rng.uniform(0.72, 0.84)),
        ry=ry,
        tilt=float(rng.normal(0, 0.07)),
        turn=turn,
    )


def _sample_sitter(rng: np.random.Generator) -> _Sitter:
    """Draw the sitter, dress, setting and light; style choices are correlated, as in a gallery."""
    head = _sample_head(rng)
    skin, dark = _skin_tone(rng)
    gowned = rng.random() < 0.5
    if gowned:
        styles = ["long", "bun", "curly", "wig", "cap", "short"]
        style = str(_pick(rng, styles, [4, 3, 2, 1, 1.2, 0.4]))
        clothes = str(_pick(rng, ["dress", "gown", "ruff", "collar"], [8, 2, 0.6, 0.5]))
    else:
        style = str(_pick(rng, ["short", "bald", "wig", "curly", "long"], [4, 1.2, 2, 2, 1]))
        clothes = str(_pick(rng, ["coat", "collar", "ruff"], [8, 1.2, 0.7]))
    palette = _DRESSES if clothes in ("dress", "gown") else _COATS
    drape_or_land = str(_pick(rng, ["plain", "curtain", "landscape"], [5, 2, 2]))
    width = float(rng.uniform(0.36, 0.48))
    asym = 1.0 + 0.35 * head.turn
    hair = _hair_colour(rng, dark, style)
    old = style == "bald" or (style != "wig" and float(hair.mean()) > 0.55 and hair.std() < 0.03)
    return _Sitter(
        head=head,
        face=_sample_face(rng, gowned, old),
        jaw_square=float(rng.uniform(2.0, 2.4 if gowned else 3.2)),
        jaw_taper=float(rng.uniform(0.1, 0.35 if gowned else 0.25)),
        skin=skin,
        hair=hair,
        hair_style=style,
        hair_length=float(rng.uniform(1.3, 2.3)),
        eye=_jitter(rng, _EYES[int(rng.integers(0, 2 if dark > 0.5 else len(_EYES)))], 0.08),
        smile=float(rng.uniform(-0.01, 0.045)),
        brow=float(rng.uniform(0.025, 0.05 if gowned else 0.075)),
        beard=bool(not gowned and style != "wig" and rng.random() < 0.22),
        clothes=clothes,
        cloth=_jitter(rng, palette[int(rng.integers(0, len(palette)))], 0.08),
        cloth2=_jitter(rng, _DRESSES[int(rng.integers(0, len(_DRESSES)))], 0.08),
        shoulders=(head.x + float(rng.normal(0, 0.02)),
                   head.y + head.ry * float(rng.uniform(1.22, 1.38)), width * asym, width / asym),
        background=drape_or_land,
        wall=_jitter(rng, _WALLS[int(rng.integers(0, len(_WALLS)))], 0.1),
        drape=_jitter(rng, _DRAPES[int(rng.integers(0, len(_DRAPES)))], 0.08),
        oval=bool(rng.random() < 0.18),
        light=float(rng.choice([-1.0, 1.0])),
        varnish=float(rng.uniform(0.25, 0.7)),
    )


@lru_cache(maxsize=1)
def _person() -> _Sitter:
    """The `sitter` collection's one person: a young woman with a dark bob and a fringe, fair skin and
    blue-grey eyes, in the manner of Ai-Da. Her pose, setting and clothes here are placeholders that
    `_sample_sitting` replaces for each sitting."""
    rng = _rng(SITTER_SEED)
    ry = 0.2
    head = _Head(x=0.5, y=0.38, rx=ry * 0.78, ry=ry, tilt=0.0, turn=0.0)
    return _Sitter(
        head=head,
        face=_sample_face(rng, gowned=True, old=False),
        jaw_square=2.2,
        jaw_taper=0.28,
        skin=_jitter(rng, _SKIN[1], 0.02),
        hair=_HAIR["dark"],
        hair_style="long",
        hair_length=1.45,
        eye=_EYES[3],
        smile=0.015,
        brow=0.035,
        beard=False,
        clothes="dress",
        cloth=_DRESSES[1],
        cloth2=_DRESSES[5],
        shoulders=(head.x, head.y + ry * 1.3, 0.4, 0.4),
        background="plain",
        wall=_WALLS[0],
        drape=_DRAPES[0],
        oval=False,
        light=1.0,
        varnish=0.4,
    )


def _sample_sitting(rng: np.random.Generator) -> _Sitter:
    """One sitting of `_person()`: the same face, head, skin, hair and eyes; the head's place,
    tilt and turn (within limits), the light side, the setting and the clothes drawn anew."""
    p = _person()
    turn = float(rng.choice([-1, 1]) * rng.uniform(0.0, 0.4) * (rng.random() < 0.85))
    head = replace(p.head, x=float(0.5 + np.clip(rng.normal(0, 0.03), -0.06, 0.06)),
                   y=float(rng.uniform(0.35, 0.41)), tilt=float(np.clip(rng.normal(0, 0.06), -0.14, 0.14)),
                   turn=turn)
    clothes = str(_pick(rng, ["dress", "gown", "collar"], [5, 2, 2]))
    palette = _DRESSES if clothes in ("dress", "gown") else _COATS
    width = float(rng.uniform(0.37, 0.45))
    asym = 1.0 + 0.35 * head.turn
    return replace(
        p,
        head=head,
        clothes=clothes,
        cloth=_jitter(rng, palette[int(rng.integers(0, len(palette)))], 0.08),
        cloth2=_jitter(rng, _DRESSES[int(rng.integers(0, len(_DRESSES)))], 0.08),
        shoulders=(head.x + float(rng.normal(0, 0.015)), head.y + head.ry * float(rng.uniform(1.24, 1.36)),
                   width * asym, width / asym),
        background=str(_pick(rng, ["plain", "curtain", "landscape"], [5, 2, 2])),
        wall=_jitter(rng, _WALLS[int(rng.integers(0, len(_WALLS)))], 0.1),
        drape=_jitter(rng, _DRAPES[int(rng.integers(0, len(_DRAPES)))], 0.08),
        oval=bool(rng.random() < 0.12),
        light=float(rng.choice([-1.0, 1.0])),
        varnish=float(rng.uniform(0.25, 0.7)),
    )


# ----------------------------------------------------------------------------- backgrounds


@lru_cache(maxsize=8)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in canvas units (read-only, shared between calls)."""
    ax = (np.arange(size, dtype=np.float32) + 0.5) / size
    xx, yy = np.meshgrid(ax, ax)
    xx.flags.writeable = False
    yy.flags.writeable = False
    return xx, yy


def _noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Smooth value noise in roughly [0, 1] with about `cells` blobs across."""
    small = rng.random((cells + 1, cells + 1)).astype(np.float32)
    return np.asarray(Image.fromarray(small, "F").resize((size, size), Image.Resampling.BICUBIC))


def _plain(rng: np.random.Generator, s: _Sitter, size: int) -> np.ndarray:
    """A dark scumbled wall, lighter in a glow behind the head."""
    xx, yy = _grid(size)
    gx = s.head.x - 0.12 * s.light + rng.normal(0, 0.05)
    glow = np.exp(-((xx - gx) ** 2 / 0.09 + (yy - s.head.y - 0.05) ** 2 / 0.15))
    scumble = _noise(rng, size, 5)
    tint = _jitter(rng, s.wall, 0.12)
    col = s.wall[None, None] * (1 - scumble[..., None]) + tint[None, None] * scumble[..., None]
    return col * (0.6 + 0.85 * glow[..., None]) * (0.85 + 0.3 * _noise(rng, size, 11)[..., None])


def _curtain(rng: np.random.Generator, s: _Sitter, size: int) -> np.ndarray:
    """A heavy drape with vertical folds over part of a plain wall."""
    xx, yy = _grid(size)
    wall = _plain(rng, s, size)
    warp = xx + 0.04 * yy * (xx - 0.5)
    folds = np.zeros_like(xx)
    for _ in range(3):
        f, p = rng.uniform(4, 11), rng.uniform(0, _TAU)
        folds += np.sin(_TAU * f * warp + p) / 3
    shade = 0.55 + 0.45 * np.sign(folds) * np.abs(folds) ** 0.7
    drape = s.drape[None, None] * (0.35 + 0.75 * shade[..., None])
    edge = rng.uniform(0.25, 0.6) + rng.uniform(-0.25, 0.25) * yy
    side = xx < edge if s.light > 0 else xx > 1 - edge
    full = rng.random() < 0.3
    mask = np.ones_like(xx, dtype=bool) if full else side
    return np.where(mask[..., None], drape, wall)


def _landscape(rng: np.random.Generator, s: _Sitter, size: int) -> np.ndarray:
    """A dim evening sky over distant hills and dark trees."""
    xx, yy = _grid(size)
    horizon = rng.uniform(0.55, 0.75)
    top = _jitter(rng, _c(70, 88, 108), 0.12)
    low = _jitter(rng, _c(206, 184, 140), 0.08)
    t = np.clip(yy / horizon, 0, 1)[..., None] ** 1.4
    sky = top * (1 - t) + low * t
    clouds = np.clip((_noise(rng, size, 6) - 0.45) * 2.2, 0, 1)[..., None]
    sky = sky * (1 - 0.45 * clouds) + _c(220, 210, 190) * 0.45 * clouds
    hills = horizon - 0.06 * _noise(rng, size, 4)[0][None, :]
    land = np.where((yy > hills)[..., None], _jitter(rng, _c(84, 96, 90), 0.1), sky)
    near = yy > horizon + 0.04 + 0.05 * _noise(rng, size, 3)[0][None, :]
    land = np.where(near[..., None], _jitter(rng, _c(54, 56, 36), 0.1), land)
    side = xx if rng.random() < 0.5 else 1 - xx
    trees = (_noise(rng, size, 9) * 0.5 + (0.45 - side) * 2.4 + (yy - 0.25) * 0.8) > 0.6
    land = np.where(trees[..., None], _jitter(rng, _c(32, 40, 26), 0.1), land)
    return land * 0.78


def _background(rng: np.random.Generator, s: _Sitter, size: int) -> np.ndarray:
    """The backdrop as float RGB (size, size, 3)."""
    paint = {"plain": _plain, "curtain": _curtain, "landscape": _landscape}[s.background]
    return np.clip(paint(rng, s, size), 0, 1).astype(np.float32)


# ----------------------------------------------------------------------------- drawing


def _rgb(color: Color) -> tuple[int, int, int]:
    """A float colour as the 0-255 tuple PIL draws with."""
    r, g, b = (min(255, max(0, int(v * 255 + 0.5))) for v in color.tolist())
    return r, g, b


class _Painter:
    """Draws shapes given in canvas units ([0, 1] across) onto the working layers.

    `color` is drawn at twice the output size and later downsampled for antialiasing. At half the
    output size, `height` is a relief map that becomes the lighting and `soft` holds per-channel
    gains (128 = 1.0) that are blurred into soft shadows and blushes.
    """

    def __init__(self, base: np.ndarray, size: int) -> None:
        """Start from the background `base` (float RGB, any square size) for a `size` picture."""
        self.size = size
        self.k = 2 * size
        self.low = max(8, size // 2)
        img = Image.fromarray((base * 255 + 0.5).astype(np.uint8))
        img = img.resize((size, size), Image.Resampling.BILINEAR)  # then exact 2x blocks
        self.color = img.resize((self.k, self.k), Image.Resampling.NEAREST)
        self.height = Image.new("L", (self.low, self.low), 0)
        self.soft = Image.new("RGB", (self.low, self.low), (128, 128, 128))
        self._c = ImageDraw.Draw(self.color)
        self._h = ImageDraw.Draw(self.height)
        self._s = ImageDraw.Draw(self.soft)

    def fill(
        self, pts: np.ndarray, color: Color, height: int | None = None, rise: int = 0
    ) -> None:
        """A filled polygon; with `height`, also raised to that level in the relief map.

        With `rise`, the relief is domed up by that much more towards the middle, so that the light
        rounds the shape instead of only catching its edges.
        """
        self._c.polygon((pts * self.k).ravel().tolist(), fill=_rgb(color))
        if height is not None:
            centre = pts.mean(0)
            for k in range(4 if rise else 1):
                self.bump(centre + (pts - centre) * (1 - k / 4.5), height + rise * k // 3)

    def line(self, pts: np.ndarray, color: Color, width: float) -> None:
        """A polyline `width` canvas units wide."""
        w = max(1, int(round(width * self.k)))
        self._c.line((pts * self.k).ravel().tolist(), fill=_rgb(color), width=w, joint="curve")

    def ridge(self, pts: np.ndarray, height: int, width: float) -> None:
        """A line `width` canvas units wide raised (or sunk) to `height` in the relief map."""
        w = max(1, int(round(width * self.low)))
        self._h.line((pts * self.low).ravel().tolist(), fill=int(height), width=w)

    def bump(self, pts: np.ndarray, height: int) -> None:
        """Set a polygon of the relief map to `height` (0 = background, 255 = nearest)."""
        self._h.polygon((pts * self.low).ravel().tolist(), fill=int(height))

    def shade(self, pts: np.ndarray, gain: Sequence[float]) -> None:
        """A soft multiplicative tone (gain per channel, < 1 darkens)."""
        fill = tuple(int(min(255, max(0, round(128 * g)))) for g in gain)
        self._s.polygon((pts * self.low).ravel().tolist(), fill=fill)


def _draw_sitter(p: _Painter, s: _Sitter, rng: np.random.Generator) -> None:
    """Paint the figure back to front."""
    _draw_hair_back(p, s)
    if s.clothes in ("dress", "gown"):
        p.fill(_torso(s), s.skin * 0.9, 60, 40)  # bare shoulders and chest
    _draw_neck(p, s)
    _draw_body(p, s, rng)
    if s.clothes == "ruff":
        _draw_ruff(p, s, rng)
    p.fill(_head_outline(s), s.skin, 120, 70)
    _draw_ears(p, s)
    _draw_face_tones(p, s)
    if s.beard:
        _draw_beard(p, s, rng)
    _draw_eyes(p, s)
    _draw_nose(p, s)
    _draw_mouth(p, s)
    _draw_hair_front(p, s, rng)


def _head_outline(s: _Sitter) -> np.ndarray:
    """Skull and jaw: an ellipse whose lower half is squared, tapered and shifted with the turn."""
    t = np.linspace(0, _TAU, 64, endpoint=False)
    c, sn = np.cos(t), np.sin(t)
    lower = sn > 0
    e = 2.0 / np.where(lower, s.jaw_square, 2.0)
    u = np.sign(c) * np.abs(c) ** e
    v = np.sign(sn) * np.abs(sn) ** e
    low = np.clip(v, 0, 1)
    u = u * (1 - s.jaw_taper * low**2) + 0.22 * math.sin(s.head.turn) * low**2
    return s.head.pts(u, v)


def _shoulder_line(s: _Sitter, n: int = 48) -> np.ndarray:
    """The top of the torso from the left edge over both shoulders to the right edge."""
    cx, y, wl, wr = s.shoulders
    a = np.linspace(-1.35, 1.35, n)
    w = np.where(a < 0, wl, wr)
    drop = 0.02 * np.abs(a) + 0.07 * a**2 + 2.2 * np.clip(np.abs(a) - 0.9, 0, None) ** 2
    return np.stack([cx + a * w, y + drop], -1)


def _torso(s: _Sitter) -> np.ndarray:
    """The torso outline: over the shoulders and down off the bottom of the canvas."""
    top = _shoulder_line(s)
    bottom = np.array([[top[-1, 0], 1.05], [top[0, 0], 1.05]])
    return np.concatenate([top, bottom])


def _draw_body(p: _Painter, s: _Sitter, rng: np.random.Generator) -> None:
    """The clothes: a coat, a dress or a dark gown, with their collars and linen."""
    if s.clothes in ("dress", "gown"):
        _draw_dress(p, s, rng)
    else:
        p.fill(_torso(s), s.cloth, 60, 40)
        _draw_folds(p, s, rng, s.cloth)
    if s.clothes == "coat":
        _draw_coat_front(p, s, rng)
    elif s.clothes in ("collar", "gown"):
        _draw_falling_collar(p, s)


def _draw_folds(p: _Painter, s: _Sitter, rng: np.random.Generator, cloth: Color,
                top: float = 0.08) -> None:
    """A few long diagonal folds starting `top` below the shoulder line, as relief and lines."""
    cx, y, wl, wr = s.shoulders
    for _ in range(int(rng.integers(3, 7))):
        x0 = cx + rng.uniform(-1.1, 1.1) * wl
        y0 = y + top + rng.uniform(0.0, 0.17)
        dx, dy = rng.uniform(-0.12, 0.12), rng.uniform(0.15, 0.4)
        pts = np.array([[x0, y0], [x0 + dx * 0.5 + 0.01, y0 + dy * 0.5], [x0 + dx, y0 + dy]])
        p.line(pts, cloth * rng.uniform(0.6, 1.4), rng.uniform(0.006, 0.016))
        p.ridge(pts, int(rng.integers(70, 110)), 0.04)


def _draw_dress(p: _Painter, s: _Sitter, rng: np.random.Generator) -> None:
    """A scooped bodice over the bare chest, sometimes with lace trim, pearls and a shawl."""
    cx, y, wl, wr = s.shoulders
    depth = rng.uniform(0.08, 0.17)
    top = _shoulder_line(s)
    a = (top[:, 0] - cx) / np.where(top[:, 0] < cx, wl, wr)
    reach = rng.uniform(0.55, 0.8)
    scoop = y + depth * np.clip(1 - (a / reach) ** 2, 0, 1) ** 0.7 + 0.03
    neckline = np.stack([top[:, 0], np.maximum(top[:, 1], scoop)], -1)
    cloth = s.cloth if s.clothes == "dress" else s.cloth * 0.35
    body = np.concatenate([neckline, [[top[-1, 0], 1.05], [top[0, 0], 1.05]]])
    p.fill(body, cloth, 70, 30)
    _draw_folds(p, s, rng, cloth, depth + 0.06)
    inner = neckline[np.abs(a) < reach + 0.25]
    if rng.random() < 0.55:
        p.line(inner, _LINEN * 0.92, rng.uniform(0.01, 0.02))
    if rng.random() < 0.45:  # a string of pearls
        r = s.head.rx * rng.uniform(0.6, 0.85)
        sag = rng.uniform(0.03, 0.06)
        for tx in np.linspace(-1, 1, 17):
            bead = np.array([cx + tx * r, y + 0.012 + sag * (1 - tx * tx)]) + _ROUND8 * r * 0.075
            p.fill(bead, _c(226, 220, 204))
    if rng.random() < 0.35:  # a shawl over one shoulder
        side = -1 if rng.random() < 0.5 else 1
        w = wl if side < 0 else wr
        shawl = np.array([[cx + side * 1.4 * w, y + 0.05], [cx + side * 0.55 * w, y + 0.02],
                          [cx + side * 0.1 * w, 1.05], [cx + side * 1.4 * w, 1.05]])
        p.fill(shawl, s.cloth2, 100)


def _draw_coat_front(p: _Painter, s: _Sitter, rng: np.random.Generator) -> None:
    """White shirt and cravat in the opening of the coat, lapels and buttons."""
    cx, y, _, _ = s.shoulders
    nw = s.head.rx * 0.5
    depth = rng.uniform(0.13, 0.25)
    tip = cx + 0.3 * nw * math.sin(s.head.turn)
    shirt = np.array([[cx - nw * 1.3, y - 0.01], [cx + nw * 1.3, y - 0.01], [tip, y + depth]])
    p.fill(shirt, _LINEN * 0.95, 100)
    lapel = s.cloth * rng.uniform(0.55, 1.5)
    for side in (-1, 1):
        lap = np.array([[cx + side * nw * 1.5, y - 0.015], [cx + side * nw * 2.4, y + 0.02],
                        [tip + side * 0.02, y + depth + 0.04], [tip, y + depth]])
        p.fill(lap, lapel, 100)
    cravat = np.array([[cx + nw * 1.2 * math.cos(t), y + 0.03 + 0.05 * math.sin(t)]
                       for t in np.linspace(0, _TAU, 20, endpoint=False)])
    stock = _c(24, 22, 22) if rng.random() < 0.25 else _LINEN
    p.fill(cravat, stock, 115)
    for k in range(3):
        p.line(np.array([[cx - nw * 0.5 + k * nw * 0.5, y + 0.0], [cx - nw * 0.3 + k * nw * 0.4,
                         y + 0.07]]), stock * 0.7 + 0.05, 0.004)
    gold = rng.random() < 0.4
    for k in range(4):
        by = y + depth + 0.07 + k * 0.06
        bx = tip + 0.035
        btn = np.array([[bx + 0.008 * math.cos(t), by + 0.008 * math.sin(t)]
                        for t in np.linspace(0, _TAU, 10, endpoint=False)])
        p.fill(btn, _c(176, 140, 70) if gold else s.cloth * 0.5)


def _draw_falling_collar(p: _Painter, s: _Sitter) -> None:
    """A broad flat white collar over the shoulders (17th-century falling band)."""
    cx, y, wl, wr = s.shoulders
    nw = s.head.rx * 0.6
    pts = np.array([[cx - nw, y - 0.03], [cx - wl * 0.6, y + 0.03], [cx - wl * 0.55, y + 0.13],
                    [cx, y + 0.17], [cx + wr * 0.55, y + 0.13], [cx + wr * 0.6, y + 0.03],
                    [cx + nw, y - 0.03]])
    p.fill(pts, _LINEN * 0.96, 110)
    p.line(np.array([[cx, y + 0.0], [cx, y + 0.17]]), _LINEN * 0.7, 0.004)


def _draw_ruff(p: _Painter, s: _Sitter, rng: np.random.Generator) -> None:
    """A pleated millstone ruff around the neck."""
    cx, y, _, _ = s.shoulders
    ru, rv = s.head.rx * rng.uniform(1.3, 1.7), rng.uniform(0.05, 0.08)
    cy = y - 0.015
    ring = np.array([[cx + ru * math.cos(t), cy + rv * math.sin(t)]
                     for t in np.linspace(0, _TAU, 40, endpoint=False)])
    p.fill(ring, _LINEN, 135)
    for k in np.linspace(0.45, 0.92, 3):
        arc = np.array([[cx + ru * k * math.cos(t), cy + rv * k * math.sin(t)]
                        for t in np.linspace(0, math.pi, 20)])
        p.line(arc, _LINEN * 0.75, 0.003)
    for t in np.linspace(0.05, math.pi - 0.05, 16):
        a = np.array([[cx + ru * 0.5 * math.cos(t), cy + rv * 0.5 * math.sin(t)],
                      [cx + ru * math.cos(t), cy + rv * math.sin(t)]])
        p.line(a, _LINEN * 0.78, 0.003)


def _draw_neck(p: _Painter, s: _Sitter) -> None:
    """The neck from under the jaw to the shoulder line, shadowed by the chin."""
    h = s.head
    cx, y, _, _ = s.shoulders
    nw = h.rx * 0.5
    top = h.pts(np.array([-0.5, 0.5]) + 0.15 * math.sin(h.turn), np.array([0.5, 0.5]))
    neck = np.array([top[0], top[1], [cx + nw * 1.05, y + 0.06], [cx - nw * 1.05, y + 0.06]])
    p.fill(neck, s.skin * 0.9, 110)
    p.shade(h.ellipse(0.1 * math.sin(h.turn), 1.05, 0.7, 0.25), (0.62, 0.6, 0.62))


def _draw_ears(p: _Painter, s: _Sitter) -> None:
    """The ears that the turn of the head leaves in view."""
    h = s.head
    for side in (-1, 1):
        u, fs = h.az(side * 1.5)
        if math.cos(side * 1.5 + h.turn) < -0.25:
            continue
        u = u + side * 0.07
        ear = h.ellipse(u, 0.15, 0.12 * max(fs, 0.55), 0.2, 16)
        p.fill(ear, s.skin * 0.9, 130)
        p.line(h.ellipse(u, 0.16, 0.06 * max(fs, 0.5), 0.12, 10, -1.5, 1.5), s.skin * 0.65, 0.003)


def _draw_face_tones(p: _Painter, s: _Sitter) -> None:
    """Soft shading: the shadow side, eye sockets, blush, and highlights on the lit planes."""
    h = s.head
    lit = 1.12 + 0.3 * (1.0 - float(s.skin.mean()))
    turn = math.sin(h.turn)
    p.shade(h.ellipse(-s.light * 0.85 + 0.25 * turn, 0.2, 0.5, 1.0), (0.66, 0.64, 0.68))
    f = s.face
    for side in (-1, 1):
        u, fs = h.az(side * f.eye_phi)
        dark = 0.72 if side * s.light < 0 else 0.84
        p.shade(h.ellipse(u, f.eye_v - 0.06, 0.24 * fs, 0.13), (dark, dark * 0.94, dark * 0.96))
        if f.age > 0.5:  # bags under the eyes, the fold from nose to mouth
            p.shade(h.ellipse(u, f.eye_v + 0.12, 0.13 * fs, 0.035), (0.82, 0.8, 0.82))
            fold = h.pts(np.array([0.2, 0.3, 0.32]) * side + math.sin(h.turn),
                         np.array([f.nose_len - 0.02, f.nose_len + 0.12, f.mouth_v + 0.04]))
            p.line(fold, s.skin * 0.8, h.ry * 0.02 * f.age)
        p.shade(h.ellipse(u * 1.05, 0.38, 0.2 * fs, 0.15), (1.05, 0.92, 0.91))
    p.shade(h.ellipse(0.5 * turn + 0.25 * s.light, -0.5, 0.32, 0.16), (lit, lit, lit * 0.97))
    cheek, _ = h.az(s.light * 0.5)
    p.shade(h.ellipse(cheek, 0.28, 0.16, 0.1), (lit * 0.97, lit * 0.95, lit * 0.92))
    p.shade(h.ellipse(turn + 0.1 * s.light, 0.86, 0.13, 0.06), (lit, lit * 0.98, lit * 0.95))


def _draw_eyes(p: _Painter, s: _Sitter) -> None:
    """Both eyes and brows, placed on the turned head and looking roughly at the viewer."""
    h = s.head
    gaze = 0.18 * math.sin(h.turn) + 0.06 * s.light
    for side in (-1, 1):
        u, fs = h.az(side * s.face.eye_phi)
        _draw_eye(p, s, u, s.face.eye_v, s.face.eye_w * fs, gaze)
        _draw_brow(p, s, u, fs, side)


def _draw_eye(p: _Painter, s: _Sitter, u: float, v: float, hw: float, gaze: float) -> None:
    """One eye: white, iris, pupil and catchlight, framed by lids and a lash line."""
    h = s.head
    t = np.linspace(0, math.pi, 12)
    eu = u - hw * np.cos(t)
    up, down = 0.075 * s.face.eye_open, 0.04 * s.face.eye_open
    upper = h.pts(eu, v - up * np.sin(t) ** 0.8)
    lower = h.pts(eu[::-1], v + down * np.sin(t) ** 0.9)
    p.fill(np.concatenate([upper, lower]), _c(206, 196, 182))
    r = h.ry * 0.06
    iu = u + gaze * hw * 2
    p.fill(h.circle(iu, v - 0.012, r), s.eye)
    p.fill(h.circle(iu, v - 0.012, r * 0.45), _c(14, 10, 10))
    p.fill(h.circle(iu + 0.25 * r / h.rx * s.light, v - 0.03, r * 0.2, 8), _c(236, 230, 220))
    lid = h.pts(eu[::-1], v - up * np.sin(t[::-1]) ** 0.8 - 0.05)
    p.fill(np.concatenate([upper, lid]), s.skin * 0.9)
    low_lid = h.pts(eu, v + down * np.sin(t) ** 0.9 + 0.04)
    p.fill(np.concatenate([lower, low_lid]), s.skin * 0.93)
    p.line(upper, _c(30, 20, 18) * 0.8 + s.hair * 0.2, h.ry * 0.032)
    p.line(h.pts(eu, v - up * 1.6 * np.sin(t) ** 0.9 - 0.02), s.skin * 0.72, h.ry * 0.012)
    p.line(lower[2:-2], s.skin * 0.75, h.ry * 0.01)


def _draw_brow(p: _Painter, s: _Sitter, u: float, fs: float, side: int) -> None:
    """An eyebrow over the eye at `u`, thick at the inner end and tapering outwards."""
    h = s.head
    t = np.linspace(0, 1, 10)
    bu = u + side * (t - 0.4) * 0.36 * fs
    bv = s.face.eye_v - 0.21 - 0.06 * np.sin(t * math.pi * 0.9) + 0.02 * t
    thick = s.brow * (1.2 - 0.8 * t)
    top = h.pts(bu, bv - thick / 2)
    bottom = h.pts(bu[::-1], (bv + thick / 2)[::-1])
    colour = s.hair * 0.65 + s.skin * 0.35 if s.hair.mean() < 0.6 else s.skin * 0.6
    p.fill(np.concatenate([top, bottom]), colour)


def _draw_nose(p: _Painter, s: _Sitter) -> None:
    """Nose as relief (so the light models it), a shadow side, nostrils and the ala lines."""
    h = s.head
    u0, fs = h.az(0.0)
    tipv = s.face.nose_len
    tip = u0 + 0.12 * math.sin(h.turn)
    fs *= s.face.nose_w
    ridge = h.pts(np.array([u0 - 0.07, u0 + 0.07, tip + 0.14 * fs, tip - 0.14 * fs]),
                  np.array([0.02, 0.02, tipv, tipv]))
    p.bump(ridge, 230)
    shadow = -1.0 if s.light > 0 else 1.0
    p.shade(h.pts(np.array([u0 + shadow * 0.03, u0 + shadow * 0.16, tip + shadow * 0.2,
                            tip + shadow * 0.02]), np.array([0.05, 0.1, tipv, tipv + 0.02])),
            (0.6, 0.56, 0.6))
    p.shade(h.ellipse(tip, tipv + 0.08, 0.17 * fs, 0.05), (0.6, 0.57, 0.6))
    lit = 1.15 + 0.3 * (1.0 - float(s.skin.mean()))
    p.shade(h.ellipse(tip - shadow * 0.04, 0.25, 0.035, 0.17), (lit, lit, lit * 0.97))
    for side in (-1, 1):
        w = 0.08 * fs * (1 - 0.4 * max(0.0, side * -math.sin(h.turn) * 2))
        p.fill(h.ellipse(tip + side * w, tipv + 0.03, 0.04, 0.022, 10), s.skin * 0.35)
        p.line(h.ellipse(tip + side * 0.11 * fs, tipv, 0.05, 0.05, 8,
                         math.pi * (0.5 - 0.5 * side), math.pi * (1.5 - 0.5 * side) - 1.2 * side),
               s.skin * 0.7, h.ry * 0.012)
    far = (1.0 if math.sin(h.turn) < 0 else -1.0) if abs(h.turn) > 0.2 else -shadow
    depth = 0.72 if abs(h.turn) > 0.2 else 0.82
    p.line(h.pts(np.array([u0 - far * 0.08, tip - far * 0.13]), np.array([0.1, tipv - 0.02])),
           s.skin * depth, h.ry * 0.014)


def _draw_mouth(p: _Painter, s: _Sitter) -> None:
    """Upper and lower lip, the line between them, and the shadow under the lower lip."""
    h = s.head
    u0, fs = h.az(0.0)
    um = u0 * 0.95
    v = s.face.mouth_v
    hw = (0.2 * fs + 0.04) * s.face.mouth_w
    t = np.linspace(-1, 1, 13)
    mu = um + hw * t
    line_v = v - s.smile * t**2 + 0.01 * (1 - t**2)
    lip = s.skin * np.array([0.88, 0.66, 0.64])
    full = s.face.lips
    bow = 1 - 0.35 * np.exp(-((t * 5) ** 2))  # the dip in the middle of the upper lip
    upper = h.pts(mu, line_v - 0.05 * full * (1 - t**2) ** 0.8 * bow)
    lower = h.pts(mu[::-1], (line_v + 0.065 * full * (1 - t**2) ** 0.7)[::-1])
    mid = h.pts(mu, line_v)
    p.fill(np.concatenate([upper, mid[::-1]]), lip * 0.86)
    p.fill(np.concatenate([mid, lower]), lip)
    p.line(mid, lip * 0.45, h.ry * 0.014)
    p.shade(h.ellipse(um, v + 0.13, hw * 0.6, 0.04), (0.78, 0.75, 0.77))
    p.shade(h.ellipse(um - 0.03 * s.light, v + 0.05, hw * 0.35, 0.02), (1.12, 1.1, 1.08))


def _draw_beard(p: _Painter, s: _Sitter, rng: np.random.Generator) -> None:
    """Facial hair: a full beard, side whiskers or a goatee, with or without a moustache."""
    h = s.head
    u0, fs = h.az(0.0)
    kind = str(_pick(rng, ["full", "whiskers", "goatee"], [3, 2, 1.5]))
    colour = s.hair * 0.9 + s.skin * 0.1
    outline = _head_outline(s)
    side_u = np.cos(np.linspace(0, _TAU, 64, endpoint=False))
    low = outline[(np.arange(64) > 2) & (np.arange(64) < 30)]  # right temple, chin, left temple
    mouth = u0 * 0.95
    if kind == "full":
        inner = h.pts(np.array([-0.75, -0.55, mouth - 0.3, mouth, mouth + 0.3, 0.55, 0.75]),
                      np.array([0.2, 0.5, 0.72, 0.78, 0.72, 0.5, 0.2]))
        p.fill(np.concatenate([low, inner]), colour)
    elif kind == "whiskers":
        for side in (-1, 1):
            band = low[side_u[3:30] * side > 0.45]
            inner = h.pts(np.array([side * 0.62, side * 0.7]), np.array([0.62, 0.15]))
            inner = inner if side > 0 else inner[::-1]
            p.fill(np.concatenate([band, inner]), colour)
    else:
        p.fill(h.ellipse(mouth, 0.9, 0.17, 0.16, 16), colour)
    if kind != "whiskers" or rng.random() < 0.5:
        t = np.linspace(-1, 1, 9)
        hw = 0.22 * fs + 0.06
        top = h.pts(mouth + hw * t, 0.52 + 0.02 * t**2)
        bottom = h.pts(mouth + hw * 1.05 * t[::-1], 0.6 + 0.04 * np.abs(t[::-1]) ** 2)
        p.fill(np.concatenate([top, bottom]), colour)
    for _ in range(6):
        a = rng.uniform(0.3, 2.8)
        hair = h.pts(np.array([0.8, 0.95]) * math.cos(a), np.array([0.8, 1.0]) * math.sin(a))
        p.line(hair, colour * 1.35, h.ry * 0.014)


def _hairline(s: _Sitter, low: float, height: float) -> tuple[np.ndarray, np.ndarray]:
    """Face coordinates of the hairline from the right temple over the forehead to the left."""
    t = np.linspace(0, math.pi, 15)
    shift = 0.25 * math.sin(s.head.turn)
    u = 0.9 * np.cos(t) + shift * np.sin(t)
    v = low - height * np.sin(t) ** 0.8
    return u, v


def _cap(s: _Sitter, scale: float, low: float, line_low: float, line_h: float) -> np.ndarray:
    """The hair over the skull: an outer arc from one side over the top, back along the hairline."""
    a0 = math.asin(max(-1.0, min(1.0, low / (1.05 * scale))))
    t = np.linspace(math.pi - a0, _TAU + a0, 30)
    r = scale * (1 + 0.025 * np.sin(11 * t + 9 * s.hair_length) + 0.015 * np.sin(23 * t))
    outer = s.head.pts(1.04 * r * np.cos(t), -0.03 + 1.08 * r * np.sin(t))
    hu, hv = _hairline(s, line_low, line_h)
    return np.concatenate([outer, s.head.pts(hu, hv)])


def _draw_hair_back(p: _Painter, s: _Sitter) -> None:
    """Hair behind the head: long hair falling to the shoulders, the fringe of a bald head."""
    h = s.head
    if s.hair_style in ("long", "curly") and (s.hair_style == "long" or s.hair_length > 1.8):
        t = np.linspace(math.pi, _TAU, 20)
        top = h.pts(1.14 * np.cos(t), -0.03 + 1.12 * np.sin(t))
        end = s.hair_length
        sides = h.pts(np.array([1.2, 1.3, 1.35, 0.6, -0.6, -1.35, -1.3, -1.2]),
                      np.array([0.4, 1.1, end, end + 0.1, end + 0.1, end, 1.1, 0.4]))
        p.fill(np.concatenate([top, sides]), s.hair * 0.8, 90, 40)
    if s.hair_style == "bald":
        for side in (-1, 1):
            p.fill(h.ellipse(side * 0.95, 0.1, 0.17, 0.33), s.hair, 140)


def _draw_hair_front(p: _Painter, s: _Sitter, rng: np.random.Generator) -> None:
    """The hair over the skull and around the face, in the sitter's style."""
    style = s.hair_style
    if style == "bald":
        return
    if style == "long":
        cap = _cap(s, 1.06, 0.6, -0.28, 0.3)
        shift = 0.2 * math.sin(s.head.turn)
        side = s.head.pts(np.array([0.86, 0.8, 0.7]) + shift, np.array([-0.1, 0.3, 0.6]))
        left = s.head.pts(np.array([-0.7, -0.8, -0.86]) + shift, np.array([0.6, 0.3, -0.1]))
        hu, hv = _hairline(s, -0.28, 0.3)
        pts = np.concatenate([cap[:30], side, s.head.pts(hu, hv), left])
        p.fill(pts, s.hair, 175)
        _draw_long_strands(p, s, rng)
    elif style == "bun":
        p.fill(_cap(s, 1.02, 0.1, -0.2, 0.38), s.hair, 175)
        bu = -0.35 * math.copysign(1.0, s.head.turn or 1.0)
        p.fill(s.head.ellipse(bu, -1.02, 0.36, 0.28), s.hair * 0.92, 170, 30)
    elif style == "wig":
        p.fill(_cap(s, 1.1, 0.25, -0.25, 0.35), s.hair, 175)
        for side in (-1, 1):
            u, _ = s.head.az(side * 1.45)
            if math.cos(side * 1.45 + s.head.turn) < -0.2:
                continue
            for v in (-0.05, 0.22):
                roll = s.head.ellipse(u * 1.05, v, 0.24, 0.13, 18)
                p.fill(roll, s.hair * 0.97, 185, 30)
                p.line(s.head.ellipse(u * 1.05, v, 0.24, 0.13, 12, 0.3, 2.8), s.hair * 0.7, 0.004)
    else:  # short, curly, cap
        p.fill(_cap(s, 1.1, 0.12, -0.25, 0.35), s.hair, 175)
        if style == "curly":
            _draw_curls(p, s, rng)
    _draw_strands(p, s, rng)
    if style == "cap":
        _draw_lace_cap(p, s, rng)


def _draw_lace_cap(p: _Painter, s: _Sitter, rng: np.random.Generator) -> None:
    """A white linen cap over the crown with a frilled edge and a coloured ribbon."""
    h = s.head
    t = np.linspace(math.pi - 0.25, _TAU + 0.25, 24)
    dome = h.pts(1.18 * np.cos(t), -0.3 + 0.95 * np.sin(t))
    p.fill(dome, _LINEN * 0.93, 190, 20)
    band = h.pts(1.1 * np.cos(t[3:-3]), -0.42 + 0.8 * np.sin(t[3:-3]))
    p.line(band, s.cloth2, h.ry * 0.06)
    for k in range(len(t)):
        u, v = 1.18 * math.cos(t[k]), -0.3 + 0.95 * math.sin(t[k])
        if v < -0.55:
            continue
        p.fill(h.circle(u, v + 0.05, h.ry * 0.07, 8), _LINEN * rng.uniform(0.85, 1.0))


def _draw_long_strands(p: _Painter, s: _Sitter, rng: np.random.Generator) -> None:
    """Locks falling from the crown down past the face."""
    h = s.head
    for _ in range(10):
        side = 1 if rng.random() < 0.5 else -1
        u0 = side * rng.uniform(0.4, 0.9)
        lock = h.pts(np.array([u0, side * 1.0, side * 1.15, side * 1.25]) + rng.normal(0, 0.04, 4),
                     np.array([-0.75, -0.2, 0.5, s.hair_length * rng.uniform(0.7, 1.0)]))
        lit = side * s.light > 0
        p.line(lock, np.clip(s.hair * (1.4 if lit else 0.6) + 0.03 * lit, 0, 1), h.ry * 0.02)


def _draw_curls(p: _Painter, s: _Sitter, rng: np.random.Generator) -> None:
    """Clumps of curls along the outline of the hair."""
    h = s.head
    low = 1.6 if s.hair_length > 1.8 else 0.55
    for _ in range(40):
        t = rng.uniform(math.pi - 0.35, _TAU + 0.35)
        r = rng.uniform(1.0, 1.2)
        u, v = r * math.cos(t), -0.03 + r * 1.05 * math.sin(t)
        if v > low:
            continue
        rad = h.ry * rng.uniform(0.08, 0.14)
        p.fill(h.circle(u, v, rad, 12), s.hair * rng.uniform(0.75, 1.2), 175, 25)
        p.line(h.circle(u, v, rad * 0.6, 8)[1:5], s.hair * 1.5 + 0.05, h.ry * 0.015)


def _draw_strands(p: _Painter, s: _Sitter, rng: np.random.Generator) -> None:
    """Highlight and shadow strands sweeping over the crown."""
    h = s.head
    for _ in range(14):
        r = rng.uniform(0.75, 1.05)
        t0 = rng.uniform(math.pi + 0.1, _TAU - 0.6)
        t = np.linspace(t0, t0 + rng.uniform(0.3, 0.8), 6)
        lit = rng.random() < 0.5
        col = np.clip(s.hair * (1.45 if lit else 0.65) + (0.04 if lit else 0.0), 0, 1)
        p.line(h.pts(r * np.cos(t), -0.05 + r * 1.05 * np.sin(t)), col, h.ry * 0.018)


# ----------------------------------------------------------------------------- light and paint


def _blur(img: Image.Image, radius: float) -> np.ndarray:
    """Gaussian blur of a PIL image, as float32 pixel values."""
    return np.asarray(img.filter(ImageFilter.GaussianBlur(radius)), dtype=np.float32)


def _light(p: _Painter, s: _Sitter) -> np.ndarray:
    """Downsample the drawing, model it with side light from the relief map, darken the edges.

    The relief, the soft tones and the light fall-off are smooth, so they are worked out at half
    resolution and scaled up.
    """
    size, low = p.size, p.low
    img = np.asarray(p.color.reduce(2), dtype=np.float32) * np.float32(1 / 255)
    relief = _blur(p.height, low * 0.036) * np.float32(1 / 255)
    gy, gx = np.gradient(relief * np.float32(low * 0.09))
    lx, ly, lz = 0.62 * s.light, -0.5, 0.6
    shade = (lx * -gx + ly * -gy + lz) / np.sqrt(gx * gx + gy * gy + 1.0) / lz
    figure = np.asarray(p.height) > 0
    xx, yy = _grid(low)
    h = s.head
    side = 1.0 + 0.16 * s.light * np.clip((xx - h.x) / h.rx, -1.6, 1.6)
    model = np.where(figure, np.clip(shade, 0.35, 1.3) * side, 1.0)
    spot = np.exp(-((xx - h.x - 0.1 * s.light) ** 2 + (yy - h.y + 0.05) ** 2 * 0.6) / 0.16)
    gain = model * (0.5 + 0.45 * spot) * np.float32(100 / 128)
    tones = _blur(p.soft, low * 0.04) * gain[..., None]  # gains in hundredths, up to 2.55
    tones = Image.fromarray(np.clip(tones + 0.5, 0, 255).astype(np.uint8))
    tones = tones.resize((size, size), Image.Resampling.BILINEAR)
    return img * np.asarray(tones, dtype=np.float32) * np.float32(0.01)


_GREY = np.full(3, 1 / 3, dtype=np.float32)


def _oval_frame(img: np.ndarray, s: _Sitter) -> np.ndarray:
    """A painted oval opening, with dark stone spandrels in the corners and a lit inner rim."""
    xx, yy = _grid(img.shape[0])
    r = np.sqrt(((xx - 0.5) / 0.47) ** 2 + ((yy - 0.5) / 0.49) ** 2)
    stone = (s.wall * 0.45 + 0.03).astype(np.float32) * (1.25 - 0.5 * yy)[..., None]
    rim = np.exp(-(((r - 1.0) / 0.012) ** 2)) * (0.5 + 0.4 * s.light * (xx - 0.5))
    framed = np.where((r > 1.0)[..., None], stone, img)
    return framed * (1 + 0.6 * rim[..., None]).astype(np.float32)


def _orientation(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Half-resolution stroke angles: along edges where there are some, else a slow swirl."""
    small = img[::2, ::2]
    low = small.shape[0]
    lum = Image.fromarray((np.clip(small @ _GREY, 0, 1) * 255).astype(np.uint8))
    gy, gx = np.gradient(_blur(lum, max(0.8, low * 0.012)))
    along = np.arctan2(gy, gx) + np.float32(math.pi / 2)
    swirl = np.float32(rng.uniform(0, math.pi)) + 1.4 * _noise(rng, low, 3)
    strong = np.hypot(gx, gy) > 0.9 * 128 / low
    return np.where(strong, along, swirl)


@lru_cache(maxsize=16)
def _stroke_shape(nl: int, nw: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample offsets (along, across in [-0.5, 0.5]) inside a stroke with rounded ends."""
    t, w = np.meshgrid(np.linspace(-0.5, 0.5, nl), (np.arange(nw) + 0.5) / nw - 0.5)
    keep = (2 * np.abs(t)) ** 6 + (2 * np.abs(w)) ** 2 <= 1.05
    row = np.broadcast_to(np.arange(nw)[:, None], t.shape)
    return t[keep].astype(np.float32), w[keep].astype(np.float32), row[keep]


def _pack(rgb: np.ndarray) -> np.ndarray:
    """Float RGB (..., 3) in [0, 1] to one uint32 per pixel, so strokes scatter as single words."""
    out = np.zeros(rgb.shape[:-1] + (4,), dtype=np.uint8)
    scaled = rgb * np.float32(255)
    scaled += np.float32(0.5)
    out[..., :3] = np.clip(scaled, 0, 255, out=scaled)
    return out.view(np.uint32)[..., 0]


def _brushwork(rng: np.random.Generator, img: np.ndarray, s: _Sitter) -> np.ndarray:
    """Cover the picture with short oriented strokes coloured from what lies beneath.

    Strokes are rasterised all at once: every stroke is a fixed grid of sample points, and later
    strokes overwrite earlier ones, as wet paint would. Strokes are finer over the face. Takes
    float RGB, returns uint8 RGB.
    """
    size = img.shape[0]
    scale = size / 256
    n = int(0.065 * size * size / max(1.0, scale) ** 2)  # above 256 px, bigger strokes, not more
    angle = _orientation(img, rng)
    cx = rng.random(n, dtype=np.float32) * size
    cy = rng.random(n, dtype=np.float32) * size
    ix, iy = cx.astype(np.intp), cy.astype(np.intp)
    h = s.head
    d = ((cx / size - h.x) / h.rx) ** 2 + ((cy / size - h.y) / h.ry) ** 2
    fine = 0.4 + 0.6 * np.clip((d - 0.6) / 1.5, 0, 1)
    scale = np.float32(scale)
    length = fine * scale * rng.uniform(4.8, 11.0, n).astype(np.float32)
    width = np.maximum(1.0, fine * scale * rng.uniform(1.7, 3.0, n).astype(np.float32))
    theta = angle[iy // 2, ix // 2] + rng.normal(0, 0.3, n).astype(np.float32)
    nl, nw = int(math.ceil(float(length.max()))), int(math.ceil(float(width.max())))
    t, w, row = _stroke_shape(nl, nw)
    c, sn = np.cos(theta)[:, None], np.sin(theta)[:, None]
    lt, wt = length[:, None] * t, width[:, None] * w
    flat = _axis(cy, sn * lt + c * wt, size)
    flat *= size
    flat += _axis(cx, c * lt - sn * wt, size)
    colour = img[iy, ix] * rng.normal(1.0, 0.04, (n, 1)).astype(np.float32)
    colour += rng.normal(0, 0.01, (n, 3)).astype(np.float32)
    bristle = rng.normal(1.0, 0.03, (n, nw, 1)).astype(np.float32)
    canvas = _pack(img).ravel()
    canvas[flat.ravel()] = _pack(colour[:, None, :] * bristle)[:, row].ravel()
    return canvas.view(np.uint8).reshape(size, size, 4)[..., :3]


def _axis(centre: np.ndarray, offset: np.ndarray, size: int) -> np.ndarray:
    """Pixel coordinates (n, k) along one axis of stroke samples, clamped to the picture."""
    offset += centre[:, None]
    np.clip(offset, 0, size - 1, out=offset)
    return offset.astype(np.int32)


_TEXTURE_MARGIN = 97


_GRAIN_HEADROOM = 1.08  # the texture multiplies by up to this much; the varnish pre-brightens


@lru_cache(maxsize=4)
def _canvas_texture(size: int) -> Image.Image:
    """Canvas weave plus grain, a little larger than the picture, to cut shifted windows from.

    Values are gains scaled so that 255 is `_GRAIN_HEADROOM`, for `ImageChops.multiply`.
    """
    n = size + _TEXTURE_MARGIN
    period = max(2.2, size / 110)
    ax = np.arange(n, dtype=np.float32) * np.float32(_TAU / period)
    weave = np.sin(ax)[:, None] * np.sin(ax)[None, :] * 0.025
    grain = np.random.default_rng(2024).normal(0, 0.02, (n, n)).astype(np.float32)
    tex = (1.0 + weave + grain) * (255 / _GRAIN_HEADROOM)
    return Image.fromarray(np.clip(tex + 0.5, 0, 255).astype(np.uint8)).convert("RGB")


_SOFTEN = ImageFilter.Kernel((3, 3), [1, 2, 1, 2, 12, 2, 1, 2, 1])


def _varnish(img: np.ndarray, amount: float) -> np.ndarray:
    """Yellowed, slightly desaturated varnish: one colour matrix over float RGB."""
    tone = np.array([1.0, 0.93, 0.76], dtype=np.float32) ** np.float32(amount)
    mix = (np.eye(3, dtype=np.float32) * 0.88 + 0.04) * tone[None, :]  # desaturate, then tint
    return img @ (mix * np.float32(_GRAIN_HEADROOM))


def _finish(rng: np.random.Generator, rgb: np.ndarray) -> Image.Image:
    """A breath of blur to settle the strokes, then canvas grain; uint8 RGB in, image out."""
    size = rgb.shape[0]
    out = Image.fromarray(np.ascontiguousarray(rgb))
    out = out.filter(_SOFTEN) if size <= 320 else out.filter(ImageFilter.GaussianBlur(size / 640))
    oy, ox = (int(v) for v in rng.integers(0, _TEXTURE_MARGIN, 2))
    grain = _canvas_texture(size).crop((ox, oy, ox + size, oy + size))
    return ImageChops.multiply(out, grain)


# The figure painter reuses the helpers above, so it is imported once they exist.
from belamy.data import demo_figures  # noqa: E402
