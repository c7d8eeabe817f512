"""Where images come from: directories, zip files, URL lists, single files and the built-in demo.

Each source yields `Item`s lazily (bounded memory): a URI that says where the image came from,
keys under which a credits sidecar may name it, and a way to get its bytes. Problems with a whole
source (a corrupt zip, an unreadable folder) and with single entries become `Item`s carrying an
error, so they end up in the report instead of stopping the run.

A URL is checked against its creators' opt-outs before and while it is downloaded (`optout`): the
origin's tdmrep.json and ai.txt first (an image they reserve is not downloaded at all), then the
response's TDMRep headers (a reserved body is not read). A URL that turns out to be an HTML page
is not an image: its TDMRep meta tags are read and reported, but the images it shows are not
followed (list the images' own URLs).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from belamy.core.errors import BelamyError
from belamy.data import demo, names, optout
from belamy.data.fetch import as_fetched

DEMO_SCHEME = "demo://"
URL_LIST_SUFFIXES = (".txt", ".urls", ".lst", ".list")
IGNORED_NAMES = {"thumbs.db", "desktop.ini"}


@dataclass
class Item:
    """One candidate image."""

    uri: str  # where it came from (path, zip member, URL, demo id), as `names.stored` writes it
    keys: tuple[str, ...]  # names a credits sidecar may use for it, most specific first
    read: Callable[[], bytes] | None = None  # returns the source bytes
    error: str | None = None  # set when the item could not even be read
    credits: dict[str, str] | None = None  # credits the source itself knows (a sidecar may override)
    extra: dict[str, Any] | None = None  # more manifest fields the source knows (a demo figure's "pose")
    signals: dict[str, Any] | None = None  # opt-out signals found on the way (URLs: "tdm", "ai_txt")
    opt_out: tuple[str, str] | None = None  # (signal, detail) when those signals opt it out


def classify(source: str) -> str:
    """'demo', 'url', 'dir', 'zip', 'urls' or 'file' for one SOURCE argument."""
    if source.startswith(DEMO_SCHEME):
        return "demo"
    if source.startswith(("http://", "https://")):
        return "url"
    p = Path(source)
    if not p.exists():
        raise BelamyError(f"source not found: {names.display(source)} "
                          "(give a folder, a .zip, a URL list file or --demo portraits)")
    if p.is_dir():
        return "dir"
    if zipfile.is_zipfile(p) or p.suffix.lower() == ".zip":
        return "zip"
    if p.suffix.lower() in URL_LIST_SUFFIXES or _looks_like_url_list(p):
        return "urls"
    return "file"


def _looks_like_url_list(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    text = head.decode("utf-8", "surrogateescape")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return bool(lines) and all(ln.startswith(("http://", "https://")) for ln in lines[:5])


def iter_source(source: str, *, max_bytes: int, demo_count: int | None = None, fetch=None,
                origins: optout.OriginSignals | None = None) -> Iterator[Item]:
    """All items of one SOURCE argument, in a stable order.

    `origins` caches each web origin's opt-out files for the run (one is made if not given)."""
    kind = classify(source)
    if kind in ("urls", "url") and origins is None:
        origins = optout.OriginSignals(fetch)
    if kind == "demo":
        yield from iter_demo_source(source[len(DEMO_SCHEME):], demo_count)
    elif kind == "dir":
        yield from iter_directory(Path(source), max_bytes)
    elif kind == "zip":
        yield from iter_zip(Path(source), max_bytes, prefix=names.stored(Path(source)))
    elif kind == "urls":
        yield from iter_url_list(Path(source), fetch, origins)
    elif kind == "url":
        yield from _url_items([names.clean_url(source)], fetch, origins)
    else:
        p = Path(source)
        yield _file_item(p, p.name, max_bytes)


def _file_item(path: Path, rel: str, max_bytes: int) -> Item:
    uri = names.stored(path)
    keys = _dedupe((*names.path_keys(rel, path.name), uri))
    try:
        size = path.stat().st_size
    except OSError as exc:
        return Item(uri, keys, error=f"cannot read ({exc.strerror or exc})")
    if size > max_bytes:
        return Item(uri, keys, error=f"file too large ({size:,} bytes > {max_bytes:,})")
    return Item(uri, keys, read=lambda: path.read_bytes())


def _dedupe(keys) -> tuple[str, ...]:
    return tuple(dict.fromkeys(k for k in keys if k))


def iter_directory(root: Path, max_bytes: int) -> Iterator[Item]:
    """Walk a folder recursively, following symlinks but never the same folder twice (no loops).

    Zip files found inside are expanded; dot-files and OS clutter are ignored silently.
    """
    seen: set[tuple[int, int]] = set()
    errors: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=errors.append):
        try:
            st = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        ident = (st.st_dev, st.st_ino)
        if ident in seen:
            dirnames[:] = []
            continue
        seen.add(ident)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or name.lower() in IGNORED_NAMES:
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink() and not path.exists():
                yield Item(names.stored(path), _dedupe(names.path_keys(rel, name)), error="broken symbolic link")
            elif path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
                yield from iter_zip(path, max_bytes, prefix=names.stored(path))
            else:
                yield _file_item(path, rel, max_bytes)
    for exc in errors:
        yield Item(names.stored(exc.filename or root), (), error=f"cannot read folder ({exc.strerror or exc})")


def iter_zip(path: Path, max_bytes: int, prefix: str) -> Iterator[Item]:
    """Members of a zip file, read lazily; a corrupt archive becomes one reported item.

    Names without the archive's UTF-8 flag are legacy bytes: shown as UTF-8 when they are (macOS
    and Info-ZIP write UTF-8 without the flag), else as cp437 (DOS); credits match either way.
    """
    try:
        zf = zipfile.ZipFile(path)
        infos = sorted(((_member_name(i), i) for i in zf.infolist()), key=lambda x: x[0])
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        yield Item(prefix, _dedupe(names.path_keys(path.name)), error=f"not a valid zip file ({exc})")
        return
    except UnicodeDecodeError:
        yield Item(prefix, _dedupe(names.path_keys(path.name)),
                   error="not a valid zip file (its file names claim to be UTF-8 but are not)")
        return
    with zf:
        for name, info in infos:
            base = name.rsplit("/", 1)[-1]
            if info.is_dir() or name.startswith("__MACOSX/") or base.startswith(".") or not base:
                continue
            uri = names.member(prefix, name)
            keys = _dedupe((name, base, uri, *_legacy_keys(info)))
            if info.flag_bits & 0x1:
                yield Item(uri, keys, error="encrypted zip member")
            elif info.file_size > max_bytes:
                yield Item(uri, keys, error=f"file too large ({info.file_size:,} bytes > {max_bytes:,})")
            else:
                yield Item(uri, keys, read=_zip_reader(zf, info, max_bytes))


def _member_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & 0x800 or info.filename.isascii():
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except UnicodeError:
        return info.filename


def _legacy_keys(info: zipfile.ZipInfo) -> list[str]:
    """A flagless member's name read as raw bytes (matches a legacy sidecar) and as cp437 and cp1252."""
    if info.flag_bits & 0x800 or info.filename.isascii():
        return []
    raw = info.filename.encode("cp437")
    out = []
    for text in (raw.decode("utf-8", "surrogateescape"), info.filename, raw.decode("cp1252", "replace")):
        out += [text, text.rsplit("/", 1)[-1]]
    return out


def _zip_reader(zf: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int) -> Callable[[], bytes]:
    def read() -> bytes:
        with zf.open(info) as fh:
            data = fh.read(max_bytes + 1)  # a lying header can't make us read more than this
        if len(data) > max_bytes:
            raise OSError(f"file too large (> {max_bytes:,} bytes)")
        return data

    return read


def iter_url_list(path: Path, fetch, origins: optout.OriginSignals | None = None) -> Iterator[Item]:
    """One URL a line; bytes that are not UTF-8 (a legacy list) are sent and stored percent-encoded."""
    urls = []
    for line in path.read_bytes().decode("utf-8-sig", "surrogateescape").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            urls.append(names.clean_url(line))
    yield from _url_items(urls, fetch, origins)


def _url_items(urls: list[str], fetch, origins: optout.OriginSignals | None = None,
               concurrency: int = 8) -> Iterator[Item]:
    """Download with a few parallel connections; results come back in list order."""
    if fetch is None:
        raise BelamyError("internal: URL sources need a fetcher")
    origins = origins if origins is not None else optout.OriginSignals(fetch)
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        window = concurrency * 2
        futures = []
        for i, url in enumerate(urls):
            futures.append((url, pool.submit(_download, names.url_ascii(url), fetch, origins)))
            if len(futures) >= window:
                yield _url_item(*futures.pop(0))
        for url, fut in futures:
            yield _url_item(url, fut)


@dataclass
class _Download:
    data: bytes | None  # None: not downloaded, because the signals opt it out
    signals: dict[str, Any]
    opt_out: tuple[str, str] | None
    page: bool = False  # an HTML page, not an image


def _download(sent: str, fetch, origins: optout.OriginSignals) -> _Download:
    """One URL, its creators' signals honoured: the origin's files, then the response's headers."""
    signals = origins.for_url(sent)
    verdict = optout.decide(signals)
    if verdict and not origins.include:
        return _Download(None, signals, verdict)
    file_rule = "tdm" in signals  # a matching tdmrep.json rule decides; headers and tags are not asked

    def stop(headers) -> bool:
        declared = None if file_rule else optout.header_signal(headers)
        return bool(declared and declared["reservation"] == 1 and not origins.include)

    res = as_fetched(fetch(sent, stop=stop))
    if not file_rule:
        declared = optout.header_signal(res.headers)
        if declared:
            signals["tdm"] = declared
    if res.stopped:
        return _Download(None, signals, optout.decide(signals))
    if optout.is_html(res.content_type, res.data):
        if "tdm" not in signals:
            declared = optout.meta_signal(res.data)
            if declared:
                signals["tdm"] = declared
        return _Download(None, signals, optout.decide(signals), page=True)
    return _Download(res.data, signals, optout.decide(signals))


def _url_item(url: str, fut) -> Item:
    keys = _dedupe((url, names.url_ascii(url), url.rsplit("/", 1)[-1].split("?", 1)[0], names.display_name(url)))
    try:
        got: _Download = fut.result()
    except Exception as exc:  # a failed download is one reported item
        return Item(url, keys, error=f"download failed ({exc})")
    if got.page and not got.opt_out:
        return Item(url, keys, error="not an image (an HTML page: list the URLs of its images, not the page)",
                    signals=got.signals)
    if got.page or got.data is None:  # opted out (and, for a page, not an image anyway)
        error = "not an image (an HTML page whose meta tags reserve TDM rights)" if got.page else None
        return Item(url, keys, error=error, signals=got.signals, opt_out=got.opt_out)
    data = got.data
    return Item(url, keys, read=lambda: data, signals=got.signals, opt_out=got.opt_out)


def iter_demo_source(name: str, count: int | None) -> Iterator[Item]:
    for ident, image, extra in demo.iter_demo_items(name, count=count):
        uri = f"{DEMO_SCHEME}{name}/{ident}"
        credits = {"title": f"Demo {ident.replace('-', ' ')}", "author": "belamy procedural painter",
                   "license": "CC0-1.0", "date": "2026"}
        yield Item(uri, (ident, uri), read=_ppm_bytes(image), credits=credits, extra=extra or None)


def _ppm_bytes(image) -> Callable[[], bytes]:
    """Encode a rendered image losslessly and almost for free (PPM), for the decode workers."""

    def read() -> bytes:
        import io

        buf = io.BytesIO()
        image.save(buf, format="PPM")
        return buf.getvalue()

    return read
