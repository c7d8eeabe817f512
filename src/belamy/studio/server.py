"""The studio's server: binds the socket itself (so `--port 0` knows its port before the Host
check is set), wraps the app in the security checks, runs uvicorn, and opens the browser.

Loopback needs no token: only this machine's user can reach it, and the Host and CSRF checks stop
other sites' pages. Any other address needs a random token (or one given), printed once.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import threading
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path

import uvicorn

from belamy.core.errors import BelamyError
from belamy.studio.app import build_app
from belamy.studio.security import Guarded, Policy
from belamy.studio.service import Studio


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free one)."""
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(128)
    except OSError as exc:
        raise BelamyError(f"cannot listen on {host}:{port} ({exc.strerror or exc}): try another --port") from exc
    sock.set_inheritable(True)
    return sock


def token_for(host: str, given: str | None) -> str | None:
    """The token requests must carry: none on loopback unless one is given, else `given` or a
    random one (192 bits)."""
    if given is not None:
        return given
    return None if is_loopback(host) else secrets.token_urlsafe(24)


class StudioServer:
    """A studio over `folders`, bound and ready to serve (`run` blocks; `start` serves in a thread)."""

    def __init__(self, folders: list[Path], host: str = "127.0.0.1", port: int = 0, state: Path | None = None,
                 token: str | None = None, workers: int | None = None, device: str = "auto") -> None:
        self.studio = Studio([Path(f) for f in folders], state, workers, device=device)
        self.host = host
        self.sock = bind(host, port)
        self.port = int(self.sock.getsockname()[1])
        self.token = token_for(host, token)
        self.csrf = secrets.token_urlsafe(24)
        policy = Policy.for_bind(host, self.port, self.csrf, self.token)
        app = Guarded(build_app(self.studio, self.csrf), policy)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The address to open (with the token, when there is one: it becomes a cookie on first use)."""
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        shown = f"[{shown}]" if ":" in shown and not shown.startswith("[") else shown
        base = f"http://{shown}:{self.port}/"
        return base + (f"?token={self.token}" if self.token else "")

    def run(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve until interrupted; `on_ready` runs once the server answers."""
        if on_ready is not None:
            threading.Thread(target=self._when_started, args=(on_ready,), daemon=True).start()
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.studio.close()

    def _when_started(self, then: Callable[[], None]) -> None:
        for _ in range(600):
            if self.server.started:
                then()
                return
            time.sleep(0.05)

    def start(self) -> StudioServer:
        """Serve in a background thread (for tests and benchmarks); returns once it answers."""
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        for _ in range(600):
            if self.server.started:
                return self
            time.sleep(0.02)
        raise BelamyError("the studio did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


def open_browser(url: str) -> None:
    """Open `url` in the user's browser (nothing happens where there is none)."""
    webbrowser.open(url, new=2)
