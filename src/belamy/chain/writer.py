"""The chain's writer lane: each batch's files written in a thread beside the generator.

While the generator translates batch k+1, a thread encodes and writes batch k (zlib and file I/O
release the GIL); `api.chain` gives it the job (`atomic.write_staged`: one durability barrier
per batch, the records last). One batch is in flight at a time, so memory stays at two batches,
and an error in the thread is raised in the chain at the next batch or at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, Self


class BatchWriter:
    """`put(job, *args)` runs the job in the background after waiting for (and re-raising any
    error of) the one before. Leaving the `with` waits for the last one."""

    def __init__(self, background: bool = True) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="belamy-chain-writer")
        self._pending: Future[Any] | None = None
        self.background = background  # False: each job runs at once, in the caller (to compare)

    def put(self, job: Callable[..., Any], *args: Any) -> None:
        self.wait()
        if not self.background:
            job(*args)
            return
        self._pending = self._pool.submit(job, *args)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if exc_type is None:
                self.wait()
            elif self._pending is not None:  # let the batch in flight finish; the error raised already wins
                self._pending.exception()
        finally:
            self._pool.shutdown(wait=True)
