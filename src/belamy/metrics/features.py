"""Feature spaces for KID, FID, precision/recall and originality.

Why two: the standard Inception-v3 features (what published FID/KID figures use) need weights
downloaded from the internet, which many machines (and this project's CI) cannot fetch. So the
default is `belamy-rand-v1`, a fixed random convolutional network that needs no weights at all:
its weights are drawn from a seeded generator, so every install computes the same features.
Random conv features are a recognised stand-in for trained ones when comparing image sets
(Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative Models", sec. 4.1):
they do not know what a face is, but they respond to colour, texture and layout at every scale,
which is what a GAN gets wrong first. Numbers in one feature space never compare with another's;
every result names its space.

A feature extractor maps uint8 (N, H, W, 3) images to float32 (N, D) features:

    fx = random_features()
    fx.name, fx.dim        # 'belamy-rand-v1', 1993
    feats = fx(images)     # (N, 1993) float32 torch tensor on the CPU
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from belamy.core.errors import BelamyError, require

RAND_NAME = "belamy-rand-v1"
INCEPTION_NAME = "inception-v3-compat"
INCEPTION_WEIGHTS = "weights-inception-2015-12-05-6726825d.pth"
INCEPTION_URL = f"https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/{INCEPTION_WEIGHTS}"
WEIGHTS_ENV = "BELAMY_INCEPTION_WEIGHTS"


class FeatureExtractor(Protocol):
    name: str
    dim: int

    def __call__(self, images: Any) -> Tensor: ...


def as_uint8_nhwc(images: Any) -> Tensor:
    """Accept a uint8 (N, H, W, 3) numpy array (memory-maps too: copied) or tensor."""
    t = torch.from_numpy(np.array(images, copy=True)) if isinstance(images, np.ndarray) else images
    if not isinstance(t, Tensor) or t.dtype != torch.uint8 or t.ndim != 4 or t.shape[-1] != 3:
        shape = tuple(getattr(images, "shape", ()))
        raise ValueError(f"expected uint8 images of shape (N, H, W, 3), got {getattr(images, 'dtype', type(images))} {shape}")
    return t


def chunks(images: Any, batch: int):
    """uint8 (N, H, W, 3) chunks of at most `batch` images as CPU tensors: a memory-mapped
    collection is read a chunk at a time, so memory stays bounded for large collections."""
    for i in range(0, len(images), batch):
        yield as_uint8_nhwc(images[i:i + batch])


class RandomConvNet(nn.Module):
    """Four stages of a 4x4 stride-2 conv + ReLU with fixed, seeded He-normal weights.

    Input (N, 3, 64, 64) in [-1, 1]; stage outputs are 32, 16, 8 and 4 px. Nine feature blocks:
    per stage the channel means and the channel standard deviations over space (colour and
    texture statistics at four scales), and the last stage average-pooled to 2x2 (coarse layout).

    Each block is scaled to unit RMS (direction only), and the nine blocks' log RMS values are
    appended with weight `NORM_WEIGHT`. Why: raw, one block's magnitude (the mean activations,
    driven by the image's colours) swamps the others in KID's dot-product kernel, so shuffling an
    image's pixels barely moved KID; normalised, every scale counts. The log norms keep what
    normalising would lose: with zero biases the network is positively homogeneous, so contrast
    lives only in the norms. Strided convs rather than conv + pool: 53 MFLOP per image, small
    activations.
    """

    widths = (32, 64, 128, 256)
    NORM_WEIGHT = 4.0

    def __init__(self, seed: int = 0xBE1A) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        convs, cin = [], 3
        for cout in self.widths:
            # skip_init: no default initialisation, so building this never draws from (and
            # changes) torch's global random state, which a training run checkpoints
            conv = torch.nn.utils.skip_init(nn.Conv2d, cin, cout, 4, stride=2, padding=1)
            with torch.no_grad():
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=g) * (2.0 / (cin * 16)) ** 0.5)
                conv.bias.zero_()
            convs.append(conv)
            cin = cout
        self.convs = nn.ModuleList(convs)
        self.requires_grad_(False).eval()

    @property
    def dim(self) -> int:
        return 2 * sum(self.widths) + 4 * self.widths[-1] + 2 * len(self.widths) + 1

    def forward(self, x: Tensor) -> Tensor:
        blocks = []
        for conv in self.convs:
            x = F.relu(conv(x))  # (N, C, H/2, W/2)
            blocks += [x.mean(dim=(2, 3)), x.std(dim=(2, 3))]
        blocks.append(F.adaptive_avg_pool2d(x, 2).flatten(1))  # (N, 4C): layout
        rms = torch.stack([b.pow(2).mean(dim=1).sqrt() for b in blocks], dim=1)  # (N, 9)
        unit = [b / (r[:, None] + 1e-8) for b, r in zip(blocks, rms.unbind(1))]
        return torch.cat(unit + [self.NORM_WEIGHT * torch.log(rms + 1e-6)], dim=1)


@dataclass
class RandomFeatures:
    """`belamy-rand-v1`: images resized to 64x64 (area/bilinear), scaled to [-1, 1], through the
    fixed random network; deterministic on every machine that reproduces torch's CPU generator
    (checked by `fingerprint`, stored with every result)."""

    net: RandomConvNet
    name: str = RAND_NAME
    size: int = 64
    batch: int = 256

    @property
    def dim(self) -> int:
        return self.net.dim

    @property
    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for p in self.net.parameters():
            h.update(p.detach().cpu().numpy().tobytes())
        return h.hexdigest()[:12]

    @torch.no_grad()
    def __call__(self, images: Any) -> Tensor:
        # channels_last: ~3x faster first conv on CPUs (3 input channels)
        out = [self.net(resize_unit(c, self.size).contiguous(memory_format=torch.channels_last))
               for c in chunks(images, self.batch)]
        return torch.cat(out) if out else torch.zeros(0, self.dim)


def resize_unit(chunk: Tensor, size: int) -> Tensor:
    """uint8 (N, H, W, 3) -> float32 (N, 3, size, size) in [-1, 1] (area down, bilinear up)."""
    x = chunk.permute(0, 3, 1, 2).float() / 127.5 - 1.0
    if x.shape[-2:] != (size, size):
        down = x.shape[-1] > size
        x = F.interpolate(x, size=(size, size), mode="area" if down else "bilinear",
                          **({} if down else {"align_corners": False}))
    return x


def random_features() -> RandomFeatures:
    return RandomFeatures(RandomConvNet())


@dataclass
class NetworkFeatures:
    """Features from a network that takes uint8 (N, 3, H, W) and returns (N, D) or a tuple whose
    first item is (N, D) — torch-fidelity's Inception interface."""

    network: Callable[[Tensor], Any]
    name: str
    dim: int
    batch: int = 64
    device: str = "cpu"

    @torch.no_grad()
    def __call__(self, images: Any) -> Tensor:
        out = []
        for chunk in chunks(images, self.batch):
            y = self.network(chunk.permute(0, 3, 1, 2).contiguous().to(self.device))
            y = y[0] if isinstance(y, (tuple, list)) else y
            out.append(y.reshape(y.shape[0], -1).float().cpu())
        return torch.cat(out) if out else torch.zeros(0, self.dim)


def inception_weights_path() -> Path:
    """Where torch-fidelity keeps the Inception weights (or $BELAMY_INCEPTION_WEIGHTS)."""
    if os.environ.get(WEIGHTS_ENV):
        return Path(os.environ[WEIGHTS_ENV])
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_WEIGHTS


def inception_features(network: Callable[[Tensor], Any] | None = None, dim: int = 2048,
                       name: str = INCEPTION_NAME, device: str = "cpu") -> NetworkFeatures:
    """The standard FID/KID feature space (Inception-v3 pool3, 2048-d) through torch-fidelity.

    `network` replaces the Inception network (tests inject a tiny local one). Without it this
    needs the `fid` extra and the weights file on disk; it never downloads anything, and says in
    one line what is missing.
    """
    if network is None:
        fidelity = require("torch_fidelity", "fid")
        path = inception_weights_path()
        if not path.is_file():
            raise BelamyError(f"the Inception weights are missing ({path}): download {INCEPTION_URL} there "
                              f"(or set {WEIGHTS_ENV}), or use --features rand")
        network = fidelity.FeatureExtractorInceptionV3(INCEPTION_NAME, ["2048"], feature_extractor_weights_path=str(path))
        network.eval().to(device)
    return NetworkFeatures(network, name, dim, device=device)


FEATURE_SPACES = {"rand": random_features, "inception": inception_features}


def get_features(space: "str | FeatureExtractor") -> FeatureExtractor:
    """A feature space by name ('rand', 'inception'), or an extractor object passed through."""
    if not isinstance(space, str):
        return space
    if space not in FEATURE_SPACES:
        raise BelamyError(f"unknown feature space '{space}': use {' or '.join(FEATURE_SPACES)}")
    return FEATURE_SPACES[space]()
