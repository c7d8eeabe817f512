"""Named latents kept with their run: `RUN/bookmarks/NAME.safetensors` + `NAME.json`.

An artist finds a face worth keeping (a seed, a mix, a family member, a projected painting) and
names it; every command that takes a latent then accepts `bookmark:NAME`. The tensors are stored,
not just the spec, so a bookmark survives even if the file it was projected from goes away; the
JSON beside it says where it came from and for which generator it was made.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from belamy.core import atomic
from belamy.core.errors import BelamyError
from belamy.generate.latents import Latent, load_latent, save_latent, sha256_of

if TYPE_CHECKING:
    from belamy.models.run import Run

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def bookmark_dir(run: "Run") -> Path:
    return run.path / "bookmarks"


def _check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name) or name.endswith(".json") or name.endswith(".safetensors"):
        raise BelamyError(f"bookmark name '{name}' is not allowed: use letters, digits, '-', '_' or '.' (up to 64)")
    return name


def save_bookmark(run: "Run", name: str, latent: Latent, note: str = "", overwrite: bool = False) -> Path:
    """Keep `latent` as RUN/bookmarks/NAME; refuses to replace an existing one unless asked."""
    path = bookmark_dir(run) / f"{_check_name(name)}.safetensors"
    if path.exists() and not overwrite:
        raise BelamyError(f"bookmark '{name}' already exists in {run.path}: pick another name or pass --force")
    info = {"name": name, "source": latent.spec, "note": note, "run": run.run_id,
            "generator_sha256": run.generator_sha256(),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    save_latent(path, latent, meta=info)
    atomic.write_json(path.with_suffix(".json"), {**info, "sha256": sha256_of(path)})
    return path


def load_bookmark(run: "Run", name: str) -> Latent:
    path = bookmark_dir(run) / f"{_check_name(name)}.safetensors"
    if not path.is_file():
        known = ", ".join(b["name"] for b in list_bookmarks(run)) or "none yet"
        raise BelamyError(f"no bookmark '{name}' in {run.path} (known: {known}): save one with `belamy bookmark save`")
    return load_latent(path, spec={"bookmark": name, "sha256": sha256_of(path)})


def list_bookmarks(run: "Run") -> list[dict[str, Any]]:
    """The bookmarks of a run, by name, with where each came from."""
    out = []
    for p in sorted(bookmark_dir(run).glob("*.safetensors")):
        meta = p.with_suffix(".json")
        info = json.loads(meta.read_text()) if meta.is_file() else {"name": p.stem}
        out.append(info)
    return out
