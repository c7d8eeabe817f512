"""The discriminator's score of a render: the run's own D (from its latest checkpoint) asked how
real the picture looks, a sort key the artist can compute on demand.

It needs the run with its checkpoints: a shared run (`belamy export`) carries no D, and a run that
maps images to images (pix2pix, super-resolution) has a conditional D that judges pairs, so both
are skipped. Scores are cached in the state by (image sha256, checkpoint folder), so a rescore
after more training computes only what the new checkpoint has not seen. Torch is imported only
when scoring.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from belamy.core.errors import BelamyError
from belamy.studio.library import Tile
from belamy.studio.state import State

IMAGE_TO_IMAGE = ("pix2pix", "srvgg", "rrdb")


class DScorer:
    """The loaded discriminators, one per run folder (None when the run has none to use)."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._loaded: dict[str, tuple[Any, int, str] | None] = {}

    def load(self, run_path: str) -> tuple[Any, int, str]:
        """(D in eval mode, its resolution, the checkpoint's path) for a run, or a one-line error."""
        if run_path not in self._loaded:
            try:
                self._loaded[run_path] = self._build(run_path)
            except BelamyError:
                self._loaded[run_path] = None
                raise
        found = self._loaded[run_path]
        if found is None:
            raise BelamyError(f"{run_path}: no discriminator to score with")
        return found

    def _build(self, run_path: str) -> tuple[Any, int, str]:
        from belamy.models import ModelConfig, build_discriminator
        from belamy.models.run import Run
        from belamy.training import checkpoint

        run = Run.open(run_path)
        cfg = run.model_config
        if cfg.get("name") in IMAGE_TO_IMAGE:
            raise BelamyError(f"{run_path} is a {cfg.get('name')} run: its D judges pairs, not single renders")
        ckpt = checkpoint.latest(run.path)
        if ckpt is None:
            raise BelamyError(f"{run_path} has no checkpoint (a shared run carries no discriminator)")
        tensors, _ = checkpoint.load(ckpt)
        D = build_discriminator(ModelConfig.from_dict(cfg))
        checkpoint.load_module(D, "D", tensors)
        D.eval().to(self.device)
        return D, int(cfg.get("resolution", 64)), str(ckpt)

    def score(self, run_path: str, png: Path) -> tuple[float, str]:
        """(D's logit for the render, the checkpoint that gave it): higher looks more real to D."""
        import torch

        D, size, ckpt = self.load(run_path)
        with Image.open(png) as im:
            arr = np.asarray(im.convert("RGB").resize((size, size), Image.Resampling.LANCZOS), np.float32)
        x = torch.from_numpy(arr / 127.5 - 1.0).permute(2, 0, 1)[None].to(self.device)
        with torch.no_grad():
            return float(D(x).float().mean()), ckpt


def score_library(scorer: DScorer, state: State, tiles: list[Tile], sha_of: Callable[[Tile], str | None],
                  allows: Callable[[Path], bool]) -> int:
    """Score every tile whose run and checkpoint are here, skipping what the state already holds
    for that checkpoint and every render of a run without a usable D; how many were scored."""
    done = {(sha, ck) for sha, ck in state.read("SELECT sha256, checkpoint FROM dscores")}
    failed: set[str] = set()
    scored = 0
    for t in tiles:
        run = t.meta.get("run_path")
        sha = sha_of(t) if t.viewable else None
        if not run or sha is None or run in failed or not allows(t.path):
            continue
        try:
            if (sha, scorer.load(run)[2]) in done:
                continue
            score, ckpt = scorer.score(run, t.path)
        except BelamyError:
            failed.add(run)
            continue
        state.write("INSERT OR REPLACE INTO dscores VALUES (?, ?, ?)", (sha, ckpt, score))
        done.add((sha, ckpt))
        scored += 1
    return scored


def cached_scores(state: State) -> dict[str, float]:
    """The latest checkpoint's score of each image, by sha256 (checkpoint folders sort by step)."""
    return {sha: score for sha, score in state.read("SELECT sha256, score FROM dscores ORDER BY checkpoint")}
