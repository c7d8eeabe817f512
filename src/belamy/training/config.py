"""`TrainConfig`: everything a training run needs besides the collection, as plain data.

It is written to `RUN/config.json` and read back exactly (unknown keys are an error); every
field is validated from its declared type and bounds (`belamy.core.config`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from belamy.core.config import bounds, check_fields, from_dict
from belamy.core.errors import BelamyError
from belamy.data.degrade import DegradeConfig
from belamy.models.config import ModelConfig
from belamy.models.presets import stylegan2_cpu_64
from belamy.models.sr import SR_MODELS
from belamy.training.augment import parse_policy

DEFAULT_PRESET = "cpu-quick-64"


@dataclass
class TrainConfig:
    """Everything a training run needs besides the collection; written to RUN/config.json.

    The defaults are the default preset, `cpu-quick-64`. `batch` is the global batch over all
    processes. Budgets: the run stops at the first of `kimg` (thousands of real images shown to
    D), `steps` or `minutes` that is set.
    """

    preset: str = DEFAULT_PRESET
    model: ModelConfig = field(default_factory=stylegan2_cpu_64)
    batch: int = field(default=16, metadata=bounds(1))
    # global batch for the first `batch_start_kimg` thousand images (0: `batch` throughout)
    batch_start: int = field(default=0, metadata=bounds(0))
    batch_start_kimg: float = field(default=0.0, metadata=bounds(0))
    lr_g: float = field(default=0.0025, metadata=bounds(1e-12))
    lr_d: float = field(default=0.0025, metadata=bounds(1e-12))
    # last fraction of the budget over which both learning rates fall to 0 (cosine; 0: off)
    lr_rampdown: float = field(default=0.0, metadata=bounds(0, 1))
    beta1: float = field(default=0.0, metadata=bounds(0, 1))
    beta2: float = field(default=0.99, metadata=bounds(0, 1))
    loss: Literal["logistic", "hinge", "bce"] = "logistic"  # bce: DCGAN's, the same as logistic
    r1_gamma: float = field(default=0.05, metadata=bounds(0))
    r1_interval: int = field(default=16, metadata=bounds(0))  # lazy R1 every N D steps (0: off)
    ema_kimg: float = field(default=2.0, metadata=bounds(0))  # EMA half-life in thousands of images (0: no EMA)
    ema_rampup: float = field(default=0.05, metadata=bounds(0))  # half-life at most this fraction of images seen
    augment: Literal["diffaug", "ada", "none"] = "ada"  # diffaug: fixed p; ada: adaptive p
    aug_policy: str = "translation,cutout"
    aug_p: float | None = field(default=None, metadata=bounds(0, 1))  # diffaug's fixed p (1), ada's start (0)
    ada_target: float = field(default=0.6, metadata=bounds(0, 1))
    ada_kimg: float = field(default=100.0, metadata=bounds(1e-12))  # thousands of images for ADA's p to go 0 -> 1
    # x-flip the reals at random; "auto": only if the collection looks like its mirror image
    # (decided once by `belamy.train` before the run starts, and stored as true or false; 0040)
    mirror: bool | Literal["auto"] = "auto"
    shared_fakes: bool = True  # D and G phases train on one batch of fakes (one G forward a step)
    l1_weight: float = field(default=100.0, metadata=bounds(0))  # pix2pix: weight of L1 to the target (paper: 100)
    # pix2pix's random jitter: both images of a pair scaled up by 1 + jitter, then cropped back at
    # one random place (paper: 256 -> 286 -> 256, 0.117); 0: off
    jitter: float = field(default=0.0, metadata=bounds(0, 1))
    # super-resolution: training pairs are a high-res crop and its degraded copy (data.degrade);
    # G first learns L1 (+ ssim_weight x (1 - SSIM)) alone, the GAN loss (x gan_weight) and D join
    # after gan_start_kimg (Real-ESRGAN's two stages in one run)
    degrade: str = "second-order"
    ssim_weight: float = field(default=0.0, metadata=bounds(0))
    gan_weight: float = field(default=1.0, metadata=bounds(0))
    gan_start_kimg: float = field(default=0.0, metadata=bounds(0))
    kimg: float | None = field(default=None, metadata=bounds(0))
    steps: int | None = field(default=None, metadata=bounds(0))
    minutes: float | None = field(default=None, metadata=bounds(0))
    seed: int = 0
    preview_kimg: float = field(default=2.0, metadata=bounds(0))  # preview grid every N kimg (0: only at the end)
    preview_n: int = field(default=32, metadata=bounds(1))
    checkpoint_kimg: float = field(default=10.0, metadata=bounds(0))
    checkpoint_minutes: float = field(default=10.0, metadata=bounds(0))  # also checkpoint this often in wall time
    keep: int = field(default=3, metadata=bounds(1))  # keep the last K checkpoints
    log_steps: int = field(default=20, metadata=bounds(1))  # stats.jsonl line every N steps
    device: str = "auto"  # auto, cpu, cuda, cuda:N or mps
    amp: str = "auto"  # auto | bf16 | fp16 | off (auto: bf16 on CUDA and on CPUs with native bf16)
    threads: int = field(default=0, metadata=bounds(0))  # CPU threads (0: torch's default)
    # on a GPU: bit-for-bit repeatable kernels (exact resume); false lets cuDNN autotune, ~20% faster
    deterministic: bool = True
    channels_last: bool = True
    max_rollbacks: int = field(default=3, metadata=bounds(0))  # divergence watchdog: give up after this many
    originality_n: int = field(default=64, metadata=bounds(0))  # renders checked for near copies at the end (0: off)

    def validate(self) -> None:
        check_fields(self, "train config")
        if self.kimg is None and self.steps is None and self.minutes is None:
            raise BelamyError("no training budget: give --kimg, --steps or --minutes")
        try:
            parse_policy(self.aug_policy)
        except ValueError as exc:
            raise BelamyError(str(exc)) from None
        self.model.validate()
        if self.model.name == "pix2pix" and self.r1_gamma > 0 and self.r1_interval > 0:
            raise BelamyError("pix2pix trains without R1: set r1_gamma=0 (its D judges pairs, R1 judges images)")
        if self.jitter > 0 and not self.paired:
            raise BelamyError("jitter is pix2pix's augmentation of pairs: set jitter=0 (an unconditional GAN would "
                              "learn the scaled, cropped images; its augmentation is `augment`)")
        if self.sr:
            DegradeConfig.named(self.degrade)
            if self.r1_gamma > 0 and self.r1_interval > 0:
                raise BelamyError("super-resolution trains without R1: set r1_gamma=0 (its D is spectrally normalised)")

    @property
    def sr(self) -> bool:
        """A super-resolution run: G maps a degraded crop to the high-res crop."""
        return self.model.name in SR_MODELS

    @property
    def paired(self) -> bool:
        """A conditional run: G maps a condition image to an image, trained on pairs."""
        return self.model.name == "pix2pix"

    def batch_at(self, images: int) -> int:
        """The global batch of the step that begins after `images` images.

        Why a start batch: in CPU minutes a GAN's early progress follows its number of updates, so
        a small batch gives the fastest first previews (no preset uses it: decision 0013). A
        function of the images seen, so resume is exact.
        """
        if self.batch_start and images < self.batch_start_kimg * 1000:
            return self.batch_start
        return self.batch

    def lr_factor(self, progress: float) -> float:
        """What the learning rates are multiplied by when `progress` (0-1) of the budget is spent.

        Why: a GAN's generator keeps moving to the last step, so a single end checkpoint lands
        wherever the last few kimg left it; lowering the rates over the end of a known budget lets
        it settle (the cosine ramp-down of R3GAN, the linear decay of pix2pix).
        """
        if self.lr_rampdown <= 0 or progress <= 1.0 - self.lr_rampdown:
            return 1.0
        t = min(1.0, (progress - (1.0 - self.lr_rampdown)) / self.lr_rampdown)
        return 0.5 * (1.0 + math.cos(math.pi * t))

    def images_after(self, steps: int) -> int:
        """Images shown after `steps` steps from the start (the `steps` budget in images)."""
        if not self.batch_start:
            return steps * self.batch
        early = -(-int(self.batch_start_kimg * 1000) // self.batch_start)  # steps taken at batch_start
        if steps <= early:
            return steps * self.batch_start
        return early * self.batch_start + (steps - early) * self.batch

    @property
    def batches(self) -> list[int]:
        """Every global batch the run uses."""
        return [b for b in (self.batch_start, self.batch) if b]

    @property
    def initial_aug_p(self) -> float:
        """The augmentation probability to start from: `aug_p`, or the mode's own default."""
        if self.augment == "none":
            return 0.0
        if self.aug_p is not None:
            return self.aug_p
        return 1.0 if self.augment == "diffaug" else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["model"] = self.model.to_dict()
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "config") -> "TrainConfig":
        data = dict(data)
        model = data.pop("model", None)
        cfg = from_dict(cls, data, where)
        if model is not None:
            cfg.model = model if isinstance(model, ModelConfig) else ModelConfig.from_dict(model)
        return cfg
