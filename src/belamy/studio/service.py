"""What the studio does, without HTTP: list a page of tiles, show one render, mark it, report changes.

The web routes (`app`) are thin over this, so the behaviour is tested without a server and the
HTTP layer only translates. Every answer is plain data (dicts for JSON); problems a folder can
cause (a broken record, an undecodable image, a vanished folder) are fields of a tile, not errors.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from belamy.core.errors import BelamyError
from belamy.studio import actions, query
from belamy.studio.dscore import DScorer, cached_scores, score_library
from belamy.studio.identity import Identity
from belamy.studio.jobs import Jobs
from belamy.studio.library import Library, Tile
from belamy.studio.nearest import Collections
from belamy.studio.paths import Guard
from belamy.studio.ranking import Ranking
from belamy.studio.records import read_render_record
from belamy.studio.state import UNSET, Mark, State
from belamy.studio.thumbs import Thumbnailer

STATE_NAME = ".belamy-studio"
JOBS_NAME = "studio-jobs"


def default_state(folders: list[Path]) -> Path:
    """The state folder when none is given: `.belamy-studio` in the first served folder."""
    return Path(folders[0]) / STATE_NAME


def jobs_root(folders: list[Path], state_dir: Path) -> Path:
    """Where jobs write: `studio-jobs/` in the first served folder, else in the state folder."""
    first = Path(folders[0]).absolute()
    return first / JOBS_NAME if os.access(first, os.W_OK) else state_dir / JOBS_NAME  # made by the first job


def tile_json(tile: Tile, mark: Mark | None) -> dict[str, Any]:
    m = mark or Mark("")
    meta = tile.meta
    return {"id": tile.id, "name": tile.name, "folder": tile.folder, "problem": tile.problem,
            "is_folder": tile.is_folder, "viewable": tile.viewable, "rating": m.rating, "pick": m.pick, "reject": m.reject,
            "tags": m.tags, "seed": meta.get("seed"), "run": meta.get("run"), "step": meta.get("step"), "kind": meta.get("kind"),
            "truncation": meta.get("truncation"), "originality": meta.get("originality")}


class Studio:
    """The served folders, their state and thumbnails, as one object the app and the tests use."""

    def __init__(self, folders: list[Path], state_dir: Path | None = None, workers: int | None = None,
                 warm: bool = True, device: str = "auto") -> None:
        if not folders:
            raise BelamyError("give the studio at least one folder of renders")
        for f in folders:
            if not Path(f).is_dir():
                raise BelamyError(f"{f} is not a folder (give folders of renders: *.png with NAME.record.json)")
        self.state_dir = Path(state_dir) if state_dir else default_state(folders)
        self.state = State(self.state_dir)
        self.library = Library(list(folders))
        self.identity = Identity(self.state, self.library.guard)
        self.readable = Guard([*self.library.folders, self.state_dir])  # checked before any file is sent
        self.thumbs = Thumbnailer(self.state_dir / "thumbs", self.identity, workers)
        self.warm = warm
        self.collections = Collections(self.state_dir / "nearest")
        self.ranking = Ranking(self.state, self.identity, self.library.guard.allows)
        self.dscorer = DScorer("cpu" if device == "cpu" else device)
        self.jobs = Jobs(self.state, jobs_root(folders, self.state_dir), device, on_done=self.add_folder,
                         execute=self._execute)
        for folder in self.jobs.folders():
            self.library.add_folder(folder)
        self.readable.add(self.jobs.root)
        self._prime(force=True)
        self.jobs.resume()

    def add_folder(self, folder: Path) -> None:
        """Serve a job's output folder too: its renders join the grid."""
        self.library.add_folder(folder)
        self._prime()

    def _prime(self, force: bool = False) -> None:
        tiles = self.library.tiles()
        self.identity.prime(tiles)
        if self.warm:
            self.thumbs.warm(tiles)

    def refresh(self) -> None:
        """Pick up renders added or removed since the last look (a stat per folder when nothing changed)."""
        if self.library.scan():
            self._prime()

    def close(self) -> None:
        self.jobs.close()
        self.thumbs.close()
        self.state.close()

    def page(self, params: Mapping[str, str]) -> dict[str, Any]:
        """One page of the grid for the query in `params`: {total, offset, items}."""
        q = query.parse(params)
        self.refresh()
        marks = self.state.marks()
        scores = self.taste()[1] if q.sort == "taste" else self.dscores() if q.sort == "dscore" else {}
        chosen = query.select(self.library.tiles(), marks, q, scores)
        items = [tile_json(t, marks.get(t.sha256 or "")) for t in chosen[q.offset:q.offset + q.limit]]
        return {"total": len(chosen), "offset": q.offset, "items": items}

    def facets(self) -> dict[str, Any]:
        """What the filters can offer: the runs present (with counts) and the folders."""
        tiles = self.library.tiles()
        runs = Counter(t.meta.get("run") for t in tiles if t.meta.get("run"))
        return {"runs": [{"run": r, "count": n} for r, n in sorted(runs.items())],
                "folders": [str(f) for f in self.library.folders], "count": len(tiles)}

    def detail(self, tile: Tile) -> dict[str, Any]:
        """One render in full: its record reread, its lineage, its mark and its file."""
        sha = self.identity.sha256(tile)
        read = read_render_record(tile.path, self.library.guard.allows) if not tile.is_folder and self.library.guard.allows(tile.path) \
            else None
        mark = self.state.mark(sha) if sha else Mark("")
        return {**tile_json(tile, mark), "sha256": sha, "path": str(tile.path), "size": tile.size,
                "record": read.record if read else None, "record_source": read.source if read else "",
                "lineage": tile.meta, "note": mark.note, "run_present": self._run_present(tile),
                "collection": self.collections.summary(tile.meta)}

    def nearest_image(self, tile: Tile) -> Path:
        """The render's nearest training image as a cached WebP (see `nearest`); BelamyError when
        there is none to show (no run, no collection, a row that does not match)."""
        if tile.is_folder:
            raise BelamyError("a folder has no nearest training image")
        return self.collections.nearest(tile.meta)

    def _run_present(self, tile: Tile) -> bool:
        """Whether the run this render came from is here (the actions need it)."""
        try:
            actions.run_of(tile.meta, tile.name)
            return True
        except BelamyError:
            return False

    def set_mark(self, tile: Tile, body: Mapping[str, Any]) -> dict[str, Any]:
        """Apply {rating, pick, reject, note, tags} (any of them) to a tile's image, durably."""
        if tile.is_folder:
            raise BelamyError("a vanished folder cannot be rated")
        sha = self.identity.sha256(tile)
        if sha is None:
            raise BelamyError(f"{tile.name} cannot be read, so it cannot be rated")
        known = {"rating", "pick", "reject", "note", "tags"}
        unknown = set(body) - known
        if unknown:
            raise BelamyError(f"unknown field(s): {', '.join(sorted(unknown))}")
        rating = body.get("rating", UNSET)
        if rating == 0:
            rating = None
        mark = self.state.set_mark(sha, str(tile.path), rating=rating, pick=body.get("pick", UNSET),
                                   reject=body.get("reject", UNSET), note=body.get("note", UNSET),
                                   tags=body.get("tags", UNSET))
        return {"ids": self._ids_of({sha})[sha], **mark.as_dict()}

    def _ids_of(self, shas: set[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {s: [] for s in shas}
        for t in self.library.tiles():
            if t.sha256 in out:
                out[t.sha256].append(t.id)
        return out

    def changes(self, since: int) -> dict[str, Any]:
        """Marks changed after event `since` (another tab's ratings), with the tiles they show on."""
        seq, marks = self.state.changes_since(since)
        ids = self._ids_of({m.sha256 for m in marks})
        return {"seq": seq, "marks": [{"ids": ids[m.sha256], **m.as_dict()} for m in marks]}

    def status(self) -> dict[str, Any]:
        tiles = self.library.tiles()
        return {"renders": sum(1 for t in tiles if not t.is_folder), "problems": sum(1 for t in tiles if t.problem),
                "thumbs": {"made": self.thumbs.made, "failed": self.thumbs.failed, "pending": self.thumbs.pending()},
                "seq": self.state.latest_seq(), "state": str(self.state_dir)}

    def start_job(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Queue {kind, ids, n?, spread?, truncation?, seconds?} as a background job; the job as stored.
        Kind "dscore" (no ids) scores every render whose run is here with the run's D."""
        if body.get("kind") == "dscore":
            return self.jobs.submit("dscore", {}, 0)
        ids = body.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or len(ids) > 2:
            raise BelamyError("ids must be a list of one or two render ids")
        metas = []
        for tid in ids:
            tile = self.library.get(tid)
            if tile is None or tile.is_folder:
                raise BelamyError("no such render")
            metas.append((tile.name, tile.meta))
        settings = {k: v for k, v in body.items() if k not in ("kind", "ids")}
        params, expected = actions.plan(str(body.get("kind")), metas, settings)
        return self.jobs.submit(str(body["kind"]), params, expected)

    def job_list(self) -> dict[str, Any]:
        return {"jobs": self.jobs.list()}

    def taste(self) -> tuple[dict[str, Any], dict[str, float]]:
        """(the taste model's summary for the page, predicted rating by sha256): see `ranking`."""
        self.refresh()
        return self.ranking.taste(self.library.tiles())

    def _execute(self, kind: str, params: dict[str, Any], folder: Path, device: str) -> list[Path]:
        if kind == "dscore":
            return self.score_all()
        return actions.execute(kind, params, folder, device)

    def score_all(self) -> list[Path]:
        """Score every render whose run and checkpoint are here with its run's D: see `dscore`."""
        score_library(self.dscorer, self.state, self.library.tiles(), self.identity.sha256, self.library.guard.allows)
        return []

    def dscores(self) -> dict[str, float]:
        return cached_scores(self.state)
