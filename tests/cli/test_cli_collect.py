"""The CLI as a user runs it: real subprocesses, one clear error line, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import encode, pattern


def belamy(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "belamy", *args], capture_output=True, text=True, cwd=cwd,
                          env={"BELAMY_PROGRESS": "0", "PATH": "/usr/bin:/bin", "HOME": str(cwd or Path.home())})


def test_collect_show_and_credits(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"{i}.png").write_bytes(encode(pattern(i), "PNG"))
    (src / "bad.png").write_bytes(b"")
    (tmp_path / "credits.csv").write_text("file,author,license\n0.png,Ann,CC0-1.0\n")
    r = belamy("collect", str(src), "-o", str(tmp_path / "c"), "--size", "32", "--workers", "1",
               "--credits", str(tmp_path / "credits.csv"))
    assert r.returncode == 0, r.stderr
    assert "added" in r.stdout and "empty file" in r.stdout
    r = belamy("collection", "show", str(tmp_path / "c"))
    assert r.returncode == 0 and "CC0-1.0" in r.stdout and "missing credits" in r.stdout
    r = belamy("collection", "credits", str(tmp_path / "c"))
    assert r.returncode == 0 and (tmp_path / "c" / "CREDITS.md").read_text().count("- *") == 3
    strict = belamy("collect", str(src), "-o", str(tmp_path / "s"), "--size", "32", "--strict", "--workers", "1")
    assert strict.returncode != 0 and "--strict" in strict.stderr


def test_user_errors_are_one_line(tmp_path: Path):
    cases = [
        ("collect", str(tmp_path / "missing"), "-o", str(tmp_path / "c")),
        ("collect", str(tmp_path), "-o", str(tmp_path / "c"), "--size", "100"),
        ("collect", "--demo", "landscapes", "-o", str(tmp_path / "c")),
        ("collection", "show", str(tmp_path)),
        ("collect", str(tmp_path), "-o", str(tmp_path / "c"), "--license", "not-a-licence"),
    ]
    for args in cases:
        r = belamy(*args)
        assert r.returncode == 2, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("belamy: error: "), (args, r.stderr)
        assert "Traceback" not in r.stderr
    r = belamy("--debug", "collection", "show", str(tmp_path))
    assert r.returncode != 0 and "Traceback" in r.stderr


def test_odd_names_reach_the_terminal_readably(tmp_path: Path):
    """Names that are not UTF-8, or that look like rich markup, print as text on a strict UTF-8 terminal."""
    import os

    src = tmp_path / "src"
    src.mkdir()
    try:
        with open(os.path.join(os.fsencode(src), b"caf\xe9.png"), "wb") as fh:
            fh.write(b"")  # skipped, so the summary names it
    except OSError:  # pragma: no cover - file systems that refuse such names
        import pytest

        pytest.skip("this file system only takes UTF-8 names")
    (src / "[bold]x.png").write_bytes(encode(pattern(1), "PNG"))
    (src / "[red]bad.png").write_bytes(b"not an image")
    (tmp_path / "credits.csv").write_text("file,author\n[/missing].png,Ann\n")
    out = os.path.join(os.fsencode(tmp_path), b"out \xfc")
    env = {"BELAMY_PROGRESS": "0", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "PYTHONUTF8": "0", "COLUMNS": "200"}  # stdout encodes strictly, as on a user's UTF-8 terminal
    r = subprocess.run([sys.executable, "-m", "belamy", "collect", str(src), "-o", out, "--size", "32",
                        "--workers", "1", "--credits", str(tmp_path / "credits.csv")], capture_output=True, env=env)
    stdout, stderr = r.stdout.decode("utf-8"), r.stderr.decode("utf-8")
    assert r.returncode == 0, stderr
    assert "caf\\xe9.png" in stdout and "[red]bad.png" in stdout and "[/missing].png" in stdout
    assert "out \\xfc" in stdout
    r = subprocess.run([sys.executable, "-m", "belamy", "collection", "credits", out], capture_output=True, env=env)
    assert r.returncode == 0 and "[bold]x.png" in r.stdout.decode("utf-8") + open(
        os.path.join(out, b"CREDITS.md"), encoding="utf-8").read()
    strict = subprocess.run([sys.executable, "-m", "belamy", "collect", str(src), "-o", str(tmp_path / "s"), "--strict",
                             "--size", "32", "--workers", "1"], capture_output=True, env=env)
    lines = strict.stderr.decode("utf-8").strip().splitlines()
    assert strict.returncode != 0 and len(lines) == 1 and "--strict" in lines[0]
