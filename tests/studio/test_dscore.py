"""The discriminator's score on a tiny run: computed by a background job with the run's D, cached
in the state per checkpoint, and a sort key; renders whose run is absent are skipped."""

from __future__ import annotations

import time

from belamy.studio.service import Studio
from tests.studio.conftest import write_render


def test_dscore_job_scores_caches_and_sorts(run, tmp_path):
    from belamy.api.sample import sample

    sample(run, [1, 2, 3, 4], tmp_path / "r", originality=False, device="cpu", progress=False, grid=False)
    write_render(tmp_path / "r", 50)  # its run (/runs/run-a) is not here: skipped
    studio = Studio([tmp_path / "r"], tmp_path / "state", warm=False, device="cpu")
    try:
        job = studio.start_job({"kind": "dscore"})
        deadline = time.monotonic() + 60
        while studio.jobs.get(job["id"])["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert studio.jobs.get(job["id"])["status"] == "done"
        assert not (studio.jobs.root / job["id"]).exists()
        scores = studio.dscores()
        assert len(scores) == 4 and all(isinstance(v, float) for v in scores.values())
        rows = studio.state.read("SELECT checkpoint FROM dscores")
        assert all("step-" in ck for (ck,) in rows)
        page = studio.page({"sort": "-dscore"})
        names = [i["name"] for i in page["items"]]
        assert names[-1] == "seed0050.png"  # no score: last
        by_name = {t.name: scores[t.sha256] for t in studio.library.tiles() if t.sha256 in scores}
        assert [by_name[n] for n in names[:4]] == sorted(by_name.values(), reverse=True)
        # a second run scores nothing again (cached for this checkpoint)
        calls = []
        real = studio.dscorer.score
        studio.dscorer.score = lambda *a: calls.append(a) or real(*a)
        studio.score_all()
        assert calls == []
    finally:
        studio.close()
