"""XMP packets: build, parse, embed in PNG/JPEG/TIFF, read back with belamy and with exiftool."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest
from PIL import Image, features
from PIL.PngImagePlugin import PngInfo

from belamy.core.errors import BelamyError
from belamy.provenance.xmp import (
    COMPOSITE,
    DATA_MINING,
    TRAINED,
    XmpFields,
    build_xmp,
    parse_xmp,
    read_xmp,
)

SHA = hashlib.sha256(b"a canonical provenance record").hexdigest()
PLUS = "http://ns.useplus.org/ldf/vocab/"


def fields(**kw) -> XmpFields:
    base = XmpFields(
        source_type=TRAINED,
        ai_system="belamy stylegan2",
        ai_system_version="0.1.0",
        data_mining="no-ai-training",
        creators=['Zoë Ångström <zoe@example.org> & "Co"', "李白", "O'Brien"],
        rights="© 2025 Zoë & Co. <all rights reserved>",
        title='Portrait "n° 7" & <friends>',
        credit="Made with belamy & love",
        record_sha256=SHA,
        web_statement="https://example.org/rights?work=7&lang=fr",
    )
    return dataclasses.replace(base, **kw)


def one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert msg and "\n" not in msg
    return msg


# --- build and parse ---------------------------------------------------------------------------


def test_round_trip_keeps_every_field_with_non_ascii_and_escaped_characters():
    f = fields()
    parsed = parse_xmp(build_xmp(f))
    assert parsed == {
        "source_type": TRAINED,
        "ai_system": "belamy stylegan2",
        "ai_system_version": "0.1.0",
        "data_mining": PLUS + "DMI-PROHIBITED-AIMLTRAINING",
        "creators": f.creators,
        "rights": f.rights,
        "title": f.title,
        "credit": f.credit,
        "record_sha256": SHA,
        "web_statement": f.web_statement,
    }


def test_packet_is_a_complete_utf8_xmp_packet_with_the_standard_properties():
    data = build_xmp(fields(source_type=COMPOSITE))
    text = data.decode("utf-8")
    assert text.startswith('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>')
    assert text.endswith('<?xpacket end="w"?>')
    root = ET.fromstring(data)
    assert root.tag == "{adobe:ns:meta/}xmpmeta"
    rdf = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
    descs = root.findall(f"{rdf}RDF/{rdf}Description")
    assert len(descs) == 1
    d = descs[0]
    ext = "{http://iptc.org/std/Iptc4xmpExt/2008-02-29/}"
    assert d.findtext(f"{ext}DigitalSourceType") == COMPOSITE
    assert d.findtext(f"{ext}AISystemUsed") == "belamy stylegan2"
    assert d.findtext(f"{ext}AISystemVersionUsed") == "0.1.0"
    assert d.findtext("{http://ns.useplus.org/ldf/xmp/1.0/}DataMining") == PLUS + "DMI-PROHIBITED-AIMLTRAINING"
    dc = "{http://purl.org/dc/elements/1.1/}"
    assert [li.text for li in d.findall(f"{dc}creator/{rdf}Seq/{rdf}li")] == fields().creators
    for prop in ("rights", "title"):
        (li,) = d.findall(f"{dc}{prop}/{rdf}Alt/{rdf}li")
        assert li.get("{http://www.w3.org/XML/1998/namespace}lang") == "x-default"
    assert d.findtext("{http://ns.adobe.com/photoshop/1.0/}Credit") == "Made with belamy & love"
    rights = "{http://ns.adobe.com/xap/1.0/rights/}"
    assert d.findtext(f"{rights}Marked") == "True"
    assert d.findtext(f"{rights}WebStatement") == fields().web_statement
    assert d.findtext("{https://belamy.dev/ns/1.0/}RecordSHA256") == SHA


def test_same_fields_give_the_same_bytes():
    assert build_xmp(fields()) == build_xmp(fields())
    assert build_xmp(fields()) != build_xmp(fields(title="another"))


def test_empty_optional_fields_are_left_out():
    data = build_xmp(fields(title="", credit="", record_sha256="", web_statement=""))
    for absent in (b"dc:title", b"photoshop:Credit", b"WebStatement", b"RecordSHA256"):
        assert absent not in data
    parsed = parse_xmp(data)
    assert parsed["title"] == parsed["credit"] == parsed["record_sha256"] == parsed["web_statement"] == ""
    assert b"<xmpRights:Marked>True</xmpRights:Marked>" in data


@pytest.mark.parametrize(
    "choice, code",
    [
        ("prohibited", "DMI-PROHIBITED"),
        ("allowed", "DMI-ALLOWED"),
        ("no-ai-training", "DMI-PROHIBITED-AIMLTRAINING"),
        ("No-GenAI-Training", "DMI-PROHIBITED-GENAIMLTRAINING"),
        ("search-indexing-only", "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING"),
        ("unspecified", "DMI-UNSPECIFIED"),
        (PLUS + "DMI-ALLOWED", "DMI-ALLOWED"),
    ],
)
def test_data_mining_choices_map_to_the_plus_vocabulary(choice, code):
    assert parse_xmp(build_xmp(fields(data_mining=choice)))["data_mining"] == PLUS + code


def test_default_data_mining_is_prohibited():
    f = XmpFields(source_type=TRAINED, ai_system="belamy stylegan2", ai_system_version="0.1.0")
    assert parse_xmp(build_xmp(f))["data_mining"] == PLUS + "DMI-PROHIBITED"


def test_unknown_data_mining_choice_is_one_line_listing_the_choices():
    with pytest.raises(BelamyError) as exc:
        build_xmp(fields(data_mining="maybe"))
    msg = one_line(exc)
    assert "'maybe'" in msg
    for choice in DATA_MINING:
        assert choice in msg


@pytest.mark.parametrize(
    "kw, words",
    [
        ({"source_type": "trainedAlgorithmicMedia"}, "digital source type"),
        ({"record_sha256": "not-a-digest"}, "sha256"),
        ({"creators": ["bell\x07"]}, "U+0007"),
        ({"title": "nul\x00"}, "U+0000"),
        ({"creators": "Zoë"}, "list"),
    ],
)
def test_bad_fields_are_one_line_errors(kw, words):
    with pytest.raises(BelamyError) as exc:
        build_xmp(fields(**kw))
    assert words in one_line(exc)


@pytest.mark.parametrize(
    "data",
    [
        b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF>",  # unbound prefix, unclosed
        b"<a><b></a>",
        b"not xml at all",
        b"",
    ],
)
def test_malformed_xml_is_one_line_error(data):
    with pytest.raises(BelamyError) as exc:
        parse_xmp(data)
    assert "XML" in one_line(exc)


def test_xml_without_rdf_is_not_xmp():
    with pytest.raises(BelamyError) as exc:
        parse_xmp(b"<root><child/></root>")
    assert "rdf:RDF" in one_line(exc)


def test_a_dtd_is_refused():
    bomb = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'
    with pytest.raises(BelamyError) as exc:
        parse_xmp(bomb)
    assert "DTD" in one_line(exc)


FOREIGN = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Another Toolkit 1.0">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmp:CreatorTool="Some Editor" photoshop:Credit="Atelier Zoë &amp; Co">
   <xmp:CreateDate>2025-01-02T03:04:05Z</xmp:CreateDate>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/">
   <Iptc4xmpExt:DigitalSourceType rdf:resource="http://cv.iptc.org/newscodes/digitalsourcetype/\
compositeWithTrainedAlgorithmicMedia"/>
   <plus:DataMining>http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-GENAIMLTRAINING</plus:DataMining>
   <dc:creator><rdf:Bag><rdf:li>Ζωή</rdf:li></rdf:Bag></dc:creator>
   <dc:rights><rdf:Alt>
     <rdf:li xml:lang="fr-FR">Tous droits réservés</rdf:li>
     <rdf:li xml:lang="x-default">All rights reserved</rdf:li>
   </rdf:Alt></dc:rights>
   <dc:subject><rdf:Bag><rdf:li>unknown</rdf:li></rdf:Bag></dc:subject>
   <Iptc4xmpExt:LocationShown><rdf:Bag><rdf:li rdf:parseType="Resource">
     <Iptc4xmpExt:City>Paris</Iptc4xmpExt:City></rdf:li></rdf:Bag></Iptc4xmpExt:LocationShown>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
""" + " " * 200 + '\n<?xpacket end="w"?>'


def test_other_writers_packets_are_read_and_unknown_properties_ignored():
    parsed = parse_xmp(FOREIGN.encode("utf-8") + b"\x00\x00")
    assert parsed["source_type"] == COMPOSITE
    assert parsed["data_mining"] == PLUS + "DMI-PROHIBITED-GENAIMLTRAINING"
    assert parsed["creators"] == ["Ζωή"]
    assert parsed["rights"] == "All rights reserved"
    assert parsed["credit"] == "Atelier Zoë & Co"
    assert parsed["ai_system"] == parsed["title"] == parsed["record_sha256"] == ""


def test_a_utf16_packet_is_read():
    assert parse_xmp(FOREIGN.encode("utf-16"))["creators"] == ["Ζωή"]


# --- embedded in image files ---------------------------------------------------------------------


def small() -> Image.Image:
    return Image.new("RGB", (16, 12), (200, 30, 90))


def png_with_chunk_after_idat(path: Path, kind: bytes, body: bytes) -> None:
    """A PNG whose XMP chunk comes after IDAT (legal, and where Pillow does not look on open)."""
    small().save(path, format="PNG")
    raw = path.read_bytes()
    chunk = struct.pack(">I", len(body)) + kind + body
    chunk += struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    iend = raw.rindex(b"IEND") - 4
    path.write_bytes(raw[:iend] + chunk + raw[iend:])


@pytest.fixture
def packet() -> bytes:
    return build_xmp(fields())


@pytest.mark.parametrize("zip_", [False, True])
def test_png_itxt(tmp_path, packet, zip_):
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", packet.decode("utf-8"), zip=zip_)
    path = tmp_path / "art.png"
    small().save(path, pnginfo=info)
    assert read_xmp(path) == packet


def test_png_ztxt_and_text_hold_latin1_bytes(tmp_path, packet):
    for zip_ in (False, True):
        info = PngInfo()
        info.add_text("XML:com.adobe.xmp", packet.decode("latin-1"), zip=zip_)  # raw UTF-8 bytes
        path = tmp_path / f"art{int(zip_)}.png"
        small().save(path, pnginfo=info)
        assert read_xmp(path) == packet
        assert parse_xmp(read_xmp(path))["creators"] == fields().creators


@pytest.mark.parametrize(
    "kind, body",
    [
        (b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00"),
        (b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00"),
        (b"zTXt", b"XML:com.adobe.xmp\x00\x00"),
        (b"tEXt", b"XML:com.adobe.xmp\x00"),
    ],
)
def test_png_xmp_after_idat(tmp_path, packet, kind, body):
    compressed = body.endswith(b"\x01\x00\x00\x00") or kind == b"zTXt"
    path = tmp_path / "late.png"
    png_with_chunk_after_idat(path, kind, body + (zlib.compress(packet) if compressed else packet))
    assert read_xmp(path) == packet


def test_jpeg_app1(tmp_path, packet):
    path = tmp_path / "art.jpg"
    small().save(path, format="JPEG", xmp=packet)
    assert read_xmp(path) == packet


def test_tiff_tag_700(tmp_path, packet):
    path = tmp_path / "art.tif"
    small().save(path, format="TIFF", tiffinfo={700: packet})
    assert read_xmp(path) == packet


@pytest.mark.skipif(not features.check("webp"), reason="this Pillow was built without WebP")
def test_webp_xmp_chunk(tmp_path, packet):
    path = tmp_path / "art.webp"
    small().save(path, format="WEBP", xmp=packet, lossless=True)
    assert read_xmp(path) == packet


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_no_xmp_is_none(tmp_path, fmt):
    path = tmp_path / f"plain.{fmt.lower()}"
    info = PngInfo()
    info.add_itxt("belamy", "{}")  # another text chunk is not XMP
    small().save(path, format=fmt, **({"pnginfo": info} if fmt == "PNG" else {}))
    assert read_xmp(path) is None


def test_missing_file_and_non_image_are_one_line_errors(tmp_path):
    with pytest.raises(BelamyError) as exc:
        read_xmp(tmp_path / "nowhere.png")
    assert "no such file" in one_line(exc)
    junk = tmp_path / "notes.png"
    junk.write_text("just text")
    with pytest.raises(BelamyError) as exc:
        read_xmp(junk)
    assert "not an image" in one_line(exc)


# --- a second, independent reader: exiftool -----------------------------------------------------


def exiftool() -> str:
    found = shutil.which("exiftool")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("exiftool is not on PATH: install libimage-exiftool-perl (apt-get install libimage-exiftool-perl)")
    pytest.skip("exiftool is not on PATH (install libimage-exiftool-perl to run this check)")


def embed(path: Path, packet: bytes) -> None:
    if path.suffix == ".png":
        info = PngInfo()
        info.add_itxt("XML:com.adobe.xmp", packet.decode("utf-8"))
        small().save(path, pnginfo=info)
    elif path.suffix == ".jpg":
        small().save(path, format="JPEG", xmp=packet)
    else:
        small().save(path, format="TIFF", tiffinfo={700: packet})


@pytest.mark.parametrize("name", ["art.png", "art.jpg", "art.tif"])
def test_exiftool_reads_the_packet(tmp_path, packet, name):
    tool = exiftool()
    path = tmp_path / name
    embed(path, packet)
    # -n: raw values, so newer exiftool versions (which print "Prohibited for AI/ML training" for the
    # URI) give the same answer as older ones.
    run = subprocess.run(
        [tool, "-j", "-G1", "-struct", "-n", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr
    (tags,) = json.loads(run.stdout)
    assert "ExifTool:Warning" not in tags, tags.get("ExifTool:Warning")
    assert tags["XMP-iptcExt:DigitalSourceType"] == TRAINED
    assert tags["XMP-iptcExt:AISystemUsed"] == "belamy stylegan2"
    assert str(tags["XMP-iptcExt:AISystemVersionUsed"]) == "0.1.0"
    assert tags["XMP-plus:DataMining"] == PLUS + "DMI-PROHIBITED-AIMLTRAINING"
    assert tags["XMP-dc:Creator"] == fields().creators
    assert tags["XMP-dc:Rights"] == fields().rights
    assert tags["XMP-dc:Title"] == fields().title
    assert tags["XMP-photoshop:Credit"] == fields().credit
    assert tags["XMP-xmpRights:WebStatement"] == fields().web_statement
    assert tags["XMP-belamy:RecordSHA256"] == SHA
