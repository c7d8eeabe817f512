"""`belamy collect`: sources -> a prepared, credited, de-duplicated Collection.

The pipeline is: enumerate items from every source (lazily) -> read bytes -> sha256 (exact
duplicates and images already in the collection stop here) -> decode and prepare in worker
processes -> near-duplicate check (hash candidates confirmed on thumbnails, see `dedupe`) ->
append to the collection being written -> commit atomically. Every file that can't be used
becomes a line in the report; nothing stops the run except a user error about the run itself
(bad size, bad credits file, missing source).

Creators' opt-outs (`optout`: TDMRep, ai.txt, plus:DataMining, C2PA training-mining) are honoured:
an opted-out image is skipped and listed in the report with the signal that excluded it, or, with
`include_opted_out`, kept with that decision written into its row (`opt_out`) and collection.json.
Credits embedded in the files (XMP, IPTC, EXIF; see `embedded`) fill the row; a credits sidecar
wins where they disagree, and the disagreement is reported.
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import os
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from belamy.core import atomic
from belamy.core.errors import BelamyError
from belamy.core.progress import make_progress
from belamy.core.version import code_version
from belamy.data import names, optout
from belamy.data import sources as src
from belamy.data.collection import META_FILE, Collection, CollectionWriter, write_preview
from belamy.data.config import CollectConfig
from belamy.data.credits import Credits, license_from_url, load_credits
from belamy.data.decode import Decoded, DecodeOptions, Skip, decode
from belamy.data.dedupe import NEAR_DIFFERENCE, NearFinder
from belamy.data.fetch import Fetcher


@dataclass
class CollectReport:
    """What one collect run did; written to `reports/` in the collection and printed as a table."""

    sources: list[str]
    added: int = 0
    already_present: int = 0
    credits_updated: int = 0
    exact_duplicates: list[dict[str, Any]] = field(default_factory=list)
    near_duplicates: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    # images whose creators opted out: source, signal, detail, included (True with --include-opted-out)
    opted_out: list[dict[str, Any]] = field(default_factory=list)
    include_opted_out: bool = False
    origins: dict[str, dict[str, str]] = field(default_factory=dict)  # what each web origin's files said
    credit_warnings: list[str] = field(default_factory=list)
    credits_unmatched: list[str] = field(default_factory=list)
    # a sidecar disagreeing with credits embedded in the file: source, field, sidecar (kept), embedded
    credit_conflicts: list[dict[str, str]] = field(default_factory=list)
    near_threshold: int = -1  # hash radius for near-duplicate candidates (-1: no near-duplicate check)
    near_difference: float = NEAR_DIFFERENCE  # largest thumbnail difference of a confirmed near duplicate
    seconds: float = 0.0
    decoded: int = 0
    total: int = 0
    report_path: str | None = None

    @property
    def images_per_second(self) -> float:
        return self.decoded / self.seconds if self.seconds > 0 else 0.0

    def skip_reasons(self) -> Counter:
        return Counter(s["reason"].split(" (")[0] for s in self.skipped)

    def opt_out_signals(self, included: bool) -> Counter:
        """Opted-out images by the signal that excluded them (skipped ones, or included ones)."""
        return Counter(o["signal"] for o in self.opted_out if o["included"] == included)

    def to_dict(self) -> dict[str, Any]:
        d = _readable(asdict(self))
        d["images_per_second"] = round(self.images_per_second, 2)
        return d


def collect(
    sources: Iterable[str],
    out: str | os.PathLike[str],
    config: CollectConfig | None = None,
    credits: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    **overrides: Any,
) -> Collection:
    """Ingest `sources` into the collection at `out` (created or extended); return it.

    `sources` are folders, .zip files, URL-list text files, single images, URLs or
    `demo://portraits`. Keyword overrides set `CollectConfig` fields, e.g. `size=128`.
    The run's report is available as `collection.report`.
    """
    cfg = replace(config or CollectConfig(), **overrides)
    cfg.validate()
    sources = list(sources)
    if not sources:
        raise BelamyError("no sources given: pass folders, zips or URL lists, or --demo portraits")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BelamyError(f"output {out} exists and is not a folder: choose another -o")
    for s in sources:
        src.classify(s)  # missing sources are a user error before any work starts
    lookup = load_credits(credits)
    base = Collection.open(out) if (out / META_FILE).is_file() else None
    if base is not None and base.size != cfg.size:
        raise BelamyError(
            f"{out} holds {base.size} px images; re-run with --size {base.size} or collect into a new folder"
        )
    report = CollectReport(sources=[_stored_source(s) for s in sources], credit_warnings=list(lookup.warnings),
                           near_threshold=cfg.near_threshold, include_opted_out=cfg.include_opted_out)
    started = time.perf_counter()
    writer = CollectionWriter(out, cfg.size, base)
    try:
        _ingest(sources, cfg, lookup, base, writer, report, progress)
        report.credits_unmatched = lookup.unmatched() if credits else []
        report.seconds = time.perf_counter() - started
        if cfg.strict and report.skipped:
            writer.abort()
            _write_report(out, report)
            first = report.skipped[0]
            raise BelamyError(
                f"--strict: {len(report.skipped)} file(s) skipped (first: {names.display(first['source'])}: "
                f"{first['reason']}); "
                f"collection left unchanged; report: {report.report_path}"
            )
        now = _now()
        meta = {
            "created": base.meta.get("created", now) if base else now,
            "updated": now,
            "fit": cfg.fit,
            "background": cfg.background,
            "near_threshold": cfg.near_threshold,
            "near_difference": NEAR_DIFFERENCE,
            "code_version": code_version(),
            "opted_out": _opted_out_meta(writer.rows),
        }
        report_path = _write_report(out, report)
        meta["last_report"] = report_path
        collection = writer.commit(meta)
    except BaseException:
        writer.abort()
        raise
    if len(collection):
        write_preview(collection)
    collection.report = report  # type: ignore[attr-defined]
    return collection


def _ingest(
    sources: list[str],
    cfg: CollectConfig,
    lookup: Credits,
    base: Collection | None,
    writer: CollectionWriter,
    report: CollectReport,
    progress: bool | None,
) -> None:
    fetcher = Fetcher(timeout=cfg.url_timeout, retries=cfg.url_retries, max_bytes=cfg.max_bytes)
    origins = optout.OriginSignals(fetcher, include=cfg.include_opted_out)  # tdmrep.json, ai.txt: once each
    items = itertools.chain.from_iterable(
        src.iter_source(s, max_bytes=cfg.max_bytes, demo_count=cfg.demo_count, fetch=fetcher, origins=origins)
        for s in sources
    )
    known = {row["sha256"]: i for i, row in enumerate(writer.rows)}
    near = NearFinder(cfg.near_threshold, NEAR_DIFFERENCE, writer.image)
    for r in writer.rows:
        near.add((int(r["phash"], 16), int(r["dhash"], 16)), bytes.fromhex(r["colors"]), r["id"])
    opts = DecodeOptions(cfg.size, cfg.fit, cfg.background, cfg.effective_min_side, cfg.max_pixels)
    bar = make_progress(enabled=progress)
    with bar, _Decoder(cfg.workers) as decoder:
        task = bar.add_task("collecting", total=None)
        for item, sha, result in decoder.run(_hashed(items, known, writer, lookup, cfg, report), opts):
            bar.advance(task)
            report.total += 1
            if isinstance(result, str):
                report.skipped.append(_entry(item.uri, reason=names.readable(result)))
                continue
            report.decoded += 1
            _keep(item, sha, result, near, writer, lookup, cfg, report)
        bar.update(task, total=report.total)
    report.origins = origins.summary()
    report.total += report.already_present + len(report.exact_duplicates)


def _hashed(items: Iterator[src.Item], known: dict[str, int], writer: CollectionWriter, lookup: Credits,
            cfg: CollectConfig, report: CollectReport) -> Iterator[tuple[src.Item, str, bytes | str]]:
    """Read each item; drop exact duplicates before the (expensive) decode.

    Yields (item, sha256, bytes) or (item, "", reason) for items that could not be read.
    """
    first_seen: dict[str, str] = {}
    for item in items:
        if item.opt_out and not cfg.include_opted_out:  # not even downloaded (or not read past its headers)
            report.opted_out.append(_entry(item.uri, signal=item.opt_out[0], detail=item.opt_out[1], included=False))
            report.total += 1
            continue
        if item.error:
            yield item, "", item.error
            continue
        try:
            data = item.read() if item.read else b""
        except (OSError, ValueError) as exc:
            yield item, "", f"cannot read ({exc})"
            continue
        sha = hashlib.sha256(data).hexdigest()
        if sha in known:
            report.already_present += 1
            if _update_credits(writer.rows[known[sha]], item, lookup, cfg):
                report.credits_updated += 1
            continue
        if sha in first_seen:
            report.exact_duplicates.append(_entry(item.uri, duplicate_of=first_seen[sha]))
            continue
        first_seen[sha] = item.uri
        yield item, sha, data


EMBEDDED_CREDITS = ("title", "author", "rights", "license_url", "license")


def _embedded_credits(meta: dict[str, Any] | None) -> dict[str, str]:
    """The credit fields a file carries, with the SPDX id of a Creative Commons licence URL."""
    meta = meta or {}
    out = {k: meta[k] for k in ("title", "author", "rights", "license_url") if meta.get(k)}
    spdx = license_from_url(meta.get("license_url"))
    if spdx:
        out["license"] = spdx
    return out


def _credits_for(item: src.Item, lookup: Credits, cfg: CollectConfig, meta: dict[str, Any] | None = None,
                 conflicts: list[dict[str, str]] | None = None) -> dict[str, str]:
    """An image's credits: the source's own, then those embedded in the file, then the sidecar's
    (which win; each disagreement with the file is appended to `conflicts`), then the defaults."""
    embedded = _embedded_credits(meta)
    sidecar = lookup.lookup(item.keys)
    if conflicts is not None:
        for name in EMBEDDED_CREDITS:
            if name in sidecar and name in embedded and _same(sidecar[name]) != _same(embedded[name]):
                conflicts.append({"field": name, "sidecar": sidecar[name], "embedded": embedded[name]})
    found = {**(item.credits or {}), **embedded, **sidecar}
    if cfg.default_license and not found.get("license"):
        found["license"] = cfg.default_license
    if cfg.default_author and not found.get("author"):
        found["author"] = cfg.default_author
    return found


def _same(text: str) -> str:
    return " ".join(text.split()).casefold()


def _update_credits(row: dict[str, Any], item: src.Item, lookup: Credits, cfg: CollectConfig) -> bool:
    """Re-running with a (new) credits file fills in credits of images already collected (the
    --license/--author defaults only where the row has none: they never replace a file's own)."""
    found = _credits_for(item, lookup, replace(cfg, default_license=None, default_author=None))
    for name, default in (("license", cfg.default_license), ("author", cfg.default_author)):
        if default and not found.get(name) and not row.get(name):
            found[name] = default
    changed = {k: v for k, v in found.items() if row.get(k) != v}
    row.update(changed)
    return bool(changed)


def _signals(item: src.Item, dec: Decoded) -> dict[str, Any]:
    """What the creators' signals say of one image: the URL's (origin files, headers) and the file's.
    A TDMRep declaration of the web origin comes before the one in the file's XMP."""
    found = dict(item.signals or {})
    meta = dec.meta
    if "tdm" not in found and meta.get("tdm"):
        found["tdm"] = meta["tdm"]
    for name in ("data_mining", "training_mining"):
        if meta.get(name):
            found[name] = meta[name]
    return found


def _keep(item: src.Item, sha: str, dec: Decoded, near: NearFinder, writer: CollectionWriter,
          lookup: Credits, cfg: CollectConfig, report: CollectReport) -> None:
    signals = _signals(item, dec)
    verdict = optout.decide(signals)
    if verdict and not cfg.include_opted_out:
        report.opted_out.append(_entry(item.uri, signal=verdict[0], detail=verdict[1], included=False))
        return
    if cfg.near_threshold >= 0:
        pixels = np.frombuffer(dec.pixels, dtype=np.uint8).reshape(cfg.size, cfg.size, 3)
        hit = near.find((dec.phash, dec.dhash), dec.colors, pixels)
        if hit is not None:
            report.near_duplicates.append(_entry(item.uri, duplicate_of=hit.ident, distance=hit.distance,
                                                 difference=round(hit.difference, 3),
                                                 **({"cropped": True} if hit.cropped else {})))
            return
    if verdict:
        report.opted_out.append(_entry(item.uri, signal=verdict[0], detail=verdict[1], included=True))
    ident = sha[:16]
    conflicts: list[dict[str, str]] = []
    credits = _credits_for(item, lookup, cfg, dec.meta, conflicts)
    report.credit_conflicts += [_entry(item.uri, **c) for c in conflicts]
    row: dict[str, Any] = {
        "id": ident,
        "sha256": sha,
        "source": item.uri,
        **credits,
        **({"embedded": {c["field"]: c["embedded"] for c in conflicts}} if conflicts else {}),
        **(item.extra or {}),
        "width": dec.width,
        "height": dec.height,
        "format": dec.format,
        "mode": dec.mode,
        "frames": dec.frames,
        "phash": f"{dec.phash:016x}",
        "dhash": f"{dec.dhash:016x}",
        "colors": dec.colors.hex(),
        **{k: signals[k] for k in ("tdm", "ai_txt", "data_mining", "training_mining") if k in signals},
        **({"opt_out": optout.opt_out_field(verdict)} if verdict else {}),
        "added": _now(),
    }
    writer.append(dec.pixels, row)
    near.add((dec.phash, dec.dhash), dec.colors, ident)
    report.added += 1


def _work(data: bytes, opts: DecodeOptions) -> Decoded | str:
    """Worker entry point: a Decoded image (with any C2PA training-mining entries in its `meta`) or
    the reason it was skipped."""
    try:
        dec = decode(data, opts)
    except Skip as exc:
        return str(exc)
    except Exception as exc:  # a decoder bug on a hostile file must not kill the run
        return f"could not decode ({exc.__class__.__name__}: {str(exc)[:100]})"
    mining = optout.training_mining(data, dec.format)
    if mining:
        dec.meta["training_mining"] = mining
    return dec


class _Decoder:
    """Decodes in worker processes (or inline for one worker), keeping results in input order.

    At most `window` files are in flight, so memory stays bounded whatever the collection size.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers if workers > 0 else (os.cpu_count() or 1)
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "_Decoder":
        if self.workers > 1:
            self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def run(self, stream, opts: DecodeOptions):
        if self.pool is None:
            for item, sha, data in stream:
                yield item, sha, data if isinstance(data, str) else _work(data, opts)
            return
        window = self.workers * 8
        pending: deque[tuple[src.Item, str, Future | str]] = deque()
        for item, sha, data in stream:
            pending.append((item, sha, data if isinstance(data, str) else self.pool.submit(_work, data, opts)))
            while len(pending) >= window or (pending and _ready(pending[0][2])):
                yield _resolve(pending.popleft())
        while pending:
            yield _resolve(pending.popleft())


def _ready(x: Future | str) -> bool:
    return isinstance(x, str) or x.done()


def _resolve(entry: tuple[src.Item, str, Future | str]):
    item, sha, x = entry
    return item, sha, x if isinstance(x, str) else x.result()


def _opted_out_meta(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """collection.json's record of opted-out images kept by `--include-opted-out` (all runs)."""
    kept = Counter(r["opt_out"]["signal"] for r in rows if r.get("opt_out"))
    if not kept:
        return {"included": 0}
    return {"included": sum(kept.values()), "included_by": optout.INCLUDED_BY, "signals": dict(sorted(kept.items()))}


def _write_report(out: Path, report: CollectReport) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    rel = f"reports/collect-{stamp}.json"
    report.report_path = names.readable(str(out / rel))
    atomic.write_json(out / rel, report.to_dict())
    return rel


def _stored_source(source: str) -> str:
    """A SOURCE argument as the report names it (see `names.stored`)."""
    if source.startswith(("http://", "https://", src.DEMO_SCHEME)):
        return names.clean_url(source)
    return names.stored(source)


def _entry(uri: str, **fields: Any) -> dict[str, Any]:
    """A report line about one file: its source as stored, and as shown when that differs."""
    shown = names.display(uri)
    return {"source": uri, **({"shown": shown} if shown != uri else {}), **fields}


def _readable(obj: Any) -> Any:
    """Every string in a report made writable as UTF-8 (a last guard: sources are stored clean)."""
    if isinstance(obj, str):
        return names.readable(obj)
    if isinstance(obj, dict):
        return {k: _readable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_readable(v) for v in obj]
    return obj


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
