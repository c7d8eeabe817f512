"""Latents on disk: latent files (`.safetensors`) and a run's bookmarks folder.

The lowest module of the explore code: `latents` resolves `{"file": ...}` and `{"bookmark": ...}`
specs through it, and `bookmarks` builds its commands on it, so neither needs the other.

A latent file holds ws (+ z, + noise buffers) as tensors and the latent's spec and metadata as
JSON. A bookmark is `RUN/bookmarks/NAME.safetensors` (a latent file) + `NAME.json` (where it came
from, for which generator); the tensors are stored, not just the spec, so a bookmark survives even
if the file it was projected from goes away.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from belamy.core import atomic
from belamy.core.errors import BelamyError
from belamy.models.run import Run

LATENT_FORMAT = "belamy.latent"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass
class Latent:
    ws: torch.Tensor  # (num_ws, w_dim), untruncated, on the CPU
    spec: dict[str, Any]  # resolves to this latent again (see `belamy.generate.latents`)
    z: torch.Tensor | None = None  # (z_dim,) when the latent comes from a seed or family
    noise: dict[str, torch.Tensor] = field(default_factory=dict)  # noise buffer name -> (1, 1, r, r)


# -- latent files -------------------------------------------------------------------------------
def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_latent(path: Path, latent: Latent, meta: dict[str, Any] | None = None) -> None:
    """ws (+ z, + noise buffers) as safetensors, the spec and `meta` as JSON metadata; atomic."""
    tensors = {"ws": latent.ws.detach().cpu().contiguous()}
    if latent.z is not None:
        tensors["z"] = latent.z.detach().cpu().contiguous()
    for name, t in latent.noise.items():
        tensors[f"noise/{name}"] = t.detach().cpu().contiguous()
    md = {"format": LATENT_FORMAT, "spec": json.dumps(latent.spec), "meta": json.dumps(meta or {})}
    with atomic.atomic_path(path, suffix=".safetensors") as tmp:
        save_file(tensors, str(tmp), metadata=md)


def load_latent(path: Path, spec: dict[str, Any] | None = None) -> Latent:
    path = Path(path)
    if path.is_dir() and (path / "latent.safetensors").is_file():
        path = path / "latent.safetensors"
    if not path.is_file():
        raise BelamyError(f"latent file {path} not found: give a seed, bookmark:NAME or a file from `belamy project`")
    try:
        with safe_open(str(path), framework="pt") as fh:
            md = fh.metadata() or {}
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except (OSError, SafetensorError) as exc:
        raise BelamyError(f"{path} is not a readable latent file ({exc.__class__.__name__})") from None
    if md.get("format") != LATENT_FORMAT or "ws" not in tensors:
        raise BelamyError(f"{path} is not a belamy latent (save one with `belamy project` or `belamy bookmark save`)")
    noise = {k[len("noise/"):]: v for k, v in tensors.items() if k.startswith("noise/")}
    return Latent(ws=tensors["ws"], z=tensors.get("z"), noise=noise,
                  spec=spec or {"file": str(path.resolve()), "sha256": sha256_of(path)})


# -- bookmarks ----------------------------------------------------------------------------------
def bookmark_dir(run: Run) -> Path:
    return run.path / "bookmarks"


def check_bookmark_name(name: str) -> str:
    if not NAME_RE.fullmatch(name) or name.endswith(".json") or name.endswith(".safetensors"):
        raise BelamyError(f"bookmark name '{name}' is not allowed: use letters, digits, '-', '_' or '.' (up to 64)")
    return name


def save_bookmark(run: Run, name: str, latent: Latent, note: str = "", overwrite: bool = False) -> Path:
    """Keep `latent` as RUN/bookmarks/NAME; refuses to replace an existing one unless asked."""
    path = bookmark_dir(run) / f"{check_bookmark_name(name)}.safetensors"
    if path.exists() and not overwrite:
        raise BelamyError(f"bookmark '{name}' already exists in {run.path}: pick another name or pass --force")
    info = {"name": name, "source": latent.spec, "note": note, "run": run.run_id,
            "generator_sha256": run.generator_sha256(),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    save_latent(path, latent, meta=info)
    atomic.write_json(path.with_suffix(".json"), {**info, "sha256": sha256_of(path)})
    return path


def load_bookmark(run: Run, name: str) -> Latent:
    path = bookmark_dir(run) / f"{check_bookmark_name(name)}.safetensors"
    if not path.is_file():
        known = ", ".join(b["name"] for b in list_bookmarks(run)) or "none yet"
        raise BelamyError(f"no bookmark '{name}' in {run.path} (known: {known}): save one with `belamy bookmark save`")
    return load_latent(path, spec={"bookmark": name, "sha256": sha256_of(path)})


def list_bookmarks(run: Run) -> list[dict[str, Any]]:
    """The bookmarks of a run, by name, with where each came from."""
    out = []
    for p in sorted(bookmark_dir(run).glob("*.safetensors")):
        meta = p.with_suffix(".json")
        info = json.loads(meta.read_text()) if meta.is_file() else {"name": p.stem}
        out.append(info)
    return out
