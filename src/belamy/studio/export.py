"""`belamy studio export`: the picks copied out with their records, and every mark as ratings.csv.

The picks keep their file names (a clash between two folders gets the short sha256 added), each
with its NAME.record.json beside it when it had one, so the copies stay renders that `belamy
finish` and `rerender` accept. ratings.csv lists every marked render of the folders, picked or
not, so the artist's judgement leaves the studio too. Every file is written atomically.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from belamy.core import atomic
from belamy.core.errors import BelamyError
from belamy.studio.identity import Identity
from belamy.studio.library import Library
from belamy.studio.records import sidecar
from belamy.studio.service import default_state
from belamy.studio.state import State

COLUMNS = ["file", "folder", "sha256", "rating", "pick", "reject", "tags", "note", "run", "seed", "truncation",
           "originality", "exported_as"]


@dataclass
class ExportResult:
    out: Path
    picks: list[Path] = field(default_factory=list)
    ratings_csv: Path | None = None
    marked: int = 0
    skipped: list[str] = field(default_factory=list)


def export_picks(folders: list[Path], out: Path, state_dir: Path | None = None) -> ExportResult:
    """Copy the picked renders of `folders` (with their records) to `out`, and write out/ratings.csv."""
    folders = [Path(f) for f in folders]
    for f in folders:
        if not f.is_dir():
            raise BelamyError(f"{f} is not a folder of renders")
    state_dir = Path(state_dir) if state_dir else default_state(folders)
    if not (state_dir / "studio.sqlite").is_file():
        raise BelamyError(f"no studio state in {state_dir}: open the folders with `belamy studio` first, "
                          "or pass --state DIR")
    out = Path(out)
    library = Library(folders)
    state = State(state_dir)
    try:
        identity = Identity(state, library.guard)
        marks = state.marks()
        result = ExportResult(out)
        rows: list[dict[str, object]] = []
        used: set[str] = set()
        for tile in library.tiles():
            if tile.is_folder:
                result.skipped.append(f"{tile.path}: {tile.problem}")
                continue
            sha = identity.sha256(tile)
            mark = marks.get(sha or "")
            if mark is None or mark.empty:
                continue
            exported = ""
            if mark.pick:
                name = tile.name if tile.name not in used else f"{tile.path.stem}-{(sha or '')[:8]}.png"
                real = library.guard.resolved(tile.path)
                if real is None:
                    result.skipped.append(f"{tile.path}: cannot be read")
                else:
                    used.add(name)
                    target = out / name
                    atomic.write_bytes(target, real.read_bytes())
                    side = sidecar(tile.path)
                    if library.guard.allows(side):
                        atomic.write_bytes(sidecar(target), side.read_bytes())
                    result.picks.append(target)
                    exported = name
            meta = tile.meta
            rows.append({"file": tile.name, "folder": str(tile.path.parent), "sha256": sha, "rating": mark.rating,
                         "pick": int(mark.pick), "reject": int(mark.reject), "tags": " ".join(mark.tags),
                         "note": mark.note, "run": meta.get("run"), "seed": meta.get("seed"),
                         "truncation": meta.get("truncation"), "originality": meta.get("originality"),
                         "exported_as": exported})
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        result.ratings_csv = out / "ratings.csv"
        atomic.write_text(result.ratings_csv, buf.getvalue())
        result.marked = len(rows)
        return result
    finally:
        state.close()
