"""`belamy.train()`: training wired to the stages it reports through.

The training stage takes how to draw its preview grids and what to check at the end as
callbacks; this entry point supplies them from `generate` (rendering) and `metrics` (the
originality check), so training never imports a stage beside it.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np
import torch

from belamy.api.evaluate import evaluate
from belamy.data.collection import Collection
from belamy.generate.sample import render_batch
from belamy.metrics.symmetry import FLIP_TOLERANCE, flips_fit
from belamy.models.run import Run
from belamy.training import train as training
from belamy.training.config import TrainConfig


def render_preview(G: torch.nn.Module, seeds: list[int]) -> np.ndarray:
    """Fixed-seed preview renders (no truncation) on the generator's own device."""
    return render_batch(G, seeds, truncation=1.0, device=G.w_avg.device)


def check_originality(run: Run, n: int, device: torch.device) -> dict[str, Any]:
    """Renders seeds 0..n-1 of the final generator against the collection; writes RUN/eval/
    (JSON, report.html, originality.png) and returns the summary for the model card."""
    result = evaluate(run, n=n, metrics=["originality"], device=str(device))
    summary = {k: v for k, v in result["metrics"]["originality"].items() if k != "renders"}
    return {**summary, "step": result["step"], "seeds": result["seeds"], "truncation": result["truncation"]}


def train(collection: str | os.PathLike[str] | None, out: str | os.PathLike[str], config: TrainConfig | None = None,
          resume: bool = False, progress: bool | None = None, warn: Callable[[str], None] | None = None,
          **overrides: Any) -> Run:
    """Train a GAN on `collection` into the run folder `out` (or continue it with `resume=True`);
    return the `Run`. Preview grids and the end-of-run originality check are included, and
    `mirror="auto"` is decided here from the collection (`say` gets a line on what was chosen)."""
    if not resume and collection is not None:
        base = config or TrainConfig()
        if overrides.get("mirror", base.mirror) == "auto":
            overrides["mirror"] = decide_mirror(collection, overrides.get("seed", base.seed), warn)
    return training.train(collection, out, config, resume=resume, progress=progress, render=render_preview,
                          final_check=check_originality, warn=warn, **overrides)


def decide_mirror(collection: str | os.PathLike[str], seed: int, say: Callable[[str], None] | None) -> bool:
    """Whether x-flips suit this collection (`metrics.symmetry`), said in one line."""
    flip, ratio = flips_fit(Collection.open(collection).images, seed)
    if say is not None:
        why = ("too few images to tell" if ratio is None else
               f"its mirror image scores {ratio:.2f}x itself at the coarsest SWD level, "
               f"{'within' if flip else 'beyond'} {FLIP_TOLERANCE}x")
        say(f"mirror=auto: x-flips {'on' if flip else 'off'} ({why})")
    return flip
