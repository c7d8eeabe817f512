"""A render's identity: the sha256 of its file, cached by (path, size, mtime_ns, inode).

Marks and thumbnails are keyed by the file's content, so a rating follows an image that moves
and a thumbnail is never shown for a file that changed. Hashing thousands of renders costs one
read each, once: afterwards a stat decides whether the cached hash still holds.
"""

from __future__ import annotations

from belamy.core.atomic import sha256_file
from belamy.studio.library import Tile
from belamy.studio.paths import Guard
from belamy.studio.state import State


class Identity:
    """Hashes tiles' files through the state's cache; only files the guard allows are read."""

    def __init__(self, state: State, guard: Guard) -> None:
        self.state = state
        self.guard = guard

    def prime(self, tiles: list[Tile]) -> None:
        """Fill in every tile's hash the cache still vouches for, with one query."""
        known = self.state.file_shas()
        for tile in tiles:
            hit = known.get(str(tile.path))
            if tile.sha256 is None and hit is not None and hit[0] == tile.stat_key:
                tile.sha256 = hit[1]

    def sha256(self, tile: Tile) -> str | None:
        """The tile's hash, reading the file when needed; None when it may not or cannot be read."""
        if tile.sha256 is not None or tile.is_folder:
            return tile.sha256
        tile.sha256 = self.state.cached_sha(str(tile.path), tile.stat_key)
        if tile.sha256 is not None:
            return tile.sha256
        real = self.guard.resolved(tile.path)
        if real is None:
            return None
        try:
            sha = sha256_file(real)
        except OSError:
            return None
        self.state.remember_sha(str(tile.path), tile.stat_key, sha)
        tile.sha256 = sha
        return sha
