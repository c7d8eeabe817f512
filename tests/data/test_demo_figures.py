"""Demo figures: painted people over COCO-17 poses, reproducible, varied, and where the pose says."""

from __future__ import annotations

import json

import numpy as np
import pytest

from belamy.core.errors import BelamyError
from belamy.data import demo_figures
from belamy.data.collect import collect
from belamy.data.demo import DEMO_COLLECTIONS, _image_seed, iter_demo, iter_demo_items
from belamy.data.demo_figures import iter_figures, pose_values, render_figure
from belamy.data.pose import KEYPOINTS
from belamy.data.pose_sampler import sample_poses


def _pose(points: list[tuple[float, float, int]]) -> np.ndarray:
    return np.array(points, dtype=np.float32)


# x, y in canvas units, v: 0 not labelled, 1 hidden, 2 visible; COCO-17 order (see KEYPOINTS)
STANDING = _pose([
    (0.50, 0.20, 2), (0.515, 0.19, 2), (0.485, 0.19, 2), (0.535, 0.195, 2), (0.465, 0.195, 2),
    (0.59, 0.28, 2), (0.41, 0.28, 2), (0.62, 0.42, 2), (0.38, 0.42, 2), (0.63, 0.54, 2), (0.37, 0.54, 2),
    (0.565, 0.52, 2), (0.435, 0.52, 2), (0.57, 0.71, 2), (0.43, 0.71, 2), (0.57, 0.90, 2), (0.43, 0.90, 2)])
WALKING = _pose([  # in profile, facing the image's right: the right side is near, the left hidden
    (0.56, 0.20, 2), (0.545, 0.19, 1), (0.545, 0.19, 2), (0.50, 0.195, 1), (0.505, 0.195, 2),
    (0.505, 0.28, 1), (0.50, 0.28, 2), (0.55, 0.41, 1), (0.45, 0.41, 2), (0.60, 0.52, 2), (0.43, 0.53, 2),
    (0.505, 0.52, 1), (0.50, 0.52, 2), (0.46, 0.70, 2), (0.56, 0.70, 2), (0.40, 0.87, 2), (0.57, 0.90, 2)])
ARMS_RAISED = _pose([
    (0.50, 0.26, 2), (0.515, 0.25, 2), (0.485, 0.25, 2), (0.535, 0.255, 2), (0.465, 0.255, 2),
    (0.59, 0.34, 2), (0.41, 0.34, 2), (0.64, 0.21, 2), (0.36, 0.21, 2), (0.66, 0.08, 2), (0.34, 0.08, 2),
    (0.565, 0.57, 2), (0.435, 0.57, 2), (0.575, 0.74, 2), (0.425, 0.74, 2), (0.58, 0.91, 2), (0.42, 0.91, 2)])
SITTING = _pose([  # in profile facing the image's left, on a seat; the far ear is not labelled
    (0.40, 0.30, 2), (0.415, 0.29, 2), (0.415, 0.29, 1), (0.46, 0.295, 2), (0.0, 0.0, 0),
    (0.47, 0.38, 2), (0.475, 0.38, 1), (0.45, 0.52, 2), (0.455, 0.52, 1), (0.38, 0.58, 2), (0.385, 0.585, 1),
    (0.50, 0.62, 2), (0.505, 0.62, 1), (0.33, 0.63, 2), (0.335, 0.635, 1), (0.34, 0.80, 2), (0.345, 0.80, 1)])
BACK = _pose([  # seen from behind: the subject's left on the image's left, no face
    (0.0, 0.0, 0), (0.0, 0.0, 0), (0.0, 0.0, 0), (0.465, 0.195, 2), (0.535, 0.195, 2),
    (0.41, 0.28, 2), (0.59, 0.28, 2), (0.38, 0.42, 2), (0.62, 0.42, 2), (0.36, 0.53, 2), (0.64, 0.53, 2),
    (0.435, 0.52, 2), (0.565, 0.52, 2), (0.43, 0.71, 2), (0.57, 0.71, 2), (0.43, 0.90, 2), (0.57, 0.90, 2)])
POSES = {"standing": STANDING, "walking": WALKING, "arms_raised": ARMS_RAISED, "sitting": SITTING, "back": BACK}


def _pixels(img) -> np.ndarray:
    return np.asarray(img, dtype=np.float64)


def test_keypoints_are_coco_17() -> None:
    assert len(KEYPOINTS) == 17
    assert KEYPOINTS[0] == "nose" and KEYPOINTS[5] == "left_shoulder" and KEYPOINTS[16] == "right_ankle"


def test_same_pose_and_seed_give_identical_bytes() -> None:
    for pose in (STANDING, SITTING):
        assert render_figure(pose, 7, 64).tobytes() == render_figure(pose.copy(), 7, 64).tobytes()


@pytest.mark.parametrize("size", [16, 64, 100])
def test_size_and_mode(size: int) -> None:
    img = render_figure(WALKING, 3, size)
    assert img.mode == "RGB"
    assert img.size == (size, size)


@pytest.mark.parametrize("name", list(POSES))
def test_the_body_is_where_the_pose_says(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Painted with and without the figure: the pictures differ at every visible keypoint, not far off."""
    pose, size = POSES[name], 128
    for seed in (0, 2, 3):
        with_figure = _pixels(render_figure(pose, seed, size))
        with monkeypatch.context() as m:
            m.setattr(demo_figures, "_draw_figure", lambda *args: None)
            ground = _pixels(render_figure(pose, seed, size))
        diff = np.abs(with_figure - ground).sum(-1)  # 0..765
        near = []
        for k in np.flatnonzero(pose[:, 2] == 2):
            x, y = (pose[k, :2] * size).astype(int)
            near.append(diff[max(0, y - 2):y + 3, max(0, x - 2):x + 3].mean())
        corners = max(diff[:12, :12].mean(), diff[:12, -12:].mean())
        assert min(near) > 12, (seed, KEYPOINTS[int(np.argmin(near))])
        assert np.median(near) > 40
        assert corners < 15 < min(near)


def test_different_seeds_give_different_people_clothes_and_grounds() -> None:
    images = [_pixels(render_figure(STANDING, seed, 64)) for seed in range(8)]
    for a, b in zip(images, images[1:]):
        assert np.abs(a - b).mean() > 5
    chest = np.array([img[26:30, 30:34].mean(axis=(0, 1)) for img in images])  # between shoulders and hips
    corner = np.array([img[:8, :8].mean(axis=(0, 1)) for img in images])
    assert chest.std(axis=0).max() > 15  # clothes of different colours
    assert corner.std(axis=0).max() > 8  # and different backgrounds
    looks = [demo_figures._sample_look(demo_figures._rng(seed)) for seed in range(30)]
    assert len({look.clothes for look in looks}) >= 4
    assert len({look.ground for look in looks}) == 3
    skins = np.array([look.skin.mean() for look in looks])
    assert skins.max() - skins.min() > 0.3  # fair to dark


def test_hidden_limbs_are_painted_darker() -> None:
    hidden = STANDING.copy()
    hidden[[demo_figures.L_ELBOW, demo_figures.L_WRIST], 2] = 1  # the left forearm behind something
    x, y = ((STANDING[demo_figures.L_ELBOW, :2] + STANDING[demo_figures.L_WRIST, :2]) / 2 * 128).astype(int)
    for seed in range(4):
        a, b = _pixels(render_figure(STANDING, seed, 128)), _pixels(render_figure(hidden, seed, 128))
        assert b[y - 1:y + 2, x - 1:x + 2].mean() < 0.85 * a[y - 1:y + 2, x - 1:x + 2].mean()


def test_odd_poses_still_paint() -> None:
    rng = np.random.default_rng(0)
    odd = [np.zeros((17, 3)),  # nothing labelled
           np.concatenate([rng.random((17, 2)) * 3 - 1, rng.integers(0, 3, (17, 1))], 1),  # scattered
           STANDING * np.array([0.1, 0.1, 1.0])]  # tiny
    for pose in odd:
        assert render_figure(pose, 1, 32).size == (32, 32)


def test_bad_pose_or_size_is_a_belamy_error() -> None:
    with pytest.raises(BelamyError):
        render_figure(np.zeros((16, 3)), 0, 64)
    with pytest.raises(BelamyError):
        render_figure(np.full((17, 3), np.nan), 0, 64)
    with pytest.raises(BelamyError):
        render_figure(STANDING, 0, 8)
    with pytest.raises(BelamyError):
        iter_figures(-1)
    with pytest.raises(BelamyError):
        iter_figures(3, poses=[STANDING])


def test_iter_figures_paints_pose_i_with_seed_i() -> None:
    poses = [STANDING, WALKING, SITTING]
    out = list(iter_figures(3, seed=4, size=32, poses=poses))
    assert [ident for ident, _, _ in out] == ["figure-0000", "figure-0001", "figure-0002"]
    for i, (_, image, pose) in enumerate(out):
        assert np.array_equal(pose, poses[i])
        assert image.tobytes() == render_figure(poses[i], _image_seed(4, i), 32).tobytes()


def test_default_poses_come_from_the_sampler_and_are_prefix_stable() -> None:
    longer = list(iter_figures(3, seed=1, size=32))
    shorter = list(iter_figures(2, seed=1, size=32))
    for (a, img_a, pose_a), (b, img_b, pose_b) in zip(longer, shorter):
        assert a == b and np.array_equal(pose_a, pose_b) and img_a.tobytes() == img_b.tobytes()
    sampled = sample_poses(3, 1)
    for i, (_, _, pose) in enumerate(longer):
        assert pose.shape == (17, 3) and pose.dtype == np.float32
        assert np.array_equal(pose, sampled[i])
    with pytest.raises(BelamyError):
        iter_figures(1, seed=-1)  # the sampler's seeds are >= 0


def test_figures_demo_collection() -> None:
    assert DEMO_COLLECTIONS["figures"] == 400
    names = [name for name, _ in iter_demo("figures", count=2, size=32)]
    assert names == ["figure-0000", "figure-0001"]
    (_, image, extra), = iter_demo_items("figures", count=1, size=32)
    (_, _, pose), = iter_figures(1, size=32)
    assert image.size == (32, 32)
    assert extra == {"pose": pose_values(pose)}
    assert len(extra["pose"]) == 51
    assert next(iter(iter_demo_items("portraits", count=1, size=32)))[2] == {}


def test_collect_stores_each_figure_with_its_pose(tmp_path) -> None:
    coll = collect(["demo://figures"], tmp_path / "figures", size=64, demo_count=6, workers=1, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "figures" / "manifest.jsonl").read_text().splitlines()]
    assert len(coll) == len(rows) == 6
    expected = {f"demo://figures/{ident}": pose_values(pose) for ident, _, pose in iter_figures(6, size=32)}
    for row in rows:
        assert len(row["pose"]) == 51 and all(isinstance(x, float) for x in row["pose"])
        assert row["pose"] == expected[row["source"]]
        assert row["license"] == "CC0-1.0"
