"""`belamy translate`: condition images through a pix2pix run, each output with its record.

An input of any size is centre-cropped to a square and resized to the run's resolution the way
training resized its pairs; the record names the input file by path and sha256, so it re-renders
the output exactly while that file is unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from belamy.core.atomic import sha256_file
from belamy.core.device import pick_device
from belamy.core.errors import BelamyError
from belamy.core.progress import make_progress
from belamy.core.resize import at_resolution
from belamy.data.pose_collection import PoseCollection
from belamy.data.pose_sampler import PoseSamplerConfig, sample_poses
from belamy.data.stick import StickConfig, render_stick
from belamy.generate.records import recorded_run, render_record, save_render
from belamy.generate.sample import to_uint8
from belamy.models.run import Run


def _is_pix2pix(G: torch.nn.Module) -> bool:
    return getattr(G, "z_dim", None) == 0


@torch.no_grad()
def translate_arrays(G: torch.nn.Module, cond: np.ndarray, batch: int = 16) -> np.ndarray:
    """(N, S, S, 3) uint8 conditions -> (N, R, R, 3) uint8 outputs of G in eval mode (no dropout)."""
    was_training = G.training
    G.eval()
    dev = next(G.parameters()).device
    x = at_resolution(np.ascontiguousarray(cond), G.resolution)  # (N, R, R, 3)
    out = []
    for i in range(0, len(x), batch):
        t = torch.from_numpy(x[i:i + batch]).permute(0, 3, 1, 2).to(dev).float().div_(127.5).sub_(1.0)
        out.append(to_uint8(G(t)))  # (n, R, R, 3)
    G.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, G.resolution, G.resolution, 3), np.uint8)


def load_condition(path: Path, resolution: int) -> np.ndarray:
    """An input image as (R, R, 3) uint8: EXIF-rotated, centre-cropped to a square, resized."""
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im).convert("RGB")
            side = min(im.size)
            im = ImageOps.fit(im, (side, side), Image.Resampling.BICUBIC)
            arr = np.asarray(im)
    except FileNotFoundError:
        raise BelamyError(f"{path} does not exist") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise BelamyError(f"{path} is not a readable image ({exc})") from None
    return at_resolution(arr[None], resolution)[0]


def translate(run: Run, inputs: list[Path], out: Path, device: str = "auto",
              progress: bool | None = None) -> list[Path]:
    """Translate each input image with `run`'s generator into out/NAME.png (+ NAME.record.json)."""
    dev = pick_device(device)
    G = run.generator(dev)
    if not _is_pix2pix(G):
        raise BelamyError(f"{run.path} is a {run.model_config.get('name')} run: translate needs a pix2pix run "
                          "(belamy train-pair)")
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    bar = make_progress(enabled=progress)
    with bar:
        task = bar.add_task("translating", total=len(inputs))
        for path in inputs:
            path = Path(path)
            cond = load_condition(path, G.resolution)
            arr = translate_arrays(G, cond[None])[0]
            record = render_record(run, "translation", dev, input=str(path.resolve()),
                                   input_sha256=sha256_file(path))
            paths.append(save_render(arr, out / f"{path.stem}.png", record))
            bar.advance(task)
    return paths


def reproduce_translation(record: dict[str, Any], device: str = "cpu") -> np.ndarray:
    """The output a translation record describes, translated again (refused if its input changed)."""
    run = recorded_run(record)
    src = Path(record["input"])
    if not src.is_file() or sha256_file(src) != record["input_sha256"]:
        raise BelamyError(f"the input {src} of this translation is gone or changed (sha256 differs): restore it")
    G = run.generator(pick_device(device))
    return translate_arrays(G, load_condition(src, G.resolution)[None])[0]


Upscaler = Callable[[np.ndarray, dict[str, Any], str], np.ndarray]


def reproduce_chain(record: dict[str, Any], device: str = "cpu", upscaler: Upscaler | None = None) -> np.ndarray:
    """A chain render made again: its batch's poses drawn with the recorded stick settings and
    translated together (batch mates may round the last bit of a batched product). A render with
    an `upscale` step needs `upscaler(arr, record["upscale"], device)` to replay it: the
    super-resolution is the refine stage's, which this stage may not import, so the api passes
    it in (`api.upscale.replay_upscale`), as the finish stage's upscale is replayed by `api.finish`."""
    if record.get("upscale") and upscaler is None:
        raise BelamyError("this chain render was upscaled by a super-resolution run: re-render it through "
                          "belamy.api (belamy rerender, api.chain.reproduce_chain_render)")
    run = recorded_run(record)
    G = run.generator(pick_device(device))
    lo, hi = record.get("batch") or [record["index"], record["index"] + 1]
    poses = _chain_poses(record, lo, hi)
    own = np.asarray(record["pose"], np.float32).reshape(17, 3)
    if not np.allclose(poses[record["index"] - lo], own, atol=1e-4):
        raise BelamyError("the poses of this chain render's batch are not the recorded ones: its pose collection "
                          "changed, or the sampler did")
    sticks = np.stack([render_stick(p, StickConfig(**record["stick"])) for p in poses])
    arr = translate_arrays(G, sticks, batch=len(sticks))[record["index"] - lo]
    if record.get("upscale"):
        assert upscaler is not None
        arr = upscaler(arr, record["upscale"], device)
    return arr


def _chain_poses(record: dict[str, Any], lo: int, hi: int) -> np.ndarray:
    source = record.get("pose_source") or {}
    if "seed" in source:
        return sample_poses(hi - lo, int(source["seed"]), PoseSamplerConfig(), start=lo)
    if "collection" in source:
        return PoseCollection.open(source["collection"]).poses[lo:hi]
    return np.asarray(record["pose"], np.float32).reshape(1, 17, 3)  # a render of its own
