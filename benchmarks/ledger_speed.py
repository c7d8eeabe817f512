"""The ownership ledger: appends per second, the time to verify 100,000 entries, and proof sizes.

    python benchmarks/ledger_speed.py [--entries 100000] [--appends 2000]

- Appends: `Ledger.append` (an Ed25519-signed mint, its leaf, a signed C2SP checkpoint of the new
  tree, one SQLite transaction with synchronous=FULL), against a baseline measured in the same
  run: the same leaf bytes inserted into a plain SQLite table, one durable transaction each, with
  no signing and no tree: what the log's guarantees cost over storing the bytes.
- Verify: `belamy.ledger.verify.verify_ledger` over `--entries` entries (every signature, every
  owner chain, the tree rebuilt from the leaves, every checkpoint), half mints, half transfers.
- Proof sizes: inclusion and consistency proofs (hashes and bytes) at sizes 10 ... 100,000, with
  ceil(log2 n) beside them.

Prints a table, writes results/ledger_speed.json.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_result  # noqa: E402

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from belamy.ledger.entries import mint_body, public_b64, sign_entry, transfer_body  # noqa: E402
from belamy.ledger.merkle import MerkleTree, leaf_hash  # noqa: E402
from belamy.ledger.store import Ledger, now  # noqa: E402
from belamy.ledger.verify import verify_ledger  # noqa: E402

ORIGIN = "bench.example/ledger"


def art(i: int) -> str:
    return hashlib.sha256(f"artwork {i}".encode()).hexdigest()


def appends(root: Path, n: int) -> dict[str, float]:
    key = Ed25519PrivateKey.generate()
    led = Ledger.init(root / "appends", ORIGIN, key, "bench")
    t = time.perf_counter()
    for i in range(n):
        h = art(i)
        led.append(lambda idx, latest: mint_body(ORIGIN, idx, now(), {"record_sha256": h, "pixels_sha256": h}, "o",
                                                 public_b64(key)), h, key, key)
    belamy_s = time.perf_counter() - t
    leaves = [leaf for _, leaf in led.leaves()]
    db = sqlite3.connect(root / "plain.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t(idx INTEGER PRIMARY KEY, leaf BLOB)")
    t = time.perf_counter()
    for i, leaf in enumerate(leaves):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (?, ?)", (i, leaf))
        db.execute("COMMIT")
    plain_s = time.perf_counter() - t
    return {"n": n, "belamy_per_s": n / belamy_s, "plain_sqlite_per_s": n / plain_s}


def build(root: Path, n: int) -> Ledger:
    """n entries (half mints, half transfers of them), appended in batches of one transaction each
    for speed; the entries and checkpoints are the ones single appends would write."""
    from belamy.ledger.note import Checkpoint, sign_checkpoint

    log, owner = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    led = Ledger.init(root / "verify", ORIGIN, log, "bench")
    tree = MerkleTree()
    mints = n // 2
    with led.transaction() as db:
        for i in range(n):
            if i < mints:
                body = mint_body(ORIGIN, i, now(), {"record_sha256": art(i), "pixels_sha256": art(i)}, "o", public_b64(log))
                leaf, a = sign_entry(body, log), art(i)
            else:
                j = i - mints
                body = transfer_body(ORIGIN, i, now(), art(j), j, public_b64(log), "b", public_b64(owner))
                leaf, a = sign_entry(body, log), art(j)
            tree.append(leaf_hash(leaf))
            db.execute("INSERT INTO entries VALUES (?, ?, ?, ?)", (i, leaf, leaf_hash(leaf), a))
            db.execute("INSERT INTO checkpoints VALUES (?, ?)",
                       (i + 1, sign_checkpoint(Checkpoint(ORIGIN, i + 1, tree.root()), log)))
    return led


def proof_sizes() -> list[dict[str, int]]:
    rows = []
    tree = MerkleTree(hashlib.sha256(str(i).encode()).digest() for i in range(100_000))
    for n in (10, 100, 1_000, 10_000, 100_000):
        inc = max(len(tree.inclusion_proof(i, n)) for i in {0, n // 3, n - 1})
        con = max(len(tree.consistency_proof(m, n)) for m in {1, n // 2, n - 1} if 0 < m < n)
        rows.append({"size": n, "log2": math.ceil(math.log2(n)), "inclusion_hashes": inc, "inclusion_bytes": 32 * inc,
                     "consistency_hashes": con, "consistency_bytes": 32 * con})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--appends", type=int, default=2_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        a = appends(root, args.appends)
        led = build(root, args.entries)
        t = time.perf_counter()
        report = verify_ledger(led)
        verify_s = time.perf_counter() - t
        assert report.ok and report.size == args.entries, report.findings[:3]
    proofs = proof_sizes()
    print(f"appends (each durable, signed, checkpointed): {a['belamy_per_s']:.0f}/s; "
          f"plain SQLite insert of the same bytes, each durable: {a['plain_sqlite_per_s']:.0f}/s")
    print(f"verify {args.entries} entries ({report.checkpoints} checkpoints): {verify_s:.1f} s "
          f"({args.entries / verify_s:.0f} entries/s)")
    print(f"\n{'size':>8} {'log2':>5} {'inclusion':>10} {'consistency':>12}  (hashes of 32 bytes)")
    for r in proofs:
        print(f"{r['size']:>8} {r['log2']:>5} {r['inclusion_hashes']:>10} {r['consistency_hashes']:>12}")
    path = write_result("ledger_speed", {"appends": a, "verify": {"entries": args.entries, "seconds": verify_s,
                                                                  "checkpoints": report.checkpoints},
                                         "proofs": proofs})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
