"""Poses as data: the COCO-17 convention, normalisation, plausibility, the procedural sampler,
stick figures and the pose collection on disk."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from belamy.core.errors import BelamyError
from belamy.data import pose as P
from belamy.data import pose_collection as pc
from belamy.data.pose_sampler import PoseSamplerConfig, sample_poses
from belamy.data.stick import JOINT_COLOURS, LIMB_COLOURS, OPENPOSE_KEYPOINTS, OPENPOSE_LIMBS, StickConfig, render_stick


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and text
    return text


# A person seen from the side, facing image right, in head heights (y down): standing, arms hanging
# with the elbows a little bent, knees a little bent.
PROFILE = {
    "nose": (0.5, -3.0), "left_eye": (0.4, -3.1), "right_eye": (0.38, -3.1), "left_ear": (0.0, -3.05),
    "right_ear": (-0.05, -3.05), "left_shoulder": (0.05, -2.2), "right_shoulder": (-0.05, -2.2),
    "left_elbow": (0.05, -0.8), "right_elbow": (-0.05, -0.8), "left_wrist": (0.83, -0.02),
    "right_wrist": (0.73, -0.02), "left_hip": (0.05, 0.0), "right_hip": (-0.05, 0.0), "left_knee": (0.1, 1.85),
    "right_knee": (0.0, 1.85), "left_ankle": (-0.1, 3.7), "right_ankle": (-0.2, 3.7),
}


def make_pose(points: dict[str, tuple[float, float]], v: int = 2) -> np.ndarray:
    pose = np.zeros((17, 3), dtype=np.float32)
    for name, (x, y) in points.items():
        pose[P.INDEX[name]] = (x, y, v)
    return pose


def profile(**changes: tuple[float, float]) -> np.ndarray:
    return P.normalise(make_pose({**PROFILE, **changes}))


# ----------------------------------------------------------------------------- the convention
def test_convention_names_skeleton_and_flips():
    assert len(P.KEYPOINTS) == 17 and P.KEYPOINTS[0] == "nose" and P.KEYPOINTS[16] == "right_ankle"
    assert all(0 <= a < 17 and 0 <= b < 17 for a, b in P.SKELETON) and len(P.SKELETON) == 19
    for a, b in P.FLIP_PAIRS:
        assert P.KEYPOINTS[a].startswith("left_") and P.KEYPOINTS[b] == P.KEYPOINTS[a].replace("left_", "right_")
    assert (P.FLIP_INDEX[P.FLIP_INDEX] == np.arange(17)).all()
    assert P.FLIP_INDEX[0] == 0  # the nose stays


def test_check_pose_accepts_valid_and_names_each_problem():
    good = profile()
    assert P.check_pose(good).dtype == np.float32
    with pytest.raises(BelamyError) as e:
        P.check_pose(np.zeros((16, 3)))
    assert "(17, 3)" in one_line(e)
    bad = good.copy()
    bad[7, 0] = np.nan
    with pytest.raises(BelamyError) as e:
        P.check_pose(bad, "my pose")
    assert "my pose" in one_line(e) and "left_elbow" in str(e.value) and "finite" in str(e.value)
    bad = good.copy()
    bad[3, 2] = 3
    with pytest.raises(BelamyError) as e:
        P.check_pose(bad)
    assert "left_ear" in one_line(e) and "visibility" in str(e.value)
    bad = good.copy()
    bad[16, :2] = (250.0, 300.0)  # pixels, not canvas units
    with pytest.raises(BelamyError) as e:
        P.check_pose(bad)
    assert "right_ankle" in one_line(e) and "normalise" in str(e.value)
    bad[16, 2] = 0  # an unlabelled keypoint's position means nothing
    P.check_pose(bad)
    with pytest.raises(BelamyError) as e:
        P.check_poses(np.stack([good, good.copy() * np.nan]))
    assert "pose 1" in one_line(e)


def test_normalise_centres_and_scales_the_labelled_box():
    px = make_pose(PROFILE) * np.array([40.0, 40.0, 1.0]) + np.array([300.0, 200.0, 0.0])  # a photo's pixels
    px[0] = (0, 0, 0)  # an unlabelled nose, at COCO's (0, 0)
    n = P.normalise(px, height=0.8)
    lab = n[:, 2] > 0
    lo, hi = n[lab, :2].min(0), n[lab, :2].max(0)
    assert np.allclose((lo + hi) / 2, 0.5, atol=1e-6)
    assert hi[1] - lo[1] == pytest.approx(0.8, abs=1e-6)  # standing: the height is 0.8
    assert (n[0] == 0).all()
    # a lying figure: its width becomes the height
    lying = px.copy()
    lying[:, [0, 1]] = px[:, [1, 0]]
    m = P.normalise(lying, height=0.5)
    lo, hi = m[lab, :2].min(0), m[lab, :2].max(0)
    assert hi[0] - lo[0] == pytest.approx(0.5, abs=1e-6) and hi[1] - lo[1] < 0.5
    # the same pose at any scale or offset normalises the same; batches too
    assert np.allclose(P.normalise(px * np.array([3.0, 3.0, 1.0])), n, atol=1e-6)
    assert np.allclose(P.normalise(np.stack([px, px]))[1], n)
    with pytest.raises(BelamyError) as e:
        P.normalise(make_pose({"nose": (1.0, 1.0)}))
    assert "two distinct" in one_line(e)


def test_mirror_swaps_sides_and_flips_x():
    front = make_pose({"left_shoulder": (0.6, 0.3), "right_shoulder": (0.4, 0.3), "left_hip": (0.58, 0.6),
                       "right_hip": (0.42, 0.6), "left_wrist": (0.9, 0.2), "nose": (0.5, 0.1)})
    m = P.mirror(front)
    # the mirror image of a figure facing the viewer still has its left on the image's right
    assert m[P.INDEX["left_shoulder"], 0] > m[P.INDEX["right_shoulder"], 0]
    assert m[P.INDEX["right_wrist"], 0] == pytest.approx(0.1)  # the raised left wrist became a right one
    assert m[P.INDEX["left_wrist"], 2] == 0
    assert np.allclose(P.mirror(m), front)
    assert np.allclose(P.normalise(front, mirror=True), P.mirror(P.normalise(front)), atol=1e-6)


def test_bone_lengths_and_joint_angles():
    pose = make_pose(PROFILE)
    L = P.bone_lengths(pose)
    assert L["left_upper_arm"] == pytest.approx(1.4)
    assert L["neck"] == pytest.approx(np.hypot(0.5, 0.8), rel=1e-5)
    A = P.joint_angles(pose)
    assert A["torso"] == pytest.approx(0.0, abs=1e-6)
    assert A["left_elbow"] == pytest.approx(-45.0, abs=0.1)  # anticlockwise on screen: flexion facing right
    assert A["left_knee"] > 0  # clockwise: flexion for a figure facing right
    pose[P.INDEX["left_wrist"], 2] = 0
    assert np.isnan(P.joint_angles(pose)["left_elbow"]) and np.isnan(P.bone_lengths(pose)["left_forearm"])


# ----------------------------------------------------------------------------- plausibility
def test_plausible_accepts_a_natural_pose_and_its_mirror():
    good = profile()
    assert P.facing(good) == 1 and P.facing(P.mirror(good)) == -1
    r = P.plausible(good)
    assert set(r) == {*P.CHECKS, "ok"} and all(r.values())
    assert all(P.plausible(P.mirror(good)).values())


def test_plausible_catches_a_backwards_elbow_and_knee():
    elbow = P.plausible(profile(left_wrist=(-0.73, -0.02)))  # the forearm swung back, elbow bent 45 backwards
    assert not elbow["elbows"] and not elbow["ok"] and elbow["knees"]
    knee = P.plausible(profile(right_ankle=(1.0, 3.35)))  # the shin kicked forward: the knee bends backwards
    assert not knee["knees"] and not knee["ok"] and knee["elbows"]
    # the same bends mirrored are caught as well
    assert not P.plausible(P.mirror(profile(left_wrist=(-0.73, -0.02))))["elbows"]
    # in a front view a 2D bend may point at the camera: not judged
    front = make_pose({**PROFILE, "left_shoulder": (0.85, -2.2), "right_shoulder": (-0.85, -2.2),
                       "left_hip": (0.6, 0.0), "right_hip": (-0.6, 0.0), "left_wrist": (-0.73, -0.02)})
    assert P.facing(front) == 0 and P.plausible(front)["elbows"]


def test_plausible_catches_impossible_lengths_a_twisted_torso_and_a_loose_head():
    long_forearm = P.plausible(profile(left_wrist=(0.05 + 2.4, -0.8 + 2.4)))  # forearm 3x its length
    assert not long_forearm["proportions"] and not long_forearm["ok"]
    long_thigh = P.plausible(profile(left_knee=(0.1, 4.0), left_ankle=(-0.1, 5.8)))
    assert not long_thigh["proportions"]
    # a front view whose hips face the other way from its shoulders
    front = {**PROFILE, "left_shoulder": (0.85, -2.2), "right_shoulder": (-0.85, -2.2)}
    assert P.plausible(make_pose({**front, "left_hip": (0.6, 0.0), "right_hip": (-0.6, 0.0)}))["torso"]
    assert not P.plausible(make_pose({**front, "left_hip": (-0.6, 0.0), "right_hip": (0.6, 0.0)}))["torso"]
    assert not P.plausible(profile(nose=(0.5, -4.5)))["head"]  # the head floats off the neck
    # an arm swung up behind the back
    assert not P.plausible(profile(left_elbow=(-1.3, -2.7), left_wrist=(-2.2, -3.2)))["limbs"]
    # without shoulders and hips nothing can be judged
    assert all(P.plausible(make_pose({"nose": (0.5, 0.5), "left_eye": (0.52, 0.48)})).values())


# ----------------------------------------------------------------------------- the sampler
def test_sampler_is_seeded_per_pose():
    a = sample_poses(12, seed=3)
    assert a.shape == (12, 17, 3) and a.dtype == np.float32
    assert np.array_equal(a, sample_poses(12, seed=3))
    assert np.array_equal(a[5:9], sample_poses(4, seed=3, start=5))  # pose i depends only on (seed, i)
    assert not np.array_equal(a, sample_poses(12, seed=4))
    P.check_poses(a)


def test_sampled_poses_are_plausible_and_varied():
    poses = sample_poses(2000, seed=0)
    rates = P.plausibility_rates(poses)
    bad = [i for i in range(len(poses)) if not P.plausible(poses[i])["ok"]]
    assert rates["ok"] == 1.0, f"implausible sampled poses: {bad[:10]}"
    lab = poses[..., 2] > 0
    lo = np.where(lab[..., None], poses[..., :2], np.inf).min(1)
    hi = np.where(lab[..., None], poses[..., :2], -np.inf).max(1)
    assert np.allclose(np.maximum(*(hi - lo).T), 0.8, atol=1e-5)  # normalised
    assert (poses[..., 2] == 1).any(axis=1).mean() > 0.1  # some joints hidden
    assert (poses[..., 2] == 2).sum(axis=1).min() >= 8
    # turned figures (side views) occur, facing both ways, and widths vary (sitting, reaching, dancing)
    faces = [P.facing(p) for p in poses[:400]]
    assert faces.count(1) > 10 and faces.count(-1) > 10
    widths = (hi - lo)[:, 0]
    assert widths.min() < 0.3 and widths.max() > 0.7


def test_sampler_config_is_validated():
    with pytest.raises(BelamyError) as e:
        sample_poses(2, 0, PoseSamplerConfig(families="standing,flying"))
    assert "flying" in one_line(e)
    with pytest.raises(BelamyError) as e:
        sample_poses(2, 0, PoseSamplerConfig(max_yaw=400.0))
    assert "max_yaw" in one_line(e)
    front = sample_poses(50, 1, PoseSamplerConfig(families="walking", max_yaw=0.0, pitch=0.0))
    ls, rs = front[:, P.INDEX["left_shoulder"]], front[:, P.INDEX["right_shoulder"]]
    assert (ls[:, 0] > rs[:, 0]).mean() > 0.9  # facing the viewer: the left shoulder on the image's right


# ----------------------------------------------------------------------------- stick figures
def test_stick_colours_follow_openpose():
    assert len(OPENPOSE_KEYPOINTS) == 18 and len(OPENPOSE_LIMBS) == 17 and JOINT_COLOURS[0] == (255, 0, 0)
    pose = make_pose({"right_shoulder": (0.3, 0.3), "right_elbow": (0.7, 0.3)})
    cfg = StickConfig(size=64, thickness=0.1, joint=0.04)
    im = render_stick(pose, cfg)
    assert im.shape == (64, 64, 3) and im.dtype == np.uint8
    limb = OPENPOSE_LIMBS.index((2, 3))  # right shoulder -> right elbow in OpenPose's layout
    expected = tuple(int(c * 0.6) for c in LIMB_COLOURS[limb])
    assert tuple(im[19, 32]) == expected == (153, 102, 0)  # the limb's midpoint (pixel centre 0.3 * 64 = 19.2)
    assert tuple(im[19, 19]) == JOINT_COLOURS[2]  # the right shoulder's disc
    assert tuple(im[5, 5]) == (0, 0, 0)
    edge = im[19 - 4:19 + 5, 32]  # antialiased: in-between values across the limb's edge
    assert any(0 < px[0] < 153 for px in edge)
    assert np.array_equal(im, render_stick(pose, cfg))  # deterministic


def test_stick_draws_the_neck_hidden_joints_and_background():
    pose = make_pose({"left_shoulder": (0.7, 0.4), "right_shoulder": (0.3, 0.4), "nose": (0.5, 0.15)})
    im = render_stick(pose, StickConfig(size=64, joint=0.03, background="white"))
    assert tuple(im[int(0.4 * 64), 32]) == JOINT_COLOURS[1]  # the neck, between the shoulders
    assert tuple(im[2, 2]) == (255, 255, 255)
    pose[P.INDEX["nose"], 2] = 1  # hidden
    shown = render_stick(pose, StickConfig(size=64, joint=0.03))
    hidden = render_stick(pose, StickConfig(size=64, joint=0.03, hidden=False))
    assert tuple(shown[int(0.15 * 64), 32]) == JOINT_COLOURS[0] and tuple(hidden[int(0.15 * 64), 32]) == (0, 0, 0)
    with pytest.raises(BelamyError) as e:
        render_stick(pose, StickConfig(background="blurple"))
    assert "blurple" in one_line(e)


# ----------------------------------------------------------------------------- the pose collection
def write_sample(path, n=20, seed=0):
    poses = sample_poses(n, seed)
    rows = [{"id": f"p{i}", "source": {"index": i}, "credits": {"author": "me"}} for i in range(n)]
    return pc.write_poses(path, poses, rows, {"source": {"kind": "test"}}, {"note": "hello"}), poses


def test_pose_collection_round_trip(tmp_path):
    coll, poses = write_sample(tmp_path / "POSES")
    assert len(coll) == 20 and coll.poses.dtype == np.float32 and coll.poses.shape == (20, 17, 3)
    assert np.allclose(coll.poses, poses, atol=1e-5)
    again = pc.PoseCollection.open(tmp_path / "POSES")
    assert np.array_equal(again.poses, coll.poses) and again.rows[3] == {"id": "p3", "source": {"index": 3},
                                                                           "credits": {"author": "me"}}
    meta = json.loads((tmp_path / "POSES" / "poses.json").read_text())
    assert meta["format"] == "belamy.poses" and meta["version"] == 1 and meta["count"] == 20
    assert meta["source"] == {"kind": "test"} and meta["created"] and meta["code_version"]
    first = json.loads((tmp_path / "POSES" / "poses.jsonl").read_text().splitlines()[0])
    assert first["id"] == "p0" and len(first["keypoints"]) == 51
    assert all(len(str(x).split(".")[-1]) <= 5 for x in first["keypoints"])
    assert again.report["note"] == "hello"
    sheet = Image.open(tmp_path / "POSES" / "preview.png")
    assert sheet.size[0] > 8 * 96 and sheet.size[1] > 2 * 96  # 8 columns, 3 rows of stick figures
    assert not list((tmp_path / "POSES").glob(".*"))  # no staged leftovers


def test_a_crash_before_the_commit_leaves_the_old_collection(tmp_path, monkeypatch):
    path = tmp_path / "POSES"
    old, _ = write_sample(path, n=10, seed=0)
    real = pc.atomic.write_json

    def crash_at_commit(target, obj):
        if str(target).endswith(pc.META_FILE):
            raise KeyboardInterrupt  # killed just before poses.json is renamed into place
        real(target, obj)

    monkeypatch.setattr(pc.atomic, "write_json", crash_at_commit)
    with pytest.raises(KeyboardInterrupt):
        write_sample(path, n=30, seed=1)
    monkeypatch.undo()
    kept = pc.PoseCollection.open(path)
    assert len(kept) == 10 and np.array_equal(kept.poses, old.poses)
    assert kept.report["note"] == "hello"
    new, _ = write_sample(path, n=30, seed=1)  # the next write clears the leftovers
    assert len(new) == 30 and not list(path.glob(".*"))


def test_a_crash_after_the_commit_gives_the_new_collection(tmp_path, monkeypatch):
    path = tmp_path / "POSES"
    write_sample(path, n=10, seed=0)

    def killed(path, meta):
        raise KeyboardInterrupt  # killed right after poses.json was committed

    monkeypatch.setattr(pc, "_finish_commit", killed)
    with pytest.raises(KeyboardInterrupt):
        write_sample(path, n=30, seed=1)
    assert len(list(path.glob(".*.next"))) == 3  # the new files are still staged
    monkeypatch.undo()
    new = pc.PoseCollection.open(path)  # the committed one, read from the staged file and put in place
    assert len(new) == 30 and np.allclose(new.poses, sample_poses(30, 1), atol=1e-5)
    assert not list(path.glob(".*")) and len(pc.PoseCollection.open(path)) == 30


def test_pose_collection_errors_are_one_line(tmp_path):
    with pytest.raises(BelamyError) as e:
        pc.PoseCollection.open(tmp_path / "nothing")
    assert "not a belamy pose collection" in one_line(e)
    path = tmp_path / "POSES"
    write_sample(path, n=5)
    meta_file = path / "poses.json"
    meta = json.loads(meta_file.read_text())
    meta_file.write_text(json.dumps({**meta, "version": 7}))
    with pytest.raises(BelamyError) as e:
        pc.PoseCollection.open(path)
    assert "newer belamy" in one_line(e)
    meta_file.write_text("{ not json")
    with pytest.raises(BelamyError) as e:
        pc.PoseCollection.open(path)
    assert "corrupt" in one_line(e)
    meta_file.write_text(json.dumps(meta))
    rows = path / "poses.jsonl"
    rows.write_text(rows.read_text().replace('"p1"', '"px"'))
    with pytest.raises(BelamyError) as e:
        pc.PoseCollection.open(path)
    assert "checksum" in one_line(e)
    with pytest.raises(BelamyError) as e:
        pc.write_poses(tmp_path / "x", np.zeros((2, 16, 3)), None, {})
    assert "(N, 17, 3)" in one_line(e)
