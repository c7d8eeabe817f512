"""The preset registry: named training configs, the one place a preset name means something.

`cpu-quick-64` is `TrainConfig()` itself; the others start from it and change what they need.
Why each setting: docs/decisions/.
"""

from __future__ import annotations

from typing import Callable

from belamy.core.errors import BelamyError
from belamy.models import presets as mp
from belamy.training.config import DEFAULT_PRESET, TrainConfig


def _preset_cpu_quick_64() -> TrainConfig:
    """The default on a CPU: a small StyleGAN2 at 64 px, ADA translation+cutout, lazy R1, a short
    EMA, batch 16 and one batch of fakes shared by the D and G phases."""
    return TrainConfig()


def _preset_cpu_128() -> TrainConfig:
    """The default at 128 px: the same recipe, R1's gamma by the ADA rule (0.0002 R^2 / batch)."""
    return TrainConfig(preset="cpu-128", model=mp.stylegan2_cpu_128(), r1_gamma=0.2)


def _preset_fastgan_64() -> TrainConfig:
    """The FastGAN-style model with the default's training (ADA translation + cutout, lazy R1,
    logistic loss, EMA): at 6 kimg on the Wesnoth portraits FastGAN's own hinge loss and
    DiffAugment colour + translation + cutout on every image drew one texture (decision 0042)."""
    return TrainConfig(preset="fastgan-64", model=mp.fastgan_cpu_64())


def _preset_dcgan(resolution: int) -> Callable[[], TrainConfig]:
    def make() -> TrainConfig:
        """Radford et al. 2015 as published: Adam 2e-4, beta1 0.5, batch 128, BCE, no tricks, float32
        (`amp` off, also on a CPU with native bf16: it is the baseline as people run it)."""
        return TrainConfig(
            preset=f"dcgan-{resolution}", model=mp.dcgan(resolution), batch=128 if resolution == 64 else 64,
            lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, loss="bce", r1_gamma=0.0, r1_interval=0,
            ema_kimg=0.0, ema_rampup=0.0, augment="none", aug_policy="color,translation,cutout",
            mirror=False, shared_fakes=False, amp="off",
        )

    return make


def _preset_stylegan2(resolution: int) -> Callable[[], TrainConfig]:
    def make() -> TrainConfig:
        """StyleGAN2-ADA settings for a GPU: adaptive augmentation, R1 gamma by the ADA heuristic."""
        model = mp.stylegan2_gpu(resolution)
        batch = 32
        return TrainConfig(
            preset=f"{'portrait-256' if resolution == 256 else 'gpu-1024'}", model=model, batch=batch,
            lr_g=0.0025, lr_d=0.0025, r1_gamma=round(0.0002 * resolution**2 / batch, 4), ema_kimg=10.0,
            augment="ada", aug_policy="color,translation,cutout", shared_fakes=False, preview_kimg=20.0,
            checkpoint_kimg=200.0,
        )

    return make


def _preset_pix2pix(resolution: int, ngf: int, batch: int, name: str) -> Callable[[], TrainConfig]:
    def make() -> TrainConfig:
        """pix2pix's recipe (Isola et al. 2017): Adam 2e-4, beta1 0.5, BCE + 100 x L1, no R1; the
        paper's random jitter (scale by 286/256, crop back) and x-flips of both images of a pair,
        which keep a few hundred pairs from being learnt by heart; a larger batch than the paper's
        1 on a CPU (InstanceNorm keeps each image's statistics its own); renders from an average of
        G's weights (EMA), which steadies what the GAN loss keeps moving (decision 0052)."""
        return TrainConfig(
            preset=name, model=mp.pix2pix(resolution, ngf=ngf, ndf=ngf), batch=batch, lr_g=2e-4, lr_d=2e-4,
            beta1=0.5, beta2=0.999, loss="bce", r1_gamma=0.0, r1_interval=0, ema_kimg=2.0, ema_rampup=0.2,
            augment="none", mirror=True, jitter=round(286 / 256 - 1, 4), shared_fakes=True, l1_weight=100.0,
            originality_n=0,
            preview_n=8, preview_kimg=2.0 if resolution <= 128 else 20.0, amp="off" if resolution <= 128 else "auto",
        )

    return make


def _preset_sr(model: str, scale: int, gpu: bool) -> Callable[[], TrainConfig]:
    def make() -> TrainConfig:
        """Real-ESRGAN's recipe on the collection's own crops: second-order degradations, an L1 +
        structure stage, then the U-Net D joins with the GAN loss at 0.1; Adam (0.9, 0.99), G's EMA.
        On a CPU the compact model at 32 px low-res crops (128 px at x4); on a GPU 256 px crops."""
        patch = 256 if gpu else 32 * scale
        if model == "srvgg":
            m = mp.srvgg(scale, patch, feat=64, convs=32, d_feat=64) if gpu else mp.srvgg(scale, patch, d_feat=16)
        else:
            m = mp.rrdb(scale, patch)
        return TrainConfig(
            preset=_sr_name(model, scale, gpu), model=m, batch=32 if gpu else 16, lr_g=2e-4 if gpu else 5e-4,
            lr_d=1e-4, beta1=0.9, beta2=0.99, loss="logistic", r1_gamma=0.0, r1_interval=0, ema_kimg=10.0 if gpu else 1.0,
            ema_rampup=0.1, augment="none", mirror=True, shared_fakes=True, l1_weight=1.0, ssim_weight=0.2,
            gan_weight=0.1, gan_start_kimg=400.0 if gpu else 20.0, degrade="second-order", originality_n=0,
            preview_n=8, preview_kimg=20.0 if gpu else 2.0, checkpoint_kimg=200.0 if gpu else 10.0,
            amp="auto" if gpu else "off",
        )

    return make


def _sr_name(model: str, scale: int, gpu: bool) -> str:
    return f"{'sr' if model == 'srvgg' else 'rrdb'}-x{scale}{'-gpu' if gpu and model == 'srvgg' else ''}"


def sr_preset_name(model: str, scale: int) -> str:
    """The preset `belamy train-sr --model M --scale S` starts from (the RRDB ones are GPU-sized)."""
    return _sr_name(model, scale, model == "rrdb")


PRESETS: dict[str, Callable[[], TrainConfig]] = {
    DEFAULT_PRESET: _preset_cpu_quick_64,
    "cpu-128": _preset_cpu_128,
    "fastgan-64": _preset_fastgan_64,
    "dcgan-64": _preset_dcgan(64),
    "dcgan-128": _preset_dcgan(128),
    "portrait-256": _preset_stylegan2(256),
    "gpu-1024": _preset_stylegan2(1024),
    "pix2pix-64": _preset_pix2pix(64, 32, 8, "pix2pix-64"),
    "pix2pix-128": _preset_pix2pix(128, 32, 8, "pix2pix-128"),
    "pix2pix-256": _preset_pix2pix(256, 64, 4, "pix2pix-256"),
    "pix2pix-512": _preset_pix2pix(512, 64, 4, "pix2pix-512"),
    **{_sr_name(m, s, g): _preset_sr(m, s, g) for m, g in (("srvgg", False), ("srvgg", True), ("rrdb", True))
       for s in (2, 4)},
}
MODEL_DEFAULT_PRESET = {"stylegan2": DEFAULT_PRESET, "fastgan": "fastgan-64", "dcgan": "dcgan-64",
                        "pix2pix": "pix2pix-64", "srvgg": "sr-x4", "rrdb": "rrdb-x4"}  # `--model NAME` alone


def train_preset(name: str) -> TrainConfig:
    """A fresh config of the preset `name`, or one line listing the choices."""
    try:
        return PRESETS[name]()
    except KeyError:
        raise BelamyError(f"unknown preset '{name}': choose one of {', '.join(PRESETS)}") from None
