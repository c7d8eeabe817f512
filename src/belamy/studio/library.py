"""The renders of the served folders: each `*.png` becomes a tile with its lineage, or a marked tile.

A folder is scanned flat (renders sit side by side, as `belamy sample` writes them) and rescanned
only when its mtime changes, keeping the entries of unchanged files, so a listing stays cheap with
thousands of renders. Only the lineage fields are held in memory; the detail view rereads the
whole record. A file that cannot be used is still a tile, with its problem named: a broken record,
no record, a symlink that points outside, or (per folder) a folder that vanished.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from belamy.studio.paths import Guard, tile_id
from belamy.studio.records import lineage, read_render_record

UNVIEWABLE = ("points outside", "image does not", "file unreadable")  # problems that leave no picture


@dataclass
class Tile:
    """One render (or one vanished folder) as the grid shows it."""

    id: str
    path: Path
    folder: int
    name: str
    size: int = 0
    mtime_ns: int = 0
    inode: int = 0
    problem: str = ""
    record_source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    sha256: str | None = None
    is_folder: bool = False

    @property
    def viewable(self) -> bool:
        """Whether the tile has an image to show (not a folder, a link out, or a file that fails)."""
        return not self.is_folder and not self.problem.startswith(UNVIEWABLE)

    @property
    def stat_key(self) -> tuple[int, int, int]:
        return (self.size, self.mtime_ns, self.inode)


def _scan_file(path: Path, folder: int, guard: Guard, st: os.stat_result) -> Tile:
    tile = Tile(tile_id(path), path, folder, path.name, st.st_size, st.st_mtime_ns, st.st_ino)
    if not guard.allows(path):
        tile.problem = "points outside the served folders"
        return tile
    read = read_render_record(path, guard.allows)
    tile.problem, tile.record_source, tile.meta = read.problem, read.source, lineage(read.record)
    return tile


class Library:
    """The tiles of the served folders, in folder then name order; thread-safe rescans."""

    def __init__(self, folders: list[Path]) -> None:
        self.folders = [Path(f).absolute() for f in folders]
        self.guard = Guard(self.folders)
        self._lock = threading.Lock()
        self._folder_mtime: dict[int, int | None] = {}
        self._by_folder: dict[int, list[Tile]] = {}
        self._by_id: dict[str, Tile] = {}
        self.scan()

    def _scan_folder(self, index: int) -> list[Tile]:
        folder = self.folders[index]
        old = {t.path: t for t in self._by_folder.get(index, [])}
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except FileNotFoundError:
            return [Tile(tile_id(folder), folder, index, folder.name, problem="folder vanished", is_folder=True)]
        except OSError as exc:
            return [Tile(tile_id(folder), folder, index, folder.name,
                         problem=f"folder unreadable ({type(exc).__name__})", is_folder=True)]
        tiles = []
        for entry in entries:
            if not entry.name.lower().endswith(".png") or entry.name.startswith("."):
                continue
            path = folder / entry.name
            try:
                st = entry.stat()  # follows a symlink: its target's size and times
            except OSError:
                tiles.append(Tile(tile_id(path), path, index, entry.name, problem="file unreadable"))
                continue
            prev = old.get(path)
            keep = prev is not None and prev.stat_key == (st.st_size, st.st_mtime_ns, st.st_ino)
            tiles.append(prev if keep and prev is not None else _scan_file(path, index, self.guard, st))
        return tiles

    def _folder_stamp(self, index: int) -> int | None:
        try:
            return os.stat(self.folders[index]).st_mtime_ns
        except OSError:
            return None

    def scan(self, force: bool = False) -> bool:
        """Rescan the folders whose mtime changed (all with `force`); True when anything was rescanned."""
        with self._lock:
            changed = False
            for i in range(len(self.folders)):
                stamp = self._folder_stamp(i)
                if not force and i in self._by_folder and stamp is not None and stamp == self._folder_mtime.get(i):
                    continue
                self._by_folder[i] = self._scan_folder(i)
                self._folder_mtime[i] = stamp
                changed = True
            if changed:
                self._by_id = {t.id: t for tiles in self._by_folder.values() for t in tiles}
            return changed

    def add_folder(self, folder: Path) -> bool:
        """Serve one more folder (a job's renders joining the grid); False when already served."""
        folder = Path(folder).absolute()
        with self._lock:
            if folder in self.folders:
                return False
            self.folders.append(folder)
            self.guard.add(folder)
        self.scan()
        return True

    def tiles(self) -> list[Tile]:
        """Every tile, folders in the order given, files by name."""
        with self._lock:
            return [t for i in range(len(self.folders)) for t in self._by_folder.get(i, [])]

    def get(self, tid: str) -> Tile | None:
        with self._lock:
            return self._by_id.get(tid)
