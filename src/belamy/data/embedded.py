"""Credits and consent embedded in an image: XMP, IPTC IIM and EXIF, read from an open Pillow image.

What is read, in the order a field is taken (the first that has it wins):

    author        XMP dc:creator (all names, joined by "; "), IPTC 2:80 By-line, EXIF Artist (0x013B)
    rights        XMP dc:rights (x-default), IPTC 2:116 Copyright Notice, EXIF Copyright (0x8298)
    title         XMP dc:title (x-default), IPTC 2:05 Object Name
    license_url   XMP xmpRights:WebStatement, cc:license
    data_mining   XMP plus:DataMining (the PLUS vocabulary key, e.g. DMI-PROHIBITED)
    tdm           XMP tdm:reservation / tdm:policy (TDMRep's embedded form)

It runs in the decode worker processes, so it imports only the standard library and Pillow. Nothing
here raises: a metadata block that cannot be read is simply not there (the pixels still count).
XMP is parsed with `xml.etree.ElementTree`; a packet with a DTD is refused (XMP has none, and a DTD
is how entity bombs get in).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from PIL import Image, IptcImagePlugin

PLUS_VOCAB = "http://ns.useplus.org/ldf/vocab/"

_NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "cc": "http://creativecommons.org/ns#",
    "plus": "http://ns.useplus.org/ldf/xmp/1.0/",
    "tdm": "http://www.w3.org/ns/tdmrep/",
}


def _q(prefix: str, name: str) -> str:
    return f"{{{_NS[prefix]}}}{name}"


_RDF_DESC, _RDF_LI, _RDF_RESOURCE, _RDF_VALUE = (_q("rdf", n) for n in ("Description", "li", "resource", "value"))
_CONTAINERS = {_q("rdf", "Seq"), _q("rdf", "Bag"), _q("rdf", "Alt")}
_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_XMP_PROPERTIES = {
    "creator": _q("dc", "creator"), "rights": _q("dc", "rights"), "title": _q("dc", "title"),
    "web_statement": _q("xmpRights", "WebStatement"), "cc_license": _q("cc", "license"),
    "data_mining": _q("plus", "DataMining"),
    "tdm_reservation": _q("tdm", "reservation"), "tdm_policy": _q("tdm", "policy"),
}
_MAX_XMP = 4 * 1024 * 1024  # bytes; a larger packet is not metadata
_MAX_TEXT = 1000  # characters kept of one field
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_JPEG_XMP = b"http://ns.adobe.com/xap/1.0/\x00"

EXIF_ARTIST, EXIF_COPYRIGHT, TIFF_XMP, TIFF_IPTC = 0x013B, 0x8298, 700, 33723
IPTC_TITLE, IPTC_BYLINE, IPTC_COPYRIGHT, IPTC_CHARSET = (2, 5), (2, 80), (2, 116), (1, 90)


def read_embedded(im: Image.Image) -> dict[str, Any]:
    """The credit and consent fields an image carries (only those it has)."""
    xmp = _safely(lambda: parse_xmp(xmp_packet(im)))
    iptc = _safely(lambda: _iptc(im))
    exif = _safely(lambda: _exif(im))
    out: dict[str, Any] = {}
    for name, sources in (("author", (xmp.get("creator"), iptc.get("author"), exif.get("author"))),
                          ("rights", (xmp.get("rights"), iptc.get("rights"), exif.get("rights"))),
                          ("title", (xmp.get("title"), iptc.get("title"))),
                          ("license_url", (xmp.get("web_statement"), xmp.get("cc_license")))):
        value = next((v for v in sources if v), None)
        if value:
            out[name] = value
    if xmp.get("data_mining"):
        out["data_mining"] = plus_key(xmp["data_mining"])
    tdm = _tdm(xmp)
    if tdm:
        out["tdm"] = tdm
    return out


def _safely(read) -> dict[str, Any]:
    try:
        return read() or {}
    except Exception:  # a hostile or broken metadata block is no metadata, never a lost image
        return {}


def plus_key(value: str) -> str:
    """A PLUS DataMining value as its vocabulary key (`DMI-PROHIBITED`); other values as given."""
    v = value.strip()
    if v.startswith(PLUS_VOCAB):
        return v[len(PLUS_VOCAB):]
    if v.upper().startswith("DMI-"):
        return v.upper()
    return v


def _tdm(xmp: dict[str, str]) -> dict[str, Any] | None:
    value = (xmp.get("tdm_reservation") or "").strip()
    if value not in ("0", "1"):  # anything else is a protocol error: unset
        return None
    out: dict[str, Any] = {"reservation": int(value), "source": "xmp"}
    if value == "1" and xmp.get("tdm_policy"):
        out["policy"] = xmp["tdm_policy"]
    return out


# -- XMP ---------------------------------------------------------------------------------------
def xmp_packet(im: Image.Image) -> bytes | None:
    """The raw XMP packet of a PNG (iTXt), JPEG (APP1), WebP, GIF or TIFF (tag 700), if any."""
    for key in ("xmp", "XML:com.adobe.xmp"):
        value = im.info.get(key)
        if value:
            return value.encode("utf-8") if isinstance(value, str) else bytes(value)
    for marker, body in getattr(im, "applist", None) or []:
        if marker == "APP1" and body.startswith(_JPEG_XMP):
            return body[len(_JPEG_XMP):]
    tags = getattr(im, "tag_v2", None)
    if tags is not None and TIFF_XMP in tags:
        value = tags[TIFF_XMP]
        return value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return None


def parse_xmp(packet: bytes | None) -> dict[str, str]:
    """The properties above from one XMP packet (first occurrence of each wins)."""
    if not packet or len(packet) > _MAX_XMP:
        return {}
    packet = packet.strip(b"\x00 \t\r\n")
    head = packet[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in packet.upper():
        return {}
    root = ET.fromstring(packet)
    out: dict[str, str] = {}
    for desc in root.iter(_RDF_DESC):
        for name, tag in _XMP_PROPERTIES.items():
            if name in out:
                continue
            if tag in desc.attrib:
                value = _clean(desc.attrib[tag])
            else:
                elem = desc.find(tag)
                value = _element_value(elem, many=name == "creator") if elem is not None else ""
            if value:
                out[name] = value
    return out


def _element_value(elem: ET.Element, many: bool) -> str:
    """A property's text: a resource URI, a container's items (x-default first), or plain text."""
    if elem.get(_RDF_RESOURCE):
        return _clean(elem.get(_RDF_RESOURCE, ""))
    for child in elem:
        if child.tag in _CONTAINERS:
            items = [li for li in child if li.tag == _RDF_LI]
            if child.tag == _q("rdf", "Alt"):
                items.sort(key=lambda li: li.get(_LANG, "") != "x-default")
            values = [v for v in (_li_text(li) for li in items) if v]
            if not values:
                return ""
            return "; ".join(dict.fromkeys(values)) if many else values[0]
        if child.tag == _RDF_VALUE:
            return _clean(child.text or "")
    return _clean(elem.text or elem.get(_RDF_VALUE, ""))


def _li_text(li: ET.Element) -> str:
    if li.get(_RDF_RESOURCE):
        return _clean(li.get(_RDF_RESOURCE, ""))
    value = li.find(_RDF_VALUE)
    return _clean((value.text if value is not None else li.text) or "")


# -- IPTC IIM ----------------------------------------------------------------------------------
def _iptc(im: Image.Image) -> dict[str, str]:
    """By-line, Copyright Notice and Object Name from IPTC IIM (JPEG APP13, TIFF tag 33723)."""
    if im.format not in ("JPEG", "TIFF", "MPO"):
        return {}
    info = IptcImagePlugin.getiptcinfo(im)
    if not info:
        return {}
    utf8 = _first(info.get(IPTC_CHARSET)) == b"\x1b%G"
    out = {}
    for name, key in (("author", IPTC_BYLINE), ("rights", IPTC_COPYRIGHT), ("title", IPTC_TITLE)):
        raw = info.get(key)
        values = raw if isinstance(raw, list) else [raw] if raw else []
        texts = [t for t in (_iim_text(v, utf8) for v in values) if t]
        if texts:
            out[name] = "; ".join(dict.fromkeys(texts)) if name == "author" else texts[0]
    return out


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _iim_text(raw: Any, utf8: bool) -> str:
    """IIM text: UTF-8 when the record says so (1:90), else UTF-8 if it is, else Windows-1252."""
    if not isinstance(raw, (bytes, bytearray)):
        return ""
    data = bytes(raw)
    try:
        return _clean(data.decode("utf-8"))
    except UnicodeDecodeError:
        return _clean(data.decode("utf-8" if utf8 else "cp1252", "replace"))


# -- EXIF --------------------------------------------------------------------------------------
def _exif(im: Image.Image) -> dict[str, str]:
    exif = im.getexif()
    out = {}
    for name, tag in (("author", EXIF_ARTIST), ("rights", EXIF_COPYRIGHT)):
        value = exif.get(tag)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str):
            # EXIF Copyright may hold "photographer\0editor"; Artist may list names with ";"
            parts = [_clean(p) for p in value.split("\x00")]
            text = "; ".join(p for p in parts if p)
            if text:
                out[name] = text
    return out


def _clean(text: str) -> str:
    """Text as a manifest keeps it: no control characters, spaces collapsed, a sane length."""
    text = _CONTROL.sub(" ", text)
    text = " ".join(text.split())
    return text[:_MAX_TEXT]
