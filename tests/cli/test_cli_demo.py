"""`belamy demo`, the README's first command, end to end at a tiny budget: the console script paints
the demo portraits, trains the default model, renders a series with records and a contact sheet;
run again into the same folder, it trains the same run further."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

# no signing identity of the user: the demo makes its own in its folder
ENV = {**os.environ, "BELAMY_PROGRESS": "0", "BELAMY_KEYS": os.path.join(os.sep, "nonexistent", "belamy-test-keys")}
COUNT, MINUTES, SERIES = 8, "0.02", 32  # 8 portraits, 1.2 s of training: ~10 s a call on 2 cores


def belamy(*args: str) -> subprocess.CompletedProcess:
    """The installed console script when there is one (what the README runs), else `python -m belamy`."""
    script = Path(sys.executable).with_name("belamy")
    cmd = [str(script)] if script.is_file() else [sys.executable, "-m", "belamy"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=ENV, timeout=300)


def latest_step(run: Path) -> int:
    name = (run / "checkpoints" / "latest").read_text().strip()
    assert (run / "checkpoints" / name / "tensors.safetensors").is_file()
    return int(name.split("-")[1])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_demo_collects_trains_and_renders_a_series(tmp_path: Path):
    """Checked through the CLI and the files alone (collection.json, run.json, checkpoints, records)."""
    out = tmp_path / "demo"
    r = belamy("demo", "-o", str(out), "--count", str(COUNT), "--minutes", MINUTES)
    assert r.returncode == 0, r.stderr
    assert "done" in r.stdout and "contact sheet" in r.stdout and "4/5 finish" in r.stdout and "5/5 record" in r.stdout

    # 1/3 collect: the demo portraits, with their own contact sheet
    coll = out / "collection"
    meta = json.loads((coll / "collection.json").read_text())
    assert meta["count"] == COUNT and meta["size"] == 64
    assert len((coll / "manifest.jsonl").read_text().splitlines()) == COUNT
    assert (coll / "preview.png").is_file()

    # 2/3 train: a run of the default model with a checkpoint past step 0 and its exported generator
    run = out / "run"
    info = json.loads((run / "run.json").read_text())
    assert info["collection"] == str(coll.resolve())
    assert json.loads((run / "config.json").read_text())["preset"] == "cpu-quick-64"
    first = latest_step(run)
    assert first > 0
    assert (run / "generator.safetensors").is_file() and (run / "MODEL_CARD.md").is_file()

    # 3/3 sample: a series of 32, each PNG with its record (beside it and embedded), and a grid
    renders = out / "renders"
    pngs = sorted(renders.glob("seed*.png"))
    assert [p.name for p in pngs] == [f"seed{i:04d}.png" for i in range(SERIES)]
    generator_sha = sha256(run / "generator.safetensors")
    for png in pngs:
        record = json.loads(png.with_name(png.stem + ".record.json").read_text())
        assert record["kind"] == "sample" and record["seed"] == int(png.stem[4:]) and record["truncation"] == 0.7
        assert record["run_path"] == str(run.resolve()) and record["run"] == info["id"] and record["step"] == first
        assert record["generator_sha256"] == generator_sha
        with Image.open(png) as im:
            assert im.size == (64, 64) and json.loads(im.text["belamy:record"]) == record
    with Image.open(renders / "grid.png") as sheet:
        assert sheet.width >= 8 * 64 and sheet.height >= 4 * 64  # the contact sheet holds the series
    # 4/5 finish and 5/5 record: the first render, signed, minted, and verified with the demo's own
    # identity against the published ledger
    art = out / "artworks" / "seed0000.png"
    with Image.open(art) as im:
        assert im.size == (1024, 1024) and "belamy:provenance" in im.text
    r = belamy("verify", str(art), "--keys", str(out / "keys"), "--ledger", str(out / "ledger-public"))
    assert r.returncode == 0 and "verified" in r.stdout and "ok   ledger: 1 entries" in r.stdout, r.stdout + r.stderr

    # a record re-renders its image exactly (on the device it was rendered on: auto picks a GPU if any)
    record = renders / "seed0005.record.json"
    device = json.loads(record.read_text())["device"]
    r = belamy("sample", "--record", str(record), "--device", device, "-o", str(tmp_path / "again.png"))
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.asarray(Image.open(tmp_path / "again.png")), np.asarray(Image.open(pngs[5])))

    # a second `belamy demo` into the same folder continues the same run for --minutes more
    shutil.rmtree(renders)
    r = belamy("demo", "-o", str(out), "--count", str(COUNT), "--minutes", MINUTES)
    assert r.returncode == 0, r.stderr
    assert json.loads((run / "run.json").read_text())["id"] == info["id"]
    assert latest_step(run) > first
    assert json.loads((coll / "collection.json").read_text())["count"] == COUNT
    assert json.loads((renders / "seed0000.record.json").read_text())["step"] == latest_step(run)
    # the new artwork is minted beside the first on the same ledger, and verifies against it
    r = belamy("verify", str(art), "--keys", str(out / "keys"), "--ledger", str(out / "ledger-public"))
    assert r.returncode == 0 and "ledger: 1 entries included in its signed checkpoint of size 2" in r.stdout, r.stdout

    # another preset into the same folder is refused in one line, and the run is left as it was
    step = latest_step(run)
    r = belamy("demo", "-o", str(out), "--count", str(COUNT), "--minutes", MINUTES, "--preset", "cpu-128")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "cpu-quick-64 preset" in r.stderr and "-o NEW_FOLDER" in r.stderr
    assert latest_step(run) == step and json.loads((coll / "collection.json").read_text())["size"] == 64


def test_demo_at_128_px(tmp_path: Path):
    """`--preset cpu-128` paints the portraits at 128 px and renders them at 128 px."""
    out = tmp_path / "demo128"
    r = belamy("demo", "-o", str(out), "--count", str(COUNT), "--minutes", MINUTES, "--preset", "cpu-128")
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "collection" / "collection.json").read_text())["size"] == 128
    assert json.loads((out / "run" / "config.json").read_text())["preset"] == "cpu-128"
    with Image.open(out / "renders" / "seed0000.png") as im:
        assert im.size == (128, 128)
