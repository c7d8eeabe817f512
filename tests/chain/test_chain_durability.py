"""The chain's writer: one durability barrier per batch, and nothing torn after a kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_p2p_run
from PIL import Image

from belamy.api.chain import run_chain
from belamy.core import atomic
from belamy.generate.rerender import still_from_record

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def p2p_run(tmp_path_factory):
    return tiny_p2p_run(tmp_path_factory.mktemp("chain-kill"))


def visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def test_write_staged_puts_every_earlier_stage_in_place_first(tmp_path: Path, monkeypatch):
    pngs = [(tmp_path / "r" / f"{k}.png", bytes([k]) * 10) for k in range(3)]
    records = [(tmp_path / "r" / f"{k}.json", b"{}") for k in range(3)]
    real = os.replace

    def replace(src, dst):  # the process dies as the first record is renamed
        if str(dst).endswith(".json"):
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_staged([pngs, records])
    assert [p.name for p in visible(tmp_path / "r")] == ["0.png", "1.png", "2.png"]
    assert [p.read_bytes() for p, _ in pngs] == [d for _, d in pngs]
    assert not list((tmp_path / "r").glob(".*.tmp"))  # the temporaries are cleaned up
    monkeypatch.setattr(atomic.os, "replace", real)
    atomic.write_staged([pngs, records])
    assert len(visible(tmp_path / "r")) == 6


def test_kill_9_mid_chain_leaves_whole_renders_and_resumes_exactly(p2p_run, tmp_path: Path):
    cfg = tmp_path / "chain.toml"
    cfg.write_text(f'[poses]\ncount = 600\nseed = 1\n\n[translate]\nrun = "{p2p_run.path}"\n\n[output]\nbatch = 4\n')
    out = tmp_path / "killed"
    code = f"from belamy.api.chain import run_chain; run_chain({str(cfg)!r}, {str(out)!r}, device='cpu', progress=False)"
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 120
    try:
        while len(list((out / "renders").glob("*.record.json"))) < 40 and proc.poll() is None:
            assert time.monotonic() < deadline, "the chain wrote no records in 2 minutes"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    records = sorted((out / "renders").glob("*.record.json"))
    assert 40 <= len(records) < 600, "the kill came too late to test anything"
    for rec_path in records:  # every render with a record is a whole PNG, with its sticks beside it
        png = rec_path.with_name(rec_path.name.removesuffix(".record.json") + ".png")
        with Image.open(png) as im:
            im.load()
        with Image.open(out / "sticks" / png.name) as im:
            im.load()
    rec = json.loads(records[-1].read_text())
    png = records[-1].with_name(records[-1].name.removesuffix(".record.json") + ".png")
    assert np.array_equal(still_from_record(rec), np.asarray(Image.open(png).convert("RGB")))

    done = len(records)
    res = run_chain(cfg, out, device="cpu", progress=False)
    assert (res.rendered, res.skipped) == (600 - done, done)
    whole = tmp_path / "whole"
    run_chain(cfg, whole, device="cpu", progress=False)
    for name in ("renders", "sticks"):
        a = {p.name: np.asarray(Image.open(p).convert("RGB")).tobytes() for p in visible(out / name) if p.suffix == ".png"}
        b = {p.name: np.asarray(Image.open(p).convert("RGB")).tobytes() for p in visible(whole / name) if p.suffix == ".png"}
        assert a == b and len(a) == 600
