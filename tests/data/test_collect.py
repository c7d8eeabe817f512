"""`belamy.collect` end to end on folders, zips and URL lists made by the tests."""

from __future__ import annotations

import http.server
import json
import os
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

import belamy
from belamy.data.collection import Collection
from belamy.core.errors import BelamyError
from conftest import encode, pattern, png_bomb


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    """A folder like a real one: good files in many formats, bad files, duplicates, odd names."""
    d = tmp_path / "src"
    write(d / "a.jpg", encode(pattern(1), "JPEG", quality=95))
    write(d / "b.png", encode(pattern(2), "PNG"))
    write(d / "sub" / "c.webp", encode(pattern(3), "WEBP", lossless=True))
    write(d / "sub" / "d.bmp", encode(pattern(4), "BMP"))
    write(d / "sub" / "deeper" / "e.tiff", encode(pattern(5), "TIFF"))
    write(d / "f.gif", encode(pattern(6).convert("P"), "GIF"))
    write(d / "lies.jpg", encode(pattern(7), "PNG"))  # extension lies
    write(d / "Porträt — 肖像 #1.png", encode(pattern(8), "PNG"))  # non-ASCII name
    write(d / "cmyk.jpg", encode(pattern(9).convert("CMYK"), "JPEG"))
    # bad files
    write(d / "empty.png", b"")
    write(d / "notes.txt", b"not an image at all")
    write(d / "vector.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>')
    full = encode(pattern(10, 300, 300), "JPEG", quality=95)
    write(d / "truncated.jpg", full[: len(full) // 2])
    write(d / "corrupt.png", b"\x89PNG\r\n\x1a\n" + os.urandom(500))
    write(d / "bomb.png", png_bomb())
    # duplicates
    write(d / "copy_of_a.jpg", (d / "a.jpg").read_bytes())  # exact
    write(d / "b_resaved.jpg", encode(pattern(2), "JPEG", quality=90))  # near
    # a symlink loop must not hang the walk
    os.symlink(d, d / "sub" / "loop")
    return d


def test_messy_folder(messy: Path, tmp_path: Path):
    coll = belamy.collect([str(messy)], tmp_path / "coll", size=32, workers=1)
    rep = coll.report
    assert len(coll) == 9 and coll.images.shape == (9, 32, 32, 3)
    reasons = {Path(s["source"]).name: s["reason"] for s in rep.skipped}
    assert reasons["empty.png"] == "empty file"
    assert reasons["notes.txt"].startswith("not an image")
    assert reasons["vector.svg"].startswith("vector format (SVG)")
    assert reasons["truncated.jpg"].startswith("truncated or corrupt")
    assert reasons["corrupt.png"].startswith("corrupt image")
    assert reasons["bomb.png"].startswith("decompression bomb")
    assert [Path(x["source"]).name for x in rep.exact_duplicates] == ["copy_of_a.jpg"]
    assert [Path(x["source"]).name for x in rep.near_duplicates] == ["b_resaved.jpg"]
    sources = {Path(r["source"]).name for r in coll.manifest}
    assert "Porträt — 肖像 #1.png" in sources and "lies.jpg" in sources
    lies = next(r for r in coll.manifest if r["source"].endswith("lies.jpg"))
    assert lies["format"] == "PNG"
    for row in coll.manifest:
        assert {"id", "sha256", "source", "width", "height", "phash"} <= set(row)
    # the stored pixels are the prepared images, in manifest order
    first = next(i for i, r in enumerate(coll.manifest) if r["source"].endswith("b.png"))
    expected = np.asarray(pattern(2).resize((38, 32)).crop((3, 0, 35, 32)))
    assert np.abs(coll.images[first].astype(int) - expected.astype(int)).mean() < 40
    assert (coll.path / "preview.png").is_file()
    saved = json.loads(Path(rep.report_path).read_text())
    assert len(saved["skipped"]) == 6


def test_near_duplicate_threshold_is_configurable(messy: Path, tmp_path: Path):
    coll = belamy.collect([str(messy)], tmp_path / "coll", size=32, workers=1, near_threshold=-1)
    assert len(coll) == 10 and not coll.report.near_duplicates


def test_parallel_workers_give_the_same_collection(messy: Path, tmp_path: Path):
    a = belamy.collect([str(messy)], tmp_path / "a", size=32, workers=1)
    b = belamy.collect([str(messy)], tmp_path / "b", size=32, workers=2)
    assert [r["sha256"] for r in a.manifest] == [r["sha256"] for r in b.manifest]
    assert np.array_equal(a.images, b.images)


def test_zip_source_and_corrupt_zip(tmp_path: Path):
    z = tmp_path / "museum.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("works/one.png", encode(pattern(11), "PNG"))
        zf.writestr("works/two.jpg", encode(pattern(12), "JPEG"))
        zf.writestr("__MACOSX/works/._one.png", b"junk")
        zf.writestr("works/readme.txt", b"hello")
    bad = write(tmp_path / "broken.zip", b"PK\x03\x04 this is not really a zip")
    coll = belamy.collect([str(z), str(bad)], tmp_path / "coll", size=32, workers=1)
    assert len(coll) == 2
    assert coll.manifest[0]["source"].endswith("museum.zip!/works/one.png")
    reasons = [s["reason"] for s in coll.report.skipped]
    assert any(r.startswith("not a valid zip") for r in reasons)
    assert any(r.startswith("not an image") for r in reasons)


def test_credits_sidecar_is_joined(tmp_path: Path):
    d = tmp_path / "src"
    write(d / "one.png", encode(pattern(1), "PNG"))
    write(d / "sub" / "two.png", encode(pattern(2), "PNG"))
    write(d / "three.png", encode(pattern(3), "PNG"))
    sidecar = write(
        tmp_path / "credits.csv",
        "File,Title,Author,Date,License,Source URL\n"
        "one.png,Morning,Ann Painter,1890,cc0-1.0,https://museum.example/1\n"
        "sub/two.png,Evening,Bob Brush,1901,CC-BY-4.0,\n"
        "missing.png,Ghost,Nobody,,Public Domain,\n".encode(),
    )
    coll = belamy.collect([str(d)], tmp_path / "coll", size=32, workers=1, credits=sidecar, default_license="CC0-1.0")
    rows = {Path(r["source"]).name: r for r in coll.manifest}
    assert (rows["one.png"]["author"], rows["one.png"]["license"], rows["one.png"]["source_url"]) == (
        "Ann Painter", "CC0-1.0", "https://museum.example/1")
    assert (rows["two.png"]["title"], rows["two.png"]["date"]) == ("Evening", "1901")
    assert rows["three.png"]["license"] == "CC0-1.0" and "author" not in rows["three.png"]
    assert coll.report.credits_unmatched == ["missing.png"]
    assert any("Public Domain" in w for w in coll.report.credit_warnings)
    assert coll.missing_credits() == 1
    assert coll.license_counts() == {"CC0-1.0": 2, "CC-BY-4.0": 1}
    from belamy.data.credits_file import write_credits_file

    text = write_credits_file(coll).read_text()
    assert "Ann Painter" in text and "*Evening*" in text and "CC-BY-4.0" in text


def test_jsonl_sidecar_and_bad_sidecar(tmp_path: Path):
    d = tmp_path / "src"
    write(d / "one.png", encode(pattern(1), "PNG"))
    side = write(tmp_path / "c.jsonl", b'{"file": "one.png", "author": "Ann", "license": "MIT"}\n')
    coll = belamy.collect([str(d)], tmp_path / "coll", size=32, workers=1, credits=side)
    assert coll.manifest[0]["author"] == "Ann"
    bad = write(tmp_path / "bad.csv", b"name_of_thing,who\nx,y\n")
    with pytest.raises(BelamyError, match="'file' or 'url' column"):
        belamy.collect([str(d)], tmp_path / "coll2", size=32, workers=1, credits=bad)


def test_incremental_rerun_adds_only_new_images(tmp_path: Path):
    d = tmp_path / "src"
    for i in range(3):
        write(d / f"{i}.png", encode(pattern(i), "PNG"))
    out = tmp_path / "coll"
    first = belamy.collect([str(d)], out, size=32, workers=1)
    ids = [r["id"] for r in first.manifest]
    again = belamy.collect([str(d)], out, size=32, workers=1)
    assert len(again) == 3 and again.report.added == 0 and again.report.already_present == 3
    write(d / "new.png", encode(pattern(50), "PNG"))
    write(d / "near.jpg", encode(pattern(0), "JPEG", quality=92))  # near duplicate of an old image
    third = belamy.collect([str(d)], out, size=32, workers=1)
    assert third.report.added == 1 and len(third.report.near_duplicates) == 1
    assert [r["id"] for r in third.manifest][:3] == ids
    assert np.array_equal(third.images[:3], first.load())
    with pytest.raises(BelamyError, match="--size 32"):
        belamy.collect([str(d)], out, size=64, workers=1)


def test_interrupted_run_leaves_previous_collection(tmp_path: Path, monkeypatch):
    d = tmp_path / "src"
    for i in range(3):
        write(d / f"{i}.png", encode(pattern(i), "PNG"))
    out = tmp_path / "coll"
    before = belamy.collect([str(d)], out, size=32, workers=1)
    snapshot = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    for i in range(3, 6):
        write(d / f"{i}.png", encode(pattern(i), "PNG"))

    import belamy.data.collect as collect_mod

    real_keep = collect_mod._keep
    calls = {"n": 0}

    def dying_keep(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the user pressed Ctrl-C (or the machine died) mid-run
        return real_keep(*args, **kwargs)

    monkeypatch.setattr(collect_mod, "_keep", dying_keep)
    with pytest.raises(KeyboardInterrupt):
        belamy.collect([str(d)], out, size=32, workers=1)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == snapshot  # no temp files left, nothing changed
    reopened = Collection.open(out)
    assert len(reopened) == len(before) == 3


def test_strict_fails_and_changes_nothing(messy: Path, tmp_path: Path):
    with pytest.raises(BelamyError, match="--strict: 6 file"):
        belamy.collect([str(messy)], tmp_path / "coll", size=32, workers=1, strict=True)
    assert not (tmp_path / "coll" / "collection.json").exists()


class _Handler(http.server.SimpleHTTPRequestHandler):
    flaky: dict[str, int] = {}

    def do_GET(self):  # noqa: N802
        if self.path.startswith("/flaky"):
            n = self.flaky.get(self.path, 0)
            self.flaky[self.path] = n + 1
            if n == 0:  # fail once, then succeed: the retry must pick it up
                self.send_error(503)
                return
            self.path = "/good1.png"
        return super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path: Path):
    root = tmp_path / "www"
    write(root / "good1.png", encode(pattern(21), "PNG"))
    write(root / "good2.jpg", encode(pattern(22), "JPEG"))
    write(root / "page.html", b"<html><body>not an image</body></html>")
    handler = lambda *a, **k: _Handler(*a, directory=str(root), **k)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_url_list_against_local_server(server: str, tmp_path: Path):
    urls = write(tmp_path / "urls.txt", "\n".join([
        "# my favourite works",
        f"{server}/good1.png",
        f"{server}/good2.jpg",
        f"{server}/missing.png",
        f"{server}/page.html",
        f"{server}/flaky/1.png",
        "http://127.0.0.1:9/refused.png",
    ]).encode())
    sidecar = write(tmp_path / "c.csv", f"url,author,license\n{server}/good2.jpg,Carla,CC-BY-4.0\n".encode())
    coll = belamy.collect([str(urls)], tmp_path / "coll", size=32, workers=1, credits=sidecar,
                          url_retries=2, url_timeout=5)
    rep = coll.report
    assert [r["source"] for r in coll.manifest] == [f"{server}/good1.png", f"{server}/good2.jpg"]
    assert coll.manifest[1]["author"] == "Carla"
    assert [x["source"] for x in rep.exact_duplicates] == [f"{server}/flaky/1.png"]  # retried, then same bytes
    reasons = {s["source"].rsplit("/", 1)[-1]: s["reason"] for s in rep.skipped}
    assert "HTTP 404" in reasons["missing.png"]
    assert reasons["page.html"].startswith("not an image")
    assert reasons["refused.png"].startswith("download failed")


def test_missing_source_and_bad_size_are_user_errors(tmp_path: Path):
    with pytest.raises(BelamyError, match="source not found"):
        belamy.collect([str(tmp_path / "nope")], tmp_path / "c")
    with pytest.raises(BelamyError, match="power of two"):
        belamy.collect([str(tmp_path)], tmp_path / "c", size=100)
    with pytest.raises(BelamyError, match="not a belamy collection"):
        Collection.open(tmp_path)


def test_files_get_the_users_usual_permissions(tmp_path: Path):
    d = tmp_path / "src"
    write(d / "one.png", encode(pattern(1), "PNG"))
    old = os.umask(0o022)
    try:
        coll = belamy.collect([str(d)], tmp_path / "coll", size=32, workers=1)
    finally:
        os.umask(old)
    for name in ("collection.json", "manifest.jsonl", "preview.png"):
        assert (coll.path / name).stat().st_mode & 0o777 == 0o644, name
