"""`belamy recipe instantiation` at a tiny budget, through the CLI: every step makes what it says
(a 12 s morph, a verified artwork, a ledger whose history ends with the buyer), and a re-run skips
every step, also when the recipe lost its record of the mint and transfer (a kill -9 between the
ledger's write and the recipe's): the ledger is read, nothing is minted twice."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from belamy.api import ledger
from belamy.api.finish import verify
from belamy.cli.main import app

STEPS = ["sitter", "train", "self-portrait", "morph", "brush", "finish", "nft", "mint", "transfer"]


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELAMY_PROGRESS", "0")
    monkeypatch.setenv("BELAMY_KEYS", os.path.join(os.sep, "nonexistent", "belamy-test-keys"))  # the recipe's own
    monkeypatch.setenv("COLUMNS", "160")


def recipe(out: Path):
    r = CliRunner().invoke(app, ["recipe", "instantiation", "-o", str(out), "--minutes", "0.1", "--no-browser"])
    assert r.exit_code == 0, r.output + repr(r.exception)
    return r.output


def video_seconds(path: Path) -> float:
    if path.suffix == ".gif":  # without the video extra (Pillow merges repeated frames, adding durations)
        with Image.open(path) as im:
            total = 0
            for i in range(im.n_frames):
                im.seek(i)
                total += im.info["duration"]
        return total / 1000
    import imageio_ffmpeg

    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert frames == 300
    return seconds


def history(out: Path) -> list[dict]:
    return ledger.history(out / "ledger", out / "artwork" / state(out)["self"])["artwork"]["entries"]


def state(out: Path) -> dict:
    s = json.loads((out / "recipe.json").read_text())
    s["self"] = Path(s["steps"]["finish"]["artefacts"]["artwork"]).name
    return s


def test_instantiation_recipe_end_to_end_then_resumed(tmp_path: Path) -> None:
    out = tmp_path / "inst"
    first = recipe(out)
    for step in STEPS:
        assert step in first
    assert "sold to the buyer" in first and "earlier run" not in first
    s = state(out)
    assert list(s["steps"]) == STEPS

    # every step left its picture
    pictures = sorted(p.name for p in (out / "pictures").glob("*.png"))
    assert [p.split("-", 1)[0] for p in pictures] == [f"{i:02d}" for i in range(1, 10)]

    # the collection is one sitter; the self-portrait is one of the renders
    assert json.loads((out / "collection" / "collection.json").read_text())["size"] == 64
    portrait = out / s["steps"]["self-portrait"]["artefacts"]["self-portrait"]
    assert portrait.is_file() and portrait.parent == out / "renders"

    # the morph lasts 12 s, and starts from a painting of the collection
    video = out / s["steps"]["morph"]["artefacts"]["video"]
    assert abs(video_seconds(video) - 12.0) < 0.1
    assert (out / "morph" / "source.png").is_file()

    # the brushed composite is what was finished, and the finished artwork verifies
    artwork = out / "artwork" / s["self"]
    assert verify(artwork, keys=out / "keys").status == "verified"
    record = json.loads(artwork.with_name(artwork.stem + ".provenance.json").read_text())
    assert [st["kind"] for st in record["steps"]][:2] == ["sample", "brush"]
    assert json.loads((out / "nft" / "metadata.json").read_text())["image"].startswith("ipfs://")

    # the ledger verifies and its history ends with the buyer owning the work
    assert ledger.verify(out / "ledger").ok
    entries = history(out)
    assert [e["type"] for e in entries] == ["mint", "transfer"]
    assert entries[-1]["owner"] == {"name": "the buyer", "key": ledger.owner_key(out / "buyer")}
    assert entries[-1]["price"] == "1.5 ETH"

    # a re-run skips every step and writes nothing to the ledger
    again = recipe(out)
    assert again.count("done in an earlier run") == len(STEPS)
    assert history(out) == entries
    assert state(out)["steps"] == s["steps"]

    # killed after the ledger's writes but before the recipe recorded them: found, not repeated
    lost = json.loads((out / "recipe.json").read_text())
    del lost["steps"]["mint"], lost["steps"]["transfer"]
    (out / "recipe.json").write_text(json.dumps(lost))
    third = recipe(out)
    assert third.count("done in an earlier run") == len(STEPS) - 2
    steps = json.loads((out / "recipe.json").read_text())["steps"]
    for step in ("mint", "transfer"):
        assert "(found on the ledger from an earlier run)" in steps[step]["summary"]
    assert history(out) == entries and ledger.verify(out / "ledger").ok
