"""Images made in the tests with metadata written by hand: XMP packets (PNG iTXt, JPEG APP1), IPTC
IIM (a JPEG APP13 Photoshop block), EXIF Artist/Copyright, and C2PA manifests signed with a test
identity. Nothing here comes from a third-party file."""

from __future__ import annotations

import struct
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, PngImagePlugin

from conftest import encode, pattern

PLUS = "http://ns.useplus.org/ldf/vocab/"


def xmp_packet(*, creators: list[str] | None = None, rights: str | None = None, title: str | None = None,
               web_statement: str | None = None, cc_license: str | None = None, data_mining: str | None = None,
               tdm_reservation: str | None = None, tdm_policy: str | None = None,
               mining_as_element: bool = False) -> bytes:
    """An XMP packet; DataMining as an attribute (as exiftool writes it) or as an element."""
    attrs, elems = [], []
    if data_mining is not None:
        value = data_mining if data_mining.startswith("http") else PLUS + data_mining
        if mining_as_element:
            elems.append(f"<plus:DataMining>{escape(value)}</plus:DataMining>")
        else:
            attrs.append(f"plus:DataMining={quoteattr(value)}")
    if tdm_reservation is not None:
        attrs.append(f"tdm:reservation={quoteattr(tdm_reservation)}")
    if tdm_policy is not None:
        attrs.append(f"tdm:policy={quoteattr(tdm_policy)}")
    if creators:
        elems.append("<dc:creator><rdf:Seq>" + "".join(f"<rdf:li>{escape(c)}</rdf:li>" for c in creators)
                     + "</rdf:Seq></dc:creator>")
    for tag, value in (("dc:rights", rights), ("dc:title", title)):
        if value is not None:
            elems.append(f'<{tag}><rdf:Alt><rdf:li xml:lang="fr">autre</rdf:li>'
                         f'<rdf:li xml:lang="x-default">{escape(value)}</rdf:li></rdf:Alt></{tag}>')
    if web_statement is not None:
        elems.append(f"<xmpRights:WebStatement>{escape(web_statement)}</xmpRights:WebStatement>")
    if cc_license is not None:
        elems.append(f"<cc:license rdf:resource={quoteattr(cc_license)}/>")
    text = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/" '
            'xmlns:cc="http://creativecommons.org/ns#" xmlns:tdm="http://www.w3.org/ns/tdmrep/" '
            + " ".join(attrs) + ">" + "".join(elems)
            + '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>')
    return text.encode("utf-8")


def png_with_xmp(seed: int, xmp: bytes) -> bytes:
    """A PNG whose XMP is an iTXt chunk `XML:com.adobe.xmp`."""
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"))
    return encode(pattern(seed), "PNG", pnginfo=info)


def jpeg_app1_xmp(seed: int, xmp: bytes) -> bytes:
    """A JPEG whose XMP is an APP1 segment written by hand after SOI."""
    body = b"http://ns.adobe.com/xap/1.0/\x00" + xmp
    return _insert_segment(encode(pattern(seed), "JPEG", quality=95), b"\xff\xe1", body)


def iptc_iim(fields: list[tuple[tuple[int, int], bytes | str]]) -> bytes:
    """IIM datasets: 0x1C, record, dataset, a 2-byte length, the value."""
    out = b""
    for (record, dataset), value in fields:
        data = value.encode("utf-8") if isinstance(value, str) else value
        out += bytes([0x1C, record, dataset]) + struct.pack(">H", len(data)) + data
    return out


def jpeg_with_iptc(seed: int, fields: list[tuple[tuple[int, int], bytes | str]], exif=None) -> bytes:
    """A JPEG with an APP13 Photoshop 3.0 block holding the IIM as image resource 0x0404."""
    iim = iptc_iim(fields)
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim)) + iim
    resource += b"\x00" * (len(iim) % 2)
    kw = {"exif": exif} if exif is not None else {}
    return _insert_segment(encode(pattern(seed), "JPEG", quality=95, **kw), b"\xff\xed",
                           b"Photoshop 3.0\x00" + resource)


def jpeg_with_exif(seed: int, artist: str | None = None, copyright: str | None = None) -> bytes:
    return encode(pattern(seed), "JPEG", quality=95, exif=exif_block(artist, copyright))


def exif_block(artist: str | None = None, copyright: str | None = None) -> Image.Exif:
    exif = Image.Exif()
    if artist is not None:
        exif[0x013B] = artist
    if copyright is not None:
        exif[0x8298] = copyright
    return exif


def _insert_segment(jpeg: bytes, marker: bytes, body: bytes) -> bytes:
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + marker + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


def c2pa_signed_png(seed: int, keys_dir: Path, uses: dict[str, str]) -> bytes:
    """A PNG with an embedded C2PA manifest (signed with a test identity) stating `uses` in a
    `c2pa.training-mining` assertion."""
    from belamy.provenance import keys as keys_mod
    from belamy.provenance.manifest import sign

    if not (keys_dir / "signer.key").is_file():
        keys_mod.init_keys(keys_dir, "Test Creator")
    identity = keys_mod.load_identity(keys_dir)
    definition = {
        "claim_generator_info": [{"name": "belamy-tests", "version": "1"}],
        "title": f"c2pa-{seed}.png", "format": "image/png",
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [
                {"action": "c2pa.created",
                 "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalArt"}]}},
            {"label": "c2pa.training-mining", "data": {"entries": {k: {"use": v} for k, v in uses.items()}}},
        ],
    }
    signed, _ = sign(encode(pattern(seed), "PNG"), "image/png", identity, definition, [])
    return signed
