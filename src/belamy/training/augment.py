"""Differentiable augmentation for GANs on small collections.

DiffAugment (Zhao et al. 2020): color (brightness, saturation, contrast), translation by up to 1/8
of the image with zero padding, and cutout of a square half the image size; and ADA's geometric
warp (Karras et al. 2020): isotropic scaling and rotation about the centre, resampled bilinearly
with reflection padding. All are applied to *both* real and fake images before D, so D cannot
memorise a small collection and G is not taught to produce augmented images (the ops are
differentiable, so G's gradient passes through them).

As in ADA (Karras et al. 2020) each op is applied to each sample independently with probability
`p`, so `p` can be tuned continuously by `AdaptiveP` from how much D overfits. Images whose op was
not drawn pass through unchanged, bit for bit.

All randomness comes from the `torch.Generator` passed in (on the images' device), so a training
run with the same generator state augments identically. Each call draws a fixed number of random
values for a given batch shape whatever `p` is (except `p == 0`, which draws nothing), so the
generator's stream does not depend on the adaptive `p` trajectory beyond that.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

DEFAULT_POLICY = "color,translation,cutout"
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5
SCALE_STD = 0.2  # ADA: isotropic scale 2^N(0, 0.2^2)
ROTATE_MAX = 1.0  # ADA: rotation uniform in +-ROTATE_MAX * 180 degrees


def _is_channels_last(x: torch.Tensor) -> bool:
    return x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()


def _rand(n: int, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """n uniforms in [0, 1), always drawn in float32 so the stream (and every choice made from
    it) is the same whatever dtype the images are in."""
    return torch.rand(n, generator=generator, device=x.device)


def _per_sample(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return v.to(x.dtype).reshape(-1, 1, 1, 1)  # (N,) -> (N, 1, 1, 1) in x's dtype


def _where(chosen: torch.Tensor, augmented: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-sample select; exact pass-through for samples not chosen. chosen: (N,) bool."""
    return torch.where(chosen.reshape(-1, 1, 1, 1), augmented, x)


def _chosen(x: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    return _rand(x.shape[0], x, generator) < p  # (N,) bool


def brightness(x: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    """Add a per-sample offset in [-0.5, 0.5)."""
    chosen = _chosen(x, p, generator)
    shift = _rand(x.shape[0], x, generator) - 0.5
    return _where(chosen, x + _per_sample(shift, x), x)


def saturation(x: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    """Scale the deviation from the per-pixel channel mean by a factor in [0, 2)."""
    chosen = _chosen(x, p, generator)
    factor = _rand(x.shape[0], x, generator) * 2.0
    mean = x.mean(dim=1, keepdim=True)  # (N, 1, H, W)
    return _where(chosen, (x - mean) * _per_sample(factor, x) + mean, x)


def contrast(x: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    """Scale the deviation from the per-image mean by a factor in [0.5, 1.5)."""
    chosen = _chosen(x, p, generator)
    factor = _rand(x.shape[0], x, generator) + 0.5
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (N, 1, 1, 1)
    return _where(chosen, (x - mean) * _per_sample(factor, x) + mean, x)


def color(x: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    return contrast(saturation(brightness(x, p, generator), p, generator), p, generator)


def _randint(low: int, high: int, n: int, x: torch.Tensor,
             generator: torch.Generator) -> torch.Tensor:
    """Integers uniform in [low, high], drawn as floats so every device supports the generator."""
    u = torch.rand(n, generator=generator, device=x.device)
    return (low + (u * (high - low + 1)).floor().clamp_(max=high - low)).long()


def translation(x: torch.Tensor, p: float, generator: torch.Generator,
                ratio: float = TRANSLATION_RATIO) -> torch.Tensor:
    """Shift each image by up to `ratio` of its size in x and y, filling with zeros."""
    n, _, h, w = x.shape
    chosen = _chosen(x, p, generator)
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = _randint(-sh, sh, n, x, generator) * chosen
    dx = _randint(-sw, sw, n, x, generator) * chosen
    # Gather from a zero-padded copy: output pixel (i, j) reads padded (i + dy + sh, j + dx + sw).
    padded = torch.nn.functional.pad(x, (sw, sw, sh, sh))  # (N, C, H+2sh, W+2sw)
    rows = torch.arange(h, device=x.device).reshape(1, h) + dy.reshape(n, 1) + sh  # (N, H)
    cols = torch.arange(w, device=x.device).reshape(1, w) + dx.reshape(n, 1) + sw  # (N, W)
    batch = torch.arange(n, device=x.device).reshape(n, 1, 1)
    out = padded.permute(0, 2, 3, 1)[batch, rows.reshape(n, h, 1), cols.reshape(n, 1, w)]
    out = out.permute(0, 3, 1, 2)  # (N, H, W, C) storage viewed as (N, C, H, W): channels_last
    # Keep the caller's memory format: mixing layouts makes every later element-wise op and its
    # backward several times slower on CPU.
    return out if _is_channels_last(x) else out.contiguous()


def cutout(x: torch.Tensor, p: float, generator: torch.Generator,
           ratio: float = CUTOUT_RATIO) -> torch.Tensor:
    """Zero a square of `ratio` times the image size at a random centre (may be clipped)."""
    n, _, h, w = x.shape
    chosen = _chosen(x, p, generator)
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = _randint(0, h + (1 - ch % 2) - 1, n, x, generator)
    cx = _randint(0, w + (1 - cw % 2) - 1, n, x, generator)
    rows = torch.arange(h, device=x.device).reshape(1, h) - (cy.reshape(n, 1) - ch // 2)
    cols = torch.arange(w, device=x.device).reshape(1, w) - (cx.reshape(n, 1) - cw // 2)
    in_rows = (rows >= 0) & (rows < ch)  # (N, H)
    in_cols = (cols >= 0) & (cols < cw)  # (N, W)
    hole = in_rows.reshape(n, 1, h, 1) & in_cols.reshape(n, 1, 1, w)  # (N, 1, H, W)
    hole = hole & chosen.reshape(n, 1, 1, 1)
    # A multiply keeps x's layout (masked_fill would drop channels_last) and runs 3-6x faster
    # than torch.where with a broadcast mask on a CPU; the same values and gradient.
    return x * (~hole).to(x.dtype)


def geometric(x: torch.Tensor, p: float, generator: torch.Generator,
              scale_std: float = SCALE_STD, rotate_max: float = ROTATE_MAX) -> torch.Tensor:
    """Scale each image by 2^N(0, scale_std^2) and rotate it by up to `rotate_max` x 180 degrees
    about its centre (ADA's isotropic scaling and arbitrary rotation, one op).

    Why: integer translation and cutout leave D free to memorise a drawing's exact size and
    orientation; on collections of small line drawings D stays sure of the reals all run.
    Reflection padding (as in ADA) fills the corners with image content, so the warp leaves no
    black wedge for D to key on. Only the chosen samples are resampled (the others pass through
    bit for bit, and a small `p` costs little); `grid_sample` is twice differentiable in its
    input, as lazy R1 on augmented reals needs.
    """
    n = x.shape[0]
    chosen = _chosen(x, p, generator)
    log2_scale = torch.randn(n, generator=generator, device=x.device) * scale_std
    theta = (_rand(n, x, generator) * 2.0 - 1.0) * (math.pi * rotate_max)
    idx = chosen.nonzero().squeeze(1)
    if idx.numel() == 0:
        return x
    # The grid maps output pixels to input pixels: the inverse warp, rotate by -theta, scale 1/s.
    inv = torch.exp2(-log2_scale[idx])
    cos, sin = torch.cos(theta[idx]) * inv, torch.sin(theta[idx]) * inv
    zero = torch.zeros_like(cos)
    mat = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    sub = x.index_select(0, idx)  # (K, C, H, W)
    grid = F.affine_grid(mat.to(x.dtype), list(sub.shape), align_corners=False)  # (K, H, W, 2)
    warped = F.grid_sample(sub, grid, mode="bilinear", padding_mode="reflection",
                           align_corners=False)
    # Into a copy that keeps the caller's memory format (index_copy would not).
    return x.clone().index_copy_(0, idx, warped)


OPS = {"color": color, "translation": translation, "cutout": cutout, "geometric": geometric}


def parse_policy(policy: str) -> list[str]:
    """"color,translation,cutout" -> ["color", "translation", "cutout"], validated."""
    names = [name.strip() for name in policy.split(",") if name.strip()]
    for name in names:
        if name not in OPS:
            raise ValueError(
                f"unknown augmentation {name!r} in policy {policy!r}; choose from {', '.join(OPS)}"
            )
    return names


def augment(x: torch.Tensor, p: float, policy: str = DEFAULT_POLICY, *,
            generator: torch.Generator) -> torch.Tensor:
    """Augment a batch (N, C, H, W) in [-1, 1]-ish range; each op hits each sample w.p. `p`.

    `p` is clamped to [0, 1]; `p == 0` returns `x` itself. Differentiable w.r.t. `x`.
    `generator` must live on `x.device`.
    """
    ops = parse_policy(policy)
    p = min(max(float(p), 0.0), 1.0)
    if generator.device.type != x.device.type:
        raise ValueError(
            f"augment: generator is on {generator.device.type}, images on {x.device.type}; "
            "create the generator on the images' device"
        )
    if p == 0.0 or not ops:
        return x
    for name in ops:
        x = OPS[name](x, p, generator)
    return x


class AdaptiveP:
    """ADA's controller of the augmentation probability (Karras et al. 2020).

    Overfitting heuristic r_t = E[sign(D(real))]: near 0 when D is unsure about reals, near 1 when
    it has memorised them. Every `interval` calls to `update`, p moves by
    sign(r_t - target) * images_seen / speed_images, so p can travel from 0 to 1 in
    `speed_images` images (ADA: 500k). Sign sums stay on the device between adjustments, so
    `update` does not synchronise a GPU except once per interval.
    """

    def __init__(self, target: float = 0.6, speed_images: int = 500_000, interval: int = 4,
                 p: float = 0.0) -> None:
        if not 0.0 <= target <= 1.0:
            raise ValueError(f"target must be in [0, 1], got {target}")
        if speed_images <= 0 or interval <= 0:
            raise ValueError("speed_images and interval must be positive")
        self.target, self.speed_images, self.interval = float(target), int(speed_images), int(interval)
        self.p = min(max(float(p), 0.0), 1.0)
        self.r_t: float | None = None  # last measured overfitting heuristic
        self._sign_sum: torch.Tensor | float = 0.0
        self._count = 0
        self._calls = 0

    def update(self, real_logits: torch.Tensor) -> float:
        """Record D's logits on a batch of reals (any shape); returns the (possibly new) p."""
        logits = real_logits.detach()
        return self.accumulate(logits.sign().sum(), logits.numel())

    def accumulate(self, sign_sum: torch.Tensor | float, count: int) -> float:
        """Record a pre-reduced batch: the sum of sign(D(real)) over `count` reals.

        For multi-process training: all-reduce the local sign sums, then call this with the
        global sum and the global batch size on every rank, so all ranks keep the same p.
        """
        self._sign_sum = self._sign_sum + sign_sum
        self._count += int(count)
        self._calls += 1
        if self._calls >= self.interval:
            self.adjust()
        return self.p

    def adjust(self) -> float:
        """Apply the accumulated evidence now (normally called by `update`)."""
        if self._count == 0:
            return self.p
        self.r_t = float(self._sign_sum) / self._count
        step = self._count / self.speed_images
        direction = 1.0 if self.r_t > self.target else -1.0 if self.r_t < self.target else 0.0
        self.p = min(max(self.p + direction * step, 0.0), 1.0)
        self._sign_sum, self._count, self._calls = 0.0, 0, 0
        return self.p

    def state_dict(self) -> dict:
        """JSON-serialisable state (for the checkpoint's JSON part)."""
        return {
            "p": self.p, "r_t": self.r_t, "target": self.target,
            "speed_images": self.speed_images, "interval": self.interval,
            "sign_sum": float(self._sign_sum), "count": self._count, "calls": self._calls,
        }

    def load_state_dict(self, state: dict) -> None:
        self.target = float(state["target"])
        self.speed_images = int(state["speed_images"])
        self.interval = int(state["interval"])
        self.p = min(max(float(state["p"]), 0.0), 1.0)
        self.r_t = None if state.get("r_t") is None else float(state["r_t"])
        self._sign_sum = float(state.get("sign_sum", 0.0))
        self._count = int(state.get("count", 0))
        self._calls = int(state.get("calls", 0))


__all__ = ["AdaptiveP", "DEFAULT_POLICY", "OPS", "augment", "parse_policy",
           "brightness", "saturation", "contrast", "color", "translation", "cutout", "geometric"]
