"""`belamy sample`: one PNG per seed, a grid, and a record per render that reproduces it exactly.

The rendering primitives (`render_ws`, `render_batch`, `render_latent`) are the one path every
image from a generator takes: samples, series, videos, previews and evaluation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from belamy.core.device import pick_device
from belamy.core.errors import BelamyError
from belamy.core.png import save_grid, save_png
from belamy.core.progress import make_progress
from belamy.core.seeds import mix, z_from_seed
from belamy.generate.latents import (
    Latent,
    latent_generator,
    resolve,
    truncate,
    use_noise,
)
from belamy.generate.records import (
    read_record,
    recorded_run,
    render_record,
    save_render,
)
from belamy.models.run import Run

NOISE_PURPOSE = 0x401  # seed of a render's noise inputs = mix(seed, NOISE_PURPOSE)


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


def render_latent(G: torch.nn.Module, latent: Latent, truncation: float = 1.0, noise_mode: str = "const") -> np.ndarray:
    """One resolved `latents.Latent` -> (H, W, 3) uint8, truncated toward w_avg at render time."""
    ws = truncate(latent.ws, G.w_avg.cpu(), truncation).unsqueeze(0)  # (1, num_ws, w_dim)
    return render_ws(G, ws, noise_mode, noise=latent.noise)[0]


def render_latents(run: Run, G: torch.nn.Module, latents: list[Latent], names: list[str], out: Path, truncation: float,
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


Check = Callable[[np.ndarray], list[dict[str, Any]]]  # renders (N, H, W, 3) -> a record entry each


def sample(run: Run, seeds: list[int], out: Path, truncation: float = 1.0, noise_mode: str = "const",
           device: str = "auto", grid: bool = True, progress: bool | None = None,
           check: Check | None = None) -> list[Path]:
    """Render `seeds` from the run's exported generator into `out` (PNG + record each, plus grid.png).
    `check` (e.g. the originality check) adds an `originality` entry to each render's record."""
    dev = pick_device(device)
    G = latent_generator(run, dev)
    out.mkdir(parents=True, exist_ok=True)
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


def reproduce(record_path: Path, out: Path | None = None, device: str = "cpu") -> np.ndarray:
    """Re-render any still image from its record (a sample, series member, mix or bookmark render).

    Raises if the run's generator (or a recorded latent file) is no longer the recorded one.
    """
    record = read_record(record_path)
    if record.get("kind") == "translation":
        raise BelamyError(f"{record_path} is a translation record: re-render it with `belamy translate --record`")
    arr = reproduce_record(record, device)
    if out is not None:
        save_png(arr, out)
    return arr


def reproduce_record(record: dict[str, Any], device: str = "cpu") -> np.ndarray:
    """The (H, W, 3) uint8 render a render record describes, rendered again from its run."""
    run = recorded_run(record)
    dev = pick_device(device)
    G = latent_generator(run, dev)
    if "latent" in record:
        return render_latent(G, resolve(record["latent"], G, run), record["truncation"], record["noise_mode"])
    # the seeds it was rendered with: a batched matmul may round the last bit differently from a
    # single render, and a record promises the same pixels
    batch = record.get("batch_seeds") or [record["seed"]]
    return render_batch(G, batch, record["truncation"], dev, record["noise_mode"])[batch.index(record["seed"])]
