"""What the taste model sees of a render: fixed image features, and its W latent when the run is here.

Image features are fixed (nothing is trained on the artist's few ratings but the final ridge
layer): colour means and spreads in RGB and in a luminance/chroma split, a 4x4 grid of luminance,
edge strength and its spread, saturation, and an 8-bin hue histogram, all from a 64 px copy, so a
render costs a few milliseconds once and is cached by its sha256. The W latent (the mapping
network's output, which StyleGAN's styles are made from) is recomputed from the record's seed or
latent with the run's own generator; renders whose run is absent, or any run that has no latents,
get zeros there, and the model falls back to the image features.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

IMAGE_DIM = 6 + 6 + 16 + 2 + 2 + 8


def image_features(path: Path) -> np.ndarray:
    """A fixed vector of IMAGE_DIM numbers describing the picture (colour, layout, edges, hue)."""
    with Image.open(path) as im:
        small = np.asarray(im.convert("RGB").resize((64, 64), Image.Resampling.BILINEAR), np.float64) / 255.0
        hsv = np.asarray(im.convert("RGB").resize((64, 64)).convert("HSV"), np.float64) / 255.0
    rgb = small.reshape(-1, 3)
    lum = small @ np.array([0.299, 0.587, 0.114])
    chroma = np.stack([small[..., 0] - lum, small[..., 2] - lum, hsv[..., 1]], -1).reshape(-1, 3)
    layout = lum.reshape(4, 16, 4, 16).mean((1, 3)).ravel()
    gy, gx = np.gradient(lum)
    edges = np.hypot(gx, gy)
    hue = np.histogram(hsv[..., 0], bins=8, range=(0, 1), weights=hsv[..., 1])[0]
    hue = hue / (hue.sum() + 1e-8)
    return np.concatenate([rgb.mean(0), rgb.std(0), chroma.mean(0), chroma.std(0), layout,
                           [edges.mean(), edges.std()], [hsv[..., 1].mean(), hsv[..., 2].std()], hue])


class Features:
    """Feature vectors by sha256, cached in memory; W latents per run, computed on first use."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._image: dict[str, np.ndarray] = {}
        self._w: dict[tuple[str, str], np.ndarray | None] = {}
        self._runs: dict[str, Any] = {}
        self._lock = threading.Lock()

    def image(self, sha: str, path: Path, allowed: Callable[[Path], bool]) -> np.ndarray | None:
        with self._lock:
            if sha in self._image:
                return self._image[sha]
        if not allowed(path):
            return None
        try:
            vec = image_features(path)
        except Exception:  # noqa: BLE001 - an undecodable render has no features, it is not ranked
            return None
        with self._lock:
            self._image[sha] = vec
        return vec

    def _generator(self, run_path: str) -> Any:
        if run_path not in self._runs:
            try:
                from belamy.generate.latents import latent_generator
                from belamy.models.run import Run

                run = Run.open(run_path)
                self._runs[run_path] = (run, latent_generator(run, self.device))
            except Exception:  # noqa: BLE001 - no run, or one without latents: image features only
                self._runs[run_path] = None
        return self._runs[run_path]

    def w(self, run_path: str | None, latent: int | dict[str, Any] | None) -> np.ndarray | None:
        """The render's mean W vector (w_dim numbers), or None when it cannot be recomputed."""
        if not run_path or latent is None:
            return None
        key = (run_path, json.dumps(latent, sort_keys=True, default=str))
        with self._lock:
            if key in self._w:
                return self._w[key]
            found = self._generator(run_path)
            vec = None
            if found is not None:
                try:
                    import torch

                    from belamy.generate.latents import resolve

                    run, G = found
                    spec = {"seed": latent} if isinstance(latent, int) else latent
                    with torch.no_grad():
                        vec = resolve(spec, G, run).ws.float().mean(0).cpu().numpy().astype(np.float64)
                except Exception:  # noqa: BLE001 - a latent that does not resolve: image features only
                    vec = None
            self._w[key] = vec
            return vec
