"""`belamy chain`: poses -> stick figures -> pix2pix, resumable, sharded, with exact records."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli, tiny_p2p_run
from PIL import Image

from belamy.api.chain import run_chain
from belamy.chain.config import read_chain_config
from belamy.core.errors import BelamyError
from belamy.generate.rerender import still_from_record

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def p2p_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("chain")
    return tiny_p2p_run(root)


def config(tmp_path: Path, run, body: str = "") -> Path:
    path = tmp_path / "chain.toml"
    path.write_text(f'[poses]\ncount = 10\nseed = 3\n\n[translate]\nrun = "{run.path}"\n\n[output]\nbatch = 4\n{body}')
    return path


def renders(out: Path) -> dict[str, bytes]:
    """Each render's pixels (its PNG also holds the record, whose `created` time differs)."""
    return {p.name: np.asarray(Image.open(p).convert("RGB")).tobytes() for p in sorted((out / "renders").glob("*.png"))}


def test_chain_renders_resumes_and_shards(p2p_run, tmp_path: Path):
    cfg = config(tmp_path, p2p_run)
    res = run_chain(cfg, tmp_path / "a", device="cpu", progress=False)
    assert (res.rendered, res.skipped) == (10, 0)
    first = renders(tmp_path / "a")
    assert len(first) == 10 and len(list((tmp_path / "a" / "sticks").glob("*.png"))) == 10
    rec = json.loads((tmp_path / "a" / "renders" / "chain-000004.record.json").read_text())
    assert rec["kind"] == "chain" and len(rec["pose"]) == 51 and rec["generator_sha256"]
    assert rec["batch"] == [4, 8]
    assert np.array_equal(still_from_record(rec), np.asarray(Image.open(tmp_path / "a" / "renders" / "chain-000004.png")))

    # a kill -9 mid-chain: a render without its record is redone, the others are skipped
    (tmp_path / "a" / "renders" / "chain-000007.record.json").unlink()
    res = run_chain(cfg, tmp_path / "a", device="cpu", progress=False)
    assert (res.rendered, res.skipped) == (1, 9) and renders(tmp_path / "a") == first

    # two shards make the same renders as one process
    for k in (0, 1):
        run_chain(cfg, tmp_path / "b", shard=(k, 2), device="cpu", progress=False)
    assert renders(tmp_path / "b") == first


def test_config_mistakes_are_one_line(p2p_run, tmp_path: Path):
    with pytest.raises(BelamyError, match=r"chain.toml: \[stick\]: unknown key 'thikness'"):
        read_chain_config(config(tmp_path, p2p_run, "\n[stick]\nthikness = 0.02\n"))
    with pytest.raises(BelamyError, match=r"unknown table"):
        read_chain_config(config(tmp_path, p2p_run, "\n[upscaler]\nrun = 'x'\n"))
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[poses]\ncount = 0\n[translate]\nrun = "{p2p_run.path}"\n')
    with pytest.raises(BelamyError, match=r"count=0 must be at least 1"):
        read_chain_config(bad)
    run_chain(config(tmp_path, p2p_run), tmp_path / "c", device="cpu", progress=False)
    other = tmp_path / "other.toml"
    other.write_text(f'[poses]\ncount = 10\nseed = 4\n[translate]\nrun = "{p2p_run.path}"\n')
    with pytest.raises(BelamyError, match="holds a chain of another config"):
        run_chain(other, tmp_path / "c", device="cpu", progress=False)


def test_cli(p2p_run, tmp_path: Path, monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "chain", str(config(tmp_path, p2p_run)), "-o", str(tmp_path / "o"),
                             "--shard", "1/2", "--device", "cpu")
    assert code == 0 and "4 rendered" in out, err  # shard 1 of 2 takes the second of the batches 0-3, 4-7, 8-9
    code, out, err = run_cli(monkeypatch, capsys, "chain", str(tmp_path / "missing.toml"), "-o", str(tmp_path / "o"))
    assert code == 2 and "does not exist" in err and err.count("\n") == 1
