"""The model zoo: architectures registered by name, built from a `ModelConfig`.

    from belamy.models import ModelConfig, build_generator, build_discriminator, presets
    cfg = presets.stylegan2_cpu_64()
    G, D = build_generator(cfg, seed=0), build_discriminator(cfg, seed=1)

Every generator exposes `z_dim`, `w_dim`, `num_ws`, buffer `w_avg`,
`mapping(z, truncation_psi, truncation_cutoff, update_w_avg) -> ws (N, num_ws, w_dim)`,
`synthesis(ws, noise_mode, generator) -> img (N, C, R, R)` and `forward(z, truncation_psi,
noise_mode, generator)`; every discriminator maps an image batch to logits of shape (N,).
A new architecture is one module plus one `register(...)` call. pix2pix is the exception to the
latent interface: its generator maps a condition image to an image (`models.pix2pix`), and so do the
super-resolution generators, from a low-res image to a high-res one (`models.sr`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from belamy.models import presets
from belamy.models.config import InvalidModelConfig, ModelConfig
from belamy.models.dcgan import DCGANDiscriminator, DCGANGenerator
from belamy.models.fastgan import FastGANDiscriminator, FastGANGenerator
from belamy.models.pix2pix import pix2pix_discriminator, pix2pix_generator
from belamy.models.sr import rrdb_generator, srvgg_generator, unet_discriminator
from belamy.models.stylegan2 import StyleGAN2Discriminator, StyleGAN2Generator


@dataclass(frozen=True)
class Architecture:
    """A named generator/discriminator pair; both constructors take a `ModelConfig`."""

    name: str
    generator: Callable[[ModelConfig], nn.Module]
    discriminator: Callable[[ModelConfig], nn.Module]


_REGISTRY: dict[str, Architecture] = {}


def register(name: str, generator: Callable[[ModelConfig], nn.Module],
             discriminator: Callable[[ModelConfig], nn.Module]) -> Architecture:
    """Make an architecture buildable by `ModelConfig.name == name`."""
    if name in _REGISTRY:
        raise ValueError(f"model {name!r} is already registered")
    arch = Architecture(name, generator, discriminator)
    _REGISTRY[name] = arch
    return arch


register("dcgan", DCGANGenerator, DCGANDiscriminator)
register("stylegan2", StyleGAN2Generator, StyleGAN2Discriminator)
register("fastgan", FastGANGenerator, FastGANDiscriminator)
register("pix2pix", pix2pix_generator, pix2pix_discriminator)
register("srvgg", srvgg_generator, unet_discriminator)
register("rrdb", rrdb_generator, unet_discriminator)

MODEL_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def model_names() -> tuple[str, ...]:
    """Registered architecture names (including any registered after import)."""
    return tuple(_REGISTRY)


def get_architecture(name: str) -> Architecture:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InvalidModelConfig(
            f"unknown model {name!r}; choose one of: {', '.join(_REGISTRY)}"
        ) from None


def _build(factory: Callable[[ModelConfig], nn.Module], cfg: ModelConfig,
           seed: int | None) -> nn.Module:
    # Initial weights (and StyleGAN2's const-noise buffers) come from the RNG; with a seed they
    # are reproducible without touching the caller's global RNG state.
    if seed is None:
        return factory(cfg)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return factory(cfg)


def build_generator(cfg: ModelConfig, seed: int | None = None) -> nn.Module:
    """The generator for `cfg` (on CPU, float32, training mode)."""
    cfg.validate()
    return _build(get_architecture(cfg.name).generator, cfg, seed)


def build_discriminator(cfg: ModelConfig, seed: int | None = None) -> nn.Module:
    """The discriminator for `cfg` (on CPU, float32, training mode)."""
    cfg.validate()
    return _build(get_architecture(cfg.name).discriminator, cfg, seed)


__all__ = [
    "MODEL_NAMES",
    "Architecture",
    "InvalidModelConfig",
    "ModelConfig",
    "build_discriminator",
    "build_generator",
    "get_architecture",
    "model_names",
    "presets",
    "register",
]
