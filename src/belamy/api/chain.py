"""`belamy chain`: poses -> stick figures -> pix2pix figures, thousands of renders, resumable.

Wires the steps of a chain config (`chain.config`): poses from the procedural sampler or a pose
collection (data), drawn as stick figures (data), translated by a pix2pix run (generate), and, with an `[upscale]` table, each translation through
a super-resolution run (refine, through `api.upscale.SRUpscaler`). Render
i is a pure function of (config, i): the indices are split into fixed batches, so a chain
resumes by redoing only the renders whose record is missing (a batch's PNGs are in place, whole
and fsynced, before any of its records: a kill -9 leaves at most one batch to redo), and
shards take whole batches (`--shard K/N`, or torchrun's RANK/WORLD_SIZE). The sticks of the next
batch are drawn, and the files of the last batch written, in threads beside the generator.

    OUT/chain.json                 the resolved config and the run's generator sha256
    OUT/renders/chain-000042.png   + .record.json (pose, stick settings, generator sha256, and the
                                   upscale step: SR run id, generator sha256, scale, tile, overlap)
    OUT/sticks/chain-000042.png    the stick figure it was translated from
"""

from __future__ import annotations

import json
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from belamy.chain.config import ChainConfig, read_chain_config
from belamy.core import atomic
from belamy.core.device import pick_device
from belamy.core.errors import BelamyError
from belamy.core.png import png_bytes
from belamy.core.progress import make_progress
from belamy.data.pose_collection import PoseCollection
from belamy.data.pose_sampler import PoseSamplerConfig, sample_poses
from belamy.data.stick import StickConfig, render_stick
from belamy.chain.writer import BatchWriter
from belamy.generate.records import RECORD_KEY, RECORD_SUFFIX, render_record
from belamy.api.upscale import SRUpscaler, replay_upscale
from belamy.generate.translate import reproduce_chain, translate_arrays
from belamy.models.run import Run
from belamy.refine.upscale import TileConfig, tile_count

CHAIN_FILE = "chain.json"
# zlib level of the chain's PNGs: level 1 encodes smooth renders about twice as fast as Pillow's
# default 6, for files some 15% larger; PNG is lossless, so the pixels are the same
PNG_LEVEL = 1


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
              device: str = "auto", progress: bool | None = None, overlap: bool = True) -> ChainResult:
    """Render the chain `config` into `out` (this shard's indices), skipping renders already made.
    `overlap=False` draws and writes in turn with the generator instead of beside it (the same
    files; for comparisons)."""
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
    todo = []  # (batch, its renders without a record)
    for batch in mine:
        missing = [i for i in batch if not (renders / f"{name(i)}{RECORD_SUFFIX}").is_file()]
        if missing:
            todo.append((batch, missing))

    def draw(batch: list[int]) -> np.ndarray:
        return np.stack([render_stick(poses[i], sticks_cfg) for i in batch])  # (b, R, R, 3)

    def drawn_later(batch: list[int]) -> Future[np.ndarray]:
        if overlap:
            return drawer.submit(draw, batch)
        done: Future[np.ndarray] = Future()
        done.set_result(draw(batch))
        return done

    bar = make_progress(enabled=progress)
    # three lanes: the next batch's sticks drawn in a thread while the generator runs, and the
    # last batch's files written in another (`chain.writer`); render i's pixels are the same
    drawer = ThreadPoolExecutor(1, thread_name_prefix="belamy-chain-sticks")
    with bar, BatchWriter(background=overlap) as writer, drawer:
        task = bar.add_task("chain", total=total)
        bar.advance(task, total - sum(len(b) for b, _ in todo))
        ahead = drawn_later(todo[0][0]) if todo else None
        for k, (batch, missing) in enumerate(todo):
            assert ahead is not None
            drawn = ahead.result()
            ahead = drawn_later(todo[k + 1][0]) if k + 1 < len(todo) else None
            made = translate_arrays(G, drawn, batch=len(batch))
            files, kept = [], []
            for i in missing:
                j = i - batch[0]
                if cfg.output.sticks:
                    kept.append((sticks / f"{name(i)}.png", drawn[j]))
                extra = {} if up is None else {"upscale": up.describe()}
                record = render_record(run, "chain", dev, index=i, batch=[batch[0], batch[-1] + 1],
                                       pose=_flat(poses[i]), pose_source=source, stick=asdict(sticks_cfg), **extra)
                files.append((renders / f"{name(i)}.png", made[j] if up is None else _upscaled(up, made[j]), record))
            writer.put(_write_batch, files, kept)
            rendered += len(missing)
            bar.advance(task, len(batch))
    return ChainResult(out, rendered, total - rendered, shard)


def _write_batch(renders: list[tuple[Path, np.ndarray, dict[str, Any]]], sticks: list[tuple[Path, np.ndarray]]) -> None:
    """A batch's renders (each PNG with its record embedded, and NAME.record.json, as
    `records.save_render` writes them) and stick figures, with one durability barrier for the
    batch (`atomic.write_staged`): every PNG in place before any of the batch's records."""
    pngs = [(png, png_bytes(arr, {RECORD_KEY: json.dumps(rec)}, PNG_LEVEL)) for png, arr, rec in renders]
    pngs += [(png, png_bytes(arr, None, PNG_LEVEL)) for png, arr in sticks]
    records = [(png.with_name(png.stem + RECORD_SUFFIX),
                (json.dumps(rec, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8"))
               for png, _, rec in renders]
    atomic.write_staged([pngs, records])


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
