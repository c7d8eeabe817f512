"""Which files the studio may read: only those inside the served folders or its state folder.

URLs never carry paths (renders are addressed by opaque ids), so this is the second wall: every
file is checked here, after resolving symlinks, right before it is opened. A symlink in a served
folder that points outside it is therefore never read, whatever its name.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path


def tile_id(path: Path) -> str:
    """An opaque, stable id for a file or folder path: 16 hex digits, nothing a client can steer."""
    return hashlib.blake2b(os.fsencode(str(path)), digest_size=8).hexdigest()


def is_tile_id(text: str) -> bool:
    return len(text) == 16 and all(c in "0123456789abcdef" for c in text)


class Guard:
    """The folders files may be read from, resolved once (symlinks followed) when the studio starts."""

    def __init__(self, roots: Iterable[Path]) -> None:
        self.roots = tuple(Path(r).resolve() for r in roots)

    def add(self, root: Path) -> None:
        """Also allow files under `root` (a job's output folder in the state folder)."""
        real = Path(root).resolve()
        if real not in self.roots:
            self.roots = (*self.roots, real)

    def allows(self, path: Path) -> bool:
        """Whether `path`, with every symlink followed, is an existing file inside one of the roots."""
        try:
            real = Path(path).resolve(strict=True)
        except (OSError, RuntimeError):  # missing, or a symlink loop
            return False
        return real.is_file() and any(real.is_relative_to(root) for root in self.roots)

    def resolved(self, path: Path) -> Path | None:
        """The real path to open, or None when `path` may not be read."""
        return Path(path).resolve(strict=True) if self.allows(path) else None
