"""Exploring a trained run: `belamy series | video | project | morph | mix | bookmark` as functions.

Each takes the run (a `Run` or its folder), the command's settings and latents, writes what the
command writes and returns it (paths, records, the projection); none prints. A latent is a seed
(42), a command-line latent ('42', 'bookmark:NAME', a latent file or `belamy project` folder) or a
spec (see `belamy.generate.latents`). The work itself is `belamy.generate`; long jobs show the
progress bar of `belamy.core.progress` (`progress=False` hides it, None: on a terminal).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Union

from belamy.generate import bookmarks as generate_bookmarks
from belamy.generate import interpolate, mixing, rerender
from belamy.generate import morph as generate_morph
from belamy.generate import project as generate_project
from belamy.generate import series as generate_series
from belamy.generate.interpolate import WalkConfig
from belamy.generate.latents import as_spec
from belamy.generate.mixing import Mix
from belamy.generate.morph import MorphConfig
from belamy.generate.project import ProjectConfig, Projection
from belamy.generate.series import SeriesConfig
from belamy.models.run import Run

__all__ = ["Mix", "MorphConfig", "as_spec", "ProjectConfig", "Projection", "SeriesConfig", "SeriesResult", "WalkConfig",
           "bookmarks", "mix", "morph", "project", "render_bookmark", "save_bookmark", "series", "video",
           "video_from_record"]

RunLike = Union[Run, str, os.PathLike]  # a Run or its folder
LatentLike = Union[int, str, Path, dict]


def open_run(run: RunLike) -> Run:
    return run if isinstance(run, Run) else Run.open(run)


@dataclass
class SeriesResult:
    folder: Path
    renders: list[Path]  # one PNG per member (record beside each)
    contact_sheet: Path


def series(run: RunLike, out: str | os.PathLike[str] | None = None, cfg: SeriesConfig | None = None,
           device: str = "auto") -> SeriesResult:
    """`belamy series`: a family of related portraits into `out` (default RUN/series/familySEED) and
    its titled contact sheet. `cfg.family` may be a seed or any latent (its relatives)."""
    r = open_run(run)
    cfg = cfg or SeriesConfig()
    if not isinstance(cfg.family, int):
        cfg = replace(cfg, family=as_spec(cfg.family))
    folder = Path(out) if out is not None else generate_series.series_folder(r, cfg.family)
    renders = generate_series.series(r, folder, cfg, device=device)
    return SeriesResult(folder, renders, generate_series.sheet_path(folder, cfg.family))


def video(run: RunLike, keyframes: Sequence[LatentLike], out: str | os.PathLike[str] = "walk.mp4",
          cfg: WalkConfig | None = None, device: str = "auto", strip: str | os.PathLike[str] | None = None,
          progress: bool | None = None) -> Path:
    """`belamy video`: a walk through the keyframes into `out` (.mp4, .webm or .gif) and
    OUT.record.json; with `strip`, also 8 evenly spaced frames side by side as a PNG."""
    return interpolate.walk(open_run(run), [as_spec(k) for k in keyframes], Path(out), cfg or WalkConfig(),
                            device=device, progress=progress, strip=None if strip is None else Path(strip))


def video_from_record(record: str | os.PathLike[str], out: str | os.PathLike[str], device: str = "auto",
                      progress: bool | None = None) -> Path:
    """`belamy video --record`: re-render a walk or morph from its .record.json."""
    return rerender.video_from_record(Path(record), Path(out), device, progress)


def project(run: RunLike, image: str | os.PathLike[str], out: str | os.PathLike[str] | None = None,
            cfg: ProjectConfig | None = None, device: str = "auto", progress: bool | None = None) -> Projection:
    """`belamy project`: the latent that best reproduces `image`, written with its record, images and
    video into `out` (default RUN/projections/IMAGE); `.folder` says where, `.quality` how close."""
    return generate_project.project(open_run(run), Path(image), None if out is None else Path(out),
                                    cfg or ProjectConfig(), device=device, progress=progress)


def morph(run: RunLike, source: str | os.PathLike[str], to: LatentLike, out: str | os.PathLike[str] = "morph.mp4",
          cfg: MorphConfig | None = None, latent: str | os.PathLike[str] | None = None, device: str = "auto",
          strip: str | os.PathLike[str] | None = None, progress: bool | None = None) -> Path:
    """`belamy morph`: the video of painting `source` turning into the portrait `to` (projecting it,
    unless `latent` is a projection of it already), with OUT.record.json."""
    return generate_morph.morph(open_run(run), Path(source), as_spec(to), Path(out), cfg or MorphConfig(),
                                latent=None if latent is None else Path(latent), device=device, progress=progress,
                                strip=None if strip is None else Path(strip))


def mix(run: RunLike, base: LatentLike, parts: Sequence[tuple[str, LatentLike]], out: str | os.PathLike[str] = "mix.png",
        truncation: float = 1.0, device: str = "auto", bookmark: str | None = None) -> Mix:
    """`belamy mix`: `base` with the layers of each (layers, latent) in `parts` taken from that latent
    (layers: 'coarse', 'middle', 'fine', '0-3' or '5'), rendered to `out` with its record; with
    `bookmark`, also kept under that name."""
    return mixing.mix(open_run(run), as_spec(base), [(layers, as_spec(s)) for layers, s in parts], Path(out),
                      truncation=truncation, device=device, bookmark=bookmark)


def save_bookmark(run: RunLike, name: str, latent: LatentLike | None = None,
                  record: str | os.PathLike[str] | None = None, note: str = "", overwrite: bool = False) -> Path:
    """`belamy bookmark save`: keep `latent` (or the latent of a render's `record`) as bookmark:NAME."""
    return generate_bookmarks.add_bookmark(open_run(run), name, None if latent is None else as_spec(latent),
                                           None if record is None else Path(record), note=note, overwrite=overwrite)


def render_bookmark(run: RunLike, name: str, out: str | os.PathLike[str] | None = None, truncation: float = 1.0,
                    device: str = "auto") -> Path:
    """`belamy bookmark load`: render bookmark:NAME to `out` (default NAME.png) with its record."""
    return generate_bookmarks.render_bookmark(open_run(run), name, None if out is None else Path(out),
                                              truncation=truncation, device=device)


def bookmarks(run: RunLike) -> list[dict[str, Any]]:
    """`belamy bookmark list`: the run's bookmarks, each with its name, source spec and note."""
    return generate_bookmarks.list_bookmarks(open_run(run))
