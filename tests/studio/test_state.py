"""The studio's SQLite state: versioned schema, WAL, one durable transaction per change, the
rules between marks (a pick is not a reject), changes for other tabs, and the hash cache."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from belamy.core.errors import BelamyError
from belamy.studio import migrations
from belamy.studio.state import State


def test_a_new_state_is_migrated_and_in_wal_mode(tmp_path):
    st = State(tmp_path / "s")
    assert st.version == migrations.LATEST
    con = sqlite3.connect(st.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    rows = con.execute("SELECT version, name FROM schema_migrations").fetchall()
    assert rows == [(n, name) for n, name, _ in migrations.MIGRATIONS]
    con.close()
    st.set_mark("a" * 64, rating=3)
    st.close()
    again = State(tmp_path / "s")  # reopening applies nothing twice and keeps the data
    assert again.mark("a" * 64).rating == 3
    assert len(sqlite3.connect(again.path).execute("SELECT * FROM schema_migrations").fetchall()) == len(
        migrations.MIGRATIONS)


def test_a_state_from_a_newer_belamy_is_refused(tmp_path):
    State(tmp_path / "s").close()
    con = sqlite3.connect(tmp_path / "s" / "studio.sqlite")
    con.execute("INSERT INTO schema_migrations VALUES (99, 'future', 'later')")
    con.commit()
    con.close()
    with pytest.raises(BelamyError, match="newer belamy"):
        State(tmp_path / "s")


def test_a_later_migration_is_applied_to_an_older_state(tmp_path, monkeypatch):
    State(tmp_path / "s").close()
    extra = (migrations.LATEST + 1, "test column", "ALTER TABLE marks ADD COLUMN colour TEXT")
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, extra])
    monkeypatch.setattr(migrations, "LATEST", extra[0])
    st = State(tmp_path / "s")
    assert st.version == extra[0]
    cols = [r[1] for r in sqlite3.connect(st.path).execute("PRAGMA table_info(marks)")]
    assert "colour" in cols


def test_a_failed_migration_leaves_the_state_as_it_was(tmp_path, monkeypatch):
    State(tmp_path / "s").close()
    bad = (migrations.LATEST + 1, "broken", "ALTER TABLE marks ADD COLUMN x TEXT; THIS IS NOT SQL")
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, bad])
    monkeypatch.setattr(migrations, "LATEST", bad[0])
    with pytest.raises(BelamyError):
        State(tmp_path / "s")
    con = sqlite3.connect(tmp_path / "s" / "studio.sqlite")
    assert con.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == bad[0] - 1
    assert "x" not in [r[1] for r in con.execute("PRAGMA table_info(marks)")]


def test_marks_rules_and_changes(tmp_path):
    st = State(tmp_path)
    a, b = "a" * 64, "b" * 64
    assert st.mark(a).empty
    assert st.set_mark(a, "/x/a.png", rating=4).rating == 4
    m = st.set_mark(a, pick=True)
    assert m.pick and m.rating == 4
    m = st.set_mark(a, reject=True)
    assert m.reject and not m.pick  # rejecting un-picks
    m = st.set_mark(a, pick=True)
    assert m.pick and not m.reject  # picking un-rejects
    m = st.set_mark(b, tags=[" sky ", "sky", "", "night"], note="the good one")
    assert m.tags == ["night", "sky"] and m.note == "the good one"
    assert st.set_mark(a, rating=None).rating is None
    for bad in ({"rating": 0}, {"rating": 6}, {"rating": "5"}, {"note": 3}, {"tags": [str(i) for i in range(40)]}):
        with pytest.raises(BelamyError):
            st.set_mark(a, **bad)
    seq, changed = st.changes_since(0)
    assert seq == 6 and {c.sha256 for c in changed} == {a, b}
    seq2, changed = st.changes_since(5)
    assert seq2 == 6 and [c.sha256 for c in changed] == [a]
    assert st.changes_since(6) == (6, [])
    assert set(st.marks()) == {a, b} and st.marks()[b].tags == ["night", "sky"]


def test_concurrent_writers_on_two_connections_each_commit(tmp_path):
    """Two studios (or a studio and an export) on one state: WAL plus one transaction per change."""
    one, two = State(tmp_path), State(tmp_path)
    errors: list[BaseException] = []

    def rate(st: State, prefix: str) -> None:
        try:
            for i in range(40):
                st.set_mark(f"{prefix}{i:063d}", rating=1 + i % 5)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=rate, args=(one, "a")), threading.Thread(target=rate, args=(two, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(State(tmp_path).marks()) == 80 and State(tmp_path).latest_seq() == 80


def test_the_hash_cache_is_keyed_by_size_mtime_and_inode(tmp_path):
    st = State(tmp_path)
    st.remember_sha("/r/a.png", (10, 20, 30), "c" * 64)
    assert st.cached_sha("/r/a.png", (10, 20, 30)) == "c" * 64
    assert st.cached_sha("/r/a.png", (10, 21, 30)) is None
    assert st.cached_sha("/r/b.png", (10, 20, 30)) is None
    assert st.file_shas() == {"/r/a.png": ((10, 20, 30), "c" * 64)}


def test_an_unwritable_state_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(BelamyError, match="--state"):
        State(blocker / "state")
