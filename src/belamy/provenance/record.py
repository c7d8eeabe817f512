"""The provenance record: who made an artwork, from what, with whose code, step by step.

A record is a JSON object written canonically (RFC 8785, through `rfc8785`), so its sha256 is the
same wherever it is recomputed: XMP carries that hash, the C2PA manifest carries the record, and a
PNG carries it again in an iTXt chunk. Its `artwork.pixels_sha256` ties it to the pixels, so a
changed pixel is found without trusting the file's bytes. The layout is in docs/formats.md.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any, Iterable

import numpy as np
import rfc8785

from belamy.core.errors import BelamyError
from belamy.models.lineage import BELAMY_CODE, PAPERS, UPSTREAM, paper_keys

SCHEMA = "belamy.provenance"
SCHEMA_VERSION = 1
PNG_KEY = "belamy:provenance"  # the PNG iTXt chunk holding the record
ASSERTION = "org.belamy.provenance"  # the C2PA assertion holding the record
ROLES = ("artist", "operator", "owner")


def canonical(record: dict[str, Any]) -> bytes:
    """RFC 8785 canonical JSON: the bytes every hash of a record is taken over."""
    try:
        return rfc8785.dumps(record)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise BelamyError(f"the provenance record cannot be written as canonical JSON: {exc}") from None


def record_sha256(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


def pixels_sha256(arr: np.ndarray) -> str:
    """sha256 of decoded pixels: 'HxWxC:' then the uint8 samples in row order (the container's
    bytes, metadata and compression do not count)."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    h = hashlib.sha256("x".join(str(d) for d in arr.shape).encode() + b":")
    h.update(arr.tobytes())
    return h.hexdigest()


def contributors(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The collection's credits: each author with their licences and image count, and what is missing."""
    by_author: dict[str, Counter] = {}
    licences: Counter = Counter()
    missing = 0
    for row in rows:
        author, lic = row.get("author") or "", row.get("license") or ""
        licences[lic or "unknown"] += 1
        if not author or not lic:
            missing += 1
        if author:
            by_author.setdefault(author, Counter())[lic or "unknown"] += 1
    return {
        "contributors": [{"name": a, "licenses": dict(sorted(c.items())), "images": sum(c.values())}
                         for a, c in sorted(by_author.items())],
        "licenses": dict(sorted(licences.items())),
        "images_without_full_credits": missing,
    }


def code_credits(model: str, code_version: str, augment: str | None, r1: bool, ema: bool) -> dict[str, Any]:
    """The algorithm authors and the code's authors (belamy's own and the upstream reference code)."""
    return {
        "algorithms": [{"key": k, **PAPERS[k]} for k in paper_keys(model, augment=augment, r1=r1, ema=ema)],
        "code": [{**BELAMY_CODE, "version": code_version, "role": "the code that trained and rendered this work"},
                 *[{**u, "copied": False} for u in UPSTREAM.get(model, [])]],
    }


def roles(artist: str | None, operator: str | None, owner: str | None) -> dict[str, str | None]:
    """Three separate roles: who conceived the work, who ran belamy, who owns the artwork."""
    return {"artist": artist or None, "operator": operator or None, "owner": owner or None}


def check_record(record: Any, where: str) -> dict[str, Any]:
    """A record read from a file, refused with one line if it is not one belamy can read."""
    if not isinstance(record, dict) or record.get("schema") != SCHEMA:
        raise BelamyError(f"{where} does not hold a belamy provenance record")
    if not isinstance(record.get("schema_version"), int) or record["schema_version"] > SCHEMA_VERSION:
        raise BelamyError(f"{where} holds a provenance record of schema version {record.get('schema_version')}, "
                          f"newer than this belamy reads ({SCHEMA_VERSION}): upgrade belamy")
    for key in ("artwork", "render", "steps"):
        if key not in record:
            raise BelamyError(f"{where} holds a provenance record without '{key}'")
    return record
