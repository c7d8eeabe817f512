"""The quality benchmark's idle-minute budgets: how many images a configuration trains in N minutes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/
from common import budget_runs, idle_images, past_budget, train_config, trained_images, variant  # noqa: E402


def test_train_config_reads_preset_and_sets():
    cfg = train_config(["--preset", "cpu-quick-64", "--set", "batch_start=8", "--set", "batch_start_kimg=20"])
    assert (cfg.batch, cfg.batch_start, cfg.batch_start_kimg) == (16, 8, 20)
    assert train_config(["--preset", "dcgan-64"]).batch == 128


def test_variant_spec_becomes_sets_on_the_base():
    name, args = variant("fresh:shared_fakes=false;batch=8", ["--preset", "cpu-quick-64"])
    assert name == "fresh"
    cfg = train_config(args)
    assert (cfg.shared_fakes, cfg.batch) == (False, 8)
    assert train_config(["--preset", "cpu-quick-64"]).shared_fakes  # the preset's own value


def test_idle_images_follow_each_batch_phase():
    speeds = {8: 50.0, 16: 80.0}
    plain = train_config(["--preset", "cpu-quick-64"])
    assert idle_images(plain, 300, speeds) == 24_000
    start = train_config(["--preset", "cpu-quick-64", "--set", "batch_start=8", "--set", "batch_start_kimg=20"])
    assert idle_images(start, 300, speeds) == 15_000  # still at batch 8 (20 kimg take 400 s)
    assert idle_images(start, 600, speeds) == 20_000 + 200 * 80
    with pytest.raises(KeyError):  # a batch with no measured speed is an error, not a guess
        idle_images(start, 600, {16: 80.0})


def test_a_run_trained_further_before_is_past_a_smaller_budget(tmp_path: Path):
    """Re-invoking the benchmark with a smaller budget must not measure a later checkpoint under
    the smaller budget's label; the last step's overshoot (less than a batch) is not 'past'."""
    assert trained_images(tmp_path / "new-run") == 0
    step = tmp_path / "run" / "checkpoints" / "step-00006250"
    step.mkdir(parents=True)
    (step / "state.json").write_text('{"train_state": {"images": 100000}}')
    (step / "tensors.safetensors").write_bytes(b"")
    (step.parent / "latest").write_text(step.name)
    trained = trained_images(tmp_path / "run")
    assert trained == 100_000
    assert past_budget(trained, 35_750, 16)
    assert not past_budget(trained, 100_000, 16) and not past_budget(100_010, 100_000, 16)
    assert not past_budget(0, 35_750, 16)


def test_a_ramped_model_trains_one_run_per_budget():
    assert budget_runs([35.75, 224.4], False, "kimg") == [("", [35.75, 224.4])]
    assert budget_runs([35.75, 224.4], True, "kimg") == [("-35.75kimg", [35.75]), ("-224.4kimg", [224.4])]
    assert budget_runs([5], True, "idle-minutes") == [("", [5])]
    assert train_config(["--preset", "cpu-quick-64", "--set", "lr_rampdown=0.25"]).lr_rampdown == 0.25
