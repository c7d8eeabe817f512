"""The ownership ledger: appends, owner chains, tampering of every kind caught with the entry at
fault, crash safety, concurrent writers, exports checked from a folder and over HTTP."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from belamy.core.errors import BelamyError
from belamy.ledger.entries import mint_body, public_b64, sign_entry, transfer_body
from belamy.ledger.merkle import leaf_hash
from belamy.ledger.note import Checkpoint, open_checkpoint, sign_checkpoint
from belamy.ledger.store import DB, Latest, Ledger, now
from belamy.ledger.verify import verify_ledger

ORIGIN = "test.example/ledger"


def art(i: int) -> str:
    return hashlib.sha256(f"artwork {i}".encode()).hexdigest()


def mint(led: Ledger, key: Ed25519PrivateKey, i: int, owner_key: Ed25519PrivateKey | None = None) -> int:
    owner = owner_key or key
    return led.append(lambda idx, latest: mint_body(led.origin, idx, now(), {"record_sha256": art(i),
                                                                             "pixels_sha256": art(-i)},
                                                     f"owner of {i}", public_b64(owner)), art(i), key, key)


def transfer(led: Ledger, log_key: Ed25519PrivateKey, i: int, seller: Ed25519PrivateKey, buyer: Ed25519PrivateKey,
             check: bool = True) -> int:
    def make(idx: int, latest: Latest | None) -> dict:
        if check and (latest is None or latest.owner_key != public_b64(seller)):
            raise BelamyError("refused: not the owner")
        return transfer_body(led.origin, idx, now(), art(i), latest.index, public_b64(seller), "buyer", public_b64(buyer))

    return led.append(make, art(i), seller, log_key)


@pytest.fixture
def keys():
    return Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()


@pytest.fixture
def small(tmp_path, keys):
    """Three artworks minted, one sold and resold: 5 entries, 6 checkpoints (sizes 0-5)."""
    log, alice, bob = keys
    led = Ledger.init(tmp_path / "led", ORIGIN, log, "Keeper")
    for i in range(3):
        mint(led, log, i)
    transfer(led, log, 1, log, alice)
    transfer(led, log, 1, alice, bob)
    return led


def sql(led: Ledger, query: str, *args) -> None:
    led.close()
    db = sqlite3.connect(led.path / DB)
    db.execute(query, args)
    db.commit()
    db.close()


def leaf_of(led: Ledger, i: int) -> bytes:
    return bytes(led.connect().execute("SELECT leaf FROM entries WHERE idx = ?", (i,)).fetchone()[0])


def findings(led: Ledger, kept=()) -> list[tuple[str, int | None, str]]:
    return [(f.check, f.entry, f.message) for f in verify_ledger(Ledger.open(led.path), list(kept)).findings]


def test_a_fresh_ledger_verifies_and_knows_its_owners(small, keys):
    r = verify_ledger(small)
    assert r.ok and r.size == 5 and r.checkpoints == 6
    assert r.owners[art(1)][0] == 4 and r.owners[art(1)][2] == public_b64(keys[2])  # bob, from entry 4
    cp = open_checkpoint(small.latest_checkpoint(), small.verifier)
    assert cp.size == 5 and cp.root == small.tree().root()
    note = small.latest_checkpoint()  # C2SP: origin, size, base64 root, blank line, em-dash signature line
    lines = note.split("\n")
    assert lines[0] == ORIGIN and lines[1] == "5" and lines[3] == "" and lines[4].startswith("\u2014 " + ORIGIN + " ")


def test_a_transfer_by_anyone_but_the_owner_is_refused(small, keys):
    log, alice, bob = keys
    with pytest.raises(BelamyError, match="refused"):
        transfer(small, log, 1, alice, alice)  # alice sold it to bob already
    assert small.size() == 5 and verify_ledger(small).ok  # nothing appended


def test_an_edited_entry_is_caught_at_its_index(small):
    leaf = leaf_of(small, 2).replace(b"owner of 2", b"owner of 9")
    sql(small, "UPDATE entries SET leaf = ? WHERE idx = 2", leaf)
    (check, entry, message), *rest = findings(small)
    assert (check, entry) == ("entry", 2) and "signature" in message
    assert any(c == "tree" and e == 2 for c, e, _ in rest)  # and the checkpoints disagree from there


def test_reordered_entries_are_caught(small):
    a, b = leaf_of(small, 0), leaf_of(small, 2)
    sql(small, "UPDATE entries SET leaf = ? WHERE idx = 0", b)
    sql(small, "UPDATE entries SET leaf = ? WHERE idx = 2", a)
    got = findings(small)
    assert ("entry", 0) in [(c, e) for c, e, _ in got] and any("says it is entry 2" in m for _, _, m in got)


def test_deleted_entries_are_caught(small):
    sql(small, "DELETE FROM entries WHERE idx = 1")
    got = findings(small)
    assert any(c == "order" and e == 1 for c, e, _ in got)
    sql(small, "DELETE FROM entries WHERE idx = 4")
    assert any(c == "tree" and "entries from 3 on were deleted" in m for c, e, m in findings(small))


def test_an_entry_inserted_without_a_checkpoint_is_caught(small, keys):
    log = keys[0]
    body = mint_body(ORIGIN, 5, now(), {"record_sha256": art(7), "pixels_sha256": art(7)}, "x", public_b64(log))
    leaf = sign_entry(body, log)  # even validly signed by the log's key
    sql(small, "INSERT INTO entries VALUES (5, ?, ?, ?)", leaf, leaf_hash(leaf), art(7))
    assert [(c, e) for c, e, _ in findings(small)] == [("coverage", 5)]


def test_a_forged_transfer_is_caught_even_when_the_keeper_checkpoints_it(small, keys):
    """The keeper (holding the log's key) appends a transfer that the owner never signed."""
    log, alice, bob = keys
    transfer(small, log, 1, alice, alice, check=False)  # signed by alice, but bob owns it
    got = findings(small)
    assert got and got[0][:2] == ("entry", 5) and "current owner" in got[0][2]


def test_a_forged_checkpoint_is_caught(small, keys):
    other = Ed25519PrivateKey.generate()
    note = sign_checkpoint(Checkpoint(ORIGIN, 5, small.tree().root()), other)
    sql(small, "UPDATE checkpoints SET note = ? WHERE size = 5", note)
    got = findings(small)
    assert got[0][0] == "checkpoint" and "not signed by" in got[0][2]
    edited = small.checkpoints()[3][1].replace("\n3\n", "\n2\n", 1)  # a checkpoint's size edited
    sql(small, "UPDATE checkpoints SET note = ? WHERE size = 3", edited)
    assert any("checkpoint 3" in m for _, _, m in findings(small))


def test_a_rewritten_history_fails_against_a_kept_checkpoint(small, keys, tmp_path):
    """The keeper rebuilds the whole ledger with other entries and re-signs every checkpoint: the
    ledger alone verifies, but not against a checkpoint a buyer kept."""
    log, alice, bob = keys
    kept = small.latest_checkpoint()
    small.close()
    rewritten = Ledger.init(tmp_path / "rewritten", ORIGIN, log, "Keeper")
    for i in range(3):
        mint(rewritten, log, i)
    transfer(rewritten, log, 1, log, bob)  # history says bob bought it from the keeper directly
    transfer(rewritten, log, 0, log, alice)
    assert verify_ledger(rewritten).ok
    got = findings(rewritten, [kept])
    assert got and got[0][0] == "consistency" and "rewritten" in got[0][2]
    assert findings(Ledger.open(small.path), [kept]) == []  # the true ledger extends it


def test_ten_thousand_mints_and_transfers_then_verify(tmp_path, keys):
    log, alice, _ = keys
    led = Ledger.init(tmp_path / "big", ORIGIN, log, "Keeper")
    for i in range(5000):
        mint(led, log, i)
    for i in range(5000):
        transfer(led, log, i, log, alice)
    r = verify_ledger(led)
    assert r.ok and r.size == 10_000 and r.checkpoints == 10_001
    assert all(owner[2] == public_b64(alice) for owner in r.owners.values())


WRITER = r"""
import hashlib, sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from belamy.ledger.entries import mint_body, public_b64
from belamy.ledger.store import Ledger, now
path, pem, tag, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
key = load_pem_private_key(open(pem, "rb").read(), None)
led = Ledger.open(path)
print("ready", flush=True)
for i in range(count):
    h = hashlib.sha256(f"{tag} {i}".encode()).hexdigest()
    led.append(lambda idx, latest: mint_body(led.origin, idx, now(), {"record_sha256": h, "pixels_sha256": h},
                                             tag, public_b64(key)), h, key, key)
"""


def _writer(led: Ledger, key: Ed25519PrivateKey, tmp_path: Path, tag: str, count: int) -> subprocess.Popen:
    pem = tmp_path / "log.pem"
    pem.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return subprocess.Popen([sys.executable, "-c", WRITER, str(led.path), str(pem), tag, str(count)],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def test_two_processes_appending_at_once_lose_nothing(tmp_path, keys):
    led = Ledger.init(tmp_path / "led", ORIGIN, keys[0], "Keeper")
    procs = [_writer(led, keys[0], tmp_path, tag, 150) for tag in ("a", "b")]
    for p in procs:
        assert p.wait(timeout=120) == 0
    r = verify_ledger(Ledger.open(led.path))
    assert r.ok and r.size == 300 and len(r.owners) == 300


def test_kill_9_during_appends_leaves_a_ledger_that_verifies(tmp_path, keys):
    led = Ledger.init(tmp_path / "led", ORIGIN, keys[0], "Keeper")
    for delay in (0.15, 0.4, 0.05):
        p = _writer(led, keys[0], tmp_path, f"k{delay}", 100_000)
        assert p.stdout.readline().strip() == "ready"
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
    r = verify_ledger(Ledger.open(led.path))
    assert r.ok and r.size > 0  # every entry fully in (with its checkpoint) or fully out
    assert open_checkpoint(Ledger.open(led.path).latest_checkpoint(), led.verifier).size == r.size


def test_the_database_is_never_trusted_for_hashes(small):
    """The cached leaf_hash column is not what verify checks: poisoning it changes nothing."""
    sql(small, "UPDATE entries SET leaf_hash = ? WHERE idx = 3", b"\0" * 32)
    assert findings(small) == []
    assert json.loads(leaf_of(small, 3))["entry"]["type"] == "transfer"
