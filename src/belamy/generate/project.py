"""`belamy project`: find the latent whose render best reproduces a given image.

StyleGAN2's projector (Karras et al. 2020, appendix D) with a weight-free loss: start from the
mean w, optimise w (one w for all layers) or w+ (one per layer) and the const noise inputs with
Adam, a learning-rate ramp (up over the first 5 %, cosine down over the last 25 %) and Gaussian
noise added to w early on that fades out over the first 75 % (it keeps the search from settling
in the first basin). The loss is pixel L1 + Laplacian-pyramid L1 + (1 - multi-scale SSIM) (see
`core.similarity`, no downloaded network), plus StyleGAN2's noise regularisation, which stops the
noise inputs from sneaking the target in as high-frequency patterns, and the noise is
renormalised after every step. Everything random is drawn from `seed`, so a projection repeats.

Outputs (in OUT): latent.safetensors (ws + noise; every latent-taking command accepts it),
project.json (the record: target sha256, settings, loss curve, PSNR/SSIM before and after),
target.png, reconstruction.png (+ record), comparison.png (target | reconstruction) and
projection.mp4 (the optimisation, target beside the current render).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from belamy.core import atomic
from belamy.core.device import pick_device
from belamy.core.errors import BelamyError
from belamy.core.png import save_png
from belamy.core.progress import make_progress
from belamy.core.seeds import mix
from belamy.core.similarity import laplacian_l1, multiscale_ssim, psnr, ssim
from belamy.data.decode import DecodeOptions, Skip, decode
from belamy.generate.latents import (
    Latent,
    latent_generator,
    load_latent,
    noise_buffers,
    save_latent,
    sha256_of,
    use_noise,
)
from belamy.generate.records import render_record, save_render
from belamy.generate.sample import render_latent, to_uint8
from belamy.generate.video import check_video_path, resize_frame, write_video
from belamy.models.run import Run

WSTD_PURPOSE = 0x9E7  # seed of the z batch that measures the spread of w


@dataclass
class ProjectConfig:
    steps: int = 500
    space: str = "w+"  # "w" (one w for every layer) or "w+" (one per layer)
    lr: float = 0.1
    seed: int = 0
    optimize_noise: bool = True
    noise_reg: float = 1e5  # weight of the noise regularisation
    w_noise: float = 0.05  # initial w perturbation, in units of the spread of w
    w_noise_ramp: float = 0.75  # fraction of steps over which it fades out
    lr_rampup: float = 0.05
    lr_rampdown: float = 0.25
    structure: float = 1.0  # weight of the Laplacian-pyramid + SSIM terms (pixel L1 has weight 1)
    fit: str = "crop"  # how a non-square target is made square: crop, pad or stretch
    video: bool = True
    video_size: int = 256  # px per panel of the optimisation video

    def check(self) -> "ProjectConfig":
        if not 1 <= self.steps <= 100_000:
            raise BelamyError(f"--steps {self.steps} is out of range: use 1 to 100000 (500 is typical)")
        if self.space not in ("w", "w+"):
            raise BelamyError(f"--space must be w or w+, got '{self.space}'")
        if self.fit not in ("crop", "pad", "stretch"):
            raise BelamyError(f"--fit must be crop, pad or stretch, got '{self.fit}'")
        if not 0 < self.lr <= 10:
            raise BelamyError(f"--lr {self.lr} is out of range")
        return self

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ProjectConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class Projection:
    latent: Latent  # ws (num_ws, w_dim) + optimised noise
    target: np.ndarray  # (R, R, 3) uint8, as fitted to the model
    losses: list[float]  # image loss per step (pixel + structure, without the noise penalty)
    quality: dict[str, float]  # psnr / ssim of the start and of the result
    folder: Path | None = None  # where `project` wrote it (latent.safetensors, project.json, images)


def load_target(path: Path, size: int, fit: str = "crop") -> np.ndarray:
    """An image file -> (size, size, 3) uint8 sRGB, decoded like `belamy collect` decodes."""
    path = Path(path)
    if not path.is_file():
        raise BelamyError(f"image {path} not found: give the path of a PNG, JPEG, WebP or TIFF")
    try:
        dec = decode(path.read_bytes(), DecodeOptions(size=size, fit=fit))
    except Skip as exc:
        raise BelamyError(f"cannot use {path} as a target: {exc}") from None
    return np.frombuffer(dec.pixels, np.uint8).reshape(size, size, 3).copy()


def to_unit(arr: np.ndarray, device: torch.device) -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, H, W) float in [0, 1]."""
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).float().div(255.0).to(device)


def structure_loss(img: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Laplacian-pyramid L1 + (1 - multi-scale SSIM), images in [0, 1]: (N,)."""
    return laplacian_l1(img, target) + (1.0 - multiscale_ssim(img, target))


def noise_regularisation(noises: list[torch.Tensor]) -> torch.Tensor:
    """StyleGAN2's penalty on spatial autocorrelation of the noise maps, at every octave >= 8 px."""
    reg = torch.zeros([], device=noises[0].device) if noises else torch.zeros([])
    for n in noises:
        while True:
            reg = reg + (n * torch.roll(n, 1, dims=3)).mean().square() + (n * torch.roll(n, 1, dims=2)).mean().square()
            if n.shape[-1] <= 8:
                break
            n = F.avg_pool2d(n, 2)
    return reg


@torch.no_grad()
def w_spread(G: torch.nn.Module, seed: int, n: int = 4096) -> float:
    """RMS distance of w from w_avg over n seeded samples: the scale of the early w noise."""
    gen = torch.Generator().manual_seed(mix(seed, WSTD_PURPOSE))
    z = torch.randn(n, G.z_dim, generator=gen).to(G.w_avg.device)
    w = G.mapping(z)[:, 0]  # (n, w_dim)
    return float((w - G.w_avg).square().sum(1).mean().sqrt())


class Projector:
    """The optimisation state; `step()` runs one Adam step, `latent()` is the fit so far."""

    def __init__(self, G: torch.nn.Module, target: np.ndarray, cfg: ProjectConfig) -> None:
        self.G, self.cfg, self.t = G, cfg, 0
        dev = G.w_avg.device
        self.target = to_unit(target, dev)  # (1, 3, R, R)
        self.gen = torch.Generator(device=dev).manual_seed(mix(cfg.seed, 1))
        self.std = w_spread(G, cfg.seed)
        rows = 1 if cfg.space == "w" else G.num_ws
        self.w = G.w_avg.detach().clone().reshape(1, 1, -1).repeat(1, rows, 1).requires_grad_(True)  # (1, rows, w_dim)
        self.noise = {k: v.detach().clone().requires_grad_(cfg.optimize_noise) for k, v in noise_buffers(G).items()}
        params = [self.w] + ([*self.noise.values()] if cfg.optimize_noise else [])
        self.opt = torch.optim.Adam(params, lr=cfg.lr, betas=(0.9, 0.999))

    def step(self) -> tuple[float, torch.Tensor]:
        """One step; returns the image loss (without the noise penalty) and the image it was computed
        on ((1, 3, R, R) in ~[-1, 1])."""
        cfg, G = self.cfg, self.G
        t = self.t / max(1, cfg.steps - 1)
        w_noise_scale = self.std * cfg.w_noise * max(0.0, 1.0 - t / cfg.w_noise_ramp) ** 2
        ramp = min(1.0, (1.0 - t) / cfg.lr_rampdown)
        ramp = (0.5 - 0.5 * math.cos(ramp * math.pi)) * min(1.0, t / cfg.lr_rampup)
        for group in self.opt.param_groups:
            group["lr"] = cfg.lr * ramp
        w = self.w + torch.randn(self.w.shape, generator=self.gen, device=self.w.device) * w_noise_scale
        with use_noise(G, self.noise):
            img = G.synthesis(w.expand(1, G.num_ws, -1), noise_mode="const")  # (1, 3, R, R)
        x = (img + 1) / 2
        image_loss = (x - self.target).abs().mean() + cfg.structure * structure_loss(x, self.target).mean()
        loss = image_loss
        if cfg.optimize_noise and self.noise:
            loss = loss + cfg.noise_reg * noise_regularisation(list(self.noise.values()))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        with torch.no_grad():  # keep the noise maps zero-mean, unit-variance
            for n in self.noise.values():
                n -= n.mean()
                n *= n.square().mean().rsqrt()
        self.t += 1
        return float(image_loss.detach()), img.detach()

    def latent(self) -> Latent:
        ws = self.w.detach().expand(1, self.G.num_ws, -1)[0].cpu().clone()  # (num_ws, w_dim)
        return Latent(ws=ws, spec={}, noise={k: v.detach().cpu().clone() for k, v in self.noise.items()})


def quality(G: torch.nn.Module, latent: Latent, target: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """Render `latent` and compare it to the target: (render, {"psnr": dB, "ssim": ...})."""
    arr = render_latent(G, latent)
    a, b = to_unit(arr, torch.device("cpu")), to_unit(target, torch.device("cpu"))
    return arr, {"psnr": round(float(psnr(a, b)[0]), 3), "ssim": round(float(ssim(a, b)[0]), 4)}


def project_array(G: torch.nn.Module, target: np.ndarray, cfg: ProjectConfig, video: Path | None = None,
                  progress: bool | None = None) -> Projection:
    """Fit `target` ((R, R, 3) uint8); with `video`, stream target | current render into it."""
    cfg.check()
    start = Latent(ws=G.w_avg.detach().cpu().reshape(1, -1).repeat(G.num_ws, 1), spec={})
    _, q0 = quality(G, start, target)
    fit = Projector(G, target, cfg)
    losses: list[float] = []

    def frames() -> Iterator[np.ndarray]:
        with make_progress(enabled=progress) as bar:
            task = bar.add_task("projecting", total=cfg.steps)
            for _ in range(cfg.steps):
                loss, img = fit.step()
                losses.append(loss)
                bar.advance(task)
                yield side_by_side(target, to_uint8(img)[0], cfg.video_size) if video else target

    if video is not None:
        write_video(video, frames(), fps=25)
    else:
        for _ in frames():
            pass
    latent = fit.latent()
    _, q1 = quality(G, latent, target)
    return Projection(latent=latent, target=target, losses=losses,
                      quality={"psnr_start": q0["psnr"], "ssim_start": q0["ssim"], **q1})


def side_by_side(a: np.ndarray, b: np.ndarray, size: int | None = None) -> np.ndarray:
    """Two (H, W, 3) images -> one (size, 2*size, 3) image, `a` on the left."""
    return np.concatenate([resize_frame(a, size), resize_frame(b, size)], axis=1)


def projection_folder(run: Run, image: Path) -> Path:
    """Where a projection goes by default: RUN/projections/IMAGE-STEM."""
    return run.path / "projections" / Path(image).stem


def project(run: Run, image: Path, out: Path | None, cfg: ProjectConfig, device: str = "auto",
            progress: bool | None = None) -> Projection:
    """`belamy project RUN IMAGE -o OUT`: fit, then write the latent, record, images and video into
    `out` (None: `projection_folder`); the returned projection's `folder` says where."""
    cfg.check()
    out = projection_folder(run, image) if out is None else Path(out)
    if cfg.video:
        check_video_path(out / "projection.mp4")
    dev = pick_device(device)
    G = latent_generator(run, dev)
    target = load_target(image, G.resolution, cfg.fit)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    proj = project_array(G, target, cfg, out / "projection.mp4" if cfg.video else None, progress)
    seconds = time.perf_counter() - t0
    latent_path = out / "latent.safetensors"
    save_latent(latent_path, proj.latent, meta={"run": run.run_id, "target": str(Path(image).resolve())})
    proj.latent = load_latent(latent_path)  # spec = {"file": ..., "sha256": ...}
    render, _ = quality(G, proj.latent, target)
    save_png(target, out / "target.png")
    save_render(render, out / "reconstruction.png",
                render_record(run, "projection-render", dev, latent=proj.latent.spec, truncation=1.0, noise_mode="const"))
    save_png(side_by_side(target, render), out / "comparison.png")
    record = render_record(run, "projection", dev, target=str(Path(image).resolve()), target_sha256=sha256_of(image),
                           latent=proj.latent.spec, config=asdict(cfg), quality=proj.quality,
                           loss_start=proj.losses[0], loss_end=proj.losses[-1],
                           losses=[round(x, 5) for x in proj.losses[:: max(1, len(proj.losses) // 100)]],
                           seconds=round(seconds, 2))
    atomic.write_json(out / "project.json", record)
    proj.folder = out
    return proj
