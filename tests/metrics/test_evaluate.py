"""`belamy eval` end to end on a tiny run: files, curve, records, and one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from conftest import pattern_collection, run_cli, tiny_config

from belamy.api.evaluate import evaluate, evaluate_curve
from belamy.api.sample import sample
from belamy.core.errors import BelamyError
from belamy.models.run import Run


def cli(capsys, monkeypatch, *args: str) -> tuple[int, str, str]:
    return run_cli(monkeypatch, capsys, *args)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("eval")
    coll = pattern_collection(root, count=16)
    from belamy.api.train import train

    cfg = tiny_config()
    cfg.steps = 4
    cfg.originality_n = 12
    return train(coll, root / "run", cfg, progress=False).path


def test_end_of_training_originality(run_dir: Path) -> None:
    result = json.loads((run_dir / "eval" / "eval-00000004.json").read_text())
    orig = result["metrics"]["originality"]
    assert orig["count"] == 12 and len(orig["renders"]) == 12 and result["seeds"] == [0, 11]
    assert (run_dir / "eval" / "originality.png").is_file()
    assert "## Originality" in (run_dir / "MODEL_CARD.md").read_text()


def test_evaluate_writes_json_html_png(run_dir: Path) -> None:
    run = Run.open(run_dir)
    state = torch.get_rng_state()
    result = evaluate(run, n=12, metrics="swd,kid,pr,fid,originality", seed=100)
    assert torch.equal(torch.get_rng_state(), state)  # training runs it and checkpoints that state
    m = result["metrics"]
    assert set(m) == {"swd", "kid", "pr", "fid", "originality"}
    assert m["swd"]["mean"] > 0 and m["kid"]["mean"] > 0 and m["fid"] > 0  # an untrained GAN is far off
    assert 0 <= m["pr"]["precision"] <= 1 and m["kid"]["subset_size"] == 12
    assert result["features"]["name"] == "belamy-rand-v1" and result["seeds"] == [100, 111]
    saved = json.loads((run_dir / "eval" / "eval-00000004.json").read_text())
    assert saved["seeds"] == [100, 111] and saved["metrics"]["kid"] == m["kid"]
    page = (run_dir / "eval" / "report.html").read_text()
    assert "KID (belamy-rand-v1)" in page and "originality.png" in page
    # a checkpoint instead of the export: the same step gives the same images, so the same SWD
    again = evaluate(run, n=12, metrics=["swd"], seed=100, checkpoint="step-00000004", write=False)
    assert again["source"] == "checkpoints/step-00000004" and again["metrics"]["swd"] == m["swd"]


def test_fid_with_an_injected_feature_network(run_dir: Path) -> None:
    from test_features import TinyNet

    from belamy.metrics.features import inception_features

    fx = inception_features(TinyNet(), dim=8, name="tiny-local")
    result = evaluate(Run.open(run_dir), n=12, metrics=["fid", "kid"], features=fx, write=False)
    assert result["features"]["name"] == "tiny-local" and set(result["metrics"]) == {"fid", "kid"}
    assert result["metrics"]["fid"] > 0 and result["metrics"]["kid"]["subset_size"] == 12  # untrained: far off


def test_curve_over_checkpoints(run_dir: Path) -> None:
    rows = evaluate_curve(Run.open(run_dir), n=10, metrics="swd,kid")
    assert [r["step"] for r in rows] == [2, 4] and all("kid" in r and "swd" in r for r in rows)
    assert (run_dir / "eval" / "curve.png").is_file()
    assert json.loads((run_dir / "eval" / "curve.json").read_text())["rows"] == rows


def test_sample_records_carry_originality(run_dir: Path, tmp_path: Path) -> None:
    run = Run.open(run_dir)
    sample(run, [0, 1], tmp_path / "r", progress=False)
    orig = json.loads((tmp_path / "r" / "seed0001.record.json").read_text())["originality"]
    assert orig["near_copy"] is False and orig["score"] > 0 and orig["nearest"]["id"]
    assert orig["features"] == "belamy-rand-v1"
    # the collection moved away: sampling still works and says why originality is missing
    moved = tmp_path / "run"
    shutil.copytree(run_dir, moved)
    info = json.loads((moved / "run.json").read_text())
    (moved / "run.json").write_text(json.dumps({**info, "collection": str(tmp_path / "gone")}))
    sample(Run.open(moved), [0], tmp_path / "r2", progress=False)
    note = json.loads((tmp_path / "r2" / "seed0000.record.json").read_text())["originality"]
    assert "missing" in note["skipped"]
    with pytest.raises(BelamyError, match="collection .* is missing"):
        evaluate(Run.open(moved), n=12)


def test_cli_eval_table_and_errors(run_dir: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    code, out, err = cli(capsys, monkeypatch, "eval", str(run_dir), "-n", "12", "--metrics", "swd,kid")
    assert code == 0, err
    assert "SWD" in out and "KID" in out and "report.html" in out
    cases = [
        (["--metrics", "swd,bogus"], "unknown metric 'bogus'"),
        (["-n", "5"], "too small for KID"),
        (["--metrics", "fid", "--features", "inception"], ("'fid' extra", "Inception weights are missing")),
        (["--curve", "--checkpoint", "step-00000002"], "leave out --checkpoint"),
    ]
    for extra, text in cases:
        code, _, err = cli(capsys, monkeypatch, "eval", str(run_dir), *extra)
        assert code == 2 and any(t in err for t in ((text,) if isinstance(text, str) else text)), err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, _, err = cli(capsys, monkeypatch, "eval", str(tmp_path))
    assert code == 2 and "is not a belamy run" in err
