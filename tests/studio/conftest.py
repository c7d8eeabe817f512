"""Fixtures for the studio: folders of small renders written directly (PNG + record), a studio
served in a thread on a free loopback port, and raw HTTP requests (paths sent byte for byte)."""

from __future__ import annotations

import http.client
import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")


def record_for(seed: int, run: str = "run-a", originality: float | None = None,
               run_path: str | None = None) -> dict[str, Any]:
    """A sample record as `belamy sample` writes it (docs/formats.md), with made-up hashes."""
    rec: dict[str, Any] = {
        "kind": "sample", "run": run, "run_path": run_path or f"/runs/{run}", "generator": "generator.safetensors",
        "generator_sha256": f"{seed:064x}"[-64:], "step": 2, "seed": seed, "truncation": 0.7,
        "noise_mode": "const", "batch_seeds": [seed], "model": "stylegan2", "resolution": 32,
        "device": "cpu", "code_version": "test", "created": "2025-01-01T00:00:00+00:00"}
    if originality is not None:
        rec["originality"] = {"score": originality, "near_copy": originality < 0.5, "threshold": 0.5,
                              "nearest": {"index": seed % 7, "id": seed % 7, "title": f"study {seed % 7}", "author": "A. Painter",
                                          "score": originality, "distance": 1 - originality, "space": "pixel"}}
    return rec


def write_render(folder: Path, seed: int, *, run: str = "run-a", originality: float | None = None,
                 sidecar: bool = True, embedded: bool = True, side: int = 24, painted: bool = False,
                 run_path: str | None = None) -> Path:
    """seedNNNN.png (random blocks per seed, or the demo painter's portrait) with its record beside
    it and/or inside it."""
    folder.mkdir(parents=True, exist_ok=True)
    if painted:
        from belamy.data.demo import render_portrait

        arr = np.asarray(render_portrait(seed, side).convert("RGB"))
    else:
        blocks = np.random.default_rng(seed).integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
        arr = np.asarray(Image.fromarray(blocks).resize((side, side), Image.Resampling.NEAREST))
    rec = record_for(seed, run, originality, run_path)
    info = PngInfo()
    if embedded:
        info.add_itxt("belamy:record", json.dumps(rec))
    png = folder / f"seed{seed:04d}.png"
    Image.fromarray(arr).save(png, pnginfo=info)
    if sidecar:
        (folder / f"seed{seed:04d}.record.json").write_text(json.dumps(rec))
    return png


def write_folder(folder: Path, count: int, runs: tuple[str, ...] = ("run-a", "run-b"), **kw: Any) -> list[Path]:
    """`count` renders of alternating runs, with originality scores spread over 0.3..0.89."""
    return [write_render(folder, i, run=runs[i % len(runs)], originality=round(0.3 + (i * 37 % 60) / 100, 2), **kw)
            for i in range(count)]


def write_run_with_collection(root: Path, count: int = 7, size: int = 32) -> Path:
    """A run folder (only its run.json) naming a collection of `count` painted portraits with
    credits, as `belamy collect` lays one out (docs/formats.md); returns the run folder."""
    from belamy.data.demo import render_portrait

    coll = root / "portraits-collection"
    coll.mkdir(parents=True)
    pixels = np.stack([np.asarray(render_portrait(i + 100, size).convert("RGB")) for i in range(count)])
    (coll / "images.u8").write_bytes(pixels.astype(np.uint8).tobytes())
    rows = [{"id": str(i), "title": f"study {i}", "author": "A. Painter" if i % 2 else "B. Sketcher",
             "license": "CC0-1.0" if i < 5 else "CC-BY-4.0"} for i in range(count)]
    (coll / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (coll / "collection.json").write_text(json.dumps({"format": "belamy.collection", "version": 1,
                                                      "size": size, "count": count}))
    run = root / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"id": "abc", "collection": str(coll)}))
    return run


@dataclass
class Raw:
    """A studio address and HTTP requests sent exactly as written (no client-side path cleaning)."""

    host: str
    port: int
    csrf: str = ""

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        con = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            con.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            hdrs = {"Host": f"{self.host}:{self.port}", **(headers or {})}
            if body is not None:
                hdrs.setdefault("Content-Length", str(len(body)))
            for k, v in hdrs.items():
                con.putheader(k, v)
            con.endheaders(body)
            resp = con.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            con.close()

    def get(self, path: str, **headers: str) -> tuple[int, bytes]:
        status, _, body = self.request("GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()})
        return status, body

    def json(self, path: str) -> Any:
        status, body = self.get(path)
        assert status == 200, (status, body)
        return json.loads(body)

    def post(self, path: str, obj: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        hdrs = {"Content-Type": "application/json", "X-Studio-CSRF": self.csrf, **(headers or {})}
        status, _, body = self.request("POST", path, json.dumps(obj).encode(), hdrs)
        return status, json.loads(body) if body.startswith(b"{") else body


@pytest.fixture
def studio_server(tmp_path):
    """Start a StudioServer over the folders given (in a thread); stopped after the test."""
    from belamy.studio.server import StudioServer

    started: list[StudioServer] = []

    def start(folders: list[Path], **kw: Any) -> tuple[StudioServer, Raw]:
        srv = StudioServer(folders, workers=2, **kw).start()
        started.append(srv)
        return srv, Raw("127.0.0.1", srv.port, srv.csrf)

    yield start
    for srv in started:
        srv.stop()


@contextmanager
def chromium_page(url: str, chromium: str, width: int = 1180, height: int = 760):
    """A page of headless Chromium (Debian's, through Playwright) open on `url`, and the list its
    JavaScript errors go to (a test ends by asserting it is empty)."""
    from playwright import sync_api

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            yield page, errors
        finally:
            browser.close()
