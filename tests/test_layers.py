"""The layers of docs/design.md hold: cli -> api -> stages -> models, data -> core.

import-linter reads the contract from pyproject.toml and counts every import, including those
inside functions, so a stage that reaches up (or sideways into another stage) fails CI.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def lint(cwd: Path, src: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "lint-imports"
    if not exe.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    code = ("import sys; src = sys.argv.pop(1); sys.path.insert(0, src); import belamy; "
            "assert belamy.__file__.startswith(src), belamy.__file__; "
            "from importlinter.cli import lint_imports_command; lint_imports_command()")
    return subprocess.run([sys.executable, "-c", code, str(src)], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_the_layers_contract_is_kept():
    out = lint(ROOT, ROOT / "src")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 kept, 0 broken" in out.stdout


def test_a_stage_importing_another_stage_breaks_it(tmp_path: Path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "src" / "belamy", tmp_path / "src" / "belamy",
                    ignore=shutil.ignore_patterns("__pycache__"))
    with open(tmp_path / "src" / "belamy" / "training" / "ema.py", "a") as fh:
        fh.write("\n\ndef _preview():\n    from belamy.generate.sample import render_batch  # a hidden import\n"
                 "    return render_batch\n")
    out = lint(tmp_path, tmp_path / "src")
    assert out.returncode != 0
    assert "belamy.training is not allowed to import belamy.generate" in out.stdout
