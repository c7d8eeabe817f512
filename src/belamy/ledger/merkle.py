"""An RFC 9162 (Certificate Transparency 2.0, section 2.1) Merkle tree, its proofs and their verifiers.

The ledger is a Merkle log, so anyone holding a signed root can check that an entry is in it
(an inclusion proof, RFC 9162 2.1.3) and that a later root extends an earlier one without
rewriting history (a consistency proof, 2.1.4). Following the RFC exactly means the roots and
proofs are the same bytes as any other RFC 9162 / RFC 6962 log would produce for the same leaves,
and the verifiers run the RFC's algorithms step by step (also refusing anything not a 32-byte hash).

Hashing is SHA-256 with the RFC's domain separation (2.1.1): leaves are hashed behind a 0x00
byte and interior nodes behind 0x01, so a leaf can never be passed off as a node.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32  # bytes in a SHA-256 digest; every leaf, node and root hash has this length

EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
"""MTH({}) = HASH(): the root of a tree with no leaves (RFC 9162 2.1.1)."""


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = HASH(0x00 || d): the hash of one leaf's data (RFC 9162 2.1.1)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """HASH(0x01 || left || right): the hash of an interior node over its two children (2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """k, the largest power of two smaller than n (n > 1): where RFC 9162 2.1.1 splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


class MerkleTree:
    """Leaf hashes appended one at a time; keeps the hash of every complete aligned power-of-two subtree
    (level k holds the hashes of blocks of 2^k leaves), so the root of any prefix, an inclusion proof and a
    consistency proof each cost O(log n) lookups, and an append costs O(1) amortised (O(log n) at worst).

    Every range of leaves the RFC's recursive definitions visit starts at a multiple of a power of
    two at least as long as the range, so it is made of stored aligned blocks (one per set bit of
    its length): nothing is ever recomputed from the leaves. Memory is about 2n hashes.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        # _levels[k][i] = MTH of leaves [i * 2^k, (i + 1) * 2^k); len(_levels[k]) == n >> k
        self._levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append(h)

    def append(self, leaf_hash: bytes) -> int:
        """Add one leaf hash (see `leaf_hash`) at the end; returns the new leaf's index."""
        if not _is_hash(leaf_hash):
            got = f"{len(leaf_hash)} bytes" if isinstance(leaf_hash, bytes) else type(leaf_hash).__name__
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes (leaf_hash(data)), got {got}")
        levels = self._levels
        levels[0].append(leaf_hash)
        # A new leaf completes one block per trailing 1 bit of its index: each even-length level
        # has just gained the right half of a block one level up.
        level = 0
        while len(levels[level]) % 2 == 0:
            row = levels[level]
            parent = node_hash(row[-2], row[-1])
            level += 1
            if level == len(levels):
                levels.append([])
            levels[level].append(parent)
        return len(levels[0]) - 1

    def __len__(self) -> int:
        return len(self._levels[0])

    def _size(self, size: int | None) -> int:
        n = len(self)
        if size is None:
            return n
        if not 0 <= size <= n:
            raise ValueError(f"tree size {size} is out of range: the tree has {n} leaves")
        return size

    def _hash(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) for 0 < hi - lo, where lo is a multiple of a power of two >= hi - lo.

        Such a range is, largest first, one stored aligned block per set bit of hi - lo, and its MTH
        folds them right to left (each split of 2.1.1 peels off the largest block on the left).
        """
        pieces: list[bytes] = []
        n = hi - lo
        for level in range(n.bit_length() - 1, -1, -1):
            if n >> level & 1:
                pieces.append(self._levels[level][lo >> level])
                lo += 1 << level
        h = pieces.pop()
        while pieces:
            h = node_hash(pieces.pop(), h)
        return h

    def root(self, size: int | None = None) -> bytes:
        """MTH(D[0:size]), the root of the first `size` leaves (default all); EMPTY_ROOT for none."""
        size = self._size(size)
        return EMPTY_ROOT if size == 0 else self._hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) (RFC 9162 2.1.3.1): the sibling hashes from the leaf up to the root."""
        size = self._size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is out of range for a tree of {size} leaves")
        path: list[bytes] = []  # collected root-down, returned leaf-up as the RFC orders it
        lo, hi = 0, size
        while hi - lo > 1:
            mid = lo + _split(hi - lo)
            if index < mid:  # PATH(m, D[0:k]) : MTH(D[k:n])
                path.append(self._hash(mid, hi))
                hi = mid
            else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
                path.append(self._hash(lo, mid))
                lo = mid
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[new_size]) (RFC 9162 2.1.4.1); empty when old_size is 0 or new_size."""
        new_size = self._size(new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"old tree size {old_size} is out of range for a new tree of {new_size} leaves")
        if old_size == 0:
            return []
        proof: list[bytes] = []  # collected outside-in, returned inside-out as SUBPROOF orders it
        lo, hi, whole = 0, new_size, True  # SUBPROOF(old - lo, D[lo:hi], whole)
        while old_size != hi:
            mid = lo + _split(hi - lo)
            if old_size <= mid:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
                proof.append(self._hash(mid, hi))
                hi = mid
            else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
                proof.append(self._hash(lo, mid))
                lo, whole = mid, False
        if not whole:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
            proof.append(self._hash(lo, hi))
        proof.reverse()
        return proof


def root_from_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes | None:
    """The root an inclusion proof leads to (RFC 9162 2.1.3.2 steps 1-4), or None when its shape is wrong.

    None means the index is not below the size, the proof is too long or too short for them, or
    a hash is not 32 bytes.
    """
    if not 0 <= index < size or not _is_hash(leaf_hash) or not all(_is_hash(p) for p in proof):
        return None
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether `proof` shows leaf `index` with this hash is in the tree of `size` leaves with `root`.

    RFC 9162 2.1.3.2. The RFC's check binds the leaf to the root but several sizes can share one
    path shape, so `root` must be a root signed together with `size` (as a checkpoint is).
    """
    return root_from_inclusion(leaf_hash, index, size, proof) == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """Whether `proof` shows the tree (`new_size`, `new_root`) extends the tree (`old_size`, `old_root`).

    RFC 9162 2.1.4.2 for 0 < old_size < new_size. Equal sizes are consistent when the roots are equal
    and the proof is empty; an empty old tree is a prefix of every tree, so any roots with an empty
    proof. Anything else, including old_size > new_size, is False. As for inclusion, several new
    sizes can share one proof's shape: `new_root` must be signed together with `new_size`.
    """
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:  # step 1
        return False
    if not (_is_hash(old_root) and _is_hash(new_root) and all(_is_hash(c) for c in proof)):
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # step 2: the old root is a node of the new tree, left out
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0  # step 7
