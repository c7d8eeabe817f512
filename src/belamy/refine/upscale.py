"""Tiled super-resolution: any size of image through a fully convolutional upscaler in bounded memory.

The image is cut into `tile`-square tiles, each run through the generator with `overlap` pixels of
context on every side, and the context's output is cropped off. At the image border a tile just
has less context, so the generator pads exactly where it pads on the whole image: with `overlap`
at least the generator's receptive-field radius the tiled result equals the untiled one. Tiles go
out a row at a time as strips (see `belamy.core.png_stream`), so memory is bounded by one strip
of the output, never the whole image. An alpha channel is not the generator's business: it is
upscaled bicubically, tile by tile with the same cropping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from belamy.core.errors import BelamyError

_MIN_TILE = 16
_ALPHA_CONTEXT = 2  # bicubic reads two source pixels either side


@dataclass
class TileConfig:
    tile: int = 256  # input tile side in low-res pixels (0: the whole image as one tile)
    overlap: int = 16  # low-res pixels of context on each side of a tile, cropped off after upscaling


def upscale_strips(
    G: torch.nn.Module,
    image: np.ndarray,
    tiles: TileConfig,
    device: torch.device | str = "cpu",
    progress: Callable[[int], None] | None = None,
) -> Iterator[np.ndarray]:
    """(H, W, 3|4) uint8 -> output strips (up to tile*scale rows, W*scale, channels) uint8, top to bottom.

    Each strip is one row of tiles. G must already be on `device`; it runs in float32 under
    no_grad, in eval mode (its mode is restored afterwards). `progress(n_tiles_done)` is called
    after each tile. Bad arguments raise BelamyError here, before any strip is made.
    """
    _check(image, tiles)
    scale = _scale(G)
    return _strips(G, image, tiles, scale, torch.device(device), progress)


def upscale_array(
    G: torch.nn.Module, image: np.ndarray, tiles: TileConfig, device: torch.device | str = "cpu"
) -> np.ndarray:
    """The whole upscaled image, (H*scale, W*scale, channels) uint8, for images that fit in memory."""
    return np.concatenate(list(upscale_strips(G, image, tiles, device)), axis=0)


def tile_count(height: int, width: int, tiles: TileConfig) -> int:
    """How many tiles (generator forwards) an image of height x width low-res pixels takes."""
    _check_tiles(tiles)
    if tiles.tile == 0:
        return 1
    return -(-height // tiles.tile) * -(-width // tiles.tile)


def _strips(
    G: torch.nn.Module,
    image: np.ndarray,
    tiles: TileConfig,
    s: int,
    device: torch.device,
    progress: Callable[[int], None] | None,
) -> Iterator[np.ndarray]:
    H, W, C = image.shape
    t = tiles.tile or max(H, W)
    alpha_ctx = max(tiles.overlap, _ALPHA_CONTEXT)

    def rgb(x: torch.Tensor) -> torch.Tensor:
        return G(x.to(device)).float().cpu()

    def alpha(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=s, mode="bicubic", align_corners=False).clamp(-1.0, 1.0)

    was_training = G.training
    G.eval()
    done = 0
    try:
        with torch.no_grad():
            for y0 in range(0, H, t):
                y1 = min(y0 + t, H)
                strip = np.empty(((y1 - y0) * s, W * s, C), np.uint8)
                for x0 in range(0, W, t):
                    box = (y0, y1, x0, min(x0 + t, W))
                    out = strip[:, x0 * s : box[3] * s]
                    out[..., :3] = _tile(image[..., :3], box, tiles.overlap, s, rgb, "RGB")
                    if C == 4:
                        out[..., 3:] = _tile(image[..., 3:], box, alpha_ctx, s, alpha, "alpha")
                    done += 1
                    if progress is not None:
                        progress(done)
                yield strip
    finally:
        G.train(was_training)


def _tile(
    plane: np.ndarray,
    box: tuple[int, int, int, int],
    ctx: int,
    s: int,
    fn: Callable[[torch.Tensor], torch.Tensor],
    what: str,
) -> np.ndarray:
    """Cut box plus `ctx` px of context (less at the border), upscale with `fn`, crop the context off."""
    H, W = plane.shape[:2]
    y0, y1, x0, x1 = box
    ya, yb, xa, xb = max(0, y0 - ctx), min(H, y1 + ctx), max(0, x0 - ctx), min(W, x1 + ctx)
    x = torch.from_numpy(plane[ya:yb, xa:xb].copy()).permute(2, 0, 1)[None]
    y = fn(x.float() / 127.5 - 1.0)
    want = (1, x.shape[1], (yb - ya) * s, (xb - xa) * s)
    if tuple(y.shape) != want:
        raise BelamyError(
            f"the upscaler turned a {tuple(x.shape)} {what} tile into {tuple(y.shape)}, "
            f"not {want} (scale {s}): it must be fully convolutional and scale by exactly {s}"
        )
    y = y[0, :, (y0 - ya) * s : (y1 - ya) * s, (x0 - xa) * s : (x1 - xa) * s]
    return ((y + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def _scale(G: torch.nn.Module) -> int:
    scale = getattr(G, "scale", None)
    if not isinstance(scale, int) or isinstance(scale, bool) or scale < 1:
        raise BelamyError(f"the upscaler has no usable integer `scale` attribute (got {scale!r})")
    return scale


def _check_tiles(tiles: TileConfig) -> None:
    if tiles.tile != 0 and tiles.tile < _MIN_TILE:
        raise BelamyError(f"tile {tiles.tile} is too small: use 0 (whole image) or at least {_MIN_TILE}")
    if tiles.overlap < 0:
        raise BelamyError(f"overlap {tiles.overlap} is negative: use 0 or more pixels of context")


def _check(image: np.ndarray, tiles: TileConfig) -> None:
    _check_tiles(tiles)
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        got = image.dtype if isinstance(image, np.ndarray) else type(image).__name__
        raise BelamyError(f"the image to upscale must be a uint8 array, not {got}")
    if image.ndim != 3 or image.shape[2] not in (3, 4) or min(image.shape[:2]) < 1:
        raise BelamyError(f"the image to upscale must be H x W x 3 (RGB) or 4 (RGBA), not {image.shape}")
