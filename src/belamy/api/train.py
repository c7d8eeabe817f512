"""`belamy.train()`: training wired to the stages it reports through.

The training stage takes how to draw its preview grids and what to check at the end as
callbacks; this entry point supplies them from `generate` (rendering) and `metrics` (the
originality check), so training never imports a stage beside it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from belamy.api.evaluate import evaluate
from belamy.core.resize import at_resolution
from belamy.data.collection import Collection
from belamy.data.degrade import DegradeConfig, degrade
from belamy.data.pairs import Pairs, is_pairs, side_by_side
from belamy.generate.sample import render_batch
from belamy.generate.translate import translate_arrays
from belamy.metrics.symmetry import FLIP_TOLERANCE, flips_fit
from belamy.models.run import Run
from belamy.training import train as training
from belamy.training.config import TrainConfig


def render_preview(G: torch.nn.Module, seeds: list[int]) -> np.ndarray:
    """Fixed-seed preview renders (no truncation) on the generator's own device."""
    return render_batch(G, seeds, truncation=1.0, device=G.w_avg.device)


def pair_preview(pairs: Pairs, n: int) -> Callable[[torch.nn.Module, list[int]], np.ndarray]:
    """Previews of a conditional run: condition | G(condition) | target for the first `n` pairs."""
    n = min(n, len(pairs))
    cond, target = np.array(pairs.condition.images[:n]), np.array(pairs.target.images[:n])  # off the memmap

    def render(G: torch.nn.Module, seeds: list[int]) -> np.ndarray:
        out = _at(translate_arrays(G, cond), cond.shape[1])  # at the pairs' size, beside them
        return np.stack([side_by_side(c, o, t) for c, o, t in zip(cond, out, target)])

    return render


def sr_preview(coll: Collection, cfg: TrainConfig, n: int) -> Callable[[torch.nn.Module, list[int]], np.ndarray]:
    """Previews of a super-resolution run: low-res input (nearest) | G's upscale | the original, on
    the centre crops of the first `n` images, degraded once with a fixed seed."""
    r, s = cfg.model.resolution, cfg.model.scale
    images = np.array(coll.images[:min(n, len(coll))])  # (n, S, S, 3), off the memmap
    o = (images.shape[1] - r) // 2
    hr = torch.from_numpy(images[:, o:o + r, o:o + r]).permute(0, 3, 1, 2).float() / 127.5 - 1  # (n, 3, R, R)
    low = degrade(hr, s, torch.Generator().manual_seed(0), DegradeConfig.named(cfg.degrade))

    def render(G: torch.nn.Module, seeds: list[int]) -> np.ndarray:
        with torch.no_grad():
            up = G(low.to(next(G.parameters()).device)).float().cpu()
        rows = [torch.nn.functional.interpolate(low, scale_factor=s, mode="nearest"), up, hr]
        as_u8 = [((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy() for x in rows]
        return np.stack([side_by_side(a, b, c) for a, b, c in zip(*as_u8)])

    return render


def _at(images: np.ndarray, side: int) -> np.ndarray:
    return images if images.shape[1] == side else at_resolution(images, side)


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
    render = render_preview
    if not resume and collection is not None:
        base = config or TrainConfig()
        if overrides.get("mirror", base.mirror) == "auto":
            target = Path(collection) / "target" if is_pairs(collection) else collection
            overrides["mirror"] = decide_mirror(target, overrides.get("seed", base.seed), warn)
    source = collection if not resume else _run_collection(out)
    cfg = config if not resume else _run_config(out)
    if source is not None and is_pairs(source):
        n = (config.preview_n if config is not None and not resume else 8)
        render = pair_preview(Pairs.open(source), n)
    elif source is not None and cfg is not None and cfg.sr:
        coll = Collection.open(source)
        if coll.size >= cfg.model.resolution:  # else training refuses it, in one line
            render = sr_preview(coll, cfg, cfg.preview_n)
    return training.train(collection, out, config, resume=resume, progress=progress, render=render,
                          final_check=check_originality, warn=warn, **overrides)


def _run_config(run_dir: str | os.PathLike[str]) -> TrainConfig | None:
    """The config an existing run trains with (None if it is not a run: training says so)."""
    import json

    f = Path(run_dir) / "config.json"
    return TrainConfig.from_dict(json.loads(f.read_text()), where=str(f)) if f.is_file() else None


def _run_collection(run_dir: str | os.PathLike[str]) -> str | None:
    """The collection (or pairs folder) an existing run trains on."""
    import json

    from belamy.data import names

    info = Path(run_dir) / "run.json"
    return names.local_path(json.loads(info.read_text())["collection"]) if info.is_file() else None


def decide_mirror(collection: str | os.PathLike[str], seed: int, say: Callable[[str], None] | None) -> bool:
    """Whether x-flips suit this collection (`metrics.symmetry`), said in one line."""
    flip, ratio = flips_fit(Collection.open(collection).images, seed)
    if say is not None:
        why = ("too few images to tell" if ratio is None else
               f"its mirror image scores {ratio:.2f}x itself at the coarsest SWD level, "
               f"{'within' if flip else 'beyond'} {FLIP_TOLERANCE}x")
        say(f"mirror=auto: x-flips {'on' if flip else 'off'} ({why})")
    return flip
