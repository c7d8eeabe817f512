"""The CPU shim that lets the outside peers (which hard-code CUDA) run in benchmarks/peers.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/
import peer_child  # noqa: E402

CUDA_ONLY = '''import torch
from fakepeer.helper import VALUE
assert torch.cuda.is_available(), 'You need to have an Nvidia GPU with CUDA installed.'

class Trainer:
    def train(self):
        device = torch.device(f'cuda:{self.rank}')
        return torch.ones(2).cuda(self.rank) * VALUE, torch.nn.Linear(2, 2).cuda(0), device
'''


def _fake_peer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    pkg = tmp_path / "fakepeer"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from fakepeer.fakepeer import Trainer\n")  # would assert: never run
    (pkg / "helper.py").write_text("VALUE = 3.0\n")
    (pkg / "fakepeer.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(torch.Tensor, "cuda", torch.Tensor.cuda)  # restored after the test
    monkeypatch.setattr(torch.nn.Module, "cuda", torch.nn.Module.cuda)
    for name in ("fakepeer", "fakepeer.fakepeer", "fakepeer.helper"):
        # a placeholder monkeypatch restores by removal, so what the import registers goes too
        monkeypatch.setitem(sys.modules, name, None)
        del sys.modules[name]
    monkeypatch.setitem(peer_child.CPU_PATCHES, "fakepeer", peer_child.CPU_PATCHES["lightweight_gan"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="the shim is for machines without CUDA")
def test_shim_runs_cuda_only_peer_code_on_the_cpu(tmp_path, monkeypatch):
    _fake_peer(tmp_path, monkeypatch, CUDA_ONLY)
    with pytest.raises(AssertionError, match="Nvidia GPU"):  # as the peer is, it cannot run here
        __import__("fakepeer")
    monkeypatch.delitem(sys.modules, "fakepeer", raising=False)
    mod = peer_child.import_peer("fakepeer", "cpu")
    trainer = mod.Trainer()
    trainer.rank = 0
    x, layer, device = trainer.train()
    assert x.device.type == "cpu" and x.tolist() == [3.0, 3.0]  # the package's own imports still resolve
    assert next(layer.parameters()).device.type == "cpu" and device.type == "cpu"


def test_shim_refuses_a_peer_version_it_does_not_know(tmp_path, monkeypatch):
    _fake_peer(tmp_path, monkeypatch, CUDA_ONLY.replace("assert torch.cuda", "assert not torch.cuda"))
    with pytest.raises(SystemExit, match="not one the shim knows"):
        peer_child.import_peer("fakepeer", "cpu")
