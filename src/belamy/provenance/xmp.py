"""XMP: the artwork's provenance and rights in the metadata every image tool reads.

`build_xmp` writes one XMP packet (UTF-8, one rdf:Description) saying what made the image and who
holds which rights:

    Iptc4xmpExt:DigitalSourceType     IPTC digital source type (a URI: TRAINED, COMPOSITE, ...)
    Iptc4xmpExt:AISystemUsed          the AI system, e.g. "belamy stylegan2" (IPTC 2025.1)
    Iptc4xmpExt:AISystemVersionUsed   its version (IPTC 2025.1)
    plus:DataMining                   the artist's data-mining / AI-training choice (PLUS vocabulary)
    dc:creator (Seq), dc:rights (Alt), dc:title (Alt), photoshop:Credit,
    xmpRights:Marked True, xmpRights:WebStatement
    belamy:RecordSHA256               sha256 of the canonical provenance record

`parse_xmp` reads such a packet (or another writer's) back into a dict, and `read_xmp` finds the
packet embedded in a PNG (iTXt/zTXt/tEXt "XML:com.adobe.xmp"), JPEG (APP1) or TIFF (tag 700).

The XML is built and read with `xml.etree.ElementTree`, so any name is escaped; packets with a
DTD are refused (XMP has none, and a DTD is how entity bombs get in).
"""

from __future__ import annotations

import os
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, PngImagePlugin

from belamy.core.errors import BelamyError

# IPTC digital source types (http://cv.iptc.org/newscodes/digitalsourcetype/).
DIGITAL_SOURCE_TYPE_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED = DIGITAL_SOURCE_TYPE_PREFIX + "trainedAlgorithmicMedia"
COMPOSITE = DIGITAL_SOURCE_TYPE_PREFIX + "compositeWithTrainedAlgorithmicMedia"

# The PLUS DataMining vocabulary (http://ns.useplus.org/ldf/vocab/), by the artist's friendly name.
PLUS_VOCAB = "http://ns.useplus.org/ldf/vocab/"
DATA_MINING: dict[str, str] = {
    "prohibited": PLUS_VOCAB + "DMI-PROHIBITED",
    "allowed": PLUS_VOCAB + "DMI-ALLOWED",
    "no-ai-training": PLUS_VOCAB + "DMI-PROHIBITED-AIMLTRAINING",
    "no-genai-training": PLUS_VOCAB + "DMI-PROHIBITED-GENAIMLTRAINING",
    "search-indexing-only": PLUS_VOCAB + "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING",
    "unspecified": PLUS_VOCAB + "DMI-UNSPECIFIED",
}

PACKET_ID = "W5M0MpCehiHzreSzNTczkc9d"
BELAMY_NS = "https://belamy.dev/ns/1.0/"

# Prefix -> namespace URI for everything build_xmp writes.
NAMESPACES: dict[str, str] = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "plus": "http://ns.useplus.org/ldf/xmp/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "belamy": BELAMY_NS,
}
_XML_NS = "http://www.w3.org/XML/1998/namespace"


def _q(prefix: str, name: str) -> str:
    """A qualified name in ElementTree's {uri}name form."""
    return f"{{{NAMESPACES[prefix]}}}{name}"


_RDF = NAMESPACES["rdf"]
_LANG = f"{{{_XML_NS}}}lang"
_RDF_RDF, _RDF_DESC, _RDF_LI = _q("rdf", "RDF"), _q("rdf", "Description"), _q("rdf", "li")
_RDF_RESOURCE, _RDF_ABOUT, _RDF_VALUE = _q("rdf", "resource"), _q("rdf", "about"), _q("rdf", "value")
_CONTAINERS = {_q("rdf", "Seq"), _q("rdf", "Bag"), _q("rdf", "Alt")}

# parse_xmp's keys -> the property they come from.
_PROPERTIES: dict[str, str] = {
    "source_type": _q("Iptc4xmpExt", "DigitalSourceType"),
    "ai_system": _q("Iptc4xmpExt", "AISystemUsed"),
    "ai_system_version": _q("Iptc4xmpExt", "AISystemVersionUsed"),
    "data_mining": _q("plus", "DataMining"),
    "creators": _q("dc", "creator"),
    "rights": _q("dc", "rights"),
    "title": _q("dc", "title"),
    "credit": _q("photoshop", "Credit"),
    "record_sha256": _q("belamy", "RecordSHA256"),
    "web_statement": _q("xmpRights", "WebStatement"),
}

# Characters XML 1.0 cannot carry at all (escaping does not help).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_XMP_KEY = b"XML:com.adobe.xmp"
_MAX_XMP = 16 * 1024 * 1024  # bytes; a packet larger than this is not metadata


@dataclass
class XmpFields:
    """What the XMP packet says about one artwork."""

    source_type: str  # an IPTC DigitalSourceType URI: TRAINED, COMPOSITE, ...
    ai_system: str  # e.g. "belamy stylegan2"
    ai_system_version: str
    data_mining: str = "prohibited"  # a key of DATA_MINING (or one of its URIs)
    creators: list[str] = field(default_factory=list)
    rights: str = ""  # the copyright notice
    title: str = ""
    credit: str = ""  # the credit line
    record_sha256: str = ""  # sha256 (hex) of the canonical provenance record
    web_statement: str = ""  # a URL to the rights statement (xmpRights:WebStatement)


def data_mining_uri(choice: str) -> str:
    """The PLUS DataMining URI for a friendly choice ("prohibited", "no-ai-training", ...)."""
    key = choice.strip().lower()
    if key in DATA_MINING:
        return DATA_MINING[key]
    if choice.strip() in DATA_MINING.values():
        return choice.strip()
    raise BelamyError(
        f"unknown data-mining choice {choice!r}: choose one of {', '.join(DATA_MINING)}"
    )


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise BelamyError(f"XMP field {name} must be text, got {type(value).__name__}")
    bad = _NOT_XML.search(value)
    if bad:
        raise BelamyError(
            f"XMP field {name} holds the character U+{ord(bad.group()):04X}, which XML cannot carry; remove it"
        )
    return value


def _checked(fields: XmpFields) -> dict[str, object]:
    """The fields as they will be written, or one BelamyError line for the first bad one."""
    source_type = _text("source_type", fields.source_type).strip()
    if not source_type.startswith(DIGITAL_SOURCE_TYPE_PREFIX) or source_type == DIGITAL_SOURCE_TYPE_PREFIX:
        raise BelamyError(
            f"XMP source_type {source_type!r} is not an IPTC digital source type URI "
            f"(e.g. {TRAINED} or {COMPOSITE})"
        )
    if not isinstance(fields.creators, (list, tuple)):
        raise BelamyError(f"XMP field creators must be a list of names, got {type(fields.creators).__name__}")
    sha = _text("record_sha256", fields.record_sha256).strip().lower()
    if sha and not _SHA256.fullmatch(sha):
        raise BelamyError(f"XMP record_sha256 {fields.record_sha256!r} is not a sha256 hex digest (64 hex digits)")
    return {
        "source_type": source_type,
        "ai_system": _text("ai_system", fields.ai_system),
        "ai_system_version": _text("ai_system_version", fields.ai_system_version),
        "data_mining": data_mining_uri(_text("data_mining", fields.data_mining)),
        "creators": [_text("creators", c) for c in fields.creators],
        "rights": _text("rights", fields.rights),
        "title": _text("title", fields.title),
        "credit": _text("credit", fields.credit),
        "record_sha256": sha,
        "web_statement": _text("web_statement", fields.web_statement).strip(),
    }


def _simple(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, tag).text = value


def _container(parent: ET.Element, tag: str, kind: str, items: list[str], lang: bool = False) -> None:
    box = ET.SubElement(ET.SubElement(parent, tag), _q("rdf", kind))
    for item in items:
        li = ET.SubElement(box, _RDF_LI, {_LANG: "x-default"} if lang else {})
        li.text = item


def build_xmp(fields: XmpFields) -> bytes:
    """A complete XMP packet (UTF-8) for `fields`; the same fields always give the same bytes."""
    v = _checked(fields)
    for prefix, uri in NAMESPACES.items():  # again each time: the registry is process-wide
        ET.register_namespace(prefix, uri)

    meta = ET.Element(_q("x", "xmpmeta"))
    rdf = ET.SubElement(meta, _RDF_RDF)
    desc = ET.SubElement(rdf, _RDF_DESC, {_RDF_ABOUT: ""})
    _simple(desc, _PROPERTIES["source_type"], v["source_type"])
    if v["ai_system"]:
        _simple(desc, _PROPERTIES["ai_system"], v["ai_system"])
    if v["ai_system_version"]:
        _simple(desc, _PROPERTIES["ai_system_version"], v["ai_system_version"])
    _simple(desc, _PROPERTIES["data_mining"], v["data_mining"])
    if v["creators"]:
        _container(desc, _PROPERTIES["creators"], "Seq", v["creators"])
    if v["rights"]:
        _container(desc, _PROPERTIES["rights"], "Alt", [v["rights"]], lang=True)
    if v["title"]:
        _container(desc, _PROPERTIES["title"], "Alt", [v["title"]], lang=True)
    if v["credit"]:
        _simple(desc, _PROPERTIES["credit"], v["credit"])
    _simple(desc, _q("xmpRights", "Marked"), "True")
    if v["web_statement"]:
        _simple(desc, _PROPERTIES["web_statement"], v["web_statement"])
    if v["record_sha256"]:
        _simple(desc, _PROPERTIES["record_sha256"], v["record_sha256"])
    ET.indent(meta, space=" ")

    begin = ET.ProcessingInstruction("xpacket", f'begin="\ufeff" id="{PACKET_ID}"')
    end = ET.ProcessingInstruction("xpacket", 'end="w"')
    parts = [ET.tostring(node, encoding="unicode") for node in (begin, meta, end)]
    return "\n".join(parts).encode("utf-8")


def _value(prop: ET.Element) -> str | list[str]:
    """A property element's value: text, a URI (rdf:resource), or a container's items."""
    if _RDF_RESOURCE in prop.attrib:
        return prop.attrib[_RDF_RESOURCE]
    for child in prop:
        if child.tag in _CONTAINERS:
            items = [li for li in child if li.tag == _RDF_LI]
            if child.tag == _q("rdf", "Alt"):
                default = [li for li in items if li.get(_LANG, "").lower() == "x-default"]
                items = (default or items)[:1]
                return _value(items[0]) if items else ""
            return [v for li in items if isinstance(v := _value(li), str)]
        if child.tag == _RDF_VALUE:  # a qualified simple value
            return child.text or ""
    return (prop.text or "") if len(prop) == 0 else ""


def _prepare(data: bytes | str) -> bytes:
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray)):
        raise BelamyError(f"an XMP packet must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # a UTF-16 packet: read it as UTF-8
        data = data.decode("utf-16", "replace").encode("utf-8")
    data = data.strip(b"\x00 \t\r\n")  # writers pad packets with spaces or NULs
    if b"<!DOCTYPE" in data:
        raise BelamyError("the XMP packet declares a DTD, which XMP does not allow; refusing to read it")
    return data


def parse_xmp(data: bytes) -> dict[str, object]:
    """An XMP packet's provenance and rights, as a dict (missing properties are "" or [])."""
    data = _prepare(data)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        reason = " ".join(str(exc).split())
        raise BelamyError(f"the XMP packet is not well-formed XML ({reason})") from None
    rdf = root if root.tag == _RDF_RDF else next(root.iter(_RDF_RDF), None)
    if rdf is None:
        raise BelamyError("this is not an XMP packet: it has no rdf:RDF element")

    found: dict[str, str | list[str]] = {}
    for desc in rdf:
        if desc.tag != _RDF_DESC:
            continue
        for tag, text in desc.attrib.items():  # shorthand simple properties
            found.setdefault(tag, text)
        for prop in desc:
            found.setdefault(prop.tag, _value(prop))

    out: dict[str, object] = {}
    for key, tag in _PROPERTIES.items():
        value = found.get(tag, [] if key == "creators" else "")
        if key == "creators":
            out[key] = [value] if isinstance(value, str) and value else list(value)
        else:
            out[key] = value if isinstance(value, str) else (value[0] if value else "")
    return out


def _as_bytes(value: object, latin1: bool = False) -> bytes | None:
    if isinstance(value, tuple) and len(value) == 1:
        value = value[0]
    if isinstance(value, tuple) and all(isinstance(b, int) for b in value):
        value = bytes(value)
    if isinstance(value, str):
        return value.encode("latin-1" if latin1 else "utf-8", "replace" if latin1 else "strict")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return None


def _from_pillow(im: Image.Image) -> bytes | None:
    """The packet where Pillow exposes it: info["xmp"], a PNG text chunk, TIFF tag 700."""
    if im.info.get("xmp"):
        return _as_bytes(im.info["xmp"])
    text = im.info.get(_XMP_KEY.decode())
    if text:  # a PNG tEXt/zTXt chunk, which Pillow decodes as Latin-1
        return _as_bytes(text, latin1=not isinstance(text, PngImagePlugin.iTXt))
    tags = getattr(im, "tag_v2", None)
    if tags is not None and 700 in tags:
        return _as_bytes(tags[700])
    return None


def _inflate(data: bytes, path: Path) -> bytes:
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, _MAX_XMP)
    except zlib.error as exc:
        raise BelamyError(f"cannot read XMP from {path}: its compressed XMP chunk is damaged ({exc})") from None
    if d.unconsumed_tail:
        raise BelamyError(f"cannot read XMP from {path}: its XMP chunk inflates past {_MAX_XMP} bytes")
    return out


def _png_text_chunk(kind: bytes, body: bytes, path: Path) -> bytes | None:
    """The XMP in one tEXt/zTXt/iTXt chunk body, or None for another keyword."""
    keyword, sep, rest = body.partition(b"\x00")
    if keyword != _XMP_KEY or not sep:
        return None
    if kind == b"tEXt":
        return rest
    if kind == b"zTXt":
        return _inflate(rest[1:], path) if rest[:1] == b"\x00" else None
    if len(rest) < 2:  # iTXt: flag, method, language \0, translated keyword \0, text
        return None
    flag, method, rest = rest[0], rest[1], rest[2:]
    parts = rest.split(b"\x00", 2)
    if len(parts) < 3:
        return None
    text = parts[2]
    if flag:
        return _inflate(text, path) if method == 0 else None
    return text


def _scan_png(path: Path) -> bytes | None:
    """Walk a PNG's chunks (all of them, also those after IDAT) for the XMP text chunk."""
    with open(path, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            return None
        while True:
            head = f.read(8)
            if len(head) < 8:
                return None
            length, kind = struct.unpack(">I4s", head)
            if kind == b"IEND":
                return None
            if kind in (b"tEXt", b"zTXt", b"iTXt") and length <= _MAX_XMP:
                body = f.read(length)
                if len(body) < length:
                    return None
                found = _png_text_chunk(kind, body, path)
                if found is not None:
                    return found
                f.seek(4, os.SEEK_CUR)  # CRC
            else:
                f.seek(length + 4, os.SEEK_CUR)


def read_xmp(path: str | os.PathLike[str]) -> bytes | None:
    """The XMP packet embedded in an image file (PNG, JPEG, TIFF, ...), or None when it has none."""
    p = Path(path)
    if not p.is_file():
        raise BelamyError(f"cannot read XMP from {p}: no such file")
    try:
        with Image.open(p) as im:
            fmt = im.format
            found = _from_pillow(im)
    except Image.DecompressionBombError as exc:
        raise BelamyError(f"cannot read XMP from {p}: {' '.join(str(exc).split())}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise BelamyError(f"cannot read XMP from {p}: not an image Pillow can open ({reason})") from None
    if found is None and fmt == "PNG":  # Pillow stops at IDAT; XMP may come after it
        found = _scan_png(p)
    return found or None
