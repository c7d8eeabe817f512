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
from dataclasses import dataclass
from typing import Any

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

    name: str = "stylegan2"  # "dcgan" | "stylegan2" (see belamy.models.MODEL_NAMES)
    resolution: int = 64  # output side in pixels, power of two, 32..1024
    img_channels: int = 3
    z_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 2  # MLP depth z -> w (StyleGAN2 uses 8; 2 is plenty for small sets)
    mapping_lr_mult: float = 0.01  # learning-rate multiplier of the mapping MLP
    g_channel_base: int = 1024  # generator width rule: min(base // res, max)
    g_channel_max: int = 128
    d_channel_base: int = 1024  # discriminator width rule: min(base // res, max)
    d_channel_max: int = 128
    use_noise: bool = True  # per-pixel noise inputs in the synthesis network
    noise_max_res: int = 0  # noise only in layers at this resolution or below (0: every layer)
    light_top: bool = False  # stylegan2: no feature maps at R (G: up-conv to RGB from R/2, D: space-to-depth)
    subpixel_top: bool = False  # with light_top: G's top RGB by a sub-pixel conv (4 free 3x3 filters per colour)
    tanh_output: bool = False  # stylegan2: G's image passes through tanh, so flat white or black is any large value
    d_stem_conv: bool = False  # with light_top: D reads the image by a 4x4 stride-2 conv, not space-to-depth + 1x1
    mbstd_group: int = 4  # minibatch-stddev group size in D (0 disables)
    mbstd_channels: int = 1  # number of stddev feature maps appended

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

        def bad(field: str, why: str) -> InvalidModelConfig:
            return InvalidModelConfig(f"model config: {field}={getattr(self, field)!r} {why}")

        if not isinstance(self.name, str) or not self.name:
            raise bad("name", "must be a non-empty architecture name")
        if not (_is_pow2(self.resolution) and 32 <= self.resolution <= 1024):
            raise bad("resolution", "must be a power of two between 32 and 1024")
        for field in ("img_channels", "z_dim", "w_dim", "g_channel_base", "g_channel_max",
                      "d_channel_base", "d_channel_max", "mbstd_channels"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise bad(field, "must be a positive integer")
        if isinstance(self.mapping_layers, bool) or not isinstance(self.mapping_layers, int) \
                or self.mapping_layers < 1:
            raise bad("mapping_layers", "must be an integer >= 1")
        if isinstance(self.mbstd_group, bool) or not isinstance(self.mbstd_group, int) \
                or self.mbstd_group < 0:
            raise bad("mbstd_group", "must be an integer >= 0 (0 disables minibatch-stddev)")
        if not isinstance(self.mapping_lr_mult, (int, float)) or not self.mapping_lr_mult > 0:
            raise bad("mapping_lr_mult", "must be a positive number")
        if not isinstance(self.use_noise, bool):
            raise bad("use_noise", "must be true or false")
        if not isinstance(self.light_top, bool):
            raise bad("light_top", "must be true or false")
        if not isinstance(self.subpixel_top, bool):
            raise bad("subpixel_top", "must be true or false")
        if self.subpixel_top and not self.light_top:
            raise bad("subpixel_top", "only changes the light_top layer: set light_top=true too, or drop it")
        if not isinstance(self.tanh_output, bool):
            raise bad("tanh_output", "must be true or false")
        if not isinstance(self.d_stem_conv, bool):
            raise bad("d_stem_conv", "must be true or false")
        if self.d_stem_conv and not self.light_top:
            raise bad("d_stem_conv", "only changes the light_top discriminator: set light_top=true too, or drop it")
        if not isinstance(self.noise_max_res, int) or self.noise_max_res < 0:
            raise bad("noise_max_res", "must be 0 (every layer) or a resolution such as 32")
        if self.name == "dcgan" and self.w_dim != self.z_dim:
            raise bad("w_dim", f"must equal z_dim ({self.z_dim}) for dcgan, whose w is z")

    # -- JSON round-trip -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict (all values are str/int/float/bool)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        """Inverse of `to_dict`; missing keys take defaults, unknown keys are an error."""
        if not isinstance(data, dict):
            raise InvalidModelConfig(f"model config must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        for key in data:
            if key not in known:
                raise InvalidModelConfig(
                    f"model config: unknown key {key!r} (known keys: {', '.join(sorted(known))})"
                )
        values = dict(data)
        if isinstance(values.get("mapping_lr_mult"), int) and not isinstance(
            values.get("mapping_lr_mult"), bool
        ):
            values["mapping_lr_mult"] = float(values["mapping_lr_mult"])
        return cls(**values)

    def replace(self, **changes: Any) -> "ModelConfig":
        """A copy with some fields changed (validated like any new config)."""
        return dataclasses.replace(self, **changes)
