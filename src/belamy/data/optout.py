"""Creators' "do not train" signals: what each says of one image, and whether it opts the image out.

Four signals are honoured (belamy trains generative models, so a reservation of any AI training
or of text and data mining counts):

- **TDMRep** (W3C TDM Reservation Protocol, community group final report): a rule of the origin's
  `/.well-known/tdmrep.json` (an array of `{"location", "tdm-reservation", "tdm-policy"}`; the
  first rule whose location pattern matches the URL's path wins, patterns as in robots.txt: `*`
  any characters, `$` the end), else the response's `tdm-reservation` / `tdm-policy` headers, else
  an HTML page's `<meta name="tdm-reservation">` tags, else the image's own XMP `tdm:reservation`.
  `1` reserves; `0` does not; any other value is a protocol error, read as unset.
- **ai.txt** (Spawning): robots.txt grammar at the origin's root; the group of `User-Agent: belamy`
  or else `*`, whose `Disallow:` / `Allow:` patterns (`*.jpg`, `/art/`) match the URL's path; the
  longest matching pattern wins, `Allow` on a tie.
- **plus:DataMining** (IPTC / PLUS) in the image's XMP: every `DMI-PROHIBITED...` value.
- **C2PA training and mining** (`c2pa.training-mining`, or CAWG's `cawg.training-mining`) in the
  image's active manifest: `ai_training`, `ai_generative_training` or `data_mining` `notAllowed`.
  The manifest's signature is not required to be trusted: a creator's wish counts either way.

The origin files are fetched once per origin per collect run (`OriginSignals`). What was found is
recorded per image in compact manifest fields (`tdm`, `ai_txt`, `data_mining`, `training_mining`);
`decide` names the first signal that opts an image out.
"""

from __future__ import annotations

import io
import json
import re
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import c2pa

from belamy.data.fetch import as_fetched

SIGNALS = ("tdm-reservation", "ai.txt", "plus:DataMining", "c2pa.training-mining")
INCLUDED_BY = "--include-opted-out"
AGENT = "belamy"  # the product token an ai.txt group may name
TDMREP_PATH = "/.well-known/tdmrep.json"
AI_TXT_PATH = "/ai.txt"
ORIGIN_FILE_BYTES = 512 * 1024  # an origin file larger than this is not a policy file
TRAINING_USES = ("ai_generative_training", "ai_training", "data_mining")  # what training a GAN is
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_MIME = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "TIFF": "image/tiff",
         "GIF": "image/gif", "AVIF": "image/avif", "HEIF": "image/heif", "BMP": "image/bmp"}


# -- TDMRep ------------------------------------------------------------------------------------
def tdm_value(value: Any) -> int | None:
    """A `tdm-reservation` value as 0 or 1; anything else is a protocol error (None: unset)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value if value in (0, 1) else None
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return int(value.strip())
    return None


@dataclass(frozen=True)
class TdmRule:
    location: str
    reservation: int
    policy: str | None
    pattern: re.Pattern[str]


def parse_tdmrep(text: str) -> list[TdmRule]:
    """The rules of a tdmrep.json, in file order (objects without a location or a valid value dropped)."""
    parsed = json.loads(text)
    if isinstance(parsed, dict):  # a single rule written as an object: read it as a one-rule file
        parsed = [parsed]
    if not isinstance(parsed, list):
        raise ValueError("not a JSON array")
    rules = []
    for item in parsed[:10_000]:
        if not isinstance(item, dict):
            continue
        value = tdm_value(item.get("tdm-reservation"))
        location = item.get("location", "/")  # a rule without a location covers the whole origin
        if value is None or not isinstance(location, str) or not location.strip():
            continue
        policy = item.get("tdm-policy")
        rules.append(TdmRule(location.strip(), value, policy if isinstance(policy, str) and policy else None,
                             location_pattern(location)))
    return rules


def location_pattern(location: str) -> re.Pattern[str]:
    """A robots.txt-style path pattern as a regex: `*` any characters, a final `$` the end, else a prefix."""
    loc = location.strip()
    if loc.startswith(("http://", "https://")):  # a full URL: its path (the origin is already ours)
        parts = urlsplit(loc)
        loc = parts.path + (f"?{parts.query}" if parts.query else "")
    if not loc.startswith(("/", "*")):
        loc = ("*" if loc.startswith(".") else "/") + loc
    anchored = loc.endswith("$")
    loc = _normal_path(loc[:-1] if anchored else loc)
    body = ".*".join(re.escape(part) for part in loc.split("*"))
    return re.compile(body + (r"\Z" if anchored else ""), re.DOTALL)


def _normal_path(text: str) -> str:
    """Percent-encoded unreserved characters decoded (and other escapes upper-cased), so both compare."""
    def fix(m: re.Match[str]) -> str:
        ch = chr(int(m.group(1), 16))
        return ch if ch in _UNRESERVED else m.group(0).upper()

    return re.sub(r"%([0-9A-Fa-f]{2})", fix, text)


def url_path(url: str) -> str:
    """The part of a URL that TDMRep and ai.txt patterns match: path and query."""
    parts = urlsplit(url)
    return _normal_path((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))


def tdmrep_rule(rules: list[TdmRule], url: str) -> TdmRule | None:
    """The rule for `url`: the first that matches (TDMRep: "the most specific match is the first")."""
    path = url_path(url)
    return next((r for r in rules if r.pattern.match(path)), None)


def rule_signal(rule: TdmRule) -> dict[str, Any]:
    out: dict[str, Any] = {"reservation": rule.reservation, "source": "tdmrep.json", "rule": rule.location}
    if rule.reservation == 1 and rule.policy:
        out["policy"] = rule.policy
    return out


def header_signal(headers) -> dict[str, Any] | None:
    """The `tdm-reservation` / `tdm-policy` response headers (names in lower case), if declared."""
    value = tdm_value((headers.get("tdm-reservation") or "").split(",")[0])
    if value is None:
        return None
    out: dict[str, Any] = {"reservation": value, "source": "header"}
    if value == 1 and headers.get("tdm-policy"):
        out["policy"] = headers["tdm-policy"].strip()
    return out


class _MetaTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":
            return
        a = {k.lower(): (v or "") for k, v in attrs}
        name = a.get("name", "").strip().lower()
        if name in ("tdm-reservation", "tdm-policy"):
            self.found.setdefault(name, a.get("content", "").strip())


def meta_signal(html: bytes) -> dict[str, Any] | None:
    """An HTML page's `<meta name="tdm-reservation">` (and `tdm-policy`), if declared."""
    parser = _MetaTags()
    try:
        parser.feed(html[:1024 * 1024].decode("utf-8", "replace"))
        parser.close()
    except Exception:  # a page the parser chokes on declares nothing it could read
        pass
    value = tdm_value(parser.found.get("tdm-reservation"))
    if value is None:
        return None
    out: dict[str, Any] = {"reservation": value, "source": "meta"}
    if value == 1 and parser.found.get("tdm-policy"):
        out["policy"] = parser.found["tdm-policy"]
    return out


def is_html(content_type: str, data: bytes) -> bool:
    if content_type in ("text/html", "application/xhtml+xml"):
        return True
    head = data[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


# -- ai.txt ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AiRule:
    allow: bool
    path: str
    pattern: re.Pattern[str]

    @property
    def text(self) -> str:
        return f"{'Allow' if self.allow else 'Disallow'}: {self.path}"


def parse_ai_txt(text: str, agent: str = AGENT) -> list[AiRule]:
    """The rules that apply to `agent`: its own groups if any name it, else the `*` groups."""
    groups: list[tuple[list[str], list[AiRule]]] = []
    agents: list[str] = []
    rules: list[AiRule] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (s.strip() for s in line.split(":", 1))
        key = key.lower().replace("_", "-")
        if key in ("user-agent", "useragent"):
            if rules:  # a user-agent line after rules starts a new group
                groups.append((agents, rules))
                agents, rules = [], []
            agents.append(value.lower())
        elif key in ("allow", "disallow") and agents:
            if value:
                rules.append(AiRule(key == "allow", value, location_pattern(value)))
    if agents:
        groups.append((agents, rules))
    mine = [r for names_, rs in groups if agent.lower() in names_ for r in rs]
    return mine or [r for names_, rs in groups if "*" in names_ for r in rs]


def ai_txt_signal(rules: list[AiRule], url: str) -> dict[str, Any]:
    """Whether ai.txt lets `url` be used: the longest matching pattern decides, Allow on a tie."""
    path = url_path(url)
    best: AiRule | None = None
    for rule in rules:
        if rule.pattern.match(path):
            if best is None or (len(rule.path), rule.allow) > (len(best.path), best.allow):
                best = rule
    if best is None:
        return {"allowed": True}
    return {"allowed": best.allow, "rule": best.text}


# -- embedded: plus:DataMining and C2PA ----------------------------------------------------------
def data_mining_prohibits(key: str | None) -> bool:
    """Whether a PLUS DataMining key (`DMI-PROHIBITED-AIMLTRAINING`, ...) rules training out."""
    return bool(key) and key.upper().startswith("DMI-PROHIBITED")


def training_mining(data: bytes, fmt: str) -> dict[str, str] | None:
    """The training-and-mining entries (`{"c2pa.ai_training": "notAllowed", ...}`) of the image's
    active C2PA manifest, or None when it has none (or none that can be read)."""
    if b"jumb" not in data or b"c2pa" not in data:  # no JUMBF box: no manifest (cheap, most files)
        return None
    mime = _MIME.get(fmt.upper())
    if mime is None:
        return None
    try:
        ctx = c2pa.Context.from_dict({"verify": {"verify_trust": False, "remote_manifest_fetch": False,
                                                 "ocsp_fetch": False}})
        with c2pa.Reader(mime, io.BytesIO(data), context=ctx) as reader:
            store = json.loads(reader.json())
    except Exception:  # no manifest, or one that cannot be parsed: nothing declared
        return None
    manifest = (store.get("manifests") or {}).get(store.get("active_manifest") or "") or {}
    for assertion in manifest.get("assertions") or []:
        label = str(assertion.get("label", ""))
        if label.split(".v", 1)[0] in ("c2pa.training-mining", "cawg.training-mining"):
            entries = (assertion.get("data") or {}).get("entries") or {}
            found = {str(k): str(v.get("use")) for k, v in entries.items() if isinstance(v, dict) and v.get("use")}
            return found or None
    return None


def mining_refusal(entries: dict[str, str] | None) -> str | None:
    """The first training use a C2PA training-mining assertion does not allow, as `name: notAllowed`."""
    for name, use in sorted((entries or {}).items()):
        if use == "notAllowed" and name.rsplit(".", 1)[-1] in TRAINING_USES:
            return f"{name}: notAllowed"
    return None


# -- the decision ----------------------------------------------------------------------------
def decide(signals: dict[str, Any]) -> tuple[str, str] | None:
    """The first signal (in `SIGNALS` order) that opts an image out, as (signal, detail), or None."""
    tdm = signals.get("tdm")
    if tdm and tdm.get("reservation") == 1:
        where = {"tdmrep.json": f"tdmrep.json rule {tdm.get('rule', '')!r}", "header": "HTTP header",
                 "meta": "HTML meta tag", "xmp": "the image's XMP"}.get(tdm.get("source"), tdm.get("source", ""))
        return SIGNALS[0], f"1 in {where}" + (f"; policy {tdm['policy']}" if tdm.get("policy") else "")
    ai = signals.get("ai_txt")
    if ai and ai.get("allowed") is False:
        return SIGNALS[1], ai.get("rule", "Disallow")
    if data_mining_prohibits(signals.get("data_mining")):
        return SIGNALS[2], signals["data_mining"]
    refusal = mining_refusal(signals.get("training_mining"))
    if refusal:
        return SIGNALS[3], refusal
    return None


def opt_out_field(signal: tuple[str, str]) -> dict[str, str]:
    """The manifest row's record of an opted-out image that was included anyway."""
    return {"signal": signal[0], "detail": signal[1], "included_by": INCLUDED_BY}


# -- origin files, fetched once per origin per run ---------------------------------------------
@dataclass
class _Origin:
    tdm_rules: list[TdmRule] | None  # None: no usable tdmrep.json
    ai_rules: list[AiRule] | None  # None: no ai.txt
    summary: dict[str, str]


class OriginSignals:
    """Per collect run: each origin's tdmrep.json and ai.txt, fetched once (threads wait for the first).

    `fetch(url, max_bytes=...)` is the run's downloader (`fetch.Fetcher`). `include` is
    `--include-opted-out`: opted-out images are then downloaded and recorded instead of skipped.
    """

    def __init__(self, fetch, include: bool = False) -> None:
        self.fetch = fetch
        self.include = include
        self._lock = threading.Lock()
        self._origins: dict[str, Future[_Origin]] = {}

    def for_url(self, url: str) -> dict[str, Any]:
        """The origin-level signals for `url`: `tdm` (a matching tdmrep.json rule) and `ai_txt`."""
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        info = self._origin(origin)
        out: dict[str, Any] = {}
        if info.tdm_rules:
            rule = tdmrep_rule(info.tdm_rules, url)
            if rule is not None:
                out["tdm"] = rule_signal(rule)
        if info.ai_rules is not None:
            out["ai_txt"] = ai_txt_signal(info.ai_rules, url)
        return out

    def summary(self) -> dict[str, dict[str, str]]:
        """What each origin's files said, for the collect report."""
        with self._lock:
            done = {o: f.result() for o, f in self._origins.items() if f.done() and not f.exception()}
        return {o: done[o].summary for o in sorted(done)}

    def _origin(self, origin: str) -> _Origin:
        with self._lock:
            fut = self._origins.get(origin)
            owner = fut is None
            if owner:
                fut = self._origins[origin] = Future()
        if owner:
            try:
                fut.set_result(self._load(origin))
            except BaseException as exc:  # never leave other threads waiting
                fut.set_exception(exc)
                raise
        return fut.result()

    def _load(self, origin: str) -> _Origin:
        summary: dict[str, str] = {}
        tdm_rules = ai_rules = None
        text, why = self._text(origin + TDMREP_PATH)
        if text is not None:
            try:
                tdm_rules = parse_tdmrep(text)
                summary["tdmrep.json"] = f"{len(tdm_rules)} rule(s)"
            except (ValueError, RecursionError):
                summary["tdmrep.json"] = "not valid JSON: ignored"
        else:
            summary["tdmrep.json"] = f"none ({why})"
        text, why = self._text(origin + AI_TXT_PATH)
        if text is not None:
            ai_rules = parse_ai_txt(text)
            summary["ai.txt"] = f"{len(ai_rules)} rule(s) for {AGENT} or *"
        else:
            summary["ai.txt"] = f"none ({why})"
        return _Origin(tdm_rules, ai_rules, summary)

    def _text(self, url: str) -> tuple[str | None, str]:
        """A policy file's text, or None and why not (absent, an error page, unreachable)."""
        try:
            res = as_fetched(self.fetch(url, max_bytes=ORIGIN_FILE_BYTES))
        except OSError as exc:
            return None, str(exc)
        if is_html(res.content_type, res.data):  # a site that answers every path with a page
            return None, "an HTML page"
        return res.data.decode("utf-8-sig", "replace"), ""
