"""Verifying a ledger from its leaves alone: nothing the database caches is trusted.

Every leaf is parsed and its signature checked; the entries are replayed in order, so each mint
must be the log's and each transfer signed by the artwork's owner at that point; the Merkle tree
is rebuilt from the leaves and every stored checkpoint must verify under the log's key and match
the tree at its size. One checkpoint is written per append, so the first checkpoint that
disagrees names the entry at fault. A checkpoint kept from earlier (an export, a buyer's copy)
must be consistent with the tree now: a rewritten history fails even when the whole database,
checkpoints included, was forged by someone holding the log's key.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from belamy.ledger.entries import EntryError, Owners, parse_entry
from belamy.ledger.merkle import MerkleTree, leaf_hash, verify_consistency
from belamy.ledger.note import Checkpoint, NoteError, open_checkpoint
from belamy.ledger.store import Ledger


@dataclass
class Finding:
    check: str  # entry | order | checkpoint | tree | coverage | consistency
    message: str
    entry: int | None = None


@dataclass
class LedgerReport:
    size: int
    checkpoints: int
    owners: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # record_sha256 -> (entry, name, key)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def verify_ledger(led: Ledger, kept: list[str] = ()) -> LedgerReport:
    """Check `led` entry by entry and checkpoint by checkpoint; `kept` are signed checkpoints held
    from earlier, each of which the ledger must still extend."""
    owners = Owners(log_key=base64.b64encode(led.verifier.public).decode())
    tree = MerkleTree()
    findings: list[Finding] = []
    expected = 0
    for idx, leaf in led.leaves():
        if idx != expected:
            findings.append(Finding("order", f"entries {expected}-{idx - 1} are missing (deleted)", expected))
        expected = idx + 1
        tree.append(leaf_hash(leaf))
        try:
            e = parse_entry(leaf)
            owners.check(len(tree) - 1, led.origin, e)
        except EntryError as exc:
            findings.append(Finding("entry", f"entry {idx}: {exc}", idx))
            continue
        owners.apply(len(tree) - 1, e)
    n = len(tree)
    notes = led.checkpoints()
    latest: Checkpoint | None = None
    mismatch = False
    for size, note in notes:
        try:
            cp = open_checkpoint(note, led.verifier)
        except NoteError as exc:
            findings.append(Finding("checkpoint", f"checkpoint {size}: {exc} (forged or edited)"))
            continue
        if cp.size != size:
            findings.append(Finding("checkpoint", f"checkpoint {size} is filed under the wrong size ({cp.size})"))
            continue
        if cp.size > n:
            findings.append(Finding("tree", f"checkpoint {size} covers {size} entries but the ledger holds {n}: "
                                            f"entries from {n} on were deleted", n))
            mismatch = True
        elif cp.root != tree.root(cp.size) and not mismatch:
            at = size - 1
            findings.append(Finding("tree", f"checkpoint {size} does not match the entries: entry {at} was changed, "
                                            "inserted or removed", at))
            mismatch = True
        if latest is None or cp.size > latest.size:
            latest = cp
    if latest is None:
        findings.append(Finding("checkpoint", "no checkpoint verifies under the log's key"))
    elif latest.size < n:
        findings.append(Finding("coverage", f"entries {latest.size}-{n - 1} are not covered by a signed checkpoint "
                                            "(appended outside belamy)", latest.size))
    for note in kept:
        findings += _kept(note, led, tree)
    return LedgerReport(n, len(notes), {k: v for k, v in owners.latest.items()}, findings)


def _kept(note: str, led: Ledger, tree: MerkleTree) -> list[Finding]:
    """A checkpoint held from earlier: the tree now must extend it (RFC 9162 consistency)."""
    try:
        old = open_checkpoint(note, led.verifier)
    except NoteError as exc:
        return [Finding("consistency", f"the kept checkpoint does not verify: {exc}")]
    n = len(tree)
    if old.size > n:
        return [Finding("consistency", f"the ledger holds {n} entries, fewer than the {old.size} of a checkpoint "
                                       "you kept: entries were removed", n)]
    proof = tree.consistency_proof(old.size, n)
    if not verify_consistency(old.size, n, old.root, tree.root(n), proof):
        return [Finding("consistency", f"the ledger is not consistent with the checkpoint of size {old.size} you kept: "
                                       "its history was rewritten")]
    return []
