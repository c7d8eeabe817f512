"""A background job end to end in headless Chromium: open a render of a tiny run, ask for "more
like this", watch the job's progress in the bar and its renders join the grid."""

from __future__ import annotations

import shutil

import pytest

from tests.studio.conftest import chromium_page

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


def test_more_like_this_joins_the_grid_in_chromium(run, tmp_path, studio_server):
    from belamy.api.sample import sample

    renders = tmp_path / "renders"
    sample(run, [1, 2, 3], renders, truncation=0.7, originality=False, device="cpu", progress=False, grid=False)
    srv, _ = studio_server([renders], device="cpu")
    with chromium_page(srv.url, CHROMIUM) as (page, errors):
        expect(page.locator("#grid .tile")).to_have_count(3)
        expect(page.locator("#taste")).to_have_text("taste: rate 30 more to learn it")
        page.locator(".tile", has_text="seed0002.png").click()
        page.keyboard.press(" ")
        page.wait_for_selector("#detail-actions:not([hidden])")
        page.fill("#job-n", "4")
        page.fill("#job-truncation", "0.5")
        page.click("#job-more")
        expect(page.locator("#jobs .job").first).to_have_text("more done", timeout=60_000)
        page.keyboard.press("Escape")
        expect(page.locator("#grid .tile")).to_have_count(7, timeout=10_000)
        expect(page.locator("#count")).to_have_text("7 of 7")
        page.click("#dscore-button")
        expect(page.locator("#jobs .job").first).to_have_text("dscore done", timeout=30_000)
        page.select_option("select[name=sort]", "-dscore")
        expect(page.locator("#count")).to_have_text("7 of 7")
        assert len(srv.studio.dscores()) == 7
        jobs = srv.studio.job_list()["jobs"][1:]
        assert len(jobs) == 1 and jobs[0]["params"]["n"] == 4 and jobs[0]["params"]["truncation"] == 0.5

        # compare: c on one render, c on another, side by side; Esc closes
        page.select_option("select[name=sort]", "name")
        page.locator("#grid .tile").first.click()
        page.keyboard.press("c")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("c")
        page.wait_for_selector("#compare:not([hidden])")
        captions = page.locator("#compare figcaption").all_inner_texts()
        assert len(captions) == 2 and captions[0] != captions[1] and all("seed" in c for c in captions)
        page.keyboard.press("Escape")
        page.wait_for_selector("#compare", state="hidden")

        # tags: typed into the detail, stored on Enter
        page.keyboard.press(" ")
        page.wait_for_selector("#detail:not([hidden])")
        page.fill("#detail-tags", "warm,  keep ,warm")
        page.press("#detail-tags", "Enter")
        expect(page.locator("#detail-tags")).to_have_value("keep, warm")
        assert any(m.tags == ["keep", "warm"] for m in srv.studio.state.marks().values())
        assert errors == []
