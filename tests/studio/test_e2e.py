"""The studio end to end in a real headless Chromium (Debian's package, driven by Playwright):
open it on 40 renders, rate with keys, filter, pick, reject, follow a second tab, open the detail,
see the nearest training image and the collection's credits, sort by checkpoint, export the
picks, and save the README's screenshot (docs/studio.png)."""

from __future__ import annotations

import csv
import shutil
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.studio.conftest import chromium_page, write_folder, write_render, write_run_with_collection

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
DOCS = Path(__file__).resolve().parents[2] / "docs"


def wait_until(page, condition: str, seconds: float = 10.0) -> None:
    """Poll a JS condition with `evaluate` (the studio's CSP forbids the eval behind wait_for_function)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(condition):
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        time.sleep(0.05)


def test_rate_filter_pick_detail_export_in_chromium(tmp_path, studio_server, monkeypatch, capsys):
    renders = tmp_path / "renders"
    run = write_run_with_collection(tmp_path / "lib")
    write_folder(renders, 38, runs=("portraits-a", "portraits-b"), painted=True, side=96, run_path=str(run))
    (renders / "undecodable.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    write_render(renders, 99, embedded=False).rename(renders / "broken.png")
    (renders / "seed0099.record.json").unlink()
    (renders / "broken.record.json").write_text("{ not json")
    srv, _ = studio_server([renders])

    with chromium_page(srv.url, CHROMIUM) as (page, errors):
        expect(page.locator("#grid .tile")).to_have_count(40)
        expect(page.locator("#count")).to_have_text("40 of 40")
        # the two unusable files are marked tiles, the page still works
        page.wait_for_selector(".tile.broken", timeout=10_000)
        marked = page.locator(".tile.marked").all_inner_texts()
        assert any("broken record" in t for t in marked) and any("undecodable.png" in t for t in marked)

        # keys: rate, move, pick, reject (on seed0000..seed0004, which sort after broken.png)
        page.locator(".tile", has_text="seed0000.png").click()
        page.keyboard.press("4")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("5")
        page.keyboard.press("p")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("x")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("2")
        page.keyboard.press("p")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("3")
        expect(page.locator(".badge.stars")).to_have_count(4)

        # a second tab sees the first tab's change
        other = page.context.browser.new_page(viewport={"width": 900, "height": 600})
        other.goto(srv.url)
        expect(other.locator(".badge.pick")).to_have_count(2)
        page.keyboard.press("ArrowUp")
        page.keyboard.press("1")
        expect(other.locator('.tile[data-rating="1"]', has_text="seed0003.png")).to_have_count(1, timeout=10_000)
        other.close()

        # what the server stored is what was typed
        marks = {m.rating for m in srv.studio.state.marks().values()}
        assert marks == {4, 5, 1, 3, None}, marks

        # filters: the picks, then rating >= 4, then one run
        page.select_option("select[name=status]", "picked")
        expect(page.locator("#count")).to_have_text("2 of 2")
        page.select_option("select[name=status]", "all")
        page.select_option("select[name=min_rating]", "4")
        expect(page.locator("#count")).to_have_text("2 of 2")
        page.select_option("select[name=min_rating]", "")
        page.select_option("select[name=run]", "portraits-b")
        expect(page.locator("#count")).to_have_text("19 of 19")
        page.select_option("select[name=run]", "")
        page.select_option("select[name=sort]", "-originality")
        expect(page.locator("#count")).to_have_text("40 of 40")
        expect(page.locator("#grid .tile").first).to_contain_text("seed00")  # highest score first

        # the detail: the render, its lineage and its record; Esc closes it
        page.locator("#grid .tile").first.click()
        wait_until(page, "[...document.querySelectorAll('#grid img')].slice(0, 24)"
                         ".every(i => i.complete && i.naturalWidth > 0)")
        page.screenshot(path=str(tmp_path / "grid.png"))
        page.keyboard.press(" ")
        page.wait_for_selector("#detail:not([hidden])")
        wait_until(page, "document.getElementById('detail-lineage').rows.length > 5")
        lineage = page.locator("#detail-lineage").inner_text()
        assert "originality score" in lineage and "generator sha256" in lineage and "seed" in lineage
        assert "A. Painter" in lineage
        assert "truncation" in page.locator("#detail-record").inner_text()
        wait_until(page, "document.getElementById('detail-img').naturalWidth > 0")
        # the nearest training image, cut from the run's collection, with its score
        wait_until(page, "document.getElementById('detail-nearest-img').naturalWidth > 0")
        expect(page.locator("#detail-nearest-img")).to_be_visible()
        caption = page.locator("#detail-nearest-caption").inner_text()
        assert "study" in caption and "score" in caption, caption
        assert "portraits-collection (7 images" in lineage and "CC0-1.0 5" in lineage, lineage
        page.screenshot(path=str(tmp_path / "detail.png"))
        page.keyboard.press("Escape")
        page.wait_for_selector("#detail", state="hidden")

        # the checkpoint filter: every render here is from step 2
        page.fill("input[name=step]", "3-9")
        expect(page.locator("#count")).to_have_text("0 of 0")
        page.fill("input[name=step]", "2")
        expect(page.locator("#count")).to_have_text("38 of 38")
        page.fill("input[name=step]", "")
        page.select_option("select[name=sort]", "-step")
        expect(page.locator("#count")).to_have_text("40 of 40")
        assert errors == []
    DOCS.mkdir(exist_ok=True)
    with Image.open(tmp_path / "grid.png") as shot:  # 256 colours: the README's picture stays small
        shot.convert("RGB").quantize(256, dither=Image.Dither.NONE).save(DOCS / "studio.png", optimize=True)
    assert (DOCS / "studio.png").stat().st_size < 300_000

    # export the picks through the CLI, with their records and ratings.csv
    from tests.conftest import run_cli

    out = tmp_path / "picks"
    code, stdout, _ = run_cli(monkeypatch, capsys, "studio", "export", str(renders), "--picks", "-o", str(out))
    assert code == 0, stdout
    assert sorted(p.name for p in out.iterdir()) == ["ratings.csv", "seed0001.png", "seed0001.record.json",
                                                     "seed0003.png", "seed0003.record.json"]
    rows = list(csv.DictReader((out / "ratings.csv").open()))
    assert {r["file"]: r["rating"] for r in rows} == {"seed0000.png": "4", "seed0001.png": "5", "seed0002.png": "",
                                                       "seed0003.png": "1", rows[-1]["file"]: "3"}
