"""Shared by the benchmark scripts: machine facts and the JSON result file."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, Any]:
    import torch

    return {"cpu_count": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
            "torch": torch.__version__, "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}


def write_result(name: str, payload: dict[str, Any]) -> Path:
    """Write benchmarks/results/NAME.json with the machine and time attached."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                "machine": machine(), **payload}, indent=2))
    return path
