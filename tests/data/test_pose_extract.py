"""Pose extraction (`belamy poses extract`): the BlazePose -> COCO-17 mapping, the missing-extra
message, the API with a stand-in extractor, and (slow, only where mediapipe is installed) a real
extraction from a painted figure."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Self

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from belamy.core.errors import BelamyError
from belamy.data import pose_extract
from belamy.data.pose import KEYPOINTS
from belamy.data.pose_collection import PoseCollection
from belamy.data.pose_extract import (
    BLAZEPOSE_TO_COCO,
    MISSING_EXTRA,
    coco_from_landmarks,
)

# BlazePose's 33 landmark names, in its order (from MediaPipe's documentation of the pose model).
BLAZEPOSE_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)


def _landmarks(vis: float = 0.9) -> list[SimpleNamespace]:
    """A fake landmark list: landmark j at (j / 100, j / 50), every one with visibility `vis`."""
    return [SimpleNamespace(x=j / 100, y=j / 50, z=0.0, visibility=vis) for j in range(33)]


def test_mapping_is_coco_17_by_name() -> None:
    assert len(BLAZEPOSE_TO_COCO) == len(KEYPOINTS) == 17
    assert [BLAZEPOSE_NAMES[j] for j in BLAZEPOSE_TO_COCO] == list(KEYPOINTS)


def test_landmarks_map_to_their_keypoints() -> None:
    pose = coco_from_landmarks(_landmarks())
    assert pose.shape == (17, 3) and pose.dtype == np.float32
    for i, j in enumerate(BLAZEPOSE_TO_COCO):
        assert pose[i].tolist() == pytest.approx([j / 100, j / 50, 2])


def test_visibility_threshold() -> None:
    lms = _landmarks(vis=0.2)  # all below the threshold: hidden where inside the image
    lms[27] = SimpleNamespace(x=0.5, y=1.3, z=0.0, visibility=0.1)  # left ankle below the frame
    lms[28] = SimpleNamespace(x=0.5, y=1.3, z=0.0, visibility=0.5)  # right ankle: at the threshold, visible
    pose = coco_from_landmarks(lms)
    assert pose[0, 2] == 1 and pose[5, 2] == 1
    assert pose[15].tolist() == [0, 0, 0]
    assert pose[16].tolist() == pytest.approx([0.5, 1.3, 2])
    with pytest.raises(BelamyError, match="expected 33 BlazePose landmarks, got 17"):
        coco_from_landmarks(_landmarks()[:17])


@pytest.fixture
def no_mediapipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # `import mediapipe` raises ImportError


def test_missing_extra_is_one_line(no_mediapipe: None, tmp_path: Path) -> None:
    from belamy.api.poses import extract_poses
    from belamy.cli.main import app

    assert MISSING_EXTRA == "pose extraction needs the optional 'pose' extra: pip install 'belamy[pose]'"
    with pytest.raises(BelamyError) as exc:
        pose_extract.load_mediapipe()
    assert str(exc.value) == MISSING_EXTRA
    with pytest.raises(BelamyError, match="needs the optional 'pose' extra"):
        extract_poses([tmp_path / "a.png"], tmp_path / "poses")
    r = CliRunner().invoke(app, ["poses", "extract", str(tmp_path / "a.png"), "-o", str(tmp_path / "poses")])
    assert r.exit_code != 0  # `belamy.cli.main.main` prints a BelamyError as one line, no traceback
    assert isinstance(r.exception, BelamyError) and str(r.exception) == MISSING_EXTRA


class FakeExtractor:
    """Stands in for PoseExtractor: a person in every image whose top-left pixel is white."""

    def __init__(self) -> None:
        self.closed = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True

    def close(self) -> None:
        self.closed = True

    def extract(self, rgb: np.ndarray) -> np.ndarray | None:
        if rgb[0, 0, 0] != 255:
            return None
        return coco_from_landmarks(_landmarks())

    def info(self) -> dict[str, object]:
        return {"extractor": "fake", "mediapipe": "0"}


def test_extract_writes_a_collection_and_reports_no_person(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from belamy.api.poses import extract_poses

    monkeypatch.setattr(pose_extract, "load_mediapipe", lambda: None)
    monkeypatch.setattr(pose_extract, "PoseExtractor", FakeExtractor)
    files = []
    for name, colour in (("person.png", 255), ("empty.png", 0), ("person2.jpg", 255)):
        Image.new("RGB", (40, 80), (colour,) * 3).save(tmp_path / name)
        files.append(tmp_path / name)
    (tmp_path / "broken.png").write_bytes(b"not an image")
    files.append(tmp_path / "broken.png")
    coll = extract_poses(files, tmp_path / "poses", progress=False)
    assert len(PoseCollection.open(tmp_path / "poses")) == 2
    rep = coll.report or {}
    assert rep["seen"] == 4 and rep["kept"] == 2
    assert rep["no_person"] == [str(tmp_path / "empty.png")]
    assert list(rep["unreadable"]) == [str(tmp_path / "broken.png")]
    assert coll.meta["source"]["kind"] == "extract"
    assert coll.rows[0]["source"]["image"] == str(tmp_path / "person.png")
    lab = coll.poses[0][:, 2] > 0
    xy = coll.poses[0][lab, :2]
    assert np.ptp(xy, axis=0).max() == pytest.approx(0.8, abs=1e-4)  # normalised like `poses import`
    with pytest.raises(BelamyError, match="--min-visible"):
        extract_poses(files, tmp_path / "p2", min_visible=18)
    with pytest.raises(BelamyError, match="no pose found in 1 image"):
        extract_poses([tmp_path / "empty.png"], tmp_path / "p3", progress=False)


@pytest.mark.slow
def test_real_extraction_from_a_painted_figure(tmp_path: Path) -> None:
    pytest.importorskip("mediapipe")
    from belamy.api.poses import extract_poses
    from belamy.data.demo_figures import render_figure

    standing = np.array([
        (0.50, 0.20, 2), (0.515, 0.19, 2), (0.485, 0.19, 2), (0.535, 0.195, 2), (0.465, 0.195, 2),
        (0.59, 0.28, 2), (0.41, 0.28, 2), (0.62, 0.42, 2), (0.38, 0.42, 2), (0.63, 0.54, 2), (0.37, 0.54, 2),
        (0.565, 0.52, 2), (0.435, 0.52, 2), (0.57, 0.71, 2), (0.43, 0.71, 2), (0.57, 0.90, 2), (0.43, 0.90, 2)],
        dtype=np.float32)
    img = np.asarray(render_figure(standing, 0, 512).convert("RGB"))
    with pose_extract.PoseExtractor() as ex:
        found = ex.extract(img)
        assert found is not None and (found[:, 2] == 2).sum() >= 12
        ok = found[:, 2] > 0
        assert np.abs(found[ok, :2] - standing[ok, :2]).mean() < 0.05
        assert ex.extract(np.zeros((256, 256, 3), np.uint8)) is None
    Image.fromarray(img).save(tmp_path / "figure.png")
    Image.new("RGB", (256, 256)).save(tmp_path / "black.png")
    coll = extract_poses([tmp_path / "figure.png", tmp_path / "black.png"], tmp_path / "poses", progress=False)
    assert len(coll) == 1 and coll.report["no_person"] == [str(tmp_path / "black.png")]


def test_pairs_extract_poses_for_targets_without_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from conftest import pattern_collection

    from belamy.data.pairs import Pairs, derive_pairs

    class EveryOther(FakeExtractor):
        calls = 0

        def __init__(self) -> None:
            super().__init__()
            EveryOther.made = self

        def extract(self, rgb: np.ndarray) -> np.ndarray | None:
            EveryOther.calls += 1
            return coco_from_landmarks(_landmarks()) if EveryOther.calls % 2 else None

    coll = pattern_collection(tmp_path, count=6, side=40)
    monkeypatch.setattr(pose_extract, "PoseExtractor", EveryOther)
    pairs = derive_pairs(coll, tmp_path / "pairs", "pose")
    assert EveryOther.calls == 6 and EveryOther.made.closed
    assert len(Pairs.open(tmp_path / "pairs")) == 3 and pairs.meta["no_person"] == 3
    assert np.asarray(pairs.condition.images[0]).max() > 0  # a stick figure was drawn
