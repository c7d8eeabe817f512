"""Walks through latent space: keyframes -> a smooth sequence of frames -> a video + record.

The walk visits the keyframes in order (and back to the first with `loop`), spending the same
time on each leg, with an easing curve inside each leg so the picture rests at every keyframe.
In Z the seeds' z are interpolated (slerp keeps them on the Gaussian shell) and mapped; in W the
ws themselves are (lerp is what the mapping network was trained to make perceptually even, and it
works for every keyframe, including projected paintings that have no z). Keyframes with their own
noise (projections) have it interpolated too, so the first frame of a walk from a projected
painting is exactly its projection.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from belamy.core import atomic
from belamy.core.device import pick_device
from belamy.core.errors import BelamyError
from belamy.core.progress import make_progress
from belamy.generate.latents import (
    EASINGS,
    INTERPOLATIONS,
    Latent,
    check_shape,
    latent_generator,
    noise_buffers,
    resolve,
    slerp,
    truncate,
)
from belamy.generate.records import render_record
from belamy.generate.sample import render_ws
from belamy.generate.video import (
    FrameStrip,
    check_timing,
    check_video_path,
    resize_frame,
    write_video,
)
from belamy.models.run import Run


@dataclass
class WalkConfig:
    seconds: float = 12.0
    fps: float = 25.0
    space: str = "w"  # "w" (any keyframe) or "z" (seed keyframes only)
    interp: str | None = None  # "slerp" | "lerp"; None: slerp in z, lerp in w
    easing: str = "ease"  # see latents.EASINGS
    loop: bool = False  # return to the first keyframe (a seamless loop)
    truncation: float = 1.0
    noise_mode: str = "const"  # "const" or "none"
    size: int | None = None  # frame size in px (default: the model's resolution)
    batch: int = 8  # frames rendered per forward pass

    def check(self) -> "WalkConfig":
        check_timing(self.seconds, self.fps)
        if self.space not in ("w", "z"):
            raise BelamyError(f"--space must be w or z, got '{self.space}'")
        if self.interp not in (None, *INTERPOLATIONS):
            raise BelamyError(f"--interp must be slerp or lerp, got '{self.interp}'")
        if self.easing not in EASINGS:
            raise BelamyError(f"--easing must be one of {', '.join(EASINGS)}, got '{self.easing}'")
        if self.noise_mode not in ("const", "none"):
            raise BelamyError(f"--noise must be const or none for videos, got '{self.noise_mode}'")
        if not 0.0 <= self.truncation <= 2.0:
            raise BelamyError(f"--truncation {self.truncation} is out of range: use 0 to 1")
        if self.size is not None and not 8 <= self.size <= 4096:
            raise BelamyError(f"--size {self.size} is out of range: use 8 to 4096 px")
        return self

    @property
    def frames(self) -> int:
        return round(self.seconds * self.fps)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "WalkConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def positions(frames: int, legs: int, loop: bool, easing: str) -> list[tuple[int, float]]:
    """(leg, eased t in [0, 1]) per frame; the last frame lands on the last keyframe unless looping."""
    ease = EASINGS[easing]
    out = []
    for f in range(frames):
        u = f / frames * legs if loop else f / max(1, frames - 1) * legs
        leg = min(int(u), legs - 1)
        out.append((leg, ease(min(1.0, u - leg))))
    return out


@torch.no_grad()
def walk_ws(G: torch.nn.Module, keys: list[Latent], steps: list[tuple[int, float]], cfg: WalkConfig
            ) -> tuple[torch.Tensor, dict[str, torch.Tensor] | None]:
    """ws (n, num_ws, w_dim) for the given (leg, t) steps, and per-frame noise (None: the model's own)."""
    nodes = keys + [keys[0]] if cfg.loop else keys
    interp = INTERPOLATIONS[cfg.interp or ("slerp" if cfg.space == "z" else "lerp")]
    if cfg.space == "z":
        z = torch.stack([interp(nodes[i].z, nodes[i + 1].z, t) for i, t in steps])  # (n, z_dim)
        ws = G.mapping(z.to(G.w_avg.device)).cpu()  # (n, num_ws, w_dim)
    else:
        ws = torch.stack([interp(nodes[i].ws, nodes[i + 1].ws, t) for i, t in steps])  # (n, num_ws, w_dim)
    ws = truncate(ws, G.w_avg.cpu(), cfg.truncation)
    if not any(k.noise for k in nodes):
        return ws, None
    own = {k: v.cpu() for k, v in noise_buffers(G).items()}
    full = [{**own, **k.noise} for k in nodes]
    noise = {name: torch.cat([slerp(full[i][name], full[i + 1][name], t) for i, t in steps]) for name in own}
    return ws, noise  # name -> (n, 1, r, r)


def render_steps(G: torch.nn.Module, keys: list[Latent], steps: list[tuple[int, float]], cfg: WalkConfig
                 ) -> Iterator[np.ndarray]:
    """Frames (size, size, 3) uint8 for the steps, rendered `cfg.batch` at a time."""
    for i in range(0, len(steps), cfg.batch):
        ws, noise = walk_ws(G, keys, steps[i:i + cfg.batch], cfg)
        for frame in render_ws(G, ws, cfg.noise_mode, noise=noise):
            yield resize_frame(frame, cfg.size)


def check_keyframes(keys: list[Latent], cfg: WalkConfig, G: torch.nn.Module) -> None:
    if len(keys) < 2 and not (cfg.loop and keys):
        raise BelamyError("a walk needs at least 2 keyframes (e.g. --seeds 3,17,42)")
    for k in keys:
        check_shape(k, G)
    if cfg.space == "z" and any(k.z is None for k in keys):
        raise BelamyError("a walk in Z needs seed keyframes; bookmarks and projections have no z: use --space w")


def walk_frames(G: torch.nn.Module, keys: list[Latent], cfg: WalkConfig) -> Iterator[np.ndarray]:
    """All frames of a walk through `keys`."""
    check_keyframes(keys, cfg.check(), G)
    legs = len(keys) if cfg.loop else len(keys) - 1
    yield from render_steps(G, keys, positions(cfg.frames, legs, cfg.loop, cfg.easing), cfg)


def progress_frames(frames: Iterator[np.ndarray], total: int, what: str, progress: bool | None) -> Iterator[np.ndarray]:
    """Pass frames through, advancing a progress bar."""
    with make_progress(enabled=progress) as bar:
        task = bar.add_task(what, total=total)
        for frame in frames:
            yield frame
            bar.advance(task)


def walk(run: Run, specs: list[dict[str, Any]], out: Path, cfg: WalkConfig, device: str = "auto",
         progress: bool | None = None, strip: Path | None = None) -> Path:
    """`belamy video`: render a walk through the latents `specs` into `out` (+ `out`.record.json),
    and with `strip` a PNG of 8 evenly spaced frames."""
    check_video_path(out)
    cfg.check()
    dev = pick_device(device)
    G = latent_generator(run, dev)
    keys = [resolve(s, G, run) for s in specs]
    frames = progress_frames(walk_frames(G, keys, cfg), cfg.frames, "video", progress)
    n = write_with_strip(out, frames, cfg.frames, cfg.fps, strip)
    record = render_record(run, "video", dev, keyframes=[k.spec for k in keys], config=asdict(cfg), frames=n,
                           video=Path(out).name)
    atomic.write_json(video_record_path(out), record)
    return Path(out)


def write_with_strip(out: Path, frames: Iterator[np.ndarray], total: int, fps: float, strip: Path | None) -> int:
    """Write the video, and with `strip` a PNG of 8 evenly spaced frames (kept as they stream by)."""
    if strip is None:
        return write_video(out, frames, fps)
    keeper = FrameStrip(total)
    n = write_video(out, keeper.watch(frames), fps)
    keeper.save(strip)
    return n


def video_record_path(video: Path) -> Path:
    return Path(video).with_name(Path(video).name + ".record.json")
