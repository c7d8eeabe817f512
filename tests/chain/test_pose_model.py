"""The learned pose sampler (`belamy poses train`): fitting, seeded sampling, plausibility, the
model file and its one-line refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from belamy.api.poses import sample_model_to, sample_poses_to, train_pose_model
from belamy.cli.main import app
from belamy.core.errors import BelamyError
from belamy.data.pose import plausibility_rates
from belamy.data.pose_collection import PoseCollection
from belamy.data.pose_model import PoseModel, PoseModelConfig, fit_pose_model
from belamy.data.pose_sampler import sample_poses


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("posemodel")
    coll = sample_poses_to(d / "poses", 400, seed=3, progress=False)
    model = train_pose_model(coll, d / "model.safetensors", PoseModelConfig(components=6, iterations=30))
    return d, model


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and text
    return text


def test_sampling_is_seeded_and_per_index(trained):
    _, model = trained
    a = model.sample(20, seed=5)
    assert np.array_equal(a, model.sample(20, seed=5))
    assert not np.array_equal(a, model.sample(20, seed=6))
    assert np.array_equal(a[10:], model.sample(10, seed=5, start=10))  # pose i depends on (seed, i)
    assert a.shape == (20, 17, 3) and a.dtype == np.float32
    assert set(np.unique(a[..., 2])) <= {0.0, 1.0, 2.0}
    assert (a[..., :2][a[..., 2] == 0] == 0).all()


def test_fitting_is_seeded():
    p = sample_poses(200, 1)
    cfg = PoseModelConfig(components=4, iterations=10, seed=2)
    a, b = fit_pose_model(p, cfg), fit_pose_model(p, cfg)
    assert np.array_equal(a.means, b.means) and np.array_equal(a.chol, b.chol)


def test_samples_are_mostly_plausible(trained):
    _, model = trained
    rates = plausibility_rates(model.sample(300, seed=0))
    assert rates["ok"] > 0.7
    assert model.meta["report"]["plausible"]["ok"] > 0.7


def test_diag_covariance_fits():
    m = fit_pose_model(sample_poses(120, 2), PoseModelConfig(components=3, covariance="diag", iterations=5))
    assert np.count_nonzero(m.chol[0] - np.diag(np.diag(m.chol[0]))) == 0
    assert m.sample(3, 1).shape == (3, 17, 3)


def test_few_poses_per_component_without_reg():
    m = fit_pose_model(sample_poses(40, 4), PoseModelConfig(components=8, reg=0.0, iterations=5))
    assert np.isfinite(m.chol).all() and m.sample(4, 0).shape == (4, 17, 3)


def test_model_file_round_trips(trained):
    d, model = trained
    loaded = PoseModel.load(d / "model.safetensors")
    assert np.array_equal(loaded.means, model.means)
    assert np.array_equal(loaded.sample(8, 9), model.sample(8, 9))
    assert loaded.meta["source"]["count"] == 400


def test_sample_to_collection(trained):
    d, _ = trained
    coll = sample_model_to(d / "model.safetensors", d / "sampled", 30, seed=1, progress=False)
    again = PoseCollection.open(d / "sampled")
    assert len(again) == 30 and np.array_equal(coll.poses, again.poses)
    assert again.meta["source"]["kind"] == "model" and len(again.meta["source"]["model_sha256"]) == 64
    assert again.rows[0]["id"] == "model:1:0"
    assert (d / "sampled" / "preview.png").is_file()


def test_bad_files_are_one_line(trained, tmp_path):
    d, model = trained
    with pytest.raises(BelamyError) as e:
        PoseModel.load(d / "poses" / "poses.json")
    assert "not a belamy pose model" in one_line(e)
    from safetensors.numpy import save_file

    save_file({"x": np.zeros(3)}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(BelamyError) as e:
        PoseModel.load(tmp_path / "foreign.safetensors")
    assert "not a belamy pose model" in one_line(e)
    meta = dict(model.meta, version=99)
    save_file({"weights": model.weights}, str(tmp_path / "newer.safetensors"), metadata={"belamy": json.dumps(meta)})
    with pytest.raises(BelamyError) as e:
        PoseModel.load(tmp_path / "newer.safetensors")
    assert "newer belamy" in one_line(e)
    meta = dict(model.meta)
    save_file({"weights": model.weights, "means": model.means[:, :10], "chol": model.chol, "vis": model.vis},
              str(tmp_path / "shapes.safetensors"), metadata={"belamy": json.dumps(meta)})
    with pytest.raises(BelamyError) as e:
        PoseModel.load(tmp_path / "shapes.safetensors")
    assert "wrong shapes" in one_line(e)
    with pytest.raises(BelamyError) as e:
        PoseModel.load(tmp_path / "missing.safetensors")
    one_line(e)
    with pytest.raises(BelamyError) as e:
        fit_pose_model(sample_poses(5, 0), PoseModelConfig(components=4))
    assert "too few" in one_line(e)


def test_cli_train_and_sample(trained, tmp_path):
    d, _ = trained
    r = CliRunner().invoke(app, ["poses", "train", str(d / "poses"), "-o", str(tmp_path / "m.safetensors"),
                                 "--components", "3", "--iterations", "5"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["poses", "sample", "--model", str(tmp_path / "m.safetensors"), "-n", "7",
                                 "--seed", "4", "-o", str(tmp_path / "s")])
    assert r.exit_code == 0, r.output
    assert len(PoseCollection.open(tmp_path / "s")) == 7
