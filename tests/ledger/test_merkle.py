"""The RFC 9162 Merkle tree: published vectors, a brute-force check against the RFC's recursive
definitions, tampered proofs, incremental equals bulk, and the cost of proofs at 100,000 leaves."""

from __future__ import annotations

import math

import pytest

from belamy.ledger import merkle
from belamy.ledger.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)

# --- Published vectors --------------------------------------------------------------------------
# Data only (no code) from github.com/transparency-dev/merkle, Apache-2.0, the RFC 6962 reference
# vectors that certificate-transparency-go uses too (RFC 9162 keeps RFC 6962's hashing):
#   testonly/constants.go   @ 582a6ad190b6848f1d26f8bf08ddef29955d9db1  leaf inputs, node and root hashes
#   proof/verify_test.go    @ 02194e9afb6c1d95b5381350007963aa70fff472  inclusion and consistency proofs
#                           (its leaf numbers are 1-based; below they are 0-based indices)
#   proof/proof_test.go     @ 02a3e2029520f515596d5238c54fb0ac9e19bff4  proofs as node ids (level, index)
#   rfc6962/rfc6962_test.go @ 78493b07ef9b552e3379abf9e23d4da26fbe797c  leaf and node hashes

LEAF_INPUTS = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
               "606162636465666768696a6b6c6d6e6f"]

# ROOTS[n] = MTH of the first n leaf inputs.
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# NODES[level][i] = MTH of leaf inputs [i * 2^level, (i + 1) * 2^level).
NODES = [
    ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"],
    ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"],
    ["d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]

# (index, size, proof) from proof/verify_test.go.
INCLUSION_VECTORS = [
    (0, 1, []),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]

# (old_size, new_size, proof) from proof/verify_test.go.
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]

# From proof/proof_test.go: the proofs whose elements are all complete subtrees, as (level, index)
# into NODES. (index, size, nodes) for inclusion; (old_size, new_size, nodes) for consistency.
INCLUSION_NODE_VECTORS = [
    (0, 1, []), (0, 2, [(0, 1)]), (1, 2, [(0, 0)]), (1, 3, [(0, 0), (0, 2)]),
    (4, 7, [(0, 5), (0, 6), (2, 0)]), (5, 7, [(0, 4), (0, 6), (2, 0)]), (6, 7, [(1, 2), (2, 0)]),
    (2, 4, [(0, 3), (1, 0)]), (3, 5, [(0, 2), (1, 0), (0, 4)]), (3, 6, [(0, 2), (1, 0), (1, 2)]),
    (4, 6, [(0, 5), (2, 0)]),
]
CONSISTENCY_NODE_VECTORS = [
    (1, 2, [(0, 1)]), (1, 4, [(0, 1), (1, 1)]), (1, 6, [(0, 1), (1, 1), (1, 2)]), (2, 3, [(0, 2)]),
    (2, 8, [(1, 1), (2, 1)]), (5, 7, [(0, 4), (0, 5), (0, 6), (2, 0)]), (6, 7, [(1, 2), (0, 6), (2, 0)]),
    (7, 8, [(0, 6), (0, 7), (1, 2), (2, 0)]), (2, 4, [(1, 1)]), (3, 5, [(0, 2), (0, 3), (1, 0), (0, 4)]),
    (3, 6, [(0, 2), (0, 3), (1, 0), (1, 2)]), (4, 6, [(1, 2)]),
    (1, 1, []), (2, 2, []), (3, 3, []), (4, 4, []), (5, 5, []), (7, 7, []), (8, 8, []),
]

H = bytes.fromhex
VECTOR_LEAVES = [leaf_hash(H(x)) for x in LEAF_INPUTS]


def node(level: int, index: int) -> bytes:
    return H(NODES[level][index])


def test_hashes_match_the_published_values() -> None:
    assert EMPTY_ROOT == H("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert leaf_hash(b"") == H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert leaf_hash(b"L123456") == H("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
    assert node_hash(b"N123", b"N456") == H("aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb")
    assert leaf_hash(b"") != EMPTY_ROOT  # an empty leaf is not an empty tree


def test_roots_of_every_prefix_match_the_vectors() -> None:
    tree = MerkleTree(VECTOR_LEAVES)
    assert [tree.root(n).hex() for n in range(9)] == ROOTS
    assert tree.root().hex() == ROOTS[8]
    assert MerkleTree().root() == EMPTY_ROOT


def test_every_complete_subtree_matches_the_vectors() -> None:
    for level, row in enumerate(NODES):
        for i, expected in enumerate(row):
            block = VECTOR_LEAVES[i << level:(i + 1) << level]
            assert MerkleTree(block).root().hex() == expected, (level, i)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_vectors(index: int, size: int, proof: list[str]) -> None:
    tree = MerkleTree(VECTOR_LEAVES)
    assert [p.hex() for p in tree.inclusion_proof(index, size)] == proof
    assert MerkleTree(VECTOR_LEAVES[:size]).inclusion_proof(index) == [H(p) for p in proof]
    assert verify_inclusion(VECTOR_LEAVES[index], index, size, [H(p) for p in proof], H(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS)
def test_consistency_vectors(old: int, new: int, proof: list[str]) -> None:
    tree = MerkleTree(VECTOR_LEAVES)
    assert [p.hex() for p in tree.consistency_proof(old, new)] == proof
    assert verify_consistency(old, new, H(ROOTS[old]), H(ROOTS[new]), [H(p) for p in proof])


@pytest.mark.parametrize(("index", "size", "nodes"), INCLUSION_NODE_VECTORS)
def test_inclusion_node_vectors(index: int, size: int, nodes: list[tuple[int, int]]) -> None:
    proof = MerkleTree(VECTOR_LEAVES).inclusion_proof(index, size)
    assert proof == [node(*n) for n in nodes]
    assert verify_inclusion(VECTOR_LEAVES[index], index, size, proof, H(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "nodes"), CONSISTENCY_NODE_VECTORS)
def test_consistency_node_vectors(old: int, new: int, nodes: list[tuple[int, int]]) -> None:
    proof = MerkleTree(VECTOR_LEAVES).consistency_proof(old, new)
    assert proof == [node(*n) for n in nodes]
    assert verify_consistency(old, new, H(ROOTS[old]), H(ROOTS[new]), proof)


# --- The RFC's recursive definitions, naively (RFC 9162 2.1.1, 2.1.3.1, 2.1.4.1) ---------------
# D is a list of leaf hashes, so MTH({d(0)}) is D[0] itself.

def ref_k(n: int) -> int:
    """The largest power of two smaller than n."""
    k = 1
    while 2 * k < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return EMPTY_ROOT
    if len(d) == 1:
        return d[0]
    k = ref_k(len(d))
    return node_hash(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = ref_k(len(d))
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = ref_k(n)
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


LEAVES = [leaf_hash(b"entry %d" % i) for i in range(40)]
BIG = MerkleTree(LEAVES)
ROOT = [ref_mth(LEAVES[:n]) for n in range(41)]


@pytest.mark.parametrize("size", range(1, 41))
def test_proofs_match_the_rfc_definitions_and_verify(size: int) -> None:
    d = LEAVES[:size]
    assert BIG.root(size) == ROOT[size]
    for m in range(size):
        proof = BIG.inclusion_proof(m, size)
        assert proof == ref_path(m, d), m
        assert verify_inclusion(LEAVES[m], m, size, proof, ROOT[size]), m
        assert root_from_inclusion(LEAVES[m], m, size, proof) == ROOT[size]
    for old in range(1, size + 1):
        proof = BIG.consistency_proof(old, size)
        assert proof == ref_proof(old, d), old
        assert verify_consistency(old, size, ROOT[old], ROOT[size], proof), old
    assert BIG.consistency_proof(0, size) == []
    assert verify_consistency(0, size, EMPTY_ROOT, ROOT[size], [])


# --- Tampering ---------------------------------------------------------------------------------

def flipped(h: bytes, at: int = 0) -> bytes:
    return h[:at] + bytes([h[at] ^ 0x10]) + h[at + 1:]


def broken_proofs(proof: list[bytes], root: bytes) -> list[list[bytes]]:
    """Every proof element with a byte flipped, and the proof truncated or extended."""
    out = [proof[:i] + [flipped(p, (7 * i) % 32)] + proof[i + 1:] for i, p in enumerate(proof)]
    if proof:
        out += [proof[:-1], proof[1:], [proof[0]] + proof]
    out += [proof + [bytes(32)], proof + [root], [root] + proof, [bytes(32)] + proof, proof + [b""]]
    return out


@pytest.mark.parametrize("size", range(1, 19))
def test_tampered_inclusion_proofs_fail(size: int) -> None:
    root = ROOT[size]
    for m in range(size):
        proof = BIG.inclusion_proof(m, size)
        leaf = LEAVES[m]
        for bad in broken_proofs(proof, root):
            assert not verify_inclusion(leaf, m, size, bad, root), (m, bad)
        assert root_from_inclusion(leaf, m, size, proof + [root]) is None  # too long for the size
        assert root_from_inclusion(leaf, m, size, proof[:-1]) is None or not proof
        assert not verify_inclusion(flipped(leaf), m, size, proof, root)
        assert not verify_inclusion(leaf, m, size, proof, flipped(root, 31))
        assert not verify_inclusion(leaf, m, size, proof, EMPTY_ROOT)
        assert not verify_inclusion(leaf, m, size, proof, root[:31])
        for other in range(-1, size + 1):
            if other != m:  # the same leaf, or the leaf truly there, claimed at a wrong index
                assert not verify_inclusion(leaf, other, size, proof, root), (m, other)
                if 0 <= other < size:
                    assert not verify_inclusion(LEAVES[other], other, size, proof, root), (m, other)
        # A wrong size, claimed with that size's real root (the root commits to the size): some
        # sizes share a path shape, so only the pair (size, root) pins the tree down.
        for other in range(41):
            if other != size:
                assert not verify_inclusion(leaf, m, other, proof, ROOT[other]), (m, other)


@pytest.mark.parametrize("size", range(2, 19))
def test_tampered_consistency_proofs_fail(size: int) -> None:
    new_root = ROOT[size]
    for old in range(1, size):
        old_root = ROOT[old]
        proof = BIG.consistency_proof(old, size)
        for bad in broken_proofs(proof, new_root) + broken_proofs(proof, old_root) + [[]]:
            assert not verify_consistency(old, size, old_root, new_root, bad), (old, bad)
        assert not verify_consistency(old, size, flipped(old_root, 5), new_root, proof)
        assert not verify_consistency(old, size, old_root, flipped(new_root, 9), proof)
        assert not verify_consistency(old, size, new_root, old_root, proof)
        assert not verify_consistency(size, old, new_root, old_root, proof)
        for other in range(41):
            if other != old:
                assert not verify_consistency(other, size, ROOT[other], new_root, proof), (old, other)
                assert not verify_consistency(other, size, old_root, new_root, proof), (old, other)
            if other != size:  # as for inclusion, a new size is pinned down only with its own root
                assert not verify_consistency(old, other, old_root, ROOT[other], proof), (old, other)


def test_trivial_consistency_rules() -> None:
    a, b = ROOT[3], ROOT[5]
    assert verify_consistency(3, 3, a, a, [])
    assert not verify_consistency(3, 3, a, b, [])
    assert not verify_consistency(3, 3, a, a, [a])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, a, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, b, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, b, [b])
    assert not verify_consistency(5, 3, b, a, [])
    assert not verify_consistency(-1, 3, a, a, [])


def test_inclusion_outside_the_tree_fails() -> None:
    leaf = LEAVES[0]
    assert not verify_inclusion(leaf, 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(leaf, 1, 1, [], leaf)
    assert not verify_inclusion(leaf, -1, 1, [], leaf)
    assert verify_inclusion(leaf, 0, 1, [], leaf)
    assert root_from_inclusion(leaf, 3, 3, []) is None
    assert not verify_inclusion(b"", 0, 1, [], b"")  # not a hash, though equal


def test_proofs_that_are_not_hashes_fail_without_raising() -> None:
    inclusion, consistency = BIG.inclusion_proof(3, 7), BIG.consistency_proof(3, 7)
    junks: list = ["x" * 32, None, b"x" * 31, bytearray(32)]
    for junk in junks:
        assert not verify_inclusion(LEAVES[3], 3, 7, inclusion[:1] + [junk] + inclusion[2:], ROOT[7])
        assert not verify_consistency(3, 7, ROOT[3], ROOT[7], [junk] + consistency[1:])


# --- Incremental equals bulk -------------------------------------------------------------------

def test_appending_one_at_a_time_equals_building_at_once() -> None:
    tree = MerkleTree()
    for i, h in enumerate(LEAVES):
        assert tree.append(h) == i
        assert len(tree) == i + 1
        assert tree.root() == BIG.root(i + 1) == ROOT[i + 1]
        assert tree.root() == MerkleTree(LEAVES[:i + 1]).root()
        assert all(tree.root(s) == ROOT[s] for s in range(i + 2))
    assert tree.inclusion_proof(17) == BIG.inclusion_proof(17)
    assert tree.consistency_proof(13) == BIG.consistency_proof(13)


def test_out_of_range_arguments_raise_one_line() -> None:
    tree = MerkleTree(LEAVES[:5])
    for call in (lambda: tree.root(6), lambda: tree.root(-1), lambda: tree.inclusion_proof(5),
                 lambda: tree.inclusion_proof(-1), lambda: tree.inclusion_proof(0, 0),
                 lambda: tree.inclusion_proof(0, 6), lambda: tree.consistency_proof(4, 3),
                 lambda: tree.consistency_proof(6), lambda: tree.consistency_proof(-1),
                 lambda: tree.append(b"short"), lambda: tree.append("0" * 32)):  # type: ignore[arg-type]
        with pytest.raises(ValueError) as err:
            call()
        assert "\n" not in str(err.value)
    assert len(tree) == 5


# --- Size and cost ----------------------------------------------------------------------------

N = 100_000


@pytest.fixture(scope="module")
def big_tree() -> MerkleTree:
    return MerkleTree(leaf_hash(i.to_bytes(4, "big")) for i in range(N))


class CountingNodeHash:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, left: bytes, right: bytes) -> bytes:
        self.calls += 1
        return node_hash(left, right)


def test_appends_hash_each_completed_subtree_once(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = CountingNodeHash()
    monkeypatch.setattr(merkle, "node_hash", counter)
    n = 1000
    tree = MerkleTree(LEAVES[i % 40] for i in range(n))
    # A tree of n leaves has n - popcount(n) complete aligned subtrees of two or more leaves.
    assert counter.calls == n - n.bit_count()
    assert len(tree) == n


def test_proofs_of_100000_leaves_are_short_and_cost_log_n(big_tree: MerkleTree,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    bound = math.ceil(math.log2(N)) + 1
    root = big_tree.root()
    counter = CountingNodeHash()
    monkeypatch.setattr(merkle, "node_hash", counter)
    for index in (0, 1, 12_345, 65_535, 65_536, 99_998, N - 1):
        counter.calls = 0
        proof = big_tree.inclusion_proof(index)
        assert counter.calls <= bound  # read from stored subtrees, not recomputed from the leaves
        assert len(proof) <= bound
        assert verify_inclusion(leaf_hash(index.to_bytes(4, "big")), index, N, proof, root)
    for old in (1, 2, 3, 4096, 65_536, 70_001, N - 1):
        counter.calls = 0
        proof = big_tree.consistency_proof(old)
        assert counter.calls <= 2 * bound
        assert len(proof) <= bound
        assert verify_consistency(old, N, big_tree.root(old), root, proof)
    counter.calls = 0
    big_tree.root(N - 1)
    assert counter.calls <= bound
