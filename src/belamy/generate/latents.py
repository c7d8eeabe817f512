"""Latents: what every explore command renders, and the JSON specs that name them.

A `Latent` is a point in W+ (one w per synthesis layer), optionally with the z it came from (so
walks can run in Z) and its own noise buffers (a projected painting needs them to look like the
painting). A *spec* is a small JSON object that resolves to the same latent again, which is what
render records store:

    {"seed": 42}                                     z of a seed, mapped
    {"family": 5, "member": 3, "spread": 0.5}        a family member (see `family_z`)
    {"family": SPEC, "member": 3, "spread": 0.5, "variation": 0}   a relative of any latent (`family_w`)
    {"bookmark": "anna", "sha256": "…"}              RUN/bookmarks/anna.safetensors
    {"file": "/abs/latent.safetensors", "sha256": "…"}  a projected latent (belamy project)
    {"mix": [{"layers": [0, 3], "latent": SPEC}, …], "base": SPEC}   style mixing

On the command line a latent is `42`, `bookmark:NAME` or a path to a `.safetensors` latent (or a
`belamy project` output folder). Truncation is not part of a latent: it is applied at render time
(`truncate`), so a bookmark can be rendered at any psi.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from belamy.core.errors import BelamyError
from belamy.core.seeds import mix, z_from_seed
from belamy.generate.latent_files import LATENT_FORMAT, Latent, load_bookmark, load_latent, save_latent, sha256_of
from belamy.models.layers import NoiseInjection
from belamy.models.run import Run

__all__ = ["EASINGS", "FAMILY_PURPOSE", "INTERPOLATIONS", "LATENT_FORMAT", "STYLE_GROUPS", "Latent", "as_spec", "check_shape",
           "family_w", "family_z", "layer_resolutions", "lerp", "load_latent", "noise_buffers",
           "parse_layers", "parse_spec", "resolve", "save_latent", "sha256_of", "slerp", "style_layers", "truncate",
           "use_noise"]

FAMILY_PURPOSE = 0xFA3  # seed of member i's own latent = mix(family, FAMILY_PURPOSE, i)


# -- maths --------------------------------------------------------------------------------------
def lerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    return a + (b - a) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: float, eps: float = 1e-6) -> torch.Tensor:
    """Spherical interpolation of whole tensors (White 2016): stays on the Gaussian shell in Z.

    Exact at both ends; falls back to lerp for (nearly) parallel vectors.
    """
    af, bf = a.flatten().double(), b.flatten().double()
    cos = (af @ bf / (af.norm() * bf.norm()).clamp_min(1e-12)).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    if omega.abs() < eps or t == 0.0:
        return lerp(a, b, t) if t != 0.0 else a.clone()
    so = torch.sin(omega)
    out = (torch.sin((1.0 - t) * omega) / so) * af + (torch.sin(t * omega) / so) * bf
    return out.to(a.dtype).reshape(a.shape)


INTERPOLATIONS: dict[str, Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]] = {
    "lerp": lerp, "slerp": slerp}

EASINGS: dict[str, Callable[[float], float]] = {
    "linear": lambda t: t,
    "ease": lambda t: 0.5 - 0.5 * math.cos(math.pi * t),  # cosine ease-in-out
    "smoothstep": lambda t: t * t * (3.0 - 2.0 * t),
    "ease-in": lambda t: t * t,
    "ease-out": lambda t: 1.0 - (1.0 - t) * (1.0 - t),
}


def truncate(ws: torch.Tensor, w_avg: torch.Tensor, psi: float, cutoff: int | None = None) -> torch.Tensor:
    """Pull ws (..., num_ws, w_dim) toward the mean w: psi=1 unchanged, 0 the average portrait.

    The same arithmetic as the generators' own `mapping(truncation_psi=...)`, so a seed rendered
    here matches `belamy sample` bit for bit.
    """
    if psi == 1.0:
        return ws
    ws = ws.clone()
    n = ws.shape[-2] if cutoff is None else cutoff
    ws[..., :n, :] = w_avg.to(ws.device, ws.dtype).lerp(ws[..., :n, :], psi)
    return ws


def family_z(family: int, member: int, spread: float, z_dim: int) -> torch.Tensor:
    """A family member: the family's z plus `spread` times the member's own z, renormalised.

    (z_f + s z_i) / sqrt(1 + s^2) is again N(0, I), so members are ordinary samples of the model:
    spread 0 gives identical twins, 0.5 siblings, 1 cousins, large spreads strangers.
    """
    zf = z_from_seed(family, z_dim)
    zi = z_from_seed(mix(family, FAMILY_PURPOSE, member), z_dim)
    return (zf + spread * zi) / math.sqrt(1.0 + spread * spread)


def family_w(head: torch.Tensor, own: torch.Tensor, w_avg: torch.Tensor, spread: float) -> torch.Tensor:
    """The same blend in W, around w_avg, for families of latents that have no z (a projected
    painting, a mix): w_avg + ((head - w_avg) + spread (own - w_avg)) / sqrt(1 + spread^2)."""
    return w_avg + ((head - w_avg) + spread * (own - w_avg)) / math.sqrt(1.0 + spread * spread)


# -- style mixing -------------------------------------------------------------------------------
def layer_resolutions(num_ws: int, resolution: int) -> list[int]:
    """The resolution each w of a StyleGAN2 drives: w0 the 4x4 conv, then two per block."""
    return [min(4 * 2 ** ((i + 1) // 2), resolution) for i in range(num_ws)]


STYLE_GROUPS = {"coarse": (4, 8), "middle": (16, 32), "fine": (64, 1 << 20)}  # Karras et al. 2019


def style_layers(group: str, num_ws: int, resolution: int) -> tuple[int, int]:
    """[start, stop) of the ws a named group (coarse 4-8 px, middle 16-32 px, fine 64 px+) drives."""
    if group not in STYLE_GROUPS:
        raise BelamyError(f"unknown style group '{group}': use coarse, middle or fine")
    if num_ws == 1:
        raise BelamyError("style mixing needs a StyleGAN2 or FastGAN run: a DCGAN generator has one latent input, no layers to mix")
    lo, hi = STYLE_GROUPS[group]
    idx = [i for i, r in enumerate(layer_resolutions(num_ws, resolution)) if lo <= r <= hi]
    if not idx:
        span = f"{lo} px and up" if group == "fine" else f"{lo}-{hi} px"
        raise BelamyError(f"a {resolution} px model has no {group} layers ({span}): use explicit --layers, e.g. 5-7")
    return idx[0], idx[-1] + 1


def parse_layers(text: str, num_ws: int, resolution: int) -> tuple[int, int]:
    """'coarse' | 'middle' | 'fine' | '0-3' (inclusive) | '5' -> [start, stop) of ws indices."""
    if text in STYLE_GROUPS:
        return style_layers(text, num_ws, resolution)
    if num_ws == 1:
        raise BelamyError("style mixing needs a StyleGAN2 or FastGAN run: a DCGAN generator has one latent input, no layers to mix")
    m = re.fullmatch(r"(\d+)(?:-(\d+))?", text.strip())
    if not m:
        raise BelamyError(f"layers '{text}' must be coarse, middle, fine or a range like 0-3")
    a, b = int(m.group(1)), int(m.group(2) or m.group(1))
    if not a <= b < num_ws:
        raise BelamyError(f"layers '{text}' out of range: this model has ws 0-{num_ws - 1}")
    return a, b + 1


# -- resolving specs ----------------------------------------------------------------------------
@torch.no_grad()
def _map(G: torch.nn.Module, z: torch.Tensor) -> torch.Tensor:
    w_avg = G.w_avg
    return G.mapping(z.unsqueeze(0).to(w_avg.device))[0].cpu()  # (num_ws, w_dim)


def parse_spec(text: str) -> dict[str, Any]:
    """A command-line latent -> its spec: '42', 'bookmark:NAME', or a latent file / project folder."""
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        return {"seed": int(text)}
    if text.startswith("bookmark:"):
        return {"bookmark": text.split(":", 1)[1]}
    p = Path(text)
    if p.suffix == ".safetensors" or p.is_dir():
        return {"file": str(p.resolve())}
    raise BelamyError(f"'{text}' is not a latent: use a seed (42), bookmark:NAME or a .safetensors file from `belamy project`")


def as_spec(latent: int | str | Path | dict[str, Any]) -> dict[str, Any]:
    """A latent as callers name it -> its spec: a seed (42), a command-line latent ('42',
    'bookmark:NAME', a latent file or project folder) or a spec already."""
    if isinstance(latent, dict):
        return latent
    if isinstance(latent, numbers.Integral) and not isinstance(latent, bool):
        return {"seed": int(latent)}
    if isinstance(latent, (str, Path)):
        return parse_spec(str(latent))
    raise BelamyError(f"{latent!r} is not a latent: use a seed (42), bookmark:NAME, a latent file or a spec")


def resolve(spec: dict[str, Any], G: torch.nn.Module, run: Run | None = None) -> Latent:
    """A spec -> the Latent it names, for generator G (bookmarks need the run)."""
    if "seed" in spec:
        z = z_from_seed(int(spec["seed"]), G.z_dim)
        return Latent(ws=_map(G, z), z=z, spec={"seed": int(spec["seed"])})
    if "family" in spec and isinstance(spec["family"], dict):  # relatives of a bookmark or projection
        head = resolve(spec["family"], G, run)
        s = {"family": head.spec, "member": int(spec["member"]), "spread": float(spec["spread"]),
             "variation": int(spec.get("variation", 0))}
        own = _map(G, z_from_seed(mix(s["variation"], FAMILY_PURPOSE, s["member"]), G.z_dim))
        return Latent(ws=family_w(head.ws, own, G.w_avg.cpu(), s["spread"]), spec=s, noise=dict(head.noise))
    if "family" in spec:
        s = {"family": int(spec["family"]), "member": int(spec["member"]), "spread": float(spec["spread"])}
        z = family_z(s["family"], s["member"], s["spread"], G.z_dim)
        return Latent(ws=_map(G, z), z=z, spec=s)
    if "bookmark" in spec:
        if run is None:
            raise BelamyError("a bookmark needs its run")
        return check_shape(_checked(load_bookmark(run, spec["bookmark"]), spec), G)
    if "file" in spec:
        return check_shape(_checked(load_latent(Path(spec["file"])), spec), G)
    if "mix" in spec:
        base = resolve(spec["base"], G, run)
        ws, parts = base.ws.clone(), []
        for part in spec["mix"]:
            a, b = part["layers"]
            donor = resolve(part["latent"], G, run)
            ws[a:b] = donor.ws[a:b]
            parts.append({"layers": [a, b], "latent": donor.spec})
        return Latent(ws=ws, spec={"base": base.spec, "mix": parts}, noise=dict(base.noise))
    raise BelamyError(f"unknown latent spec {spec}")


def _checked(latent: Latent, asked: dict[str, Any]) -> Latent:
    """A recorded sha256 must still match the file: a re-render from a changed latent would lie."""
    want = asked.get("sha256")
    if want and latent.spec.get("sha256") != want:
        raise BelamyError(f"latent {asked.get('bookmark') or asked.get('file')} changed since it was recorded (sha256 differs)")
    return latent


def check_shape(latent: Latent, G: torch.nn.Module) -> Latent:
    if tuple(latent.ws.shape) != (G.num_ws, G.w_dim):
        raise BelamyError(f"latent {latent.spec} has shape {tuple(latent.ws.shape)}, but this run's generator wants "
                          f"({G.num_ws}, {G.w_dim}): it was made with another run")
    return latent


# -- noise buffers ------------------------------------------------------------------------------
def noise_buffers(G: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The generator's const noise inputs by module name, (1, 1, r, r) each (empty for DCGAN)."""
    return {name: m.noise_const for name, m in G.named_modules() if isinstance(m, NoiseInjection)}


@contextmanager
def use_noise(G: torch.nn.Module, noise: dict[str, torch.Tensor] | None) -> Iterator[None]:
    """Render with these tensors as the const noise inputs ((N|1, 1, r, r) each), then restore.

    Projected latents carry their own noise; projection itself optimises tensors put here.
    """
    if not noise:
        yield
        return
    mods = {name: m for name, m in G.named_modules() if isinstance(m, NoiseInjection)}
    saved = {name: m.noise_const for name, m in mods.items()}
    try:
        for name, t in noise.items():
            if name not in mods:
                raise BelamyError(f"latent noise input '{name}' does not exist in this generator: it was made with another run")
            mods[name].noise_const = t.to(saved[name].device)
        yield
    finally:
        for name, t in saved.items():
            mods[name].noise_const = t


IMAGE_TO_IMAGE = {"pix2pix": "belamy translate", "srvgg": "belamy upscale", "rrdb": "belamy upscale"}


def latent_generator(run: Any, device: torch.device | str) -> torch.nn.Module:
    """The run's generator for the commands that render latents, refused in one line when the run
    maps images to images (pix2pix, super-resolution) and has no latent to sample, mix or project."""
    name = run.model_config.get("name")
    if name in IMAGE_TO_IMAGE:
        raise BelamyError(f"{run.path} is a {name} run: it turns images into images ({IMAGE_TO_IMAGE[name]}) and has "
                          "no latents to sample, mix, walk or project")
    return run.generator(device)
