"""Exact and near duplicate detection.

A GAN trained on duplicates memorises them, so a collection keeps one copy. Exact duplicates share
the sha256 of their source bytes; near duplicates (re-encodes, resizes, small edits) have two
64-bit perceptual hashes (DCT and gradient) that are *both* within a small Hamming distance.
One hash alone is not enough: collections of one genre (portraits with a centred head on a dark
ground) share their low frequencies, and a DCT hash alone calls different sitters duplicates.
The distance of a pair is the larger of the two hash distances; and since both hashes are
colour-blind, a pair whose 4x4 colour thumbnails differ clearly (a green dress and a blue one) is
never a near duplicate.
"""

from __future__ import annotations

import numpy as np

COLOR_TOLERANCE = 16.0  # largest colour difference (any channel, 0-255) of any cell of 4x4 thumbnails

_POP8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def popcount64(x: np.ndarray) -> np.ndarray:
    """Bits set in each uint64."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.int64)
    return _POP8[x.view(np.uint8).reshape(-1, 8)].sum(axis=1).astype(np.int64)  # pragma: no cover


class NearIndex:
    """Perceptual hash pairs of the images kept so far, searchable by Hamming distance."""

    def __init__(self) -> None:
        self._hashes = np.zeros((16, 2), dtype=np.uint64)
        self._colors = np.zeros((16, 48), dtype=np.float32)
        self._ids: list[str] = []

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, hashes: tuple[int, int], colors: bytes, ident: str) -> None:
        n = len(self._ids)
        if n == len(self._hashes):
            self._hashes = np.concatenate([self._hashes, np.zeros_like(self._hashes)])
            self._colors = np.concatenate([self._colors, np.zeros_like(self._colors)])
        self._hashes[n] = np.array(hashes, dtype=np.uint64)
        self._colors[n] = np.frombuffer(colors, dtype=np.uint8)
        self._ids.append(ident)

    def nearest(self, hashes: tuple[int, int], colors: bytes) -> tuple[str, int] | None:
        """(id, distance) of the closest kept image of similar colours, or None."""
        n = len(self._ids)
        if n == 0:
            return None
        x = self._hashes[:n] ^ np.array(hashes, dtype=np.uint64)
        dist = np.maximum(popcount64(x[:, 0]), popcount64(x[:, 1]))
        diff = np.abs(self._colors[:n] - np.frombuffer(colors, dtype=np.uint8).astype(np.float32))
        cdiff = diff.max(axis=1)  # (n,) worst channel of the worst of the 16 cells
        dist = np.where(cdiff <= COLOR_TOLERANCE, dist, 1 << 20)
        if int(dist.min()) >= 1 << 20:
            return None
        j = int(dist.argmin())
        return self._ids[j], int(dist[j])
