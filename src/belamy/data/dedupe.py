"""Exact and near duplicate detection.

A GAN trained on duplicates memorises them, so a collection keeps one copy. Exact duplicates share
the sha256 of their source bytes; near duplicates (re-encodes, resizes, small edits) have 64-bit
perceptual hashes within a small Hamming distance.
"""

from __future__ import annotations

import numpy as np

_POP8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def popcount64(x: np.ndarray) -> np.ndarray:
    """Bits set in each uint64."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.int64)
    return _POP8[x.view(np.uint8).reshape(-1, 8)].sum(axis=1).astype(np.int64)  # pragma: no cover


class NearIndex:
    """Perceptual hashes of the images kept so far, searchable by Hamming distance."""

    def __init__(self, hashes: list[int] | None = None, ids: list[str] | None = None) -> None:
        self._hashes = np.zeros(max(16, len(hashes or [])), dtype=np.uint64)
        self._ids: list[str] = []
        for h, i in zip(hashes or [], ids or []):
            self.add(h, i)

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, phash: int, ident: str) -> None:
        n = len(self._ids)
        if n == len(self._hashes):
            self._hashes = np.concatenate([self._hashes, np.zeros_like(self._hashes)])
        self._hashes[n] = np.uint64(phash)
        self._ids.append(ident)

    def nearest(self, phash: int) -> tuple[str, int] | None:
        """(id, distance) of the closest kept image, or None if the index is empty."""
        n = len(self._ids)
        if n == 0:
            return None
        dist = popcount64(self._hashes[:n] ^ np.uint64(phash))
        j = int(dist.argmin())
        return self._ids[j], int(dist[j])
