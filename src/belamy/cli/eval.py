"""`belamy eval`: measure a run's renders against its collection and print a table."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_cmd)


def eval_cmd(
    run: Path = typer.Argument(..., help="Run folder (from `belamy train`)."),
    n: int = typer.Option(500, "-n", help="Images to render (seeds SEED..SEED+n-1)."),
    metrics: str = typer.Option("swd,kid,pr,originality", "--metrics", help="Any of swd,kid,pr,fid,originality."),
    curve: bool = typer.Option(False, "--curve", help="Evaluate every kept checkpoint: eval/curve.json + curve.png."),
    checkpoint: Optional[str] = typer.Option(None, "--checkpoint", help="A checkpoint (e.g. step-00001200) instead of the exported generator."),
    seed: int = typer.Option(0, "--seed", help="First seed of the renders."),
    truncation: float = typer.Option(1.0, "--truncation", "--trunc", help="Truncation of the renders (1: none)."),
    features: str = typer.Option("rand", "--features", help="rand (belamy-rand-v1, no weights) or inception (needs the fid extra + weights)."),
    device: str = typer.Option("auto", "--device"),
) -> None:
    """Evaluate a run: SWD, KID, precision/recall, FID and originality of N renders."""
    from belamy.api.evaluate import EVAL_DIR, evaluate, evaluate_curve
    from belamy.core.errors import BelamyError
    from belamy.metrics.report import metric_lines
    from belamy.models.run import Run

    if not 0.0 <= truncation <= 2.0:
        raise BelamyError(f"--truncation {truncation} is out of range: use 0 to 1 (values above 1 exaggerate)")
    r = Run.open(run)
    if curve:
        if checkpoint is not None:
            raise BelamyError("--curve evaluates every checkpoint: leave out --checkpoint")
        rows = evaluate_curve(r, n=n, metrics=metrics, truncation=truncation, seed=seed, features=features, device=device,
                              on_step=lambda row: console.print(f"step {row['step']} ({row['kimg']:.1f} kimg) done"))
        keys = [k for k in ("swd", "kid", "precision", "recall", "fid", "originality", "near_copies") if k in rows[0]]
        table = Table("step", "kimg", *keys)
        for row in rows:
            table.add_row(str(row["step"]), f"{row['kimg']:.1f}", *(_fmt(row.get(k)) for k in keys))
        console.print(table)
        console.print(f"curve: {r.path / EVAL_DIR / 'curve.json'} and curve.png")
        return
    result = evaluate(r, n=n, metrics=metrics, truncation=truncation, seed=seed, checkpoint=checkpoint,
                      features=features, device=device)
    table = Table("metric", "value", title=f"{r.path.name}: {result['source']}, step {result['step']}, {n} renders")
    for name, value, _ in metric_lines(result):
        table.add_row(name, value)
    console.print(table)
    folder = r.path / EVAL_DIR
    console.print(f"results: {folder / ('eval-%08d.json' % result['step'])}")
    console.print(f"report:  {folder / 'report.html'}")


def _fmt(v) -> str:
    return "" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))
