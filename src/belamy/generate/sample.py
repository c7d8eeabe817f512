"""`belamy sample`: one PNG per seed, a grid, and a record per render that reproduces it exactly."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import torch
from PIL import Image

from belamy.core import atomic
from belamy.core.seeds import mix, z_from_seed

NOISE_PURPOSE = 0x401  # seed of a render's noise inputs = mix(seed, NOISE_PURPOSE)

if TYPE_CHECKING:
    from belamy.generate.latents import Latent
    from belamy.run import Run

RECORD_SUFFIX = ".record.json"


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """(N, 3, H, W) in [-1, 1] -> (N, H, W, 3) uint8, rounding like every other belamy image."""
    x = (img.detach().float().clamp(-1, 1) + 1) * 127.5
    return x.round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


@torch.no_grad()
def render_ws(G: torch.nn.Module, ws: torch.Tensor, noise_mode: str = "const",
              noise: dict[str, torch.Tensor] | None = None, generator: torch.Generator | None = None) -> np.ndarray:
    """ws (N, num_ws, w_dim) -> (N, H, W, 3) uint8: the one place every render goes through.

    `noise` replaces the const noise inputs (a projected latent's own noise, (N|1, 1, r, r) each).
    """
    from belamy.generate.latents import use_noise

    was_training = G.training
    G.eval()
    dev = G.w_avg.device
    with use_noise(G, noise):
        img = G.synthesis(ws.to(dev), noise_mode=noise_mode, generator=generator)  # (N, 3, R, R)
    G.train(was_training)
    return to_uint8(img)


@torch.no_grad()
def render_batch(G: torch.nn.Module, seeds: list[int], truncation: float = 1.0, device: torch.device | str = "cpu",
                 noise_mode: str = "const", batch: int = 16) -> np.ndarray:
    """Render seeds with generator G; the latent of a seed is drawn on the CPU (same on any device)."""
    out = []
    if noise_mode == "random":  # per-seed noise, so a render never depends on its batch-mates
        batch = 1
    for i in range(0, len(seeds), batch):
        z = torch.stack([z_from_seed(s, G.z_dim) for s in seeds[i:i + batch]]).to(device)
        gen = None
        if noise_mode == "random":
            gen = torch.Generator(device=device).manual_seed(mix(seeds[i], NOISE_PURPOSE))
        ws = G.mapping(z, truncation_psi=truncation)  # (n, num_ws, w_dim)
        out.append(render_ws(G, ws, noise_mode, generator=gen))
    return np.concatenate(out) if out else np.zeros((0, 1, 1, 3), np.uint8)


def render_record(run: "Run", kind: str, device: torch.device | str, **fields: Any) -> dict[str, Any]:
    """The fields every render record carries (which run, which generator, which code), plus `fields`."""
    from belamy.core.version import code_version

    return {
        "kind": kind, "run": run.run_id, "run_path": str(run.path.resolve()),
        "generator": run.export_path.name, "generator_sha256": run.generator_sha256(),
        "step": run.export_meta.get("step"), **fields, "model": run.model_config.get("name"),
        "resolution": run.model_config.get("resolution"), "device": torch.device(device).type,
        "code_version": code_version(), "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def save_render(arr: np.ndarray, png: Path, record: dict[str, Any]) -> Path:
    """A PNG with its record embedded (iTXt) and beside it as NAME.record.json."""
    save_png(arr, png, {"belamy:record": json.dumps(record)})
    atomic.write_json(png.with_name(png.stem + RECORD_SUFFIX), record)
    return png


def save_png(arr: np.ndarray, path: Path, text: dict[str, str] | None = None) -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for k, v in (text or {}).items():
        info.add_itxt(k, v)
    with atomic.atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(arr).save(tmp, format="PNG", pnginfo=info)


def save_grid(images: np.ndarray, path: Path, cols: int | None = None) -> Path:
    from belamy.core.grid import make_grid

    sheet = make_grid(list(images), cols=cols or min(8, max(1, len(images))))
    with atomic.atomic_path(path, suffix=".png") as tmp:
        sheet.save(tmp, format="PNG")
    return path


def render_latent(G: torch.nn.Module, latent: "Latent", truncation: float = 1.0, noise_mode: str = "const") -> np.ndarray:
    """One resolved `latents.Latent` -> (H, W, 3) uint8, truncated toward w_avg at render time."""
    from belamy.generate.latents import truncate

    ws = truncate(latent.ws, G.w_avg.cpu(), truncation).unsqueeze(0)  # (1, num_ws, w_dim)
    return render_ws(G, ws, noise_mode, noise=latent.noise)[0]


def render_latents(run: "Run", G: torch.nn.Module, latents: list["Latent"], names: list[str], out: Path, truncation: float,
                   noise_mode: str, kind: str, **fields: Any) -> tuple[list[Path], np.ndarray]:
    """Render resolved latents one by one into out/NAME.png, each with a record naming its latent spec."""
    paths, arrays = [], []
    for latent, name in zip(latents, names):
        arr = render_latent(G, latent, truncation, noise_mode)
        record = render_record(run, kind, G.w_avg.device, latent=latent.spec, truncation=truncation,
                               noise_mode=noise_mode, **fields)
        paths.append(save_render(arr, out / f"{name}.png", record))
        arrays.append(arr)
    return paths, np.stack(arrays) if arrays else np.zeros((0, 1, 1, 3), np.uint8)


def seed_name(seed: int) -> str:
    return f"seed{seed:04d}"


def originality_checker(run: "Run") -> Callable[[np.ndarray], list[dict[str, Any]]]:
    """renders (N, H, W, 3) -> one originality entry per render for its record: the nearest
    training image and the score (see belamy.metrics.originality), or why it was skipped."""
    from belamy.core.errors import BelamyError
    from belamy.metrics.evaluate import originality_reference
    from belamy.metrics.features import random_features

    fx = random_features()
    try:
        ref = originality_reference(run, fx)
    except BelamyError as exc:
        note = {"skipped": str(exc)}
        return lambda imgs: [note] * len(imgs)
    return lambda imgs: [{**r.to_record(), "features": fx.name} for r in ref.check(imgs, fx)]


def sample(run: "Run", seeds: list[int], out: Path, truncation: float = 1.0, noise_mode: str = "const",
           device: str = "auto", grid: bool = True, progress: bool | None = None,
           originality: bool = True) -> list[Path]:
    """Render `seeds` from the run's exported generator into `out` (PNG + record each, plus grid.png).
    With `originality`, each record also holds its render's nearest training image and score."""
    from belamy.core.progress import make_progress
    from belamy.core.device import pick_device

    dev = pick_device(device)
    G = run.generator(dev)
    out.mkdir(parents=True, exist_ok=True)
    check = originality_checker(run) if originality else None
    paths, arrays = [], []
    bar = make_progress(enabled=progress)
    with bar:
        task = bar.add_task("sampling", total=len(seeds))
        for i in range(0, len(seeds), 16):
            chunk = seeds[i:i + 16]
            imgs = render_batch(G, chunk, truncation, dev, noise_mode)
            found = check(imgs) if check is not None else [None] * len(chunk)
            for seed, arr, orig in zip(chunk, imgs, found):
                record = render_record(run, "sample", dev, seed=seed, truncation=truncation, noise_mode=noise_mode,
                                       batch_seeds=chunk)
                if orig is not None:
                    record["originality"] = orig
                paths.append(save_render(arr, out / f"{seed_name(seed)}.png", record))
                arrays.append(arr)
            bar.advance(task, len(chunk))
    if grid and arrays:
        save_grid(np.stack(arrays), out / "grid.png")
    return paths


def read_record(path: Path) -> dict[str, Any]:
    from belamy.core.errors import BelamyError

    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        record = None
    if not isinstance(record, dict) or "run_path" not in record or "generator_sha256" not in record:
        raise BelamyError(f"{path} is not a readable render record (NAME.record.json)")
    return record


def recorded_run(record: dict[str, Any]) -> "Run":
    """The run a record was rendered from, refused if its generator is no longer the recorded one."""
    from belamy.core.errors import BelamyError
    from belamy.run import Run

    run = Run.open(record["run_path"])
    if run.generator_sha256() != record["generator_sha256"]:
        raise BelamyError(f"{run.path} has moved on since this render (generator sha256 differs): "
                          f"use the checkpoint from step {record.get('step')}")
    return run


def reproduce(record_path: Path, out: Path | None = None, device: str = "cpu") -> np.ndarray:
    """Re-render any still image from its record (a sample, series member, mix or bookmark render).

    Raises if the run's generator (or a recorded latent file) is no longer the recorded one.
    """
    from belamy.core.device import pick_device

    record = read_record(record_path)
    run = recorded_run(record)
    dev = pick_device(device)
    G = run.generator(dev)
    if "latent" in record:
        from belamy.generate.latents import resolve

        arr = render_latent(G, resolve(record["latent"], G, run), record["truncation"], record["noise_mode"])
    else:
        # the seeds it was rendered with: a batched matmul may round the last bit differently from a
        # single render, and a record promises the same pixels
        batch = record.get("batch_seeds") or [record["seed"]]
        arr = render_batch(G, batch, record["truncation"], dev, record["noise_mode"])[batch.index(record["seed"])]
    if out is not None:
        save_png(arr, out)
    return arr
