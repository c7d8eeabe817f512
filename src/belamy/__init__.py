"""belamy: from a collection of images to a signed, provenance-recorded series of GAN-made artworks.

Every CLI command is a function here too. Importing belamy is light: heavy and optional
dependencies (torch, video, studio) are imported only by the functions that use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["collect", "Collection", "BelamyError"]

from belamy.core.errors import BelamyError

if TYPE_CHECKING:
    from belamy.data.collect import collect
    from belamy.data.collection import Collection

_LAZY = {
    "collect": ("belamy.data.collect", "collect"),
    "Collection": ("belamy.data.collection", "Collection"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'belamy' has no attribute {name!r}")
