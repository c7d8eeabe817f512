"""Downloading images from URL lists: timeouts, retries with back-off, and a size cap."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

USER_AGENT = "belamy (+https://pypi.org/project/belamy/) image collector"


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

    def __call__(self, url: str) -> bytes:
        try:
            with self.session.get(url, timeout=(min(self.timeout, 10.0), self.timeout), stream=True) as resp:
                if resp.status_code >= 400:
                    raise OSError(f"HTTP {resp.status_code}")
                declared = int(resp.headers.get("Content-Length") or 0)
                if declared > self.max_bytes:
                    raise OSError(f"file too large ({declared:,} bytes)")
                chunks, total = [], 0
                for chunk in resp.iter_content(chunk_size=1 << 16):
                    total += len(chunk)
                    if total > self.max_bytes:
                        raise OSError(f"file too large (> {self.max_bytes:,} bytes)")
                    chunks.append(chunk)
                return b"".join(chunks)
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
