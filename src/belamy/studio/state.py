"""The studio's state: ratings, picks, rejects, tags and notes in SQLite, one transaction per change.

WAL mode lets several tabs (and a second studio on the same folder) read while one writes, and
`synchronous=FULL` makes a change durable when its request returns: a rating answered is a
rating kept, across a kill -9 of the server or a power cut. Every change is also an event with
a sequence number, which is how other tabs learn of it (`changes_since`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from belamy.core.errors import BelamyError
from belamy.studio.migrations import migrate

DB_NAME = "studio.sqlite"
MAX_NOTE = 10_000
MAX_TAG = 64
MAX_TAGS = 32
UNSET: Any = object()  # "leave this field as it is"


@dataclass
class Mark:
    """What the artist said about one image (by its sha256)."""

    sha256: str
    rating: int | None = None
    pick: bool = False
    reject: bool = False
    note: str = ""
    tags: list[str] = field(default_factory=list)
    seq: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def empty(self) -> bool:
        return self.rating is None and not self.pick and not self.reject and not self.note and not self.tags


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _clean_tags(tags: list[str]) -> list[str]:
    out = sorted({str(t).strip()[:MAX_TAG] for t in tags if str(t).strip()})
    if len(out) > MAX_TAGS:
        raise BelamyError(f"at most {MAX_TAGS} tags per render")
    return out


class State:
    """One state folder's database; safe to share between threads (one connection, one lock)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.path = self.folder / DB_NAME
            self._con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=FULL")
            self._con.execute("PRAGMA busy_timeout=30000")
            self.version = migrate(self._con, str(self.path))
        except (OSError, sqlite3.Error) as exc:
            raise BelamyError(f"cannot open the studio state in {self.folder} ({exc}): pass --state DIR") from exc
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self._con.close()

    # marks ---------------------------------------------------------------------------------
    def _read(self, sha: str) -> Mark | None:
        row = self._con.execute("SELECT sha256, rating, pick, reject, note, seq FROM marks WHERE sha256 = ?",
                                (sha,)).fetchone()
        if row is None:
            return None
        tags = [t for (t,) in self._con.execute("SELECT tag FROM tags WHERE sha256 = ? ORDER BY tag", (sha,))]
        return Mark(row[0], row[1], bool(row[2]), bool(row[3]), row[4], tags, row[5])

    def mark(self, sha: str) -> Mark:
        with self._lock:
            return self._read(sha) or Mark(sha)

    def set_mark(self, sha: str, path: str = "", *, rating: Any = UNSET, pick: Any = UNSET, reject: Any = UNSET,
                 note: Any = UNSET, tags: Any = UNSET) -> Mark:
        """Change one image's mark in one committed transaction; picking un-rejects and rejecting
        un-picks. Returns the mark as stored."""
        if rating is not UNSET and rating is not None and (not isinstance(rating, int) or not 1 <= rating <= 5):
            raise BelamyError("a rating is 1 to 5 (or none)")
        if note is not UNSET and (not isinstance(note, str) or len(note) > MAX_NOTE):
            raise BelamyError(f"a note is text of at most {MAX_NOTE} characters")
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                m = self._read(sha) or Mark(sha)
                change: dict[str, Any] = {}
                if rating is not UNSET:
                    m.rating = change["rating"] = rating
                if pick is not UNSET:
                    m.pick = change["pick"] = bool(pick)
                    if m.pick:
                        m.reject = change["reject"] = False
                if reject is not UNSET:
                    m.reject = change["reject"] = bool(reject)
                    if m.reject:
                        m.pick = change["pick"] = False
                if note is not UNSET:
                    m.note = change["note"] = note
                if tags is not UNSET:
                    m.tags = change["tags"] = _clean_tags(list(tags))
                now = _now()
                cur = self._con.execute("INSERT INTO events (sha256, change, at) VALUES (?, ?, ?)",
                                        (sha, json.dumps(change), now))
                m.seq = int(cur.lastrowid or 0)
                self._con.execute(
                    "INSERT INTO marks (sha256, rating, pick, reject, note, path, seq, updated) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO UPDATE SET rating = excluded.rating, "
                    "pick = excluded.pick, reject = excluded.reject, note = excluded.note, path = excluded.path, "
                    "seq = excluded.seq, updated = excluded.updated",
                    (sha, m.rating, int(m.pick), int(m.reject), m.note, path, m.seq, now))
                if tags is not UNSET:
                    self._con.execute("DELETE FROM tags WHERE sha256 = ?", (sha,))
                    self._con.executemany("INSERT INTO tags VALUES (?, ?)", [(sha, t) for t in m.tags])
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            return m

    def marks(self) -> dict[str, Mark]:
        """Every image's mark, by sha256."""
        with self._lock:
            out = {r[0]: Mark(r[0], r[1], bool(r[2]), bool(r[3]), r[4], [], r[5]) for r in
                   self._con.execute("SELECT sha256, rating, pick, reject, note, seq FROM marks")}
            for sha, tag in self._con.execute("SELECT sha256, tag FROM tags ORDER BY tag"):
                if sha in out:
                    out[sha].tags.append(tag)
            return out

    def latest_seq(self) -> int:
        with self._lock:
            return int(self._con.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])

    def changes_since(self, seq: int) -> tuple[int, list[Mark]]:
        """(the latest event number, the marks changed after event `seq`)."""
        with self._lock:
            latest = self.latest_seq()
            shas = [s for (s,) in self._con.execute("SELECT DISTINCT sha256 FROM events WHERE seq > ?", (seq,))]
            return latest, [self._read(s) or Mark(s) for s in shas]

    # plain statements (the jobs table) ---------------------------------------------------------
    def write(self, sql: str, args: tuple[Any, ...] = ()) -> None:
        """One statement in its own committed transaction (durable when this returns)."""
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                self._con.execute(sql, args)
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise

    def read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._con.execute(sql, args))

    # file hashes ---------------------------------------------------------------------------
    def cached_sha(self, path: str, key: tuple[int, int, int]) -> str | None:
        """The sha256 remembered for `path` when its (size, mtime_ns, inode) are still `key`."""
        with self._lock:
            row = self._con.execute("SELECT size, mtime_ns, inode, sha256 FROM files WHERE path = ?",
                                    (path,)).fetchone()
        return row[3] if row is not None and tuple(row[:3]) == tuple(key) else None

    def file_shas(self) -> dict[str, tuple[tuple[int, int, int], str]]:
        """Every remembered hash: path -> ((size, mtime_ns, inode), sha256), read in one query."""
        with self._lock:
            return {r[0]: ((r[1], r[2], r[3]), r[4]) for r in
                    self._con.execute("SELECT path, size, mtime_ns, inode, sha256 FROM files")}

    def remember_sha(self, path: str, key: tuple[int, int, int], sha: str) -> None:
        with self._lock:
            self._con.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", (path, *key, sha))
