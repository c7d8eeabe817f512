"""Credits sidecars: who made each image and under which licence.

A sidecar is a CSV file (with a header row) or JSON lines. Each record names an image by `file`
(a path relative to the source folder, a zip member or a bare file name) or `url`, and may give
`title`, `author`, `date`, `license` (an SPDX id or expression) and `source_url`. Column names are
matched case-insensitively with a few common aliases.

A sidecar should be UTF-8. One that is not (Excel saves CSV in the Windows code page) still
works: its names are matched byte for byte against file names that are not UTF-8 either, or read
as Windows-1252 against names that are, and its other text is read as Windows-1252.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from belamy.core.errors import BelamyError
from belamy.data import names

CREDIT_FIELDS = ("title", "author", "date", "license", "source_url")
KEY_FIELDS = ("file", "url")
ALIASES = {
    "filename": "file", "path": "file", "name": "file", "image": "file",
    "artist": "author", "creator": "author", "licence": "license", "spdx": "license",
    "year": "date", "source": "source_url", "link": "source_url",
}


@dataclass
class Credits:
    """A lookup from image keys (file names, paths, URLs) to credit fields."""

    by_key: dict[str, dict[str, str]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)

    def lookup(self, keys: tuple[str, ...]) -> dict[str, str]:
        for key in keys:
            for k in (key, key.casefold()):
                row = self.by_key.get(k)
                if row is not None:
                    self.used.add(row["_key"])
                    return {f: v for f, v in row.items() if not f.startswith("_")}
        return {}

    def unmatched(self) -> list[str]:
        """Keys of rows that named no image, readable (bytes that are not UTF-8 as escapes)."""
        keys = {row["_key"] for row in self.by_key.values()}
        return sorted(names.readable(k) for k in keys - self.used)


def load_credits(path: str | Path | None) -> Credits:
    """Read a CSV or JSON-lines credits sidecar; None gives an empty lookup."""
    credits = Credits()
    if path is None:
        return credits
    path = Path(path)
    if not path.is_file():
        raise BelamyError(f"credits file not found: {_shown(path)}")
    text = path.read_bytes().decode("utf-8-sig", "surrogateescape")
    shown = names.readable(path.name)
    if not names.is_clean(text):
        credits.warnings.append(f"{shown} is not UTF-8: names matched byte for byte, other text read as "
                                "Windows-1252 (save it as UTF-8 to be sure)")
    rows = _read_jsonl(text, path) if _is_jsonl(path, text) else _read_csv(text, path)
    for n, raw in enumerate(rows, start=2 if not _is_jsonl(path, text) else 1):
        row = _normalise(raw)
        key = row.get("file") or row.get("url")
        if not key:
            credits.warnings.append(f"{shown} line {n}: no 'file' or 'url' column value; row ignored")
            continue
        row = {f: v if f in KEY_FIELDS else names.legacy_text(v) for f, v in row.items()}
        lic = row.get("license")
        if lic:
            row["license"], warning = normalise_license(lic)
            if warning:
                credits.warnings.append(f"{shown} line {n}: {warning}")
        entry = {f: row[f] for f in CREDIT_FIELDS if row.get(f)}
        entry["_key"] = key
        for k in _lookup_keys(key):
            credits.by_key.setdefault(k, entry)
    return credits


def _lookup_keys(key: str) -> list[str]:
    keys = []
    for k in (key, *names.sidecar_keys(key)):
        keys += [k, k.casefold()]
        if not k.startswith(("http://", "https://")):
            base = k.replace("\\", "/").rsplit("/", 1)[-1]
            keys += [base, base.casefold()]
    return keys


def _shown(path: Path) -> str:
    return names.readable(str(path))


def _is_jsonl(path: Path, text: str) -> bool:
    return path.suffix.lower() in (".jsonl", ".json", ".ndjson") or text.lstrip().startswith("{")


def _read_jsonl(text: str, path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            raise BelamyError(f"credits file {_shown(path)} line {n} is not valid JSON: one object per line") from None
        if not isinstance(obj, dict):
            raise BelamyError(f"credits file {_shown(path)} line {n}: expected a JSON object")
        rows.append(obj)
    return rows


def _read_csv(text: str, path: Path) -> list[dict]:
    reader = csv.DictReader(text.splitlines())
    fields = [_canon(f) for f in (reader.fieldnames or [])]
    if not any(f in KEY_FIELDS for f in fields):
        raise BelamyError(
            f"credits file {_shown(path)} needs a header row with a 'file' or 'url' column "
            f"(found: {names.readable(', '.join(reader.fieldnames or []))})"
        )
    return list(reader)


def _canon(name: str | None) -> str:
    n = (name or "").strip().lower().replace(" ", "_")
    return ALIASES.get(n, n)


def _normalise(raw: dict) -> dict[str, str]:
    out = {}
    for k, v in raw.items():
        if k is None or v is None:
            continue
        out[_canon(k)] = str(v).strip()
    return out


def normalise_license(expr: str) -> tuple[str, str | None]:
    """SPDX-normalise a licence expression; return it with a warning if it isn't valid SPDX."""
    from license_expression import ExpressionError

    licensing = _spdx()
    try:
        info = licensing.validate(expr)
    except ExpressionError:
        return expr, f"license '{expr}' is not a valid SPDX expression"
    if info.errors:
        return expr, f"license '{expr}' is not a known SPDX id ({info.errors[0]})"
    return info.normalized_expression or expr, None


_CC_URL = re.compile(
    r"https?://(?:www\.)?creativecommons\.org/(?:licenses/(?P<kind>by(?:-nc)?(?:-sa|-nd)?)/(?P<ver>\d\.\d)"
    r"(?:/(?P<port>[a-z]{2}))?|publicdomain/(?P<pd>zero|mark)/1\.0)(?:/.*)?$", re.IGNORECASE)


def license_from_url(url: str | None) -> str | None:
    """The SPDX id of a Creative Commons licence URL (`.../licenses/by-sa/4.0/` -> CC-BY-SA-4.0), or None."""
    m = _CC_URL.match((url or "").strip())
    if not m:
        return None
    if m["pd"]:
        spdx = "CC0-1.0" if m["pd"].lower() == "zero" else "CC-PDM-1.0"
    else:
        spdx = f"CC-{m['kind'].upper()}-{m['ver']}" + (f"-{m['port'].upper()}" if m["port"] else "")
    norm, warning = normalise_license(spdx)
    return None if warning else norm


_SPDX = None


def _spdx():
    global _SPDX
    if _SPDX is None:
        from license_expression import get_spdx_licensing

        _SPDX = get_spdx_licensing()
    return _SPDX
