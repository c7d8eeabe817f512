"""The studio state's schema, as numbered migrations applied in order, each in its own transaction.

A state folder remembers which migrations it has (table `schema_migrations`), so a newer belamy
upgrades an older state in place and an older belamy refuses a newer state instead of misreading
it. Migrations are only ever appended: a released one is never edited.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

from belamy.core.errors import BelamyError

# (version, name, SQL). Marks are keyed by the render file's sha256, so a rating follows the
# image when its folder moves or is renamed; `files` caches (path, size, mtime_ns, inode) -> sha256.
MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "marks, tags, events, file hashes", """
        CREATE TABLE marks (
            sha256  TEXT PRIMARY KEY,
            rating  INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
            pick    INTEGER NOT NULL DEFAULT 0 CHECK (pick IN (0, 1)),
            reject  INTEGER NOT NULL DEFAULT 0 CHECK (reject IN (0, 1)),
            note    TEXT NOT NULL DEFAULT '',
            path    TEXT NOT NULL DEFAULT '',
            seq     INTEGER NOT NULL,
            updated TEXT NOT NULL
        );
        CREATE TABLE tags (
            sha256 TEXT NOT NULL,
            tag    TEXT NOT NULL,
            PRIMARY KEY (sha256, tag)
        );
        CREATE TABLE events (
            seq    INTEGER PRIMARY KEY AUTOINCREMENT,
            sha256 TEXT NOT NULL,
            change TEXT NOT NULL,
            at     TEXT NOT NULL
        );
        CREATE TABLE files (
            path     TEXT PRIMARY KEY,
            size     INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            inode    INTEGER NOT NULL,
            sha256   TEXT NOT NULL
        );
    """),
    (2, "background jobs", """
        CREATE TABLE jobs (
            id       TEXT PRIMARY KEY,
            kind     TEXT NOT NULL,
            params   TEXT NOT NULL,
            status   TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
            expected INTEGER NOT NULL DEFAULT 0,
            message  TEXT NOT NULL DEFAULT '',
            folder   TEXT NOT NULL,
            outputs  TEXT NOT NULL DEFAULT '[]',
            created  TEXT NOT NULL,
            finished TEXT
        );
    """),
    (3, "discriminator scores", """
        CREATE TABLE dscores (
            sha256     TEXT NOT NULL,
            checkpoint TEXT NOT NULL,
            score      REAL NOT NULL,
            PRIMARY KEY (sha256, checkpoint)
        );
    """),
]

LATEST = MIGRATIONS[-1][0]


def applied(con: sqlite3.Connection) -> int:
    """The highest migration this database has (0 for a new one)."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)")
    row = con.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def migrate(con: sqlite3.Connection, where: str) -> int:
    """Bring `con` (autocommit mode) to the latest schema; the version it is at afterwards."""
    version = applied(con)
    if version > LATEST:
        raise BelamyError(f"{where} was written by a newer belamy (schema {version}, this one knows "
                          f"{LATEST}): upgrade belamy or use another --state folder")
    for number, name, sql in MIGRATIONS:
        if number <= version:
            continue
        con.execute("BEGIN IMMEDIATE")
        try:
            for statement in (s for s in sql.split(";") if s.strip()):
                con.execute(statement)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                        (number, name, datetime.now(timezone.utc).isoformat(timespec="seconds")))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        version = number
    return version
