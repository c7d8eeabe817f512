"""CARv1 archives: a file's IPFS blocks in one file that `ipfs dag import` or a pinning service takes.

Layout (ipld.io/specs/transport/car/carv1): varint(header length) || header, then one section
per block, varint(len(CID) + len(block)) || binary CID || block. The header is the DAG-CBOR map
{"roots": [CID, ...], "version": 1}; its fixed shape is encoded here by hand, with DAG-CBOR's
canonical key order (shorter key first) and each CID as tag 42 over bytes 0x00 || binary CID.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import BinaryIO

from belamy.core.atomic import atomic_path
from belamy.ledger.cid import check_block, cid_from_str, cid_length, cid_to_str, read_varint, varint

_CID_TAG = 42  # the CBOR tag IPLD gives a CID link


def write_car(path: str | os.PathLike[str], roots: list[str], blocks: Iterable[tuple[str, bytes]]) -> None:
    """Write a CARv1 of `blocks` (CID, bytes) under `roots`, atomically; each block once.

    Each block is checked against its CID as it is written and every root must be among the
    blocks, so a CAR made here always imports whole. ValueError otherwise (nothing is written).
    """
    root_cids = [cid_from_str(r) for r in roots]
    if not root_cids:
        raise ValueError("a CAR needs at least one root")
    header = _header(root_cids)
    written: set[bytes] = set()
    with atomic_path(path, suffix=".car") as tmp:
        with open(tmp, "wb") as fh:
            fh.write(varint(len(header)) + header)
            for text, block in blocks:
                cid = cid_from_str(text)
                if cid in written:
                    continue
                if not check_block(cid, block):
                    raise ValueError(f"block {text} does not hash to its CID")
                fh.write(varint(len(cid) + len(block)) + cid)
                fh.write(block)
                written.add(cid)
        missing = [cid_to_str(c) for c in root_cids if c not in written]
        if missing:
            raise ValueError(f"root block(s) not among the blocks: {', '.join(missing)}")


def read_car(path: str | os.PathLike[str]) -> tuple[list[str], dict[str, bytes]]:
    """Read a CARv1: its roots and its blocks by CID, each block checked against its CID.

    ValueError names the first block whose bytes do not hash to its CID, or says what is
    malformed (a truncated section, a CARv2 or CIDv0 archive, a header of another shape).
    """
    found: dict[str, bytes] = {}
    with open(path, "rb") as fh:
        length = _section_length(fh)
        if length is None:
            raise ValueError("empty CAR file")
        roots = [cid_to_str(c) for c in _parse_header(_read_exactly(fh, length))]
        while (length := _section_length(fh)) is not None:
            section = _read_exactly(fh, length)
            size = cid_length(section, 0)
            cid, block = section[:size], section[size:]
            if not check_block(cid, block):
                raise ValueError(f"block {cid_to_str(cid)} does not hash to its CID")
            found[cid_to_str(cid)] = block
    return roots, found


def _section_length(fh: BinaryIO) -> int | None:
    """The varint that opens a section, or None at a clean end of file."""
    raw = bytearray()
    while True:
        byte = fh.read(1)
        if not byte:
            if raw:
                raise ValueError("truncated varint at the end of the CAR")
            return None
        raw += byte
        if len(raw) > 9:
            raise ValueError("overlong varint in the CAR")
        if byte[0] < 0x80:
            return read_varint(raw, 0)[0]


def _read_exactly(fh: BinaryIO, n: int) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise ValueError(f"truncated CAR: a section of {n} bytes has only {len(data)}")
    return data


def _head(major: int, n: int) -> bytes:
    """A CBOR item head: major type and argument, in the shortest form (as DAG-CBOR requires)."""
    if n < 24:
        return bytes([major << 5 | n])
    for info, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * width):
            return bytes([major << 5 | info]) + n.to_bytes(width, "big")
    raise ValueError(f"CBOR argument too large: {n}")


def _text(s: str) -> bytes:
    raw = s.encode("utf-8")
    return _head(3, len(raw)) + raw


def _header(roots: list[bytes]) -> bytes:
    """DAG-CBOR of {"roots": [...], "version": 1}."""
    links = b"".join(_head(6, _CID_TAG) + _head(2, len(c) + 1) + b"\x00" + c for c in roots)
    return _head(5, 2) + _text("roots") + _head(4, len(roots)) + links + _text("version") + _head(0, 1)


def _parse_header(buf: bytes) -> list[bytes]:
    """The root CIDs of a CARv1 header; ValueError unless it is {"roots": [CID...], "version": 1}."""
    value, end = _cbor(buf, 0)
    if end != len(buf) or not isinstance(value, dict):
        raise ValueError("CAR header is not one DAG-CBOR map")
    if value.get("version") != 1:
        raise ValueError(f"not a CARv1 (header version {value.get('version')!r}); CARv2 is not read")
    roots = value.get("roots")
    if not isinstance(roots, list) or not roots or not all(isinstance(r, _Link) for r in roots):
        raise ValueError("CAR header roots must be a non-empty list of CIDs")
    return [r.cid for r in roots]


class _Link:
    """A decoded tag-42 CID."""

    def __init__(self, cid: bytes) -> None:
        self.cid = cid


def _cbor(buf: bytes, pos: int, depth: int = 0) -> tuple[object, int]:
    """Decode the subset of DAG-CBOR a CAR header uses: maps, lists, text, bytes, uints, CIDs."""
    if depth > 4:
        raise ValueError("CAR header nested too deeply")
    if pos >= len(buf):
        raise ValueError("truncated CAR header")
    major, info = buf[pos] >> 5, buf[pos] & 0x1F
    pos += 1
    if info < 24:
        n = info
    elif info <= 27:
        width = 1 << (info - 24)
        if pos + width > len(buf):
            raise ValueError("truncated CAR header")
        n, pos = int.from_bytes(buf[pos:pos + width], "big"), pos + width
    else:
        raise ValueError("indefinite or reserved CBOR length in CAR header")
    if major == 0:
        return n, pos
    if major in (2, 3):
        if pos + n > len(buf):
            raise ValueError("truncated CAR header")
        raw = bytes(buf[pos:pos + n])
        return (raw if major == 2 else raw.decode("utf-8")), pos + n
    if major == 4:
        items = []
        for _ in range(n):
            item, pos = _cbor(buf, pos, depth + 1)
            items.append(item)
        return items, pos
    if major == 5:
        out: dict[str, object] = {}
        for _ in range(n):
            key, pos = _cbor(buf, pos, depth + 1)
            if not isinstance(key, str):
                raise ValueError("CAR header map key is not text")
            out[key], pos = _cbor(buf, pos, depth + 1)
        return out, pos
    if major == 6 and n == _CID_TAG:
        raw, pos = _cbor(buf, pos, depth + 1)
        if not isinstance(raw, bytes) or raw[:1] != b"\x00" or cid_length(raw, 1) != len(raw) - 1:
            raise ValueError("malformed CID link in CAR header")
        return _Link(raw[1:]), pos
    raise ValueError(f"unexpected CBOR item (major type {major}) in CAR header")
