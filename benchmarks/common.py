"""Shared by the benchmark scripts: machine facts and the JSON result file."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, Any]:
    import torch

    return {"cpu_count": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
            "torch": torch.__version__, "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}


def write_result(name: str, payload: dict[str, Any]) -> Path:
    """Write benchmarks/results/NAME.json with the machine and time attached."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                "machine": machine(), **payload}, indent=2))
    return path


def variant(spec: str, base: list[str]) -> tuple[str, list[str]]:
    """"NAME:key=value;key=value" -> (NAME, `base` + one `--set key=value` per pair); a pair
    `preset=P` replaces the base's preset instead (another model with its own settings)."""
    name, _, sets = spec.partition(":")
    pairs = [kv for kv in sets.split(";") if kv]
    args = list(base)
    for kv in pairs:
        if kv.startswith("preset="):
            args = [a for i, a in enumerate(args) if a != "--preset" and (i == 0 or args[i - 1] != "--preset")]
            args = ["--preset", kv.split("=", 1)[1]] + args
    return name, args + [x for kv in pairs if not kv.startswith("preset=") for x in ("--set", kv)]


def train_config(args: list[str]):
    """The TrainConfig that `belamy train` builds from these arguments' `--preset` and `--set k=v`s."""
    from belamy.api.config import resolve_train_config

    preset = args[args.index("--preset") + 1] if "--preset" in args else None
    sets = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--set"]
    return resolve_train_config(preset=preset, sets=sets)


def budget_runs(budgets: list[float], ramped: bool, unit: str) -> list[tuple[str, list[float]]]:
    """The runs that measure one (model, seed) at `budgets`, each as (run-name suffix, its budgets).

    One run resumed from budget to budget, unless the learning rates ramp down (`lr_rampdown`):
    a ramp ends with its budget, so the 5-minute figure of a ramped model is a 5-minute run, not
    a checkpoint of a 30-minute run at full rates.
    """
    if not ramped or len(budgets) < 2:
        return [("", list(budgets))]
    return [(f"-{b:g}{unit}", [b]) for b in budgets]


def idle_images(cfg, seconds: float, img_s: dict[int, float]) -> int:
    """Images a configuration trains in `seconds` of an idle machine, from its img/s at each batch
    (`train_speed.py`): at its start batch until `batch_start_kimg`, then at its batch."""
    if cfg.batch_start:
        early = cfg.batch_start_kimg * 1000
        t_early = early / img_s[cfg.batch_start]
        if seconds <= t_early:
            return int(seconds * img_s[cfg.batch_start])
        return int(early + (seconds - t_early) * img_s[cfg.batch])
    return int(seconds * img_s[cfg.batch])


def trained_images(run_dir: Path) -> int:
    """Images a run's latest checkpoint has trained (0 when it has none yet)."""
    from belamy.training import checkpoint as ckpt

    path = ckpt.latest(run_dir)  # None for a run not started yet
    if path is None:
        return 0
    return int(json.loads((path / ckpt.STATE).read_text())["train_state"]["images"])


def past_budget(trained: int, budget: int, batch: int) -> bool:
    """Whether a run that has trained `trained` images is already past a budget of `budget` images.

    Why: a run stops at the first step that reaches its budget, so it may overshoot by less than
    one batch; more than that means it was trained further before (a re-invoked benchmark with a
    smaller budget), and measuring it would label a later checkpoint with the smaller budget.
    """
    return trained >= budget + batch


def openclipart_png(cache: Path) -> Path:
    """The PNG tree of Debian's public-domain openclipart-png, downloaded and unpacked into
    `cache` once (never into the repository)."""
    root = cache / "openclipart" / "usr" / "share" / "openclipart" / "png"
    if root.is_dir():
        return root
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", "openclipart-png"], cwd=cache, check=True, capture_output=True)
    deb = sorted(cache.glob("openclipart-png_*.deb"))[-1]
    subprocess.run(["dpkg-deb", "-x", str(deb), str(cache / "openclipart")], check=True)
    return root


def untrained_run(root: Path, preset: str, info: dict[str, Any] | None = None):
    """A Run folder (root/run) holding `preset`'s generator at its initial weights (seed 0): for
    benchmarks whose cost does not depend on what the weights learned. `info` goes into run.json."""
    from dataclasses import asdict

    from belamy.models import build_generator
    from belamy.models.export import export_generator
    from belamy.models.run import Run
    from belamy.training.presets import train_preset

    cfg = train_preset(preset)
    G = build_generator(cfg.model, seed=0).eval()
    run = Path(root) / "run"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(asdict(cfg)))
    (run / "run.json").write_text(json.dumps({"id": f"bench-{preset}", **(info or {})}))
    export_generator(run / "generator.safetensors", G, asdict(cfg.model), {"step": 0})
    return Run.open(run)
