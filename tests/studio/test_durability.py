"""No rating is lost: two clients rate concurrently while the studio's process is killed with
SIGKILL mid-stream; every rating the server acknowledged is in the state afterwards, and a new
studio on the same state serves them."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.studio.conftest import Raw, write_folder


def start_studio(folder: Path) -> tuple[subprocess.Popen[str], Raw]:
    """`belamy studio DIR --no-browser` in its own process; its address read from what it prints."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "belamy", "studio", str(folder), "--no-browser", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if found:
            raw = Raw("127.0.0.1", int(found.group(1)))
            break
        assert time.monotonic() < deadline, "the studio did not print its address"
    else:
        raise AssertionError("the studio exited before printing its address")
    while True:  # the address is printed just before uvicorn answers
        try:
            page = raw.get("/")[1].decode()
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    raw.csrf = re.search(r'name="studio-csrf" content="([^"]+)"', page).group(1)
    return proc, raw


def test_two_clients_and_a_kill_9_lose_no_rating(tmp_path):
    folder = tmp_path / "renders"
    write_folder(folder, 20)
    proc, raw = start_studio(folder)
    items = raw.json("/api/renders?limit=100")["items"]
    acked: list[tuple[str, int, int]] = []  # (tile id, rating, event number) the server answered 200 to
    lock = threading.Lock()
    stop = threading.Event()

    def client(tiles: list[dict]) -> None:
        n = 0
        while not stop.is_set() and n < 2000:
            tile = tiles[n % len(tiles)]
            rating = 1 + (n * 7 + len(tile["id"])) % 5
            n += 1
            try:
                status, body = raw.post(f"/api/mark/{tile['id']}", {"rating": rating})
            except (OSError, ValueError):  # the server died under us
                return
            assert status == 200, body
            with lock:
                acked.append((tile["id"], rating, body["seq"]))

    workers = [threading.Thread(target=client, args=(items[i::2],)) for i in range(2)]
    for w in workers:
        w.start()
    while len(acked) < 60 and proc.poll() is None:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)  # mid-stream: both clients are posting
    proc.wait(timeout=10)
    stop.set()
    for w in workers:
        w.join(timeout=30)
    assert len(acked) >= 60

    db = sqlite3.connect(folder / ".belamy-studio" / "studio.sqlite")
    events = {seq: json.loads(change)["rating"] for seq, change in db.execute("SELECT seq, change FROM events")}
    for _, rating, seq in acked:
        assert events.get(seq) == rating  # every acknowledged rating was committed
    last: dict[str, tuple[int, int]] = {}
    for tid, rating, seq in acked:
        if seq > last.get(tid, (0, 0))[1]:
            last[tid] = (rating, seq)
    db.close()

    proc, raw = start_studio(folder)  # a new studio on the same state
    try:
        served = {t["id"]: t["rating"] for t in raw.json("/api/renders?limit=100")["items"]}
        for tid, (rating, seq) in last.items():
            # the last acknowledged rating, unless a later one committed as the server died
            later = [r for s, r in events.items() if s > seq and s in _seqs_of(folder, tid, raw)]
            assert served[tid] == (later[-1] if later else rating)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _seqs_of(folder: Path, tid: str, raw: Raw) -> set[int]:
    sha = raw.json(f"/api/render/{tid}")["sha256"]
    db = sqlite3.connect(folder / ".belamy-studio" / "studio.sqlite")
    try:
        return {s for (s,) in db.execute("SELECT seq FROM events WHERE sha256 = ?", (sha,))}
    finally:
        db.close()
