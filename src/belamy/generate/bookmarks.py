"""Named latents kept with their run: `RUN/bookmarks/NAME.safetensors` + `NAME.json`.

An artist finds a face worth keeping (a seed, a mix, a family member, a projected painting) and
names it; every command that takes a latent then accepts `bookmark:NAME`. The tensors are stored,
not just the spec, so a bookmark survives even if the file it was projected from goes away; the
JSON beside it says where it came from and for which generator it was made.

The files themselves (save, load, list) are `latent_files`, which `latents` reads bookmark specs
through; this module adds what the `belamy bookmark` commands do with them: keep the latent of a
spec or of a render record, render a bookmark.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from belamy.core.device import pick_device
from belamy.core.errors import BelamyError
from belamy.generate.latent_files import (
    NAME_RE,
    bookmark_dir,
    list_bookmarks,
    load_bookmark,
    save_bookmark,
)
from belamy.generate.latents import latent_generator, resolve
from belamy.generate.records import read_record
from belamy.generate.sample import render_latents
from belamy.models.run import Run

__all__ = ["NAME_RE", "add_bookmark", "bookmark_dir", "list_bookmarks", "load_bookmark", "record_latent",
           "render_bookmark", "save_bookmark"]


def record_latent(record_path: Path) -> dict[str, Any]:
    """The spec of the one latent a still render's record names (a seed, family member, mix ...)."""
    rec = read_record(record_path)
    spec = rec.get("latent") or ({"seed": rec["seed"]} if "seed" in rec else None)
    if spec is None:
        raise BelamyError(f"{record_path} names no single latent (videos have several): bookmark a still render")
    return spec


def add_bookmark(run: Run, name: str, latent: dict[str, Any] | None = None, record: Path | None = None,
                 note: str = "", overwrite: bool = False) -> Path:
    """`belamy bookmark save`: keep the latent of a spec (`latent`) or of a render record (`record`)
    as RUN/bookmarks/NAME; returns the bookmark's latent file."""
    if (latent is None) == (record is None):
        raise BelamyError("give the latent to keep (42, bookmark:NAME, a latent file) or --record RENDER.record.json")
    spec = record_latent(record) if record is not None else latent
    return save_bookmark(run, name, resolve(spec, latent_generator(run, "cpu"), run), note=note, overwrite=overwrite)


def render_bookmark(run: Run, name: str, out: Path | None = None, truncation: float = 1.0,
                    device: str = "auto") -> Path:
    """`belamy bookmark load`: render bookmark NAME to `out` (default NAME.png), with its record."""
    G = latent_generator(run, pick_device(device))
    target = Path(out) if out is not None else Path(f"{name}.png")
    paths, _ = render_latents(run, G, [resolve({"bookmark": name}, G, run)], [target.stem], target.parent, truncation,
                              "const", "bookmark")
    return paths[0]
