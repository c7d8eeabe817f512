"""User-facing errors.

Anything a user can cause (a bad path, a bad config, a wrong checkpoint) raises a `BelamyError`
subclass whose message is one line saying what went wrong and how to fix it. The CLI prints that
line and exits non-zero; a traceback is shown only with `--debug`.
"""

from __future__ import annotations


class BelamyError(Exception):
    """An error the user can fix; its message is shown as one line."""

    exit_code = 2


class MissingExtra(BelamyError):
    """An optional stage was used without its extra installed."""

    def __init__(self, extra: str, module: str) -> None:
        super().__init__(
            f"this needs the optional '{extra}' extra ({module} is not installed): "
            f"pip install 'belamy[{extra}]'"
        )
        self.extra = extra


def require(module: str, extra: str):
    """Import an optional module, or raise one clear line naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtra(extra, module) from exc
