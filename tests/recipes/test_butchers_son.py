"""`belamy recipe butchers-son` at a tiny budget: every step runs through the CLI, the picks are the
top of the studio's learned taste, the finished works verify, and a re-run redoes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli

from belamy.api.finish import verify
from belamy.recipes.butchers_son import DEFAULT_MINUTES, RATED, RENDERS, critic_ratings, ranked
from belamy.studio.service import Studio

STEPS = ["figures", "pairs", "pix2pix", "sr", "poses", "chain", "pick", "finish"]


def test_butchers_son_end_to_end_and_resumed(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("BELAMY_KEYS", str(tmp_path / "no-identity"))  # the recipe makes its own in OUT/keys
    out = tmp_path / "butchers-son"
    args = ("recipe", "butchers-son", "-o", str(out), "--minutes", "0.3", "--no-browser", "--device", "cpu")
    code, stdout, err = run_cli(monkeypatch, capsys, *args)
    assert code == 0, stdout + err
    assert "butchers-son: poses -> stick figures" in stdout and "0.3 min budget" in stdout  # the summary table
    for step in STEPS:
        assert step in stdout
    state = json.loads((out / "recipe.json").read_text())
    assert list(state["steps"]) == STEPS
    assert sorted(p.name for p in (out / "pictures").iterdir()) == [f"{i:02d}-{s}.png" for i, s in
                                                                     enumerate(STEPS, 1)]

    renders = out / "chain" / "renders"
    made = sorted(renders.glob("chain-*.png"))
    count = round(RENDERS * 0.3 / DEFAULT_MINUTES)  # scaled down from 2000
    assert len(made) == state["steps"]["chain"]["facts"]["renders"] == count
    assert all(p.with_name(p.stem + ".record.json").is_file() for p in made)
    assert len(list((out / "chain" / "sticks").glob("*.png"))) == count

    # the scripted critic rated a spread of renders through the studio's state; the taste model
    # learned from them ranked every render, and the top of its ranking was picked and exported
    picks = state["steps"]["pick"]["facts"]["picks"]
    assert len(picks) == count // 10 and state["steps"]["pick"]["facts"]["critic_rated"] == RATED
    studio = Studio([renders], renders / ".belamy-studio", warm=False, device="cpu")
    try:
        summary, order = ranked(studio)
        marks = studio.state.marks()
        rated = {t.path: marks[t.sha256].rating for t, _ in order if t.sha256 in marks and marks[t.sha256].rating}
        picked = sorted(t.name for t, _ in order if t.sha256 in marks and marks[t.sha256].pick)
    finally:
        studio.close()
    assert summary["ready"] and len(rated) == RATED
    assert rated == critic_ratings(sorted(rated))  # the documented rule, nothing else
    assert [t.name for t, _ in order[:len(picks)]] == picks
    assert picked == sorted(picks)
    assert sorted(p.name for p in (out / "picks").glob("chain-*.png")) == sorted(picks)
    assert (out / "picks" / "ratings.csv").is_file()

    # every pick finished, signed by the recipe's identity, and the artwork verifies
    arts = [out / "artworks" / name for name in picks]
    assert all(a.is_file() and a.with_suffix(".c2pa").is_file() for a in arts)
    verdict = verify(arts[0], keys=out / "keys")
    assert verdict.exit_code == 0, verdict.findings
    assert verdict.record["artwork"]["width"] == 512 and verdict.record["render"]["kind"] == "chain"
    assert verdict.record["render"]["upscale"]["run"]["scale"] == 2

    # a second run skips every step: no training, no rendering, no finishing
    watched = [out / "pix2pix" / "generator.safetensors", out / "sr" / "generator.safetensors", made[0], arts[0]]
    before = [p.stat().st_mtime_ns for p in watched]
    code, stdout, err = run_cli(monkeypatch, capsys, *args)
    assert code == 0, stdout + err
    flat = " ".join(stdout.split())
    for i, step in enumerate(STEPS, 1):
        assert f"{i}/{len(STEPS)} {step}: done in an earlier run" in flat
    assert [p.stat().st_mtime_ns for p in watched] == before

    # a step whose artefact went missing is redone, and only that one
    (out / "artworks").rename(out / "artworks-gone")
    code, stdout, err = run_cli(monkeypatch, capsys, *args)
    assert code == 0, stdout + err
    flat = " ".join(stdout.split())
    assert "7/8 pick: done in an earlier run" in flat and "8/8 finish: done in an earlier run" not in flat
    assert sorted(p.name for p in (out / "artworks").glob("chain-*.png")) == sorted(picks)


def test_another_budget_in_the_same_folder_is_one_line(tmp_path: Path, monkeypatch, capsys):
    out = tmp_path / "bs"
    out.mkdir()
    (out / "recipe.json").write_text(json.dumps({"recipe": "butchers-son", "format_version": 1, "minutes": 0.3,
                                                 "steps": {}}))
    code, stdout, err = run_cli(monkeypatch, capsys, "recipe", "butchers-son", "-o", str(out), "--minutes", "2",
                                "--no-browser")
    assert code != 0
    assert "was started with --minutes 0.3" in stdout + err
