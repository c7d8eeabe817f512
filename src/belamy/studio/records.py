"""A render's record, read without failing: the studio shows a broken record as a marked tile.

The record's home is `generate.records` (docs/formats.md, "Render records"): beside the PNG as
NAME.record.json, and inside it as the iTXt chunk `belamy:record`. The studio reads both
without importing `generate` (which loads torch): the two names below are the format's, not new
ones. The sidecar wins when both exist, as `belamy rerender` reads it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

RECORD_SUFFIX = ".record.json"  # docs/formats.md: NAME.record.json beside NAME.png
RECORD_KEY = "belamy:record"    # docs/formats.md: the iTXt chunk inside the PNG
MAX_RECORD_BYTES = 4 << 20      # a record is a few KB; a larger sidecar is not one


@dataclass(frozen=True)
class RecordRead:
    """What reading a render's record found: the record, or why there is none usable."""

    record: dict[str, Any] | None
    source: str        # "sidecar", "png" or "" when none was found
    problem: str = ""  # "" when fine, else one line ("broken record: ...", "no record")


def sidecar(png: Path) -> Path:
    """NAME.record.json beside NAME.png."""
    return png.with_name(png.stem + RECORD_SUFFIX)


def _parse(text: str | bytes) -> dict[str, Any]:
    record = json.loads(text)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    return record


def read_render_record(png: Path, allowed: Callable[[Path], bool] | None = None) -> RecordRead:
    """The record of `png`: its sidecar, else its iTXt chunk; a problem line instead of raising.
    `allowed` vets each file before it is read (a sidecar that is a symlink out is not read)."""
    side = sidecar(png)
    try:
        if side.is_file() or side.is_symlink():
            if allowed is not None and not allowed(side):
                return RecordRead(None, "", f"broken record: {side.name} points outside the served folders")
            if side.stat().st_size > MAX_RECORD_BYTES:
                return RecordRead(None, "sidecar", f"broken record: {side.name} is larger than a record")
            return RecordRead(_parse(side.read_bytes()), "sidecar")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return RecordRead(None, "sidecar", f"broken record: {side.name} ({type(exc).__name__})")
    if allowed is not None and not allowed(png):
        return RecordRead(None, "", "points outside the served folders")
    try:
        with Image.open(png) as im:  # reads the chunks before the pixels, decodes none
            text = im.info.get(RECORD_KEY)
    except Exception as exc:  # noqa: BLE001 - any undecodable file is a marked tile, not an error
        return RecordRead(None, "", f"image does not open ({type(exc).__name__})")
    if text is None:
        return RecordRead(None, "", "no record")
    try:
        return RecordRead(_parse(text), "png")
    except (ValueError, TypeError) as exc:
        return RecordRead(None, "png", f"broken record: iTXt {RECORD_KEY} ({type(exc).__name__})")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def lineage(record: dict[str, Any] | None) -> dict[str, Any]:
    """The fields the grid sorts and filters by, and the detail's lineage: run, generator, seed,
    truncation, step, kind, and the originality score and nearest training image when present."""
    rec = record or {}
    seed = rec.get("seed")
    if seed is None and isinstance(rec.get("latent"), dict):
        seed = rec["latent"].get("seed")
    orig = rec.get("originality") if isinstance(rec.get("originality"), dict) else {}
    nearest = orig.get("nearest") if isinstance(orig.get("nearest"), dict) else None
    return {
        "kind": rec.get("kind") if isinstance(rec.get("kind"), str) else None,
        "run": rec.get("run") if isinstance(rec.get("run"), str) else None,
        "run_path": rec.get("run_path") if isinstance(rec.get("run_path"), str) else None,
        "latent": rec.get("latent") if isinstance(rec.get("latent"), dict) else None,
        "generator_sha256": rec.get("generator_sha256") if isinstance(rec.get("generator_sha256"), str) else None,
        "step": rec.get("step") if isinstance(rec.get("step"), int) else None,
        "seed": seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        "truncation": _number(rec.get("truncation")),
        "originality": _number(orig.get("score")),
        "near_copy": orig.get("near_copy") if isinstance(orig.get("near_copy"), bool) else None,
        "nearest": {k: nearest.get(k) for k in ("index", "id", "title", "author", "score", "distance", "space")
                    if k in nearest} if nearest else None,
    }
