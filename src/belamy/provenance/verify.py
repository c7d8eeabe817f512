"""`belamy verify`: does an artwork still say truthfully who made it, from what?

Four independent checks, each naming what failed and where:
- **C2PA**: the embedded manifest is present, validates (signature, hard binding of the bytes),
  and was signed by a key one of the trusted roots issued (the local identity's root by default);
- **record**: the record in the file (PNG iTXt) is the record that was signed;
- **pixels**: the decoded pixels hash to the record's `artwork.pixels_sha256`;
- **XMP**: the XMP packet names the record's sha256.

A C2PA hash mismatch alone cannot say what changed; the other checks can: if the pixels, the
record and the XMP are intact yet the signed bytes are not, the file was re-saved. A file with
none of these has no provenance, which is a different answer from a tampered one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from belamy.core.errors import BelamyError
from belamy.provenance import manifest as c2pa_manifest
from belamy.provenance.record import PNG_KEY, canonical, pixels_sha256, record_sha256
from belamy.provenance.xmp import parse_xmp, read_xmp

VERIFIED, TAMPERED, NO_PROVENANCE = "verified", "tampered", "no provenance"
EXIT_CODES = {VERIFIED: 0, TAMPERED: 1, NO_PROVENANCE: 3}
MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "TIFF": "image/tiff"}
HASH_MISMATCH = "assertion.dataHash.mismatch"


@dataclass
class Finding:
    check: str  # c2pa | signer | record | pixels | xmp | file
    message: str


@dataclass
class Verdict:
    path: Path
    status: str
    findings: list[Finding] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    record: dict[str, Any] | None = None
    c2pa_state: str | None = None
    signer: str | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "status": self.status, "exit_code": self.exit_code,
                "findings": [f.__dict__ for f in self.findings], "passed": self.passed,
                "c2pa_state": self.c2pa_state, "signer": self.signer}


def decode(path: Path) -> tuple[np.ndarray, str, dict[str, Any]]:
    """An artwork's pixels (H, W, 3) uint8, its MIME type and Pillow's info dict; one line if unreadable."""
    try:
        with Image.open(path) as im:
            fmt = im.format
            info = dict(im.info)
            if fmt == "PNG":
                im.load()  # text chunks after IDAT are read on load
                info.update(im.text)
            arr = np.asarray(im.convert("RGB"))
    except FileNotFoundError:
        raise BelamyError(f"{path} does not exist") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise BelamyError(f"{path} is not a readable image ({exc})") from None
    if fmt not in MIME:
        raise BelamyError(f"{path} is a {fmt}: belamy finishes and verifies PNG, TIFF and JPEG artworks")
    return arr, MIME[fmt], info


def _file_record(info: dict[str, Any], where: Path) -> tuple[dict[str, Any] | None, Finding | None]:
    text = info.get(PNG_KEY)
    if text is None:
        return None, None
    try:
        record = json.loads(text)
        if isinstance(record, dict):
            return record, None
    except (TypeError, ValueError):
        pass
    return None, Finding("record", f"the provenance record in {where.name} (PNG iTXt {PNG_KEY}) is not readable JSON")


def _changed_fields(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two records differ, as dotted paths (at most a few)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in sorted(set(a) | set(b), key=str):
            if canonical({"v": a.get(k)}) != canonical({"v": b.get(k)}):
                out += _changed_fields(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
        return out[:5]
    return [path or "(whole record)"]


def verify(path: Path, trust_anchors: list[bytes], sidecar: Path | None = None) -> Verdict:
    """Check `path` against its record, XMP and C2PA manifest, trusting roots `trust_anchors` (PEM)."""
    path = Path(path)
    arr, mime, info = decode(path)
    data = path.read_bytes()
    verdict = Verdict(path, VERIFIED)
    add = verdict.findings.append

    report = c2pa_manifest.read(data, mime, trust_anchors)
    file_record, bad_record = _file_record(info, path)
    xmp_bytes = read_xmp(path)
    xmp = parse_xmp(xmp_bytes) if xmp_bytes else None
    side = sidecar if sidecar is not None else path.with_suffix(".c2pa")
    side_report = None
    if report is None and side.is_file():
        side_report = c2pa_manifest.read(data, mime, trust_anchors, side.read_bytes())
    if report is None and side_report is None and file_record is None and bad_record is None and not (
            xmp and xmp.get("record_sha256")):
        verdict.status = NO_PROVENANCE
        return verdict

    signed_record = report.record if report else None
    if side_report is not None and signed_record is None:
        signed_record = side_report.record
    record = signed_record or file_record
    verdict.record = record
    if bad_record:
        add(bad_record)

    # C2PA: present, trusted
    active = report or side_report
    if active is not None:
        verdict.c2pa_state, verdict.signer = active.state, active.signer
    if report is None:
        msg = f"no C2PA manifest is embedded in {path.name}: it was stripped"
        if side_report is not None and side_report.state == "Trusted":
            msg += f" (the sidecar {side.name} still validates these bytes, signed by {side_report.signer})"
        elif side_report is not None:
            msg += f" (the sidecar {side.name} does not validate them either: {side_report.state})"
        add(Finding("c2pa", msg))
    if active is not None and active.untrusted:
        add(Finding("signer", f"the C2PA manifest was signed by {active.signer}, a key none of your trusted roots "
                              "issued: if you trust that signer, pass its root.pem with --trust"))
    elif active is not None and active.state == "Trusted":
        verdict.passed.append(f"C2PA manifest {active.state}, signed by {active.signer}")

    # the record in the file is the signed one
    if file_record is not None and signed_record is not None:
        if canonical(file_record) != canonical(signed_record):
            where = ", ".join(_changed_fields(signed_record, file_record))
            add(Finding("record", f"the provenance record in the file was changed after signing (at {where}): "
                                  "the C2PA manifest holds the signed one"))
        else:
            verdict.passed.append("the record in the file is the signed record")

    # pixels
    expected = ((record or {}).get("artwork") or {}).get("pixels_sha256")
    actual = pixels_sha256(arr)
    if expected is None:
        add(Finding("record", "the provenance record names no pixel hash (artwork.pixels_sha256)"))
    elif actual != expected:
        add(Finding("pixels", f"the pixels were changed after finishing: they hash to {actual[:12]}..., the "
                              f"{'signed ' if signed_record else ''}record says {expected[:12]}..."))
    else:
        verdict.passed.append("the pixels are the recorded ones")

    # XMP
    if record is not None:
        want = record_sha256(record)
        if xmp is None:
            add(Finding("xmp", "the XMP packet is missing (it names the record and the rights)"))
        elif xmp.get("record_sha256") != want:
            add(Finding("xmp", f"the XMP packet names record {str(xmp.get('record_sha256'))[:12] or 'none'}..., "
                               f"not this record ({want[:12]}...)"))
        else:
            verdict.passed.append("the XMP packet names this record")

    # what C2PA failed on that the checks above do not explain
    if active is not None:
        codes = [f.get("code", "") for f in active.failures]
        explained = any(f.check in ("pixels", "record", "xmp") for f in verdict.findings)
        if HASH_MISMATCH in codes and not explained:
            add(Finding("file", f"{path.name} was re-saved: its pixels, record and XMP are intact, but its bytes "
                                f"are not the ones signed (C2PA {HASH_MISMATCH})"))
        for f in active.failures:
            code = f.get("code", "")
            if code not in (HASH_MISMATCH, "signingCredential.untrusted"):
                add(Finding("c2pa", f"C2PA {code}: {f.get('explanation', '')} ({f.get('url', '')})"))
        if HASH_MISMATCH not in codes and report is not None:
            verdict.passed.append("the C2PA hard binding matches every byte")
    if verdict.findings:
        verdict.status = TAMPERED
    return verdict
