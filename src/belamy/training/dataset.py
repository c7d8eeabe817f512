"""The training data: the whole collection in memory as uint8, batches drawn by a pure function.

Collections are small (100 to 20,000 images), so they live in RAM (as uint8, 4x smaller than
float) and batches are gathered with one index operation: no per-image Python in the step, no
loader workers. The data order is a pure function of (seed, epoch), so resuming needs only the
epoch and the cursor, and every rank computes the same global batch and takes its own slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from belamy.core.resize import resize_uint8
from belamy.core.seeds import mix
from belamy.data.collection import Collection


@dataclass
class Cursor:
    """Position in the data order; saved in checkpoints."""

    epoch: int = 0
    index: int = 0


class Dataset:
    """(N, 3, R, R) uint8 images on the training device, resized once to the model resolution.

    With `crop`, the images keep their own size S >= R and each batch is a random R x R crop of
    each image (super-resolution learns from the collection's real pixels, never resized ones).
    With `jitter` (pix2pix's random jitter), each image of a batch is scaled up by 1 + jitter and
    cropped back to R x R at a random place: all its channels alike, so a pair stays aligned.
    """

    def __init__(self, images: np.ndarray, resolution: int, device: torch.device, seed: int, mirror: bool,
                 crop: bool = False, jitter: float = 0.0) -> None:
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)  # (N, 3, S, S) uint8
        self.crop = resolution if crop and x.shape[-1] != resolution else 0
        if x.shape[-1] != resolution and not self.crop:
            x = resize_uint8(x, resolution)
        self.images = x.contiguous().to(device)
        self.seed = seed
        self.mirror = mirror
        self.jitter = round(resolution * (1.0 + jitter)) if jitter > 0 else 0  # the scaled size
        self._perm_epoch = -1
        self._perm: torch.Tensor | None = None

    @classmethod
    def from_collection(cls, coll: Collection, resolution: int, device: torch.device, seed: int,
                        mirror: bool = True, crop: bool = False, jitter: float = 0.0) -> "Dataset":
        return cls(coll.load(), resolution, device, seed, mirror, crop, jitter)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def _order(self, epoch: int) -> torch.Tensor:
        if epoch != self._perm_epoch:
            g = torch.Generator().manual_seed(mix(self.seed, 0xDA7A, epoch))
            self._perm = torch.randperm(len(self), generator=g)
            self._perm_epoch = epoch
        assert self._perm is not None
        return self._perm

    def global_indices(self, cursor: Cursor, batch: int) -> tuple[torch.Tensor, Cursor]:
        """The next `batch` indices in the data order and the advanced cursor."""
        out = []
        epoch, index = cursor.epoch, cursor.index
        need = batch
        while need > 0:
            perm = self._order(epoch)
            take = perm[index:index + need]
            out.append(take)
            need -= len(take)
            index += len(take)
            if index >= len(perm):
                epoch, index = epoch + 1, 0
        return torch.cat(out), Cursor(epoch, index)

    def batch(self, indices: torch.Tensor, step: int, rows: slice) -> torch.Tensor:
        """Float images in [-1, 1] for this rank's `rows` of the global batch, jittered and x-flipped
        by seeded draws (functions of the step, so resume and every rank agree)."""
        idx = indices[rows]
        x = self.images[idx.to(self.images.device)]  # (B, 3, S, S) uint8
        if self.crop:
            g = torch.Generator().manual_seed(mix(self.seed, 0xC809, step))
            at = torch.randint(0, x.shape[-1] - self.crop + 1, (len(indices), 2), generator=g)[rows].tolist()
            x = torch.stack([im[:, i:i + self.crop, j:j + self.crop] for im, (i, j) in zip(x, at)])
        x = x.float().div_(127.5).sub_(1.0)  # (B, C, R, R)
        if self.jitter:
            g = torch.Generator().manual_seed(mix(self.seed, 0x7177, step))
            r, big = x.shape[-1], self.jitter
            at = torch.randint(0, big - r + 1, (len(indices), 2), generator=g)[rows].tolist()
            x = F.interpolate(x, size=(big, big), mode="bilinear", align_corners=False)  # (B, C, big, big)
            x = torch.stack([im[:, i:i + r, j:j + r] for im, (i, j) in zip(x, at)])  # (B, C, R, R)
        if self.mirror:
            g = torch.Generator().manual_seed(mix(self.seed, 0xF11B, step))
            flip = (torch.rand(len(indices), generator=g) < 0.5)[rows].to(x.device)
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
        return x
