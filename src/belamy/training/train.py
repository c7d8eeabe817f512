"""Set up a run (or resume one) and drive the Trainer.

Training knows nothing of sampling or measuring: the entry point (`belamy.api.train`) passes in
how to render a preview grid and what to check at the end (originality), as callbacks.
"""

from __future__ import annotations

import copy
import json
import os
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from belamy.core import atomic
from belamy.core.device import pick_device
from belamy.core.errors import BelamyError
from belamy.core.png import save_grid
from belamy.core.version import code_version
from belamy.data import names
from belamy.data.pairs import Pairs, open_training_data, side_by_side
from belamy.models import build_discriminator, build_generator
from belamy.models.run import Run
from belamy.training import checkpoint as ckpt
from belamy.training.config import TrainConfig
from belamy.training.curves import plot_curves
from belamy.training.dataset import Dataset
from belamy.training.distributed import broadcast_module, setup, teardown
from belamy.training.loop import Render, Trainer
from belamy.training.model_card import write_model_card
from belamy.training.state import TrainState

BUDGET_FIELDS = ("kimg", "steps", "minutes")

FinalCheck = Callable[[Run, int, torch.device], dict[str, Any]]  # (run, n renders, device) -> model-card summary


def train(collection: str | os.PathLike[str] | None, out: str | os.PathLike[str], config: TrainConfig | None = None,
          resume: bool = False, progress: bool | None = None, render: Render | None = None,
          final_check: FinalCheck | None = None, warn: Callable[[str], None] | None = None,
          **overrides: Any) -> Run:
    """Train a GAN on `collection` into the run folder `out`; return the `Run`.

    With `resume=True`, `out` is an existing run: training continues exactly where its latest
    checkpoint left off (budget fields in `overrides` may extend it). Ctrl-C stops cleanly with a
    checkpoint. `render` draws the preview grids (none without it); `final_check` runs on the
    finished run when `originality_n` > 0 and its summary goes into the model card; `warn`
    receives warnings meant for the user.
    """
    out = Path(out)
    if resume:
        cfg, info, saved = _resume_setup(out, overrides)
        collection = names.local_path(info["collection"])
    else:
        cfg = replace(config or TrainConfig())
        for k, v in overrides.items():
            if not hasattr(cfg, k):
                raise BelamyError(f"unknown training option '{k}'")
            setattr(cfg, k, v)
        if collection is None:
            raise BelamyError("no collection given: belamy train COLLECTION -o RUN")
        if ckpt.latest(out) is not None:
            raise BelamyError(f"{out} already holds a run: continue it with `belamy train --resume {out}` or choose a new -o")
    cfg.validate()
    if cfg.mirror == "auto":
        raise BelamyError("mirror=auto is decided from the collection by belamy.train (belamy.api.train): "
                          "give mirror=true or false here")
    coll = open_training_data(collection)
    if cfg.paired != isinstance(coll, Pairs):
        raise BelamyError(f"{collection} is {'a pairs folder' if isinstance(coll, Pairs) else 'a collection'}, but "
                          f"{cfg.model.name} trains on {'pairs' if cfg.paired else 'a collection'}: "
                          + ("use `belamy train-pair`" if isinstance(coll, Pairs) else "make pairs with `belamy pairs`"))
    if len(coll) == 0:
        raise BelamyError(f"collection {collection} is empty: add images with `belamy collect`")
    if cfg.sr and coll.size < cfg.model.resolution:
        raise BelamyError(f"{collection} holds {coll.size} px images, smaller than the {cfg.model.resolution} px "
                          f"training patch: collect again with --size {cfg.model.resolution} or more, or give "
                          f"--patch {coll.size}")
    env = setup(cfg.device, cfg.amp, cfg.threads, deterministic=cfg.deterministic)
    for b in cfg.batches:
        if b % env.world:
            raise BelamyError(f"batch {b} does not split over {env.world} processes: use a multiple of {env.world}")
    if not resume:
        info = {"id": uuid.uuid4().hex[:12], "collection": names.stored(Path(collection).resolve()),
                "collection_count": len(coll), "collection_manifest_sha": _manifest_digest(coll),
                "created": _now(), "world_size": env.world, "precision": env.precision}
        if env.is_main:
            info["code_version"] = code_version()
            out.mkdir(parents=True, exist_ok=True)
            atomic.write_json(out / "config.json", cfg.to_dict())
            atomic.write_json(out / "run.json", info)
    elif env.is_main and _manifest_digest(coll) != info.get("collection_manifest_sha") and warn is not None:
        warn("the collection changed since this run started; resuming, but not bit-exactly")

    G = build_generator(cfg.model, seed=cfg.seed)
    D = build_discriminator(cfg.model, seed=cfg.seed + 1)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    fmt = torch.channels_last if (cfg.channels_last and env.device.type == "cpu") else torch.contiguous_format
    for m in (G, D, G_ema):
        m.to(env.device, memory_format=fmt)
    for m in (G, D, G_ema):
        broadcast_module(m, env)
    data = Dataset.from_collection(coll, cfg.model.resolution, env.device, cfg.seed, cfg.mirror, crop=cfg.sr,
                                   jitter=cfg.jitter)
    state = TrainState.from_dict(saved[1]["train_state"]) if resume else TrainState()
    trainer = Trainer(cfg, out, data, env, G, D, G_ema, state, render=render, warn=warn)
    try:
        if resume:
            trainer.load_tensors(*saved)
            trainer.apply_lr_scale()
            _truncate_stats(out, state.step)
        else:
            if env.is_main:
                n = min(cfg.preview_n, len(data))
                reals = data.images[:n].permute(0, 2, 3, 1).cpu().numpy()  # (n, R, R, 3 or 3 + 3)
                if cfg.paired:  # condition | target
                    c = cfg.model.cond_channels
                    reals = np.stack([side_by_side(r[..., :c], r[..., c:]) for r in reals])
                save_grid(reals, out / "samples" / "reals.png")
            trainer.save()  # step 0: the watchdog always has a good checkpoint to go back to
            if env.is_main:
                write_model_card(out, cfg, coll, trainer.state, env)
        reason = trainer.run(progress)
        if env.is_main:
            plot_curves(out)
    finally:
        teardown(env)
    run = Run.open(out)
    run.stop_reason = reason  # type: ignore[attr-defined]
    if env.is_main:
        originality = None
        if final_check is not None and cfg.originality_n > 0 and reason != "interrupted":  # Ctrl-C: stop now
            originality = final_check(run, cfg.originality_n, env.device)
        write_model_card(out, cfg, coll, trainer.state, env, stopped=reason, originality=originality)
    return run


def _resume_setup(out: Path, overrides: dict[str, Any]):
    if not (out / "run.json").is_file():
        raise BelamyError(f"{out} is not a belamy run: nothing to resume (start one with `belamy train COLLECTION -o {out}`)")
    path = ckpt.latest(out)
    if path is None:
        raise BelamyError(f"{out} has no checkpoint to resume from")
    tensors, saved = ckpt.load(path)
    cfg = TrainConfig.from_dict(saved["config"], where=str(path))
    bad = [k for k in overrides if k not in BUDGET_FIELDS + ("device", "amp", "threads")]
    if bad:
        raise BelamyError(f"--resume continues the run's own config; only the budget and device can change (not '{bad[0]}')")
    if any(k in BUDGET_FIELDS for k in overrides):
        for k in BUDGET_FIELDS:
            setattr(cfg, k, None)
    for k, v in overrides.items():
        setattr(cfg, k, v)
    info = json.loads((out / "run.json").read_text())
    if "amp" not in overrides and cfg.amp == "auto" and "precision" not in info:
        if pick_device(cfg.device).type == "cpu":
            # Runs made before `--amp auto` meant bf16 on CPUs with native bf16 trained in float32
            # on every CPU: keep them so, that they continue exactly (`--amp bf16` switches one over).
            cfg.amp = "off"
    if not Path(names.local_path(info["collection"])).is_dir():
        raise BelamyError(f"the run's collection {names.display(info['collection'])} is gone: restore it to resume")
    return cfg, info, (tensors, saved)


def _truncate_stats(out: Path, step: int) -> None:
    """Drop stats lines written after the checkpoint we resume from (they will be written again)."""
    f = out / "stats.jsonl"
    if not f.is_file():
        return
    keep = []
    for line in f.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if row.get("step", 0) <= step:
            keep.append(line)
    atomic.write_text(f, "".join(line + "\n" for line in keep))


def _manifest_digest(coll) -> str:
    import hashlib

    h = hashlib.sha256()
    for row in coll.manifest:
        h.update(row["sha256"].encode())
    return h.hexdigest()[:16]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
