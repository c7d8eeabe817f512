"""Learned taste over the library: the rated renders' features and ratings in, the model's
summary and a predicted rating for every render out, refitted only when a rating or the library
changed. The features are `features`' (image, and W when the run is here); the model is `taste`'s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from belamy.studio import actions, taste
from belamy.studio.features import Features
from belamy.studio.identity import Identity
from belamy.studio.library import Tile
from belamy.studio.state import State


class Ranking:
    """The taste model of one studio, cached against (latest event, number of tiles)."""

    def __init__(self, state: State, identity: Identity, allows: Callable[[Path], bool]) -> None:
        self.state, self.identity, self.allows = state, identity, allows
        self.features = Features("cpu")
        self._lock = threading.Lock()
        self._taste: tuple[tuple[int, int], dict[str, Any], dict[str, float]] | None = None

    def _feature_rows(self, tiles: list[Tile]) -> tuple[list[str], np.ndarray, bool]:
        """(sha256s, one feature row each, whether W latents are in them) for the usable tiles."""
        shas, images, ws = [], [], []
        seen: set[str] = set()
        for t in tiles:
            sha = self.identity.sha256(t) if t.viewable else None
            if sha is None or sha in seen:
                continue
            image = self.features.image(sha, t.path, self.allows)
            if image is None:
                continue
            seen.add(sha)
            shas.append(sha)
            images.append(image)
            ws.append(self.features.w(t.meta.get("run_path"), actions.latent_of(t.meta)))
        dims = {w.shape[0] for w in ws if w is not None}
        if len(dims) != 1:  # no W anywhere, or runs of different widths: image features only
            return shas, np.array(images).reshape(len(shas), -1), False
        dim = dims.pop()
        rows = [np.concatenate([img, w if w is not None else np.zeros(dim), [float(w is not None)]])
                for img, w in zip(images, ws)]
        return shas, np.array(rows), True

    def taste(self, tiles: list[Tile]) -> tuple[dict[str, Any], dict[str, float]]:
        """(the taste model's summary for the page, predicted rating by sha256); refitted when a
        rating or the library changed, else the last answer."""
        with self._lock:
            return self._fit(tiles)

    def _fit(self, tiles: list[Tile]) -> tuple[dict[str, Any], dict[str, float]]:
        stamp = (self.state.latest_seq(), len(tiles))
        if self._taste is not None and self._taste[0] == stamp:
            return self._taste[1], self._taste[2]
        ratings = {sha: m.rating for sha, m in self.state.marks().items() if m.rating is not None}
        rated = [t for t in tiles if t.sha256 in ratings]
        summary: dict[str, Any] = {"ready": False, "ratings": len({t.sha256 for t in rated}),
                                   "needed": taste.MIN_RATINGS}
        scores: dict[str, float] = {}
        if summary["ratings"] >= taste.MIN_RATINGS:
            shas, X, uses_w = self._feature_rows(tiles)
            index = [i for i, s in enumerate(shas) if s in ratings]
            model = taste.learn(X[index], np.array([ratings[shas[i]] for i in index], float)) if index else None
            if model is not None:
                acc = model.accuracy
                summary.update(ready=True, ratings=acc.ratings, spearman=round(acc.spearman, 3),
                               mae=round(acc.mae, 3), baseline_mae=round(acc.baseline_mae, 3), uses_w=uses_w)
                scores = dict(zip(shas, (float(p) for p in model.predict(X))))
        self._taste = (stamp, summary, scores)
        return summary, scores
