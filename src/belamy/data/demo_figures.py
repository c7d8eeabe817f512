"""Demo figures: procedurally painted full-body people, each drawn over a given pose.

The chain of GANs learns pose -> figure, so its demo collection pairs every picture with the pose
it was painted over (by default drawn by `belamy.data.pose_sampler`). A pose is a float32 array
(17, 3) of COCO-17 keypoints (`belamy.data.pose.KEYPOINTS`): x and y in canvas units (0..1 across
a square canvas, x right, y down; a figure facing the viewer has its left side on the image's
right) and v, the COCO visibility (0 not labelled, 1 hidden, 2 visible).

The figure is built on the skeleton: tapered limbs along the bones, a torso from shoulders to
hips, a neck and a head turned the way the nose, eyes and ears say, hands and feet. Hidden limbs
are drawn first and darker, the far side of a figure in profile before the torso, legs before
the clothes that drape over them. Sitters, clothes, hair, grounds and light vary with the seed,
and the painting passes (brushwork, varnish, canvas grain) are the portrait painter's
(`belamy.data.demo`). Every image is a pure function of (pose, seed, size).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from belamy.core.errors import BelamyError
from belamy.data.demo import (
    _COATS,
    _DRESSES,
    _HAIR,
    _LINEN,
    _MIN_SIZE,
    _TAU,
    Color,
    _blur,
    _brushwork,
    _c,
    _finish,
    _grid,
    _Head,
    _image_seed,
    _jitter,
    _noise,
    _Painter,
    _pick,
    _rng,
    _skin_tone,
    _varnish,
)
from belamy.data.pose import KEYPOINTS
from belamy.data.pose_sampler import PoseSamplerConfig, sample_poses

(NOSE, L_EYE, R_EYE, L_EAR, R_EAR, L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST,
 L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE) = range(len(KEYPOINTS))  # COCO-17 order

_ARMS = {1: (L_SHOULDER, L_ELBOW, L_WRIST), -1: (R_SHOULDER, R_ELBOW, R_WRIST)}  # key: subject's side
_LEGS = {1: (L_HIP, L_KNEE, L_ANKLE), -1: (R_HIP, R_KNEE, R_ANKLE)}

# Proportions in body heights H (soles to crown), after the academic eight-head canon.
_BONES = ((L_SHOULDER, L_ELBOW, 0.17), (R_SHOULDER, R_ELBOW, 0.17), (L_ELBOW, L_WRIST, 0.15),
          (R_ELBOW, R_WRIST, 0.15), (L_HIP, L_KNEE, 0.245), (R_HIP, R_KNEE, 0.245),
          (L_KNEE, L_ANKLE, 0.245), (R_KNEE, R_ANKLE, 0.245), (L_SHOULDER, R_SHOULDER, 0.23),
          (L_HIP, R_HIP, 0.17))
_ARM_R = (0.027, 0.021, 0.017)  # half-widths at shoulder, elbow, wrist
_LEG_R = (0.047, 0.03, 0.019)  # at hip, knee, ankle
_HIDDEN = 0.68  # colour factor of limbs behind the body
_FAR = 0.86  # of the far side of a figure in profile

_SHOES = [_c(38, 28, 22), _c(72, 46, 30), _c(24, 22, 22), _c(110, 78, 50)]
_FLOORS = [_c(96, 70, 46), _c(120, 100, 76), _c(70, 58, 48), _c(132, 124, 110), _c(84, 62, 44)]
_STUDIO = [_c(112, 106, 96), _c(70, 78, 88), _c(96, 84, 70), _c(60, 62, 58), _c(134, 118, 96),
           _c(84, 66, 62)]
_STOOLS = [_c(92, 60, 36), _c(70, 48, 32), _c(120, 92, 60)]
_CLOTHES = ("tunic", "dress", "trousers", "coat", "robe", "drape")


# ----------------------------------------------------------------------------- public API


def render_figure(pose: np.ndarray, seed: int, size: int = 256) -> Image.Image:
    """Paint a full-body figure in `pose`; an RGB `size` x `size` image.

    `pose` is a COCO-17 (17, 3) array (x, y in canvas units, v visibility). The picture depends
    only on (pose, seed, size): the seed picks the person, clothes, ground, light and brushwork.
    """
    if size < _MIN_SIZE:
        raise BelamyError(f"demo figures need size >= {_MIN_SIZE}, got {size}")
    body = _Body(_check_pose(pose))
    rng = _rng(seed)
    look = _sample_look(rng)
    painter = _Painter(_ground(rng, look, body, max(8, size // 2)), size)
    _draw_setting(painter, look, body)
    _draw_figure(painter, look, body, rng)
    img = _varnish(_lit(painter, look, body), look.varnish)
    box = _Head(x=body.centre[0], y=body.centre[1], rx=body.half[0], ry=body.half[1], tilt=0.0, turn=0.0)
    return _finish(rng, _brushwork(rng, img, _Strokes(box)))


def iter_figures(
    count: int, seed: int = 0, size: int = 256, poses: np.ndarray | Sequence[np.ndarray] | None = None
) -> Iterator[tuple[str, Image.Image, np.ndarray]]:
    """Yield `(f"figure-{i:04d}", image, pose)` for `count` figures.

    Figure `i` is painted over `poses[i]` with a seed derived from `(seed, i)`, as the portraits
    are. Without `poses`, pose `i` is the pose sampler's pose `i` of `seed` (default config), so
    a longer run starts with the same figures as a shorter one. Bad arguments raise `BelamyError`
    at the call, before any figure is painted.
    """
    if count < 0:
        raise BelamyError(f"demo image count must be >= 0, got {count}")
    if size < _MIN_SIZE:
        raise BelamyError(f"demo figures need size >= {_MIN_SIZE}, got {size}")
    if poses is None:
        if seed < 0:
            raise BelamyError(f"demo figures need a seed >= 0 (the pose sampler's), got {seed}")
        cfg = PoseSamplerConfig()
        cfg.validate()
        chosen: Iterable[np.ndarray] = (sample_poses(1, seed, cfg, start=i)[0] for i in range(count))
    else:
        if len(poses) < count:
            raise BelamyError(f"{count} demo figures need as many poses, got {len(poses)}")
        chosen = [_check_pose(p) for p in poses[:count]]
    return (
        (f"figure-{i:04d}", render_figure(pose, _image_seed(seed, i), size), _check_pose(pose))
        for i, pose in enumerate(chosen)
    )


def pose_values(pose: np.ndarray) -> list[float]:
    """A pose as the 51 numbers a manifest row stores: x, y, v of each keypoint, 4 decimals."""
    return [round(float(x), 4) for x in _check_pose(pose).ravel()]


# ----------------------------------------------------------------------------- poses


def _check_pose(pose: np.ndarray) -> np.ndarray:
    arr = np.asarray(pose, dtype=np.float32)
    if arr.shape != (17, 3):
        raise BelamyError(f"a pose is 17 COCO keypoints of (x, y, v), shape (17, 3); got {arr.shape}")
    if not np.isfinite(arr).all():
        raise BelamyError("a pose holds a NaN or infinite value")
    return arr


# ----------------------------------------------------------------------------- reading a pose


class _Body:
    """What the painter reads off a pose: scale, which way the figure faces, the head's frame."""

    def __init__(self, pose: np.ndarray) -> None:
        self.p = pose[:, :2].astype(np.float64)
        self.v = pose[:, 2].round().astype(int)
        self.has = self.v > 0
        self.H = self._height()
        self.ground = self._ground_y()
        self.profile, self.facing, self.back = self._orientation()
        self.head = self._head()
        pts = self.p[self.has] if self.has.any() else np.array([[0.5, 0.5]])
        lo = np.minimum(pts.min(0), [self.head.x, self.head.y - self.head.ry]) - 0.04 * self.H
        hi = np.maximum(pts.max(0), [self.head.x, self.ground]) + 0.04 * self.H
        self.centre = (lo + hi) / 2
        self.half = np.maximum((hi - lo) / 2, 0.05)

    def ok(self, *idx: int) -> bool:
        return bool(all(self.has[i] for i in idx))

    def hidden(self, *idx: int) -> bool:
        return bool(any(self.v[i] == 1 for i in idx))

    def mid(self, a: int, b: int) -> np.ndarray | None:
        if self.ok(a, b):
            return (self.p[a] + self.p[b]) / 2
        return self.p[a] if self.has[a] else self.p[b] if self.has[b] else None

    def _height(self) -> float:
        """Body height from the longest-looking bones (foreshortening only ever shortens them)."""
        est = [float(np.hypot(*(self.p[a] - self.p[b]))) / n for a, b, n in _BONES if self.ok(a, b)]
        ms, mh = self.mid(L_SHOULDER, R_SHOULDER), self.mid(L_HIP, R_HIP)
        if ms is not None and mh is not None and (self.has[[L_HIP, R_HIP]].any()):
            est.append(float(np.hypot(*(ms - mh))) / 0.3)
        if not est:
            pts = self.p[self.has]
            return float(np.clip(np.ptp(pts[:, 1]) if len(pts) > 1 else 0.5, 0.1, 1.5))
        return float(np.clip(np.percentile(est, 80), 0.05, 2.0))

    def _ground_y(self) -> float:
        feet = [self.p[i, 1] for i in (L_ANKLE, R_ANKLE) if self.has[i]]
        if feet:
            return float(max(feet)) + 0.03 * self.H
        pts = self.p[self.has]
        return float(pts[:, 1].max() if len(pts) else 0.9) + 0.05 * self.H

    def _orientation(self) -> tuple[float, float, bool]:
        """How much in profile (0 front .. 1 profile), facing (-1 left .. 1 right), seen from behind."""
        widths = [(self.p[a, 0] - self.p[b, 0]) / n for a, b, n in
                  ((L_SHOULDER, R_SHOULDER, 0.23), (L_HIP, R_HIP, 0.17)) if self.ok(a, b)]
        width = float(np.mean(widths)) / self.H if widths else 1.0
        profile = float(np.clip(1.0 - abs(width) * 1.15, 0.0, 1.0))
        face = [self.p[i] for i in (NOSE, L_EYE, R_EYE) if self.v[i] == 2]
        back_pts = [self.p[i] for i in (L_EAR, R_EAR) if self.has[i]]
        ref = self.mid(L_SHOULDER, R_SHOULDER)
        if back_pts:
            ref = np.mean(back_pts, 0)
        facing = 0.0
        if face and ref is not None:
            facing = float(np.clip((np.mean(face, 0)[0] - ref[0]) / (0.05 * self.H), -1, 1))
        ears = bool(self.has[L_EAR] or self.has[R_EAR])
        back = (width < -0.15 and self.v[NOSE] != 2) or (not face and ears and width < 0.3)
        return profile, facing, bool(back)

    def _head(self) -> _Head:
        """The head's ellipse, tilt and turn from the face keypoints (or the shoulders alone)."""
        H, p = self.H, self.p
        ears = [p[i] for i in (L_EAR, R_EAR) if self.has[i]]
        eyes = [p[i] for i in (L_EYE, R_EYE) if self.has[i]]
        nose = p[NOSE] if self.has[NOSE] else None
        neck = self.mid(L_SHOULDER, R_SHOULDER)
        hips = self.mid(L_HIP, R_HIP)
        up = np.array([0.0, -1.0])
        if neck is not None and hips is not None and np.hypot(*(neck - hips)) > 0.05 * H:
            up = (neck - hips) / np.hypot(*(neck - hips))
        if len(ears) == 2:
            centre = (ears[0] + ears[1]) / 2
        elif ears and nose is not None:
            centre = ears[0] + 0.12 * (nose - ears[0])
        elif eyes:
            centre = np.mean(eyes, 0)
            if nose is not None:
                centre = centre - 0.6 * (nose - centre)
        elif nose is not None:
            centre = nose + up * 0.02 * H
        elif neck is not None:
            centre = neck + up * 0.1 * H
        else:
            centre = np.array([0.5, 0.2])
        if ears and nose is not None and len(ears) == 1 and self.profile > 0.5:
            centre = centre - (nose - ears[0]) * 0.05
        if neck is not None and np.hypot(*(centre - neck)) > 0.03 * H:
            up = 0.5 * up + 0.5 * (centre - neck) / np.hypot(*(centre - neck))
        if self.ok(L_EYE, R_EYE) and self.v[L_EYE] == 2 == self.v[R_EYE]:
            across = p[L_EYE] - p[R_EYE]
            d = np.hypot(*across)
            if d > 0.015 * H:
                eye_up = np.array([across[1], -across[0]]) / d
                if eye_up @ up > 0.3:
                    up = 0.5 * up + 0.5 * eye_up
        up = up / max(1e-6, float(np.hypot(*up)))
        ry = 0.068 * H
        rx = (0.05 + 0.01 * self.profile) * H
        turn = self.facing * (0.35 + 0.85 * self.profile) if not self.back else 0.0
        tilt = math.atan2(up[0], -up[1])
        return _Head(float(centre[0]), float(centre[1]), float(rx), float(ry), tilt, float(turn))


# ----------------------------------------------------------------------------- the sitter's look


@dataclass(frozen=True)
class _Look:
    """Every random choice about one figure except the brushwork."""

    skin: Color
    hair: Color
    hair_style: str
    hair_length: float
    clothes: str
    sleeves: float  # 0 bare arms .. 1 to the wrist
    hem: float  # along the leg: 0 hip, 1 knee, 2 ankle
    cloth: Color
    cloth2: Color
    legs: Color | None  # trousers or hose
    trim: Color
    shoes: Color | None
    ground: str
    wall: Color
    floor: Color
    stool: Color
    light: np.ndarray  # unit vector in the picture pointing towards the light
    varnish: float


@dataclass(frozen=True)
class _Strokes:
    """What the portrait brushwork reads: where to paint finely (over the figure)."""

    head: _Head


def _sample_look(rng: np.random.Generator) -> _Look:
    skin, dark = _skin_tone(rng)
    clothes = str(_pick(rng, _CLOTHES, [2.5, 3, 3, 2, 1.2, 1]))
    style = str(_pick(rng, ["short", "long", "bun", "curly", "cropped"], [3, 2.5, 1.5, 1.5, 1.5]))
    sleeves = {"tunic": _pick(rng, [0.0, 0.45, 1.0], [2, 2, 1]), "dress": _pick(rng, [0.0, 0.4, 1.0], [2, 2, 2]),
               "trousers": _pick(rng, [0.45, 1.0, 0.0], [2, 3, 1]), "coat": 1.0, "robe": 1.0,
               "drape": 0.0}[clothes]
    hem = {"tunic": rng.uniform(0.3, 0.65), "dress": rng.uniform(1.2, 1.9), "trousers": 0.25,
           "coat": rng.uniform(0.7, 1.05), "robe": rng.uniform(1.75, 1.95), "drape": rng.uniform(1.3, 1.85)}[clothes]
    palette = _DRESSES if clothes in ("dress", "drape", "tunic") else _COATS if clothes == "coat" else _DRESSES + _COATS
    cloth = _jitter(rng, palette[int(rng.integers(0, len(palette)))], 0.08)
    if clothes == "drape" and rng.random() < 0.6 or clothes == "trousers" and rng.random() < 0.3:
        cloth = _jitter(rng, _LINEN * 0.92, 0.03)
    cloth2 = _jitter(rng, _COATS[int(rng.integers(0, len(_COATS)))] * rng.uniform(0.9, 1.6), 0.08)
    hosed = clothes in ("trousers", "coat") or clothes == "tunic" and rng.random() < 0.5
    angle = rng.uniform(-0.9, 0.9) + (0 if rng.random() < 0.5 else math.pi)
    light = np.array([math.sin(angle), -abs(math.cos(angle)) - 0.4])
    return _Look(
        skin=skin,
        hair=_apart(_hair(rng, dark), skin),
        hair_style=style,
        hair_length=float(rng.uniform(1.6, 2.6)),
        clothes=clothes,
        sleeves=float(sleeves),
        hem=float(hem),
        cloth=cloth,
        cloth2=cloth2,
        legs=cloth2 if hosed else None,
        trim=_jitter(rng, _pick(rng, [_LINEN, _c(176, 140, 70), _c(40, 30, 26)], [2, 1, 1]), 0.05),
        shoes=None if rng.random() < 0.3 else _jitter(rng, _SHOES[int(rng.integers(0, len(_SHOES)))], 0.08),
        ground=str(_pick(rng, ["studio", "room", "outdoors"], [3, 3, 2.5])),
        wall=_jitter(rng, _STUDIO[int(rng.integers(0, len(_STUDIO)))], 0.1),
        floor=_jitter(rng, _FLOORS[int(rng.integers(0, len(_FLOORS)))], 0.08),
        stool=_jitter(rng, _STOOLS[int(rng.integers(0, len(_STOOLS)))], 0.1),
        light=light / np.hypot(*light),
        varnish=float(rng.uniform(0.15, 0.55)),
    )


def _hair(rng: np.random.Generator, dark_skin: float) -> Color:
    """A natural hair colour (fair ones rarer on dark skin, grey and white rarer than in portraits)."""
    fair = 1.0 - dark_skin
    weights = [3, 3, 3, 2, 1.2 * fair, 0.8 * fair, 1.2 * fair, 0.8 * fair, 0.5, 0.25]
    return _jitter(rng, _HAIR[str(_pick(rng, list(_HAIR), weights))], 0.05)


def _apart(hair: Color, skin: Color) -> Color:
    """Hair darkened where it is about as light as the skin, so the face stays readable."""
    ratio = float(hair.mean() / max(1e-6, float(skin.mean())))
    return hair * (0.55 / ratio) if 0.6 < ratio < 1.25 else hair


# ----------------------------------------------------------------------------- grounds


def _ground(rng: np.random.Generator, look: _Look, body: _Body, size: int) -> np.ndarray:
    """The backdrop as float RGB (size, size, 3): a studio sweep, a room or a landscape."""
    xx, yy = _grid(size)
    floor_y = body.ground
    cx = body.centre[0] + 0.15 * look.light[0]
    glow = np.exp(-((xx - cx) ** 2 / 0.12 + (yy - body.centre[1]) ** 2 / 0.3))
    scumble = _noise(rng, size, 5)[..., None]
    if look.ground == "outdoors":
        horizon = floor_y - body.H * rng.uniform(0.3, 0.7)
        top = _jitter(rng, _c(86, 108, 132), 0.12)
        low = _jitter(rng, _c(214, 196, 160), 0.08)
        t = np.clip(yy / max(0.05, horizon), 0, 1)[..., None] ** 1.3
        sky = top * (1 - t) + low * t
        clouds = np.clip((_noise(rng, size, 6) - 0.45) * 2.2, 0, 1)[..., None]
        sky = sky * (1 - 0.4 * clouds) + _c(226, 218, 200) * 0.4 * clouds
        hills = horizon - 0.05 * _noise(rng, size, 4)[0][None, :]
        far = _jitter(rng, _c(110, 124, 112), 0.08)
        grass = _jitter(rng, _pick(rng, [_c(96, 104, 56), _c(132, 118, 72), _c(84, 92, 60)], [2, 1, 1]), 0.08)
        depth = np.clip((yy - horizon) / max(0.05, 1.0 - horizon), 0, 1)[..., None]
        land = grass * (1.05 - 0.35 * depth) * (0.85 + 0.3 * scumble)
        out = np.where((yy > hills)[..., None], far, sky)
        out = np.where((yy > horizon + 0.015)[..., None], land, out)
        return out * 0.9
    wall = look.wall * (1 - scumble) + _jitter(rng, look.wall, 0.12) * scumble
    wall = wall * (0.6 + 0.65 * glow[..., None])
    if look.ground == "studio":  # one sweep of paper from the wall down to the floor
        t = np.clip((yy - floor_y + 0.25 * body.H) / (0.35 * body.H), 0, 1)[..., None]
        floor = look.wall * 0.7 * (0.9 + 0.2 * glow[..., None])
        out = wall * (1 - t) + floor * t
    else:  # a plain wall, a skirting board and a floor
        line = floor_y - body.H * rng.uniform(0.08, 0.28)
        boards = 0.9 + 0.1 * np.sin((xx + 0.3 * (xx - cx) * (yy - line)) * 40)[..., None]  # converging
        floor = look.floor * (0.75 + 0.35 * (yy - line)[..., None]) * boards
        out = np.where((yy > line)[..., None], floor, wall)
        skirting = (yy > line - 0.012) & (yy <= line)
        out = np.where(skirting[..., None], look.wall * 0.45, out)
    return np.clip(out * (0.85 + 0.3 * _noise(rng, size, 11)[..., None]), 0, 1).astype(np.float32)


def _draw_setting(p: _Painter, look: _Look, body: _Body) -> None:
    """A shadow on the ground under the figure, and a stool under a sitter."""
    H = body.H
    feet = [body.p[i] for i in (L_ANKLE, R_ANKLE) if body.has[i]]
    seat = _seat(body)
    xs = [f[0] for f in feet] + ([seat[0]] if seat is not None else [])
    if xs:
        cx = (min(xs) + max(xs)) / 2 - 0.25 * H * look.light[0]
        rx = (max(xs) - min(xs)) / 2 + 0.12 * H
        p.shade(_ellipse(np.array([cx, body.ground - 0.005]), np.array([1.0, 0.0]), rx, 0.025 * H),
                (0.55, 0.55, 0.6))
    if seat is not None:
        top = seat[1] + 0.045 * H
        w = (0.13 + 0.14 * (1.0 - body.profile)) * H  # seen from the front, wider than the lap
        block = np.array([[seat[0] - w, top], [seat[0] + w, top], [seat[0] + w * 0.92, body.ground],
                          [seat[0] - w * 0.92, body.ground]])
        wood = look.stool
        p.fill(block, wood * 0.8)  # a wooden box seat and its lit top
        p.fill(np.array([[seat[0] - w * 1.05, top - 0.01 * H], [seat[0] + w * 1.05, top - 0.01 * H],
                         [seat[0] + w * 1.05, top + 0.03 * H], [seat[0] - w * 1.05, top + 0.03 * H]]), wood)


def _seat(body: _Body) -> np.ndarray | None:
    """Where a sitter's hips rest (thighs near level, shins hanging down), or None."""
    sits = []
    for hip, knee, ankle in _LEGS.values():
        if not body.ok(hip, knee, ankle):
            continue
        thigh = body.p[knee] - body.p[hip]
        shin = body.p[ankle] - body.p[knee]
        level = abs(thigh[1]) < 0.55 * np.hypot(*thigh) or np.hypot(*thigh) < 0.12 * body.H
        sits.append(level and shin[1] > 0.12 * body.H and body.p[hip, 1] < body.ground - 0.2 * body.H)
    if not sits or not all(sits):
        return None
    hips = body.mid(L_HIP, R_HIP)
    knees = body.mid(L_KNEE, R_KNEE)
    back = hips - 0.35 * (knees - hips) if knees is not None else hips
    return np.array([back[0], hips[1]])


# ----------------------------------------------------------------------------- shapes


def _ellipse(centre: np.ndarray, axis: np.ndarray, a: float, b: float, n: int = 20) -> np.ndarray:
    """Points of an ellipse with semi-axis `a` along unit vector `axis` and `b` across it."""
    t = np.linspace(0, _TAU, n, endpoint=False)
    across = np.array([-axis[1], axis[0]])
    return centre + np.outer(a * np.cos(t), axis) + np.outer(b * np.sin(t), across)


def _capsule(a: np.ndarray, b: np.ndarray, ra: float, rb: float, n: int = 10) -> np.ndarray:
    """A tapered capsule from `a` (radius `ra`) to `b` (radius `rb`)."""
    d = b - a
    length = float(np.hypot(*d))
    axis = d / length if length > 1e-9 else np.array([0.0, 1.0])
    across = np.array([-axis[1], axis[0]])
    t = np.linspace(-math.pi / 2, math.pi / 2, n)
    end_b = b + rb * (np.outer(np.cos(t), axis) + np.outer(np.sin(t), across))
    end_a = a + ra * (np.outer(-np.cos(t), axis) + np.outer(-np.sin(t), across))
    return np.concatenate([end_b, end_a])


def _hull(pts: np.ndarray) -> np.ndarray:
    """Convex hull of 2D points, counter-clockwise (monotone chain)."""
    pts = np.unique(np.round(pts, 6), axis=0)
    if len(pts) < 3:
        return pts

    def half(points: np.ndarray) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        for q in points:
            while len(out) >= 2 and _turn(out[-2], out[-1], q) <= 0:
                out.pop()
            out.append(q)
        return out

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


def _turn(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """Twice the signed area of triangle abc (> 0 for a left turn)."""
    return float((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))


def _smooth(pts: np.ndarray, rounds: int = 2) -> np.ndarray:
    """Chaikin corner cutting of a closed polygon."""
    for _ in range(rounds):
        nxt = np.roll(pts, -1, axis=0)
        pts = np.stack([0.75 * pts + 0.25 * nxt, 0.25 * pts + 0.75 * nxt], 1).reshape(-1, 2)
    return pts


def _shaded(p: _Painter, shape: Callable[[np.ndarray, float], np.ndarray], colour: Color,
            light: np.ndarray, r: float) -> None:
    """Paint a rounded form: in shadow colour, then its lit part shifted towards the light."""
    p.fill(shape(np.zeros(2), 1.0), colour * 0.7)
    p.fill(shape(light * r * 0.3, 0.72), colour)
    p.fill(shape(light * r * 0.62, 0.3), np.clip(colour * 1.14 + 0.025, 0, 1))


def _limb(p: _Painter, a: np.ndarray, b: np.ndarray, ra: float, rb: float, colour: Color,
          light: np.ndarray) -> None:
    """A shaded tapered limb segment."""
    _shaded(p, lambda off, k: _capsule(a + off, b + off, ra * k, rb * k), colour, light, (ra + rb) / 2)


# ----------------------------------------------------------------------------- the figure


def _draw_figure(p: _Painter, look: _Look, body: _Body, rng: np.random.Generator) -> None:
    """Paint the figure back to front: hidden and far limbs, legs, clothes, head, near arms."""
    ops: list[tuple[float, Callable[[], None]]] = []
    near = np.sign(body.facing) if body.profile > 0.45 else 0.0
    # A figure facing the image's right in profile turns its right side (-1) to the viewer.
    near_side = -near if not body.back else near
    # (limbs, draw op, depth keys: hidden, far, near); arms in front of the body, legs behind it
    for limbs, op, keys in ((_LEGS, _leg_op, (10, 20, 21)), (_ARMS, _arm_op, (11, 25, 50))):
        for side, joints in limbs.items():
            for seg in range(2):
                a, b = joints[seg], joints[seg + 1]
                if not body.ok(a, b):
                    continue
                far = near_side != 0 and side != near_side
                tone = _HIDDEN if body.hidden(a, b) else _FAR if far else 1.0
                key = keys[0] if tone == _HIDDEN else keys[1] if far else keys[2]
                ops.append((key + 0.1 * seg, op(p, look, body, joints, seg, tone)))
    if look.hair_style == "long" or (look.hair_style == "curly" and look.hair_length > 1.9):
        ops.append((38 if body.back else 5, lambda: _draw_long_hair(p, look, body)))
    ops.append((30, lambda: _draw_torso(p, look, body)))
    ops.append((40, lambda: _draw_head(p, look, body, rng)))
    for _, op in sorted(ops, key=lambda o: o[0]):
        op()


def _leg_op(p: _Painter, look: _Look, body: _Body, joints: tuple[int, int, int], seg: int,
            tone: float) -> Callable[[], None]:
    def draw() -> None:
        H, pts = body.H, body.p
        a, b = pts[joints[seg]], pts[joints[seg + 1]]
        ra, rb = _LEG_R[seg] * H, _LEG_R[seg + 1] * H
        skin = look.skin * tone
        covered = look.legs is not None
        colour = look.legs * tone if look.legs is not None else skin
        grow = 1.15 if covered else 1.0
        _limb(p, a, b, ra * grow, rb * grow, colour, look.light)
        if seg == 1:
            _draw_foot(p, look, body, joints, tone)
    return draw


def _draw_foot(p: _Painter, look: _Look, body: _Body, joints: tuple[int, int, int], tone: float) -> None:
    H = body.H
    knee, ankle = body.p[joints[1]], body.p[joints[2]]
    shin = ankle - knee
    down = shin / max(1e-9, float(np.hypot(*shin)))
    side = 1 if joints[0] == L_HIP else -1
    if body.profile > 0.35 and body.facing != 0:
        way = math.copysign(1.0, body.facing)
        length = 0.07 * H
    else:
        way = side * (-1 if body.back else 1)
        length = 0.045 * H
    across = np.array([-down[1], down[0]])
    if across[0] * way < 0:
        across = -across
    toe = 0.55 * across + 0.45 * down
    toe /= np.hypot(*toe)
    centre = ankle + down * 0.018 * H + toe * length * 0.45
    colour = (look.shoes if look.shoes is not None else look.skin * 0.95) * tone
    _shaded(p, lambda off, k: _ellipse(centre + off, toe, length * (0.55 + 0.45 * k), 0.022 * H * k, 16),
            colour, look.light, 0.02 * H)


def _arm_op(p: _Painter, look: _Look, body: _Body, joints: tuple[int, int, int], seg: int,
            tone: float) -> Callable[[], None]:
    def draw() -> None:
        H, pts = body.H, body.p
        a, b = pts[joints[seg]], pts[joints[seg + 1]]
        ra, rb = _ARM_R[seg] * H, _ARM_R[seg + 1] * H
        bare_arm = look.clothes == "drape" and joints[0] == (L_SHOULDER if look.hem > 1.55 else R_SHOULDER)
        sleeve = 0.0 if bare_arm else look.sleeves
        start = 0.0 if seg == 0 else 1.0
        cover = float(np.clip(2 * sleeve - start, 0.0, 1.0))  # how much of this segment the sleeve covers
        if cover < 1.0:
            _limb(p, a, b, ra, rb, look.skin * tone, look.light)
        if cover > 0.0:
            end = a + (b - a) * cover
            rc = ra + (rb - ra) * cover
            _limb(p, a, end, ra * (1.1 if seg == 0 else 1.2), rc * 1.25, look.cloth * tone, look.light)
        if seg == 1:
            fore = b - a
            fore = fore / max(1e-9, float(np.hypot(*fore)))
            centre = b + fore * 0.026 * H
            _shaded(p, lambda off, k: _ellipse(centre + off, fore, 0.032 * H * (0.6 + 0.4 * k), 0.017 * H * k, 14),
                    look.skin * tone, look.light, 0.015 * H)
    return draw


def _torso_shape(body: _Body) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Shoulder and hip centres and their half-width vectors (towards the subject's left)."""
    H = body.H
    ms, mh = body.mid(L_SHOULDER, R_SHOULDER), body.mid(L_HIP, R_HIP)
    if ms is None and mh is None:
        return None
    if mh is None:
        mh = ms + np.array([0.0, 0.3 * H])
    if ms is None:
        ms = mh - np.array([0.0, 0.3 * H])
    spine = ms - mh
    length = float(np.hypot(*spine))
    spine = spine / length if length > 1e-6 else np.array([0.0, -1.0])
    across = np.array([-spine[1], spine[0]])  # to the image's right when upright

    def halfwidth(a: int, b: int, least: float, extra: float) -> np.ndarray:
        hv = (body.p[a] - body.p[b]) / 2 if body.ok(a, b) else np.zeros(2)
        n = float(np.hypot(*hv))
        if n < least:
            direction = hv / n if n > 1e-6 else across
            hv = direction * least
            n = least
        return hv * (n + extra) / n

    hs = halfwidth(L_SHOULDER, R_SHOULDER, 0.07 * H, 0.6 * _ARM_R[0] * H)
    hh = halfwidth(L_HIP, R_HIP, 0.065 * H, 0.55 * _LEG_R[0] * H)
    return ms, hs, mh, hh


def _draw_torso(p: _Painter, look: _Look, body: _Body) -> None:
    """Chest and belly under the clothes, skirts and trousers' seat, neckline and belt."""
    shape = _torso_shape(body)
    if shape is None:
        return
    H = body.H
    ms, hs, mh, hh = shape
    up = ms - mh
    up = up / max(1e-6, float(np.hypot(*up)))
    waist = ms + (mh - ms) * 0.62
    hw = (hs + (hh - hs) * 0.62) * 0.86
    outline = np.array([ms + hs * 0.55 + up * 0.025 * H, ms + hs, waist + hw, mh + hh, mh - up * 0.045 * H,
                        mh - hh, waist - hw, ms - hs, ms - hs * 0.55 + up * 0.025 * H])
    torso = _smooth(outline)
    lit = look.light
    if look.clothes == "drape":  # the cloth over one shoulder, the other bare
        _shaded(p, lambda off, k: torso * 1.0 + off * k, look.skin, lit, 0.06 * H)
        bare = 1 if look.hem > 1.55 else -1
        sash = np.array([ms - bare * hs * 1.02 + up * 0.02 * H, ms - bare * hs * 0.2 + up * 0.01 * H,
                         ms + bare * hs * 0.6 - up * 0.12 * H, waist + bare * hw * 1.1, mh + bare * hh, mh - bare * hh,
                         waist - bare * hw * 1.05])
        top = _smooth(sash, 2)
    else:
        top = torso
    colour = look.cloth2 if look.clothes == "trousers" and look.sleeves == 0.0 else look.cloth
    _shaded(p, lambda off, k: _shrink(top, k) + off, colour, lit, 0.07 * H)
    if look.clothes == "trousers":
        _draw_seat(p, look, body, mh, hh)
    else:
        _draw_skirt(p, look, body, waist, hw, mh, hh)
    if not body.back and look.clothes in ("dress", "tunic", "robe"):
        neck = _ellipse(ms - up * 0.012 * H, np.array([1.0, 0.0]), 0.045 * H, 0.03 * H, 18)
        p.fill(neck, look.skin * 0.92)
        p.line(np.vstack([neck[9:], neck[:1]]), look.trim, 0.006 * H)
    if look.clothes in ("tunic", "robe") or (look.clothes == "trousers" and look.sleeves > 0):
        p.line(np.array([waist - hw * 1.02, waist + hw * 1.02]), look.trim * 0.8, 0.014 * H)
    if look.clothes == "coat" and not body.back:  # the opening down the front, and its buttons
        p.line(np.array([ms - up * 0.02 * H, waist, mh - up * 0.01 * H]), look.cloth * 0.55, 0.008 * H)
        for f in np.linspace(0.15, 0.85, 4):
            button = ms + (mh - ms) * f + hw * 0.12
            p.fill(_ellipse(button, np.array([1.0, 0.0]), 0.007 * H, 0.007 * H, 8), look.trim)
    folds = np.array([[ms + hs * 0.3 + up * -0.05 * H, waist + hw * 0.2],
                      [ms - hs * 0.35 - up * 0.06 * H, waist - hw * 0.3]])
    for a, b in folds:
        p.line(np.array([a, b]), colour * 0.86, 0.005 * H)


def _shrink(pts: np.ndarray, k: float) -> np.ndarray:
    centre = pts.mean(0)
    return centre + (pts - centre) * (0.55 + 0.45 * k)


def _leg_path(body: _Body, joints: tuple[int, int, int], upto: float, n: int = 6) -> list[np.ndarray]:
    """Points along a leg from the hip (0) over the knee (1) towards the ankle (2)."""
    out = []
    for t in np.linspace(0.0, upto, n):
        seg = min(1, int(t))
        a, b = joints[seg], joints[seg + 1]
        if not body.ok(a, b):
            break
        f = t - seg
        out.append((body.p[a] * (1 - f) + body.p[b] * f, t))
    return out


def _draw_skirt(p: _Painter, look: _Look, body: _Body, waist: np.ndarray, hw: np.ndarray,
                mh: np.ndarray, hh: np.ndarray) -> None:
    """Cloth from the waist over both legs down to the hem, flaring as it falls."""
    H = body.H
    flare = {"dress": 0.05, "tunic": 0.015, "coat": 0.025, "robe": 0.03, "drape": 0.03}[look.clothes] * H
    pts = [waist + hw, waist - hw, mh + hh * 1.05, mh - hh * 1.05]
    for joints in _LEGS.values():
        for q, t in _leg_path(body, joints, look.hem):
            r = (_LEG_R[0] + (_LEG_R[1] - _LEG_R[0]) * min(t, 1)) * H * 1.25 + flare * t
            pts += [q + np.array([r, 0.0]), q - np.array([r, 0.0]), q + np.array([0.0, 0.3 * r])]
    hull = _smooth(_hull(np.array(pts)), 1)
    _shaded(p, lambda off, k: _shrink(hull, k) + off, look.cloth, look.light, 0.08 * H)
    hem = hull[hull[:, 1] > np.percentile(hull[:, 1], 80)]
    if len(hem) > 1 and look.trim is not None:
        p.line(hem[np.argsort(hem[:, 0])], look.trim * 0.9, 0.008 * H)


def _draw_seat(p: _Painter, look: _Look, body: _Body, mh: np.ndarray, hh: np.ndarray) -> None:
    """The top of the trousers, joining both legs under the shirt."""
    H = body.H
    pts = [mh + hh * 1.05, mh - hh * 1.05]
    for joints in _LEGS.values():
        for q, t in _leg_path(body, joints, 0.3, 3):
            r = _LEG_R[0] * H * 1.15
            pts += [q + np.array([r, 0.0]), q - np.array([r, 0.0]), q + np.array([0.0, r])]
    hull = _smooth(_hull(np.array(pts)), 1)
    _shaded(p, lambda off, k: _shrink(hull, k) + off, look.cloth2, look.light, 0.06 * H)
    if look.sleeves > 0:  # a shirt hanging over the waistband
        band = np.array([mh + hh * 1.08, mh - hh * 1.08])
        p.line(band, look.cloth * 0.8, 0.02 * H)


def _draw_long_hair(p: _Painter, look: _Look, body: _Body) -> None:
    """Hair falling behind the head to the shoulders (over the back when seen from behind)."""
    h = body.head
    end = look.hair_length
    back = -0.4 * math.copysign(1.0, h.turn) * min(1.0, abs(h.turn)) if h.turn else 0.0
    t = np.linspace(math.pi, _TAU, 16)
    top = h.pts(1.12 * np.cos(t) + 0.3 * back, -0.05 + 1.1 * np.sin(t))
    sides = h.pts(np.array([1.15, 1.3, 1.35, 0.5, -0.5, -1.35, -1.3, -1.15]) + back,
                  np.array([0.4, 1.1, end, end + 0.15, end + 0.15, end, 1.1, 0.4]))
    p.fill(np.concatenate([top, sides]), look.hair * 0.8)


def _draw_head(p: _Painter, look: _Look, body: _Body, rng: np.random.Generator) -> None:
    """Neck, head, ears, face and hair."""
    h, H = body.head, body.H
    neck_base = body.mid(L_SHOULDER, R_SHOULDER)
    chin = h.pts(0.15 * h.turn, 0.6)[0]
    if neck_base is not None:
        base = neck_base + (chin - neck_base) * 0.1
        _limb(p, base, chin, 0.027 * H, 0.024 * H, look.skin * 0.9, look.light)
    t = np.linspace(0, _TAU, 40, endpoint=False)
    lower = np.clip(np.sin(t), 0, 1)
    u = np.cos(t) * (1 - 0.2 * lower) + 0.25 * h.turn * lower ** 2
    skull = h.pts(u, np.sin(t))
    _shaded(p, lambda off, k: _shrink(skull, k) + off, look.skin, look.light, h.ry)
    for i in (L_EAR, R_EAR):
        if body.v[i] == 2:
            ear = body.p[i]
            p.fill(_ellipse(ear, np.array([math.sin(-h.tilt), math.cos(h.tilt)]), 0.02 * H, 0.011 * H, 12),
                   look.skin * 0.86)
    if not body.back:
        _draw_face(p, look, body)
    _draw_hair(p, look, body, rng)


def _draw_face(p: _Painter, look: _Look, body: _Body) -> None:
    """Eyes and brows at the eye keypoints, the nose, the mouth; a few tones."""
    h, H = body.head, body.H
    down = np.array([-math.sin(h.tilt), math.cos(h.tilt)])
    right = np.array([down[1], -down[0]])
    p.shade(h.ellipse(-0.5 * (1 if look.light[0] > 0 else -1) + 0.3 * h.turn, 0.2, 0.55, 0.9), (0.78, 0.76, 0.8))
    for i in (L_EYE, R_EYE):
        if body.v[i] != 2:
            continue
        eye = body.p[i]
        p.fill(_ellipse(eye, right, 0.0085 * H, 0.0055 * H, 10), _c(236, 228, 214) * 0.8)
        p.fill(_ellipse(eye + right * 0.0015 * H * h.turn, right, 0.0048 * H, 0.0048 * H, 8), _c(34, 24, 20))
        brow = eye - down * 0.016 * H
        p.line(np.array([brow - right * 0.011 * H, brow + right * 0.011 * H]),
               look.hair * 0.7 + look.skin * 0.3, 0.0045 * H)
    nose = body.p[NOSE] if body.v[NOSE] == 2 else h.pts(0.55 * h.turn, 0.25)[0]
    tip = np.array([nose, nose - right * 0.012 * H * math.copysign(1.0, h.turn or 1.0) - down * 0.005 * H,
                    nose - down * 0.03 * H])
    p.fill(tip, look.skin * 0.8)
    p.fill(_ellipse(nose + down * 0.003 * H, right, 0.009 * H, 0.005 * H, 10), look.skin * 0.78)
    mouth = nose + down * 0.024 * H - right * 0.004 * H * h.turn
    w = 0.012 * H * (1 - 0.4 * abs(h.turn))
    p.line(np.array([mouth - right * w, mouth + right * w]), look.skin * np.array([0.7, 0.45, 0.45]), 0.005 * H)


def _draw_hair(p: _Painter, look: _Look, body: _Body, rng: np.random.Generator) -> None:
    """Hair over the skull in the sitter's style; seen from behind, it covers the whole head."""
    h = body.head
    style = look.hair_style
    if body.back:
        t = np.linspace(math.pi - 0.45, _TAU + 0.45, 24)
        cap = h.pts(1.07 * np.cos(t), -0.02 + 1.06 * np.sin(t))
        p.fill(cap, look.hair)
    else:
        a = min(1.0, abs(h.turn))
        sign = 1.0 if h.turn >= 0 else -1.0
        scale = 1.15 if style == "curly" else 1.04 if style == "cropped" else 1.1
        tb, tf = math.pi - 0.15 - 0.9 * a, _TAU + 0.12 - 0.6 * a
        t = np.linspace(tb, tf, 24)
        outer = np.stack([scale * np.cos(t), -0.08 + scale * 1.04 * np.sin(t)], -1)
        s = np.linspace(0, 1, 12)[:, None]
        start, end = outer[-1] * 0.92, outer[0] * 0.92
        ctrl = np.array([0.0, -0.85]) * (1 - a) + np.array([-0.2, 0.1]) * a
        line = (1 - s) ** 2 * start + 2 * s * (1 - s) * ctrl + s**2 * end
        cap = np.concatenate([outer, line])
        p.fill(h.pts(cap[:, 0] * sign, cap[:, 1]), look.hair)
    if style == "bun":
        bu = -0.5 * math.copysign(1.0, h.turn) if h.turn else 0.0
        p.fill(h.ellipse(bu, -0.95, 0.42, 0.32, 16), look.hair * 0.92)
    elif style == "curly":
        for _ in range(14):
            t = rng.uniform(math.pi - 0.2, _TAU + 0.2)
            p.fill(h.circle(1.05 * math.cos(t), 1.02 * math.sin(t), h.ry * 0.17, 10),
                   look.hair * rng.uniform(0.8, 1.2))
    for _ in range(5):
        r = rng.uniform(0.7, 1.0)
        t0 = rng.uniform(math.pi + 0.3, _TAU - 0.8)
        t = np.linspace(t0, t0 + 0.6, 5)
        lit = rng.random() < 0.5
        col = np.clip(look.hair * (1.4 if lit else 0.65) + (0.04 if lit else 0.0), 0, 1)
        p.line(h.pts(r * np.cos(t), -0.05 + r * np.sin(t)), col, h.ry * 0.05)


# ----------------------------------------------------------------------------- light


def _lit(p: _Painter, look: _Look, body: _Body) -> np.ndarray:
    """Downsample the drawing, apply the soft tones (shadows) and a pool of light on the figure."""
    size, low = p.size, p.low
    img = np.asarray(p.color.reduce(2), dtype=np.float32) * np.float32(1 / 255)
    tones = _blur(p.soft, max(0.6, low * 0.012))
    tones = np.asarray(Image.fromarray(tones.astype(np.uint8)).resize((size, size), Image.Resampling.BILINEAR),
                       dtype=np.float32) * np.float32(1 / 128)
    xx, yy = _grid(size)
    cx, cy = body.centre + look.light * 0.12
    spot = np.exp(-((xx - cx) ** 2 / 0.25 + (yy - cy) ** 2 / 0.5))
    return img * tones * (0.72 + 0.38 * spot)[..., None]
