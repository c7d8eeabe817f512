"""Reading renders (sidecar, iTXt, broken), scanning folders into tiles, sorting and filtering,
thumbnails keyed by content, and exporting the picks."""

from __future__ import annotations

import csv
import json
import os
import time

import pytest
from PIL import Image

from belamy.core.errors import BelamyError
from belamy.studio import query
from belamy.studio.export import export_picks
from belamy.studio.library import Library
from belamy.studio.records import lineage, read_render_record
from belamy.studio.service import Studio
from belamy.studio.state import Mark
from tests.studio.conftest import record_for, write_folder, write_render


def test_the_sidecar_wins_and_the_png_chunk_is_the_fallback(tmp_path):
    png = write_render(tmp_path, 5, originality=0.8)
    assert read_render_record(png).source == "sidecar"
    (tmp_path / "seed0005.record.json").unlink()
    read = read_render_record(png)
    assert read.source == "png" and read.record == record_for(5, originality=0.8) and read.problem == ""
    bare = write_render(tmp_path, 6, sidecar=False, embedded=False)
    assert read_render_record(bare).problem == "no record"
    (tmp_path / "seed0006.record.json").write_text("[]")
    assert read_render_record(bare).problem.startswith("broken record")
    (tmp_path / "seed0006.record.json").write_text("x" * (5 << 20))
    assert "larger than a record" in read_render_record(bare).problem
    (tmp_path / "junk.png").write_bytes(b"junk")
    assert read_render_record(tmp_path / "junk.png").problem.startswith("image does not open")


def test_lineage_picks_the_fields_the_grid_needs():
    lin = lineage(record_for(7, "r1", originality=0.42))
    assert lin["seed"] == 7 and lin["run"] == "r1" and lin["truncation"] == 0.7 and lin["originality"] == 0.42
    assert lin["nearest"]["title"] == "study 0" and lin["near_copy"] is True
    assert lineage({"kind": "series", "latent": {"seed": 3}})["seed"] == 3
    assert lineage({"seed": True, "truncation": "x", "originality": []}) == lineage(None) | {"kind": None}


def test_a_scan_keeps_unchanged_tiles_and_sees_new_and_removed_ones(tmp_path):
    write_folder(tmp_path, 4)
    (tmp_path / "notes.txt").write_text("not a render")
    (tmp_path / ".hidden.png").write_bytes(b"")
    lib = Library([tmp_path])
    tiles = lib.tiles()
    assert [t.name for t in tiles] == [f"seed{i:04d}.png" for i in range(4)]
    assert lib.scan() is False  # nothing changed: a stat, no reading
    tiles[0].sha256 = "kept"
    time.sleep(0.01)
    write_render(tmp_path, 9)
    (tmp_path / "seed0003.png").unlink()
    assert lib.scan() is True
    now = lib.tiles()
    assert [t.name for t in now] == ["seed0000.png", "seed0001.png", "seed0002.png", "seed0009.png"]
    assert now[0] is tiles[0] and now[0].sha256 == "kept"
    assert lib.get(now[-1].id) is now[-1] and lib.get("0" * 16) is None


def _tiles_and_marks(tmp_path):
    write_folder(tmp_path, 10)
    lib = Library([tmp_path])
    tiles = lib.tiles()
    for i, t in enumerate(tiles):
        t.sha256 = f"{i:064d}"
    marks = {tiles[1].sha256: Mark(tiles[1].sha256, rating=5, pick=True),
             tiles[2].sha256: Mark(tiles[2].sha256, rating=2, reject=True),
             tiles[3].sha256: Mark(tiles[3].sha256, rating=4)}
    return tiles, marks


def names(tiles):
    return [int(t.name[4:8]) for t in tiles]


def test_sort_and_filter(tmp_path):
    tiles, marks = _tiles_and_marks(tmp_path)

    def sel(**params):
        return names(query.select(tiles, marks, query.parse({k: str(v) for k, v in params.items()})))

    assert sel() == list(range(10))
    assert sel(sort="-name") == list(range(9, -1, -1))
    assert sel(sort="-rating")[:3] == [1, 3, 2] and sel(sort="rating")[:3] == [2, 3, 1]
    assert sel(sort="-rating")[3:] == [0, 4, 5, 6, 7, 8, 9]  # unrated last, in name order
    assert sel(status="picked") == [1] and sel(status="rejected") == [2]
    assert sel(status="unrejected") == [0, 1, 3, 4, 5, 6, 7, 8, 9]
    assert sel(status="rated") == [1, 2, 3] and len(sel(status="unrated")) == 7
    assert sel(min_rating=4) == [1, 3]
    assert sel(seed="3-5") == [3, 4, 5] and sel(seed="7") == [7] and sel(seed="5..3") == [3, 4, 5]
    assert sel(run="run-b") == [1, 3, 5, 7, 9]
    origs = {int(t.name[4:8]): t.meta["originality"] for t in tiles}
    assert sel(sort="originality") == sorted(origs, key=lambda i: (origs[i], i))
    assert sel(min_orig=0.5, max_orig=0.7) == [i for i in range(10) if 0.5 <= origs[i] <= 0.7]
    assert sel(q="0007") == [7]
    for bad in ({"sort": "size"}, {"status": "maybe"}, {"min_rating": "9"}, {"seed": "a-b"},
                {"min_orig": "nan"}, {"limit": "0"}, {"offset": "-1"}):
        with pytest.raises(query.QueryError):
            query.parse(bad)


def test_sort_and_filter_by_checkpoint(tmp_path):
    tiles, marks = _tiles_and_marks(tmp_path)
    steps = {0: 40, 1: 10, 2: None, 3: 20, 4: 10, 5: 30, 6: 40, 7: 20, 8: 10, 9: 30}
    for t in tiles:  # the fixture's records are all step 2: give each its own checkpoint
        t.meta["step"] = steps[int(t.name[4:8])]

    def sel(**params):
        return names(query.select(tiles, marks, query.parse({k: str(v) for k, v in params.items()})))

    assert sel(sort="step") == [1, 4, 8, 3, 7, 5, 9, 0, 6, 2]  # no step last, ties in name order
    assert sel(sort="-step") == [0, 6, 5, 9, 3, 7, 1, 4, 8, 2]
    assert sel(step="20-30") == [3, 5, 7, 9] and sel(step="10") == [1, 4, 8]
    assert sel(step="30", run="run-b") == [5, 9]
    with pytest.raises(query.QueryError, match="step"):
        query.parse({"step": "latest"})


def test_thumbnails_are_made_in_the_background_once_per_content(tmp_path):
    write_folder(tmp_path / "r", 12)
    big = Image.new("RGB", (1200, 600), (200, 30, 30))
    big.save(tmp_path / "r" / "wide.png")
    studio = Studio([tmp_path / "r"], workers=2)
    try:
        deadline = time.monotonic() + 30
        while studio.thumbs.pending() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert studio.thumbs.made == 13 and studio.thumbs.failed == 0
        wide = next(t for t in studio.library.tiles() if t.name == "wide.png")
        path = studio.thumbs.ready(wide)
        assert path is not None and path.parent.parent == tmp_path / "r" / ".belamy-studio" / "thumbs"
        assert path.name.startswith(wide.sha256)
        with Image.open(path) as im:
            assert im.format == "WEBP" and im.size == (256, 128)
    finally:
        studio.close()
    again = Studio([tmp_path / "r"], workers=2)  # a restart finds them: hashes cached, nothing remade
    try:
        assert all(t.sha256 for t in again.library.tiles())
        deadline = time.monotonic() + 30
        while again.thumbs.pending() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert again.thumbs.made == 13  # answered from the cache without decoding
        assert all(again.thumbs.ready(t) for t in again.library.tiles())
    finally:
        again.close()


def test_export_copies_the_picks_with_records_and_writes_ratings_csv(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_folder(a, 5)
    write_render(b, 1, originality=0.9, painted=True, side=32)  # same name as a's, other pixels
    write_render(b, 2, sidecar=False)
    studio = Studio([a, b], state_dir=tmp_path / "state", warm=False)
    by = {(t.folder, t.name): t for t in studio.library.tiles()}
    studio.set_mark(by[0, "seed0001.png"], {"rating": 5, "pick": True})
    studio.set_mark(by[1, "seed0001.png"], {"pick": True, "tags": ["b"], "note": "same name"})
    studio.set_mark(by[1, "seed0002.png"], {"pick": True})
    studio.set_mark(by[0, "seed0003.png"], {"rating": 2, "reject": True})
    studio.set_mark(by[0, "seed0004.png"], {"rating": 3})
    studio.set_mark(by[0, "seed0004.png"], {"rating": 0})  # cleared again: not in the CSV
    studio.close()
    with pytest.raises(BelamyError, match="no studio state"):
        export_picks([a, b], tmp_path / "out")
    res = export_picks([a, b], tmp_path / "out", tmp_path / "state")
    other = f"seed0001-{by[1, 'seed0001.png'].sha256[:8]}"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        ["ratings.csv", "seed0001.png", "seed0001.record.json", f"{other}.png", f"{other}.record.json",
         "seed0002.png"])
    assert (tmp_path / "out" / "seed0001.png").read_bytes() == (a / "seed0001.png").read_bytes()
    assert json.loads((tmp_path / "out" / f"{other}.record.json").read_text())["originality"]["score"] == 0.9
    rows = list(csv.DictReader((tmp_path / "out" / "ratings.csv").open()))
    assert [(r["file"], r["rating"], r["pick"], r["reject"], r["exported_as"]) for r in rows] == [
        ("seed0001.png", "5", "1", "0", "seed0001.png"), ("seed0003.png", "2", "0", "1", ""),
        ("seed0001.png", "", "1", "0", f"{other}.png"), ("seed0002.png", "", "1", "0", "seed0002.png")]
    assert rows[2]["note"] == "same name" and rows[2]["tags"] == "b" and rows[0]["seed"] == "1"
    assert len(res.picks) == 3 and res.marked == 4


def test_a_studio_needs_real_folders(tmp_path):
    with pytest.raises(BelamyError, match="not a folder"):
        Studio([tmp_path / "missing"])
    with pytest.raises(BelamyError):
        Studio([])
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    with pytest.raises(BelamyError, match="not a folder"):
        Studio([tmp_path / "dangling"])


def test_the_detail_shows_the_collection_and_the_nearest_training_image(tmp_path):
    from tests.studio.conftest import write_run_with_collection

    run = write_run_with_collection(tmp_path / "lib")
    write_render(tmp_path / "r", 3, originality=0.8, run_path=str(run))
    write_render(tmp_path / "r", 4, originality=0.8)  # its run is not here
    write_render(tmp_path / "r", 5, run_path=str(run))  # no originality check
    studio = Studio([tmp_path / "r"], warm=False)
    try:
        by = {t.name: t for t in studio.library.tiles()}
        d = studio.detail(by["seed0003.png"])
        assert d["collection"] == {"present": True, "name": "portraits-collection", "count": 7, "size": 32,
                                   "licenses": {"CC0-1.0": 5, "CC-BY-4.0": 2}, "authors": 2, "missing_credits": 0}
        path = studio.nearest_image(by["seed0003.png"])
        assert path.is_relative_to(studio.state_dir / "nearest") and path.suffix == ".webp"
        assert studio.nearest_image(by["seed0003.png"]) == path  # made once
        absent = studio.detail(by["seed0004.png"])["collection"]
        assert absent["present"] is False and "not here" in absent["problem"]
        with pytest.raises(BelamyError, match="not here"):
            studio.nearest_image(by["seed0004.png"])
        with pytest.raises(BelamyError, match="no nearest"):
            studio.nearest_image(by["seed0005.png"])
        (run.parent / "portraits-collection" / "collection.json").unlink()
        gone = studio.detail(by["seed0003.png"])["collection"]
        assert gone["present"] is False and "not here" in gone["problem"]
    finally:
        studio.close()
