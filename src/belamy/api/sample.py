"""`belamy.sample()`: renders of a run, each record carrying its originality check."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from belamy.generate import sample as generate
from belamy.metrics.originality import originality_checker
from belamy.models.run import Run


def sample(run: Run | str | os.PathLike[str], seeds: list[int] | range, out: str | os.PathLike[str],
           truncation: float = 1.0, originality: bool = True, **kw: Any) -> list[Path]:
    """Render `seeds` of `run` into `out` (PNG + record each, plus grid.png). With `originality`,
    each record also names its nearest training image and score. Other options: see
    `belamy.generate.sample.sample` (noise_mode, device, grid, progress)."""
    run = run if isinstance(run, Run) else Run.open(run)
    check = originality_checker(run) if originality else None
    return generate.sample(run, list(seeds), Path(out), truncation=truncation, check=check, **kw)
