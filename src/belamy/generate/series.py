"""`belamy series`: a family of related portraits and its titled contact sheet.

Every member shares the family's latent and adds its own, scaled by `spread` (see
`latents.family_z`), so the series reads as relatives: one sitter's bone structure and palette,
varied. Each member is an ordinary render with a record, so any one can be re-rendered exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from belamy.core import atomic
from belamy.core.device import pick_device
from belamy.core.errors import BelamyError
from belamy.core.grid import make_grid
from belamy.generate.latents import latent_generator, resolve
from belamy.generate.sample import render_latents
from belamy.models.run import Run


@dataclass
class SeriesConfig:
    n: int = 11
    family: int | dict = 0  # the family's seed, or the spec of any latent (a bookmark, a projection)
    spread: float = 0.5  # 0: identical, 0.5: siblings, 1: cousins, 3+: strangers
    truncation: float = 1.0
    noise_mode: str = "const"
    title: str | None = None  # contact-sheet title (default: "Family <seed>")

    def check(self) -> "SeriesConfig":
        if not 1 <= self.n <= 1024:
            raise BelamyError(f"-n {self.n} is out of range: a series has 1 to 1024 portraits")
        if not 0.0 <= self.spread <= 100.0:
            raise BelamyError(f"--spread {self.spread} must be 0 or more (0.5 siblings, 1 cousins)")
        if not 0.0 <= self.truncation <= 2.0:
            raise BelamyError(f"--truncation {self.truncation} is out of range: use 0 to 1")
        if self.noise_mode not in ("const", "none"):
            raise BelamyError(f"--noise must be const or none for a series, got '{self.noise_mode}'")
        return self


def family_name(family: int | dict) -> str:
    """familyNNNN for a seed, family-NAME for a bookmark or latent file."""
    if isinstance(family, int):
        return f"family{family:04d}"
    if "seed" in family and len(family) == 1:
        return f"family{int(family['seed']):04d}"
    label = family.get("bookmark") or Path(family.get("file", "latent")).stem
    if label == "latent" and "file" in family:  # a `belamy project` folder: name it after the folder
        label = Path(family["file"]).parent.name
    return f"family-{label}"


def series_folder(run: Run, family: int | dict) -> Path:
    """Where a series goes by default: RUN/series/familyNNNN (or family-NAME)."""
    return run.path / "series" / family_name(family)


def sheet_path(out: Path, family: int | dict) -> Path:
    """The contact sheet of a series written into `out`: familyNNNN.png (or family-NAME.png)."""
    return Path(out) / f"{family_name(family)}.png"


def series(run: Run, out: Path | None, cfg: SeriesConfig, device: str = "auto") -> list[Path]:
    """Render the family into `out` (None: `series_folder`): one PNG + record per member and
    `familyNNNN.png` (or `family-NAME.png` for a family around a bookmark or projection), the
    contact sheet (`sheet_path`)."""
    cfg.check()
    G = latent_generator(run, pick_device(device))
    family = cfg.family["seed"] if isinstance(cfg.family, dict) and list(cfg.family) == ["seed"] else cfg.family
    out = series_folder(run, family) if out is None else Path(out)
    members = [resolve({"family": family, "member": i, "spread": cfg.spread}, G, run) for i in range(cfg.n)]
    name = family_name(family)
    names = [f"{name}-{i:02d}" for i in range(cfg.n)]
    paths, arrays = render_latents(run, G, members, names, out, cfg.truncation, cfg.noise_mode, "series")
    title = cfg.title or f"Family {family if isinstance(family, int) else name[len('family-'):]}"
    subtitle = (f"{cfg.n} portraits · spread {cfg.spread:g} · truncation {cfg.truncation:g} · "
                f"run {run.run_id} step {run.export_meta.get('step')}")
    sheet = titled_sheet(arrays, title, subtitle)
    with atomic.atomic_path(sheet_path(out, family), suffix=".png") as tmp:
        sheet.save(tmp, format="PNG")
    return paths


def titled_sheet(images: np.ndarray, title: str, subtitle: str = "", cell: int | None = None) -> Image.Image:
    """A contact sheet with a title band above; small renders are enlarged to at least 128 px."""
    size = images.shape[1]
    cols = 6 if len(images) > 8 else max(1, len(images))
    grid = make_grid(list(images), cols=cols, cell=cell or max(size, 128), pad=6, background=(245, 242, 235))
    band = 44 if subtitle else 28
    sheet = Image.new("RGB", (grid.width, grid.height + band), (245, 242, 235))
    sheet.paste(grid, (0, band))
    draw = ImageDraw.Draw(sheet)
    draw.text((8, 6), title, fill=(20, 20, 20))
    if subtitle:
        draw.text((8, 24), subtitle, fill=(90, 90, 90))
    return sheet
