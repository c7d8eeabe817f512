"""Stick figures of poses in the OpenPose style: what a pose-to-image model (pix2pix) is shown.

OpenPose (and the ControlNet and pix2pix pipelines trained on its pictures) draws the 18-point
COCO layout of its own: COCO-17 plus a neck, the midpoint of the shoulders, in the order
`OPENPOSE_KEYPOINTS`. Each of its 17 limbs has a fixed colour (`LIMB_COLOURS`, a hue wheel from
red through green and blue to magenta) and is drawn as a filled ellipse along the bone at 60% of
that colour; each joint is a disc in its own full colour (`JOINT_COLOURS`), drawn over the limbs.
Keeping those colours means stick figures made here can be read by models trained on OpenPose
renderings and the other way round.

Drawing is done with Pillow at `supersample` times the size and averaged down (a box filter), so
edges are antialiased and the result is a pure function of the pose and the config.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageColor, ImageDraw

from belamy.core.config import bounds, check_fields
from belamy.core.errors import BelamyError
from belamy.data.pose import check_pose

OPENPOSE_KEYPOINTS: tuple[str, ...] = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)
# OpenPose point -> COCO-17 index (-1: the neck, made from both shoulders).
COCO_TO_OPENPOSE = (0, -1, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3)
# OpenPose's limbs (0-based OpenPose points) in its drawing order.
OPENPOSE_LIMBS: tuple[tuple[int, int], ...] = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12),
    (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)
# OpenPose's 18 colours (RGB): joint k has colour k, limb k has colour k.
JOINT_COLOURS: tuple[tuple[int, int, int], ...] = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)
LIMB_COLOURS = JOINT_COLOURS[:len(OPENPOSE_LIMBS)]


@dataclass
class StickConfig:
    """How a pose is drawn; every field is also a `belamy poses render` option."""

    size: int = field(default=256, metadata=bounds(16, 4096))  # square image side in pixels
    thickness: float = field(default=0.02, metadata=bounds(0.001, 0.2))  # limb width, fraction of size
    joint: float = field(default=0.012, metadata=bounds(0.0, 0.2))  # joint disc radius, fraction of size
    background: str = "#000000"  # a colour name or hex
    hidden: bool = True  # draw keypoints labelled as hidden (v = 1) and their limbs
    limb_brightness: float = field(default=0.6, metadata=bounds(0.0, 1.0))  # OpenPose draws limbs at 60%
    supersample: int = field(default=4, metadata=bounds(1, 8))  # drawn this many times larger, then averaged

    def validate(self) -> None:
        check_fields(self, "stick config")
        self.background_rgb()

    def background_rgb(self) -> tuple[int, int, int]:
        try:
            rgb = ImageColor.getrgb(self.background)
        except (ValueError, AttributeError):
            raise BelamyError(f"--background '{self.background}' is not a colour: use a name (black) "
                              f"or hex (#000000)") from None
        return tuple(rgb[:3])  # type: ignore[return-value]


def openpose_points(pose: np.ndarray, hidden: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """COCO-17 pose -> OpenPose-18 points (18, 2) and whether each is drawn (18,) bool.

    The neck is the shoulders' midpoint, drawn when both shoulders are; with `hidden` False only
    visible keypoints (v = 2) are drawn."""
    p = np.asarray(pose, dtype=np.float64)
    show = p[:, 2] >= (1 if hidden else 2)
    pts = np.zeros((len(COCO_TO_OPENPOSE), 2))
    drawn = np.zeros(len(COCO_TO_OPENPOSE), dtype=bool)
    for k, c in enumerate(COCO_TO_OPENPOSE):
        if c >= 0:
            pts[k], drawn[k] = p[c, :2], show[c]
        else:
            pts[k], drawn[k] = (p[5, :2] + p[6, :2]) / 2, show[5] and show[6]
    return pts, drawn


def _ellipse(cx: float, cy: float, half_len: float, half_width: float, angle: float, n: int = 48):
    t = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    ca, sa = math.cos(angle), math.sin(angle)
    x, y = half_len * np.cos(t), half_width * np.sin(t)
    return list(zip((cx + ca * x - sa * y).tolist(), (cy + sa * x + ca * y).tolist()))


def render_stick(pose: np.ndarray, cfg: StickConfig | None = None) -> np.ndarray:
    """One pose (17, 3) in canvas units -> an OpenPose-style stick figure, (size, size, 3) uint8."""
    cfg = cfg or StickConfig()
    cfg.validate()
    p = check_pose(pose, "stick figure pose")
    ss = cfg.supersample
    big = cfg.size * ss
    im = Image.new("RGB", (big, big), cfg.background_rgb())
    draw = ImageDraw.Draw(im)
    pts, drawn = openpose_points(p, cfg.hidden)
    pts = pts * big
    half_width = max(0.5, cfg.thickness * big / 2)
    b = cfg.limb_brightness
    for (i, j), colour in zip(OPENPOSE_LIMBS, LIMB_COLOURS):
        if not (drawn[i] and drawn[j]):
            continue
        (x0, y0), (x1, y1) = pts[i], pts[j]
        length = math.hypot(x1 - x0, y1 - y0)
        poly = _ellipse((x0 + x1) / 2, (y0 + y1) / 2, max(length / 2, half_width), half_width,
                        math.atan2(y1 - y0, x1 - x0))
        draw.polygon(poly, fill=tuple(int(c * b) for c in colour))
    r = cfg.joint * big
    if r > 0:
        for k in range(len(pts)):
            if drawn[k]:
                x, y = pts[k]
                draw.ellipse((x - r, y - r, x + r, y + r), fill=JOINT_COLOURS[k])
    if ss > 1:
        im = im.resize((cfg.size, cfg.size), Image.Resampling.BOX)
    return np.asarray(im, dtype=np.uint8).copy()
