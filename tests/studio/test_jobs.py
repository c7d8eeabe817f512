"""Background jobs on a tiny run: more like this, a family and an interpolation, run by the worker,
their renders joining the grid; progress, failures, refusals, and a restart mid-queue."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from belamy.core.errors import BelamyError
from belamy.studio.jobs import Jobs
from belamy.studio.service import Studio
from belamy.studio.state import State


def wait_job(studio: Studio, jid: str, seconds: float = 120.0) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        job = studio.jobs.get(jid)
        if job["status"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


@pytest.fixture(scope="module")
def renders(run, tmp_path_factory):
    from belamy.api.sample import sample

    out = tmp_path_factory.mktemp("renders")
    sample(run, [3, 7], out, truncation=0.8, originality=False, device="cpu", progress=False, grid=False)
    return out


def tile(studio: Studio, name: str):
    return next(t for t in studio.library.tiles() if t.name == name)


def test_more_like_this_family_and_interpolate_join_the_grid(renders, tmp_path):
    studio = Studio([renders], tmp_path / "state", warm=False, device="cpu")
    try:
        before = len(studio.library.tiles())
        a, b = tile(studio, "seed0003.png"), tile(studio, "seed0007.png")
        assert studio.detail(a)["run_present"] is True
        more = studio.start_job({"kind": "more", "ids": [a.id], "n": 3, "truncation": 0.5})
        assert more["status"] in ("queued", "running") and more["expected"] == 3
        family = studio.start_job({"kind": "family", "ids": [b.id], "n": 2})
        walk = studio.start_job({"kind": "interpolate", "ids": [a.id, b.id], "seconds": 1})
        for job in (more, family, walk):
            done = wait_job(studio, job["id"])
            assert done["status"] == "done", done["message"]
            assert done["progress"] == 1.0
        assert Path(more["folder"]).parent == renders / "studio-jobs"
        listed = studio.job_list()["jobs"]
        assert [j["id"] for j in listed] == [walk["id"], family["id"], more["id"]]
        names = [t.name for t in studio.library.tiles()]
        assert len(names) == before + 3 + 2 + 1  # 3 + 2 renders and the walk's strip (sheets are kept out)
        page = studio.page({"limit": "100"})
        assert page["total"] == len(names)
        # the new renders are from the run, at the chosen truncation, and can start jobs themselves
        new = [t for t in studio.library.tiles() if t.path.parent == Path(more["folder"])]
        assert len(new) == 3 and all(t.meta["truncation"] == 0.5 and not t.problem for t in new)
        assert studio.detail(new[0])["run_present"] is True
        again = studio.start_job({"kind": "more", "ids": [new[0].id], "n": 1})
        assert wait_job(studio, again["id"])["status"] == "done"
        assert (Path(walk["folder"]) / "walk.gif").stat().st_size > 0
    finally:
        studio.close()
    # a restart serves the job folders again
    again = Studio([renders], tmp_path / "state", warm=False, device="cpu")
    try:
        assert len(again.library.tiles()) == before + 3 + 2 + 1 + 1
    finally:
        again.close()


def test_refusals_are_one_line(renders, tmp_path):
    from tests.studio.conftest import write_render

    other = tmp_path / "other"
    write_render(other, 5)  # its record names /runs/run-a, which is not here
    studio = Studio([renders, other], tmp_path / "state", warm=False, device="cpu")
    try:
        a = tile(studio, "seed0003.png")
        absent = tile(studio, "seed0005.png")
        assert studio.detail(absent)["run_present"] is False
        for body, words in [({"kind": "more", "ids": [absent.id]}, "is not here"),
                            ({"kind": "paint", "ids": [a.id]}, "unknown job kind"),
                            ({"kind": "more", "ids": [a.id], "n": 1000}, "n must be"),
                            ({"kind": "more", "ids": [a.id], "truncation": "high"}, "truncation must be"),
                            ({"kind": "interpolate", "ids": [a.id]}, "starts from 2 renders"),
                            ({"kind": "more", "ids": ["0" * 16]}, "no such render"),
                            ({"kind": "more", "ids": "x"}, "ids must be")]:
            with pytest.raises(BelamyError, match=words):
                studio.start_job(body)
        assert studio.job_list()["jobs"] == []
    finally:
        studio.close()


def test_failures_progress_and_restart(tmp_path):
    state = State(tmp_path / "state")
    seen: list[Path] = []

    def slow(kind, params, folder, device):
        if params.get("fail"):
            raise RuntimeError("boom\nsecond line")
        for i in range(2):
            (folder / f"r{i}.record.json").write_text("{}")
            time.sleep(0.3)
        return [folder / "r0.record.json"]

    jobs = Jobs(state, tmp_path / "jobs", execute=slow, on_done=seen.append)
    bad = jobs.submit("more", {"fail": True}, 1)
    good = jobs.submit("more", {}, 4)
    deadline = time.monotonic() + 10
    while jobs.get(good["id"])["progress"] == 0.0:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert 0 < jobs.get(good["id"])["progress"] < 1
    while jobs.get(good["id"])["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    failed = jobs.get(bad["id"])
    assert failed["status"] == "failed" and failed["message"] == "RuntimeError: boom"
    assert jobs.get(good["id"])["outputs"] == ["r0.record.json"] and seen == [Path(good["folder"])]  # the failed one wrote nothing
    jobs.close()
    # a job cut off while running failed; a queued one runs after a restart
    state.write("UPDATE jobs SET status = 'running' WHERE id = ?", (bad["id"],))
    state.write("UPDATE jobs SET status = 'queued' WHERE id = ?", (good["id"],))
    again = Jobs(state, tmp_path / "jobs", execute=lambda *a: [], on_done=seen.append)
    assert again.get(bad["id"])["message"].startswith("interrupted")
    again.resume()
    deadline = time.monotonic() + 10
    while again.get(good["id"])["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    again.close()
    assert json.loads(state.read("SELECT params FROM jobs WHERE id = ?", (good["id"],))[0][0]) == {}
    state.close()
