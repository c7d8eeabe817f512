"""Background jobs: a table of them in the state, and one worker thread running them in turn.

Long actions (more like this, a family, an interpolation) must not hold a request, so the page
posts a job and polls it. Each job is a row of the `jobs` table (migration 2), written durably
when it is queued, started and finished, so a restart requeues what was waiting and marks what
was cut off as failed. One job runs at a time: they share the machine's one accelerator. The
progress of a running job is its outputs counted on disk (a record per render written), which
needs no hook into the library. When a job ends its folder is handed to `on_done`, which adds
it to the grid.
"""

from __future__ import annotations

import contextlib
import json
import queue
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from belamy.core.errors import BelamyError
from belamy.studio import actions
from belamy.studio.state import State

COLUMNS = "id, kind, params, status, expected, message, folder, outputs, created, finished"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _as_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    job = dict(zip([c.strip() for c in COLUMNS.split(",")], row))
    job["params"] = json.loads(job["params"])
    job["outputs"] = json.loads(job["outputs"])
    return job


class Jobs:
    """The job table and its worker; `execute` and `on_done` are injectable for tests."""

    def __init__(self, state: State, root: Path, device: str = "auto",
                 on_done: Callable[[Path], None] | None = None,
                 execute: Callable[[str, dict[str, Any], Path, str], list[Path]] = actions.execute) -> None:
        self.state, self.root, self.device = state, Path(root), device
        self.on_done = on_done or (lambda folder: None)
        self.execute = execute
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._recover()

    def _recover(self) -> None:
        """After a restart: a job cut off while running failed; queued ones run again."""
        self.state.write("UPDATE jobs SET status = 'failed', message = 'interrupted: the studio stopped', "
                         "finished = ? WHERE status = 'running'", (_now(),))
        for (jid,) in self.state.read("SELECT id FROM jobs WHERE status = 'queued' ORDER BY rowid"):
            self._queue.put(jid)

    def folders(self) -> list[Path]:
        """The output folders of past jobs that still exist (they join the grid on start)."""
        return [Path(f) for (f,) in self.state.read("SELECT folder FROM jobs ORDER BY rowid") if Path(f).is_dir()]

    def resume(self) -> None:
        """Start the worker when jobs are waiting from before a restart."""
        if not self._queue.empty():
            self.start()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="studio-jobs", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)

    def submit(self, kind: str, params: dict[str, Any], expected: int) -> dict[str, Any]:
        """Queue a planned job (see `actions.plan`); it runs after those before it."""
        jid = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
        folder = self.root / jid
        self.state.write(f"INSERT INTO jobs ({COLUMNS}) VALUES (?, ?, ?, 'queued', ?, '', ?, '[]', ?, NULL)",
                         (jid, kind, json.dumps(params), expected, str(folder), _now()))
        self._queue.put(jid)
        self.start()
        return self.get(jid)

    def get(self, jid: str) -> dict[str, Any]:
        rows = self.state.read(f"SELECT {COLUMNS} FROM jobs WHERE id = ?", (jid,))
        if not rows:
            raise BelamyError(f"no job {jid[:40]!r}")
        return self._progress(_as_dict(rows[0]))

    def list(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest jobs, newest first, with their progress (0..1)."""
        rows = self.state.read(f"SELECT {COLUMNS} FROM jobs ORDER BY rowid DESC LIMIT ?", (limit,))
        return [self._progress(_as_dict(r)) for r in rows]

    def _progress(self, job: dict[str, Any]) -> dict[str, Any]:
        if job["status"] == "done":
            job["progress"] = 1.0
        elif job["status"] == "running" and job["expected"]:
            folder = Path(job["folder"])
            made = sum(1 for _ in folder.glob("*.record.json")) if folder.is_dir() else 0
            job["progress"] = min(made / job["expected"], 0.99)
        else:
            job["progress"] = 0.0
        return job

    def _work(self) -> None:
        while True:
            jid = self._queue.get()
            if jid is None:
                return
            job = self.get(jid)
            if job["status"] != "queued":
                continue
            folder = Path(job["folder"])
            self.state.write("UPDATE jobs SET status = 'running' WHERE id = ?", (jid,))
            try:
                folder.mkdir(parents=True, exist_ok=True)
                outputs = self.execute(job["kind"], job["params"], folder, self.device)
                self.state.write("UPDATE jobs SET status = 'done', outputs = ?, finished = ? WHERE id = ?",
                                 (json.dumps([p.name for p in outputs]), _now(), jid))
            except Exception as exc:  # noqa: BLE001 - a failed job is a row with its reason, the worker goes on
                text = str(exc) if isinstance(exc, BelamyError) else f"{type(exc).__name__}: {exc}"
                self.state.write("UPDATE jobs SET status = 'failed', message = ?, finished = ? WHERE id = ?",
                                 (text.splitlines()[0][:500] if text else type(exc).__name__, _now(), jid))
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()  # a job that wrote nothing (scoring) leaves no folder behind
            if folder.is_dir():
                with contextlib.suppress(Exception):  # the grid catches up on its next scan anyway
                    self.on_done(folder)
