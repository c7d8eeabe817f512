"""Style mixing and bookmarks as library functions (what `belamy mix` and `belamy bookmark` call):
each returns what it wrote, and every render's record re-renders it exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from belamy.api import explore as api
from belamy.core.errors import BelamyError
from belamy.generate import bookmarks as bm
from belamy.generate.latents import resolve
from belamy.generate.mixing import mix, mix_spec
from belamy.generate.project import ProjectConfig, project, projection_folder
from belamy.generate.sample import render_latent, reproduce, sample
from belamy.generate.series import SeriesConfig, series, series_folder, sheet_path
from conftest import pixels

pytestmark = pytest.mark.usefixtures("one_thread")


def test_mix_returns_the_render_and_a_record_that_reproduces_it(run, G, tmp_path):
    m = mix(run, {"seed": 1}, [("coarse", {"seed": 2}), ("4-5", {"seed": 3})], tmp_path / "mix.png",
            truncation=0.8, device="cpu", bookmark="mixed")
    assert m.render == tmp_path / "mix.png" and m.record == tmp_path / "mix.record.json" and m.record.is_file()
    record = json.loads(m.record.read_text())
    assert record["kind"] == "mix" and record["truncation"] == 0.8
    assert record["latent"] == {"base": {"seed": 1}, "mix": [{"layers": [0, 3], "latent": {"seed": 2}},
                                                              {"layers": [4, 6], "latent": {"seed": 3}}]}
    assert m.latent.spec == record["latent"]
    one, two, three = (resolve({"seed": s}, G).ws for s in (1, 2, 3))
    assert torch.equal(m.latent.ws[:3], two[:3]) and torch.equal(m.latent.ws[3], one[3])
    assert torch.equal(m.latent.ws[4:6], three[4:6]) and torch.equal(m.latent.ws[6:], one[6:])
    assert m.image.shape == (32, 32, 3) and np.array_equal(pixels(m.render), m.image)
    assert np.array_equal(reproduce(m.record), m.image)  # bit for bit from the record
    again = mix(run, {"seed": 1}, [("coarse", {"seed": 2}), ("4-5", {"seed": 3})], tmp_path / "again.png",
                truncation=0.8, device="cpu")
    assert again.bookmark is None and np.array_equal(again.image, m.image)
    # the bookmark keeps the mix itself: rendered at the same truncation it is the same picture
    assert m.bookmark == bm.bookmark_dir(run) / "mixed.safetensors" and m.bookmark.is_file()
    kept = resolve({"bookmark": "mixed"}, G, run)
    assert torch.equal(kept.ws, m.latent.ws) and np.array_equal(render_latent(G, kept, 0.8), m.image)
    assert {b["name"]: b for b in bm.list_bookmarks(run)}["mixed"]["source"] == record["latent"]


def test_mix_errors(run, G, tmp_path):
    with pytest.raises(BelamyError, match="nothing to mix"):
        mix(run, {"seed": 1}, [], tmp_path / "x.png", device="cpu")
    with pytest.raises(BelamyError, match="no fine layers"):  # a 32 px model
        mix(run, {"seed": 1}, [("fine", {"seed": 2})], tmp_path / "x.png", device="cpu")
    with pytest.raises(BelamyError, match="out of range"):
        mix_spec({"seed": 1}, [("3-40", {"seed": 2})], G)
    with pytest.raises(BelamyError, match="no bookmark 'nobody'"):
        mix(run, {"seed": 1}, [("coarse", {"bookmark": "nobody"})], tmp_path / "x.png", device="cpu")
    assert not (tmp_path / "x.png").exists()


def test_bookmarks_from_specs_and_records(run, G, tmp_path, monkeypatch):
    fam = series(run, tmp_path / "s", SeriesConfig(n=2, family=4), device="cpu")
    path = bm.add_bookmark(run, "cousin", record=fam[1].with_name("family0004-01.record.json"), note="from a series")
    info = {b["name"]: b for b in bm.list_bookmarks(run)}["cousin"]
    assert path.is_file() and info["source"] == {"family": 4, "member": 1, "spread": 0.5}
    assert info["note"] == "from a series"
    assert np.array_equal(render_latent(G, resolve({"bookmark": "cousin"}, G, run)), pixels(fam[1]))
    sampled = sample(run, [5], tmp_path / "r", device="cpu", grid=False, progress=False)
    bm.add_bookmark(run, "five", record=sampled[0].with_name("seed0005.record.json"))
    assert {b["name"]: b for b in bm.list_bookmarks(run)}["five"]["source"] == {"seed": 5}
    bm.add_bookmark(run, "seven", {"seed": 7})
    with pytest.raises(BelamyError, match="already exists"):
        bm.add_bookmark(run, "seven", {"seed": 8})
    bm.add_bookmark(run, "seven", {"seed": 8}, overwrite=True)
    assert {b["name"]: b for b in bm.list_bookmarks(run)}["seven"]["source"] == {"seed": 8}
    with pytest.raises(BelamyError, match="give the latent"):
        bm.add_bookmark(run, "x")
    with pytest.raises(BelamyError, match="give the latent"):
        bm.add_bookmark(run, "x", {"seed": 1}, record=sampled[0])
    video = tmp_path / "walk.mp4.record.json"
    video.write_text(json.dumps({"kind": "video", "run_path": str(run.path), "generator_sha256": "0" * 64,
                                 "keyframes": [{"seed": 1}, {"seed": 2}]}))
    with pytest.raises(BelamyError, match="names no single latent"):
        bm.add_bookmark(run, "x", record=video)
    # rendering a bookmark: a PNG with a record that re-renders it; NAME.png by default
    out = bm.render_bookmark(run, "cousin", tmp_path / "b" / "c.png", truncation=0.7, device="cpu")
    assert out == tmp_path / "b" / "c.png"
    assert np.array_equal(pixels(out), render_latent(G, resolve({"bookmark": "cousin"}, G, run), 0.7))
    assert np.array_equal(reproduce(tmp_path / "b" / "c.record.json"), pixels(out))
    monkeypatch.chdir(tmp_path)
    assert bm.render_bookmark(run, "five", device="cpu") == Path("five.png") and (tmp_path / "five.png").is_file()


def test_default_folders_and_the_api_entry_points(run, G, tmp_path):
    cfg = SeriesConfig(n=2, family=12, spread=0.3)
    paths = series(run, None, cfg, device="cpu")
    assert paths[0].parent == series_folder(run, 12) == run.path / "series" / "family0012"
    assert sheet_path(series_folder(run, 12), 12).is_file()
    # the api takes the run folder and plain latents, and says where everything went
    assert api.save_bookmark(run.path, "api-two", "2").is_file()
    assert "api-two" in {b["name"] for b in api.bookmarks(run.path)}
    done = api.series(str(run.path), tmp_path / "fam", SeriesConfig(n=2, family="bookmark:api-two"), device="cpu")
    assert done.folder == tmp_path / "fam" and done.contact_sheet == tmp_path / "fam" / "family-api-two.png"
    assert done.contact_sheet.is_file() and [p.name for p in done.renders] == ["family-api-two-00.png",
                                                                               "family-api-two-01.png"]
    m = api.mix(run.path, 1, [("coarse", "2"), ("4-5", 3)], tmp_path / "m.png", device="cpu")
    assert m.latent.spec["mix"][0] == {"layers": [0, 3], "latent": {"seed": 2}}
    assert np.array_equal(reproduce(m.record), m.image)
    img = tmp_path / "painting.png"
    Image.fromarray(render_latent(G, resolve({"seed": 9}, G))).save(img)
    proj = project(run, img, None, ProjectConfig(steps=2, video=False), device="cpu", progress=False)
    assert proj.folder == projection_folder(run, img) == run.path / "projections" / "painting"
    assert (proj.folder / "latent.safetensors").is_file() and (proj.folder / "project.json").is_file()
