"""Training behaviour users rely on: exact resume, clean outputs, the watchdog, sampling records."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import pattern_collection, tiny_config
from safetensors.torch import load_file

from belamy.api.sample import sample
from belamy.api.train import train
from belamy.core.errors import BelamyError
from belamy.training import checkpoint as ckpt


@pytest.fixture(scope="module")
def tiny_collection(tmp_path_factory) -> Path:
    return pattern_collection(tmp_path_factory.mktemp("coll"), count=24, side=48)


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(ckpt.latest(run_dir) / ckpt.TENSORS))


@pytest.mark.parametrize("name, augment, shared, amp", [("stylegan2", "ada", False, "off"), ("dcgan", "none", False, "off"),
                                                       ("stylegan2", "ada", True, "off"), ("stylegan2", "ada", True, "bf16"),
                                                       ("fastgan", "ada", True, "off")])
def test_resume_equals_uninterrupted(tiny_collection: Path, tmp_path: Path, name: str, augment: str,
                                     shared: bool, amp: str):
    cfg = tiny_config(name, augment)
    cfg.steps, cfg.shared_fakes, cfg.amp = 8, shared, amp
    train(tiny_collection, tmp_path / "straight", cfg, progress=False)

    half = tiny_config(name, augment)
    half.steps, half.shared_fakes, half.amp = 4, shared, amp
    train(tiny_collection, tmp_path / "resumed", half, progress=False)
    run = train(None, tmp_path / "resumed", resume=True, progress=False, steps=8)
    assert run.stop_reason == "budget"

    a, b = weights(tmp_path / "straight"), weights(tmp_path / "resumed")
    assert a.keys() == b.keys()
    assert any(k.startswith("opt_D/") for k in a) and "rng/torch" in a
    for k in a:
        assert torch.equal(a[k], b[k]), k
    sa = json.loads((ckpt.latest(tmp_path / "straight") / ckpt.STATE).read_text())["train_state"]
    sb = json.loads((ckpt.latest(tmp_path / "resumed") / ckpt.STATE).read_text())["train_state"]
    assert sa["step"] == sb["step"] == 8 and sa["images"] == 64 and sa["aug"] == sb["aug"]
    precision = "bfloat16 autocast" if amp == "bf16" else "float32"
    assert f"on 1 x cpu in {precision}." in (tmp_path / "straight" / "MODEL_CARD.md").read_text()
    # and the weights really changed during training
    from belamy.models import build_generator

    init = build_generator(cfg.model, seed=cfg.seed).state_dict()
    assert any(not torch.equal(init[k[2:]], a[k]) for k in a if k.startswith("G/") and k[2:] in init)


def test_shared_fakes_give_g_its_exact_gradient(tiny_collection: Path, tmp_path: Path, monkeypatch):
    """One batch of fakes for both phases trains exactly as two forward passes of G on the same
    latents and noise would: the kept graph is G's, at the parameters it had (G does not change
    during the D phase), evaluated by the updated D. And G runs forward once a step, not twice."""
    from belamy.training import step

    calls = []

    def run(out: str, shared: bool) -> dict[str, torch.Tensor]:
        cfg = tiny_config("stylegan2", "ada")
        cfg.steps, cfg.shared_fakes = 3, shared
        from belamy.models.stylegan2 import StyleGAN2Generator

        calls.clear()
        orig = StyleGAN2Generator.forward
        monkeypatch.setattr(StyleGAN2Generator, "forward",
                            lambda self, *a, **k: calls.append(self.training) or orig(self, *a, **k))
        train(tiny_collection, tmp_path / out, cfg, progress=False)
        monkeypatch.setattr(StyleGAN2Generator, "forward", orig)
        return weights(tmp_path / out)

    shared = run("shared", True)
    assert calls.count(True) == 3  # one training-mode forward of G per step
    # Two passes that draw the D phase's fakes from the G phase's latents and noise.
    monkeypatch.setattr(step, "PURPOSES", {**step.PURPOSES, "z_d": step.PURPOSES["z_g"],
                                           "noise_d": step.PURPOSES["noise_g"]})
    twice = run("twice", False)
    assert calls.count(True) == 6
    for k in shared:
        assert torch.equal(shared[k], twice[k]), k
    monkeypatch.undo()
    assert not torch.equal(shared["G/synthesis.blocks.0.const"], run("fresh", False)["G/synthesis.blocks.0.const"])


@pytest.mark.parametrize("pause", [3, 5])  # before and after the switch to the full batch
def test_start_batch_switches_by_images_and_resumes_exactly(tiny_collection: Path, tmp_path: Path, pause: int):
    def config(steps: int):
        cfg = tiny_config("stylegan2", "ada")
        cfg.batch_start, cfg.batch_start_kimg, cfg.steps = 4, 0.016, steps  # 4 steps of 4, then 8
        return cfg

    straight = train(tiny_collection, tmp_path / "straight", config(7), progress=False)
    train(tiny_collection, tmp_path / "resumed", config(pause), progress=False)
    train(None, tmp_path / "resumed", resume=True, progress=False, steps=7)
    a, b = weights(tmp_path / "straight"), weights(tmp_path / "resumed")
    for k in a:
        assert torch.equal(a[k], b[k]), k
    state = json.loads((ckpt.latest(tmp_path / "straight") / ckpt.STATE).read_text())["train_state"]
    assert state["images"] == 4 * 4 + 3 * 8 == config(7).images_after(7)
    assert "Batch 8 (4 for the first 0.016 kimg)" in (straight.path / "MODEL_CARD.md").read_text()


def test_lr_rampdown_lowers_the_rates_over_the_budgets_end_and_resumes_exactly(tiny_collection: Path, tmp_path: Path,
                                                                              monkeypatch):
    """The last half of an 8-step budget runs at cosine-lowered rates (the step after k of 8 steps
    uses factor cos ramp of k/8), G's and lazy-R1-scaled D's alike, and a run stopped midway (not
    by its budget) resumes onto the same ramp bit for bit."""
    from belamy.training.config import TrainConfig
    from belamy.training.loop import Trainer

    def config():
        cfg = tiny_config("stylegan2", "ada")
        cfg.steps, cfg.lr_rampdown = 8, 0.5
        return cfg

    rates: list[tuple[float, float]] = []
    orig_step = Trainer.train_step

    def step(self):
        orig_step(self)
        rates.append((self.opt_G.param_groups[0]["lr"], self.opt_D.param_groups[0]["lr"] / self.base_lrs["D"]))

    monkeypatch.setattr(Trainer, "train_step", step)
    train(tiny_collection, tmp_path / "straight", config(), progress=False)
    cos = [1, 1, 1, 1, 1, 0.5 * (1 + np.cos(np.pi * 0.25)), 0.5, 0.5 * (1 - np.cos(np.pi * 0.25))]
    assert np.allclose([g for g, _ in rates], [0.0025 * f for f in cos])
    assert np.allclose([d for _, d in rates], cos)
    assert config().lr_factor(1.0) == 0.0 and TrainConfig(lr_rampdown=0.0).lr_factor(0.99) == 1.0
    stats = [json.loads(x) for x in (tmp_path / "straight" / "stats.jsonl").read_text().splitlines()]
    assert [s["lr_factor"] for s in stats if "lr_factor" in s][-1] == 0.0  # logged after the last step

    orig_done = Trainer._budget_done
    monkeypatch.setattr(Trainer, "_budget_done", lambda self, seconds: self.state.step >= 5 or orig_done(self, seconds))
    train(tiny_collection, tmp_path / "resumed", config(), progress=False)  # stopped inside the ramp, budget unspent
    monkeypatch.setattr(Trainer, "_budget_done", orig_done)
    train(None, tmp_path / "resumed", resume=True, progress=False)
    a, b = weights(tmp_path / "straight"), weights(tmp_path / "resumed")
    for k in a:
        assert torch.equal(a[k], b[k]), k

    bad = config()
    bad.lr_rampdown = 1.5
    with pytest.raises(BelamyError, match="lr_rampdown"):
        bad.validate()


def test_run_outputs(tiny_collection: Path, tmp_path: Path):
    cfg = tiny_config()
    cfg.steps = 6
    run = train(tiny_collection, tmp_path / "run", cfg, progress=False)
    out = run.path
    for name in ("config.json", "run.json", "generator.safetensors", "MODEL_CARD.md", "stats.jsonl", "curves.png"):
        assert (out / name).is_file(), name
    assert (out / "samples" / "reals.png").is_file()
    assert len(list((out / "samples").glob("fakes-*.png"))) >= 2
    ckpts = sorted(p.name for p in (out / "checkpoints").glob("step-*"))
    assert len(ckpts) == 2 and ckpts[-1] == "step-00000006"  # keep-last-2
    assert (out / "checkpoints" / "latest").read_text().strip() == "step-00000006"
    stats = [json.loads(x) for x in (out / "stats.jsonl").read_text().splitlines()]
    assert stats[-1]["step"] == 6 and {"loss_D", "loss_G", "aug_p", "img_s", "time", "mem_mb"} <= set(stats[-1])
    card = (out / "MODEL_CARD.md").read_text()
    assert "24 images" in card and "Karras" in card and "Goodfellow" in card
    assert "## Code credited" in card and "stylegan2-ada-pytorch" in card and "Apache-2.0" in card
    saved = json.loads((out / "config.json").read_text())
    assert saved["steps"] == 6 and saved["model"]["name"] == "stylegan2"
    with pytest.raises(BelamyError, match="--resume"):
        train(tiny_collection, out, cfg, progress=False)


def test_sample_records_reproduce_bit_for_bit(tiny_collection: Path, tmp_path: Path):
    from belamy.generate.sample import reproduce

    cfg = tiny_config()
    cfg.steps = 2
    run = train(tiny_collection, tmp_path / "run", cfg, progress=False)
    paths = sample(run, [3, 7, 85], tmp_path / "out", truncation=0.7, progress=False)
    assert [p.name for p in paths] == ["seed0003.png", "seed0007.png", "seed0085.png"]
    assert (tmp_path / "out" / "grid.png").is_file()
    record = json.loads((tmp_path / "out" / "seed0085.record.json").read_text())
    assert record["seed"] == 85 and record["truncation"] == 0.7 and len(record["generator_sha256"]) == 64
    from PIL import Image

    again = reproduce(tmp_path / "out" / "seed0085.record.json")
    assert np.array_equal(np.asarray(Image.open(paths[2])), again)
    other = np.asarray(Image.open(paths[0]))
    assert not np.array_equal(other, again)
    # random noise inputs are seeded per render: reproducible too, whatever the batch
    noisy = sample(run, [5, 6], tmp_path / "noisy", noise_mode="random", progress=False)
    again = reproduce(tmp_path / "noisy" / "seed0006.record.json")
    assert np.array_equal(np.asarray(Image.open(noisy[1])), again)


def test_watchdog_rolls_back_on_nan(tiny_collection: Path, tmp_path: Path, monkeypatch):
    from belamy.training import phases

    real_g_main = phases.g_main
    calls = {"n": 0}

    def poisoned(t, inp):
        calls["n"] += 1
        loss, stats = real_g_main(t, inp)
        if calls["n"] == 5:  # one step blows up
            loss = loss * float("nan")
        return loss, stats

    monkeypatch.setattr(phases, "g_main", poisoned)
    import belamy.training.loop as loop

    monkeypatch.setattr(loop, "g_main", poisoned)
    cfg = tiny_config()
    cfg.steps = 8
    run = train(tiny_collection, tmp_path / "run", cfg, progress=False)
    events = [json.loads(x) for x in (run.path / "stats.jsonl").read_text().splitlines()]
    rollbacks = [e for e in events if e.get("event") == "rollback"]
    assert len(rollbacks) == 1 and "rolled back" in rollbacks[0]["message"]
    final = json.loads((ckpt.latest(run.path) / ckpt.STATE).read_text())["train_state"]
    assert final["step"] == 8 and final["rollbacks"] == 1 and final["lr_scale"] == 0.5
    w = weights(run.path)
    assert all(torch.isfinite(v).all() for k, v in w.items() if v.is_floating_point())


def test_runs_from_before_cpu_bf16_resume_in_float32(tiny_collection: Path, tmp_path: Path, monkeypatch):
    """`--amp auto` became bf16 on CPUs with native bf16; a run made before (no `precision` in
    run.json) trained in float32 and must continue in float32, bit for bit, unless asked."""
    from belamy.core import device

    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: True)
    cfg = tiny_config()
    cfg.amp, cfg.steps = "auto", 4
    train(tiny_collection, tmp_path / "new", cfg, progress=False)
    assert json.loads((tmp_path / "new" / "run.json").read_text())["precision"] == "bfloat16 autocast"
    train(None, tmp_path / "new", resume=True, progress=False, steps=6)
    assert "in bfloat16 autocast." in (tmp_path / "new" / "MODEL_CARD.md").read_text()

    old_cfg = tiny_config()
    old_cfg.amp, old_cfg.steps = "off", 8  # what auto meant on a CPU before
    train(tiny_collection, tmp_path / "straight", old_cfg, progress=False)
    old_cfg.steps = 4
    train(tiny_collection, tmp_path / "old", old_cfg, progress=False)
    # make it look like a run of an older belamy: config `auto`, no precision in run.json
    info = json.loads((tmp_path / "old" / "run.json").read_text())
    del info["precision"]
    (tmp_path / "old" / "run.json").write_text(json.dumps(info))
    state_file = ckpt.latest(tmp_path / "old") / ckpt.STATE
    state = json.loads(state_file.read_text())
    state["config"]["amp"] = "auto"
    state_file.write_text(json.dumps(state))
    train(None, tmp_path / "old", resume=True, progress=False, steps=8)
    assert "in float32." in (tmp_path / "old" / "MODEL_CARD.md").read_text()
    a, b = weights(tmp_path / "straight"), weights(tmp_path / "old")
    for k in a:
        assert torch.equal(a[k], b[k]), k
