"""Multi-process training through torchrun on the CPU (gloo): global-batch semantics, one writer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import pattern_collection, tiny_config
from safetensors.torch import load_file

from belamy.training import checkpoint as ckpt


def test_two_processes_match_one(tmp_path: Path):
    coll = pattern_collection(tmp_path, count=16)
    cfg = tiny_config(augment="none")
    # per-sample noise, minibatch-stddev groups and R1 are the only couplings that depend on how the
    # batch is split; turn them off so one process and two must agree to float precision
    cfg.model.use_noise = False
    cfg.model.mbstd_group = 0
    cfg.r1_gamma = 0.0
    cfg.steps = 4
    cfg.threads = 1
    (tmp_path / "cfg.json").write_text(json.dumps(cfg.to_dict()))
    env = {**os.environ, "BELAMY_PROGRESS": "0", "OMP_NUM_THREADS": "1"}
    base = [sys.executable, "-m", "belamy", "train", str(coll), "--config", str(tmp_path / "cfg.json")]
    one = subprocess.run(base + ["-o", str(tmp_path / "one")], capture_output=True, text=True, env=env, timeout=300)
    assert one.returncode == 0, one.stderr
    two = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "belamy",
         "train", str(coll), "--config", str(tmp_path / "cfg.json"), "-o", str(tmp_path / "two")],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert two.returncode == 0, two.stderr[-3000:]
    a = load_file(str(ckpt.latest(tmp_path / "one") / ckpt.TENSORS))
    b = load_file(str(ckpt.latest(tmp_path / "two") / ckpt.TENSORS))
    for k in a:
        if k.startswith(("G/", "D/", "G_ema/")):
            assert torch.allclose(a[k], b[k], rtol=1e-4, atol=1e-5), k
    info = json.loads((tmp_path / "two" / "run.json").read_text())
    assert info["world_size"] == 2
    stats = [json.loads(x) for x in (tmp_path / "two" / "stats.jsonl").read_text().splitlines()]
    assert [s["step"] for s in stats] == [2, 4]  # one writer: no duplicated lines
    assert not list((tmp_path / "two" / "checkpoints").glob(".*tmp*"))


def test_pick_amp_on_cpu(monkeypatch):
    """bf16 where the CPU has it natively ('auto') or where asked; fp16 only on CUDA, one clear line."""
    from belamy.core import device
    from belamy.core.errors import BelamyError

    cpu = torch.device("cpu")
    for native, expected in ((True, torch.bfloat16), (False, None)):
        monkeypatch.setattr(device, "cpu_has_native_bf16", lambda native=native: native)
        assert device.pick_amp("auto", cpu) is expected
        assert device.pick_amp("bf16", cpu) is torch.bfloat16
        assert device.pick_amp("off", cpu) is None
    with pytest.raises(BelamyError, match="fp16 is not supported on cpu"):
        device.pick_amp("fp16", cpu)
    with pytest.raises(BelamyError, match="unknown --amp"):
        device.pick_amp("half", cpu)
