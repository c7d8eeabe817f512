"""Series, walks, videos, projection, morph and bookmarks on tiny trained runs (32 px, CPU)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import pixels, tiny_run
from PIL import Image

from belamy.core.errors import BelamyError, MissingExtra
from belamy.generate import bookmarks as bm
from belamy.generate.interpolate import WalkConfig, walk, walk_frames
from belamy.generate.latents import resolve
from belamy.generate.morph import MorphConfig, morph
from belamy.generate.project import ProjectConfig, project, project_array
from belamy.generate.rerender import video_from_record
from belamy.generate.sample import render_batch, render_latent, reproduce
from belamy.generate.series import SeriesConfig, series
from belamy.generate.video import read_video

pytestmark = pytest.mark.usefixtures("one_thread")

imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")


def test_series_members_sheet_and_records(run, tmp_path):
    paths = series(run, tmp_path / "s", SeriesConfig(n=5, family=9, spread=0.5, truncation=0.8), device="cpu")
    assert [p.name for p in paths] == [f"family0009-{i:02d}.png" for i in range(5)]
    sheet = Image.open(tmp_path / "s" / "family0009.png")
    assert sheet.width > 5 * 32 and sheet.height > 128  # enlarged cells + title band
    imgs = [pixels(p) for p in paths]
    assert all(a.shape == (32, 32, 3) for a in imgs) and not np.array_equal(imgs[0], imgs[1])
    record = json.loads((tmp_path / "s" / "family0009-03.record.json").read_text())
    assert record["latent"] == {"family": 9, "member": 3, "spread": 0.5} and record["truncation"] == 0.8
    assert np.array_equal(reproduce(tmp_path / "s" / "family0009-03.record.json"), imgs[3])  # bit for bit
    again = series(run, tmp_path / "s2", SeriesConfig(n=5, family=9, spread=0.5, truncation=0.8), device="cpu")
    assert all(np.array_equal(pixels(a), pixels(b)) for a, b in zip(paths, again))
    twins = series(run, tmp_path / "twins", SeriesConfig(n=2, family=9, spread=0.0), device="cpu")
    assert np.array_equal(pixels(twins[0]), pixels(twins[1]))


def test_series_around_a_bookmark(run, G, tmp_path):
    bm.save_bookmark(run, "head", resolve({"seed": 11}, G))
    fam = series(run, tmp_path / "f", SeriesConfig(n=3, family={"bookmark": "head"}, spread=0.0), device="cpu")
    assert [p.name for p in fam] == ["family-head-00.png", "family-head-01.png", "family-head-02.png"]
    assert np.array_equal(pixels(fam[0]), render_latent(G, resolve({"seed": 11}, G)))  # spread 0: the head itself
    wide = series(run, tmp_path / "w", SeriesConfig(n=2, family={"bookmark": "head"}, spread=1.0), device="cpu")
    assert not np.array_equal(pixels(wide[0]), pixels(wide[1]))
    assert np.array_equal(reproduce(tmp_path / "w" / "family-head-01.record.json"), pixels(wide[1]))


def test_seed_latent_renders_like_sample(run, G):
    assert np.array_equal(render_latent(G, resolve({"seed": 7}, G), 0.7), render_batch(G, [7], 0.7)[0])


def test_walk_frames_deterministic_and_exact_at_keyframes(G):
    keys = [resolve({"seed": s}, G) for s in (1, 2, 3)]
    cfg = WalkConfig(seconds=1.0, fps=9, easing="linear")
    frames = list(walk_frames(G, keys, cfg))
    assert len(frames) == 9 and frames[0].shape == (32, 32, 3)
    assert all(np.array_equal(a, b) for a, b in zip(frames, walk_frames(G, keys, cfg)))
    assert np.array_equal(frames[0], render_latent(G, keys[0])) and np.array_equal(frames[-1], render_latent(G, keys[2]))
    assert np.array_equal(frames[4], render_latent(G, keys[1]))
    zwalk = list(walk_frames(G, keys, WalkConfig(seconds=1.0, fps=9, space="z", size=48)))
    assert zwalk[0].shape == (48, 48, 3) and not np.array_equal(zwalk[2], np.asarray(
        Image.fromarray(frames[2]).resize((48, 48))))


@pytest.mark.parametrize("suffix", [".mp4", ".gif", ".webm"])
def test_video_files_decode_with_the_right_frames(run, tmp_path, suffix):
    out = tmp_path / f"walk{suffix}"
    walk(run, [{"seed": 3}, {"seed": 17}], out, WalkConfig(seconds=1.2, fps=10, size=64, loop=True), device="cpu",
         progress=False)
    n, size, first = read_video(out)
    assert n == 12 and size == (64, 64)
    record = json.loads((tmp_path / f"walk{suffix}.record.json").read_text())
    assert record["kind"] == "video" and record["frames"] == 12 and record["keyframes"][1] == {"seed": 17}
    if suffix == ".mp4":  # the record re-renders the same video
        video_from_record(tmp_path / f"walk{suffix}.record.json", tmp_path / "again.mp4", device="cpu", progress=False)
        assert np.array_equal(read_video(tmp_path / "again.mp4")[2], first)
        (tmp_path / "stale.json").write_text(json.dumps(dict(record, generator_sha256="0" * 64)))
        with pytest.raises(BelamyError, match="moved on"):
            video_from_record(tmp_path / "stale.json", tmp_path / "stale.mp4", device="cpu")


def test_video_errors(run, tmp_path, monkeypatch):
    with pytest.raises(BelamyError, match=".mp4, .webm or .gif"):
        walk(run, [{"seed": 1}, {"seed": 2}], tmp_path / "x.avi", WalkConfig(seconds=1), device="cpu")
    with pytest.raises(BelamyError, match="--fps"):
        walk(run, [{"seed": 1}, {"seed": 2}], tmp_path / "x.mp4", WalkConfig(seconds=1, fps=0), device="cpu")
    with pytest.raises(BelamyError, match="at least 2 keyframes"):
        walk(run, [{"seed": 1}], tmp_path / "x.mp4", WalkConfig(seconds=1), device="cpu")
    assert not (tmp_path / "x.mp4").exists()
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if the video extra were missing
    with pytest.raises(MissingExtra, match=r"belamy\[video\]"):
        walk(run, [{"seed": 1}, {"seed": 2}], tmp_path / "x.mp4", WalkConfig(seconds=1), device="cpu")
    walk(run, [{"seed": 1}, {"seed": 2}], tmp_path / "x.gif", WalkConfig(seconds=0.2, fps=10), device="cpu")  # Pillow
    assert read_video(tmp_path / "x.gif")[:2] == (2, (32, 32))


def test_projection_lowers_loss_and_recovers_a_generated_image(G):
    target = render_batch(G, [5])[0]
    cfg = ProjectConfig(steps=60, seed=1, video=False)
    a = project_array(G, target, cfg, progress=False)
    assert np.mean(a.losses[-5:]) < 0.7 * np.mean(a.losses[:5])
    assert a.quality["psnr"] > a.quality["psnr_start"] + 3 and a.quality["ssim"] > a.quality["ssim_start"]
    b = project_array(G, target, cfg, progress=False)  # deterministic by seed
    assert torch.equal(a.latent.ws, b.latent.ws) and a.losses == b.losses
    w = project_array(G, target, ProjectConfig(steps=10, space="w", video=False), progress=False)
    assert torch.equal(w.latent.ws[0], w.latent.ws[-1])  # W: one w for every layer


def test_project_writes_latent_record_and_video(run, tmp_path):
    img = tmp_path / "painting.png"
    Image.fromarray(render_batch(run.generator("cpu"), [8])[0]).resize((50, 40)).save(img)
    proj = project(run, img, tmp_path / "p", ProjectConfig(steps=12, video_size=64), device="cpu", progress=False)
    out = tmp_path / "p"
    for name in ("latent.safetensors", "project.json", "target.png", "reconstruction.png", "comparison.png"):
        assert (out / name).is_file(), name
    n, size, _ = read_video(out / "projection.mp4")
    assert n == 12 and size == (128, 64)  # target | current, 64 px panels
    record = json.loads((out / "project.json").read_text())
    assert record["quality"]["psnr"] == proj.quality["psnr"] and record["target_sha256"]
    assert np.array_equal(reproduce(out / "reconstruction.record.json"), pixels(out / "reconstruction.png"))
    with pytest.raises(BelamyError, match="not found"):
        project(run, tmp_path / "missing.png", tmp_path / "q", ProjectConfig(steps=2), device="cpu")
    (tmp_path / "bad.png").write_bytes(b"not an image at all")
    with pytest.raises(BelamyError, match="cannot use"):
        project(run, tmp_path / "bad.png", tmp_path / "q", ProjectConfig(steps=2), device="cpu")


def test_morph_frames_and_crossfade(run, tmp_path):
    img = tmp_path / "painting.png"
    yy, xx = np.mgrid[0:32, 0:32] / 31.0
    smooth = np.stack([200 * xx + 30, 180 * yy + 40, 120 + 100 * xx * yy], -1).astype(np.uint8)  # H.264-friendly
    Image.fromarray(smooth).save(img)
    cfg = MorphConfig(seconds=1.6, fps=10, crossfade=0.4, hold=0.2, project=ProjectConfig(steps=8, video=False))
    morph(run, img, {"seed": 3}, tmp_path / "m.mp4", cfg, device="cpu", progress=False, strip=tmp_path / "strip.png")
    n, size, first = read_video(tmp_path / "m.mp4")
    assert n == 16 and size == (32, 32)
    strip = pixels(tmp_path / "strip.png")
    assert strip.shape == (32, 8 * 32, 3) and np.array_equal(strip[:, :32], smooth)  # frame 0 is the painting itself
    source = pixels(img).astype(float)
    assert np.abs(first - source).mean() < 4  # opens on the exact painting (up to H.264)
    record = json.loads((tmp_path / "m.mp4.record.json").read_text())
    assert record["kind"] == "morph" and record["target"] == {"seed": 3} and record["frames"] == 16
    # without the crossfade it opens on the projection instead, reusing the recorded one
    cfg.crossfade = 0.0
    morph(run, img, {"seed": 3}, tmp_path / "m0.mp4", cfg, latent=Path(record["projection"]["file"]), device="cpu",
          progress=False)
    first0 = read_video(tmp_path / "m0.mp4")[2].astype(float)
    proj_render = pixels(tmp_path / "m-projection" / "reconstruction.png").astype(float)
    assert 2 * np.abs(first0 - proj_render).mean() < np.abs(first0 - source).mean()
    with pytest.raises(BelamyError, match="no time to morph"):
        morph(run, img, {"seed": 3}, tmp_path / "x.mp4", MorphConfig(seconds=0.5, fps=10, crossfade=0.4), device="cpu")


def test_bookmarks_round_trip(run, G, tmp_path):
    mixed = resolve({"base": {"seed": 1}, "mix": [{"layers": [0, 3], "latent": {"seed": 2}}]}, G)
    bm.save_bookmark(run, "anna", mixed, note="the coarse of 2")
    with pytest.raises(BelamyError, match="already exists"):
        bm.save_bookmark(run, "anna", mixed)
    back = resolve({"bookmark": "anna"}, G, run)
    assert torch.equal(back.ws, mixed.ws) and back.spec["bookmark"] == "anna"
    marks = {b["name"]: b for b in bm.list_bookmarks(run)}
    assert marks["anna"]["note"] == "the coarse of 2" and marks["anna"]["source"] == mixed.spec
    assert np.array_equal(render_latent(G, back), render_latent(G, mixed))
    with pytest.raises(BelamyError, match="no bookmark 'bob'.*known: .*anna"):
        resolve({"bookmark": "bob"}, G, run)
    with pytest.raises(BelamyError, match="not allowed"):
        bm.save_bookmark(run, "../evil", mixed)
    stale = dict(back.spec, sha256="0" * 64)
    with pytest.raises(BelamyError, match="changed since"):
        resolve(stale, G, run)
    # a bookmark is a keyframe like any other
    frames = list(walk_frames(G, [back, resolve({"seed": 4}, G)], WalkConfig(seconds=0.3, fps=10)))
    assert np.array_equal(frames[0], render_latent(G, back))


def test_dcgan_walks_and_projects_but_does_not_mix(tmp_path, G):
    from belamy.generate.latents import parse_layers, save_latent

    stylegan = G
    run = tiny_run(tmp_path, "dcgan")
    G = run.generator("cpu")
    assert G.num_ws == 1
    frames = list(walk_frames(G, [resolve({"seed": 1}, G), resolve({"seed": 2}, G)], WalkConfig(seconds=0.4, fps=10)))
    assert len(frames) == 4
    proj = project_array(G, render_batch(G, [3])[0], ProjectConfig(steps=30, video=False), progress=False)
    assert proj.quality["psnr"] > proj.quality["psnr_start"] and not proj.latent.noise
    with pytest.raises(BelamyError, match="StyleGAN2"):
        parse_layers("coarse", G.num_ws, G.resolution)
    save_latent(tmp_path / "dc.safetensors", proj.latent)  # a DCGAN latent is refused by a StyleGAN2 run
    with pytest.raises(BelamyError, match="another run"):
        resolve({"file": str(tmp_path / "dc.safetensors")}, stylegan)


def test_fastgan_truncates_mixes_and_projects(tmp_path):
    """The FastGAN-style model keeps a W space: every W-space tool works on it as on the default."""
    from belamy.generate.latents import parse_layers
    from belamy.generate.mixing import mix

    run = tiny_run(tmp_path, "fastgan")
    G = run.generator("cpu")
    assert G.num_ws == 6 and parse_layers("coarse", G.num_ws, G.resolution) == (0, 3)
    a, b = render_batch(G, [1, 2], truncation=0.0)
    assert np.abs(a.astype(int) - b).max() <= 1  # psi 0: the mean w for every seed
    m = mix(run, {"seed": 1}, [("middle", {"seed": 2})], tmp_path / "mix.png", device="cpu")
    assert np.array_equal(reproduce(m.record), m.image)
    assert not np.array_equal(m.image, render_batch(G, [1])[0])
    proj = project_array(G, render_batch(G, [3])[0], ProjectConfig(steps=30, video=False), progress=False)
    assert proj.quality["psnr"] > proj.quality["psnr_start"]
