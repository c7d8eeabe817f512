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

A shared run (`belamy export`) is a Run without checkpoints: run.json, config.json, the exported
generator and its card. `run.json` may carry a `format_version` (absent: 1); a newer one is
refused in one line, as is a generator file whose tensors do not fit its config. Nothing here
unpickles: JSON and safetensors only.
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
from belamy.models.export import EXPORT, check_format_version, read_export

RUN_FORMAT_VERSION = 1  # the newest run.json layout this belamy reads and writes


class Run:
    def __init__(self, path: Path, info: dict[str, Any], config: dict[str, Any]) -> None:
        self.path, self.info, self.config = path, info, config
        self._sha256: tuple[tuple[int, int, int], str] | None = None  # (file stat key, digest)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> "Run":
        path = Path(path)
        if not (path / "run.json").is_file() or not (path / "config.json").is_file():
            raise BelamyError(f"{path} is not a belamy run (no run.json/config.json): train one with `belamy train`")
        info, config = _read_json(path / "run.json"), _read_json(path / "config.json")
        check_format_version(info.get("format_version"), f"{path / 'run.json'}", RUN_FORMAT_VERSION)
        if not isinstance(info.get("id"), str):
            raise BelamyError(f"{path / 'run.json'} names no run id: the file is damaged")
        return cls(path, info, config)

    @property
    def shared(self) -> bool:
        """A run written by `belamy export` (no checkpoints; its collection may be elsewhere or absent)."""
        return "exported" in self.info

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
        try:
            G = build_generator(ModelConfig.from_dict(model_cfg))
        except BelamyError as exc:
            raise BelamyError(f"{self.export_path}: its model config cannot be built ({exc})") from None
        except (TypeError, ValueError, KeyError) as exc:
            raise BelamyError(f"{self.export_path}: its model config cannot be built ({exc.__class__.__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else 'bad value'})") from None
        problem = weights_mismatch(G.state_dict(), tensors)
        if problem:
            raise BelamyError(f"{self.export_path} does not match its config ({model_cfg.get('name')} at "
                              f"{model_cfg.get('resolution')} px): {problem}; the file is damaged or was edited, "
                              "export it again")
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


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise BelamyError(f"{path} is not readable JSON: the run is damaged") from None
    if not isinstance(data, dict):
        raise BelamyError(f"{path} is not a JSON object: the run is damaged")
    return data


def weights_mismatch(expected: dict[str, Any], found: dict[str, Any]) -> str:
    """'' when `found` (a file's tensors) fits `expected` (a model's state dict) name for name and
    shape for shape; otherwise what is missing, extra and mis-shaped, in a few words."""
    missing = [k for k in expected if k not in found]
    extra = [k for k in found if k not in expected]
    shaped = [k for k in expected if k in found and tuple(found[k].shape) != tuple(expected[k].shape)]
    parts = []
    if missing:
        parts.append(f"{len(missing)} tensor{'s' * (len(missing) != 1)} missing (e.g. {missing[0]})")
    if extra:
        parts.append(f"{len(extra)} unexpected (e.g. {extra[0]})")
    if shaped:
        k = shaped[0]
        parts.append(f"{len(shaped)} mis-shaped (e.g. {k}: {tuple(found[k].shape)} in the file, "
                     f"{tuple(expected[k].shape)} in the model)")
    return ", ".join(parts)
