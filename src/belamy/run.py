"""The Run: a training run's folder, and the trained generator it holds.

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

from belamy.core.errors import BelamyError


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
        from belamy.training.checkpoint import EXPORT

        return self.path / EXPORT

    @cached_property
    def _export(self):
        from belamy.training.checkpoint import read_export

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
        from belamy.models import ModelConfig, build_generator

        tensors, model_cfg, _ = self._export
        G = build_generator(ModelConfig.from_dict(model_cfg))
        G.load_state_dict(tensors)
        return G.eval().requires_grad_(False).to(device)

    def generator_sha256(self) -> str:
        """sha256 of the exported generator, hashed again only when the file changes (every render
        record carries it, and a series of hundreds should not hash the weights hundreds of times)."""
        from belamy.training.checkpoint import sha256_file

        st = self.export_path.stat()
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        if self._sha256 is None or self._sha256[0] != key:
            self._sha256 = (key, sha256_file(self.export_path))
        return self._sha256[1]

    def sample(self, seeds: list[int], out: str | os.PathLike[str], truncation: float = 1.0, **kw: Any) -> list[Path]:
        from belamy.generate.sample import sample

        return sample(self, seeds, Path(out), truncation=truncation, **kw)

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
