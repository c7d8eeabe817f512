"""The Run: a training run's folder, and the trained generator it holds.

Every stage that uses a trained model (sampling, exploring, measuring, and later chain, refine,
studio) opens it through this class; it needs only the models and the export file, so it sits
below the stages.

    RUN/config.json        resolved TrainConfig (written before training starts)
    RUN/run.json           run id, collection, created, code version
    RUN/checkpoints/       step-XXXXXXXX/ folders + `latest`
    RUN/generator.safetensors  exported EMA generator (what sampling loads)
    RUN/samples/           fixed-seed preview grids over training
    RUN/stats.jsonl        losses, augmentation p, img/s, phase timings, memory
    RUN/MODEL_CARD.md      what it was trained on, how, and whom to credit
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path
from typing import Any

from belamy.core.atomic import sha256_file
from belamy.core.errors import BelamyError
from belamy.models import ModelConfig, build_generator
from belamy.models.export import EXPORT, read_export


class Run:
    def __init__(self, path: Path, info: dict[str, Any], config: dict[str, Any]) -> None:
        self.path, self.info, self.config = path, info, config
        self._sha256: tuple[tuple[int, int, int], str] | None = None  # (file stat key, digest)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> "Run":
        path = Path(path)
        if not (path / "run.json").is_file() or not (path / "config.json").is_file():
            raise BelamyError(f"{path} is not a belamy run (no run.json/config.json): train one with `belamy train`")
        return cls(path, json.loads((path / "run.json").read_text()), json.loads((path / "config.json").read_text()))

    @property
    def run_id(self) -> str:
        return self.info["id"]

    @property
    def export_path(self) -> Path:
        return self.path / EXPORT

    @cached_property
    def _export(self):
        if not self.export_path.is_file():
            raise BelamyError(f"{self.path} has no trained generator yet ({self.export_path.name}): train or resume it")
        return read_export(self.export_path)

    @property
    def model_config(self) -> dict[str, Any]:
        return self._export[1]

    @property
    def export_meta(self) -> dict[str, Any]:
        return self._export[2]

    def generator(self, device="cpu"):
        """The EMA generator, in eval mode, on `device`."""
        tensors, model_cfg, _ = self._export
        G = build_generator(ModelConfig.from_dict(model_cfg))
        G.load_state_dict(tensors)
        return G.eval().requires_grad_(False).to(device)

    def generator_sha256(self) -> str:
        """sha256 of the exported generator, hashed again only when the file changes (every render
        record carries it, and a series of hundreds should not hash the weights hundreds of times)."""
        st = self.export_path.stat()
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        if self._sha256 is None or self._sha256[0] != key:
            self._sha256 = (key, sha256_file(self.export_path))
        return self._sha256[1]

    def stats(self) -> list[dict[str, Any]]:
        rows = []
        f = self.path / "stats.jsonl"
        if f.is_file():
            for line in f.read_text().splitlines():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:  # a line cut short by a crash
                    continue
        return rows

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"
