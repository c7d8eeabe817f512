"""The ledger on disk: LEDGER/ledger.db (SQLite, WAL) and LEDGER/log.json (origin, verifier key).

Each append is one `BEGIN IMMEDIATE` transaction: it reads the log's size and the artwork's
latest entry, checks the new entry against them, inserts it and a checkpoint of the new tree
signed by the log's key, and commits. SQLite makes the transaction all-or-nothing across a
kill -9, and IMMEDIATE serialises writers across processes (a busy timeout waits for the lock).

The `leaf_hash` and `record_sha256` columns are caches for appending and proofs; `verify` never
reads them: it recomputes everything from the leaves.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from belamy.core import atomic
from belamy.core.errors import BelamyError
from belamy.ledger.entries import Entry, parse_entry, public_b64, sign_entry
from belamy.ledger.merkle import MerkleTree, leaf_hash
from belamy.ledger.note import (
    Checkpoint,
    Verifier,
    raw_public,
    sign_checkpoint,
    verifier_key,
)

DB = "ledger.db"
INFO = "log.json"
FORMAT, VERSION = "belamy.ledger", 1
BUSY_MS = 60_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries(idx INTEGER PRIMARY KEY, leaf BLOB NOT NULL, leaf_hash BLOB NOT NULL,
                                   record_sha256 TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS entries_by_artwork ON entries(record_sha256, idx);
CREATE TABLE IF NOT EXISTS checkpoints(size INTEGER PRIMARY KEY, note TEXT NOT NULL);
"""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Latest:
    """An artwork's latest entry: its index and owner."""

    index: int
    owner: str
    owner_key: str


class Ledger:
    def __init__(self, path: Path, info: dict[str, Any]) -> None:
        self.path, self.info = path, info
        self.origin: str = info["origin"]
        self.verifier = Verifier.parse(info["vkey"])
        self._tree = MerkleTree()
        self._db: sqlite3.Connection | None = None

    # -- opening -----------------------------------------------------------------------------------
    @classmethod
    def init(cls, path: str | Path, origin: str, log_key: Ed25519PrivateKey, keeper: str) -> "Ledger":
        path = Path(path)
        if (path / INFO).exists():
            raise BelamyError(f"{path} already holds a ledger: use it, or choose another folder")
        path.mkdir(parents=True, exist_ok=True)
        info = {"format": FORMAT, "version": VERSION, "origin": origin, "keeper": keeper,
                "vkey": verifier_key(origin, raw_public(log_key.public_key())), "created": now()}
        led = cls(path, info)
        led.connect().executescript(SCHEMA)
        with led.transaction() as db:
            led._append_checkpoint(db, 0, log_key)
        atomic.write_json(path / INFO, info)  # last: a folder without it is no ledger yet
        return led

    @classmethod
    def open(cls, path: str | Path) -> "Ledger":
        path = Path(path)
        try:
            info = json.loads((path / INFO).read_text())
        except FileNotFoundError:
            raise BelamyError(f"{path} is not a belamy ledger (no {INFO}): make one with `belamy ledger init`") from None
        except ValueError:
            raise BelamyError(f"{path / INFO} is unreadable: restore it from a backup or an export") from None
        if info.get("format") != FORMAT or info.get("version", 99) > VERSION:
            raise BelamyError(f"{path} is not a version-{VERSION} belamy ledger")
        if not (path / DB).is_file():
            raise BelamyError(f"{path / DB} is missing: restore it from a backup")
        return cls(path, info)

    def connect(self) -> sqlite3.Connection:
        if self._db is None:
            db = sqlite3.connect(self.path / DB, timeout=BUSY_MS / 1000, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute(f"PRAGMA busy_timeout={BUSY_MS}")
            self._db = db
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding the database's write lock from its start."""
        db = self.connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            self._tree = MerkleTree()  # it may hold a rolled-back leaf: rebuilt from the database next time
            raise
        db.execute("COMMIT")

    # -- reading (caches, for appending and proofs) --------------------------------------------------
    def size(self) -> int:
        return self.connect().execute("SELECT COUNT(*) FROM entries").fetchone()[0]

    def tree(self, db: sqlite3.Connection | None = None) -> MerkleTree:
        """The Merkle tree of the stored leaf hashes, brought up to date incrementally."""
        db = db or self.connect()
        rows = db.execute("SELECT leaf_hash FROM entries WHERE idx >= ? ORDER BY idx", (len(self._tree),))
        for (h,) in rows:
            self._tree.append(bytes(h))
        return self._tree

    def latest(self, record_sha256: str, db: sqlite3.Connection | None = None) -> Latest | None:
        row = (db or self.connect()).execute(
            "SELECT idx, leaf FROM entries WHERE record_sha256 = ? ORDER BY idx DESC LIMIT 1", (record_sha256,)).fetchone()
        if row is None:
            return None
        owner = json.loads(row[1])["entry"]["owner"]
        return Latest(row[0], owner["name"], owner["key"])

    def history(self, record_sha256: str) -> list[tuple[int, Entry]]:
        rows = self.connect().execute("SELECT idx, leaf FROM entries WHERE record_sha256 = ? ORDER BY idx",
                                      (record_sha256,))
        return [(i, parse_entry(bytes(leaf))) for i, leaf in rows]

    def leaves(self) -> Iterator[tuple[int, bytes]]:
        for i, leaf in self.connect().execute("SELECT idx, leaf FROM entries ORDER BY idx"):
            yield i, bytes(leaf)

    def checkpoints(self) -> list[tuple[int, str]]:
        return [(s, n) for s, n in self.connect().execute("SELECT size, note FROM checkpoints ORDER BY size")]

    def latest_checkpoint(self) -> str:
        row = self.connect().execute("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()
        if row is None:
            raise BelamyError(f"the ledger {self.path} has no checkpoint: it is damaged; restore it from an export")
        return row[0]

    # -- appending ---------------------------------------------------------------------------------
    def append(self, make: Callable[[int, Latest | None], dict[str, Any]], record_sha256: str,
               signer: Ed25519PrivateKey, log_key: Ed25519PrivateKey) -> int:
        """Append the entry `make(index, the artwork's latest entry)` returns, signed by `signer`,
        and a checkpoint signed by `log_key`; return its index. `make` raises to refuse."""
        if public_b64(log_key) != public_b64_of(self.verifier):
            raise BelamyError("this key is not the ledger's key: give the keys it was made with (--log-keys)")
        with self.transaction() as db:
            index = db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
            body = make(index, self.latest(record_sha256, db))
            leaf = sign_entry(body, signer)
            db.execute("INSERT INTO entries(idx, leaf, leaf_hash, record_sha256) VALUES (?, ?, ?, ?)",
                       (index, leaf, leaf_hash(leaf), record_sha256))
            self._append_checkpoint(db, index + 1, log_key)
        return index

    def _append_checkpoint(self, db: sqlite3.Connection, size: int, log_key: Ed25519PrivateKey) -> None:
        tree = self.tree(db)  # sees this transaction's own insert
        note = sign_checkpoint(Checkpoint(self.origin, size, tree.root(size)), log_key)
        db.execute("INSERT INTO checkpoints(size, note) VALUES (?, ?)", (size, note))


def public_b64_of(verifier: Verifier) -> str:
    return base64.b64encode(verifier.public).decode()
