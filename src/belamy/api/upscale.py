"""`belamy upscale`: a super-resolution run applied to any images, tile by tile, with a record each.

Each input (a render, a projection, any PNG/JPEG/TIFF/WebP) is read with its EXIF orientation,
upscaled by `refine.upscale` in strips and streamed to OUT/NAME.png by `core.png_stream`, so a
20,000 px image needs memory for one strip of the output, not the whole of it. Then, last,
OUT/NAME.upscale.json: the input (sha256, size), the render record it carried (if any), the run
and generator, the tiling, the output (sha256). The PNG carries the same record, less the output,
as iTXt `belamy:upscale`: the render's record gains the upscale step.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from PIL import Image

from belamy.core import atomic
from belamy.core.atomic import sha256_file
from belamy.core.config import read_step_record
from belamy.core.device import pick_device
from belamy.core.errors import BelamyError
from belamy.core.png_stream import write_png_strips
from belamy.core.progress import make_progress
from belamy.core.version import code_version
from belamy.data.image_file import open_image
from belamy.generate.records import RECORD_KEY
from belamy.generate.records import RECORD_SUFFIX as RENDER_SUFFIX
from belamy.models.run import Run
from belamy.models.sr import SR_MODELS
from belamy.refine.upscale import TileConfig, tile_count, upscale_array, upscale_strips

RECORD_SUFFIX = ".upscale.json"
PNG_KEY = "belamy:upscale"
MAX_PIXELS = 450_000_000  # a 20,000 x 20,000 px input is taken (it is read whole; the output is streamed)
DEFAULT_TILE = 512
RRDB_OVERLAP = 32  # RRDB sees hundreds of pixels; 32 px of context leave no visible seam


@dataclass
class Upscaled:
    image: Path
    record_path: Path
    record: dict[str, Any]


def sr_generator(run: Run, device: str | torch.device = "auto") -> torch.nn.Module:
    """The run's generator, refused in one line unless it is a super-resolution run."""
    name = run.model_config.get("name")
    if name not in SR_MODELS:
        raise BelamyError(f"{run.path} is a {name} run, not a super-resolution one: train one with `belamy train-sr`")
    return run.generator(pick_device(device) if isinstance(device, str) else device)


def receptive_overlap(model_config: dict[str, Any]) -> int:
    """Context (low-res px) each tile needs for a seamless result: SRVGG's receptive radius
    (one pixel per conv), or RRDB_OVERLAP for RRDB, whose radius is far larger than any seam."""
    if model_config["name"] == "srvgg":
        return int(model_config["sr_blocks"]) + 2
    return RRDB_OVERLAP


def upscale(run: Run | str | Path, images: list[str | Path], out_dir: str | Path, tile: int = DEFAULT_TILE,
            overlap: int | None = None, device: str = "auto", force: bool = False,
            progress: bool | None = None) -> list[Upscaled]:
    """Upscale each of `images` with the super-resolution `run` into `out_dir` (NAME.png and
    NAME.upscale.json each). `overlap` defaults to what the model needs for seamless tiles."""
    run = run if isinstance(run, Run) else Run.open(run)
    out_dir = Path(out_dir)
    dev = pick_device(device)
    G = sr_generator(run, dev)
    tiles = TileConfig(tile, receptive_overlap(run.model_config) if overlap is None else overlap)
    paths = [Path(p) for p in images]
    _check_outputs(paths, out_dir, force)
    sizes = [_read(p)[1] for p in paths]  # every input decodes before anything is written (one held at a time)
    total = sum(tile_count(h, w, tiles) for w, h in sizes)
    results = []
    bar = make_progress(enabled=progress)
    with bar:
        task = bar.add_task("upscaling", total=total)
        for path in paths:
            arr, _, record_in = _read(path)
            results.append(_one(run, G, dev, path, arr, record_in, tiles, out_dir,
                                lambda n: bar.advance(task, 1)))
    return results


def _one(run: Run, G: torch.nn.Module, dev: torch.device, path: Path, arr: np.ndarray,
         render: dict[str, Any] | None, tiles: TileConfig, out_dir: Path, tick) -> Upscaled:
    t0 = time.perf_counter()
    h, w, c = arr.shape
    s = G.scale
    record: dict[str, Any] = {
        "kind": "upscale", "method": "sr",
        "run": {"id": run.run_id, "path": str(run.path.resolve()), "model": run.model_config["name"], "scale": s,
                "generator_sha256": run.generator_sha256(), "kimg": run.export_meta.get("kimg")},
        "tile": tiles.tile, "overlap": tiles.overlap, "device": str(dev),
        "input": {"path": str(path.resolve()), "sha256": sha256_file(path), "width": w, "height": h, "channels": c},
        "render": render,
    }
    out = out_dir / f"{path.stem}.png"
    digest = hashlib.sha256(f"{h * s}x{w * s}x{c}:".encode())  # the pixels' hash, as provenance names pixels

    def hashed(strips: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        for strip in strips:
            digest.update(np.ascontiguousarray(strip).tobytes())
            yield strip

    write_png_strips(out, w * s, h * s, c, hashed(upscale_strips(G, arr, tiles, dev, progress=tick)),
                     text={PNG_KEY: json.dumps(record, ensure_ascii=False)}, compress_level=1 if h * w > 4e6 else 6)
    record["output"] = {"path": out.name, "sha256": sha256_file(out), "pixels_sha256": digest.hexdigest(),
                        "width": w * s, "height": h * s}
    record["software"] = {"belamy": code_version(), "python": platform.python_version(), "torch": torch.__version__}
    record["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    record["seconds"] = round(time.perf_counter() - t0, 3)
    record_path = out_dir / f"{path.stem}{RECORD_SUFFIX}"
    atomic.write_json(record_path, record)
    return Upscaled(out, record_path, record)


def _check_outputs(paths: list[Path], out_dir: Path, force: bool) -> None:
    if not paths:
        raise BelamyError("no images given: belamy upscale RUN IMAGE... -o DIR")
    stems = [p.stem for p in paths]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        raise BelamyError(f"two inputs are named {twice[0]}: their outputs would collide in {out_dir}; rename one")
    for p in paths:
        for out in (out_dir / f"{p.stem}.png", out_dir / f"{p.stem}{RECORD_SUFFIX}"):
            if p.exists() and out.exists() and out.resolve() == p.resolve():
                raise BelamyError(f"writing {out} would replace the input {p}: choose another -o folder")
            if out.exists() and not force:
                raise BelamyError(f"{out} already exists: pass --force to replace it, or choose another -o folder")


def _read(path: Path) -> tuple[np.ndarray, tuple[int, int], dict[str, Any] | None]:
    """(H, W, 3 or 4) uint8 pixels (alpha kept), the size, and the render record the file carries."""
    im, size = open_image(path, "image", MAX_PIXELS, "belamy upscale")
    text = dict(getattr(im, "text", {}) or {})
    alpha = im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (im.mode == "P" and "transparency" in im.info)
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        from belamy.data.decode import to_rgb

        im = to_rgb(im, "white")
    arr = np.asarray(im.convert("RGBA" if alpha else "RGB"))
    return arr, size, _render_record(path, text)


def _render_record(path: Path, text: dict[str, str]) -> dict[str, Any] | None:
    """The record of a belamy render (PNG chunk or NAME.record.json beside it), or of an earlier upscale."""
    raw = text.get(RECORD_KEY) or text.get(PNG_KEY)
    beside = path.with_name(path.stem + RENDER_SUFFIX)
    if raw is None and beside.is_file():
        raw = beside.read_text(encoding="utf-8")
    try:
        record = json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def read_upscale_record(path: str | Path) -> dict[str, Any]:
    """A NAME.upscale.json, refused in one line if it is not one."""
    return read_step_record(path, "upscale", "run", "NAME.upscale.json of `belamy upscale`")


class SRUpscaler:
    """A super-resolution run as `finish.printing.upscale`'s upscaler: the run's x2/x4, then Lanczos
    to the exact print size. `describe()` is what a record needs to replay it (`rerender`)."""

    __name__ = "sr"

    def __init__(self, run: Run | str | Path, device: str = "auto", tile: int = DEFAULT_TILE,
                 overlap: int | None = None) -> None:
        self.run = run if isinstance(run, Run) else Run.open(run)
        self.device = pick_device(device)
        self.G = sr_generator(self.run, self.device)
        self.tiles = TileConfig(tile, receptive_overlap(self.run.model_config) if overlap is None else overlap)

    def __call__(self, arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        up = upscale_array(self.G, arr, self.tiles, self.device)
        if up.shape[1::-1] != tuple(size):
            up = np.asarray(Image.fromarray(up).resize(tuple(size), Image.Resampling.LANCZOS))
        return up

    def describe(self) -> dict[str, Any]:
        return {"run": {"id": self.run.run_id, "path": str(self.run.path.resolve()), "model": self.run.model_config["name"],
                        "scale": self.G.scale, "generator_sha256": self.run.generator_sha256()},
                "tile": self.tiles.tile, "overlap": self.tiles.overlap, "device": str(self.device)}

    @classmethod
    def replay(cls, described: dict[str, Any]) -> "SRUpscaler":
        """The upscaler a record describes; its run must be present with the same generator."""
        path = Path(described["run"]["path"])
        if not (path / "run.json").is_file():
            raise BelamyError(f"the super-resolution run {path} this artwork was upscaled with is gone: restore it")
        run = Run.open(path)
        if not run.export_path.is_file() or run.generator_sha256() != described["run"]["generator_sha256"]:
            raise BelamyError(f"the super-resolution run {path} has a different generator now (trained on?): "
                              "the artwork cannot be re-rendered with it")
        return cls(run, described["device"], described["tile"], described["overlap"])


def replay_upscale(arr: np.ndarray, described: dict[str, Any], device: str = "cpu") -> np.ndarray:
    """`arr` upscaled again as a render record's `upscale` step describes (`SRUpscaler.describe`):
    its run must be present with the same generator. The callback `generate.rerender` takes to
    replay a chain render's super-resolution step (generate may not import refine or api)."""
    up = SRUpscaler.replay({**described, "device": device})
    h, w = arr.shape[:2]
    s = up.G.scale
    return up(arr, (w * s, h * s))
