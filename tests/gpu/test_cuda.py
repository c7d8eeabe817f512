"""The CUDA paths: device and precision choice, training in bf16 and fp16 (with grad scalers), exact
resume and reproducible sampling on a GPU.

Marked `gpu` (deselected by default: run with `python -m pytest -m gpu`, as
benchmarks/gpu_check.sh does), and skipped where torch sees no CUDA device. The configs are the
CPU suite's tiny ones (tests/conftest.py), moved to the GPU: each run takes seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from belamy.training import checkpoint as ckpt
from belamy.training.train import train
from conftest import pattern_collection, run_cli, tiny_config

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (torch.cuda.is_available() is False)")]

PRECISION = {"bf16": "bfloat16 autocast", "fp16": "float16 autocast", "off": "float32"}


@pytest.fixture(scope="module")
def tiny_collection(tmp_path_factory) -> Path:
    return pattern_collection(tmp_path_factory.mktemp("coll"), count=24, side=48)


def cuda_config(name: str, augment: str, amp: str, steps: int):
    cfg = tiny_config(name, augment)
    cfg.device, cfg.amp, cfg.steps = "cuda", amp, steps
    return cfg


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(ckpt.latest(run_dir) / ckpt.TENSORS))


def saved_state(run_dir: Path) -> dict:
    return json.loads((ckpt.latest(run_dir) / ckpt.STATE).read_text())


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], what: str) -> None:
    assert a.keys() == b.keys()
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    assert not differ, f"{what}: {len(differ)} of {len(a)} tensors differ, first {differ[:5]}"


# -- device and precision choice ----------------------------------------------------------------
def test_pick_device_and_amp_on_cuda():
    from belamy.core.device import pick_amp, pick_device
    from belamy.training.distributed import setup

    n = torch.cuda.device_count()
    assert pick_device("auto") == torch.device("cuda", 0)  # CUDA before MPS and the CPU
    assert pick_device("cuda") == torch.device("cuda", 0)
    assert pick_device("CUDA", local_rank=n + 1) == torch.device("cuda", (n + 1) % n)  # a rank's own GPU
    assert pick_device("cuda:0") == torch.device("cuda", 0)
    assert pick_device("cpu") == torch.device("cpu")

    dev = torch.device("cuda", 0)
    auto = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    assert pick_amp("auto", dev) == auto
    assert pick_amp("bf16", dev) == torch.bfloat16
    assert pick_amp("fp16", dev) == torch.float16
    assert pick_amp("off", dev) is None

    fp16 = setup("cuda", "fp16")
    assert fp16.device.type == "cuda" and fp16.world == 1
    assert fp16.needs_grad_scaler and fp16.precision == "float16 autocast"
    bf16 = setup("cuda", "bf16")
    assert not bf16.needs_grad_scaler and bf16.precision == "bfloat16 autocast"
    with bf16.autocast():
        y = torch.nn.functional.linear(torch.randn(4, 8, device="cuda"), torch.randn(8, 8, device="cuda"))
    assert y.dtype == torch.bfloat16
    assert setup("cuda", "off").precision == "float32"


# -- training -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, augment, amp", [("stylegan2", "ada", "bf16"), ("stylegan2", "ada", "fp16"),
                                                ("dcgan", "none", "off")])
def test_tiny_training_on_cuda(tiny_collection: Path, tmp_path: Path, name: str, augment: str, amp: str):
    from belamy.models import build_generator

    cfg = cuda_config(name, augment, amp, steps=6)
    run = train(tiny_collection, tmp_path / "run", cfg, progress=False)
    assert run.stop_reason == "budget"
    assert f"on 1 x cuda in {PRECISION[amp]}." in (run.path / "MODEL_CARD.md").read_text()
    assert run.info["precision"] == PRECISION[amp]

    state = saved_state(run.path)
    assert state["train_state"]["step"] == 6 and state["config"]["device"] == "cuda"
    if amp == "fp16":  # fp16 trains through a grad scaler per phase, and the checkpoint keeps them
        assert set(state["scalers"]) == {"D", "R1", "G"}
        assert all(s["scale"] > 0 for s in state["scalers"].values())
    else:
        assert state["scalers"] == {}

    w = weights(run.path)
    assert all(bool(t.isfinite().all()) for k, t in w.items() if t.is_floating_point()), "non-finite weights"
    init = build_generator(cfg.model, seed=cfg.seed).state_dict()
    assert any(not torch.equal(init[k[2:]], w[k]) for k in w if k.startswith("G/") and k[2:] in init)
    stats = [json.loads(x) for x in (run.path / "stats.jsonl").read_text().splitlines()]
    assert stats and all(s["mem_mb"]["cuda_peak"] > 0 for s in stats if "mem_mb" in s)
    assert all(np.isfinite(s["loss_D"]) and np.isfinite(s["loss_G"]) for s in stats if "loss_D" in s)

    # the exported generator renders on the GPU (and loads on the CPU)
    from belamy.generate.sample import sample

    imgs = sample(run, [0, 1], tmp_path / "renders", device="cuda")
    assert len(imgs) == 2 and Image.open(imgs[0]).size == (32, 32)


@pytest.mark.parametrize("name, augment, amp", [("stylegan2", "ada", "bf16"), ("stylegan2", "ada", "fp16"),
                                                ("stylegan2", "diffaug", "off"), ("dcgan", "none", "off")])
def test_resume_equals_uninterrupted_on_cuda(tiny_collection: Path, tmp_path: Path, name: str, augment: str,
                                             amp: str):
    """N steps straight and N/2 + resume + N/2 give the same weights, optimizer, scaler and
    augmentation state bit for bit on the GPU too, as on the CPU (tests/training/test_train_resume.py)."""
    train(tiny_collection, tmp_path / "straight", cuda_config(name, augment, amp, 8), progress=False)
    train(tiny_collection, tmp_path / "resumed", cuda_config(name, augment, amp, 4), progress=False)
    run = train(None, tmp_path / "resumed", resume=True, progress=False, steps=8)
    assert run.stop_reason == "budget"

    a, b = weights(tmp_path / "straight"), weights(tmp_path / "resumed")
    assert any(k.startswith("opt_D/") for k in a) and "rng/torch" in a
    assert_same_weights(a, b, "straight vs resumed")
    sa, sb = saved_state(tmp_path / "straight"), saved_state(tmp_path / "resumed")
    assert sa["train_state"]["step"] == sb["train_state"]["step"] == 8
    assert sa["train_state"]["images"] == sb["train_state"]["images"] == 64
    assert sa["train_state"]["aug"] == sb["train_state"]["aug"]
    assert sa["scalers"] == sb["scalers"]
    assert f"on 1 x cuda in {PRECISION[amp]}." in (tmp_path / "resumed" / "MODEL_CARD.md").read_text()


def test_cuda_training_repeats_itself(tiny_collection: Path, tmp_path: Path):
    """Two identical runs on the GPU give identical weights: what exact resume rests on (if this
    fails, resume cannot be exact either, and the cause is the kernels, not the checkpoint)."""
    for out in ("one", "two"):
        train(tiny_collection, tmp_path / out, cuda_config("stylegan2", "ada", "bf16", 4), progress=False)
    assert_same_weights(weights(tmp_path / "one"), weights(tmp_path / "two"), "run one vs run two")


# -- sampling ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cuda_run(tiny_collection: Path, tmp_path_factory):
    cfg = cuda_config("stylegan2", "diffaug", "bf16", 2)
    return train(tiny_collection, tmp_path_factory.mktemp("cuda-run") / "run", cfg, progress=False)


@pytest.mark.parametrize("noise", ["const", "random"])
def test_sampling_on_cuda_matches_its_records(cuda_run, tmp_path: Path, noise: str):
    from belamy.generate.sample import reproduce, sample

    seeds = list(range(20))  # more than one batch of 16
    paths = sample(cuda_run, seeds, tmp_path / "renders", truncation=0.7, noise_mode=noise, device="cuda")
    assert len(paths) == len(seeds) and (tmp_path / "renders" / "grid.png").is_file()
    for png in paths[::3]:
        record_path = png.with_name(png.stem + ".record.json")
        record = json.loads(record_path.read_text())
        assert record["device"] == "cuda" and record["noise_mode"] == noise
        pixels = np.asarray(Image.open(png))
        assert np.array_equal(reproduce(record_path, device="cuda"), pixels), png.name
    if noise == "random":  # a CUDA generator draws other noise than a CPU one: no comparison across devices
        return
    # with constant noise the same seeds render the same pictures on the CPU, up to rounding (not bit for bit)
    again = sample(cuda_run, seeds[:4], tmp_path / "cpu", truncation=0.7, noise_mode=noise, device="cpu")
    diff = [np.abs(np.asarray(Image.open(c), np.int16) - np.asarray(Image.open(g), np.int16)).mean()
            for c, g in zip(again, paths[:4])]
    assert max(diff) < 4.0, diff


def test_sample_cli_re_renders_a_record_on_cuda(cuda_run, tmp_path: Path, monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "sample", str(cuda_run.path), "--seeds", "3,7", "--device", "cuda",
                           "-o", str(tmp_path / "renders"))
    assert code == 0, err
    record = tmp_path / "renders" / "seed0007.record.json"
    assert json.loads(record.read_text())["device"] == "cuda"
    code, _, err = run_cli(monkeypatch, capsys, "sample", "--record", str(record), "--device", "cuda",
                           "-o", str(tmp_path / "again.png"))
    assert code == 0, err
    assert np.array_equal(np.asarray(Image.open(tmp_path / "again.png")),
                          np.asarray(Image.open(tmp_path / "renders" / "seed0007.png")))
