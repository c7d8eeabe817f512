"""Human poses as data: the one keypoint convention every belamy module shares.

The convention (keep it: the figure painter, the stick renderer, the COCO importer and the learned
pose sampler all rely on it):

- Keypoints in COCO-17 order, `KEYPOINTS` (nose, eyes, ears, shoulders, elbows, wrists, hips,
  knees, ankles; left before right). "Left" is the subject's left: for a figure facing the viewer
  the left joints are on the image's right.
- One pose is a float32 array of shape (17, 3): x, y, v. x and y are normalised canvas units, 0..1
  of a square canvas, x to the right and y down. v is COCO's visibility: 0 not labelled, 1 labelled
  but hidden, 2 visible. An unlabelled keypoint (v = 0) has x = y = 0, as in COCO, and means
  nothing: always test v before using a position.
- N poses: (N, 17, 3).

`normalise` turns any pose (pixel coordinates of a photo, a 3D skeleton's projection) into canvas
units, and `plausible` says whether a pose is one a human body can take, as seen in a 2D picture.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from belamy.core.errors import BelamyError

KEYPOINTS: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)
NUM_KEYPOINTS = len(KEYPOINTS)
INDEX: dict[str, int] = {name: i for i, name in enumerate(KEYPOINTS)}

# COCO's person skeleton (its 1-based `skeleton` field, made 0-based), in COCO's order.
SKELETON: tuple[tuple[int, int], ...] = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8),
    (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)
# Left/right keypoints that swap places when a pose is mirrored.
FLIP_PAIRS: tuple[tuple[int, int], ...] = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))
FLIP_INDEX = np.arange(NUM_KEYPOINTS)
for _a, _b in FLIP_PAIRS:
    FLIP_INDEX[_a], FLIP_INDEX[_b] = _b, _a

# Labelled positions of a normalised pose lie in this range (a little room around the canvas).
COORD_RANGE = (-0.5, 1.5)

# The bones `bone_lengths` measures: name -> (from, to) keypoint indices.
BONES: dict[str, tuple[int, int]] = {
    "left_upper_arm": (5, 7), "right_upper_arm": (6, 8),
    "left_forearm": (7, 9), "right_forearm": (8, 10),
    "left_thigh": (11, 13), "right_thigh": (12, 14),
    "left_shin": (13, 15), "right_shin": (14, 16),
    "shoulders": (5, 6), "hips": (11, 12),
    "left_torso": (5, 11), "right_torso": (6, 12),
}


# ----------------------------------------------------------------------------- validation
def check_pose(arr: Any, where: str = "pose") -> np.ndarray:
    """A valid normalised pose as float32 (17, 3), or one `BelamyError` line naming the problem.

    Valid: shape (17, 3), every value finite, v in {0, 1, 2}, and every labelled keypoint's x, y
    within `COORD_RANGE` (canvas units with room around the canvas)."""
    try:
        p = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError):
        raise BelamyError(f"{where}: not an array of numbers: a pose is 17 rows of x, y, v") from None
    if p.shape != (NUM_KEYPOINTS, 3):
        raise BelamyError(f"{where}: shape {p.shape} is not (17, 3): a pose is 17 COCO keypoints of x, y, v")
    _check_values(p[None], where, single=True)
    return p.astype(np.float32)


def check_poses(arr: Any, where: str = "poses") -> np.ndarray:
    """`check_pose` for an (N, 17, 3) array; the error names the first bad pose."""
    try:
        p = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError):
        raise BelamyError(f"{where}: not an array of numbers: poses are (N, 17, 3) x, y, v") from None
    if p.ndim != 3 or p.shape[1:] != (NUM_KEYPOINTS, 3):
        raise BelamyError(f"{where}: shape {p.shape} is not (N, 17, 3): poses are N x 17 COCO keypoints of x, y, v")
    _check_values(p, where, single=False)
    return p.astype(np.float32)


def _check_values(p: np.ndarray, where: str, single: bool) -> None:
    def name(i: int) -> str:
        return where if single else f"{where}: pose {i}"

    finite = np.isfinite(p).all(axis=(1, 2))
    if not finite.all():
        i = int(np.argmin(finite))
        k = int(np.argwhere(~np.isfinite(p[i]).all(axis=1))[0, 0])
        raise BelamyError(f"{name(i)}: {KEYPOINTS[k]} is not a finite number (NaN or infinity)")
    v = p[..., 2]
    bad_v = ~np.isin(v, (0.0, 1.0, 2.0))
    if bad_v.any():
        i, k = (int(x) for x in np.argwhere(bad_v)[0])
        raise BelamyError(f"{name(i)}: {KEYPOINTS[k]} has visibility {v[i, k]:g}: v must be 0 (not labelled), "
                          f"1 (hidden) or 2 (visible)")
    lo, hi = COORD_RANGE
    xy = p[..., :2]
    out = (v > 0) & ((xy < lo) | (xy > hi)).any(axis=-1)
    if out.any():
        i, k = (int(x) for x in np.argwhere(out)[0])
        raise BelamyError(f"{name(i)}: {KEYPOINTS[k]} at ({xy[i, k, 0]:g}, {xy[i, k, 1]:g}) is outside "
                          f"{lo}..{hi}: normalise poses to canvas units first (belamy.data.pose.normalise)")


# ----------------------------------------------------------------------------- normalisation
def normalise(pose: Any, height: float = 0.8, mirror: bool = False) -> np.ndarray:
    """A pose (or N poses) in any units -> canvas units, centred and scaled; float32.

    The box around the labelled keypoints (v > 0) is centred at (0.5, 0.5) and scaled uniformly so
    that its longer side is `height` canvas units: a standing figure is `height` tall, a lying one
    `height` wide, and with height <= 1 every figure fits the canvas. (The box is that of the
    keypoints: the head reaches a little above the eyes, the feet a little below the ankles.)
    `mirror` then flips the figure left to right: x -> 1 - x and the left and right keypoints swap
    names, so the result is again a valid pose. Unlabelled keypoints become (0, 0, 0).

    One-line `BelamyError` if a pose has fewer than two distinct labelled keypoints."""
    if not (isinstance(height, (int, float)) and 0 < height <= 1.5):
        raise BelamyError(f"normalise: height={height!r} must be in (0, 1.5] canvas units")
    p = np.array(pose, dtype=np.float64)
    single = p.ndim == 2
    if single:
        p = p[None]
    if p.ndim != 3 or p.shape[1:] != (NUM_KEYPOINTS, 3):
        raise BelamyError(f"normalise: shape {np.shape(pose)} is not (17, 3) or (N, 17, 3)")
    lab = p[..., 2] > 0
    xy = p[..., :2]
    lo = np.where(lab[..., None], xy, np.inf).min(axis=1)
    hi = np.where(lab[..., None], xy, -np.inf).max(axis=1)
    with np.errstate(invalid="ignore"):
        extent = (hi - lo).max(axis=1)
    bad = ~(np.isfinite(extent) & (extent > 0))
    if bad.any():
        i = int(np.argmax(bad))
        where = "pose" if single else f"pose {i}"
        raise BelamyError(f"normalise: {where} has fewer than two distinct labelled keypoints: it cannot be scaled")
    centre = (lo + hi) / 2
    out = np.empty_like(p)
    out[..., :2] = (xy - centre[:, None, :]) * (height / extent)[:, None, None] + 0.5
    out[..., 2] = p[..., 2]
    if mirror:
        out[..., 0] = 1.0 - out[..., 0]
        out = out[:, FLIP_INDEX]
    out[out[..., 2] <= 0] = 0.0
    out = out.astype(np.float32)
    return out[0] if single else out


def mirror(pose: Any) -> np.ndarray:
    """A canvas-units pose (or N poses) flipped left to right, left and right keypoints swapped."""
    p = np.array(pose, dtype=np.float32)
    p[..., 0] = np.where(p[..., 2] > 0, 1.0 - p[..., 0], 0.0)
    return p[..., FLIP_INDEX, :]


# ----------------------------------------------------------------------------- measurements
def _xy(pose: np.ndarray, i: int) -> np.ndarray | None:
    return pose[i, :2].astype(np.float64) if pose[i, 2] > 0 else None


def _mid(pose: np.ndarray, i: int, j: int) -> np.ndarray | None:
    a, b = _xy(pose, i), _xy(pose, j)
    return None if a is None or b is None else (a + b) / 2


def _dist(a: np.ndarray | None, b: np.ndarray | None) -> float:
    return math.nan if a is None or b is None else float(np.hypot(*(b - a)))


def bone_lengths(pose: Any) -> dict[str, float]:
    """Length of each of `BONES` (and `neck`: mid-shoulder to nose) in the pose's units; NaN where
    an end is not labelled. A 2D length: a bone pointing at the camera looks short."""
    p = np.asarray(pose)
    out = {name: _dist(_xy(p, i), _xy(p, j)) for name, (i, j) in BONES.items()}
    out["neck"] = _dist(_mid(p, 5, 6), _xy(p, 0))
    return out


def _signed_angle(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Degrees turning from direction a to direction b, in (-180, 180]; positive is clockwise on
    screen (image y points down)."""
    if a is None or b is None or not (np.any(a) and np.any(b)):
        return math.nan
    cross = a[0] * b[1] - a[1] * b[0]
    return math.degrees(math.atan2(cross, float(a @ b)))


def _vec(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    return None if a is None or b is None else b - a


def joint_angles(pose: Any) -> dict[str, float]:
    """2D joint angles in degrees (NaN where a keypoint is missing), each a signed turn in
    (-180, 180], positive clockwise on screen:

    - `left_elbow`, `right_elbow`, `left_knee`, `right_knee`: the bend, from the upper bone's
      direction to the lower one's (0 straight).
    - `left_shoulder`, `right_shoulder`, `left_hip`, `right_hip`: from the torso's down direction
      (mid-shoulder to mid-hip) to the upper arm or thigh (0 hanging along the torso).
    - `neck`: from the torso's up direction to mid-shoulder -> nose.
    - `torso`: from the image's up direction to the torso's up direction (0 upright).
    """
    p = np.asarray(pose)
    P = {i: _xy(p, i) for i in range(NUM_KEYPOINTS)}
    sh, hp = _mid(p, 5, 6), _mid(p, 11, 12)
    down = _vec(sh, hp)
    up = None if down is None else -down
    out: dict[str, float] = {}
    for side, (s, e, w, h, k, a) in {"left": (5, 7, 9, 11, 13, 15), "right": (6, 8, 10, 12, 14, 16)}.items():
        out[f"{side}_elbow"] = _signed_angle(_vec(P[s], P[e]), _vec(P[e], P[w]))
        out[f"{side}_knee"] = _signed_angle(_vec(P[h], P[k]), _vec(P[k], P[a]))
        out[f"{side}_shoulder"] = _signed_angle(down, _vec(P[s], P[e]))
        out[f"{side}_hip"] = _signed_angle(down, _vec(P[h], P[k]))
    out["neck"] = _signed_angle(up, _vec(sh, P[0]))
    out["torso"] = _signed_angle(np.array([0.0, -1.0]), up)
    return out


# ----------------------------------------------------------------------------- plausibility
# Typical adult bone lengths as fractions of the torso (mid-shoulder to mid-hip), from
# anthropometric segment tables (Drillis & Contini; stature ~7.5 heads, torso ~2.2 heads) with
# COCO's keypoint placement: used to tell a bone in the image plane from a foreshortened one.
TYPICAL = {"upper_arm": 0.62, "forearm": 0.50, "thigh": 0.84, "shin": 0.83}
# The most a bone may measure in 2D, as a fraction of the torso scale S (about 1.6x typical: people
# differ, annotators differ, a lens enlarges what is near it, a torso leaning toward the camera
# looks short; a 2D bone may look shorter than it is, never much longer).
MAX_RATIO = {"upper_arm": 1.0, "forearm": 0.85, "thigh": 1.4, "shin": 1.4, "neck": 0.75,
             "eye_nose": 0.30, "ear_nose": 0.40, "eyes": 0.30, "ears": 0.45}
# The torso scale S is the largest of: torso length, shoulder width / 0.7, hip width / 0.5 (the
# usual adult ratios), so a torso leaning toward the camera does not make every limb look too long.
SHOULDERS_PER_TORSO = 0.7
HIPS_PER_TORSO = 0.5
MIN_LONGEST_LIMB = 0.3  # of S: not every one of (at least 4) labelled limb bones can be foreshortened
TORSO_ACROSS = 0.25  # of S: shoulder and hip lines this far across the spine say which way they face
# Views, by how wide the shoulders and hips look (of S), with the torso at least 0.7 S long:
SIDE_VIEW = (0.30, 0.25)  # a side view: shoulders < 0.3 S and hips < 0.25 S wide
TURNED_VIEW = (0.45, 0.35)  # a side or three-quarter view (the body turned at least ~55 degrees)
FACING_MIN = 0.06  # nose this far (of S) to one side of the ears says which way the figure faces
IN_PLANE = 0.7  # a bone at least 0.7x its typical length lies roughly in the image plane
MAX_BACK_BEND = {"knee": 25.0, "elbow": 30.0}  # degrees a joint may seem to bend the wrong way
ELBOW_JUDGED_WITHIN = 50.0  # elbows are judged while the upper arm hangs within 50 degrees of the torso
ARM_BEHIND = (100.0, 150.0)  # an upper arm may not point this far behind the torso (degrees)
THIGH_BEHIND = (120.0, 170.0)  # nor a thigh
CHECKS = ("proportions", "head", "torso", "elbows", "knees", "limbs")


class _Frame:
    """The torso's measures of a pose with both shoulders and both hips labelled."""

    def __init__(self, P: dict[int, np.ndarray | None]) -> None:
        self.sh, self.hp = (P[5] + P[6]) / 2, (P[11] + P[12]) / 2
        self.torso = float(np.hypot(*(self.sh - self.hp)))
        self.sw, self.hw = _dist(P[5], P[6]), _dist(P[11], P[12])
        self.S = max(self.torso, self.sw / SHOULDERS_PER_TORSO, self.hw / HIPS_PER_TORSO)

    def facing(self, P: dict[int, np.ndarray | None], view: tuple[float, float]) -> int:
        ears = [P[i] for i in (3, 4) if P[i] is not None]
        if P[0] is None or not ears or self.S <= 0 or self.torso < 0.7 * self.S \
                or self.sw >= view[0] * self.S or self.hw >= view[1] * self.S:
            return 0
        up = (self.sh - self.hp) / self.torso
        side = _cross(up, P[0] - np.mean(ears, axis=0)) / self.S  # > 0: nose clockwise of up
        return 0 if abs(side) < FACING_MIN else (1 if side > 0 else -1)


def _points(p: np.ndarray) -> dict[int, np.ndarray | None]:
    return {i: _xy(p, i) for i in range(NUM_KEYPOINTS)}


def plausible(pose: Any) -> dict[str, bool]:
    """Whether a 2D pose is one an adult body can take: one boolean per check of `CHECKS`, and
    `ok` (all of them). A check that cannot be judged (its keypoints are not labelled, or the view
    hides what it measures) passes. Nothing here needs the pose's units: lengths are relative to
    the torso scale S (the largest of torso length, shoulder width / 0.7 and hip width / 0.5);
    without both shoulders and both hips nothing is judged.

    - proportions: every labelled limb bone is at most `MAX_RATIO` x S (upper arm 1.0, forearm
      0.85, thigh and shin 1.4; typically 0.5-0.85), and with at least 4 limb bones labelled the
      longest is at least 0.3 S (a huge torso on tiny limbs).
    - head: nose within 0.75 S of mid-shoulder; eyes within 0.3 S and ears within 0.4 S of the
      nose; eyes at most 0.3 S and ears 0.45 S apart.
    - torso: the shoulder line and the hip line cross the spine the same way round (judged when
      both reach at least 0.25 S across it): a torso cannot twist half a turn.

    The joint checks need to know which way the body faces, which a 2D pose tells only when it is
    turned away from the camera: the head (nose at least 0.06 S to one side of the ears) gives the
    direction. In a front view a bend seen in 2D may point toward or away from the camera, so there
    they pass. A bone counts as in the image plane at >= 0.7x its typical length.
    - knees (side or three-quarter view: shoulders < 0.45 S, hips < 0.35 S wide): a knee with both
      bones in the image plane does not bend backwards by more than 25 degrees.
    - elbows (side view: shoulders < 0.3 S, hips < 0.25 S): an elbow with both bones in the image
      plane and its upper arm within 50 degrees of the torso's down direction does not bend
      backwards by more than 30 degrees. (A raised arm can be rotated so that its forearm drops
      either way, and in a three-quarter view a forearm across the chest looks bent backwards.)
    - limbs: a thigh in the image plane does not point 120-170 degrees behind the torso (beyond an
      arabesque; side or three-quarter view), nor an upper arm 100-150 degrees (swung up behind
      the back; beyond 150 it is an overhead reach; side view).
    """
    p = np.asarray(pose, dtype=np.float64)
    res = {name: True for name in CHECKS}
    P = _points(p)
    if any(P[i] is None for i in (5, 6, 11, 12)):
        return {**res, "ok": True}
    F = _Frame(P)
    S = F.S
    if S <= 0:
        return {**res, "ok": True}
    L = bone_lengths(p)

    # proportions
    limbs = {f"{s}_{b}": b for s in ("left", "right") for b in ("upper_arm", "forearm", "thigh", "shin")}
    lengths = [(L[name], kind) for name, kind in limbs.items() if not math.isnan(L[name])]
    res["proportions"] = all(v <= MAX_RATIO[kind] * S for v, kind in lengths) and \
        (len(lengths) < 4 or max(v for v, _ in lengths) >= MIN_LONGEST_LIMB * S)

    # head
    def near(d: float, limit: float) -> bool:
        return math.isnan(d) or d <= limit * S

    res["head"] = near(L["neck"], MAX_RATIO["neck"]) and \
        all(near(_dist(P[0], P[i]), MAX_RATIO["eye_nose"]) for i in (1, 2)) and \
        all(near(_dist(P[0], P[i]), MAX_RATIO["ear_nose"]) for i in (3, 4)) and \
        near(_dist(P[1], P[2]), MAX_RATIO["eyes"]) and near(_dist(P[3], P[4]), MAX_RATIO["ears"])

    # torso: shoulder line and hip line cross the spine the same way round
    if F.torso > 0:
        up = (F.sh - F.hp) / F.torso
        across_sh, across_hp = _cross(up, P[5] - P[6]), _cross(up, P[11] - P[12])
        if abs(across_sh) >= TORSO_ACROSS * S and abs(across_hp) >= TORSO_ACROSS * S:
            res["torso"] = across_sh * across_hp > 0

    turned, side_on = F.facing(P, TURNED_VIEW), F.facing(P, SIDE_VIEW)
    if turned:
        A = joint_angles(p)

        def in_plane(name: str, kind: str) -> bool:
            return not math.isnan(L[name]) and L[name] >= IN_PLANE * TYPICAL[kind] * S

        knees_ok = elbows_ok = limbs_ok = True
        for side in ("left", "right"):
            # flexion bends a knee clockwise on screen for a figure facing right (+1) ...
            if in_plane(f"{side}_thigh", "thigh") and in_plane(f"{side}_shin", "shin"):
                knees_ok &= -turned * A[f"{side}_knee"] <= MAX_BACK_BEND["knee"]
            # ... a thigh raised forward turns anticlockwise from the torso's down direction
            if in_plane(f"{side}_thigh", "thigh"):
                limbs_ok &= not (THIGH_BEHIND[0] < turned * A[f"{side}_hip"] < THIGH_BEHIND[1])
            if not side_on:
                continue
            # ... and so does an arm; an elbow bends anticlockwise
            shoulder = A[f"{side}_shoulder"]
            if in_plane(f"{side}_upper_arm", "upper_arm"):
                limbs_ok &= not (ARM_BEHIND[0] < side_on * shoulder < ARM_BEHIND[1])
                if in_plane(f"{side}_forearm", "forearm") and abs(shoulder) <= ELBOW_JUDGED_WITHIN:
                    elbows_ok &= side_on * A[f"{side}_elbow"] <= MAX_BACK_BEND["elbow"]
        res["knees"], res["elbows"], res["limbs"] = bool(knees_ok), bool(elbows_ok), bool(limbs_ok)
    res["ok"] = all(res[c] for c in CHECKS)
    return res


def _cross(a: np.ndarray, b: np.ndarray) -> float:
    return float(a[0] * b[1] - a[1] * b[0])


def facing(pose: Any, strict: bool = False) -> int:
    """Which way a turned figure faces: +1 if the front of the body is on the clockwise side of its
    up direction on screen (for an upright figure: facing image right), -1 the other way, 0 for a
    front or back view or when the head does not say (no nose, no ear, face turned to the camera).
    Turned: shoulders narrower than 0.45 and hips than 0.35 of the torso scale (`strict`: a side
    view, 0.3 and 0.25)."""
    p = np.asarray(pose, dtype=np.float64)
    P = _points(p)
    if any(P[i] is None for i in (5, 6, 11, 12)):
        return 0
    return _Frame(P).facing(P, SIDE_VIEW if strict else TURNED_VIEW)


def plausibility_rates(poses: Any) -> dict[str, float]:
    """The fraction of (N, 17, 3) poses passing each check of `plausible` (and `ok`): how a pose
    sampler is measured."""
    p = np.asarray(poses)
    if len(p) == 0:
        return {name: math.nan for name in (*CHECKS, "ok")}
    counts = dict.fromkeys((*CHECKS, "ok"), 0)
    for pose in p:
        for k, v in plausible(pose).items():
            counts[k] += int(v)
    return {k: counts[k] / len(p) for k in counts}
