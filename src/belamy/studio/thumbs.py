"""Thumbnails, made in a background pool and kept in the state folder under the file's sha256.

Every tile is queued once at low priority when the studio starts (a cold folder warms while the
artist looks at the first page); a tile the browser asks for jumps the queue. A thumbnail is a
WebP of at most 256 px a side, renamed into place, so an interrupted studio leaves no half file
and the next start finds every finished one. An image that will not decode is remembered as the
tile's problem, shown as a marked tile.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
from concurrent.futures import Future
from pathlib import Path

from PIL import Image

from belamy.studio.identity import Identity
from belamy.studio.library import Tile

SIDE = 256
NOW, LATER = 0, 1  # priorities: asked for by a browser, or warming in the background


class ThumbError(Exception):
    """This tile has no thumbnail; the message says why, for the marked tile."""


def make_thumbnail(src: Path, dst: Path, side: int = SIDE) -> None:
    """`src` shrunk to fit `side` x `side` (aspect kept), as WebP at `dst`."""
    with Image.open(src) as im:
        im.draft("RGB", (side, side))  # JPEG sources decode at a fraction of their size
        im.thumbnail((side, side), Image.Resampling.LANCZOS, reducing_gap=2.0)
        rgb = im.convert("RGBA" if im.mode in ("RGBA", "LA", "P") else "RGB")
    # A cache file: renamed into place (never torn) but not fsynced, which would cost more than
    # the thumbnail; one lost in a power cut is made again.
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        rgb.save(tmp, format="WEBP", quality=82, method=4)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


class Thumbnailer:
    """A pool of threads turning tiles into cached thumbnails, most urgent first."""

    def __init__(self, cache: Path, identity: Identity, workers: int | None = None) -> None:
        self.cache = Path(cache)
        self.identity = identity
        self._queue: queue.PriorityQueue[tuple[int, int, Tile | None]] = queue.PriorityQueue()
        self._count = itertools.count()
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Path]] = {}
        self.made = self.failed = 0
        self._threads = [threading.Thread(target=self._work, name=f"studio-thumbs-{i}", daemon=True)
                         for i in range(workers or max(1, min(8, os.cpu_count() or 1)))]
        for t in self._threads:
            t.start()

    def path_for(self, sha: str) -> Path:
        return self.cache / sha[:2] / f"{sha}-{SIDE}.webp"

    def ready(self, tile: Tile) -> Path | None:
        """The thumbnail's path when it exists already (no hashing, no queueing)."""
        if tile.sha256 is None:
            return None
        path = self.path_for(tile.sha256)
        return path if path.is_file() else None

    def request(self, tile: Tile, priority: int = NOW) -> Future[Path]:
        """A future of the tile's thumbnail path; queued (again, sooner) when not made yet."""
        with self._lock:
            fut = self._futures.get(tile.id)
            if fut is not None and fut.done() and (fut.exception() is None or priority == LATER):
                return fut
            if fut is not None and not fut.done() and priority == LATER:
                return fut  # queued already
            if fut is None or fut.done():
                fut = self._futures[tile.id] = Future()
            self._queue.put((priority, next(self._count), tile))
            return fut

    def warm(self, tiles: list[Tile]) -> None:
        """Queue every tile in the background, lowest priority."""
        for tile in tiles:
            if not tile.is_folder:
                self.request(tile, LATER)

    def pending(self) -> int:
        with self._lock:
            return sum(1 for f in self._futures.values() if not f.done())

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put((-1, next(self._count), None))

    def _make(self, tile: Tile) -> Path:
        if not tile.viewable:
            raise ThumbError(tile.problem)
        sha = self.identity.sha256(tile)
        if sha is None:
            raise ThumbError("file unreadable or gone")
        out = self.path_for(sha)
        if out.is_file():
            return out
        real = self.identity.guard.resolved(tile.path)
        if real is None:
            raise ThumbError("file unreadable or gone")
        try:
            make_thumbnail(real, out)
        except Exception as exc:
            tile.problem = f"image does not decode ({type(exc).__name__})"
            raise ThumbError(tile.problem) from exc
        return out

    def _work(self) -> None:
        while True:
            _, _, tile = self._queue.get()
            if tile is None:
                return
            with self._lock:  # a tile queued twice (later, then now) is made once
                fut = self._futures.get(tile.id)
                if fut is None or fut.done() or fut.running() or not fut.set_running_or_notify_cancel():
                    continue
            try:
                path = self._make(tile)
            except Exception as exc:  # noqa: BLE001 - handed to whoever waits on the future
                with self._lock:
                    self.failed += 1
                fut.set_exception(exc if isinstance(exc, ThumbError) else ThumbError(str(exc)))
            else:
                with self._lock:
                    self.made += 1
                fut.set_result(path)
