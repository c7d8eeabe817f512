"""A procedural pose sampler: varied, anatomically possible people in the COCO-17 convention.

Each pose is a small 3D skeleton posed by forward kinematics and seen by a turning camera:

- Proportions in head heights (H), adult, varied by body type (slender, broad, curvy, stocky,
  long-legged) and by individual jitter: torso (mid-hip to mid-shoulder) about 2.2 H, upper arm
  1.4 H, forearm 1.1 H, thigh and shin about 1.85 H each, shoulders 1.5-1.95 H and hips 1.05-1.4 H
  wide (segment ratios after Drillis & Contini's anthropometric tables).
- Joint limits: elbows and knees flex one way only (elbow 0-150 degrees, knee 0-140), the upper
  arm and the thigh move within their cones (an arm rises up to 175 degrees in front or to the
  side but only 60 behind, a thigh 125 forward, 60 to the side, 45 behind) and turn about their
  own axis within the humerus's and femur's rotation ranges; the spine leans, bends sideways and
  twists a little; the head turns up to 50 degrees, nods and tilts.
- Pose families: standing (contrapposto, arms hanging, on hips, folded, at the face), walking
  (a stride phase with counter-swinging arms), sitting (on a chair, legs crossed or not, or on the
  floor with knees up or legs out),
  reaching (up, sideways or down to the floor) and dancing (free arms, a raised leg, arabesques,
  pliés, bends).
- The camera turns around the figure (`max_yaw`) and looks a little up or down (`pitch`); the
  projection is orthographic. Joints behind the torso or the far side of the head are marked
  hidden (v = 1); face points of a figure seen from behind are not labelled (v = 0), as COCO's
  annotators leave them; `occlusion` is the chance that a limb joint is also hidden by something.
- The result is normalised with `belamy.data.pose.normalise`.

Pose i of a run depends only on (seed, i): each has its own numpy Generator seeded with both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from belamy.core.config import bounds, check_fields
from belamy.core.errors import BelamyError
from belamy.data.pose import NUM_KEYPOINTS, normalise

FAMILIES = ("standing", "walking", "sitting", "reaching", "dancing")


@dataclass
class PoseSamplerConfig:
    """How `sample_poses` draws people; the defaults give a varied set of full figures."""

    families: str = ",".join(FAMILIES)  # comma-separated pose families to draw from (equally often)
    height: float = field(default=0.8, metadata=bounds(0.1, 1.0))  # normalised box size (pose.normalise)
    max_yaw: float = field(default=180.0, metadata=bounds(0.0, 180.0))  # degrees the camera turns round the figure
    pitch: float = field(default=12.0, metadata=bounds(0.0, 30.0))  # camera elevation range, +- degrees
    variation: float = field(default=1.0, metadata=bounds(0.0, 1.5))  # body-proportion jitter (0: archetypes only)
    occlusion: float = field(default=0.1, metadata=bounds(0.0, 1.0))  # chance a limb joint is hidden by an object
    self_occlusion: bool = True  # mark joints behind the body hidden (v = 1)

    def validate(self) -> None:
        check_fields(self, "pose sampler config")
        names = self.family_list()
        if not names:
            raise BelamyError(f"pose sampler config: families is empty: choose from {', '.join(FAMILIES)}")
        unknown = [n for n in names if n not in FAMILIES]
        if unknown:
            raise BelamyError(f"pose sampler config: unknown family '{unknown[0]}': choose from {', '.join(FAMILIES)}")

    def family_list(self) -> list[str]:
        return [n.strip() for n in self.families.split(",") if n.strip()]


def sample_poses(n: int, seed: int, cfg: PoseSamplerConfig | None = None, start: int = 0) -> np.ndarray:
    """`n` poses as float32 (n, 17, 3) in canvas units: poses start .. start+n-1 of `seed`."""
    cfg = cfg or PoseSamplerConfig()
    cfg.validate()
    if not isinstance(n, int) or n < 0:
        raise BelamyError(f"sample_poses: n={n!r} must be a whole number >= 0")
    if not isinstance(seed, int) or seed < 0:
        raise BelamyError(f"sample_poses: seed={seed!r} must be a whole number >= 0")
    families = cfg.family_list()
    out = np.zeros((n, NUM_KEYPOINTS, 3), dtype=np.float32)
    for k in range(n):
        rng = np.random.default_rng([seed, start + k])
        out[k] = normalise(_one_pose(rng, cfg, families), height=cfg.height)
    return out


# ----------------------------------------------------------------------------- geometry
def _rx(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _ry(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rz(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def _axis_angle(axis: np.ndarray, a: float) -> np.ndarray:
    axis = axis / np.linalg.norm(axis)
    x, y, z = axis
    K = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.eye(3) + math.sin(a) * K + (1 - math.cos(a)) * (K @ K)


D = math.radians
# Body frame: x the subject's left, y up, z forward (the way the figure faces).
_X, _Y, _Z = np.eye(3)


def _limb(side: int, elev: float, plane: float, twist: float, bend: float, flex_rest: np.ndarray,
          outward: int) -> tuple[np.ndarray, np.ndarray]:
    """Directions (in the parent's frame) of an upper and a lower limb bone.

    The upper bone hangs straight down at rest and is raised by `elev` degrees (0 down, 90
    horizontal, 180 up) in the vertical plane at `plane` degrees (0 out to the side, 90 forward,
    180 across the body, -90 behind); it is carried there by the shortest rotation, which also
    carries the joint's rest flexion direction `flex_rest` (forward for an elbow, backward for a
    knee). `twist` turns the bone about its own axis (positive: external rotation, which turns an
    elbow's flexion outward and a knee's inward, `outward` = +1 or -1), and the lower bone is bent
    `bend` degrees from the upper one's line toward the resulting flexion direction."""
    e, p = D(elev), D(plane)
    d = np.array([side * math.cos(p) * math.sin(e), -math.cos(e), math.sin(p) * math.sin(e)])
    if e < 1e-6:
        R = np.eye(3)
    else:
        R = _axis_angle(np.array([-math.sin(p), 0.0, side * math.cos(p)]), e)
    f0 = R @ flex_rest
    lat = side * (R @ _X)
    t = D(twist)
    f = math.cos(t) * f0 + outward * math.sin(t) * lat
    b = D(bend)
    return d, math.cos(b) * d + math.sin(b) * f


# ----------------------------------------------------------------------------- the body
_BODY_TYPES = {
    # torso, shoulders, hips, upper arm, forearm, thigh, shin (head heights)
    "average": (2.20, 1.72, 1.18, 1.40, 1.10, 1.85, 1.84),
    "slender": (2.15, 1.58, 1.08, 1.42, 1.12, 1.92, 1.90),
    "broad": (2.28, 1.92, 1.20, 1.42, 1.12, 1.86, 1.84),
    "curvy": (2.15, 1.56, 1.36, 1.36, 1.06, 1.80, 1.78),
    "stocky": (2.30, 1.84, 1.30, 1.32, 1.04, 1.72, 1.70),
    "long-legged": (2.10, 1.66, 1.16, 1.44, 1.14, 2.00, 1.98),
}


@dataclass
class _Body:
    torso: float
    shoulders: float
    hips: float
    upper_arm: float
    forearm: float
    thigh: float
    shin: float


def _body(rng: np.random.Generator, variation: float) -> _Body:
    names = sorted(_BODY_TYPES)
    base = np.array(_BODY_TYPES[names[int(rng.integers(len(names)))]])
    jitter = np.clip(rng.normal(0.0, 0.03 * variation, size=7), -0.06, 0.06)
    limb = float(np.clip(rng.normal(0.0, 0.025 * variation), -0.05, 0.05))  # long or short limbs overall
    vals = base * (1 + jitter)
    vals[3:] *= 1 + limb
    return _Body(*(float(v) for v in vals))


@dataclass
class _Pose3:
    """Joint parameters of one pose (degrees), per side where a side is involved (left, right)."""

    root_pitch: float = 0.0  # pelvis tilted forward
    root_roll: float = 0.0  # pelvis tilted toward the subject's left
    lean: float = 0.0  # spine forward
    side_bend: float = 0.0  # spine toward the subject's left
    twist: float = 0.0  # chest turned toward the subject's left
    head_yaw: float = 0.0
    head_pitch: float = 0.0  # nod down
    head_roll: float = 0.0
    arms: list = field(default_factory=lambda: [(10.0, 45.0, 0.0, 10.0)] * 2)  # (elev, plane, twist, bend)
    legs: list = field(default_factory=lambda: [(3.0, 45.0, 0.0, 3.0)] * 2)


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _arm_clamped(elev: float, plane: float, twist: float, bend: float) -> tuple[float, float, float, float]:
    """The shoulder's and elbow's ranges: behind the body an arm rises at most 60 degrees, across
    the body at most 110; the humerus turns 70 in and 90 out; the elbow bends 0-150."""
    plane = float(np.clip(plane, -90.0, 160.0))
    if plane < -15.0:
        elev = min(elev, 60.0)
    elif plane > 120.0:
        elev = min(elev, 110.0)
    return (float(np.clip(elev, 0.0, 175.0)), plane, float(np.clip(twist, -70.0, 90.0)),
            float(np.clip(bend, 0.0, 150.0)))


# How high a thigh may rise (degrees) in each plane: 45 behind, 60 to the side, 125 forward, 70 across.
_HIP_CAPS = ((-90.0, 45.0), (-30.0, 45.0), (0.0, 60.0), (45.0, 95.0), (90.0, 125.0), (100.0, 125.0), (115.0, 70.0))


def _leg_clamped(elev: float, plane: float, twist: float, bend: float) -> tuple[float, float, float, float]:
    """The hip's and knee's ranges: a thigh rises 125 degrees forward, 60 to the side, 45 behind and
    70 across the other (`_HIP_CAPS`); the femur turns 35 in and 45 out; the knee bends 0-140."""
    plane = float(np.clip(plane, -90.0, 115.0))
    cap = float(np.interp(plane, *zip(*_HIP_CAPS)))
    return (float(np.clip(elev, 0.0, cap)), plane, float(np.clip(twist, -35.0, 45.0)),
            float(np.clip(bend, 0.0, 140.0)))


def _hanging_arm(rng: np.random.Generator) -> tuple[float, float, float, float]:
    return (_u(rng, 4, 20), _u(rng, -30, 80), _u(rng, -20, 30), _u(rng, 2, 30))


def _standing_arm(rng: np.random.Generator) -> tuple[float, float, float, float]:
    kind = rng.choice(["hang", "hang", "hips", "folded", "face", "hold", "pocket"])
    if kind == "hips":  # hand on the hip, elbow out
        return (_u(rng, 35, 50), _u(rng, -15, 15), _u(rng, -70, -55), _u(rng, 95, 120))
    if kind == "folded":  # arms folded across the chest
        return (_u(rng, 15, 30), _u(rng, 70, 95), _u(rng, -70, -55), _u(rng, 110, 135))
    if kind == "face":  # hand to the chin or the hair
        return (_u(rng, 30, 70), _u(rng, 60, 100), _u(rng, -30, 10), _u(rng, 125, 148))
    if kind == "hold":  # holding something in front (a phone, a cup)
        return (_u(rng, 10, 30), _u(rng, 70, 95), _u(rng, -40, 0), _u(rng, 70, 100))
    if kind == "pocket":  # hand in the pocket / behind
        return (_u(rng, 5, 15), _u(rng, -60, 10), _u(rng, -20, 20), _u(rng, 20, 50))
    return _hanging_arm(rng)


def _family_standing(rng: np.random.Generator) -> _Pose3:
    q = _Pose3(lean=_u(rng, -5, 10), side_bend=_u(rng, -6, 6), twist=_u(rng, -12, 12),
               root_roll=_u(rng, -4, 4))
    support = (_u(rng, 0, 6), _u(rng, -20, 40), _u(rng, -10, 20), _u(rng, 0, 8))
    free = (_u(rng, 3, 22), _u(rng, -40, 110), _u(rng, -20, 35), _u(rng, 0, 35))
    q.legs = [support, free] if rng.random() < 0.5 else [free, support]
    q.arms = [_standing_arm(rng), _standing_arm(rng)]
    return q


def _family_walking(rng: np.random.Generator) -> _Pose3:
    phase = _u(rng, 0, 2 * math.pi)
    stride = _u(rng, 18, 34)
    q = _Pose3(lean=_u(rng, 0, 10), side_bend=_u(rng, -4, 4), root_roll=_u(rng, -3, 3))
    legs, arms = [], []
    for k in range(2):
        ph = phase + k * math.pi
        swing = stride * math.sin(ph)  # + forward, - behind
        # the knee bends most while the leg swings through (phase just past the back position)
        knee = 5 + 55 * max(0.0, math.sin(ph + 0.6 * math.pi)) ** 2 + _u(rng, 0, 6)
        legs.append((abs(swing), 90.0 if swing >= 0 else -90.0 + _u(rng, 0, 15),
                     _u(rng, -5, 15), knee))
        arm = -0.7 * swing + _u(rng, -5, 5)
        arms.append((abs(arm) + _u(rng, 3, 8), (90.0 if arm >= 0 else -80.0) + _u(rng, -15, 10),
                     _u(rng, -10, 20), _u(rng, 8, 25) + (25.0 if arm > 0 else 0.0) * _u(rng, 0, 1)))
        if rng.random() < 0.15:  # carrying something, hand at the face, in the pocket
            arms[-1] = _standing_arm(rng)
    q.legs, q.arms = legs, arms
    q.twist = -0.25 * stride * math.sin(phase) + _u(rng, -4, 4)
    return q


def _family_sitting(rng: np.random.Generator) -> _Pose3:
    q = _Pose3(lean=_u(rng, -15, 25), side_bend=_u(rng, -8, 8), twist=_u(rng, -15, 15))
    if rng.random() < 0.7:  # on a chair
        legs = []
        for _ in range(2):
            legs.append((_u(rng, 70, 100), _u(rng, 65, 98), _u(rng, -15, 20), _u(rng, 65, 110)))
        r = rng.random()
        if r < 0.25:  # one leg stretched out
            k = int(rng.integers(2))
            legs[k] = (_u(rng, 55, 80), _u(rng, 75, 95), _u(rng, -5, 15), _u(rng, 10, 40))
        elif r < 0.45:  # legs crossed: one thigh over the other, its shin hanging
            k = int(rng.integers(2))
            legs[k] = (_u(rng, 88, 108), _u(rng, 100, 112), _u(rng, -20, -5), _u(rng, 60, 95))
        q.legs = legs
    elif rng.random() < 0.5:  # on the floor, knees up: the pelvis rolls back, the back rounds forward
        q.root_pitch = _u(rng, -25, -10)
        q.lean = _u(rng, 10, 35)
        q.legs = [(_u(rng, 105, 122), _u(rng, 78, 98), _u(rng, -10, 15), _u(rng, 85, 120)) for _ in range(2)]
    else:  # on the floor, legs out in front
        q.root_pitch = _u(rng, -15, 0)
        q.lean = _u(rng, 0, 30)
        q.legs = [(_u(rng, 80, 100) + q.root_pitch, _u(rng, 80, 98), _u(rng, -10, 20), _u(rng, 0, 30))
                  for _ in range(2)]
    arms = []
    for _ in range(2):
        kind = rng.choice(["lap", "lap", "rest", "face", "hang", "back"])
        if kind == "lap":
            arms.append((_u(rng, 15, 40), _u(rng, 55, 90), _u(rng, -45, 0), _u(rng, 40, 90)))
        elif kind == "rest":  # on an armrest or the knee
            arms.append((_u(rng, 15, 35), _u(rng, 40, 80), _u(rng, -20, 20), _u(rng, 70, 100)))
        elif kind == "face":
            arms.append((_u(rng, 35, 70), _u(rng, 70, 100), _u(rng, -30, 10), _u(rng, 125, 148)))
        elif kind == "back":  # leaning back on the hands
            arms.append((_u(rng, 20, 45), _u(rng, -60, -20), _u(rng, -10, 20), _u(rng, 0, 15)))
        else:
            arms.append(_hanging_arm(rng))
    q.arms = arms
    return q


def _family_reaching(rng: np.random.Generator) -> _Pose3:
    kind = rng.choice(["up", "up", "side", "down"])
    if kind == "down":  # reaching down to the floor: bend at the hips and knees
        q = _Pose3(root_pitch=_u(rng, 20, 55), lean=_u(rng, 10, 35), side_bend=_u(rng, -10, 10),
                   twist=_u(rng, -15, 15), head_pitch=_u(rng, -25, 10))
        knee = _u(rng, 10, 80)
        hip = q.root_pitch + knee * 0.5
        q.legs = [(hip + _u(rng, -5, 5), _u(rng, 70, 95), _u(rng, -5, 20), knee + _u(rng, -5, 5)) for _ in range(2)]
        reach = [(_u(rng, 50, 110), _u(rng, 70, 100), _u(rng, -20, 20), _u(rng, 0, 30)) for _ in range(2)]
        q.arms = reach if rng.random() < 0.5 else [reach[0], _hanging_arm(rng)]
        return q
    q = _Pose3(lean=_u(rng, -12, 10), twist=_u(rng, -15, 15), head_pitch=_u(rng, -30, 5))
    k = int(rng.integers(2))
    if kind == "up":
        reach = (_u(rng, 120, 172), _u(rng, 20, 110), _u(rng, -10, 40), _u(rng, 0, 35))
    else:
        reach = (_u(rng, 70, 110), _u(rng, -5, 40), _u(rng, -10, 40), _u(rng, 0, 25))
    side_sign = 1 if k == 0 else -1  # bend toward the reaching arm (left is +)
    q.side_bend = side_sign * _u(rng, 0, 15)
    other = reach if rng.random() < 0.35 else _standing_arm(rng)
    q.arms = [reach, other] if k == 0 else [other, reach]
    q.legs = [(_u(rng, 0, 8), _u(rng, -20, 60), _u(rng, -10, 20), _u(rng, 0, 8)),
              (_u(rng, 0, 25), _u(rng, -60, 100), _u(rng, -10, 30), _u(rng, 0, 30))]
    if rng.random() < 0.5:
        q.legs.reverse()
    return q


def _family_dancing(rng: np.random.Generator) -> _Pose3:
    q = _Pose3(lean=_u(rng, -15, 20), side_bend=_u(rng, -20, 20), twist=_u(rng, -20, 20),
               root_roll=_u(rng, -8, 8), head_pitch=_u(rng, -25, 20), head_roll=_u(rng, -15, 15))
    q.arms = [(_u(rng, 30, 172), _u(rng, -20, 140), _u(rng, -40, 80), _u(rng, 0, 110)) for _ in range(2)]
    kind = rng.choice(["kick", "side", "arabesque", "plie", "step"])
    support = (_u(rng, 0, 6), _u(rng, -20, 60), _u(rng, -5, 25), _u(rng, 0, 15))
    if kind == "kick":
        free = (_u(rng, 40, 100), _u(rng, 75, 100), _u(rng, -10, 30), _u(rng, 0, 100))
    elif kind == "side":
        free = (_u(rng, 30, 58), _u(rng, 0, 35), _u(rng, 10, 45), _u(rng, 0, 70))
    elif kind == "arabesque":
        tilt = _u(rng, 10, 30)
        q.root_pitch = tilt
        q.lean = _u(rng, -10, 5)
        support = (tilt + _u(rng, -3, 3), 90.0, _u(rng, 0, 25), _u(rng, 0, 10))
        free = (_u(rng, 20, 45), _u(rng, -90, -70), _u(rng, 10, 40), _u(rng, 0, 40))
    elif kind == "plie":  # both knees bent and turned out
        support = (_u(rng, 25, 45), _u(rng, 20, 45), _u(rng, 30, 45), _u(rng, 40, 80))
        free = (_u(rng, 25, 45), _u(rng, 20, 45), _u(rng, 30, 45), _u(rng, 40, 80))
    else:
        free = (_u(rng, 10, 40), _u(rng, -60, 110), _u(rng, -10, 40), _u(rng, 10, 90))
    q.legs = [support, free] if rng.random() < 0.5 else [free, support]
    return q


_FAMILY_FNS = {"standing": _family_standing, "walking": _family_walking, "sitting": _family_sitting,
               "reaching": _family_reaching, "dancing": _family_dancing}


# ----------------------------------------------------------------------------- posing and seeing
# The head's landmarks relative to the top of the neck, in the head's frame (head heights).
_HEAD = {0: (0.0, 0.26, 0.50), 1: (0.16, 0.40, 0.42), 2: (-0.16, 0.40, 0.42),
         3: (0.34, 0.33, -0.02), 4: (-0.34, 0.33, -0.02)}


def _one_pose(rng: np.random.Generator, cfg: PoseSamplerConfig, families: list[str]) -> np.ndarray:
    """One pose in head-height units, image axes (x right, y down), COCO visibility."""
    body = _body(rng, cfg.variation)
    q = _FAMILY_FNS[families[int(rng.integers(len(families)))]](rng)
    if not q.head_yaw:
        q.head_yaw = _u(rng, -50, 50) if rng.random() < 0.6 else _u(rng, -15, 15)
    if not q.head_pitch:
        q.head_pitch = _u(rng, -15, 20)
    if not q.head_roll:
        q.head_roll = _u(rng, -10, 10)
    if rng.random() < 0.5:  # either side may lead
        q.arms, q.legs = q.arms[::-1], q.legs[::-1]
        q.side_bend, q.twist, q.head_yaw, q.head_roll, q.root_roll = \
            -q.side_bend, -q.twist, -q.head_yaw, -q.head_roll, -q.root_roll

    pts = np.zeros((NUM_KEYPOINTS, 3))
    R_root = _rz(-D(q.root_roll)) @ _rx(D(q.root_pitch))
    R_chest = R_root @ _ry(D(q.twist)) @ _rz(-D(q.side_bend)) @ _rx(D(q.lean))
    neck = R_chest @ np.array([0.0, body.torso, 0.0])
    sides = {+1: (5, 7, 9, 11, 13, 15), -1: (6, 8, 10, 12, 14, 16)}
    for k, side in enumerate((+1, -1)):
        s, e, w, h, kn, a = sides[side]
        elev, plane, tw, bend = _arm_clamped(*q.arms[k])
        d_up, d_low = _limb(side, elev, plane, tw, bend, _Z, +1)
        shrug = 0.18 * max(0.0, elev - 90.0) / 90.0  # the shoulder rises with an arm raised high
        pts[s] = neck + R_chest @ np.array([side * body.shoulders / 2, shrug, 0.0])
        pts[e] = pts[s] + body.upper_arm * (R_chest @ d_up)
        pts[w] = pts[e] + body.forearm * (R_chest @ d_low)
        elev, plane, tw, bend = _leg_clamped(*q.legs[k])
        d_up, d_low = _limb(side, elev, plane, tw, bend, -_Z, -1)
        pts[h] = R_root @ np.array([side * body.hips / 2, 0.0, 0.0])
        pts[kn] = pts[h] + body.thigh * (R_root @ d_up)
        pts[a] = pts[kn] + body.shin * (R_root @ d_low)
    R_head = R_chest @ _rx(D(-0.4 * q.lean)) @ _ry(D(q.head_yaw)) @ _rx(D(q.head_pitch)) @ _rz(-D(q.head_roll))
    top_of_neck = neck + R_chest @ np.array([0.0, 0.45, 0.0])
    for i, offset in _HEAD.items():
        pts[i] = top_of_neck + R_head @ np.array(offset)

    # the camera turns round the figure and looks slightly up or down
    # most pictures show people from the front half; the rest from anywhere
    span = cfg.max_yaw if rng.random() < 0.3 else min(cfg.max_yaw, 70.0)
    yaw = _u(rng, -span, span)
    pitch = _u(rng, -cfg.pitch, cfg.pitch)
    R_cam = _rx(D(pitch)) @ _ry(D(-yaw))
    cam = pts @ R_cam.T  # x right, y up, z toward the viewer
    v = np.full(NUM_KEYPOINTS, 2.0)
    if cfg.self_occlusion:
        v = _visibility(cam, R_cam @ R_root, R_cam @ R_chest, R_cam @ R_head, body)
    if cfg.occlusion > 0 and rng.random() < cfg.occlusion:
        limb_joints = np.array([7, 8, 9, 10, 13, 14, 15, 16])
        for j in rng.choice(limb_joints, size=int(rng.integers(1, 3)), replace=False):
            v[j] = min(v[j], 1.0)
    pose = np.zeros((NUM_KEYPOINTS, 3))
    pose[:, 0] = cam[:, 0]
    pose[:, 1] = -cam[:, 1]
    pose[:, 2] = v
    return pose


def _visibility(cam: np.ndarray, R_root: np.ndarray, R_chest: np.ndarray, R_head: np.ndarray,
                body: _Body) -> np.ndarray:
    """COCO visibility of camera-space joints: hidden (1) behind the torso or the head, not labelled
    (0) for face points of a head seen from behind."""
    v = np.full(NUM_KEYPOINTS, 2.0)
    fwd = R_head @ _Z
    if fwd[2] < -0.5:  # the face turned away: annotators do not label what they cannot see
        v[[0, 1, 2]] = 0.0
    elif fwd[2] < -0.1:
        v[[0, 1, 2]] = 1.0
    for i, side in ((1, 1), (2, -1), (3, 1), (4, -1)):
        if v[i] and (R_head @ (side * _X))[2] < -0.55:  # the far eye or ear, behind the head
            v[i] = 1.0
    # the far shoulder and hip in a side view
    for i, R, side in ((5, R_chest, 1), (6, R_chest, -1), (11, R_root, 1), (12, R_root, -1)):
        if (R @ (side * _X))[2] < -0.75:
            v[i] = 1.0
    # limb joints behind the torso (a box from the hips to the shoulders, a head deep)
    R = R_chest
    inv = R.T
    hip_mid = (cam[11] + cam[12]) / 2
    half = np.array([body.shoulders / 2 - 0.1, body.torso / 2, 0.45])
    centre = hip_mid + R @ np.array([0.0, body.torso / 2, 0.0])
    ray = inv @ np.array([0.0, 0.0, 1.0])
    for i in (7, 8, 9, 10, 13, 14, 15, 16):
        o = inv @ (cam[i] - centre)
        if np.all(np.abs(o) < half):
            continue  # inside the torso box: touching the body, treat as seen
        if _ray_hits_box(o, ray, half):
            v[i] = 1.0
    return v


def _ray_hits_box(o: np.ndarray, d: np.ndarray, half: np.ndarray) -> bool:
    t0, t1 = 0.0, math.inf
    for k in range(3):
        if abs(d[k]) < 1e-9:
            if abs(o[k]) > half[k]:
                return False
            continue
        a, b = (-half[k] - o[k]) / d[k], (half[k] - o[k]) / d[k]
        lo, hi = min(a, b), max(a, b)
        t0, t1 = max(t0, lo), min(t1, hi)
        if t0 > t1:
            return False
    return True
