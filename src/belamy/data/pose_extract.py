"""Poses from photographs: MediaPipe's BlazePose (the optional `pose` extra), mapped to COCO-17.

MediaPipe is imported lazily, only when a pose is extracted; without the extra every entry point
says, in one line, how to install it. BlazePose finds one person per image and returns 33
landmarks; 17 of them are COCO's keypoints, one to one (`BLAZEPOSE_TO_COCO`). BlazePose's "left"
is the subject's left, as in COCO. Its x and y are fractions of the image's width and height.

Visibility: BlazePose gives every landmark a position and a `visibility` score, the model's
estimate that the landmark is in the frame and not occluded. A score of at least
`VISIBLE_THRESHOLD` (0.5: more likely seen than not; MediaPipe's own drawing code uses the same
cut) becomes COCO's v = 2 (visible). Below it, a landmark inside the image becomes v = 1 (labelled
but hidden: the position is the model's guess, as a COCO annotator's for an occluded joint), and
one outside the image becomes v = 0 (not labelled).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Self

import numpy as np

from belamy.core.errors import BelamyError
from belamy.data.pose import NUM_KEYPOINTS

MISSING_EXTRA = "pose extraction needs the optional 'pose' extra: pip install 'belamy[pose]'"

# COCO-17 keypoint i is BlazePose landmark BLAZEPOSE_TO_COCO[i] (nose 0; eyes 2, 5 (the eye
# centres, not the inner or outer corners); ears 7, 8; shoulders 11, 12; elbows 13, 14; wrists 15,
# 16; hips 23, 24; knees 25, 26; ankles 27, 28).
BLAZEPOSE_TO_COCO: tuple[int, ...] = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
BLAZEPOSE_LANDMARKS = 33
VISIBLE_THRESHOLD = 0.5
MODEL_COMPLEXITY = 1  # pose_landmark_full.tflite, shipped in the wheel (the heavy model, 2, is a download)
MIN_DETECTION_CONFIDENCE = 0.5


def load_mediapipe() -> Any:
    """`mediapipe`, or a one-line `BelamyError` saying how to install the extra."""
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's native log lines, below errors
    try:
        import mediapipe
    except ImportError:
        raise BelamyError(MISSING_EXTRA) from None
    return mediapipe


def coco_from_landmarks(landmarks: Sequence[Any], threshold: float = VISIBLE_THRESHOLD) -> np.ndarray:
    """BlazePose's 33 landmarks (objects with x, y, visibility; x, y fractions of the image) -> a
    COCO-17 pose (17, 3) float32 in the same fractions, v by the rule in the module docstring."""
    if len(landmarks) != BLAZEPOSE_LANDMARKS:
        raise BelamyError(f"expected {BLAZEPOSE_LANDMARKS} BlazePose landmarks, got {len(landmarks)}")
    out = np.zeros((NUM_KEYPOINTS, 3), dtype=np.float32)
    for i, j in enumerate(BLAZEPOSE_TO_COCO):
        lm = landmarks[j]
        x, y, vis = float(lm.x), float(lm.y), float(getattr(lm, "visibility", 0.0))
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        if vis >= threshold:
            v = 2
        elif 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0:
            v = 1
        else:
            continue
        out[i] = (x, y, v)
    return out


class PoseExtractor:
    """One BlazePose model, reused for many images; a context manager (closes the graph)."""

    def __init__(self) -> None:
        mp = load_mediapipe()
        self.version = str(getattr(mp, "__version__", "?"))
        self._pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=MODEL_COMPLEXITY,
                                            enable_segmentation=False,
                                            min_detection_confidence=MIN_DETECTION_CONFIDENCE)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._pose.close()

    def extract(self, rgb: np.ndarray) -> np.ndarray | None:
        """An (H, W, 3) uint8 RGB image -> its person's COCO-17 pose in fractions of the image
        (x of the width, y of the height), or None if no person was found."""
        img = np.ascontiguousarray(rgb, dtype=np.uint8)
        if img.ndim != 3 or img.shape[2] != 3:
            raise BelamyError(f"pose extraction: image shape {img.shape} is not (H, W, 3) RGB")
        result = self._pose.process(img)
        if result.pose_landmarks is None:
            return None
        return coco_from_landmarks(result.pose_landmarks.landmark)

    def info(self) -> dict[str, Any]:
        return {"extractor": "mediapipe.solutions.pose (BlazePose)", "mediapipe": self.version,
                "model_complexity": MODEL_COMPLEXITY, "min_detection_confidence": MIN_DETECTION_CONFIDENCE,
                "visible_threshold": VISIBLE_THRESHOLD}
