"""`belamy chain`: poses -> stick figures -> pix2pix figures, thousands of renders, resumable.

Wires the steps of a chain config (`chain.config`): poses from the procedural sampler or a pose
collection (data), drawn as stick figures (data), translated by a pix2pix run (generate), and, with an `[upscale]` table, each translation through
a super-resolution run (refine, through `api.upscale.SRUpscaler`). Render
i is a pure function of (config, i): the indices are split into fixed batches, so a chain
resumes by redoing only the renders whose record is missing (the record is written after its
PNG, each atomically: a kill -9 leaves at most one render to redo), and shards take whole
batches (`--shard K/N`, or torchrun's RANK/WORLD_SIZE).

    OUT/chain.json                 the resolved config and the run's generator sha256
    OUT/renders/chain-000042.png   + .record.json (pose, stick settings, generator sha256, and the
                                   upscale step: SR run id, generator sha256, scale, tile, overlap)
    OUT/sticks/chain-000042.png    the stick figure it was translated from
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from belamy.chain.config import ChainConfig, read_chain_config
from belamy.core import atomic
from belamy.core.device import pick_device
from belamy.core.errors import BelamyError
from belamy.core.png import save_png
from belamy.core.progress import make_progress
from belamy.data.pose_collection import PoseCollection
from belamy.data.pose_sampler import PoseSamplerConfig, sample_poses
from belamy.data.stick import StickConfig, render_stick
from belamy.generate.records import RECORD_SUFFIX, render_record, save_render
from belamy.api.upscale import SRUpscaler, replay_upscale
from belamy.generate.translate import reproduce_chain, translate_arrays
from belamy.models.run import Run
from belamy.refine.upscale import TileConfig, tile_count

CHAIN_FILE = "chain.json"


@dataclass
class ChainResult:
    out: Path
    rendered: int  # this call
    skipped: int  # already there (a resumed chain)
    shard: tuple[int, int]


def parse_shard(text: str | None) -> tuple[int, int]:
    """'K/N' -> (K, N); None -> torchrun's (RANK, WORLD_SIZE), or (0, 1)."""
    if text is None:
        return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    try:
        k, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise BelamyError(f"--shard {text}: use K/N, e.g. 0/4 for the first of four shards") from None
    if not 0 <= k < n:
        raise BelamyError(f"--shard {text}: K must be 0..N-1")
    return k, n


def chain_poses(cfg: ChainConfig) -> tuple[np.ndarray, dict[str, Any]]:
    """The chain's (count, 17, 3) poses and where they came from."""
    p = cfg.poses
    if p.source is None:
        return sample_poses(p.count, p.seed, PoseSamplerConfig()), {"sampler": "procedural", "seed": p.seed}
    poses = PoseCollection.open(p.source).poses
    if len(poses) < p.count:
        raise BelamyError(f"the pose collection {p.source} holds {len(poses)} poses, fewer than [poses] count = "
                          f"{p.count}: lower the count or add poses")
    return poses[:p.count], {"collection": p.source}


def stick_config(cfg: ChainConfig, size: int) -> StickConfig:
    return StickConfig(size=size, thickness=cfg.stick.thickness, joint=cfg.stick.joint,
                       background=cfg.stick.background)


def run_chain(config: str | os.PathLike[str] | ChainConfig, out: str | os.PathLike[str], shard: tuple[int, int] = (0, 1),
              device: str = "auto", progress: bool | None = None) -> ChainResult:
    """Render the chain `config` into `out` (this shard's indices), skipping renders already made."""
    cfg = config if isinstance(config, ChainConfig) else read_chain_config(config)
    out = Path(out)
    run = Run.open(cfg.translate.run)
    dev = pick_device(device)
    G = run.generator(dev)
    if getattr(G, "z_dim", None) != 0:
        raise BelamyError(f"[translate] run {run.path} is a {run.model_config.get('name')} run: the chain needs a "
                          "pix2pix run (belamy train-pair)")
    stamp = {"config": cfg.to_dict(), "generator_sha256": run.generator_sha256()}
    up = _upscaler(cfg, dev)
    if up is not None:
        stamp["upscale_generator_sha256"] = up.run.generator_sha256()
    existing = out / CHAIN_FILE
    if existing.is_file():
        before = json.loads(existing.read_text())
        if before != stamp:
            raise BelamyError(f"{out} holds a chain of another config or model: choose a new -o to render this one")
    elif shard[0] == 0:
        atomic.write_json(existing, stamp)
    poses, source = chain_poses(cfg)
    sticks_cfg = stick_config(cfg, G.resolution)
    renders, sticks = out / "renders", out / "sticks"
    # a fixed partition into batches, sharded by batch: a render's batch mates (which a batched
    # product may round the last bit by) are the same however the chain is split or resumed
    size = cfg.output.batch
    batches = [list(range(s, min(s + size, cfg.poses.count))) for s in range(0, cfg.poses.count, size)]
    mine = [b for k, b in enumerate(batches) if k % shard[1] == shard[0]]
    total = sum(len(b) for b in mine)
    rendered = 0
    bar = make_progress(enabled=progress)
    with bar:
        task = bar.add_task("chain", total=total)
        for batch in mine:
            missing = [i for i in batch if not (renders / f"{name(i)}{RECORD_SUFFIX}").is_file()]
            if missing:
                drawn = np.stack([render_stick(poses[i], sticks_cfg) for i in batch])  # (b, R, R, 3)
                made = translate_arrays(G, drawn, batch=len(batch))
                for i in missing:
                    j = i - batch[0]
                    if cfg.output.sticks:
                        save_png(drawn[j], sticks / f"{name(i)}.png")
                    extra = {} if up is None else {"upscale": up.describe()}
                    record = render_record(run, "chain", dev, index=i, batch=[batch[0], batch[-1] + 1],
                                           pose=_flat(poses[i]), pose_source=source, stick=asdict(sticks_cfg),
                                           **extra)
                    arr = made[j] if up is None else _upscaled(up, made[j])
                    save_render(arr, renders / f"{name(i)}.png", record)  # the record last: then it is done
                rendered += len(missing)
            bar.advance(task, len(batch))
    return ChainResult(out, rendered, total - rendered, shard)


def _upscaler(cfg: ChainConfig, dev: Any) -> SRUpscaler | None:
    """The chain's super-resolution step, or None; a bad tile is one line naming the key."""
    if cfg.upscale is None:
        return None
    try:
        tile_count(1, 1, TileConfig(cfg.upscale.tile, 0))
    except BelamyError as exc:
        raise BelamyError(f"[upscale] tile: {exc}") from None
    try:
        return SRUpscaler(cfg.upscale.run, str(dev), tile=cfg.upscale.tile)
    except BelamyError as exc:
        raise BelamyError(f"[upscale] run: {exc}") from None


def _upscaled(up: SRUpscaler, arr: np.ndarray) -> np.ndarray:
    h, w = arr.shape[:2]
    s = up.G.scale
    return up(arr, (w * s, h * s))


def reproduce_chain_render(record: dict[str, Any], device: str = "cpu") -> np.ndarray:
    """A chain render made again from its record, its upscale step (if any) replayed too."""
    return reproduce_chain(record, device, upscaler=replay_upscale)


def name(i: int) -> str:
    return f"chain-{i:06d}"


def _flat(pose: np.ndarray) -> list[float]:
    return [round(float(v), 5) for v in np.asarray(pose, np.float32).reshape(-1)]
