"""`CollectConfig`: how sources become a Collection (see `belamy.collect`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from belamy.core.config import bounds, check_fields
from belamy.core.errors import BelamyError


@dataclass
class CollectConfig:
    """How sources become a Collection; every field is also a `belamy collect` option."""

    size: int = 256
    fit: Literal["crop", "pad", "stretch"] = "crop"  # for non-square images
    background: str = "white"  # colour behind transparency and padding
    # Hamming radius (of 64 bits, both DCT and gradient hashes) of near-duplicate candidates, each
    # then confirmed on thumbnails (see belamy.data.dedupe; -1: no near-duplicate check)
    near_threshold: int = field(default=20, metadata=bounds(-1, 32))
    min_side: int = field(default=0, metadata=bounds(0))  # skip images whose short side is below this (0: size // 4)
    max_pixels: int = field(default=89_478_485, metadata=bounds(1))  # larger images are decompression bombs
    max_bytes: int = field(default=256 * 1024 * 1024, metadata=bounds(1))  # larger files are skipped
    strict: bool = False  # any skipped file makes the run fail and leaves the collection unchanged
    workers: int = field(default=0, metadata=bounds(0))  # decoding processes (0: one per CPU core)
    url_timeout: float = field(default=20.0, metadata=bounds(0))
    url_retries: int = field(default=3, metadata=bounds(0))
    default_license: str | None = None  # SPDX id for images the credits file does not cover
    default_author: str | None = None
    demo_count: int | None = None  # images in a built-in demo source (None: its default)
    # images whose creators opted out of training (TDMRep, ai.txt, plus:DataMining, C2PA) are
    # skipped; True includes them, and records that decision in each row and in collection.json
    include_opted_out: bool = False

    def validate(self) -> None:
        s = self.size
        if isinstance(s, int) and (s < 32 or s > 1024 or s & (s - 1)):
            raise BelamyError(f"--size must be a power of two from 32 to 1024, got {s}")
        if isinstance(self.near_threshold, int) and self.near_threshold > 32:
            raise BelamyError("--near-threshold above 32 of 64 bits is no longer near: use 0-24")
        check_fields(self, "collect config")
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
