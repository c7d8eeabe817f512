"""Opening a user's image file: EXIF orientation applied, a size limit of the caller's, and every
failure (missing, a folder, not an image, truncated, too large) as one line naming the file.

Pillow's own decompression-bomb limit is lifted while opening, because each tool sets the limit it
can handle (a 20,000 px image is fine for tiled upscaling) and says so in its own words.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from belamy.core.errors import BelamyError


def open_image(path: Path, what: str, max_pixels: int, tool: str, shrink_to: int | None = None,
               ) -> tuple[Image.Image, tuple[int, int]]:
    """An image file, EXIF orientation applied, and its size as shown (before `shrink_to`), or one line saying
    why it cannot be read."""
    try:
        before = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None  # checked here against MAX_PIXELS instead, for a clearer line
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                im = Image.open(path)
        finally:
            Image.MAX_IMAGE_PIXELS = before
        w, h = im.size
        if w * h > max_pixels:
            raise BelamyError(f"the {what} {path} is {w}x{h} px ({w * h / 1e6:.0f} MP), more than the "
                              f"{max_pixels / 1e6:.0f} MP {tool} takes: reduce it first")
        if shrink_to is not None and im.format == "JPEG" and min(w, h) > shrink_to:
            im.draft("RGB", (shrink_to, shrink_to))  # decode a large JPEG photo at a reduced scale
        im.load()
        rotated = im.getexif().get(0x0112, 1) in (5, 6, 7, 8)
        im = ImageOps.exif_transpose(im)
        shown = (h, w) if rotated else (w, h)
        if shrink_to is not None and max(im.size) > shrink_to:
            im.thumbnail((shrink_to, shrink_to), Image.Resampling.LANCZOS)
        return im, shown
    except FileNotFoundError:
        raise BelamyError(f"the {what} {path} does not exist") from None
    except IsADirectoryError:
        raise BelamyError(f"the {what} {path} is a folder: give an image file") from None
    except UnidentifiedImageError:
        raise BelamyError(f"the {what} {path} is not a readable image (not an image, or a format Pillow does not "
                          "know): give a PNG, JPEG, TIFF or WebP file") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        why = (str(exc).splitlines() or [type(exc).__name__])[0][:120]
        raise BelamyError(f"the {what} {path} is not a readable image ({why}): give an intact image file") from None
    except MemoryError:
        raise BelamyError(f"the {what} {path} is too large to decode in this machine's memory: reduce it "
                          "first") from None
