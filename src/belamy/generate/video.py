"""Writing videos frame by frame: mp4 (H.264), webm (VP9) or gif, picked from the file suffix.

Frames are streamed to the encoder as they are rendered, never held in memory (a 12 s 1024 px
video is 300 x 3 MB), except for gif, which Pillow writes in one go (frames are kept palettised,
1 byte per pixel; gifs are small by nature). Pillow stores identical consecutive gif frames once,
with their durations added (a morph's hold), so a gif may decode to fewer frames than were
written while playing just as long.

mp4 and webm go through the ffmpeg binary that the `video` extra (imageio-ffmpeg) ships, so no
system ffmpeg is needed. The file appears atomically when the writer closes without error.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

from belamy.core import atomic
from belamy.core.errors import BelamyError, require
from belamy.core.grid import spread_indices

# suffix -> (ffmpeg muxer, codec, extra output args); gif is written by Pillow
FORMATS: dict[str, tuple[str, str, list[str]] | None] = {
    ".mp4": ("mp4", "libx264", ["-preset", "medium", "-crf", "18", "-movflags", "+faststart"]),
    ".webm": ("webm", "libvpx-vp9", ["-crf", "32", "-b:v", "0", "-deadline", "realtime", "-cpu-used", "8"]),
    ".gif": None,
}


def check_video_path(path: Path) -> str:
    """The format of `path` from its suffix, or one line listing the supported ones."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise BelamyError(f"cannot write video '{path}': use a .mp4, .webm or .gif file name")
    if FORMATS[suffix] is not None:
        require("imageio_ffmpeg", "video")
    return suffix


def check_timing(seconds: float, fps: float) -> int:
    """Frames for `seconds` at `fps`, or one line saying what is wrong."""
    if not 0 < fps <= 120:
        raise BelamyError(f"--fps {fps} is out of range: use 1 to 120 (25 or 30 are usual)")
    if not 0 < seconds <= 3600:
        raise BelamyError(f"--seconds {seconds} is out of range: use a positive length up to an hour")
    frames = round(seconds * fps)
    if frames < 2:
        raise BelamyError(f"{seconds} s at {fps} fps is fewer than 2 frames: make it longer")
    return frames


def resize_frame(frame: np.ndarray, size: int | None) -> np.ndarray:
    """(H, W, 3) uint8 -> (size, size, 3): Lanczos down, nearest-free smooth up for display."""
    if size is None or frame.shape[0] == size:
        return frame
    return np.asarray(Image.fromarray(frame).resize((size, size), Image.Resampling.LANCZOS))


def write_video(path: Path, frames: Iterable[np.ndarray], fps: float) -> int:
    """Encode (H, W, 3) uint8 frames into `path`; returns the number of frames written."""
    path = Path(path)
    suffix = check_video_path(path)
    fmt = FORMATS[suffix]
    with atomic.atomic_path(path, suffix=suffix) as tmp:
        n = _write_gif(tmp, frames, fps) if fmt is None else _write_ffmpeg(tmp, frames, fps, *fmt)
    return n


def _write_ffmpeg(tmp: Path, frames: Iterable[np.ndarray], fps: float, muxer: str, codec: str,
                  args: list[str]) -> int:
    imageio_ffmpeg = require("imageio_ffmpeg", "video")  # the `video` extra: only mp4 and webm need it

    writer = None
    n = 0
    try:
        for frame in frames:
            frame = np.ascontiguousarray(frame, dtype=np.uint8)
            if writer is None:
                h, w = frame.shape[:2]
                if h % 2 or w % 2:
                    raise BelamyError(f"{muxer} frames need even sizes, got {w}x{h}: pass an even --size")
                writer = imageio_ffmpeg.write_frames(
                    str(tmp), (w, h), fps=fps, codec=codec, pix_fmt_out="yuv420p", quality=None,
                    macro_block_size=1, ffmpeg_log_level="error", output_params=[*args, "-f", muxer])
                writer.send(None)  # start ffmpeg
            writer.send(frame)
            n += 1
    finally:
        if writer is not None:
            writer.close()
    if n == 0:
        raise BelamyError("no frames to write")
    return n


def _write_gif(tmp: Path, frames: Iterable[np.ndarray], fps: float) -> int:
    # Each frame is quantised as it arrives (1 byte per pixel kept, not 3) with a fast octree
    # palette: Pillow's default median cut was 40x slower (3.6 vs 150 frames/s at 256 px).
    images = [Image.fromarray(np.ascontiguousarray(f, dtype=np.uint8)).quantize(
        256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.FLOYDSTEINBERG) for f in frames]
    if not images:
        raise BelamyError("no frames to write")
    images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], loop=0,
                   duration=max(20, round(1000 / fps)), optimize=False, disposal=1)
    return len(images)


class FrameStrip:
    """Keeps `count` evenly spaced frames of a stream as it passes: a video's storyboard."""

    def __init__(self, total: int, count: int = 8) -> None:
        self.wanted = set(spread_indices(total, count))
        self.kept: list[np.ndarray] = []

    def watch(self, frames: Iterable[np.ndarray]) -> Iterable[np.ndarray]:
        for i, frame in enumerate(frames):
            if i in self.wanted:
                self.kept.append(frame)
            yield frame

    def save(self, path: Path, height: int | None = None) -> Path:
        """The kept frames side by side ((h, count*w, 3)), as a PNG."""
        strip = np.concatenate([resize_frame(f, height) for f in self.kept], axis=1)
        with atomic.atomic_path(path, suffix=".png") as tmp:
            Image.fromarray(strip).save(tmp, format="PNG", optimize=True)
        return Path(path)


def read_video(path: Path) -> tuple[int, tuple[int, int], np.ndarray]:
    """(frame count, (width, height), first frame) of a written video, for tests and reports."""
    path = Path(path)
    if path.suffix.lower() == ".gif":
        with Image.open(path) as im:
            first = np.asarray(im.convert("RGB"))
            return im.n_frames, im.size, first
    imageio_ffmpeg = require("imageio_ffmpeg", "video")

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = reader.__next__()
    w, h = meta["size"]
    first, n = None, 0
    for raw in reader:
        if first is None:
            first = np.frombuffer(raw, np.uint8).reshape(h, w, 3).copy()
        n += 1
    return n, (w, h), first
