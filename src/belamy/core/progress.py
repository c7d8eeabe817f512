"""One progress-bar style for every long job (rich), quiet when not on a terminal or in CI."""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)


def progress_enabled() -> bool:
    if os.environ.get("BELAMY_PROGRESS") == "1":
        return True
    if os.environ.get("BELAMY_PROGRESS") == "0":
        return False
    return sys.stderr.isatty()


def make_progress(*extra_columns, enabled: bool | None = None) -> Progress:
    """A progress bar with count, extra columns and ETA; `enabled=None` shows it on a terminal."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *extra_columns,
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        disable=not (progress_enabled() if enabled is None else enabled),
        transient=False,
    )
