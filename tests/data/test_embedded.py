"""Credits and consent embedded in images (XMP, IPTC IIM, EXIF, C2PA) read from folders and zips into
the manifest; a disagreeing sidecar wins and the disagreement is reported."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import belamy
from belamy.data.decode import DecodeOptions, decode
from conftest import encode, pattern, run_cli
from embedded_images import (c2pa_signed_png, exif_block, jpeg_app1_xmp, jpeg_with_exif, jpeg_with_iptc,
                             png_with_xmp, xmp_packet)

OPTS = DecodeOptions(size=32)
CC_BY = "https://creativecommons.org/licenses/by/4.0/"


def meta(data: bytes) -> dict:
    return decode(data, OPTS).meta


def test_exif_iptc_and_xmp_are_read_in_their_order():
    assert meta(encode(pattern(1), "PNG")) == {}
    assert meta(jpeg_with_exif(1, "Exif Artist", "Photographer\x00Editor")) == {
        "author": "Exif Artist", "rights": "Photographer; Editor"}
    iptc = [((1, 90), b"\x1b%G"), ((2, 80), "Zoë Byline"), ((2, 80), "Second Byline"), ((2, 116), "© 2021 Zoë"),
            ((2, 5), "Night Harbour")]
    assert meta(jpeg_with_iptc(2, iptc, exif=exif_block("Exif Artist", "exif rights"))) == {
        "author": "Zoë Byline; Second Byline", "rights": "© 2021 Zoë", "title": "Night Harbour"}  # IPTC over EXIF
    legacy = [((2, 80), "Zoë".encode("cp1252")), ((2, 116), b"(c) 1999")]  # no 1:90 and not UTF-8
    assert meta(jpeg_with_iptc(3, legacy)) == {"author": "Zoë", "rights": "(c) 1999"}
    xmp = xmp_packet(creators=["Ann Painter", "Bo Helper"], rights="(c) 2024 Ann Painter", title="Dawn",
                     web_statement=CC_BY, data_mining="DMI-ALLOWED",
                     tdm_reservation="1", tdm_policy="https://ann.example/tdm")
    expected = {"author": "Ann Painter; Bo Helper", "rights": "(c) 2024 Ann Painter", "title": "Dawn",
                "license_url": CC_BY, "data_mining": "DMI-ALLOWED",
                "tdm": {"reservation": 1, "source": "xmp", "policy": "https://ann.example/tdm"}}
    assert meta(png_with_xmp(4, xmp)) == expected
    assert meta(jpeg_app1_xmp(4, xmp)) == expected
    # XMP wins over EXIF; cc:license as a resource when there is no WebStatement
    both = encode(pattern(5), "JPEG", exif=exif_block("Exif Artist", "exif rights"),
                  xmp=xmp_packet(creators=["Xmp Artist"], cc_license=CC_BY))
    assert meta(both) == {"author": "Xmp Artist", "rights": "exif rights", "license_url": CC_BY}


def test_hostile_or_broken_metadata_is_no_metadata():
    dtd = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
           b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>')
    assert meta(png_with_xmp(6, dtd)) == {}
    assert meta(png_with_xmp(7, b"<x:xmpmeta><not closed")) == {}
    cut = [((2, 80), "ok")]
    broken = jpeg_with_iptc(8, cut).replace(b"\x1c\x02\x50\x00\x02ok", b"\x1c\x02\x50\xff\xffok")
    d = decode(broken, OPTS)  # the IIM length lies: the pixels still count
    assert d.width == 96 and "author" not in d.meta


def _sources(root: Path, keys: Path) -> tuple[Path, Path]:
    d = root / "folder"
    d.mkdir()
    (d / "exif.jpg").write_bytes(jpeg_with_exif(11, "Cat Exif", "(c) Cat Exif"))
    (d / "iptc.jpg").write_bytes(jpeg_with_iptc(12, [((1, 90), b"\x1b%G"), ((2, 80), "Dee Iptc"),
                                                     ((2, 116), "© Dee Iptc")]))
    (d / "xmp.png").write_bytes(png_with_xmp(13, xmp_packet(creators=["Ann Painter"], rights="(c) Ann Painter",
                                                            web_statement=CC_BY, title="Dawn")))
    (d / "agrees.png").write_bytes(png_with_xmp(14, xmp_packet(creators=["Bo  Agrees"])))
    (d / "no-training.png").write_bytes(png_with_xmp(15, xmp_packet(creators=["Eve"], data_mining="DMI-PROHIBITED")))
    (d / "c2pa.png").write_bytes(c2pa_signed_png(16, keys, {"c2pa.ai_generative_training": "notAllowed"}))
    (d / "plain.png").write_bytes(encode(pattern(17), "PNG"))
    z = root / "more.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("in-zip/zip-exif.jpg", jpeg_with_exif(21, "Fay Zip", "(c) Fay Zip"))
        zf.writestr("in-zip/genai.jpg", jpeg_app1_xmp(22, xmp_packet(creators=["Gus"],
                                                                    data_mining="DMI-PROHIBITED-GENAIMLTRAINING")))
    side = root / "credits.csv"
    side.write_text("file,author,license,title\n"
                    "xmp.png,Sidecar Name,CC0-1.0,Dawn\n"  # author and licence disagree, title agrees
                    "agrees.png,bo agrees,,\n"  # the same name, spelt with other case and spaces
                    "in-zip/zip-exif.jpg,Fay Zip,,\n", encoding="utf-8")
    return d, z


def test_folder_and_zip_credits_and_conflicts(tmp_path: Path):
    folder, z = _sources(tmp_path, tmp_path / "keys")
    coll = belamy.collect([str(folder), str(z)], tmp_path / "coll", size=32, workers=2, near_threshold=-1,
                          credits=tmp_path / "credits.csv")
    rows = {r["source"].rsplit("/", 1)[-1]: r for r in coll.manifest}
    assert sorted(rows) == ["agrees.png", "exif.jpg", "iptc.jpg", "plain.png", "xmp.png", "zip-exif.jpg"]
    assert (rows["exif.jpg"]["author"], rows["exif.jpg"]["rights"]) == ("Cat Exif", "(c) Cat Exif")
    assert (rows["zip-exif.jpg"]["author"], rows["zip-exif.jpg"]["rights"]) == ("Fay Zip", "(c) Fay Zip")
    assert (rows["iptc.jpg"]["author"], rows["iptc.jpg"]["rights"]) == ("Dee Iptc", "© Dee Iptc")
    x = rows["xmp.png"]
    assert (x["author"], x["license"], x["license_url"], x["rights"], x["title"]) == (
        "Sidecar Name", "CC0-1.0", CC_BY, "(c) Ann Painter", "Dawn")  # the sidecar wins
    assert x["embedded"] == {"author": "Ann Painter", "license": "CC-BY-4.0"}  # what the file said, kept
    assert rows["agrees.png"]["author"] == "bo agrees" and "embedded" not in rows["agrees.png"]
    assert "author" not in rows["plain.png"] and "rights" not in rows["plain.png"]
    conflicts = [(c["source"].rsplit("/", 1)[-1], c["field"], c["sidecar"], c["embedded"])
                 for c in coll.report.credit_conflicts]
    assert conflicts == [("xmp.png", "author", "Sidecar Name", "Ann Painter"),
                         ("xmp.png", "license", "CC0-1.0", "CC-BY-4.0")]
    out = {o["source"].rsplit("/", 1)[-1]: (o["signal"], o["detail"]) for o in coll.report.opted_out}
    assert out == {"no-training.png": ("plus:DataMining", "DMI-PROHIBITED"),
                   "c2pa.png": ("c2pa.training-mining", "c2pa.ai_generative_training: notAllowed"),
                   "genai.jpg": ("plus:DataMining", "DMI-PROHIBITED-GENAIMLTRAINING")}
    assert coll.report.skipped == [] and coll.report.total == 9
    saved = json.loads(Path(coll.report.report_path).read_text())
    assert len(saved["credit_conflicts"]) == 2 and len(saved["opted_out"]) == 3


def test_cli_include_opted_out_and_the_printed_report(tmp_path: Path, monkeypatch, capsys):
    folder, z = _sources(tmp_path, tmp_path / "keys")
    code, out, err = run_cli(monkeypatch, capsys, "collect", str(folder), str(z), "-o", str(tmp_path / "c"),
                             "--size", "32", "--workers", "1", "--near-threshold", "-1",
                             "--credits", str(tmp_path / "credits.csv"), "--include-opted-out")
    assert code == 0, err
    text = " ".join(out.split())
    assert re.search(r"opted out, included \(--include-opted-out\)\W+3\b", text)
    assert "included despite opt-out:" in text and "plus:DataMining (DMI-PROHIBITED)" in text
    assert "the sidecar's author 'Sidecar Name' kept over the file's own 'Ann Painter'" in text
    rows = [json.loads(x) for x in (tmp_path / "c" / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) == 9 and sum("opt_out" in r for r in rows) == 3
    meta = json.loads((tmp_path / "c" / "collection.json").read_text())
    assert meta["opted_out"]["included"] == 3
    code, out, _ = run_cli(monkeypatch, capsys, "collection", "show", str(tmp_path / "c"))
    assert code == 0 and "opted out, included" in out
    code, out, _ = run_cli(monkeypatch, capsys, "collect", str(folder), "-o", str(tmp_path / "d"), "--size", "32",
                           "--workers", "1")
    text = " ".join(out.split())
    assert code == 0 and "opted out by their creators, skipped" in text and "opted out:" in text
