"""`belamy series | video | project | morph | mix | bookmark` as a user types them.

Run in-process through `belamy.cli.main.main` (the same entry point as the console script, minus
a fresh Python and torch import per command, which costs seconds on the 2-core machine).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from conftest import run_cli


def belamy(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    return run_cli(monkeypatch, capsys, *args)


def test_explore_commands(run, tmp_path, monkeypatch, capsys):
    r = str(run.path)
    code, out, err = belamy(monkeypatch, capsys, "series", r, "-n", "3", "--family", "4", "-o", str(tmp_path / "s"),
                            "--threads", "1")
    assert code == 0, err
    assert (tmp_path / "s" / "family0004.png").is_file() and (tmp_path / "s" / "family0004-02.record.json").is_file()
    code, _, err = belamy(monkeypatch, capsys, "mix", r, "--base", "1", "--coarse", "2", "--layers", "4-5=3",
                          "-o", str(tmp_path / "mix.png"), "--bookmark", "mixed", "--device", "cpu")
    assert code == 0, err
    rec = json.loads((tmp_path / "mix.record.json").read_text())
    assert rec["latent"]["mix"] == [{"layers": [0, 3], "latent": {"seed": 2}}, {"layers": [4, 6], "latent": {"seed": 3}}]
    code, _, err = belamy(monkeypatch, capsys, "bookmark", "save", r, "fam", "--record",
                          str(tmp_path / "s" / "family0004-01.record.json"))
    assert code == 0, err
    code, out, _ = belamy(monkeypatch, capsys, "bookmark", "list", r)
    assert "fam" in out and "mixed" in out and '"family": 4' in out
    code, _, err = belamy(monkeypatch, capsys, "video", r, "--latents", "bookmark:fam,7,bookmark:mixed",
                          "--seconds", "1", "--fps", "8", "-o", str(tmp_path / "walk.gif"))
    assert code == 0, err
    from belamy.generate.video import read_video

    assert read_video(tmp_path / "walk.gif")[:2] == (8, (32, 32))
    code, _, err = belamy(monkeypatch, capsys, "sample", "--record", str(tmp_path / "mix.record.json"),
                          "-o", str(tmp_path / "again.png"))
    assert code == 0, err
    from PIL import Image

    again, mixed = (np.asarray(Image.open(tmp_path / name).convert("RGB")) for name in ("again.png", "mix.png"))
    assert again.shape == (32, 32, 3) and np.array_equal(again, mixed)  # the record re-renders the mix exactly


def test_explore_errors_are_one_line(run, tmp_path, monkeypatch, capsys):
    r = str(run.path)
    (tmp_path / "junk.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (tmp_path / "bad.record.json").write_text("{not json")
    (tmp_path / "binary.record.json").write_bytes(b"\xff\xfe\x00binary")
    (tmp_path / "list.record.json").write_text("[1, 2]")
    cases = [
        ("project", r, str(tmp_path / "missing.png")),  # missing image
        ("project", r, str(tmp_path / "junk.png"), "--steps", "2"),  # unreadable image
        ("video", r, "--latents", "1,bookmark:nobody", "-o", str(tmp_path / "v.mp4")),  # unknown bookmark
        ("video", r, "--seeds", "1,2", "--fps", "0", "-o", str(tmp_path / "v.mp4")),  # bad fps
        ("video", r, "--seeds", "1,2", "--seconds", "-3", "-o", str(tmp_path / "v.mp4")),  # bad seconds
        ("video", r, "--seeds", "1,2", "-o", str(tmp_path / "v.avi")),  # unsupported suffix
        ("morph", r, "--from", str(tmp_path / "missing.png"), "--to", "3", "-o", str(tmp_path / "m.mp4")),
        ("mix", r, "--base", "1", "--fine", "2"),  # a 32 px model has no fine layers
        ("series", str(tmp_path), "-n", "3"),  # not a run
        ("bookmark", "save", r, "../x", "3"),  # bad name
        ("bookmark", "save", r, "y", "--record", str(tmp_path / "bad.record.json")),  # not a record
        ("sample", "--record", str(tmp_path / "binary.record.json"), "-o", str(tmp_path / "x.png")),  # binary file
        ("sample", "--record", str(tmp_path / "list.record.json"), "-o", str(tmp_path / "x.png")),  # JSON, not a record
    ]
    no_generator = tmp_path / "untrained"
    no_generator.mkdir()
    for name in ("run.json", "config.json"):
        (no_generator / name).write_text((Path(r) / name).read_text())
    cases.append(("video", str(no_generator), "--seeds", "1,2", "-o", str(tmp_path / "v.mp4")))
    for args in cases:
        code, _, err = belamy(monkeypatch, capsys, *args)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("belamy: error: "), (args, err)
    assert not (tmp_path / "v.mp4").exists() and not list(tmp_path.glob(".v.mp4*"))
