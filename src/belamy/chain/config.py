"""`belamy chain CONFIG.toml`: the steps of a chain of GANs, as a typed config.

    [poses]                     # where the poses come from
    count = 1000                # how many renders
    seed = 0                    # the procedural sampler's seed (pose i depends on (seed, i) only)
    from = "my-poses"           # or: a pose collection (belamy poses import/sample), in its order

    [stick]                     # how each pose is drawn (OpenPose-style); size: the pix2pix run's
    thickness = 0.025
    joint = 0.02
    background = "#000000"

    [translate]                 # the pix2pix run that turns stick figures into figures
    run = "runs/figures"

    [upscale]                   # optional: each translated render through a super-resolution run
    run = "runs/sr-x2"          # a run of `belamy train-sr` (x2 or x4)
    tile = 512                  # low-res pixels per tile side (0: the whole image at once)

    [output]
    batch = 16                  # renders per batch
    sticks = true               # keep each stick figure beside its render

Every key is checked; a mistake is one line naming it ("chain.toml: [stick] thikness: unknown
key"). Paths are relative to the config file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomllib

from belamy.core.config import bounds, check_fields, from_dict
from belamy.core.errors import BelamyError


@dataclass
class PosesStep:
    count: int = field(default=100, metadata=bounds(1))
    seed: int = field(default=0, metadata=bounds(0))
    source: str | None = None  # `from` in the file: a pose collection instead of the sampler


@dataclass
class StickStep:
    thickness: float = field(default=0.025, metadata=bounds(0.001, 0.2))
    joint: float = field(default=0.02, metadata=bounds(0.0, 0.2))
    background: str = "#000000"


@dataclass
class TranslateStep:
    run: str = ""


@dataclass
class UpscaleStep:
    run: str = ""
    tile: int = field(default=512, metadata=bounds(0, 65536))


@dataclass
class OutputStep:
    batch: int = field(default=16, metadata=bounds(1, 1024))
    sticks: bool = True


@dataclass
class ChainConfig:
    poses: PosesStep = field(default_factory=PosesStep)
    stick: StickStep = field(default_factory=StickStep)
    translate: TranslateStep = field(default_factory=TranslateStep)
    output: OutputStep = field(default_factory=OutputStep)
    upscale: UpscaleStep | None = None  # the optional super-resolution step

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.upscale is None:  # a chain without the step stamps as chains did before it existed
            del d["upscale"]
        return d


_KEYS = {"from": "source"}  # TOML key -> field name, where they differ


def read_chain_config(path: str | Path) -> ChainConfig:
    """The chain config in `path`, every table and key checked (one line names the first mistake)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BelamyError(f"{path} does not exist: write a chain config (see `belamy chain --help`)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BelamyError(f"{path} is not valid TOML: {exc}") from None
    steps: dict[str, Any] = {}
    for table, values in raw.items():
        kinds = {f.name: f.type for f in fields(ChainConfig)}
        if table not in kinds:
            raise BelamyError(f"{path.name}: [{table}]: unknown table (use {', '.join(kinds)})")
        if not isinstance(values, dict):
            raise BelamyError(f"{path.name}: {table} must be a table ([{table}])")
        if "source" in values:
            raise BelamyError(f"{path.name}: [{table}] source: unknown key (a pose collection is `from`)")
        step_cls = {"poses": PosesStep, "stick": StickStep, "translate": TranslateStep, "output": OutputStep,
                    "upscale": UpscaleStep}[table]
        step = from_dict(step_cls, {_KEYS.get(k, k): v for k, v in values.items()}, f"{path.name}: [{table}]")
        check_fields(step, f"{path.name}: [{table}]")
        steps[table] = step
    cfg = ChainConfig(**steps)
    if not cfg.translate.run:
        raise BelamyError(f"{path.name}: [translate] run: missing (the pix2pix run, from `belamy train-pair`)")
    base = path.parent
    cfg.translate.run = str((base / cfg.translate.run).resolve())
    if cfg.upscale is not None:
        if not cfg.upscale.run:
            raise BelamyError(f"{path.name}: [upscale] run: missing (the super-resolution run, from `belamy train-sr`)")
        cfg.upscale.run = str((base / cfg.upscale.run).resolve())
    if cfg.poses.source is not None:
        cfg.poses.source = str((base / cfg.poses.source).resolve())
    return cfg
