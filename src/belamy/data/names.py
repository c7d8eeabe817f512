"""Names of sources as stored (lossless, valid UTF-8) and as shown (readable).

File names are bytes on POSIX; Python hands the ones that are not UTF-8 over with the bad bytes
as lone surrogates, which no UTF-8 file can hold. A manifest therefore names such a file by a
`file://` URI with the raw bytes percent-encoded (as file URIs do), and keeps a plain path for every
other file, so older collections read the same. People see the bytes as `\\xe9` escapes, IDN hosts
in Unicode and percent-encoded UTF-8 decoded.
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote, quote_from_bytes, unquote, unquote_to_bytes, urlsplit, urlunsplit

FILE_SCHEME = "file://"
_URL_SAFE = "/:@!$&'()*+,;=-._~%?#[]"  # characters a URL keeps as they are when it is normalised


def is_clean(text: str) -> bool:
    """Whether `text` can be written as UTF-8 (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def raw_bytes(text: str) -> bytes:
    """The bytes a str from the file system (or a sidecar read with surrogateescape) stands for."""
    return text.encode("utf-8", "surrogateescape")


def readable(text: str) -> str:
    """`text` with any byte that is not UTF-8 shown as a `\\xNN` escape (a no-op on clean text)."""
    if is_clean(text):
        return text
    try:
        return raw_bytes(text).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that no file system made (e.g. from JSON "\\ud800")
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def stored(path: str | os.PathLike[str]) -> str:
    """How a local file is named in a manifest or report: its path, or a file URI when not UTF-8."""
    text = os.fsdecode(os.fspath(path))
    if is_clean(text):
        return text
    return FILE_SCHEME + quote_from_bytes(os.fsencode(os.path.abspath(text)))


def local_path(source: str) -> str:
    """The path a stored local name stands for (the inverse of `stored`)."""
    if source.startswith(FILE_SCHEME):
        return os.fsdecode(unquote_to_bytes(source[len(FILE_SCHEME):]))
    return source


def member(archive: str, name: str) -> str:
    """How a zip member is named: ARCHIVE!/NAME, percent-encoded too when the archive's is a URI."""
    if archive.startswith(FILE_SCHEME):
        return f"{archive}!/{quote(name)}"
    return f"{archive}!/{name}"


def display(source: str) -> str:
    """The readable form of a stored source (path, file URI, URL, zip member or demo id)."""
    if source.startswith(FILE_SCHEME):
        return unquote_to_bytes(source[len(FILE_SCHEME):]).decode("utf-8", "backslashreplace")
    if source.startswith(("http://", "https://")):
        return display_url(source)
    return readable(source)


def display_name(source: str) -> str:
    """The last part of a source's readable form (a file or member name), without a URL's query."""
    text = display(source)
    if source.startswith(("http://", "https://")):
        text = text.split("?", 1)[0].split("#", 1)[0]
    return text.rstrip("/").rsplit("/", 1)[-1]


def display_url(url: str) -> str:
    """An http(s) URL with an IDN host in Unicode and percent-encoded UTF-8 decoded."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return readable(url)
    if "xn--" in host:
        try:
            uni = host.encode("ascii").decode("idna")
        except UnicodeError:
            uni = host
        netloc = parts.netloc.replace(host, uni) if host in parts.netloc else parts.netloc
    else:
        netloc = parts.netloc
    path, query = (_unquote_utf8(p) for p in (parts.path, parts.query))
    return readable(urlunsplit((parts.scheme, netloc, path, query, parts.fragment)))


def _unquote_utf8(text: str) -> str:
    """Percent-decode when the bytes are UTF-8 and printable; keep the escapes otherwise."""
    if "%" not in text:
        return text
    try:
        out = unquote(text, errors="strict")
    except UnicodeDecodeError:
        return text
    return out if out.isprintable() else text


def clean_url(url: str) -> str:
    """A URL as given, with bytes that are not UTF-8 (a legacy URL list) percent-encoded."""
    if is_clean(url):
        return url
    return "".join(c if is_clean(c) else f"%{raw_bytes(c)[0]:02X}" for c in url)


def url_ascii(url: str) -> str:
    """The ASCII form of a URL, as sent: IDNA host, UTF-8 (or raw) bytes percent-encoded, hex upper case."""
    if not is_clean(url) or not url.isascii():
        url = "".join(c if ord(c) < 0x80 else "".join(f"%{b:02X}" for b in raw_bytes(c)) for c in url)
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return url
    netloc = parts.netloc
    if host and ("%" in host):
        try:
            uni = unquote(host, errors="strict")
            netloc = netloc.replace(host, uni.encode("idna").decode("ascii"))
        except UnicodeError:
            pass
    path = quote(parts.path, safe=_URL_SAFE)
    query = quote(parts.query, safe=_URL_SAFE)
    out = urlunsplit((parts.scheme.lower(), netloc.lower(), path, query, parts.fragment))
    return re.sub(r"%[0-9a-f]{2}", lambda m: m.group(0).upper(), out)


def path_keys(*names: str) -> list[str]:
    """Names a credits sidecar may use for a file: as is, as shown, percent-encoded, with U+FFFD."""
    keys = []
    for name in names:
        keys.append(name)
        if not is_clean(name):
            raw = raw_bytes(name)
            keys += [readable(name), quote_from_bytes(raw, safe="/"), raw.decode("utf-8", "replace"),
                     raw.decode("cp1252", "replace")]
    return keys


def sidecar_keys(key: str) -> list[str]:
    """Extra spellings a sidecar's file or URL key stands for (matched against `path_keys`)."""
    if key.startswith(("http://", "https://")):
        return [url_ascii(key)]
    keys = []
    if key.startswith(FILE_SCHEME):
        key = local_path(key)
        keys.append(key)
    elif re.search(r"%[0-9A-Fa-f]{2}", key):
        keys.append(os.fsdecode(unquote_to_bytes(key)))
    if not is_clean(key):  # a legacy (e.g. Excel cp1252) sidecar naming a file saved with UTF-8 names
        keys.append(raw_bytes(key).decode("cp1252", "replace"))
    return keys


def legacy_text(value: str) -> str:
    """A sidecar value with bytes that are not UTF-8 read as Windows-1252 (what Excel writes)."""
    if is_clean(value):
        return value
    try:
        return raw_bytes(value).decode("cp1252", "replace")
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape, not a byte
        return readable(value)
