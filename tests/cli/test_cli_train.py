"""`belamy train` / `belamy sample` as a user runs them: Ctrl-C, resume, one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import pattern_collection, tiny_config

ENV = {**os.environ, "BELAMY_PROGRESS": "0"}


def cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "belamy", *args], capture_output=True, text=True, env=ENV,
                          timeout=300, **kw)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_train")
    pattern_collection(root)
    cfg = tiny_config()
    cfg.steps = 100_000
    cfg.checkpoint_kimg = 1000.0
    cfg.preview_kimg = 1000.0
    (root / "cfg.json").write_text(json.dumps(cfg.to_dict()))
    return root


def test_ctrl_c_saves_and_resume_continues(setup: Path):
    run = setup / "run"
    proc = subprocess.Popen([sys.executable, "-m", "belamy", "train", str(setup / "coll"), "-o", str(run),
                             "--config", str(setup / "cfg.json")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=ENV)
    deadline = time.time() + 120
    while time.time() < deadline:
        stats = run / "stats.jsonl"
        if stats.is_file() and len(stats.read_text().splitlines()) >= 2:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "resume with: belamy train --resume" in out
    latest = (run / "checkpoints" / "latest").read_text().strip()
    stopped_at = int(latest.split("-")[1])
    assert stopped_at >= 4
    r = cli("train", "--resume", str(run), "--steps", str(stopped_at + 2))
    assert r.returncode == 0, r.stderr
    assert (run / "checkpoints" / "latest").read_text().strip() == f"step-{stopped_at + 2:08d}"
    r = cli("sample", str(run), "--seeds", "0-3", "--truncation", "0.5", "-o", str(setup / "renders"))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (setup / "renders").glob("*.png")) == [
        "grid.png", "seed0000.png", "seed0001.png", "seed0002.png", "seed0003.png"]


def test_train_errors_are_one_line(setup: Path, tmp_path: Path):
    bad_cfg = tmp_path / "bad.json"
    bad_cfg.write_text('{"batch": 8, "lernrate": 1}')
    broken_run = tmp_path / "broken"
    (broken_run / "checkpoints" / "step-00000001").mkdir(parents=True)
    (broken_run / "run.json").write_text(json.dumps({"collection": str(setup / "coll")}))
    (broken_run / "config.json").write_text("{}")
    (broken_run / "checkpoints" / "step-00000001" / "state.json").write_text('{"format": "belamy.checkpoint"}')
    (broken_run / "checkpoints" / "step-00000001" / "tensors.safetensors").write_bytes(b"garbage")
    cases = [
        ("train", str(tmp_path / "nothing"), "-o", str(tmp_path / "r"), "--steps", "1"),
        ("train", str(setup / "coll"), "-o", str(tmp_path / "r"), "--config", str(bad_cfg)),
        ("train", str(setup / "coll"), "-o", str(tmp_path / "r"), "--preset", "nope", "--steps", "1"),
        ("train", str(setup / "coll"), "-o", str(tmp_path / "r")),  # no budget
        ("train", str(setup / "coll"), "-o", str(tmp_path / "r"), "--steps", "1", "--device", "cuda"),
        ("train", "--resume", str(tmp_path / "nothing")),
        ("train", "--resume", str(broken_run)),
        ("sample", str(tmp_path / "nothing"), "-n", "2"),
        ("sample", str(setup / "coll"), "--seeds", "x-y"),
    ]
    for args in cases:
        r = cli(*args)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("belamy: error: "), (args, r.stderr)


def test_batch_flag_replaces_a_start_batch(setup: Path):
    """A config may start at a smaller batch (`batch_start`); `--batch N` means N from the first step."""
    cfg = tiny_config()
    cfg.batch_start, cfg.batch_start_kimg = 4, 1.0
    (setup / "start.json").write_text(json.dumps(cfg.to_dict()))
    common = ["--config", str(setup / "start.json"), "--steps", "1", "--preview-kimg", "0", "--set", "originality_n=0"]
    for name, extra, start, images in [("b-start", [], 4, 4), ("b-2", ["--batch", "2"], 0, 2)]:
        r = cli("train", str(setup / "coll"), "-o", str(setup / name), *extra, *common)
        assert r.returncode == 0, r.stderr
        saved = json.loads((setup / name / "config.json").read_text())
        assert saved["batch_start"] == start
        state = json.loads(next((setup / name / "checkpoints").glob("step-*/state.json")).read_text())
        assert state["train_state"]["images"] == images
