"""The checks every request passes before it reaches the studio (an ASGI middleware).

- Path: a raw path with `..`, a backslash, an encoded dot, slash, backslash or percent (double
  encoding), or a NUL is refused outright; the routes take opaque ids, never file paths.
- Host: only the names the studio was opened under (127.0.0.1, localhost, [::1] and --host, each
  with its port), so a page on another site that rebinds its DNS name to 127.0.0.1 is refused.
- Token: off loopback, every request needs the token (Bearer header, cookie, or `?token=` once,
  which sets an HttpOnly SameSite=Strict cookie and redirects the token out of the address bar).
- State changes: only POST, and only with the page's CSRF token in the `X-Studio-CSRF` header (a
  cross-site form cannot set a header, a cross-site fetch cannot read the token), an Origin, when
  sent, of the studio itself, and no cross-site Sec-Fetch-Site. Other methods are refused.
Every answer also carries a strict Content-Security-Policy and no-sniff headers.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSRF_HEADER = "x-studio-csrf"
COOKIE = "belamy_studio_token"
BAD_PATH_PARTS = ("..", "\\", "%2e", "%2f", "%5c", "%25", "%00", "\x00")
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", (b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
                                 b"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                                 b"form-action 'none'; base-uri 'none'")),
]


@dataclass(frozen=True)
class Policy:
    """What a request must show: one of `hosts` as its Host (any when `any_host`), the `token`
    when there is one, and the `csrf` token on a state change."""

    hosts: frozenset[str]
    csrf: str
    token: str | None = None
    any_host: bool = False

    @staticmethod
    def for_bind(host: str, port: int, csrf: str, token: str | None) -> Policy:
        """The Host names a studio bound to `host`:`port` answers to."""
        wildcard = host in ("0.0.0.0", "::", "")
        name = f"[{host}]" if ":" in host and not host.startswith("[") else host
        names = {*LOOPBACK, name.lower()}
        return Policy(frozenset(f"{n}:{port}" for n in names), csrf, token, any_host=wildcard)

    def origins(self) -> frozenset[str]:
        return frozenset(f"http://{h}" for h in self.hosts)


def bad_path(raw: bytes) -> bool:
    """Whether a raw request path tries to climb, encode its way around the router, or smuggle."""
    text = raw.decode("latin-1").lower()
    return any(part in text for part in BAD_PATH_PARTS) or not text.startswith("/") or text.startswith("//")


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def _answer(send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = (text + "\n").encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *HEADERS, *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


class Guarded:
    """Wraps the studio app: a request that fails a check is answered here with one plain line."""

    def __init__(self, app: ASGIApp, policy: Policy) -> None:
        self.app = app
        self.policy = policy

    def _token_ok(self, given: str | None) -> bool:
        return given is not None and self.policy.token is not None and \
            hmac.compare_digest(given.encode(), self.policy.token.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            return  # no websockets: closing without accepting refuses them
        headers = _headers(scope)
        raw = scope.get("raw_path") or scope.get("path", "").encode()
        if bad_path(raw):
            await _answer(send, 400, "refused: a path may not climb out or be encoded around the router")
            return
        host = headers.get("host", "").lower()
        if not self.policy.any_host and host not in self.policy.hosts:
            await _answer(send, 421, "refused: unexpected Host header (open the studio by the address it printed)")
            return
        if self.policy.token is not None:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            cookie = SimpleCookie(headers.get("cookie", ""))
            bearer = headers.get("authorization", "")
            given = (bearer[7:] if bearer.lower().startswith("bearer ") else None) \
                or (cookie[COOKIE].value if COOKIE in cookie else None)
            if not self._token_ok(given):
                if self._token_ok(query.get("token")) and scope["method"] in ("GET", "HEAD"):
                    rest = urlencode([(k, v) for k, v in query.items() if k != "token"])
                    where = scope.get("path", "/") + (f"?{rest}" if rest else "")
                    await _answer(send, 303, "token accepted", [
                        (b"location", where.encode()),
                        (b"set-cookie", f"{COOKIE}={self.policy.token}; HttpOnly; SameSite=Strict; Path=/".encode())])
                    return
                await _answer(send, 401, "refused: this studio needs its token (printed when it started)")
                return
        method = scope["method"]
        if method == "POST":
            origin = headers.get("origin")
            site = headers.get("sec-fetch-site")
            csrf = headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(csrf.encode(), self.policy.csrf.encode()) \
                    or (origin is not None and origin.lower() not in self.policy.origins() and not self.policy.any_host) \
                    or (site is not None and site not in ("same-origin", "none")):
                await _answer(send, 403, "refused: a change must come from the studio's own page")
                return
        elif method not in ("GET", "HEAD"):
            await _answer(send, 405, "refused: the studio answers GET, and POST from its own page")
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
