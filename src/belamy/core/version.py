"""The code version written into every collection, run and render record."""

from __future__ import annotations

import functools
import subprocess
from importlib import metadata
from pathlib import Path


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """Package version plus the git commit when running from a checkout (e.g. '0.1.0+g1a2b3c4')."""
    try:
        version = metadata.version("belamy")
    except metadata.PackageNotFoundError:  # pragma: no cover
        version = "0+unknown"
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        if out.returncode == 0 and out.stdout.strip():
            dirty = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True, text=True, timeout=5
            ).stdout.strip()
            return f"{version}+g{out.stdout.strip()}{'.dirty' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        pass
    return version
