"""`TrainState`: every counter of a run in one place (saved as JSON in each checkpoint)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TrainState:
    step: int = 0  # completed training iterations
    images: int = 0  # real images shown to D (global, all ranks)
    epoch: int = 0  # data-order position: epoch and index within it
    cursor: int = 0
    seconds: float = 0.0  # training wall time accumulated over all sessions of the run
    aug: dict[str, Any] = field(default_factory=dict)  # augmentation controller state
    lr_scale: float = 1.0  # lowered by the divergence watchdog
    seed_offset: int = 0  # changed by the watchdog so a rolled-back run does not replay the same NaN
    rollbacks: int = 0
    last_preview_images: int = 0
    last_checkpoint_images: int = 0

    @property
    def kimg(self) -> float:
        return self.images / 1000.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainState":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})
