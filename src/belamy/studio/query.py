"""Sort and filter the grid: by rating, pick, reject, seed, run, checkpoint (step), originality score and name.

A query is the grid's URL parameters, checked here into a `Query`; a value that makes no sense is
one `QueryError` line (a 400 answer), never an exception page. Tiles without the sorted value
(no record, no seed) go last in either direction, so sorting never hides them among the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from belamy.studio.library import Tile
from belamy.studio.state import Mark

SORTS = ("name", "rating", "seed", "run", "step", "originality", "taste", "dscore")  # taste, dscore: from `scores`
STATUSES = ("all", "picked", "rejected", "unrejected", "rated", "unrated")
MAX_LIMIT = 1000


class QueryError(ValueError):
    """A grid parameter that makes no sense; the message is one line for the page."""


@dataclass(frozen=True)
class Query:
    sort: str = "name"
    descending: bool = False
    status: str = "all"
    min_rating: int | None = None
    seed_lo: int | None = None
    seed_hi: int | None = None
    run: str | None = None
    step_lo: int | None = None
    step_hi: int | None = None
    min_orig: float | None = None
    max_orig: float | None = None
    text: str = ""
    offset: int = 0
    limit: int = 200


def _int(params: Mapping[str, str], key: str, lo: int, hi: int) -> int | None:
    raw = params.get(key, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"{key} must be a whole number, not {raw[:40]!r}") from None
    if not lo <= value <= hi:
        raise QueryError(f"{key} must be between {lo} and {hi}")
    return value


def _float(params: Mapping[str, str], key: str) -> float | None:
    raw = params.get(key, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise QueryError(f"{key} must be a number, not {raw[:40]!r}") from None
    if not math.isfinite(value):
        raise QueryError(f"{key} must be a finite number")
    return value


def _seeds(raw: str, what: str = "seed") -> tuple[int | None, int | None]:
    raw = raw.strip()
    if not raw:
        return None, None
    lo, sep, hi = raw.replace("..", "-").partition("-") if not raw.startswith("-") else (raw, "", "")
    try:
        a = int(lo)
        b = int(hi) if sep else a
    except ValueError:
        raise QueryError(f"{what} is a number or a range like 10-99, not {raw[:40]!r}") from None
    return min(a, b), max(a, b)


def parse(params: Mapping[str, str]) -> Query:
    """The grid's parameters -> a checked Query."""
    sort = params.get("sort", "name") or "name"
    descending = sort.startswith("-")
    sort = sort.lstrip("-")
    if sort not in SORTS:
        raise QueryError(f"sort is one of {', '.join(SORTS)} (with - for descending), not {sort[:40]!r}")
    status = params.get("status", "all") or "all"
    if status not in STATUSES:
        raise QueryError(f"status is one of {', '.join(STATUSES)}, not {status[:40]!r}")
    lo, hi = _seeds(params.get("seed", ""))
    step_lo, step_hi = _seeds(params.get("step", ""), "step")
    return Query(sort=sort, descending=descending, status=status,
                 min_rating=_int(params, "min_rating", 1, 5), seed_lo=lo, seed_hi=hi,
                 run=params.get("run", "").strip() or None, step_lo=step_lo, step_hi=step_hi,
                 min_orig=_float(params, "min_orig"),
                 max_orig=_float(params, "max_orig"), text=params.get("q", "").strip().lower()[:200],
                 offset=_int(params, "offset", 0, 10**9) or 0, limit=_int(params, "limit", 1, MAX_LIMIT) or 200)


def _in(value: Any, lo: float | None, hi: float | None) -> bool:
    if lo is None and hi is None:
        return True
    return value is not None and (lo is None or value >= lo) and (hi is None or value <= hi)


def _keep(q: Query, tile: Tile, mark: Mark | None) -> bool:
    m = mark or Mark("")
    status_ok = {"all": True, "picked": m.pick, "rejected": m.reject, "unrejected": not m.reject,
                 "rated": m.rating is not None, "unrated": m.rating is None}[q.status]
    return (status_ok and (q.min_rating is None or (m.rating or 0) >= q.min_rating)
            and _in(tile.meta.get("seed"), q.seed_lo, q.seed_hi)
            and (q.run is None or tile.meta.get("run") == q.run)
            and _in(tile.meta.get("step"), q.step_lo, q.step_hi)
            and _in(tile.meta.get("originality"), q.min_orig, q.max_orig)
            and (not q.text or q.text in tile.name.lower()))


def _key(q: Query, marks: Mapping[str, Mark], scores: Mapping[str, float]) -> Callable[[tuple[int, Tile]], Any]:
    def value(tile: Tile) -> Any:
        if q.sort in ("taste", "dscore"):
            return scores.get(tile.sha256 or "")
        if q.sort == "rating":
            m = marks.get(tile.sha256 or "")
            return m.rating if m else None
        return tile.meta.get(q.sort)

    def key(item: tuple[int, Tile]) -> Any:
        order, tile = item
        if q.sort == "name":
            return (order,)
        v = value(tile)
        return (v is None, v if v is not None else 0, order)
    return key


def select(tiles: list[Tile], marks: Mapping[str, Mark], q: Query,
           scores: Mapping[str, float] | None = None) -> list[Tile]:
    """The tiles the query keeps, in its order (ties keep the folder and name order); `scores`
    (by sha256) are the values of the computed sorts (predicted taste, the discriminator's score)."""
    plain = Query(sort=q.sort, descending=q.descending, offset=q.offset, limit=q.limit)
    if q == plain:  # no filter: every tile
        kept = list(enumerate(tiles))
    else:
        kept = [(i, t) for i, t in enumerate(tiles) if _keep(q, t, marks.get(t.sha256 or ""))]
    key = _key(q, marks, scores or {})
    kept.sort(key=key)
    if q.descending:  # reverse the values but keep missing ones last and ties in name order
        present = [x for x in kept if key(x)[0] is not True]
        missing = [x for x in kept if key(x)[0] is True]
        if q.sort == "name":
            present.reverse()
        else:
            present.sort(key=lambda x: (key(x)[1], -x[0]), reverse=True)
        kept = present + missing
    return [t for _, t in kept]
