"""`belamy mix`: style mixing, coarse, middle and fine layers of one portrait from different latents.

A StyleGAN2 generator takes one w per synthesis layer; the coarse layers (4-8 px) set pose and head
shape, the middle ones (16-32 px) the features, the fine ones (64 px and up) colour and texture
(Karras et al. 2019). A mix is a base latent with some layer ranges taken from donors; it is an
ordinary latent spec (`{"base": SPEC, "mix": [{"layers": [a, b], "latent": SPEC}, ...]}`, see
`latents`), so its render's record re-renders it exactly and it can be bookmarked like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from belamy.core.device import pick_device
from belamy.core.errors import BelamyError
from belamy.generate.latent_files import Latent, save_bookmark
from belamy.generate.latents import latent_generator, parse_layers, resolve
from belamy.generate.records import RECORD_SUFFIX
from belamy.generate.sample import render_latents
from belamy.models.run import Run


@dataclass
class Mix:
    """A written mix: the PNG, its record, the latent (its spec is the record's) and the pixels."""
    render: Path
    record: Path
    latent: Latent
    image: np.ndarray  # (H, W, 3) uint8
    bookmark: Path | None = None  # the bookmark's latent file, when one was asked for


def mix_spec(base: dict[str, Any], parts: Sequence[tuple[str, dict[str, Any]]], G: torch.nn.Module
             ) -> dict[str, Any]:
    """The spec of a mix for generator G: `base`, with each (layers, latent spec) of `parts` taking
    those layers; layers are 'coarse', 'middle', 'fine', '0-3' (inclusive) or '5'."""
    if not parts:
        raise BelamyError("nothing to mix: give --coarse, --middle, --fine or --layers 0-3=SEED")
    return {"base": base,
            "mix": [{"layers": list(parse_layers(layers, G.num_ws, G.resolution)), "latent": spec}
                    for layers, spec in parts]}


def mix(run: Run, base: dict[str, Any], parts: Sequence[tuple[str, dict[str, Any]]], out: Path,
        truncation: float = 1.0, device: str = "auto", bookmark: str | None = None) -> Mix:
    """Render the mix of `base` and `parts` (see `mix_spec`) to `out` (PNG + record beside it), and
    with `bookmark` also keep it as that bookmark."""
    G = latent_generator(run, pick_device(device))
    out = Path(out)
    latent = resolve(mix_spec(base, parts, G), G, run)
    paths, images = render_latents(run, G, [latent], [out.stem], out.parent, truncation, "const", "mix")
    kept = save_bookmark(run, bookmark, latent) if bookmark else None
    return Mix(render=paths[0], record=paths[0].with_name(paths[0].stem + RECORD_SUFFIX), latent=latent,
               image=images[0], bookmark=kept)
