"""`belamy brush`: a brush layer taken from a photograph, laid on a portrait and written as files.

The portrait, the photo and the mask are read with their EXIF orientation applied and their ICC
profiles converted to sRGB; `belamy.refine.brush.brush_layer` paints; then, each file atomically:

- OUT/NAME.brush.png: the layer alone, RGBA, transparent where no stroke is;
- OUT/NAME.png: the composite, the layer alpha-blended over the portrait;
- OUT/NAME.brush.json, last: the record of the step (the inputs with their sha256, every parameter,
  the seed, the stroke counts, the outputs with their sha256), the `brush` step `belamy finish` keeps.

`video` adds a time-lapse of the strokes being laid (at most 512 px; mp4 and webm need the `video`
extra, gif is written by Pillow). Portraits of up to MAX_PIXELS are taken: the strokes are painted
at a bounded resolution and the layer resampled to the portrait's size band by band (see
`refine.brush`), so the memory needed is the portrait and the two outputs (10 bytes a pixel) plus
a bounded amount.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from belamy.core import atomic
from belamy.core.atomic import sha256_file
from belamy.core.config import read_step_record
from belamy.core.errors import BelamyError
from belamy.core.png import save_png
from belamy.core.progress import make_progress
from belamy.core.version import code_version
from belamy.data.decode import to_rgb
from belamy.data.image_file import open_image
from belamy.generate.video import check_video_path, write_video
from belamy.refine.brush import BrushConfig, brush_layer

LAYER_SUFFIX = ".brush.png"
RECORD_SUFFIX = ".brush.json"
MAX_PIXELS = 450_000_000  # a 20,000 x 20,000 px portrait (400 MP) is taken; 4.5 GB of outputs at most
PHOTO_READ_SIDE = 2048  # the photo is read at most this large (its paint is taken at 512 px)
VIDEO_SIDE = 512  # the time-lapse's longer side, at most
VIDEO_FPS = 12
VIDEO_HOLD_S = 1.5  # the finished painting stays this long at the end


@dataclass
class BrushResult:
    composite: Path
    layer: Path
    record_path: Path
    video: Path | None
    record: dict[str, Any]
    seconds: float


def brush(portrait: str | Path, photo: str | Path, out_dir: str | Path, cfg: BrushConfig | None = None,
          mask: str | Path | None = None, video: str | Path | None = None, force: bool = False,
          progress: bool | None = None) -> BrushResult:
    """Lay a brush layer with the paint of `photo` over `portrait`; write OUT/NAME.png, NAME.brush.png and
    NAME.brush.json (and `video`, a time-lapse of the strokes) into `out_dir`. `mask` (white: paint) replaces
    `cfg.region`. Everything a user can get wrong is refused, in one line, before anything is written."""
    t0 = time.perf_counter()
    cfg = cfg or BrushConfig()
    cfg.validate()
    portrait, photo, out_dir = Path(portrait), Path(photo), Path(out_dir)
    mask = None if mask is None else Path(mask)
    video = None if video is None else Path(video)
    if video is not None:
        check_video_path(video)  # a missing `video` extra is one line before the painting, not after
    name = portrait.stem
    composite_path, layer_path = out_dir / f"{name}.png", out_dir / f"{name}{LAYER_SUFFIX}"
    record_path = out_dir / f"{name}{RECORD_SUFFIX}"
    outputs = [composite_path, layer_path, record_path] + ([video] if video is not None else [])
    inputs = [p for p in (portrait, photo, mask) if p is not None]
    for out in outputs:
        if any(out.resolve() == p.resolve() for p in inputs):
            raise BelamyError(f"writing {out} would replace an input: choose another -o folder (or --video name)")
    if not force:
        for out in outputs:
            if out.exists():
                raise BelamyError(f"{out} already exists: pass --force to replace it, or choose another -o folder")

    im, sizes = open_image(portrait, "portrait", MAX_PIXELS, "belamy brush")
    portrait_arr = np.asarray(to_rgb(im, "white"))
    im, photo_size = open_image(photo, "photo", MAX_PIXELS, "belamy brush", shrink_to=PHOTO_READ_SIDE)
    photo_arr = np.asarray(to_rgb(im, "white"))
    mask_arr, mask_size = None, (0, 0)
    if mask is not None:
        im, mask_size = open_image(mask, "mask", MAX_PIXELS, "belamy brush")
        mask_arr = _mask(im)
        if mask_arr.shape != portrait_arr.shape[:2]:
            raise BelamyError(f"the mask {mask} is {mask_arr.shape[1]}x{mask_arr.shape[0]} px but the portrait is "
                              f"{portrait_arr.shape[1]}x{portrait_arr.shape[0]}: draw the mask at the portrait's size")
    del im

    frames: list[np.ndarray] = []
    bar = make_progress(enabled=progress)
    with bar:
        task = bar.add_task("brush strokes", total=None)

        def on_step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        layer, composite, step = brush_layer(portrait_arr, photo_arr, cfg, mask=mask_arr,
                                             frames=None if video is None else lambda f: frames.append(_video_frame(f)),
                                             on_step=on_step)
    del portrait_arr, photo_arr, mask_arr

    save_png(layer, layer_path)
    del layer
    save_png(composite, composite_path)
    del composite
    written: dict[str, Any] = {"layer": _file(layer_path, out_dir), "composite": _file(composite_path, out_dir)}
    if video is not None:
        hold = max(1, round(VIDEO_HOLD_S * VIDEO_FPS))
        count = write_video(video, frames + [frames[-1]] * hold, VIDEO_FPS)
        written["video"] = {**_file(video, out_dir), "frames": count, "fps": VIDEO_FPS}

    record: dict[str, Any] = {
        "kind": step["kind"],
        "inputs": {"portrait": _input(portrait, sizes), "photo": _input(photo, photo_size),
                   "mask": None if mask is None else _input(mask, mask_size)},
        **{k: v for k, v in step.items() if k != "kind"},
        "outputs": written,
        "software": {"belamy": code_version(), "python": platform.python_version(), "numpy": np.__version__,
                     "pillow": Image.__version__},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    seconds = time.perf_counter() - t0
    record["seconds"] = round(seconds, 3)
    atomic.write_json(record_path, record)
    return BrushResult(composite_path, layer_path, record_path, video, record, seconds)


def _mask(im: Image.Image) -> np.ndarray:
    """A mask image -> (H, W) uint8, white: paint; transparent counts as black."""
    if im.mode in ("LA", "La", "PA", "RGBA", "RGBa") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("LA")
        grey, alpha = (np.asarray(c, np.uint16) for c in rgba.split())
        return (grey * alpha // 255).astype(np.uint8)
    return np.asarray(im.convert("L"))


def _input(path: Path, size: tuple[int, int]) -> dict[str, Any]:
    return {"path": str(path.resolve()), "sha256": sha256_file(path), "width": size[0], "height": size[1]}


def read_brush_record(path: Path) -> dict[str, Any]:
    """A NAME.brush.json, refused in one line if it is not one."""
    return read_step_record(path, "brush", "inputs", "NAME.brush.json of `belamy brush`")


def _checked_input(entry: dict[str, Any] | None, what: str) -> Path | None:
    if entry is None:
        return None
    path = Path(entry["path"])
    if not path.is_file() or sha256_file(path) != entry["sha256"]:
        raise BelamyError(f"the {what} {path} of this brush layer is gone or changed (sha256 differs): restore it")
    return path


def replay(record: dict[str, Any], portrait: np.ndarray) -> np.ndarray:
    """The composite a brush record describes, painted again over `portrait` (its photo and mask must
    be present and unchanged): the brush is a pure function of its inputs and settings."""
    photo = _checked_input(record["inputs"]["photo"], "photo")
    mask = _checked_input(record["inputs"].get("mask"), "mask")
    im, _ = open_image(photo, "photo", MAX_PIXELS, "belamy brush", shrink_to=PHOTO_READ_SIDE)
    photo_arr = np.asarray(to_rgb(im, "white"))
    mask_arr = _mask(open_image(mask, "mask", MAX_PIXELS, "belamy brush")[0]) if mask is not None else None
    _, composite, _ = brush_layer(portrait, photo_arr, BrushConfig(**record["config"]), mask=mask_arr)
    return composite


def _file(path: Path, out_dir: Path) -> dict[str, Any]:
    return {"path": path.name if path.parent == out_dir else str(path), "sha256": sha256_file(path)}


def _video_frame(frame: np.ndarray) -> np.ndarray:
    """A frame at most VIDEO_SIDE px, with even sides (what H.264 needs)."""
    h, w = frame.shape[:2]
    scale = min(1.0, VIDEO_SIDE / max(h, w))
    size = (max(2, round(w * scale) // 2 * 2), max(2, round(h * scale) // 2 * 2))
    if size == (w, h):
        return frame
    return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.LANCZOS))
