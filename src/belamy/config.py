"""Typed configs for every stage, with a JSON round-trip that rejects unknown keys.

Configs are plain dataclasses so they can be written into a Collection or a Run and read back
exactly; an unknown key is a user error (a typo in a config file), reported in one line.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

from belamy.core.errors import BelamyError

T = TypeVar("T")

FITS = ("crop", "pad", "stretch")


def from_dict(cls: type[T], data: dict[str, Any], where: str = "config") -> T:
    """Build the dataclass `cls` from a dict, rejecting unknown keys with one line."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise BelamyError(f"{where}: unknown key '{unknown[0]}' (known keys: {', '.join(sorted(names))})")
    return cls(**data)  # type: ignore[call-arg]


def read_json_file(path: str | Path) -> dict[str, Any]:
    """A JSON config file as a dict, with one-line errors for a missing file or bad syntax."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BelamyError(f"config file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise BelamyError(f"config file {path} is not valid JSON (line {exc.lineno}): fix the syntax") from None
    if not isinstance(data, dict):
        raise BelamyError(f"config file {path} must hold a JSON object")
    return data


@dataclass
class CollectConfig:
    """How sources become a Collection (see `belamy.collect`)."""

    size: int = 256
    fit: str = "crop"  # crop | pad | stretch, for non-square images
    background: str = "white"  # colour behind transparency and padding
    near_threshold: int = 6  # max Hamming distance (of 64 bits, both DCT and gradient hashes) for near duplicates (-1: off)
    min_side: int = 0  # skip images whose short side is below this (0: size // 4)
    max_pixels: int = 89_478_485  # larger images are treated as decompression bombs
    max_bytes: int = 256 * 1024 * 1024  # larger files are skipped
    strict: bool = False  # any skipped file makes the run fail and leaves the collection unchanged
    workers: int = 0  # decoding processes (0: one per CPU core)
    url_timeout: float = 20.0
    url_retries: int = 3
    default_license: str | None = None  # SPDX id for images the credits file does not cover
    default_author: str | None = None
    demo_count: int | None = None  # images in a built-in demo source (None: its default)

    def validate(self) -> None:
        s = self.size
        if s < 32 or s > 1024 or s & (s - 1):
            raise BelamyError(f"--size must be a power of two from 32 to 1024, got {s}")
        if self.fit not in FITS:
            raise BelamyError(f"--fit must be one of {', '.join(FITS)}, got '{self.fit}'")
        if self.near_threshold > 32:
            raise BelamyError("--near-threshold above 32 of 64 bits would merge unrelated images: use 0-16")
        from PIL import ImageColor

        try:
            ImageColor.getrgb(self.background)
        except ValueError:
            raise BelamyError(
                f"--background '{self.background}' is not a colour: use a name (white) or hex (#f0e8d8)"
            ) from None

    @property
    def effective_min_side(self) -> int:
        return self.min_side if self.min_side > 0 else max(1, self.size // 4)


AUGMENTS = ("diffaug", "ada", "none")
LOSS_NAMES = ("logistic", "hinge", "bce")


def _default_model() -> Any:
    from belamy.models.presets import stylegan2_cpu_64

    return stylegan2_cpu_64()


@dataclass
class TrainConfig:
    """Everything a training run needs besides the collection; written to RUN/config.json.

    `batch` is the global batch over all processes. Budgets: the run stops at the first of
    `kimg` (thousands of real images shown to D), `steps` or `minutes` that is set.
    """

    preset: str = "cpu-quick-64"
    model: Any = field(default_factory=_default_model)  # belamy.models.ModelConfig
    batch: int = 32
    batch_start: int = 0  # global batch for the first `batch_start_kimg` thousand images (0: `batch` throughout)
    batch_start_kimg: float = 0.0
    lr_g: float = 0.0025
    lr_d: float = 0.0025
    lr_rampdown: float = 0.0  # last fraction of the budget over which both learning rates fall to 0 (cosine; 0: off)
    beta1: float = 0.0
    beta2: float = 0.99
    loss: str = "logistic"  # logistic (non-saturating) | hinge | bce (DCGAN's, same as logistic)
    r1_gamma: float = 0.05
    r1_interval: int = 16  # lazy R1 every N D steps (0: off)
    ema_kimg: float = 2.0  # half-life of the EMA generator in thousands of images (0: no EMA)
    ema_rampup: float = 0.05  # EMA half-life is at most this fraction of images seen (0: off)
    augment: str = "diffaug"  # diffaug (fixed p) | ada (adaptive p) | none
    aug_policy: str = "color,translation,cutout"
    aug_p: float | None = None  # fixed p for diffaug (default 1), starting p for ada (default 0)
    ada_target: float = 0.6
    ada_kimg: float = 100.0  # images (in thousands) for ADA's p to go from 0 to 1
    mirror: bool = True  # x-flip the reals at random
    shared_fakes: bool = False  # D and G phases train on one batch of fakes (one G forward a step, as the DCGAN example)
    kimg: float | None = None
    steps: int | None = None
    minutes: float | None = None
    seed: int = 0
    preview_kimg: float = 2.0  # fixed-seed preview grid every N kimg (0: only at the end)
    preview_n: int = 32
    checkpoint_kimg: float = 10.0
    checkpoint_minutes: float = 10.0  # also checkpoint at least this often in wall time
    keep: int = 3  # keep the last K checkpoints
    log_steps: int = 20  # stats.jsonl line every N steps
    device: str = "auto"
    amp: str = "auto"  # auto | bf16 | fp16 | off (auto: bf16 on CUDA and on CPUs with native bf16)
    threads: int = 0  # CPU threads (0: torch's default)
    channels_last: bool = True
    max_rollbacks: int = 3  # divergence watchdog: give up after this many rollbacks
    originality_n: int = 64  # renders checked for near copies of the collection at the end (0: off)

    def validate(self) -> None:
        if self.augment not in AUGMENTS:
            raise BelamyError(f"augment must be one of {', '.join(AUGMENTS)}, got '{self.augment}'")
        if self.loss not in LOSS_NAMES:
            raise BelamyError(f"loss must be one of {', '.join(LOSS_NAMES)}, got '{self.loss}'")
        if self.originality_n < 0:
            raise BelamyError(f"originality_n must be 0 (off) or more, got {self.originality_n}")
        if self.batch < 1:
            raise BelamyError(f"batch must be at least 1, got {self.batch}")
        if self.batch_start < 0 or self.batch_start_kimg < 0:
            raise BelamyError("batch_start and batch_start_kimg must be 0 (off) or more")
        if self.aug_p is not None and not 0.0 <= self.aug_p <= 1.0:
            raise BelamyError(f"aug_p must be in [0, 1], got {self.aug_p}")
        for name in ("lr_g", "lr_d"):
            if getattr(self, name) <= 0:
                raise BelamyError(f"{name} must be positive")
        if not 0.0 <= self.lr_rampdown <= 1.0:
            raise BelamyError(f"lr_rampdown must be a fraction of the budget in [0, 1], got {self.lr_rampdown}")
        if self.kimg is None and self.steps is None and self.minutes is None:
            raise BelamyError("no training budget: give --kimg, --steps or --minutes")
        from belamy.training.augment import parse_policy

        try:
            parse_policy(self.aug_policy)
        except ValueError as exc:
            raise BelamyError(str(exc)) from None
        self.model.validate()

    def batch_at(self, images: int) -> int:
        """The global batch of the step that begins after `images` images.

        Why a start batch: in CPU minutes a GAN's early progress follows its number of updates, so
        a small batch wins the first minutes (the fastest first previews); in the quality benchmark
        batch 8 then 16 still ended worse at 30 minutes than 16 throughout, so no preset uses it.
        A function of the images seen, so resume is exact.
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
        from belamy.models.config import ModelConfig

        data = dict(data)
        model = data.pop("model", None)
        cfg = from_dict(cls, data, where)
        if model is not None:
            cfg.model = model if isinstance(model, ModelConfig) else ModelConfig.from_dict(model)
        return cfg


def _preset_cpu_quick_64() -> TrainConfig:
    """The default on a CPU: small StyleGAN2 at 64 px, adaptive augmentation, lazy R1, short EMA.

    From `benchmarks/quality.py` on the demo collection: SWD x1e3 after the 16.9 kimg the model
    trains in 5 idle minutes, seeds 0 and 1 (early GAN training varies a lot between seeds), KID
    x1e3 in brackets:
    - DiffAugment, translation + cutout at p=1: 71, 186 (116, 241). D sees every image shifted
      and half hidden from the first step, which slows G's start.
    - ADA, the same ops with p from 0, raised only when D starts to memorise: 114, 107 (104, 68):
      no seed that stalls. Chosen.
    - Without noise inputs 92, 172; noise only up to 32 px 139, 132; ADA with noise only up to
      32 px 128, 173 (`model.noise_max_res`): no better, so the noise stays.
    Batch 16: in CPU minutes a GAN's progress follows its number of updates more than its images,
    and batch 16 makes 1.7x the updates of batch 32 per second (at 0.86x the images/s). Batch 8
    (1.36x the updates of batch 16) wins at 5 idle minutes (demo SWD 62 vs 84, clipart 104 vs 108,
    medians of 3 seeds) but stalls later (demo at 30 minutes 42.6 vs 26.4). Starting at batch 8
    and switching to 16 after 20 kimg (`batch_start`) kept the 5-minute win but lost at 30 minutes
    too (seed 0: demo 41.4, clipart 59.7 vs 26.4, 47.2 at batch 16 throughout): not adopted.
    Shared fakes (`shared_fakes`): the D and G phases train on one batch of fakes, so G runs
    forward once a step instead of twice. Per image it learns the same (25.1 kimg, seeds 0-4,
    SWD medians: demo 81.0 vs 81.8, clipart 108.5 vs 107.8) and each image costs less time
    (benchmarks/train_speed.py --compare: 1.17x img/s), so it trains more images in the same
    minutes: demo SWD after 5 idle minutes 74.8 vs 81.8 (medians of seeds 0-4).
    Precision: `amp="auto"` trains in bf16 autocast on a CPU with native bf16 (AVX512-BF16 or AMX,
    where oneDNN's bf16 convolutions run about twice as fast as float32): 1.19x the img/s, and per
    image as good (27.8 kimg, seeds 0-4, SWD medians: demo 62.6 vs 77.0, clipart 82.6 vs 80.4), so
    after 5 idle minutes (33.1 kimg instead of 27.8) demo 57.3 and clipart 75.6 instead of 77.0 and
    80.4. Elsewhere it trains in float32, as before.
    Measured for clipart's 30 idle minutes (207.8 kimg), not adopted: batch 32 after 40 kimg
    (`batch_start=16`, 1.2x the img/s, so 240-250 kimg in the same time) scored 46.0-44.7 against
    41.6 (seed 0, `quality-late32.json`); a longer EMA half-life (`ema_kimg` 5, 10 or 20; the ramp
    keeps the first 40 kimg as they are) scored 44.3, 47.2, 47.3 against 42.7 (seeds 0-1, one run
    carrying every EMA over the same trajectory): at 30 minutes G still improves too fast for a
    slow average.
    With the faster step (30 idle minutes = 224.4 kimg; `quality-late-*.json`, `quality-reflect.json`):
    ADA's geometric warp joining once p passes 0.5 scored 39.8 against 35.8 (seed 0); twice the
    learning rates after 35 kimg a median of 43.0 against 37.3 (seeds 0-3);
    translation padded by reflection lost at 5 minutes (clipart seeds 0-2, median 84.7 vs 72.6).
    """
    return TrainConfig(preset="cpu-quick-64", batch=16, augment="ada", aug_policy="translation,cutout",
                       shared_fakes=True)


def _preset_dcgan(resolution: int) -> Callable[[], TrainConfig]:
    def make() -> TrainConfig:
        """Radford et al. 2015 as published: Adam 2e-4, beta1 0.5, batch 128, BCE, no tricks, float32
        (`amp` off, also on a CPU with native bf16: it is the baseline as people run it)."""
        from belamy.models.presets import dcgan

        return TrainConfig(
            preset=f"dcgan-{resolution}", model=dcgan(resolution), batch=128 if resolution == 64 else 64,
            lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, loss="bce", r1_gamma=0.0, r1_interval=0,
            ema_kimg=0.0, ema_rampup=0.0, augment="none", mirror=False, amp="off",
        )

    return make


def _preset_stylegan2(resolution: int) -> Callable[[], TrainConfig]:
    def make() -> TrainConfig:
        """StyleGAN2-ADA settings for a GPU: adaptive augmentation, R1 gamma by the ADA heuristic."""
        from belamy.models import presets as mp

        model = mp.stylegan2_gpu(resolution)
        batch = 32
        return TrainConfig(
            preset=f"{'portrait-256' if resolution == 256 else 'gpu-1024'}", model=model, batch=batch,
            lr_g=0.0025, lr_d=0.0025, r1_gamma=round(0.0002 * resolution**2 / batch, 4), ema_kimg=10.0,
            augment="ada", preview_kimg=20.0, checkpoint_kimg=200.0,
        )

    return make


TRAIN_PRESETS: dict[str, Callable[[], TrainConfig]] = {
    "cpu-quick-64": _preset_cpu_quick_64,
    "dcgan-64": _preset_dcgan(64),
    "dcgan-128": _preset_dcgan(128),
    "portrait-256": _preset_stylegan2(256),
    "gpu-1024": _preset_stylegan2(1024),
}
MODEL_DEFAULT_PRESET = {"stylegan2": "cpu-quick-64", "dcgan": "dcgan-64"}


def train_preset(name: str) -> TrainConfig:
    try:
        return TRAIN_PRESETS[name]()
    except KeyError:
        raise BelamyError(f"unknown preset '{name}': choose one of {', '.join(TRAIN_PRESETS)}") from None


def set_field(cfg: Any, dotted: str, raw: str) -> None:
    """Apply `--set a.b=value` to a (nested) dataclass, parsing the value as JSON when it can."""
    *parents, leaf = dotted.split(".")
    obj = cfg
    for p in parents:
        if not hasattr(obj, p):
            raise BelamyError(f"--set {dotted}: unknown field '{p}'")
        obj = getattr(obj, p)
    if not dataclasses.is_dataclass(obj) or leaf not in {f.name for f in dataclasses.fields(obj)}:
        raise BelamyError(f"--set {dotted}: unknown field '{leaf}'")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    setattr(obj, leaf, value)
