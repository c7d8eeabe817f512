"""Sliced Wasserstein distance (SWD) over Laplacian-pyramid patches.

Why: FID and friends need pretrained Inception weights fetched from the internet; SWD is a
quality measure that needs no downloaded weights at all, only the two image sets. It compares the
distributions of local 7x7 patches at every scale of a Laplacian pyramid, so it sees both fine
texture (finest level) and coarse structure (coarsest level).

Reference: T. Karras, T. Aila, S. Laine, J. Lehtinen, "Progressive Growing of GANs for Improved
Quality, Stability, and Variation", ICLR 2018, appendix D (and `metrics/sliced_wasserstein.py`
of the official code release).

Procedure, per pyramid level (finest first, down to `min_res` pixels):
  1. take `patches_per_image` random 7x7 patches from every image -> descriptors of 3*7*7 values;
  2. normalise every colour channel of each set with that set's own mean and std, as the official
     code does (the default, so figures compare with published ones); ``normalize="real"``
     applies the real set's statistics to both, which also catches global colour/contrast shifts;
  3. sliced Wasserstein distance: project both sets on `dirs` random unit directions, sort the
     projections, take the mean absolute difference; average over `repeats` draws.
Values are multiplied by 1e3, as in the paper's tables; "mean" averages the levels.

Differences from the official code, both deliberate: patch positions (0..size-7 inclusive) are
drawn once per level and shared by the two sets ("common random numbers": identical sets give
exactly 0, and the variance of a comparison drops; positions never depend on image content), and
all randomness comes from one `torch.Generator` seeded with `seed`, so results are reproducible.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["laplacian_pyramid", "patch_descriptors", "sliced_wasserstein", "swd"]

PATCH = 7
_BINOMIAL = (1.0, 4.0, 6.0, 4.0, 1.0)


def _kernel(x: Tensor, gain: float = 1.0) -> tuple[Tensor, Tensor]:
    k = torch.tensor(_BINOMIAL, dtype=x.dtype, device=x.device)
    k = k / k.sum() * (gain**0.5)
    return k.view(1, 1, 1, 5), k.view(1, 1, 5, 1)


def _blur(x: Tensor, stride: int = 1, gain: float = 1.0) -> Tensor:
    """Separable 5x5 binomial blur of (N, C, H, W), mirror ("reflect") borders."""
    n, c, h, w = x.shape
    kx, ky = _kernel(x, gain)
    y = x.reshape(n * c, 1, h, w)
    y = F.conv2d(F.pad(y, (2, 2, 0, 0), mode="reflect"), kx, stride=(1, stride))
    y = F.conv2d(F.pad(y, (0, 0, 2, 2), mode="reflect"), ky, stride=(stride, 1))
    return y.reshape(n, c, y.shape[-2], y.shape[-1])


def _down(x: Tensor) -> Tensor:
    return _blur(x, stride=2)


def _up(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Zero-insertion 2x upsampling then blur with gain 4, cropped to `size` (H, W)."""
    n, c, h, w = x.shape
    z = x.new_zeros(n, c, 2 * h, 2 * w)
    z[:, :, ::2, ::2] = x
    return _blur(z, gain=4.0)[:, :, : size[0], : size[1]]


def laplacian_pyramid(x: Tensor, levels: int) -> list[Tensor]:
    """Laplacian pyramid of float (N, C, H, W), finest first; the last entry is the coarsest
    Gaussian level (not a difference). Level i has size ceil(H / 2**i) x ceil(W / 2**i)."""
    if x.ndim != 4:
        raise ValueError(f"laplacian_pyramid expects (N, C, H, W), got shape {tuple(x.shape)}")
    if levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")
    if min(x.shape[-2:]) < 3 * 2 ** (levels - 2) and levels > 1:
        raise ValueError(f"image {tuple(x.shape[-2:])} too small for {levels} pyramid levels")
    pyramid = [x]
    for _ in range(1, levels):
        down = _down(pyramid[-1])
        pyramid[-1] = pyramid[-1] - _up(down, pyramid[-1].shape[-2:])
        pyramid.append(down)
    return pyramid


def patch_descriptors(
    level: Tensor, per_image: int, generator: torch.Generator | None = None
) -> Tensor:
    """`per_image` random 7x7 patches from every image of (N, C, H, W) -> (N*per_image, C*7*7).

    Positions are uniform over all patches lying fully inside the image; they are drawn on the
    generator's device (CPU for a default generator) and are independent of the pixels."""
    n, c, h, w = level.shape
    if h < PATCH or w < PATCH:
        raise ValueError(f"level {h}x{w} is smaller than a {PATCH}x{PATCH} patch")
    gdev = generator.device if generator is not None else torch.device("cpu")
    ys = torch.randint(0, h - PATCH + 1, (n, per_image), generator=generator, device=gdev)
    xs = torch.randint(0, w - PATCH + 1, (n, per_image), generator=generator, device=gdev)
    ys, xs = ys.to(level.device), xs.to(level.device)
    off = torch.arange(PATCH, device=level.device)
    rows = (ys[:, :, None] + off)[:, :, :, None]  # (N, P, 7, 1)
    cols = (xs[:, :, None] + off)[:, :, None, :]  # (N, P, 1, 7)
    idx = torch.arange(n, device=level.device)[:, None, None, None]
    patches = level[idx, :, rows, cols]  # advanced dims first: (N, P, 7, 7, C)
    return patches.permute(0, 1, 4, 2, 3).reshape(n * per_image, c * PATCH * PATCH)


def sliced_wasserstein(
    a: Tensor,
    b: Tensor,
    dirs: int = 512,
    repeats: int = 4,
    generator: torch.Generator | None = None,
) -> float:
    """Sliced Wasserstein-1 distance between two equal-size point sets (M, D): `dirs` random unit
    directions per repeat, sorted 1-D projections, mean |difference|, averaged over `repeats`."""
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(
            f"need two (M, D) tensors of equal shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    gdev = generator.device if generator is not None else torch.device("cpu")
    results = []
    for _ in range(repeats):
        d = torch.randn(a.shape[1], dirs, generator=generator, device=gdev, dtype=torch.float32)
        d = (d / d.norm(dim=0, keepdim=True)).to(device=a.device, dtype=a.dtype)
        pa = (d.T @ a.T).contiguous()  # (dirs, M): each row is one direction's projections
        pb = (d.T @ b.T).contiguous()
        if pa.device.type == "cpu":
            # numpy's SIMD quicksort is ~2x torch's on CPU and releases the GIL: two threads each
            # sort half of the directions in place and sum |difference| (float32 pairwise sums).
            na, nb = pa.numpy(), pb.numpy()
            half = (dirs + 1) // 2

            def work(rows: slice) -> float:
                ra, rb = na[rows], nb[rows]
                ra.sort(axis=1)
                rb.sort(axis=1)
                np.subtract(ra, rb, out=ra)
                np.abs(ra, out=ra)
                return float(ra.sum(dtype=np.float32))

            with ThreadPoolExecutor(2) as pool:
                total = sum(pool.map(work, (slice(0, half), slice(half, dirs))))
            results.append(total / pa.numel())
        else:
            pa, pb = torch.sort(pa, dim=1).values, torch.sort(pb, dim=1).values
            results.append(float((pa - pb).abs().mean(dtype=torch.float64)))
    return float(np.mean(results))


def _to_nchw(images: Any, name: str, device: torch.device | str | None) -> Tensor:
    """uint8 (N, H, W, 3) array/tensor -> float32 (N, 3, H, W) in [-1, 1]; float NCHW passes."""
    t = torch.from_numpy(np.ascontiguousarray(images)) if isinstance(images, np.ndarray) else images
    if not isinstance(t, Tensor):
        raise TypeError(
            f"{name}: expected a numpy array or torch tensor, got {type(images).__name__}"
        )
    if t.ndim != 4:
        raise ValueError(f"{name}: expected 4 dimensions, got shape {tuple(t.shape)}")
    if t.dtype == torch.uint8:
        if t.shape[-1] != 3:
            raise ValueError(f"{name}: uint8 images must be (N, H, W, 3), got {tuple(t.shape)}")
        t = t.permute(0, 3, 1, 2).to(torch.float32) / 127.5 - 1.0
    elif t.is_floating_point():
        if t.shape[1] != 3:
            raise ValueError(
                f"{name}: float images must be (N, 3, H, W) in [-1, 1], got {tuple(t.shape)}"
            )
        t = t.to(torch.float32)
    else:
        raise ValueError(f"{name}: dtype {t.dtype} not supported (uint8 NHWC or float NCHW)")
    return t.to(device) if device is not None else t


def swd(
    real: Any,
    fake: Any,
    *,
    patches_per_image: int = 128,
    dirs: int = 512,
    repeats: int = 4,
    min_res: int = 16,
    seed: int = 0,
    normalize: str = "each",
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """SWD x 1e3 between two image sets, per pyramid level and averaged.

    `real`, `fake`: uint8 (N, H, W, 3) (numpy or torch) or float (N, 3, H, W) in [-1, 1], same N
    and size. Returns {"<res>": value, ..., "mean": value}, finest level first, where <res> is the
    level's height (or "<h>x<w>" for non-square images); levels go down while the height and width
    are >= `min_res`. `normalize`: "each" (each set its own statistics, like the official code)
    or "real" (the real descriptors' per-channel mean/std applied to both). Deterministic given `seed`.
    """
    if normalize not in ("real", "each"):
        raise ValueError(f"normalize must be 'real' or 'each', got {normalize!r}")
    if min_res < PATCH:
        raise ValueError(f"min_res must be >= {PATCH} (the patch size), got {min_res}")
    r = _to_nchw(real, "real", device)
    f = _to_nchw(fake, "fake", device)
    if r.shape[0] != f.shape[0]:
        raise ValueError(
            f"swd needs equal sample counts: real has {r.shape[0]} images, fake has {f.shape[0]}"
        )
    if r.shape[1:] != f.shape[1:]:
        raise ValueError(
            f"image sizes differ: real {tuple(r.shape[1:])}, fake {tuple(f.shape[1:])}"
        )
    h, w = r.shape[-2:]
    sizes = []
    while h >= min_res and w >= min_res:
        sizes.append((h, w))
        h, w = (h + 1) // 2, (w + 1) // 2
    if not sizes:
        raise ValueError(f"images {tuple(r.shape[-2:])} are smaller than min_res={min_res}")

    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    out: dict[str, float] = {}
    with torch.no_grad():
        pr = laplacian_pyramid(r, len(sizes))
        pf = laplacian_pyramid(f, len(sizes))
        for (lh, lw), lr, lf in zip(sizes, pr, pf):
            state = gen.get_state()
            dr = patch_descriptors(lr, patches_per_image, gen)
            gen.set_state(state)  # same positions for both sets
            df = patch_descriptors(lf, patches_per_image, gen)
            c = lr.shape[1]
            dr = dr.view(dr.shape[0], c, -1)
            df = df.view(df.shape[0], c, -1)
            mean = dr.mean(dim=(0, 2), keepdim=True)
            std = dr.std(dim=(0, 2), keepdim=True).clamp_min(1e-8)
            if normalize == "each":
                fmean = df.mean(dim=(0, 2), keepdim=True)
                fstd = df.std(dim=(0, 2), keepdim=True).clamp_min(1e-8)
            else:
                fmean, fstd = mean, std
            dr = ((dr - mean) / std).flatten(1)
            df = ((df - fmean) / fstd).flatten(1)
            key = str(lh) if lh == lw else f"{lh}x{lw}"
            out[key] = sliced_wasserstein(dr, df, dirs=dirs, repeats=repeats, generator=gen) * 1e3
    out["mean"] = float(np.mean(list(out.values())))
    return out
