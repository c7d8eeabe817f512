"""The chain's optional super-resolution step: `[upscale] run = ...` in the chain config."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_p2p_run, tiny_sr_run
from PIL import Image

from belamy.api.chain import reproduce_chain_render, run_chain
from belamy.chain.config import read_chain_config
from belamy.core.errors import BelamyError
from belamy.generate.rerender import still_from_record

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("chain-sr")
    p2p = tiny_p2p_run(root)
    return p2p, tiny_sr_run(root, steps=2)


def config(tmp_path: Path, p2p, sr_body: str) -> Path:
    path = tmp_path / "chain.toml"
    path.write_text(f'[poses]\ncount = 6\nseed = 3\n\n[translate]\nrun = "{p2p.path}"\n\n[output]\nbatch = 4\n'
                    f'\n[upscale]\n{sr_body}')
    return path


def test_upscaled_chain_records_resumes_and_replays(runs, tmp_path: Path):
    p2p, sr = runs
    cfg = config(tmp_path, p2p, f'run = "{sr.path}"\ntile = 16\n')
    out = tmp_path / "a"
    res = run_chain(cfg, out, device="cpu", progress=False)
    assert (res.rendered, res.skipped) == (6, 0)
    png = out / "renders" / "chain-000005.png"
    arr = np.asarray(Image.open(png).convert("RGB"))
    assert arr.shape == (64, 64, 3)  # 32 px translations, x2
    rec = json.loads((out / "renders" / "chain-000005.record.json").read_text())
    up = rec["upscale"]
    assert up["run"]["id"] == sr.run_id and up["run"]["generator_sha256"] == sr.generator_sha256()
    assert up["run"]["scale"] == 2 and up["tile"] == 16 and up["run"]["model"] == "srvgg"
    assert json.loads((out / "chain.json").read_text())["upscale_generator_sha256"] == sr.generator_sha256()

    # replayed exactly through the api; the generate stage alone refuses in one line
    assert np.array_equal(reproduce_chain_render(rec), arr)
    with pytest.raises(BelamyError, match="super-resolution") as e:
        still_from_record(rec)
    assert "\n" not in str(e.value)

    # a render whose record is missing (killed mid-write) is redone, the rest skipped
    before = png.read_bytes()
    (out / "renders" / "chain-000002.record.json").unlink()
    res = run_chain(cfg, out, device="cpu", progress=False)
    assert (res.rendered, res.skipped) == (1, 5)
    assert np.array_equal(np.asarray(Image.open(png).convert("RGB")), arr) and png.read_bytes() == before

    # the same folder with another upscale config is refused
    with pytest.raises(BelamyError, match="another config"):
        run_chain(config(tmp_path, p2p, f'run = "{sr.path}"\ntile = 0\n'), out, device="cpu", progress=False)


def test_upscale_mistakes_are_one_line(runs, tmp_path: Path):
    p2p, sr = runs
    with pytest.raises(BelamyError, match=r"\[upscale\] run: missing"):
        read_chain_config(config(tmp_path, p2p, "tile = 64\n"))
    with pytest.raises(BelamyError, match=r"\[upscale\]: unknown key 'tiles'"):
        read_chain_config(config(tmp_path, p2p, f'run = "{sr.path}"\ntiles = 64\n'))
    with pytest.raises(BelamyError, match=r"\[upscale\] tile: tile 3 is too small"):
        run_chain(config(tmp_path, p2p, f'run = "{sr.path}"\ntile = 3\n'), tmp_path / "b", device="cpu", progress=False)
    with pytest.raises(BelamyError, match=r"\[upscale\] run: .* not a super-resolution one"):
        run_chain(config(tmp_path, p2p, f'run = "{p2p.path}"\n'), tmp_path / "c", device="cpu", progress=False)


def test_chain_without_upscale_stamps_as_before(runs, tmp_path: Path):
    p2p, _ = runs
    path = tmp_path / "plain.toml"
    path.write_text(f'[translate]\nrun = "{p2p.path}"\n')
    assert "upscale" not in read_chain_config(path).to_dict()


def test_finish_and_rerender_replay_the_upscale(runs, tmp_path: Path):
    from belamy.api.finish import FinishOptions, finish, rerender
    from belamy.finish.printing import PrintConfig
    from belamy.provenance import keys as keys_mod

    p2p, sr = runs
    out = tmp_path / "a"
    run_chain(config(tmp_path, p2p, f'run = "{sr.path}"\n'), out, device="cpu", progress=False)
    keys_mod.init_keys(tmp_path / "keys", "Ada Lovelace")
    res = finish(out / "renders" / "chain-000001.png", tmp_path / "art",
                 FinishOptions(signature=None, printing=PrintConfig(size="64px"), keys=tmp_path / "keys"))
    assert json.dumps(res.record).count('"same_pixels": true') == 1
    # the pix2pix run trained on a pairs folder: its targets' credits are the record's collection
    assert res.record["collection"]["present"] and res.record["collection"]["credits"]
    _, same = rerender(res.artwork)
    assert same
