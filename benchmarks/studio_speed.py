"""The studio with 10,000 renders: the first page in a real browser, cold thumbnails, memory.

    python benchmarks/studio_speed.py [--count 10000] [--repeat 5] [--root DIR]

- Renders: `--count` cheap 64 px PNGs, each with its NAME.record.json (a sample record with a
  seed, a run and an originality score), written once into `--root` (default: a temporary folder).
- Start: `belamy studio DIR --no-browser` in its own process, until it answers (the scan: a stat
  and a record read per render).
- Cold thumbnails: from the start until the background pool has made every thumbnail (read and
  hash the file, decode, shrink to 256 px, WebP), with the pool's default size (the CPU count).
- First page: once the thumbnails exist, a fresh browser context (no cache) opens the studio; the
  time from navigation start until every tile on the screen shows its decoded thumbnail, median of
  `--repeat`. Baselines measured in the same run, in the same headless Chromium: Python's
  `http.server` serving the same folder (its directory listing of every file, fully loaded), and
  a static gallery page of `<img loading=lazy>` tags for every render (until the images on the
  screen are decoded): what opening the folder costs without the studio.
- Memory: the studio process's resident set (peak, and after the thumbnails) and the page's JS heap.

Prints a table, writes results/studio_speed.json. Needs Debian's `chromium` and `playwright`.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from common import write_result  # noqa: E402

VISIBLE_LOADED = """() => {
  const imgs = [...document.querySelectorAll('img')].filter(i => {
    const r = i.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; });
  if (!imgs.length || !imgs.every(i => i.complete && i.naturalWidth > 0)) return 0;
  return performance.now();
}"""
LISTING_LOADED = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  return nav && nav.loadEventEnd > 0 ? nav.loadEventEnd : 0;
}"""


def make_renders(folder: Path, count: int) -> float:
    """`count` cheap renders (64 px PNG of random blocks + record); seconds taken (0 when present)."""
    if folder.is_dir() and len(list(folder.glob("*.png"))) >= count:
        return 0.0
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    rng = np.random.default_rng(0)
    for i in range(count):
        blocks = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
        Image.fromarray(blocks).resize((64, 64), Image.Resampling.NEAREST).save(folder / f"seed{i:05d}.png")
        record = {"kind": "sample", "run": f"bench-{i % 3}", "run_path": "/runs/bench", "generator": "g.safetensors",
                  "generator_sha256": f"{i:064x}", "step": 1000, "seed": i, "truncation": 0.7,
                  "originality": {"score": round(float(rng.random()), 3)}, "model": "stylegan2", "resolution": 64,
                  "device": "cpu", "code_version": "bench", "created": "2025-01-01T00:00:00+00:00"}
        (folder / f"seed{i:05d}.record.json").write_text(json.dumps(record))
    return time.perf_counter() - t


def rss_kib(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {k: int(re.search(rf"{k}:\s+(\d+)", status).group(1)) for k in ("VmRSS", "VmHWM")}  # type: ignore[union-attr]


def start_studio(folder: Path, state: Path) -> tuple[subprocess.Popen[str], str, float]:
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "belamy", "studio", str(folder), "--no-browser", "--state",
                             str(state)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    for line in proc.stdout:
        found = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        if found:
            url = found.group(1)
            break
    else:
        raise SystemExit("the studio did not start")
    while True:
        try:
            urllib.request.urlopen(url + "api/status", timeout=5).read()
            return proc, url, time.perf_counter() - t
        except OSError:
            time.sleep(0.02)


def status(url: str) -> dict[str, Any]:
    return json.loads(urllib.request.urlopen(url + "api/status", timeout=30).read())


def time_page(browser: Any, url: str, condition: str, wait_grid: bool) -> tuple[float, float | None]:
    """Milliseconds from navigation start until `condition` holds in a fresh (cache-less) context,
    and the page's JS heap then."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    page.goto(url, wait_until="commit")
    deadline = time.monotonic() + 120
    while True:
        try:
            ms = page.evaluate(condition)
        except Exception:  # noqa: BLE001 - the document is still being replaced
            ms = 0
        if ms:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"{url}: the page never finished")
        time.sleep(0.005)
    if wait_grid:
        assert page.locator("#grid .tile").count() > 0
    heap = page.evaluate("() => performance.memory ? performance.memory.usedJSHeapSize : null")
    ctx.close()
    return float(ms), heap


def gallery(folder: Path) -> None:
    """A static page of every render as <img loading=lazy>: the naive gallery."""
    tags = "\n".join(f'<img loading="lazy" width="176" height="176" src="{html.escape(p.name)}">'
                     for p in sorted(folder.glob("*.png")))
    (folder / "gallery.html").write_text(f"<!doctype html><meta charset=utf-8><title>gallery</title>\n{tags}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--root", type=Path, default=None, help="keep the renders here (default: a temporary folder)")
    args = ap.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("needs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    root = args.root or Path(tempfile.mkdtemp(prefix="studio-bench-"))
    folder = root / f"renders-{args.count}"
    made_s = make_renders(folder, args.count)
    gallery(folder)
    state = root / f"state-{time.time_ns()}"  # cold: no hashes, no thumbnails

    proc, url, start_s = start_studio(folder, state)
    after_start = rss_kib(proc.pid)
    t = time.perf_counter()
    while (s := status(url))["thumbs"]["pending"]:
        time.sleep(0.05)
    cold_s = time.perf_counter() - t + start_s  # measured from the process start
    made = s["thumbs"]["made"]
    after_thumbs = rss_kib(proc.pid)

    http = subprocess.Popen([sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory",
                             str(folder)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert http.stdout is not None
    port = re.search(r"port (\d+)", http.stdout.readline()).group(1)  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}/"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            time_page(browser, url, VISIBLE_LOADED, True)  # warm the browser and the OS file cache
            studio = [time_page(browser, url, VISIBLE_LOADED, True) for _ in range(args.repeat)]
            listing = [time_page(browser, base, LISTING_LOADED, False) for _ in range(args.repeat)]
            static = [time_page(browser, base + "gallery.html", VISIBLE_LOADED, False) for _ in range(args.repeat)]
            browser.close()
        final = rss_kib(proc.pid)
    finally:
        http.terminate()
        proc.terminate()
        proc.wait(timeout=20)
    if args.root is None:
        shutil.rmtree(root, ignore_errors=True)

    def med(xs: list[tuple[float, Any]]) -> float:
        return round(statistics.median(x for x, _ in xs), 1)

    payload = {
        "count": args.count, "repeat": args.repeat, "renders_written_s": round(made_s, 1),
        "studio_start_s": round(start_s, 2), "cold_thumbnails_s": round(cold_s, 2), "thumbnails_made": made,
        "thumbnails_per_s": round(made / cold_s, 1),
        "first_page_ms": {"studio": med(studio), "http_server_listing": med(listing),
                          "static_lazy_gallery": med(static)},
        "first_page_ms_all": {"studio": [x for x, _ in studio], "http_server_listing": [x for x, _ in listing],
                              "static_lazy_gallery": [x for x, _ in static]},
        "js_heap_mb": {"studio": round((studio[0][1] or 0) / 2**20, 1),
                       "http_server_listing": round((listing[0][1] or 0) / 2**20, 1),
                       "static_lazy_gallery": round((static[0][1] or 0) / 2**20, 1)},
        "studio_rss_mb": {"after_start": round(after_start["VmRSS"] / 1024, 1),
                          "after_thumbnails": round(after_thumbs["VmRSS"] / 1024, 1),
                          "after_browsing": round(final["VmRSS"] / 1024, 1), "peak": round(final["VmHWM"] / 1024, 1)},
        "target_first_page_ms": 1000,
    }
    print(f"{args.count} renders (64 px PNG + record); studio started in {start_s:.2f} s, "
          f"cold thumbnails {cold_s:.1f} s ({payload['thumbnails_per_s']} /s)")
    print(f"{'first page (median of ' + str(args.repeat) + ')':<42}{'ms':>8}{'JS heap MB':>12}")
    rows = [("belamy studio (thumbnails cached)", "studio"), ("http.server directory listing", "http_server_listing"),
            ("static gallery, <img loading=lazy>", "static_lazy_gallery")]
    for label, key in rows:
        print(f"{label:<42}{payload['first_page_ms'][key]:>8}{payload['js_heap_mb'][key]:>12}")
    rss = payload["studio_rss_mb"]
    print(f"studio memory: {rss['after_start']} MB after start, {rss['after_thumbnails']} MB after thumbnails, "
          f"peak {rss['peak']} MB")
    print(f"wrote {write_result('studio_speed', payload)}")


if __name__ == "__main__":
    main()
