"""The whole journey in one call: demo collection -> training -> a sampled series with a contact sheet.

This is what the README's first command runs, so a new user sees every stage work on their own
machine in a few minutes, with no data and no downloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class DemoResult:
    collection: Path
    run: Path
    renders: Path
    contact_sheet: Path


def run_demo(out: str | Path = "belamy-demo", minutes: float = 3.0, count: int | None = None,
             series: int = 32, truncation: float = 0.7, device: str = "auto") -> DemoResult:
    """Collect the demo portraits, train the default CPU model for `minutes`, render a series."""
    from belamy.config import train_preset
    from belamy.data.collect import collect
    from belamy.core.progress import console
    from belamy.training import checkpoint as ckpt
    from belamy.training.train import train

    out = Path(out)
    console.print("[bold]1/3 collect[/]: painting the demo portraits")
    coll = collect(["demo://portraits"], out / "collection", size=64, demo_count=count)
    console.print(f"    {len(coll)} portraits in {coll.path} (contact sheet: {coll.path / 'preview.png'})")
    console.print(f"[bold]2/3 train[/]: {minutes:g} minutes of the default model (cpu-quick-64)")
    run_dir = out / "run"
    latest = ckpt.latest(run_dir)
    if latest is not None:  # a second `belamy demo` trains the same run `minutes` longer
        _, saved = ckpt.load(latest)
        done = saved["train_state"]["seconds"] / 60.0
        run = train(None, run_dir, resume=True, minutes=done + minutes, device=device)
    else:
        cfg = train_preset("cpu-quick-64")
        cfg.minutes = minutes
        cfg.device = device
        cfg.preview_kimg = 1.0
        run = train(coll.path, run_dir, cfg)
    console.print(f"[bold]3/3 sample[/]: a series of {series} portraits (truncation {truncation})")
    renders = out / "renders"
    run.sample(list(range(series)), renders, truncation=truncation)
    return DemoResult(coll.path, run.path, renders, renders / "grid.png")
