"""`belamy recipe belamy-family` at a tiny budget, through the console script: it ends with a
signed print minted on a ledger, prints its summary table, and a re-run skips what is done."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from belamy.api import ledger as ledger_api
from belamy.api.finish import verify

ENV = {**os.environ, "BELAMY_PROGRESS": "0", "BELAMY_KEYS": os.path.join(os.sep, "nonexistent", "belamy-test-keys"),
       "COLUMNS": "200"}
STEPS = ["portraits", "train", "family", "pick", "finish", "record"]


def belamy(*args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("belamy")
    cmd = [str(script)] if script.is_file() else [sys.executable, "-m", "belamy"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=ENV, timeout=600)


def test_belamy_family_end_to_end_then_resumes(tmp_path: Path):
    out = tmp_path / "family"
    r = belamy("recipe", "belamy-family", "-o", str(out), "--minutes", "0.1")
    assert r.returncode == 0, r.stdout + r.stderr
    for step in STEPS:  # the summary table, one row a step
        assert f"│ {step} " in r.stdout, r.stdout
    state = json.loads((out / "recipe.json").read_text())
    assert list(state["steps"]) == STEPS and state["minutes"] == 0.1

    # the family: 11 renders with records; the pick is the one D scored highest
    family = sorted((out / "family").glob("family0001-*.png"))
    assert len(family) == 11 and all(p.with_name(p.stem + ".record.json").is_file() for p in family)
    scores = state["steps"]["pick"]["facts"]["scores"]
    assert Path(state["steps"]["pick"]["facts"]["pick"]).name == family[scores.index(max(scores))].name

    # the print verifies, is on the ledger, and the certificate credits the code it came from
    art = out / state["steps"]["finish"]["artefacts"]["artwork"]
    assert verify(art, keys=out / "keys").exit_code == 0
    assert ledger_api.verify(out / "ledger").ok and ledger_api.history(out / "ledger")["size"] == 1
    page = (out / "certificate.html").read_text()
    assert "Karras" in page and "github.com" in page
    r = belamy("verify", str(art), "--keys", str(out / "keys"), "--ledger", str(out / "ledger-public"))
    assert r.returncode == 0 and "ok   ledger" in r.stdout, r.stdout
    pictures = sorted(p.name for p in (out / "pictures").glob("*.png"))
    assert pictures == ["01-portraits.png", "02-train.png", "03-family.png", "04-pick.png", "05-finish.png"]

    # a re-run skips every step and trains nothing more
    ckpt = (out / "run" / "checkpoints" / "latest").read_text()
    r = belamy("recipe", "belamy-family", "-o", str(out))
    assert r.returncode == 0 and r.stdout.count("done in an earlier run") == len(STEPS), r.stdout
    assert (out / "run" / "checkpoints" / "latest").read_text() == ckpt

    # killed after minting but before noting it: the re-run finishes the step without a second mint
    state["steps"].pop("record")
    (out / "recipe.json").write_text(json.dumps(state))
    r = belamy("recipe", "belamy-family", "-o", str(out))
    assert r.returncode == 0 and r.stdout.count("done in an earlier run") == len(STEPS) - 1, r.stdout
    assert ledger_api.history(out / "ledger")["size"] == 1

    # another budget for the same folder is one line, and nothing is touched
    r = belamy("recipe", "belamy-family", "-o", str(out), "--minutes", "5")
    assert r.returncode == 2 and "--minutes 0.1" in r.stderr and "Traceback" not in r.stderr
    assert (out / "run" / "checkpoints" / "latest").read_text() == ckpt


def test_unknown_recipe_and_a_folder_of_another_recipe_are_one_line(tmp_path: Path):
    r = belamy("recipe", "mona-lisa", "-o", str(tmp_path / "x"))
    assert r.returncode == 2 and "unknown recipe 'mona-lisa'" in r.stderr and "belamy-family" in r.stderr
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "recipe.json").write_text(json.dumps({"recipe": "instantiation", "steps": {}}))
    r = belamy("recipe", "belamy-family", "-o", str(tmp_path / "y"))
    assert r.returncode == 2 and "holds the recipe 'instantiation'" in r.stderr
    r = belamy("recipe")
    assert r.returncode == 0 and all(name in r.stdout for name in ("belamy-family", "butchers-son", "instantiation"))
