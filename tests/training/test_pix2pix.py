"""pix2pix on the training machinery: pairs, exact resume, previews, translate and its records."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import pattern_collection, run_cli
from PIL import Image
from safetensors.torch import load_file

from belamy.api.train import train
from belamy.core.errors import BelamyError
from belamy.data.pairs import Pairs, derive_pairs, edges
from belamy.generate.translate import reproduce_translation, translate
from belamy.models import build_discriminator, build_generator, presets
from belamy.training import checkpoint as ckpt
from belamy.training.presets import train_preset

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny(steps: int):
    cfg = train_preset("pix2pix-64")
    cfg.model = presets.pix2pix(32, ngf=8, ndf=8, patch_layers=2)
    cfg.batch, cfg.steps, cfg.device, cfg.amp = 4, steps, "cpu", "off"
    cfg.checkpoint_kimg, cfg.preview_kimg, cfg.log_steps, cfg.keep = 0.008, 0.008, 2, 2
    return cfg


@pytest.fixture(scope="module")
def pairs(tmp_path_factory) -> Pairs:
    root = tmp_path_factory.mktemp("pairs")
    coll = pattern_collection(root, count=12, side=40)
    return derive_pairs(coll, root / "pairs", "edges")


def test_models_shapes():
    cfg = presets.pix2pix(64, ngf=8, ndf=8)
    G, D = build_generator(cfg, seed=0), build_discriminator(cfg, seed=1)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    y = G(x)
    assert y.shape == (2, 3, 64, 64) and float(y.abs().max()) <= 1
    assert D(torch.cat([x, y], 1)).shape == (2, 36)  # 6x6 patches at 64 px with 3 strided layers
    G.eval()
    assert torch.equal(G(x), G(x))  # no dropout outside training: a translation is deterministic


def test_pairs_are_aligned_and_reopen(pairs: Pairs):
    assert len(pairs) == 12 and pairs.size == 32 and (pairs.path / "preview.png").is_file()
    i = 5
    assert np.array_equal(pairs.condition.images[i], edges(np.asarray(pairs.target.images[i])))
    assert pairs.load().shape == (12, 32, 32, 6)
    assert Pairs.open(pairs.path).meta["condition"] == "edges"


def test_jitter_scales_and_crops_both_images_of_a_pair_alike():
    from belamy.training.config import TrainConfig
    from belamy.training.dataset import Dataset

    rng = np.random.default_rng(0)
    half = rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    data = Dataset(np.concatenate([half, half], -1), 32, torch.device("cpu"), seed=0, mirror=True, jitter=0.1172)
    plain = Dataset(np.concatenate([half, half], -1), 32, torch.device("cpu"), seed=0, mirror=True)
    x = data.batch(torch.arange(4), step=3, rows=slice(0, 4))
    assert x.shape == (4, 6, 32, 32) and data.jitter == 36  # 32 px scaled to 36, cropped back to 32
    assert torch.equal(x[:, :3], x[:, 3:])  # the condition and the target stay aligned
    assert torch.equal(x, data.batch(torch.arange(4), step=3, rows=slice(0, 4)))  # a function of the step
    assert not torch.equal(x, data.batch(torch.arange(4), step=4, rows=slice(0, 4)))
    assert torch.equal(x[1:3], data.batch(torch.arange(4), step=3, rows=slice(1, 3)))  # a rank's rows agree
    assert not torch.equal(x, plain.batch(torch.arange(4), step=3, rows=slice(0, 4)))
    assert train_preset("pix2pix-128").jitter == pytest.approx(286 / 256 - 1, abs=1e-4)  # the paper's 256 -> 286
    cfg = TrainConfig(steps=1, jitter=0.1)
    with pytest.raises(BelamyError, match="jitter is pix2pix's augmentation"):
        cfg.validate()


def test_pair_errors(pairs: Pairs, tmp_path: Path):
    with pytest.raises(BelamyError, match="unknown condition 'sketch'"):
        derive_pairs(pairs.target.path, tmp_path / "x", "sketch")
    with pytest.raises(BelamyError, match="have no pose in their manifest.*belamy\\[pose\\]"):
        derive_pairs(pairs.target.path, tmp_path / "x", "pose")
    with pytest.raises(BelamyError, match="already holds pairs"):
        derive_pairs(pairs.target.path, pairs.path, "edges")
    with pytest.raises(BelamyError, match="is a collection, but pix2pix trains on pairs"):
        train(pairs.target.path, tmp_path / "run", tiny(2), progress=False)
    with pytest.raises(BelamyError, match="not a belamy pairs folder"):
        Pairs.open(tmp_path)


def test_resume_equals_uninterrupted(pairs: Pairs, tmp_path: Path):
    train(pairs.path, tmp_path / "straight", tiny(6), progress=False)
    train(pairs.path, tmp_path / "resumed", tiny(3), progress=False)
    train(None, tmp_path / "resumed", resume=True, progress=False, steps=6)
    a = load_file(str(ckpt.latest(tmp_path / "straight") / ckpt.TENSORS))
    b = load_file(str(ckpt.latest(tmp_path / "resumed") / ckpt.TENSORS))
    assert a.keys() == b.keys() and any(k.startswith("opt_G/") for k in a)
    for k in a:
        assert torch.equal(a[k], b[k]), k
    stats = [json.loads(x) for x in (tmp_path / "straight" / "stats.jsonl").read_text().splitlines()]
    assert {"loss_D", "loss_G", "L1", "G_gan"} <= set(stats[-1])
    # previews show condition | output | target
    fakes = sorted((tmp_path / "straight" / "samples").glob("fakes-*.png"))
    assert fakes and Image.open(fakes[-1]).width > Image.open(fakes[-1]).height


def test_l1_falls_and_translate_records_rerender(pairs: Pairs, tmp_path: Path):
    cfg = tiny(40)
    cfg.lr_g = cfg.lr_d = 1e-3
    run = train(pairs.path, tmp_path / "run", cfg, progress=False)
    stats = [json.loads(x) for x in (run.path / "stats.jsonl").read_text().splitlines() if '"L1"' in x]
    assert stats[-1]["L1"] < stats[0]["L1"]
    src = tmp_path / "inputs"
    src.mkdir()
    for i in (0, 7):
        Image.fromarray(np.asarray(pairs.condition.images[i])).resize((50, 40)).save(src / f"c{i}.png")
    paths = translate(run, sorted(src.glob("*.png")), tmp_path / "out", device="cpu", progress=False)
    rec = json.loads(paths[0].with_name(paths[0].stem + ".record.json").read_text())
    assert rec["kind"] == "translation" and rec["input_sha256"]
    again = reproduce_translation(rec)
    assert np.array_equal(again, np.asarray(Image.open(paths[0]).convert("RGB")))
    (src / "c0.png").write_bytes((src / "c7.png").read_bytes())
    with pytest.raises(BelamyError, match="gone or changed"):
        reproduce_translation(rec)


def test_cli(pairs: Pairs, tmp_path: Path, monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "pairs", str(pairs.target.path), "--condition", "blur",
                             "-o", str(tmp_path / "blur"))
    assert code == 0 and "12 pairs (blur -> image)" in out, err
    code, out, err = run_cli(monkeypatch, capsys, "train-pair", str(tmp_path / "blur"), "-o", str(tmp_path / "run"),
                             "--steps", "2", "--set", "model.resolution=32", "--set", "model.g_channel_base=128",
                             "--set", "model.d_channel_base=128", "--device", "cpu")
    assert code == 0, err
    code, out, err = run_cli(monkeypatch, capsys, "translate", str(tmp_path / "run"),
                             str(tmp_path / "blur" / "preview.png"), "-o", str(tmp_path / "t"))
    assert code == 0 and "translated 1 images" in out, err
    code, out, err = run_cli(monkeypatch, capsys, "train-pair", str(pairs.target.path), "-o", str(tmp_path / "r2"),
                             "--steps", "2")
    assert code == 2 and "is a collection" in err and err.count("\n") == 1


def test_pairs_from_two_folders_by_name(tmp_path: Path, monkeypatch, capsys):
    a, b = tmp_path / "A", tmp_path / "B"
    for d in (a, b):
        d.mkdir()
    rng = np.random.default_rng(0)
    for i in range(5):
        img = Image.fromarray(rng.integers(0, 255, (6, 5, 3), np.uint8)).resize((40, 48), Image.Resampling.NEAREST)
        img.save(a / f"{i:03d}.png")
        (img if i != 2 else img.rotate(90)).save(b / f"{i:03d}.jpg", quality=95)
    Image.new("RGB", (8, 8)).save(a / "lonely.png")
    (b / "003.jpg").write_bytes(b"not an image")
    code, out, err = run_cli(monkeypatch, capsys, "collect", "--pairs", str(a), str(b), "-o", str(tmp_path / "P"),
                             "--size", "32")
    assert code == 0 and "4 pairs at 32 px" in out, err
    p = Pairs.open(tmp_path / "P")
    report = json.loads((tmp_path / "P" / "report.json").read_text())
    assert [r["id"] for r in p.target.manifest] == ["000", "001", "002", "004"]
    assert report["only_in_condition"][0].endswith("lonely.png") and report["skipped"][0]["pair"] == "003"
    diff = [np.abs(p.condition.images[i].astype(int) - p.target.images[i]).mean() for i in range(4)]
    assert diff[0] < 8 and diff[3] < 8 and diff[2] > 30  # row i pairs A/i with B/i (B/002 is rotated)
    code, out, err = run_cli(monkeypatch, capsys, "collect", "--pairs", str(a), str(tmp_path / "none"), "-o",
                             str(tmp_path / "Q"))
    assert code == 2 and "is not a folder" in err
