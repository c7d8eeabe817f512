"""Odd names never cost a run: file names that are not UTF-8, zip members in legacy encodings,
credits sidecars that name them, URL lists with percent-encoded and IDN names. Each place that
writes a name (manifest, report, CREDITS.md, PNG text) gets one."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest

import belamy
from belamy.data.collection import Collection
from belamy.data.credits_file import write_credits_file
from belamy.data.names import display, display_name, stored
from conftest import encode, pattern


def odd(folder: Path, raw: bytes, data: bytes) -> str:
    """Write a file whose name is the bytes `raw`; return its path as Python sees it (surrogates)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = os.path.join(os.fsencode(folder), raw)
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError:  # a file system that refuses names that are not UTF-8 (APFS, most of Windows)
        pytest.skip("this file system only takes UTF-8 names")
    return os.fsdecode(path)


def strict_utf8(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # raises if anything written is not UTF-8


def test_names_stored_losslessly_and_shown_readably(tmp_path: Path):
    p = odd(tmp_path / "src", b"caf\xe9 \xff.png", b"")
    uri = stored(p)
    assert uri.startswith("file://") and uri.encode("ascii")  # valid UTF-8, even ASCII
    assert unquote_to_bytes(uri[len("file://"):]) == os.fsencode(os.path.abspath(p))  # lossless
    assert display(uri).endswith("/src/caf\\xe9 \\xff.png") and display_name(uri) == "caf\\xe9 \\xff.png"
    assert stored("src/Porträt — 肖像 #1.png") == "src/Porträt — 肖像 #1.png"  # a UTF-8 name is kept as is
    assert display("src/Porträt — 肖像 #1.png") == "src/Porträt — 肖像 #1.png"
    idn = "https://xn--bcher-kva.example/Portr%C3%A4t%20one.png?x=1"
    assert display(idn) == "https://bücher.example/Porträt one.png?x=1"
    assert display("https://example.org/caf%E9.png") == "https://example.org/caf%E9.png"  # not UTF-8: kept escaped


def test_non_utf8_file_names_are_collected(tmp_path: Path):
    src = tmp_path / "src"
    good = odd(src, b"caf\xe9.png", encode(pattern(1), "PNG"))
    odd(src, b"\xff\xfe scan.jpg", encode(pattern(2), "JPEG", quality=95))
    odd(src, b"empty \xe9.png", b"")  # a bad file with an odd name is reported, not fatal
    (src / "plain.png").write_bytes(encode(pattern(3), "PNG"))
    coll = belamy.collect([str(src)], tmp_path / "coll", size=32, workers=1)
    assert len(coll) == 3
    rows = [json.loads(line) for line in strict_utf8(coll.path / "manifest.jsonl").splitlines()]
    by_name = {display_name(r["source"]): r for r in rows}
    assert set(by_name) == {"caf\\xe9.png", "\\xff\\xfe scan.jpg", "plain.png"}
    assert by_name["plain.png"]["source"] == str(src / "plain.png")  # UTF-8 names keep the old form
    raw = unquote_to_bytes(by_name["caf\\xe9.png"]["source"][len("file://"):])
    assert raw == os.fsencode(os.path.abspath(good)) and Path(os.fsdecode(raw)).read_bytes()  # finds the file again
    report = json.loads(strict_utf8(Path(coll.report.report_path)))
    (skip,) = report["skipped"]
    assert skip["reason"] == "empty file" and skip["shown"].endswith("empty \\xe9.png")
    assert Collection.open(coll.path).manifest == coll.manifest
    credits = strict_utf8(write_credits_file(coll))
    assert "*caf\\\\xe9.png*" in credits and "`" + display(by_name["caf\\xe9.png"]["source"]) + "`" in credits


def test_non_utf8_source_and_output_folders(tmp_path: Path):
    src = odd(tmp_path / "in", b"sammlung \xe4", b"")
    os.unlink(src)
    os.mkdir(src)
    Path(src, "one.png").write_bytes(encode(pattern(1), "PNG"))
    out = os.path.join(os.fsdecode(os.fsencode(tmp_path)), os.fsdecode(b"out \xfc"))
    coll = belamy.collect([src], out, size=32, workers=1)
    assert len(coll) == 1 and display(coll.manifest[0]["source"]).endswith("sammlung \\xe4/one.png")
    report = json.loads(strict_utf8(coll.path / coll.meta["last_report"]))
    assert coll.report.report_path.endswith("out \\xfc/" + coll.meta["last_report"])  # shown readably
    assert report["sources"] == [stored(src)]
    again = belamy.collect([src], out, size=32, workers=1)  # re-run: the stored source matches again
    assert again.report.already_present == 1 and len(again) == 1


def _zip_with_raw_names(path: Path, members: dict[bytes, bytes], utf8_flag: bool = False) -> None:
    """A zip whose member names are exactly these bytes, UTF-8 flag unset (as legacy tools write)."""
    placeholders = {}
    with zipfile.ZipFile(path, "w") as zf:
        for i, (raw, data) in enumerate(members.items()):
            ph = (b"%02d" % i) + b"_" * (len(raw) - 2)
            placeholders[ph] = raw
            info = zipfile.ZipInfo(ph.decode("ascii"))
            zf.writestr(info, data)
    blob = path.read_bytes()
    for ph, raw in placeholders.items():
        assert blob.count(ph) == 2  # local header and central directory
        blob = blob.replace(ph, raw)
    if utf8_flag:  # set bit 11 in every header, whatever the bytes are
        blob = bytearray(blob)
        for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            start = 0
            while (start := blob.find(sig, start)) >= 0:
                blob[start + off + 1] |= 0x08
                start += 4
        blob = bytes(blob)
    path.write_bytes(blob)


def test_zip_members_in_legacy_encodings(tmp_path: Path):
    z = tmp_path / "alt.zip"
    _zip_with_raw_names(z, {
        b"caf\x82.png": encode(pattern(1), "PNG"),  # cp437, as DOS and old Windows zips: café
        "Porträt.png".encode("utf-8"): encode(pattern(2), "PNG"),  # UTF-8 without the flag (macOS, Info-ZIP)
        b"Ren\xe9e.png": encode(pattern(3), "PNG"),  # cp1252 bytes: not UTF-8, shown as cp437 decodes them
    })
    side = tmp_path / "credits.csv"
    side.write_bytes("file,author,license\ncafé.png,Ann,CC0-1.0\nPorträt.png,Bo,CC0-1.0\n".encode("utf-8")
                     + "Renée.png,Renée Maler,CC-BY-4.0\n".encode("cp1252"))  # one legacy row in a UTF-8 file
    coll = belamy.collect([str(z)], tmp_path / "coll", size=32, workers=1, credits=side)
    strict_utf8(coll.path / "manifest.jsonl")
    names = {display_name(r["source"]): r for r in coll.manifest}
    assert set(names) == {"café.png", "Porträt.png", "RenΘe.png"}
    assert names["café.png"]["author"] == "Ann" and names["Porträt.png"]["author"] == "Bo"
    assert names["RenΘe.png"]["author"] == "Renée Maler"  # matched byte for byte; the value read as cp1252
    assert coll.report.credits_unmatched == []
    assert any("not UTF-8" in w for w in coll.report.credit_warnings)


def test_zip_that_lies_about_utf8_is_one_reported_item(tmp_path: Path):
    z = tmp_path / "liar.zip"
    _zip_with_raw_names(z, {b"caf\xe9.png": encode(pattern(1), "PNG")}, utf8_flag=True)
    (tmp_path / "ok.png").write_bytes(encode(pattern(2), "PNG"))
    coll = belamy.collect([str(z), str(tmp_path / "ok.png")], tmp_path / "coll", size=32, workers=1)
    assert len(coll) == 1
    (skip,) = coll.report.skipped
    assert "zip" in skip["reason"] and "UTF-8" in skip["reason"]


def test_credits_sidecar_names_non_utf8_files(tmp_path: Path):
    src = tmp_path / "src"
    odd(src, b"caf\xe9.png", encode(pattern(1), "PNG"))
    odd(src, b"na\xefve.png", encode(pattern(2), "PNG"))
    odd(src / "sub", b"\xff.png", encode(pattern(3), "PNG"))
    side = tmp_path / "credits.csv"
    side.write_bytes(b"file,title,author,license\n"
                     b"caf\xe9.png,Caf\xe9,Ren\xe9e,CC0-1.0\n"  # a legacy (cp1252) sidecar naming the raw bytes
                     b"na%EFve.png,Na\xefve,Bo,CC0-1.0\n"  # percent-encoded, as in a file URI
                     b"sub/\\xff.png,Odd,Cy,CC0-1.0\n")  # the name as belamy shows it
    coll = belamy.collect([str(src)], tmp_path / "coll", size=32, workers=1, credits=side)
    strict_utf8(coll.path / "manifest.jsonl")
    rows = {display_name(r["source"]): r for r in coll.manifest}
    assert (rows["caf\\xe9.png"]["title"], rows["caf\\xe9.png"]["author"]) == ("Café", "Renée")
    assert rows["na\\xefve.png"]["author"] == "Bo" and rows["\\xff.png"]["author"] == "Cy"
    assert coll.report.credits_unmatched == []
    report = json.loads(strict_utf8(Path(coll.report.report_path)))
    assert any("not UTF-8" in w for w in report["credit_warnings"])
    assert "Renée" in strict_utf8(write_credits_file(coll))


def one_image_with_sidecar(tmp_path: Path, csv: bytes) -> Collection:
    """A collection of one pattern image (one.png), collected with the credits sidecar `csv`."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "one.png").write_bytes(encode(pattern(1), "PNG"))
    side = tmp_path / "credits.csv"
    side.write_bytes(csv)
    return belamy.collect([str(src)], tmp_path / "coll", size=32, workers=1, credits=side)


def test_unmatched_credits_with_odd_names_are_reported_readably(tmp_path: Path):
    coll = one_image_with_sidecar(tmp_path, b"file,author\n\xff\xfe lost.png,Ann\n")
    assert coll.report.credits_unmatched == ["\\xff\\xfe lost.png"]
    strict_utf8(Path(coll.report.report_path))


class _Fetch:
    """Stands in for the downloader: URL (as sent on the wire) -> bytes."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.asked: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.asked.append(url)
        if url not in self.files:
            raise OSError("HTTP 404")
        return self.files[url]


def test_url_lists_with_percent_encoded_and_idn_names(tmp_path: Path, monkeypatch):
    fetch = _Fetch({
        "https://xn--bcher-kva.example/Portr%C3%A4t.png": encode(pattern(1), "PNG"),
        "https://example.org/caf%E9.png": encode(pattern(2), "PNG"),
        "https://example.org/na%C3%AFve.png": encode(pattern(3), "PNG"),
    })
    import belamy.data.fetch as fetch_mod

    monkeypatch.setattr(fetch_mod.Fetcher, "__call__", lambda self, url, **kw: fetch(url))
    urls = tmp_path / "urls.txt"
    urls.write_bytes("https://bücher.example/Porträt.png\n".encode("utf-8")  # IDN host, UTF-8 path
                     + b"https://example.org/caf\xe9.png\n"  # a raw legacy byte: sent percent-encoded
                     + b"https://example.org/na%C3%AFve.png\n")
    side = tmp_path / "credits.csv"
    side.write_text("url,author,license\n"
                    "https://xn--bcher-kva.example/Portr%C3%A4t.png,Ann,CC0-1.0\n"  # the other spelling of line 1
                    "https://example.org/naïve.png,Bo,CC0-1.0\n", encoding="utf-8")
    coll = belamy.collect([str(urls)], tmp_path / "coll", size=32, workers=1, credits=side)
    strict_utf8(coll.path / "manifest.jsonl")
    assert len(coll) == 3, coll.report.skipped
    src = [r["source"] for r in coll.manifest]
    assert src == ["https://bücher.example/Porträt.png", "https://example.org/caf%E9.png",
                   "https://example.org/na%C3%AFve.png"]
    assert [r.get("author") for r in coll.manifest] == ["Ann", None, "Bo"]
    text = strict_utf8(write_credits_file(coll))
    assert "bücher.example/Porträt.png" in text and "example.org/naïve.png" in text


def test_png_text_chunks_take_any_name(tmp_path: Path):
    """Render records (with the nearest training image's title) go into PNG text as iTXt."""
    from PIL import Image

    try:
        from belamy.core.png import save_png
    except ImportError:  # pragma: no cover - before the layering refactor
        from belamy.generate.sample import save_png
    import numpy as np

    record = {"nearest": {"title": "Porträt — 肖像", "source": display(stored(os.fsdecode(b"/x/caf\xe9.png")))}}
    path = tmp_path / "r.png"
    save_png(np.zeros((8, 8, 3), np.uint8), path, {"belamy:record": json.dumps(record, ensure_ascii=False)})
    assert json.loads(Image.open(path).text["belamy:record"]) == record


def test_eval_report_and_picture_show_credited_titles(tmp_path: Path):
    """Titles reach the HTML report and the originality picture; a legacy sidecar's bytes arrive as text."""
    import numpy as np

    from belamy.metrics.report import originality_sheet, write_report

    coll = one_image_with_sidecar(tmp_path, b"file,title,author\none.png,Caf\xe9 <b>& \xe9t\xe9,Ren\xe9e\n")
    row = coll.manifest[0]
    assert (row["title"], row["author"]) == ("Café <b>& été", "Renée")
    near = {"title": row["title"], "author": row["author"], "id": row["id"], "index": 0, "flipped": False}
    render = {"seed": 0, "score": 0.4, "near_copy": True, "nearest": near, "pixel": {"distance": 1.0},
              "feature": {"distance": 0.1}}
    result = {"run": "r", "source": "ema", "step": 1, "kimg": 0.1, "n": 1, "seeds": [0, 0], "truncation": 1.0,
              "reals": 1, "resolution": 32, "features": {"name": "pixels"}, "created": "now",
              "metrics": {"originality": {"renders": [render], "score_median": 0.4, "score_min": 0.4,
                                          "near_copies": 1, "count": 1, "threshold": 0.5}}}
    sheet = originality_sheet([render], np.zeros((1, 32, 32, 3), np.uint8), coll.load(), tmp_path / "o.png")
    html = strict_utf8(write_report(result, tmp_path / "report.html", sheet))
    assert "Café &lt;b&gt;&amp; été" in html and "Renée" in html and "<b>&" not in html


def test_a_collection_in_a_non_utf8_folder_trains_samples_and_evaluates(tmp_path: Path):
    """The run records the collection's folder losslessly (a file URI) and finds it again to
    resume, check originality and evaluate; people read it with the byte escaped."""
    from belamy.api.evaluate import evaluate
    from belamy.api.sample import sample
    from belamy.api.train import train
    from conftest import pattern_collection, tiny_config

    odd = os.fsdecode(b"caf\xe9")
    coll = pattern_collection(tmp_path, name=odd)
    cfg = tiny_config()
    cfg.steps, cfg.originality_n = 2, 8
    run = train(coll, tmp_path / "run", cfg, progress=False)
    info = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert info["collection"].startswith("file://") and unquote_to_bytes(info["collection"][7:]).endswith(b"/caf\xe9")
    assert "caf\\xe9" in (tmp_path / "run" / "MODEL_CARD.md").read_text(encoding="utf-8")
    train(None, tmp_path / "run", resume=True, progress=False, steps=3)
    record = json.loads(sample(run, [0], tmp_path / "r", progress=False)[0].with_suffix(".record.json").read_text())
    assert "nearest" in record["originality"]  # found the collection, not "skipped"
    assert evaluate(run, n=10, metrics=["swd"], write=False)["reals"] == 12
