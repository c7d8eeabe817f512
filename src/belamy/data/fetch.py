"""Downloading images from URL lists: timeouts, retries with back-off, and a size cap.

A download returns its bytes with the response headers (the TDMRep `tdm-reservation` header and the
content type are read from them), and can stop after the headers when they already say the body
must not be taken.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

USER_AGENT = "belamy (+https://pypi.org/project/belamy/) image collector"


@dataclass
class Fetched:
    """One response: its body (empty when stopped after the headers) and headers (lower-case names)."""

    data: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    stopped: bool = False  # the `stop` callback refused the body: nothing was read

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def as_fetched(result: Fetched | bytes) -> Fetched:
    """A fetcher's result as a `Fetched` (a stand-in fetcher may return plain bytes)."""
    return result if isinstance(result, Fetched) else Fetched(bytes(result))


@dataclass
class Fetcher:
    """A thread-safe-enough downloader (one pooled requests.Session) for `sources._url_items`."""

    timeout: float = 20.0
    retries: int = 3
    max_bytes: int = 256 * 1024 * 1024
    backoff: float = 0.3

    def __post_init__(self) -> None:
        retry = Retry(
            total=self.retries,
            connect=self.retries,
            read=self.retries,
            status=self.retries,
            backoff_factor=self.backoff,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET"}),
            raise_on_status=False,
        )
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry, pool_connections=8, pool_maxsize=16)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = USER_AGENT

    def __call__(self, url: str, *, max_bytes: int | None = None,
                 stop: Callable[[Mapping[str, str]], bool] | None = None) -> Fetched:
        """GET `url`; `stop(headers)` true ends the download before the body is read."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        try:
            with self.session.get(url, timeout=(min(self.timeout, 10.0), self.timeout), stream=True) as resp:
                if resp.status_code >= 400:
                    raise OSError(f"HTTP {resp.status_code}")
                headers = {k.lower(): v for k, v in resp.headers.items()}
                if stop is not None and stop(headers):
                    return Fetched(b"", headers, stopped=True)
                declared = int(resp.headers.get("Content-Length") or 0)
                if declared > limit:
                    raise OSError(f"file too large ({declared:,} bytes)")
                chunks, total = [], 0
                for chunk in resp.iter_content(chunk_size=1 << 16):
                    total += len(chunk)
                    if total > limit:
                        raise OSError(f"file too large (> {limit:,} bytes)")
                    chunks.append(chunk)
                return Fetched(b"".join(chunks), headers)
        except requests.exceptions.RetryError as exc:
            raise OSError(f"gave up after {self.retries} retries ({_reason(exc)})") from None
        except requests.exceptions.Timeout:
            raise OSError(f"timed out after {self.timeout:g} s") from None
        except requests.exceptions.ConnectionError as exc:
            raise OSError(f"connection failed ({_reason(exc)})") from None
        except requests.exceptions.RequestException as exc:
            raise OSError(_reason(exc)) from None


def _reason(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 140 else text[:137] + "..."
