"""Second-order degradation: (low-res, high-res) training pairs for super-resolution.

A super-resolution GAN trained on plain bicubic downscales learns to undo only a bicubic
downscale, and fails on real images, which were blurred, resized, noised and JPEG-compressed,
often more than once. Following the recipe of Real-ESRGAN (Wang et al. 2021), `degrade` runs
that chain twice with random parameters (blur -> resize -> noise -> JPEG, then again, ending in
a sinc filter and the resize to the target size), so the model sees a wide spread of real
defects. Written on torch tensors, it runs on the batch's own device; every random choice comes
from the caller's generator, so a seed reproduces a pair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from belamy.core.errors import BelamyError

DEGRADATIONS: tuple[str, ...] = ("second-order", "first-order", "light", "bicubic")

# Kernel kinds, in the order of DegradeConfig.kernel_probs: even indices are isotropic, and
# kind // 2 is the family (0 Gaussian, 1 generalized Gaussian, 2 plateau).
KERNEL_KINDS: tuple[str, ...] = (
    "iso",
    "aniso",
    "generalized_iso",
    "generalized_aniso",
    "plateau_iso",
    "plateau_aniso",
)
RESIZE_MODES: tuple[str, ...] = ("area", "bilinear", "bicubic")
# Photon count per unit of intensity for Poisson noise: 2**8, what Real-ESRGAN's count of distinct
# levels gives for any 8-bit image with more than 128 levels (nearly all), without counting them.
_POISSON_VALS = 256.0
_LUMA = (0.299, 0.587, 0.114)  # Rec. 601, as in JPEG's YCbCr


@dataclass
class DegradeConfig:
    """The random ranges of the degradation; each pass draws its parameters per image from them."""

    # first order
    blur_prob: float = 1.0  # probability of a blur
    blur_sigma: tuple[float, float] = (0.2, 3.0)
    kernel_sizes: tuple[int, ...] = (7, 9, 11, 13, 15, 17, 19, 21)
    # kernel kinds (KERNEL_KINDS) with their probabilities: iso, aniso (Gaussian), generalized
    # iso/aniso (beta_g 0.5..4), plateau iso/aniso (beta_p 1..2); shared by both passes
    kernel_probs: tuple[float, ...] = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)
    betag_range: tuple[float, float] = (0.5, 4.0)
    betap_range: tuple[float, float] = (1.0, 2.0)
    sinc_prob: float = 0.1  # a 2D sinc (ringing) filter instead of the blur (both passes)
    resize_prob: tuple[float, float, float] = (0.2, 0.7, 0.1)  # up, down, keep
    resize_range: tuple[float, float] = (0.15, 1.5)
    resize_modes: tuple[str, ...] = RESIZE_MODES  # drawn per resize (both passes)
    noise_prob: float = 1.0  # probability of any noise (both passes)
    gaussian_noise_prob: float = 0.5  # else Poisson
    noise_range: tuple[float, float] = (1.0, 30.0)  # Gaussian sigma on the 0..255 scale
    poisson_scale_range: tuple[float, float] = (0.05, 3.0)
    gray_noise_prob: float = 0.4
    jpeg_prob: float = 1.0  # probability of JPEG compression (both passes)
    jpeg_range: tuple[float, float] = (30.0, 95.0)
    # second order (same meaning, second pass)
    second_blur_prob: float = 0.8
    blur_sigma2: tuple[float, float] = (0.2, 1.5)
    resize_prob2: tuple[float, float, float] = (0.3, 0.4, 0.3)
    resize_range2: tuple[float, float] = (0.3, 1.2)
    gaussian_noise_prob2: float = 0.5
    noise_range2: tuple[float, float] = (1.0, 25.0)
    poisson_scale_range2: tuple[float, float] = (0.05, 2.5)
    gray_noise_prob2: float = 0.4
    jpeg_range2: tuple[float, float] = (30.0, 95.0)
    final_sinc_prob: float = 0.8
    second_order: bool = True  # False: the first pass only, then resize to the target size
    # the last resize to the target size: one of these per batch (antialiased when downscaling)
    final_resize_modes: tuple[str, ...] = ("area", "bicubic")

    @classmethod
    def named(cls, name: str) -> DegradeConfig:
        """One of DEGRADATIONS: "second-order", "first-order", "light" or "bicubic"."""
        if name == "second-order":
            return cls()
        if name == "first-order":
            return cls(second_order=False)
        if name == "light":  # for clean GAN renders: mild blur, little noise, good JPEG
            return cls(
                blur_sigma=(0.2, 1.5),
                kernel_sizes=(7, 9, 11, 13, 15),
                sinc_prob=0.0,
                resize_range=(0.5, 1.2),
                noise_range=(1.0, 10.0),
                poisson_scale_range=(0.05, 1.0),
                jpeg_range=(60.0, 95.0),
                second_order=False,
            )
        if name == "bicubic":
            return cls(
                blur_prob=0.0,
                sinc_prob=0.0,
                resize_prob=(0.0, 0.0, 1.0),
                noise_prob=0.0,
                jpeg_prob=0.0,
                second_order=False,
                final_resize_modes=("bicubic",),
            )
        raise BelamyError(f"unknown degradation {name!r}: choose one of {', '.join(DEGRADATIONS)}")


@dataclass(frozen=True)
class _Pass:
    """The ranges of one pass, under the same names for the first and the second."""

    blur_prob: float
    blur_sigma: tuple[float, float]
    resize_prob: tuple[float, float, float]
    resize_range: tuple[float, float]
    gaussian_prob: float
    noise_range: tuple[float, float]
    poisson_range: tuple[float, float]
    gray_prob: float
    jpeg_range: tuple[float, float]


def _passes(cfg: DegradeConfig) -> tuple[_Pass, _Pass]:
    first = _Pass(
        cfg.blur_prob,
        cfg.blur_sigma,
        cfg.resize_prob,
        cfg.resize_range,
        cfg.gaussian_noise_prob,
        cfg.noise_range,
        cfg.poisson_scale_range,
        cfg.gray_noise_prob,
        cfg.jpeg_range,
    )
    second = _Pass(
        cfg.second_blur_prob,
        cfg.blur_sigma2,
        cfg.resize_prob2,
        cfg.resize_range2,
        cfg.gaussian_noise_prob2,
        cfg.noise_range2,
        cfg.poisson_scale_range2,
        cfg.gray_noise_prob2,
        cfg.jpeg_range2,
    )
    return first, second


# ---------------------------------------------------------------------------------------------
# random draws (always on the CPU, from the caller's generator)


def _uniform(n: int, lo_hi: tuple[float, float], g: torch.Generator) -> torch.Tensor:
    """(n,) uniform in [lo, hi]."""
    lo, hi = lo_hi
    return lo + (hi - lo) * torch.rand(n, generator=g, dtype=torch.float64)


def _coin(n: int, p: float, g: torch.Generator) -> torch.Tensor:
    """(n,) bool, each True with probability p."""
    return torch.rand(n, generator=g, dtype=torch.float64) < p


def _pick(count: int, g: torch.Generator, probs: tuple[float, ...] | None = None) -> int:
    """An index in range(count), uniformly or with probs."""
    weights = torch.tensor(probs if probs is not None else [1.0] * count, dtype=torch.float64)
    return int(torch.multinomial(weights, 1, generator=g))


# ---------------------------------------------------------------------------------------------
# kernels


def _grid(k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(k, k) x and y coordinates centred on the middle tap."""
    r = torch.arange(k, dtype=torch.float64) - k // 2
    return r.view(1, k).expand(k, k), r.view(k, 1).expand(k, k)


def _blur_kernels(
    n: int, k: int, sigma: tuple[float, float], cfg: DegradeConfig, g: torch.Generator
) -> torch.Tensor:
    """(n, k, k) kernels summing to 1, with a random kind, widths, shape and rotation per image."""
    kind = torch.multinomial(
        torch.tensor(cfg.kernel_probs, dtype=torch.float64), n, replacement=True, generator=g
    )
    iso, family = kind % 2 == 0, kind // 2
    sx = _uniform(n, sigma, g)
    sy = torch.where(iso, sx, _uniform(n, sigma, g))
    theta = torch.where(iso, torch.zeros(n, dtype=torch.float64), _uniform(n, (-math.pi, math.pi), g))
    # generalized: beta below or above 1 with even odds (below 1: heavy tails, above: flat tops)
    bg = torch.where(
        _coin(n, 0.5, g), _uniform(n, (cfg.betag_range[0], 1.0), g), _uniform(n, (1.0, cfg.betag_range[1]), g)
    )
    bp = _uniform(n, cfg.betap_range, g)
    beta = torch.where(family == 1, bg, torch.where(family == 2, bp, torch.ones(n, dtype=torch.float64)))

    x, y = _grid(k)
    c, s = torch.cos(theta).view(n, 1, 1), torch.sin(theta).view(n, 1, 1)
    u, v = c * x + s * y, -s * x + c * y  # coordinates along the kernel's own axes
    d2 = (u / sx.view(n, 1, 1)) ** 2 + (v / sy.view(n, 1, 1)) ** 2  # x^T Sigma^-1 x
    d2b = d2 ** beta.view(n, 1, 1)
    kern = torch.where((family == 2).view(n, 1, 1), 1.0 / (d2b + 1.0), torch.exp(-0.5 * d2b))
    return kern / kern.sum(dim=(1, 2), keepdim=True)


def _sinc_kernels(omega: torch.Tensor, k: int) -> torch.Tensor:
    """(n, k, k) circular low-pass (sinc) kernels with cutoff omega (n,) in radians, summing to 1."""
    x, y = _grid(k)
    r = torch.sqrt(x**2 + y**2)
    w = omega.view(-1, 1, 1)
    safe_r = torch.where(r == 0, torch.ones_like(r), r)
    kern = w * torch.special.bessel_j1(w * safe_r) / (2 * math.pi * safe_r)
    kern = torch.where(r == 0, w**2 / (4 * math.pi), kern)  # the limit at the centre
    return kern / kern.sum(dim=(1, 2), keepdim=True)


def _delta(n: int, k: int) -> torch.Tensor:
    """(n, k, k) identity kernels."""
    d = torch.zeros(n, k, k, dtype=torch.float64)
    d[:, k // 2, k // 2] = 1.0
    return d


def _filter(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """x (N, C, H, W) convolved with its own kernel (N, k, k) per image, reflect-padded."""
    n, c, h, w = x.shape
    k = kernels.shape[-1]
    pad = k // 2
    mode = "reflect" if pad < min(h, w) else "replicate"  # reflect needs more pixels than the pad
    xp = F.pad(x.reshape(1, n * c, h, w), (pad, pad, pad, pad), mode=mode)
    # Gaussian tails underflow to denormal floats, which make the conv ten times slower on CPUs;
    # taps under 1e-8 of the peak do not move an 8-bit level, so they become exact zeros.
    peak = kernels.abs().amax(dim=(1, 2), keepdim=True)
    kernels = torch.where(kernels.abs() < 1e-8 * peak, torch.zeros_like(kernels), kernels)
    weight = kernels.to(x.device, x.dtype).repeat_interleave(c, dim=0).unsqueeze(1)  # (N*C, 1, k, k)
    return F.conv2d(xp, weight, groups=n * c).view(n, c, h, w)


def _blur(x: torch.Tensor, p: _Pass, cfg: DegradeConfig, g: torch.Generator) -> torch.Tensor:
    """A random blur or sinc per image (or none, with probability 1 - blur_prob)."""
    n = x.shape[0]
    # One kernel size per batch: the grouped conv costs k*k per pixel, so padding every kernel to
    # the largest size would make each batch pay for 21x21. The size only truncates the support;
    # the kind, sigma, shape and rotation, which make the blur, are still drawn per image.
    k = cfg.kernel_sizes[_pick(len(cfg.kernel_sizes), g)]
    blurred, sinc = _coin(n, p.blur_prob, g), _coin(n, cfg.sinc_prob, g)
    # a small kernel cannot hold a very low cutoff's ringing, so it keeps cutoffs above pi/3
    omega = _uniform(n, (math.pi / 3 if k < 13 else math.pi / 5, math.pi), g)
    kern = torch.where(sinc.view(n, 1, 1), _sinc_kernels(omega, k), _blur_kernels(n, k, p.blur_sigma, cfg, g))
    if not bool(blurred.any()):
        return x
    return _filter(x, torch.where(blurred.view(n, 1, 1), kern, _delta(n, k)))


# ---------------------------------------------------------------------------------------------
# resize, noise


def _random_resize(
    x: torch.Tensor, base: tuple[int, int], p: _Pass, cfg: DegradeConfig, g: torch.Generator
) -> torch.Tensor:
    """Resize to base * s, with s drawn up / down / kept once per batch (images share a shape).

    No antialiasing here: the aliasing of a careless downscale is one of the defects to learn.
    """
    lo, hi = p.resize_range
    way = ((1.0, hi), (lo, 1.0), (1.0, 1.0))[_pick(3, g, p.resize_prob)]  # up, down, keep
    factor = float(_uniform(1, way, g))
    mode = cfg.resize_modes[_pick(len(cfg.resize_modes), g)]
    size = (max(1, int(base[0] * factor)), max(1, int(base[1] * factor)))
    if tuple(x.shape[-2:]) == size:
        return x
    if mode == "area":
        return F.interpolate(x, size=size, mode="area")
    return F.interpolate(x, size=size, mode=mode, align_corners=False)


def _final_resize(
    x: torch.Tensor, target: tuple[int, int], cfg: DegradeConfig, g: torch.Generator
) -> torch.Tensor:
    """Resize to exactly target, with one of final_resize_modes; antialiased when downscaling."""
    mode = cfg.final_resize_modes[_pick(len(cfg.final_resize_modes), g)]
    if tuple(x.shape[-2:]) == target:
        return x
    down = x.shape[-2] > target[0] or x.shape[-1] > target[1]
    if mode == "area" and down:
        return F.interpolate(x, size=target, mode="area")
    mode = "bicubic" if mode == "area" else mode  # area upscaling is nearest: use bicubic instead
    return F.interpolate(x, size=target, mode=mode, align_corners=False, antialias=down)


def _final_sinc(x: torch.Tensor, cfg: DegradeConfig, g: torch.Generator) -> torch.Tensor:
    """A sinc filter per image with probability final_sinc_prob: the ringing of sharpened downscales."""
    n, k = x.shape[0], cfg.kernel_sizes[_pick(len(cfg.kernel_sizes), g)]
    use, omega = _coin(n, cfg.final_sinc_prob, g), _uniform(n, (math.pi / 3, math.pi), g)
    if not bool(use.any()):
        return x
    return _filter(x, torch.where(use.view(n, 1, 1), _sinc_kernels(omega, k), _delta(n, k)))


def _noise(
    x: torch.Tensor, p: _Pass, cfg: DegradeConfig, g: torch.Generator, ng: torch.Generator
) -> torch.Tensor:
    """Gaussian or Poisson noise per image, in colour or gray; parameters from g, samples from ng."""
    n, c = x.shape[:2]
    noisy = _coin(n, cfg.noise_prob, g)
    gaussian = _coin(n, p.gaussian_prob, g)  # else Poisson
    gray = _coin(n, p.gray_prob, g)
    sigma = _uniform(n, p.noise_range, g) / 255.0
    pscale = _uniform(n, p.poisson_range, g)
    if not bool(noisy.any()):
        return x
    dev, dt = x.device, x.dtype

    def per_image(t: torch.Tensor) -> torch.Tensor:  # (N,) -> (N, 1, 1, 1) on x's device
        return t.to(dev).view(n, 1, 1, 1)

    # Gaussian: gray images get one field for all three channels
    gauss = torch.where(
        per_image(gray),
        torch.randn((n, 1) + x.shape[2:], generator=ng, device=dev, dtype=dt),
        torch.randn(x.shape, generator=ng, device=dev, dtype=dt),
    )
    gauss = gauss * per_image(sigma.to(dt))
    # Poisson (shot noise): drawn on the pixel values, or once on the luma for gray images
    pois = torch.zeros_like(x)
    xc = x.clamp(0, 1)
    luma = (xc * torch.tensor(_LUMA, device=dev, dtype=dt).view(1, c, 1, 1)).sum(1, keepdim=True)
    for pick, src in ((noisy & ~gaussian & ~gray, xc), (noisy & ~gaussian & gray, luma)):
        if bool(pick.any()):
            idx = pick.to(dev)
            s = src[idx]
            shot = torch.poisson(s * _POISSON_VALS, generator=ng) / _POISSON_VALS - s
            pois[idx] = shot * pscale.to(dev, dt)[idx].view(-1, 1, 1, 1)

    noise = torch.where(per_image(gaussian), gauss, pois)
    return (x + torch.where(per_image(noisy), noise, torch.zeros_like(noise))).clamp(0, 1)


def _random_jpeg(
    x: torch.Tensor, quality_range: tuple[float, float], cfg: DegradeConfig, g: torch.Generator
) -> torch.Tensor:
    """JPEG per image with a random quality, each with probability jpeg_prob."""
    n = x.shape[0]
    use, q = _coin(n, cfg.jpeg_prob, g), _uniform(n, quality_range, g)
    x = x.clamp(0, 1)
    if not bool(use.any()):
        return x
    if bool(use.all()):
        return jpeg(x, q.to(x.device))
    out = x.clone()
    idx = use.nonzero().squeeze(1).to(x.device)
    out[idx] = jpeg(x[idx], q.to(x.device)[idx])
    return out


# ---------------------------------------------------------------------------------------------
# the pipeline


@torch.no_grad()
def degrade(
    hr: torch.Tensor, scale: int, generator: torch.Generator, cfg: DegradeConfig | None = None
) -> torch.Tensor:
    """hr (N, C, H, W) float in [-1, 1] (C = 3) -> lr (N, C, H // scale, W // scale) in [-1, 1], clamped and
    quantised to 8-bit levels as a real image would be. Each image of the batch gets its own random
    parameters, all drawn from `generator` (a CPU torch.Generator), so the same generator seed gives the
    same output bit for bit on the CPU. Runs on hr.device (CPU or CUDA).

    Parameters are drawn on the CPU from `generator`; pixel noise is sampled on hr.device from a
    generator seeded by one draw of `generator`, so it never crosses devices.
    """
    if hr.dim() != 4 or hr.shape[1] != 3:
        raise ValueError(f"degrade takes (N, 3, H, W) images, got shape {tuple(hr.shape)}")
    if int(scale) != scale or scale < 1 or hr.shape[2] < scale or hr.shape[3] < scale:
        raise BelamyError(f"degrade scale must be a whole number from 1 to the image size, got {scale}")
    scale = int(scale)
    cfg = cfg or DegradeConfig()
    g = generator
    ng = torch.Generator(device=hr.device)
    ng.manual_seed(int(torch.randint(0, 2**62, (1,), generator=g)))
    h, w = hr.shape[-2:]
    target = (h // scale, w // scale)
    first, second = _passes(cfg)

    x = ((hr.float() + 1) / 2).clamp(0, 1)  # (N, 3, H, W) in [0, 1]
    x = _blur(x, first, cfg, g)
    x = _random_resize(x, (h, w), first, cfg, g)
    x = _noise(x, first, cfg, g, ng)
    x = _random_jpeg(x, first.jpeg_range, cfg, g)

    if cfg.second_order:
        x = _blur(x, second, cfg, g)
        x = _random_resize(x, target, second, cfg, g)  # around the target size this time
        x = _noise(x, second, cfg, g, ng)
        # the last resize + sinc and the last JPEG come in either order (both occur in real images)
        jpeg_last = bool(_coin(1, 0.5, g))
        if not jpeg_last:
            x = _random_jpeg(x, second.jpeg_range, cfg, g)
        x = _final_sinc(_final_resize(x, target, cfg, g), cfg, g)
        if jpeg_last:
            x = _random_jpeg(x, second.jpeg_range, cfg, g)
    else:
        x = _final_resize(x, target, cfg, g)

    x = torch.round(x.clamp(0, 1) * 255) / 255
    return (x * 2 - 1).to(hr.dtype)


# ---------------------------------------------------------------------------------------------
# JPEG

# The IJG (Annex K) base quantisation tables, row by row.
_Q_LUMA = (
    (16, 11, 10, 16, 24, 40, 51, 61),
    (12, 12, 14, 19, 26, 58, 60, 55),
    (14, 13, 16, 24, 40, 57, 69, 56),
    (14, 17, 22, 29, 51, 87, 80, 62),
    (18, 22, 37, 56, 68, 109, 103, 77),
    (24, 35, 55, 64, 81, 104, 113, 92),
    (49, 64, 78, 87, 103, 121, 120, 101),
    (72, 92, 95, 98, 112, 100, 103, 99),
)
_Q_CHROMA = (
    (17, 18, 24, 47, 99, 99, 99, 99),
    (18, 21, 26, 66, 99, 99, 99, 99),
    (24, 26, 56, 99, 99, 99, 99, 99),
    (47, 66, 99, 99, 99, 99, 99, 99),
    (99, 99, 99, 99, 99, 99, 99, 99),
    (99, 99, 99, 99, 99, 99, 99, 99),
    (99, 99, 99, 99, 99, 99, 99, 99),
    (99, 99, 99, 99, 99, 99, 99, 99),
)
# JFIF RGB <-> YCbCr, with Cb and Cr centred on 0: their +128 offset and JPEG's level shift cancel.
_RGB2YCC = ((0.299, 0.587, 0.114), (-0.168736, -0.331264, 0.5), (0.5, -0.418688, -0.081312))
_YCC2RGB = ((1.0, 0.0, 1.402), (1.0, -0.344136, -0.714136), (1.0, 1.772, 0.0))


def _dct_matrix(device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """(8, 8) orthonormal DCT-II matrix D: coefficients = D @ block @ D.T."""
    u = torch.arange(8, dtype=torch.float64).view(8, 1)
    x = torch.arange(8, dtype=torch.float64).view(1, 8)
    d = torch.cos((2 * x + 1) * u * math.pi / 16) * math.sqrt(2 / 8)
    d[0] = math.sqrt(1 / 8)
    return d.to(device, dtype)


def _quant_tables(quality: torch.Tensor, base: tuple[tuple[int, ...], ...]) -> torch.Tensor:
    """(N,) quality 1..100 -> (N, 8, 8) tables by the IJG formula, clamped to 1..255 (baseline)."""
    q = quality.round().clamp(1, 100).view(-1, 1, 1)
    s = torch.where(q < 50, 5000 / q, 200 - 2 * q)
    t = torch.tensor(base, dtype=q.dtype, device=q.device)
    return torch.floor((t * s + 50) / 100).clamp(1, 255)


def _code(p: torch.Tensor, table: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """p (N, C, H, W) level-shifted, H and W multiples of 8 -> the same after DCT, quantisation
    with table (N, 8, 8), rounding, dequantisation and IDCT, block by block."""
    n, c, h, w = p.shape
    blocks = p.view(n, c, h // 8, 8, w // 8, 8).transpose(3, 4)  # (N, C, H/8, W/8, 8, 8)
    coef = d @ blocks @ d.T
    t = table.view(n, 1, 1, 1, 8, 8)
    coef = torch.round(coef / t) * t
    return (d.T @ coef @ d).transpose(3, 4).reshape(n, c, h, w)


def jpeg(x: torch.Tensor, quality: torch.Tensor) -> torch.Tensor:
    """Simulated baseline JPEG on tensors: x (N, 3, H, W) in [0, 1], quality (N,) in 1..100 -> (N,3,H,W) in [0,1].
    RGB -> YCbCr (JFIF), 4:2:0 chroma subsampling, 8x8 block DCT (as a matmul with the DCT matrix), quantisation with the
    standard IJG luminance/chrominance tables scaled by quality (IJG formula), rounding, dequantisation, IDCT, chroma
    upsampling, back to RGB. Pads H, W to a multiple of 16 by replication and crops back."""
    h, w = x.shape[-2:]
    dev, dt = x.device, x.dtype
    quality = quality.to(dev, dt)
    xp = F.pad(x * 255, (0, (-w) % 16, 0, (-h) % 16), mode="replicate")  # (N, 3, H16, W16)
    ycc = torch.einsum("ij,njhw->nihw", torch.tensor(_RGB2YCC, device=dev, dtype=dt), xp)
    y, cbcr = ycc[:, :1], F.avg_pool2d(ycc[:, 1:], 2)  # 4:2:0: chroma at half size
    d = _dct_matrix(dev, dt)
    y = _code(y - 128, _quant_tables(quality, _Q_LUMA), d) + 128
    cbcr = _code(cbcr, _quant_tables(quality, _Q_CHROMA), d)
    # bilinear, like libjpeg's default ("fancy") chroma upsampling
    cbcr = F.interpolate(cbcr, scale_factor=2, mode="bilinear", align_corners=False)
    rgb = torch.einsum("ij,njhw->nihw", torch.tensor(_YCC2RGB, device=dev, dtype=dt), torch.cat([y, cbcr], 1))
    return (rgb[:, :, :h, :w] / 255).clamp(0, 1)
