"""Atomic file writes: nothing a user made is ever half-written by a crash.

Every file belamy produces is written to a temporary sibling, flushed to disk and renamed over
the target. A rename within one directory is atomic on POSIX and Windows, so readers see either
the old file or the new one, never a torn one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to `target`; on success rename it over `target`.

    On an exception the temporary file is removed and `target` is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix + ".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the user's usual mode
    try:
        yield tmp_path
        _fsync_file(tmp_path)
        os.replace(tmp_path, target)
        _fsync_dir(target.parent)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: str | os.PathLike[str], text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def write_json(target: str | os.PathLike[str], obj: Any) -> None:
    write_text(target, json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=False) + "\n")


def write_jsonl(target: str | os.PathLike[str], rows: list[dict[str, Any]]) -> None:
    write_text(target, "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in rows))


def write_staged(stages: Sequence[Sequence[tuple[Path, bytes]]], fsync_threads: int = 8) -> None:
    """Write many files atomically with one durability barrier per stage, not two fsyncs a file.

    Every file goes to a temporary sibling first; all of them are fsynced together (in threads,
    so the filesystem commits them at once); then stage by stage the temporaries are renamed into
    place and their directories fsynced. No file is ever torn, and a file of a later stage (a
    render's record) is never on disk without every file of the earlier stages (its PNG).
    """
    tmps: list[tuple[Path, Path]] = []  # (temporary, target), in stage order
    try:
        mode = 0o666 & ~_umask()
        for stage in stages:
            for target, data in stage:
                target = Path(target)
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
                tmps.append((Path(tmp), target))
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                os.chmod(tmp, mode)
        if len(tmps) > 1 and fsync_threads > 1:
            with ThreadPoolExecutor(min(fsync_threads, len(tmps))) as pool:
                list(pool.map(_fsync_file, [t for t, _ in tmps]))
        else:
            for t, _ in tmps:
                _fsync_file(t)
        k = 0
        for stage in stages:
            moved = tmps[k:k + len(stage)]
            for tmp, target in moved:
                os.replace(tmp, target)
            k += len(stage)
            for folder in dict.fromkeys(target.parent for _, target in moved):
                _fsync_dir(folder)
    except BaseException:
        for tmp, _ in tmps:
            tmp.unlink(missing_ok=True)
        raise


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":  # pragma: no cover
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
