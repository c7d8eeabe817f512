"""Super-resolution on the training machinery: crops of the collection, the L1 then GAN stages,
exact resume, previews, the export, and `belamy upscale` with its records."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import pattern, run_cli, sr_collection, tiny_sr_config, tiny_sr_run
from PIL import Image
from safetensors.torch import load_file

from belamy.api.train import train
from belamy.api.upscale import read_upscale_record, upscale
from belamy.core.errors import BelamyError
from belamy.models import build_discriminator, build_generator, presets
from belamy.models.run import Run
from belamy.refine.upscale import TileConfig, upscale_array
from belamy.training import checkpoint as ckpt

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def coll64(tmp_path_factory) -> Path:
    return sr_collection(tmp_path_factory.mktemp("sr"))


def test_models_shapes_and_scale():
    for cfg in (presets.srvgg(4, 64, feat=8, convs=2, d_feat=4), presets.rrdb(2, 32, feat=8, blocks=1, d_feat=4)):
        G, D = build_generator(cfg, seed=0), build_discriminator(cfg, seed=1)
        x = torch.rand(2, 3, 16, 12) * 2 - 1
        assert G(x).shape == (2, 3, 16 * cfg.scale, 12 * cfg.scale) and G.scale == cfg.scale
        assert D(torch.rand(2, 3, cfg.resolution, cfg.resolution)).shape == (2, cfg.resolution ** 2)
        D(G(torch.rand(2, 3, cfg.resolution // cfg.scale, cfg.resolution // cfg.scale))).mean().backward()
        for module in (G, D):
            missing = [n for n, p in module.named_parameters() if p.grad is None]
            assert not missing, f"{cfg.name}: no gradient for {missing}"
    with pytest.raises(BelamyError, match="scale=3 must be 2 or 4"):
        presets.srvgg(3, 64)


def test_two_stages_and_resume_equals_uninterrupted(coll64: Path, tmp_path: Path):
    train(coll64, tmp_path / "straight", tiny_sr_config(6), progress=False)
    rows = [json.loads(line) for line in (tmp_path / "straight" / "stats.jsonl").read_text().splitlines()]
    assert all("loss_D" not in r and "G_gan" not in r for r in rows[:3])  # the L1 stage: G alone
    assert all("loss_D" in r and "G_gan" in r for r in rows[3:])  # then D and the GAN loss
    assert all(0 < r["SSIM"] <= 1 for r in rows)
    train(coll64, tmp_path / "resumed", tiny_sr_config(2), progress=False)  # stops inside the L1 stage
    train(None, tmp_path / "resumed", resume=True, progress=False, steps=6)
    a = load_file(str(ckpt.latest(tmp_path / "straight") / ckpt.TENSORS))
    b = load_file(str(ckpt.latest(tmp_path / "resumed") / ckpt.TENSORS))
    assert a.keys() == b.keys() and any(k.startswith("D/") and k.endswith("_u") for k in a)  # spectral norm's u
    for k in a:
        assert torch.equal(a[k], b[k]), k
    preview = sorted((tmp_path / "straight" / "samples").glob("fakes-*.png"))[-1]
    assert 8 * 3 * 32 <= Image.open(preview).size[0] < 8 * 3 * 32 + 40  # low-res | upscale | original, 8 a row


def test_crops_come_from_the_collection_unresized(coll64: Path, tmp_path: Path):
    from belamy.data.collection import Collection
    from belamy.training.dataset import Dataset

    full = Collection.open(coll64).load()
    data = Dataset(full, 32, torch.device("cpu"), seed=0, mirror=False, crop=True)
    x = data.batch(torch.arange(4), step=7, rows=slice(0, 4))
    assert x.shape == (4, 3, 32, 32)
    for i in range(4):  # each crop is somewhere in its own image, pixel for pixel
        img = torch.from_numpy(full[i]).permute(2, 0, 1).float() / 127.5 - 1
        windows = img.unfold(1, 32, 1).unfold(2, 32, 1)  # (3, 33, 33, 32, 32)
        assert bool((windows == x[i][:, None, None]).flatten(3).all(3).all(0).any())
    assert not torch.equal(x, data.batch(torch.arange(4), step=8, rows=slice(0, 4)))


def test_bad_inputs(coll64: Path, tmp_path: Path):
    cfg = tiny_sr_config(2)
    cfg.model = presets.srvgg(2, 128, feat=8, convs=2, d_feat=4)
    with pytest.raises(BelamyError, match="64 px images, smaller than the 128 px training patch"):
        train(coll64, tmp_path / "big", cfg, progress=False)
    assert not (tmp_path / "big").exists()
    cfg = tiny_sr_config(2)
    cfg.degrade = "jpeg-only"
    with pytest.raises(BelamyError, match="second-order"):
        train(coll64, tmp_path / "bad", cfg, progress=False)


@pytest.fixture(scope="module")
def sr_run(tmp_path_factory) -> Run:
    return tiny_sr_run(tmp_path_factory.mktemp("srrun"))


def test_upscale_any_size_with_records(sr_run: Run, tmp_path: Path):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.full((1, 1, 3), 128, np.uint8)).save(src / "dot.png")  # 1 px
    Image.fromarray(np.asarray(pattern(3, 70, 45))).save(src / "wide.jpg")
    rgba = np.dstack([np.asarray(pattern(4, 40, 30)), np.linspace(0, 255, 40 * 30).reshape(30, 40).astype(np.uint8)])
    Image.fromarray(rgba, "RGBA").save(src / "alpha.png")
    render_record = {"generator_sha256": "ab" * 32, "seed": 7}
    (src / "alpha.record.json").write_text(json.dumps(render_record))
    done = upscale(sr_run, [src / "alpha.png", src / "dot.png", src / "wide.jpg"], tmp_path / "out",
                   tile=16, device="cpu", progress=False)
    by = {u.image.stem: u for u in done}
    assert Image.open(by["dot"].image).size == (2, 2)
    wide = np.asarray(Image.open(by["wide"].image))
    assert wide.shape == (90, 140, 3)
    G = sr_run.generator("cpu")
    whole = upscale_array(G, np.asarray(Image.open(src / "wide.jpg").convert("RGB")), TileConfig(0, 0))
    assert np.array_equal(wide, whole)  # tiles with the model's own overlap leave no seam
    a = by["alpha"]
    assert np.asarray(Image.open(a.image)).shape == (60, 80, 4)
    rec = read_upscale_record(a.record_path)
    assert rec["render"] == render_record and rec["run"]["generator_sha256"] == sr_run.generator_sha256()
    assert rec["output"]["sha256"] == belamy_sha(a.image) and json.loads(Image.open(a.image).text["belamy:upscale"])["input"]
    with pytest.raises(BelamyError, match="already exists: pass --force"):
        upscale(sr_run, [src / "dot.png"], tmp_path / "out", device="cpu", progress=False)


def test_upscale_a_20000_px_image_in_tiles(sr_run: Run, tmp_path: Path):
    """Tiling handles any size: a 20,000 px wide image, read whole, written strip by strip."""
    wide = np.tile(np.asarray(pattern(5, 200, 12)), (1, 100, 1))  # 12 x 20,000 px
    Image.fromarray(wide).save(tmp_path / "wide.png")
    (u,) = upscale(sr_run, [tmp_path / "wide.png"], tmp_path / "out", tile=512, device="cpu", progress=False)
    with Image.open(u.image) as im:
        assert im.size == (40_000, 24)
        out = np.asarray(im)
    assert np.array_equal(out, upscale_array(sr_run.generator("cpu"), wide, TileConfig(0, 0)))  # no seams
    assert u.record["output"]["width"] == 40_000 and u.record["input"]["width"] == 20_000


def belamy_sha(path: Path) -> str:
    from belamy.core.atomic import sha256_file

    return sha256_file(path)


def test_cli_train_sr_and_upscale(coll64: Path, tmp_path: Path, monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "train-sr", str(coll64), "-o", str(tmp_path / "run"), "--scale", "2",
                             "--patch", "32", "--steps", "2", "--set", "model.g_channel_max=8", "--set",
                             "model.sr_blocks=2", "--set", "model.d_channel_max=4", "--device", "cpu")
    assert code == 0, err
    assert Run.open(tmp_path / "run").model_config["scale"] == 2
    img = tmp_path / "x.png"
    Image.fromarray(np.asarray(pattern(1, 20, 20))).save(img)
    code, out, err = run_cli(monkeypatch, capsys, "upscale", str(tmp_path / "run"), str(img), "-o", str(tmp_path / "up"),
                             "--tile", "16")
    assert code == 0, err
    assert Image.open(tmp_path / "up" / "x.png").size == (40, 40)
    code, out, err = run_cli(monkeypatch, capsys, "upscale", str(coll64), str(img), "-o", str(tmp_path / "up2"))
    assert code != 0 and "not a belamy run" in err and len(err.strip().splitlines()) == 1
    code, out, err = run_cli(monkeypatch, capsys, "train-sr", str(coll64), "-o", str(tmp_path / "r2"), "--scale", "3",
                             "--steps", "1")
    assert code != 0 and "--scale 3: use 2 or 4" in err


def test_latent_commands_refuse_an_image_to_image_run(sr_run: Run, tmp_path: Path, monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "sample", str(sr_run.path), "-n", "2", "-o", str(tmp_path / "s"))
    assert code == 2 and "is a srvgg run: it turns images into images (belamy upscale)" in err
    assert len(err.strip().splitlines()) == 1
