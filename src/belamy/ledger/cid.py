"""Kubo-exact IPFS CIDv1 of a file, and the blocks of its UnixFS DAG.

An NFT's `ipfs://` link is only useful if it is the address IPFS itself gives the file, so this
rebuilds, byte for byte, the DAG that `ipfs add --cid-version=1` makes with kubo's default
import settings (see KUBO_COMPAT): fixed 256 KiB chunks stored as raw blocks (codec 0x55), and
above one chunk a balanced tree of dag-pb (0x70) UnixFS File nodes of at most 174 links, each
node encoded as kubo's boxo encodes it (dag-pb Links before Data; every link with Hash, an empty
Name and Tsize; UnixFS Type=File, filesize, one unpacked blocksizes entry per child; no Data).
A file of at most one chunk is that one raw block, so its CID is `bafkrei...`.

Sources: the dag-pb spec (ipld.io/specs/codecs/dag-pb/spec), the UnixFS spec (specs.ipfs.tech/
unixfs), boxo's importer/balanced and merkledag/coding.go, kubo's config/import.go defaults.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

CHUNK = 262_144  # kubo's default chunker, size-262144
MAX_LINKS = 174  # boxo helpers.DefaultLinksPerBlock, kubo's Import.UnixFSFileMaxLinks default
RAW, DAG_PB = 0x55, 0x70  # multicodec codes of the two block kinds
SHA2_256, IDENTITY = 0x12, 0x00  # multihash codes this module makes (sha2-256) or checks

KUBO_COMPAT = ("kubo 0.30-0.43, `ipfs add --cid-version=1` with the default Import config (raw leaves, "
               "256 KiB chunks, balanced DAG, 174 links, sha2-256, base32); not unixfs-v1-2025 (1 MiB/1024)")

Source = bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO
"""File content as bytes, a path to read it from (str or PathLike), or a binary file object."""


@dataclass(frozen=True)
class _Link:
    """A child as its parent records it: binary CID, Tsize (bytes of its whole sub-DAG), file bytes."""

    cid: bytes
    tsize: int
    filesize: int


def varint(n: int) -> bytes:
    """Unsigned LEB128, the varint of multiformats, protobuf and CAR."""
    if n < 0:
        raise ValueError(f"varint of a negative number: {n}")
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def read_varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """Decode the varint at `pos`; return (value, position after it). ValueError if cut short."""
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated or overlong varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def make_cid(codec: int, block: bytes | memoryview) -> bytes:
    """Binary CIDv1 of `block` under `codec` with a sha2-256 multihash."""
    return b"\x01" + varint(codec) + bytes((SHA2_256, 32)) + hashlib.sha256(block).digest()


def cid_to_str(cid: bytes) -> str:
    """Binary CIDv1 to its text form: multibase base32, lower case, unpadded ('b...')."""
    return "b" + base64.b32encode(cid).decode("ascii").lower().rstrip("=")


def cid_from_str(text: str) -> bytes:
    """Text CIDv1 in base32 ('b...') to binary; ValueError for anything else (CIDv0 'Qm...' too)."""
    if not text.startswith("b") or text != text.lower():
        raise ValueError(f"not a base32 CIDv1: {text!r}")
    body = text[1:].upper()
    try:
        cid = base64.b32decode(body + "=" * (-len(body) % 8))
    except (ValueError, TypeError) as err:  # binascii.Error is a ValueError
        raise ValueError(f"not a base32 CIDv1: {text!r}") from err
    if cid_length(cid, 0) != len(cid):
        raise ValueError(f"trailing bytes after the CID: {text!r}")
    return cid


def cid_length(buf: bytes | memoryview, pos: int) -> int:
    """Length of the binary CIDv1 starting at `pos` (version, codec, multihash code, size, digest)."""
    start = pos
    version, pos = read_varint(buf, pos)
    if version == SHA2_256:
        raise ValueError("CIDv0 (a bare sha2-256 multihash) is not supported, only CIDv1")
    if version != 1:
        raise ValueError(f"only CIDv1 is supported, not version {version}")
    _codec, pos = read_varint(buf, pos)
    _code, pos = read_varint(buf, pos)
    size, pos = read_varint(buf, pos)
    if pos + size > len(buf):
        raise ValueError("truncated CID digest")
    return pos + size - start


def check_block(cid: bytes, block: bytes | memoryview) -> bool:
    """Whether `block` hashes to the multihash in binary CIDv1 `cid` (sha2-256 or identity)."""
    if cid_length(cid, 0) != len(cid):
        raise ValueError("trailing bytes after the CID")
    _version, pos = read_varint(cid, 0)
    _codec, pos = read_varint(cid, pos)
    code, pos = read_varint(cid, pos)
    size, pos = read_varint(cid, pos)
    digest = cid[pos:pos + size]
    if code == SHA2_256:
        return size == 32 and hashlib.sha256(block).digest() == digest
    if code == IDENTITY:
        return bytes(block) == digest
    raise ValueError(f"unsupported multihash 0x{code:x} in {cid_to_str(cid)}")


def file_cid(source: Source) -> str:
    """The CID `ipfs add --cid-version=1` prints for this content (see KUBO_COMPAT)."""
    root = b""
    for cid, _block in _dag(_chunks(source)):
        root = cid
    return cid_to_str(root)


def blocks(source: Source) -> Iterator[tuple[str, bytes]]:
    """Every distinct block of the file's DAG as (CID, block bytes), the root last.

    Leaves come as the file is read and each tree node once it is full, so a path or file object
    is streamed in CHUNK reads: memory holds a chunk, the pending links and one CID per block.
    Identical chunks are one block and come once.
    """
    seen: set[bytes] = set()
    for cid, block in _dag(_chunks(source)):
        if cid not in seen:
            seen.add(cid)
            yield cid_to_str(cid), block


def _chunks(source: Source) -> Iterator[bytes]:
    """Kubo's size splitter: CHUNK-byte pieces, the last one shorter, nothing for empty input."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source).cast("B")
        for start in range(0, len(view), CHUNK):
            yield bytes(view[start:start + CHUNK])
    elif isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            yield from _read_chunks(fh)
    else:
        yield from _read_chunks(source)


def _read_chunks(fh: BinaryIO) -> Iterator[bytes]:
    """Full CHUNK reads from a file object, as Go's io.ReadFull fills them (short reads joined)."""
    while True:
        piece = fh.read(CHUNK)
        if not piece:
            return
        while len(piece) < CHUNK:
            more = fh.read(CHUNK - len(piece))
            if not more:
                break
            piece += more
        yield piece


def _dag(chunks: Iterator[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """Yield (binary CID, block) for each block of boxo's balanced layout, the root last.

    `levels[k]` holds the links waiting for a parent at height k+1. A full level (MAX_LINKS) is
    closed only when one more link arrives, so a tree that ends exactly full gets no extra parent:
    this reproduces boxo's balanced.Layout, where every leaf is at the same depth, each node is
    filled left to right, and the depth grows only when the tree is full.
    """
    levels: list[list[_Link]] = []
    for chunk in chunks:
        cid = make_cid(RAW, chunk)
        yield cid, chunk
        yield from _push(levels, 0, _Link(cid, len(chunk), len(chunk)))
    if not levels:  # an empty file is one empty raw block
        yield make_cid(RAW, b""), b""
        return
    height = 0
    while not (height == len(levels) - 1 and len(levels[height]) == 1):
        yield from _close(levels, height)
        height += 1


def _push(levels: list[list[_Link]], height: int, link: _Link) -> Iterator[tuple[bytes, bytes]]:
    """Add `link` at `height`, first closing that level into a parent if it is already full."""
    if height == len(levels):
        levels.append([])
    if len(levels[height]) == MAX_LINKS:
        yield from _close(levels, height)
    levels[height].append(link)


def _close(levels: list[list[_Link]], height: int) -> Iterator[tuple[bytes, bytes]]:
    """Turn the links waiting at `height` into one File node, and push its link one level up."""
    children, levels[height] = levels[height], []
    block = _file_node(children)
    cid = make_cid(DAG_PB, block)
    yield cid, block
    parent = _Link(cid, len(block) + sum(c.tsize for c in children), sum(c.filesize for c in children))
    yield from _push(levels, height + 1, parent)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def _file_node(children: list[_Link]) -> bytes:
    """A dag-pb UnixFS File node over `children`, in the exact bytes boxo writes."""
    unixfs = (b"\x08\x02"  # Type (1) = File (2)
              + b"\x18" + varint(sum(c.filesize for c in children))  # filesize (3)
              + b"".join(b"\x20" + varint(c.filesize) for c in children))  # blocksizes (4), unpacked
    links = b"".join(_field(2, _field(1, c.cid) + b"\x12\x00" + b"\x18" + varint(c.tsize))
                     for c in children)  # PBLink: Hash (1), Name (2) = "", Tsize (3)
    return links + _field(1, unixfs)  # PBNode: Links (2) before Data (1), as dag-pb requires
