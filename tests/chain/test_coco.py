"""COCO keypoint import (streaming, filtered, with skip reasons) and the `belamy poses` commands."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

from belamy.chain.coco import CocoImportConfig, import_coco
from belamy.core.errors import BelamyError
from belamy.data.pose import FLIP_INDEX, INDEX
from belamy.data.pose_collection import PoseCollection


def person(rng: np.random.Generator, scale: float = 60.0) -> list[float]:
    """17 keypoints of an upright person in a photo's pixels (x, y, v flat), all visible."""
    base = {0: (0, -3.0), 1: (0.15, -3.1), 2: (-0.15, -3.1), 3: (0.35, -3.05), 4: (-0.35, -3.05),
            5: (0.85, -2.2), 6: (-0.85, -2.2), 7: (0.95, -0.8), 8: (-0.95, -0.8), 9: (1.0, 0.3),
            10: (-1.0, 0.3), 11: (0.6, 0.0), 12: (-0.6, 0.0), 13: (0.6, 1.85), 14: (-0.6, 1.85),
            15: (0.6, 3.7), 16: (-0.6, 3.7)}
    ox, oy = rng.uniform(300, 500), rng.uniform(300, 400)
    out: list[float] = []
    for k in range(17):
        x, y = base[k]
        out += [round(ox + scale * x + rng.normal(0, 2), 2), round(oy + scale * y + rng.normal(0, 2), 2), 2]
    return out


def coco_file(path: Path, n_good: int = 300, seed: int = 0, start_id: int = 1) -> dict[str, int]:
    """A synthetic person_keypoints file: n_good people plus bad entries of each kind; the counts."""
    rng = np.random.default_rng(seed)
    anns: list[dict] = []
    ident = start_id

    def add(keypoints, **kw):
        nonlocal ident
        ann = {"id": ident, "image_id": 1000 + ident, "category_id": 1, "iscrowd": 0, "keypoints": keypoints,
               "num_keypoints": 17, "bbox": [300.0, 100.0, 130.0, 420.0], "area": 30000.0,
               "segmentation": [[float(v) for v in rng.uniform(0, 600, 40).round(1)]], **kw}
        anns.append(ann)
        ident += 1

    for _ in range(n_good):
        add(person(rng))
    few = person(rng)
    for k in range(10):  # 7 labelled keypoints left
        few[3 * k:3 * k + 3] = [0, 0, 0]
    bad = {
        "crowd": [dict(keypoints=[0] * 51, iscrowd=1, num_keypoints=0)] * 4,
        "too-few-keypoints": [dict(keypoints=few)] * 5,
        "small-box": [dict(keypoints=person(rng, scale=5.0), bbox=[10, 10, 20, 40])] * 6,
        "wrong-length": [dict(keypoints=person(rng)[:48]), dict(keypoints="nose")],
        "not-finite": [dict(keypoints=[*person(rng)[:51 - 3], "x", 5, 2])] * 2,
        "bad-visibility": [dict(keypoints=[*person(rng)[:-1], 3])] * 3,
        "degenerate": [dict(keypoints=[100.0, 100.0, 2] * 17, bbox=[0, 0, 100, 100])],
    }
    for kws in bad.values():
        for kw in kws:
            add(**kw)
    anns.append({"id": ident, "image_id": 5, "category_id": 1, "bbox": [0, 0, 100, 100]})  # no keypoints
    counts = {k: len(v) for k, v in bad.items()}
    counts["no-keypoints"] = 1
    order = rng.permutation(len(anns))
    doc = {"info": {"description": "COCO 2017 Dataset (synthetic test file)", "url": "http://cocodataset.org"},
           "licenses": [], "images": [{"id": 1000 + i, "file_name": f"{i}.jpg"} for i in range(5)],
           "annotations": [anns[i] for i in order],
           "categories": [{"id": 1, "name": "person", "keypoints": [], "skeleton": []}]}
    path.write_text(json.dumps(doc))
    return counts


def test_import_counts_and_skip_reasons(tmp_path: Path):
    counts = coco_file(tmp_path / "person_keypoints_synth.json")
    coll = import_coco([tmp_path / "person_keypoints_synth.json"], tmp_path / "POSES")
    rep = coll.report
    assert len(coll) == 300 and rep["kept"] == 300 and rep["count"] == 300
    assert rep["skipped"] == counts
    assert rep["seen"] == 300 + sum(counts.values())
    assert all(len(v) >= 1 for v in rep["examples"].values()) and "crowd" in rep["skip_reasons"]
    assert coll.meta["credits"][0]["license"] == "CC-BY-4.0"
    assert rep["files"][0]["info"]["url"] == "http://cocodataset.org"
    # canvas units: box centred, 0.8 tall; left shoulder on the image's right for these front views
    p = coll.poses
    assert np.allclose(p[..., 1].max(1) - p[..., 1].min(1), 0.8, atol=1e-4)
    assert (p[:, INDEX["left_shoulder"], 0] > p[:, INDEX["right_shoulder"], 0]).all()
    row = coll.rows[0]
    assert row["id"].startswith("coco:") and {"file", "image_id", "annotation_id", "box"} <= set(row["source"])
    # lower filters keep more; crowds can be kept
    loose = import_coco([tmp_path / "person_keypoints_synth.json"], tmp_path / "P2",
                        CocoImportConfig(min_visible=5, min_box=0, skip_crowd=False, limit=1000))
    assert set(loose.report["skipped"]) == {"too-few-keypoints", "wrong-length", "not-finite", "bad-visibility",
                                            "degenerate", "no-keypoints"}
    assert loose.report["skipped"]["too-few-keypoints"] == counts["crowd"]  # COCO's crowds have no keypoints
    assert len(loose) == 300 + counts["too-few-keypoints"] + counts["small-box"]


def test_import_mirror_adds_copies_and_limit_and_duplicates(tmp_path: Path):
    coco_file(tmp_path / "a.json", n_good=20, seed=1)
    coll = import_coco([tmp_path / "a.json"], tmp_path / "POSES", CocoImportConfig(mirror=True, height=0.6))
    assert len(coll) == 40 and coll.report["mirrored"] == 20
    orig, mirrored = coll.poses[0::2], coll.poses[1::2]
    assert np.allclose(mirrored[..., 0], 1 - orig[:, FLIP_INDEX, 0], atol=1e-5)
    assert np.allclose(mirrored[..., 1], orig[:, FLIP_INDEX, 1], atol=1e-5)
    assert coll.rows[1]["id"] == coll.rows[0]["id"] + ":mirrored" and coll.rows[1]["source"]["mirrored"]
    assert coll.meta["normalisation"] == {"method": "keypoint box", "height": 0.6, "mirror": True}
    limited = import_coco([tmp_path / "a.json"], tmp_path / "L", CocoImportConfig(limit=7))
    assert len(limited) == 7
    twice = import_coco([tmp_path / "a.json", tmp_path / "a.json"], tmp_path / "T")
    assert len(twice) == 20 and twice.report["skipped"]["duplicate"] == 20


def test_files_that_are_not_coco_keypoints_are_one_line_errors(tmp_path: Path):
    cases = {
        "list.json": ("[1, 2, 3]", "no 'annotations' array"),
        "text.json": ("hello", "not valid JSON"),
        "captions.json": (json.dumps({"annotations": [{"id": i, "caption": "a dog"} for i in range(150)]}),
                          "without keypoints"),
        "few_captions.json": (json.dumps({"annotations": [{"id": 1, "caption": "a dog"}]}), "without keypoints"),
        "truncated.json": ('{"annotations": [{"id": 1, "keypoints": [1, 2', "not valid JSON"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(BelamyError) as e:
            import_coco([tmp_path / name], tmp_path / "out")
        assert message in str(e.value) and "\n" not in str(e.value), name
    assert not (tmp_path / "out" / "poses.json").exists()  # nothing written
    with pytest.raises(BelamyError, match="is not a file"):
        import_coco([tmp_path / "missing.json"], tmp_path / "out")
    with pytest.raises(BelamyError, match="min_visible"):
        import_coco([tmp_path / "list.json"], tmp_path / "out", CocoImportConfig(min_visible=0))
    (tmp_path / "empty.json").write_text('{"annotations": []}')  # COCO, but nobody in it
    assert len(import_coco([tmp_path / "empty.json"], tmp_path / "E")) == 0


def big_coco_file(path: Path, target_mb: float = 50.0) -> int:
    """~target_mb of COCO annotations, mostly segmentation polygons (as the real files are)."""
    polygon = json.dumps([[round(float(v), 2) for v in np.random.default_rng(0).uniform(0, 640, 1600)]])
    rng = np.random.default_rng(1)
    people = [json.dumps(person(rng)) for _ in range(50)]
    n = 0
    with open(path, "w") as fh:
        fh.write('{"info": {"description": "synthetic"}, "images": [], "annotations": [')
        while fh.tell() < target_mb * 1e6:
            fh.write(("," if n else "") + f'{{"id": {n + 1}, "image_id": {n}, "iscrowd": 0, "bbox": [1, 2, 100, 300], '
                     f'"keypoints": {people[n % 50]}, "segmentation": {polygon}}}')
            n += 1
        fh.write("]}")
    return n


class PeakRSS:
    """The growth of this process's resident memory while the block runs (sampled every 2 ms)."""

    def __enter__(self) -> "PeakRSS":
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.start = self.peak = self.rss()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()
        return self

    def rss(self) -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * self.page

    def watch(self) -> None:
        while not self.done.wait(0.002):
            self.peak = max(self.peak, self.rss())

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()
        self.peak = max(self.peak, self.rss())
        self.growth = self.peak - self.start


@pytest.mark.skipif(not Path("/proc/self/statm").is_file(), reason="reads resident memory from /proc")
def test_import_streams_in_bounded_memory(tmp_path: Path):
    n = big_coco_file(tmp_path / "big.json", 50.0)
    assert (tmp_path / "big.json").stat().st_size > 49e6
    with PeakRSS() as mem:
        coll = import_coco([tmp_path / "big.json"], tmp_path / "POSES")
    assert len(coll) == n
    # json.load would hold the whole document: about 260 MB of Python objects for this file
    assert mem.growth < 60e6, f"resident memory grew {mem.growth / 1e6:.0f} MB while reading a 50 MB file"


# ----------------------------------------------------------------------------- the CLI
def test_cli_poses_import_sample_render_show(tmp_path: Path, monkeypatch, capsys):
    coco_file(tmp_path / "person_keypoints_x.json", n_good=30)
    code, out, err = run_cli(monkeypatch, capsys, "poses", "import", str(tmp_path / "person_keypoints_x.json"),
                             "-o", str(tmp_path / "P"), "--min-visible", "8", "--min-box", "64", "--mirror",
                             "--height", "0.7")
    assert code == 0, err
    assert "kept" in out and "small-box" in out and "60" in out
    code, out, err = run_cli(monkeypatch, capsys, "poses", "show", str(tmp_path / "P"))
    assert code == 0 and "coco" in out and "crowd" in out and "mirrored" in out
    code, out, err = run_cli(monkeypatch, capsys, "poses", "sample", "-n", "40", "--seed", "2", "-o",
                             str(tmp_path / "S"))
    assert code == 0, err
    assert "100.0%" in out and len(PoseCollection.open(tmp_path / "S")) == 40
    code, out, err = run_cli(monkeypatch, capsys, "poses", "render", str(tmp_path / "S"), "-o", str(tmp_path / "R"),
                             "--size", "64", "--limit", "5", "--thickness", "0.05", "--joint", "0.02",
                             "--background", "#102030")
    assert code == 0, err
    files = sorted((tmp_path / "R").glob("*.png"))
    assert [f.name for f in files] == [f"pose{i:06d}.png" for i in range(5)]
    from PIL import Image

    im = Image.open(files[0])
    assert im.size == (64, 64) and im.getpixel((0, 0)) == (16, 32, 48)
    assert json.loads(im.text["belamy.pose"])["id"] == "sample:2:0"


def test_cli_errors_are_one_line(tmp_path: Path, monkeypatch, capsys):
    (tmp_path / "x.json").write_text('{"images": []}')
    for args, message in [
        (("poses", "show", str(tmp_path / "none")), "not a belamy pose collection"),
        (("poses", "import", str(tmp_path / "x.json"), "-o", str(tmp_path / "P")), "no 'annotations' array"),
        (("poses", "sample", "-n", "0", "-o", str(tmp_path / "S")), "at least one pose"),
        (("poses", "sample", "-n", "3", "--families", "flying", "-o", str(tmp_path / "S")), "flying"),
        (("poses", "render", str(tmp_path / "none"), "-o", str(tmp_path / "R")), "not a belamy pose collection"),
    ]:
        code, out, err = run_cli(monkeypatch, capsys, *args)
        assert code == 2, (args, out, err)
        assert err.startswith("belamy: error:") and err.strip().count("\n") == 0 and message in err, err
