"""Typed configs for every stage, with a JSON round-trip that rejects unknown keys.

Configs are plain dataclasses so they can be written into a Collection or a Run and read back
exactly; an unknown key is a user error (a typo in a config file), reported in one line.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from belamy.errors import BelamyError

T = TypeVar("T")

FITS = ("crop", "pad", "stretch")


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def from_dict(cls: type[T], data: dict[str, Any], where: str = "config") -> T:
    """Build `cls` from a dict; nested dataclass fields are built recursively."""
    names = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise BelamyError(
            f"{where}: unknown key '{unknown[0]}' (known keys: {', '.join(sorted(names))})"
        )
    kwargs = {}
    for key, value in data.items():
        sub = _dataclass_type(cls, key)
        kwargs[key] = from_dict(sub, value, f"{where}.{key}") if sub and isinstance(value, dict) else value
    return cls(**kwargs)  # type: ignore[call-arg]


def _dataclass_type(cls: type, name: str) -> type | None:
    import typing

    hints = typing.get_type_hints(cls)
    t = hints.get(name)
    return t if isinstance(t, type) and dataclasses.is_dataclass(t) else None


def load_json_config(cls: type[T], path: str | Path) -> T:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BelamyError(f"config file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise BelamyError(f"config file {path} is not valid JSON (line {exc.lineno}): fix the syntax") from None
    return from_dict(cls, data, where=str(path))


@dataclass
class CollectConfig:
    """How sources become a Collection (see `belamy.collect`)."""

    size: int = 256
    fit: str = "crop"  # crop | pad | stretch, for non-square images
    background: str = "white"  # colour behind transparency and padding
    near_threshold: int = 6  # max Hamming distance of 64-bit perceptual hashes to call a near duplicate (-1: off)
    min_side: int = 0  # skip images whose short side is below this (0: size // 4)
    max_pixels: int = 89_478_485  # larger images are treated as decompression bombs
    max_bytes: int = 256 * 1024 * 1024  # larger files are skipped
    strict: bool = False  # any skipped file makes the run fail and leaves the collection unchanged
    workers: int = 0  # decoding processes (0: one per CPU core)
    url_timeout: float = 20.0
    url_retries: int = 3
    default_license: str | None = None  # SPDX id for images the credits file does not cover
    default_author: str | None = None
    demo_count: int | None = None  # images in a built-in demo source (None: its default)

    def validate(self) -> None:
        s = self.size
        if s < 32 or s > 1024 or s & (s - 1):
            raise BelamyError(f"--size must be a power of two from 32 to 1024, got {s}")
        if self.fit not in FITS:
            raise BelamyError(f"--fit must be one of {', '.join(FITS)}, got '{self.fit}'")
        if self.near_threshold > 32:
            raise BelamyError("--near-threshold above 32 of 64 bits would merge unrelated images: use 0-16")
        from PIL import ImageColor

        try:
            ImageColor.getrgb(self.background)
        except ValueError:
            raise BelamyError(
                f"--background '{self.background}' is not a colour: use a name (white) or hex (#f0e8d8)"
            ) from None

    @property
    def effective_min_side(self) -> int:
        return self.min_side if self.min_side > 0 else max(1, self.size // 4)
