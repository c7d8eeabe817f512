"""`ModelConfig`: everything needed to rebuild a generator/discriminator pair, as plain data.

A Run's `config.json` stores this next to the weights, so a checkpoint can be rebuilt without
guessing: the config is a flat dataclass of JSON scalars that round-trips exactly through
`to_dict()` / `from_dict()`. Unknown keys are rejected (a typo such as `g_chanel_max` would
otherwise silently fall back to a default and build a different network than the weights).

Channel widths follow one rule for every architecture, so presets are comparable:

    channels_at(res) = min(channel_base // res, channel_max)

i.e. width halves each time the resolution doubles, capped at the low resolutions. For DCGAN the
paper's `ngf`/`ndf` is the width at resolution R/2, so `channel_base = ngf * R // 2`
(see `presets.dcgan_64`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from belamy.core.config import bounds, check_fields, from_dict
from belamy.core.errors import BelamyError


class InvalidModelConfig(BelamyError, ValueError):
    """A model config the user wrote (or loaded) cannot describe a network; one-line message."""


def _is_pow2(n: int) -> bool:
    return n > 0 and (n & (n - 1)) == 0


@dataclass
class ModelConfig:
    """Architecture hyper-parameters. Only `name` selects code; every other field is a number.

    Fields used only by one architecture are ignored by the other (dcgan ignores the mapping
    network, noise and minibatch-stddev fields; `w_dim` must equal `z_dim` for dcgan because its
    "w" is z itself).
    """

    name: str = "stylegan2"  # "dcgan" | "stylegan2" | "fastgan" | "pix2pix" | "srvgg" | "rrdb" (see belamy.models.MODEL_NAMES)
    resolution: int = 64  # output side in pixels, power of two, 32..1024
    img_channels: int = field(default=3, metadata=bounds(1))
    z_dim: int = field(default=128, metadata=bounds(1))
    w_dim: int = field(default=128, metadata=bounds(1))
    mapping_layers: int = field(default=2, metadata=bounds(1))  # MLP depth z -> w (StyleGAN2: 8; 2 for small sets)
    mapping_lr_mult: float = field(default=0.01, metadata=bounds(1e-12))  # learning-rate multiplier of the mapping MLP
    g_channel_base: int = field(default=1024, metadata=bounds(1))  # generator width rule: min(base // res, max)
    g_channel_max: int = field(default=128, metadata=bounds(1))
    d_channel_base: int = field(default=1024, metadata=bounds(1))  # discriminator width rule: min(base // res, max)
    d_channel_max: int = field(default=128, metadata=bounds(1))
    use_noise: bool = True  # per-pixel noise inputs in the synthesis network
    noise_max_res: int = field(default=0, metadata=bounds(0))  # noise only at this resolution or below (0: all)
    # stylegan2's top resolution R: "full" has feature maps at R in G and D; "light" has none (G
    # draws RGB at R from its R/2 features with a modulated up-conv, D reads the image with a 4x4
    # stride-2 conv); "light-s2d" is light with D reading a 2x2 space-to-depth reshape + 1x1 conv
    top: Literal["full", "light", "light-s2d"] = "full"
    tanh_output: bool = False  # stylegan2: G's image passes through tanh, so flat white or black is any large value
    mbstd_group: int = field(default=4, metadata=bounds(0))  # minibatch-stddev group size in D (0 disables)
    mbstd_channels: int = field(default=1, metadata=bounds(1))  # number of stddev feature maps appended
    # pix2pix: the condition's channels, PatchGAN's strided layers (3: 70x70 patches), G's dropout
    cond_channels: int = field(default=3, metadata=bounds(1))
    patch_layers: int = field(default=3, metadata=bounds(1, 8))
    dropout: float = field(default=0.5, metadata=bounds(0.0, 0.9))
    # super-resolution (srvgg, rrdb): the upscale factor, and G's depth (SRVGG convs or RRDB blocks);
    # `resolution` is then the high-res training patch and `g_channel_max` G's width
    scale: int = field(default=4, metadata=bounds(1, 8))
    sr_blocks: int = field(default=16, metadata=bounds(1, 64))

    def __post_init__(self) -> None:
        self.validate()

    # -- rules ---------------------------------------------------------------------------------
    def g_channels_at(self, res: int) -> int:
        """Generator feature maps at spatial resolution `res`."""
        return max(1, min(self.g_channel_base // res, self.g_channel_max))

    def noise_at(self, res: int) -> bool:
        """Whether the synthesis layers at resolution `res` get per-pixel noise inputs."""
        return self.use_noise and (self.noise_max_res == 0 or res <= self.noise_max_res)

    def d_channels_at(self, res: int) -> int:
        """Discriminator feature maps at spatial resolution `res`."""
        return max(1, min(self.d_channel_base // res, self.d_channel_max))

    @property
    def light_top(self) -> bool:
        """No feature maps at the top resolution (`top` is "light" or "light-s2d")."""
        return self.top != "full"

    @property
    def d_stem_conv(self) -> bool:
        """D reads the image by a 4x4 stride-2 conv (`top="light"`), not space-to-depth + 1x1."""
        return self.top == "light"

    @property
    def log2_resolution(self) -> int:
        return int(math.log2(self.resolution))

    @property
    def block_resolutions(self) -> list[int]:
        """Resolutions 4, 8, ..., R: one synthesis block (or discriminator block) each."""
        return [2**i for i in range(2, self.log2_resolution + 1)]

    @property
    def conv_resolutions(self) -> list[int]:
        """Resolutions that get convolution blocks: all, or all but R with `light_top`."""
        return self.block_resolutions[:-1] if self.light_top else self.block_resolutions

    def validate(self) -> None:
        """Raise `InvalidModelConfig` with one line naming the first bad field."""

        def bad(name: str, why: str) -> InvalidModelConfig:
            return InvalidModelConfig(f"model config: {name}={getattr(self, name)!r} {why}")

        if not isinstance(self.name, str) or not self.name:
            raise bad("name", "must be a non-empty architecture name")
        if not (isinstance(self.resolution, int) and _is_pow2(self.resolution) and 32 <= self.resolution <= 1024):
            raise bad("resolution", "must be a power of two between 32 and 1024")
        check_fields(self, "model config", InvalidModelConfig)
        if self.name == "pix2pix" and self.patch_layers >= self.log2_resolution:
            raise bad("patch_layers", f"leaves no patches at {self.resolution} px: use at most {self.log2_resolution - 2}")
        if self.name in ("srvgg", "rrdb"):
            if self.scale not in (2, 4):
                raise bad("scale", "must be 2 or 4")
            if self.resolution // self.scale < 8:
                raise bad("resolution", f"(the high-res patch) must be at least {8 * self.scale} px at scale {self.scale}")
        if self.name == "dcgan" and self.w_dim != self.z_dim:
            raise bad("w_dim", f"must equal z_dim ({self.z_dim}) for dcgan, whose w is z")

    # -- JSON round-trip -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict (all values are str/int/float/bool)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        """Inverse of `to_dict`; missing keys take defaults, unknown keys are an error. Configs
        saved before `top` existed (three booleans) are read as the `top` they meant."""
        if isinstance(data, dict) and LEGACY_TOP_KEYS & set(data):
            data = _legacy_top(data)
        return from_dict(cls, data, "model config", InvalidModelConfig)

    def replace(self, **changes: Any) -> "ModelConfig":
        """A copy with some fields changed (validated like any new config)."""
        return dataclasses.replace(self, **changes)


LEGACY_TOP_KEYS = {"light_top", "d_stem_conv", "subpixel_top"}


def _legacy_top(data: dict[str, Any]) -> dict[str, Any]:
    """light_top / d_stem_conv / subpixel_top (configs before 0.2) -> the one `top` choice."""
    data = dict(data)
    light, stem, subpixel = (bool(data.pop(k, False)) for k in ("light_top", "d_stem_conv", "subpixel_top"))
    if subpixel:
        raise InvalidModelConfig("model config: subpixel_top was an experiment that was not adopted and is no "
                                 "longer built (docs/decisions): retrain with top=light")
    data.setdefault("top", ("light" if stem else "light-s2d") if light else "full")
    return data
