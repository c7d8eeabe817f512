"""belamy: from a collection of images to a signed, provenance-recorded series of GAN-made artworks.

Every CLI command is a function here too. Importing belamy is light: heavy and optional
dependencies (torch, video, studio) are imported only by the functions that use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["BelamyError", "Collection", "FinishOptions", "Run", "bookmarks", "collect", "evaluate", "finish",
           "init_keys", "mix", "morph", "project", "render_bookmark", "rerender", "resolve_train_config", "run_demo",
           "sample", "save_bookmark", "series", "train", "verify", "video"]

from belamy.core.errors import BelamyError

if TYPE_CHECKING:
    from belamy.api.config import resolve_train_config
    from belamy.api.demo import run_demo
    from belamy.api.evaluate import evaluate
    from belamy.api.explore import bookmarks, mix, morph, project, render_bookmark, save_bookmark, series, video
    from belamy.api.finish import FinishOptions, finish, rerender, verify
    from belamy.api.sample import sample
    from belamy.api.train import train
    from belamy.data.collect import collect
    from belamy.data.collection import Collection
    from belamy.models.run import Run
    from belamy.provenance.keys import init_keys

_LAZY = {
    "collect": ("belamy.data.collect", "collect"),
    "Collection": ("belamy.data.collection", "Collection"),
    "Run": ("belamy.models.run", "Run"),
    "train": ("belamy.api.train", "train"),
    "sample": ("belamy.api.sample", "sample"),
    "evaluate": ("belamy.api.evaluate", "evaluate"),
    "run_demo": ("belamy.api.demo", "run_demo"),
    "resolve_train_config": ("belamy.api.config", "resolve_train_config"),
    "init_keys": ("belamy.provenance.keys", "init_keys"),
    **{name: ("belamy.api.finish", name) for name in ("finish", "FinishOptions", "verify", "rerender")},
    **{name: ("belamy.api.explore", name) for name in ("series", "video", "project", "morph", "mix",
                                                       "save_bookmark", "render_bookmark", "bookmarks")},
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'belamy' has no attribute {name!r}")
