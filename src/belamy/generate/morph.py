"""`belamy morph`: a painting transforming into one of the model's own portraits.

The painting is projected (`project.py`), then the video walks in W+ from its projection, with the
projection's own noise, to the target latent (a seed, bookmark or file). Optionally it opens on the
exact source painting and crossfades into the projection (a projection is never pixel-exact), and
rests on the final portrait for a moment. Timeline, in frames of the requested length:

    [crossfade: source -> projection][walk: projection -> target, eased][hold: target]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from belamy.core import atomic
from belamy.core.device import pick_device
from belamy.core.errors import BelamyError
from belamy.generate.interpolate import (
    WalkConfig,
    progress_frames,
    video_record_path,
    walk_frames,
    write_with_strip,
)
from belamy.generate.latents import (
    EASINGS,
    Latent,
    check_shape,
    latent_generator,
    load_latent,
    resolve,
    sha256_of,
    truncate,
)
from belamy.generate.project import ProjectConfig, load_target, project
from belamy.generate.records import recorded_run, render_record
from belamy.generate.video import check_timing, check_video_path
from belamy.models.run import Run


@dataclass
class MorphConfig:
    seconds: float = 12.0
    fps: float = 25.0
    crossfade: float = 1.0  # seconds from the exact source to its projection (0: start on the projection)
    hold: float = 0.5  # seconds resting on the final portrait
    easing: str = "ease"
    truncation: float = 1.0  # applied to the target portrait only (the projection keeps its likeness)
    size: int | None = None  # frame size in px (default: the model's resolution)
    project: ProjectConfig = field(default_factory=lambda: ProjectConfig(video=False))

    def frame_counts(self) -> tuple[int, int, int]:
        """(crossfade, walk, hold) frames; they add up to round(seconds * fps)."""
        total = check_timing(self.seconds, self.fps)
        if self.crossfade < 0 or self.hold < 0:
            raise BelamyError("--crossfade and --hold are seconds and cannot be negative")
        fade, hold = round(self.crossfade * self.fps), round(self.hold * self.fps)
        walk = total - fade - hold
        if walk < 2:
            raise BelamyError(f"--seconds {self.seconds} leaves no time to morph after a {self.crossfade} s crossfade "
                              f"and a {self.hold} s hold: make it longer")
        if self.easing not in EASINGS:
            raise BelamyError(f"--easing must be one of {', '.join(EASINGS)}, got '{self.easing}'")
        return fade, walk, hold

    def walk_config(self, walk_frames: int) -> WalkConfig:
        return WalkConfig(seconds=walk_frames / self.fps, fps=self.fps, space="w", interp="lerp",
                          easing=self.easing, size=self.size)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MorphConfig":
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["project"] = ProjectConfig.from_dict(d.get("project", {}))
        return cls(**kw)


def morph_frames(G, source: np.ndarray, start: Latent, target: Latent, cfg: MorphConfig) -> Iterator[np.ndarray]:
    """All frames: `source` is the painting at frame size ((S, S, 3) uint8), `start` its projection."""
    fade, walk, hold = cfg.frame_counts()
    frames = walk_frames(G, [start, target], cfg.walk_config(walk))
    first = next(frames)  # the projection, rendered
    ease = EASINGS[cfg.easing]
    for i in range(fade):
        a = ease(i / fade)
        yield np.round(source * (1.0 - a) + first * a).astype(np.uint8)
    yield first
    last = first
    for last in frames:
        yield last
    for _ in range(hold):
        yield last


def morph(run: Run, source: Path, target_spec: dict[str, Any], out: Path, cfg: MorphConfig,
          latent: Path | None = None, device: str = "auto", progress: bool | None = None,
          strip: Path | None = None) -> Path:
    """Project `source` (or use the projection in `latent`), then write the morph video and its record
    (and with `strip` a PNG of 8 evenly spaced frames).

    The projection is kept in OUT-projection/ (its own record, images and latent), so the morph can
    be re-rendered without projecting again.
    """
    out = Path(out)
    check_video_path(out)
    fade, walk, hold = cfg.frame_counts()
    dev = pick_device(device)
    G = latent_generator(run, dev)
    size = cfg.size or G.resolution
    painting = load_target(source, size, cfg.project.fit)  # fails early on a bad image
    target = check_shape(resolve(target_spec, G, run), G)
    if latent is None:
        proj_dir = out.with_name(out.stem + "-projection")
        start = project(run, source, proj_dir, cfg.project, device=device, progress=progress).latent
    else:
        start = check_shape(load_latent(latent), G)
    target = replace(target, ws=truncate(target.ws, G.w_avg.cpu(), cfg.truncation))
    frames = progress_frames(morph_frames(G, painting, start, target, cfg), fade + walk + hold, "morph", progress)
    n = write_with_strip(out, frames, fade + walk + hold, cfg.fps, strip)
    record = render_record(run, "morph", dev, source=str(Path(source).resolve()), source_sha256=sha256_of(source),
                           projection=start.spec, target=target.spec, config=asdict(cfg), frames=n, video=out.name)
    atomic.write_json(video_record_path(out), record)
    return out


def morph_from_record(record: dict[str, Any], out: Path, device: str = "auto", progress: bool | None = None) -> Path:
    """Re-render a morph from its record, reusing the recorded projection (no re-projection)."""
    run = recorded_run(record)
    proj = Path(record["projection"]["file"])
    if not proj.is_file() or sha256_of(proj) != record["projection"]["sha256"]:
        raise BelamyError(f"the projection {proj} of this morph is missing or changed: run `belamy morph` again")
    return morph(run, Path(record["source"]), record["target"], out, MorphConfig.from_dict(record["config"]),
                 latent=proj, device=device, progress=progress)
