"""`belamy ledger`: who owns each artwork, in a signed append-only log nobody can rewrite unseen.

The ledger stage keeps the log (`ledger.store`), its entries and checkpoints; this module wires
it to the artworks (`api.finish` reads and verifies their provenance records) and to the signing
identities (`provenance.keys`: each identity holds an Ed25519 ledger key beside its C2PA key).

An export is a folder of static files any host can serve:

    log.json                      origin, verifier key, keeper, size
    checkpoint                    the latest signed checkpoint (C2SP tlog-checkpoint + signed-note)
    entries.jsonl                 every leaf, in order (canonical JSON, one a line)
    checkpoints.jsonl             every signed checkpoint, {"size", "note"} a line
    artworks/RECORD_SHA256.json   that artwork's entries, each with its inclusion proof
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from belamy.api.finish import artwork_record
from belamy.api.finish import verify as verify_artwork
from belamy.core import atomic
from belamy.core.errors import BelamyError
from belamy.ledger.entries import EntryError, Owners, mint_body, parse_entry, public_b64, transfer_body
from belamy.ledger.merkle import leaf_hash, verify_inclusion
from belamy.ledger.note import NoteError, Verifier, open_checkpoint
from belamy.ledger.store import INFO, Latest, Ledger, now
from belamy.ledger.verify import LedgerReport, verify_ledger
from belamy.provenance.keys import default_keys_dir, load_ledger_key
from belamy.provenance.record import record_sha256

__all__ = ["init", "mint", "transfer", "history", "verify", "export", "check_artwork", "LedgerReport"]


def init(path: str | Path, keys: Path | None = None, origin: str | None = None) -> Ledger:
    """A new, empty ledger kept by the identity in `keys` (its Ed25519 key signs mints and checkpoints)."""
    name, key = load_ledger_key(keys)
    origin = origin or f"belamy.ledger/{uuid.uuid4().hex[:16]}"
    if any(c.isspace() or c == "+" for c in origin):
        raise BelamyError(f"the origin {origin!r} may not contain spaces or '+': use something like example.org/ledger")
    return Ledger.init(path, origin, key, name)


def owner_key(spec: str | Path) -> str:
    """An owner's public ledger key from an identity folder, a file holding it, or the key itself (base64)."""
    p = Path(spec)
    if p.is_dir():
        return public_b64(load_ledger_key(p)[1])
    text = p.read_text().strip() if p.is_file() else str(spec).strip()
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise BelamyError(f"{spec} is not an identity folder or an Ed25519 public key (44 base64 characters; "
                          "`belamy keys show` prints yours)")
    return text


@dataclass
class ArtworkId:
    record_sha256: str
    pixels_sha256: str
    title: str
    record: dict[str, Any]


def identify(artwork: str | Path, keys: Path | None = None, check: bool = True) -> ArtworkId:
    """The artwork's record hash and pixel hash; with `check`, only an artwork that verifies."""
    if check and Path(artwork).suffix != ".json":
        verdict = verify_artwork(artwork, keys=keys)
        if verdict.status != "verified":
            why = verdict.findings[0].message if verdict.findings else verdict.status
            raise BelamyError(f"{artwork} does not verify ({why}): only a verified artwork goes on the ledger")
    record = artwork_record(artwork)
    art = record.get("artwork", {})
    return ArtworkId(record_sha256(record), art.get("pixels_sha256", ""), art.get("title", ""), record)


def mint(path: str | Path, artwork: str | Path, owner: str | None = None, owner_key_spec: str | Path | None = None,
         keys: Path | None = None) -> tuple[int, ArtworkId]:
    """Mint `artwork` to its first owner (default: the ledger's keeper, with the keeper's key)."""
    led = Ledger.open(path)
    keeper, log_key = load_ledger_key(keys)
    art = identify(artwork, keys)
    first = owner or art.record.get("roles", {}).get("owner") or keeper
    key = owner_key(owner_key_spec) if owner_key_spec else public_b64(log_key)
    entry = {"record_sha256": art.record_sha256, "pixels_sha256": art.pixels_sha256, "title": art.title}

    def make(index: int, latest: Latest | None) -> dict[str, Any]:
        if latest is not None:
            raise BelamyError(f"{artwork} is already on the ledger (entry {latest.index}, owned by {latest.owner}): "
                              "transfer it instead")
        return mint_body(led.origin, index, now(), entry, first, key)

    try:
        return led.append(make, art.record_sha256, log_key, log_key), art
    finally:
        led.close()


def init_once(path: str | Path, keys: Path | None = None, origin: str | None = None) -> Path:
    """The ledger at `path`, made (kept by `keys`) if there is none yet: for scripts that re-run."""
    if not (Path(path) / INFO).is_file():
        init(path, keys, origin)
    return Path(path)


def mint_once(path: str | Path, artwork: str | Path, keys: Path | None = None) -> tuple[int, bool]:
    """(the artwork's mint entry, whether it was minted now): minted unless the ledger already holds
    it, so a script killed between minting and noting it can simply run again."""
    entries = history(path, artwork)["artwork"]["entries"]
    if entries:
        return int(entries[0]["index"]), False
    return mint(path, artwork, keys=keys)[0], True


def transfer(path: str | Path, artwork: str | Path, to: str, to_key: str | Path, keys: Path | None = None,
             log_keys: Path | None = None, price: str | None = None) -> tuple[int, ArtworkId]:
    """Transfer `artwork` to `to`: signed by the current owner's key (`keys`), checkpointed by the
    ledger's keeper (`log_keys`, default the same identity)."""
    led = Ledger.open(path)
    _, owner_signer = load_ledger_key(keys)
    _, log_key = load_ledger_key(log_keys or keys)
    art = identify(artwork, check=False)
    signer_b64, new_key = public_b64(owner_signer), owner_key(to_key)

    def make(index: int, latest: Latest | None) -> dict[str, Any]:
        if latest is None:
            raise BelamyError(f"{artwork} is not on the ledger: mint it first")
        if latest.owner_key != signer_b64:
            raise BelamyError(f"refused: {artwork} belongs to {latest.owner}, and only their key may transfer it "
                              f"(the key in {keys or default_keys_dir()} is not theirs)")
        return transfer_body(led.origin, index, now(), art.record_sha256, latest.index, signer_b64, to, new_key, price)

    try:
        return led.append(make, art.record_sha256, owner_signer, log_key), art
    finally:
        led.close()


def history(path: str | Path, artwork: str | Path | None = None) -> dict[str, Any]:
    """The ledger's summary, and with `artwork` that artwork's entries."""
    led = Ledger.open(path)
    try:
        out: dict[str, Any] = {"origin": led.origin, "keeper": led.info.get("keeper"), "size": led.size(),
                               "vkey": str(led.verifier), "checkpoint": led.latest_checkpoint()}
        if artwork is not None:
            art = identify(artwork, check=False)
            out["artwork"] = {"record_sha256": art.record_sha256, "title": art.title,
                              "entries": [{"index": i, **e.body} for i, e in led.history(art.record_sha256)]}
        return out
    finally:
        led.close()


def verify(path: str | Path, kept: list[str | Path] = ()) -> LedgerReport:
    """Check the whole ledger (`ledger.verify`); `kept` are checkpoint files held from earlier."""
    led = Ledger.open(path)
    try:
        return verify_ledger(led, [Path(k).read_text() for k in kept])
    finally:
        led.close()


def export(path: str | Path, out: str | Path) -> Path:
    """Publish the ledger as static files in `out` (proofs against its latest checkpoint)."""
    led = Ledger.open(path)
    out = Path(out)
    try:
        with led.transaction() as db:  # one consistent view: no append between proofs and checkpoint
            note = db.execute("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()[0]
            tree = led.tree(db)
            size = len(tree)
            rows = db.execute("SELECT idx, leaf, record_sha256 FROM entries ORDER BY idx").fetchall()
            notes = db.execute("SELECT size, note FROM checkpoints ORDER BY size").fetchall()
        by_art: dict[str, list[dict[str, Any]]] = {}
        lines = []
        for idx, leaf, art in rows:
            text = bytes(leaf).decode()
            lines.append(text + "\n")
            proof = [base64.b64encode(h).decode() for h in tree.inclusion_proof(idx, size)]
            by_art.setdefault(art, []).append({"index": idx, "leaf": text, "inclusion": proof})
        for art, entries in by_art.items():
            atomic.write_json(out / "artworks" / f"{art}.json", {"record_sha256": art, "size": size, "entries": entries})
        atomic.write_text(out / "entries.jsonl", "".join(lines))
        atomic.write_text(out / "checkpoints.jsonl", "".join(json.dumps({"size": n, "note": t}) + "\n" for n, t in notes))
        atomic.write_json(out / INFO, {"origin": led.origin, "vkey": str(led.verifier), "keeper": led.info.get("keeper"),
                                       "size": size})
        atomic.write_text(out / "checkpoint", note)  # last: proofs exist before the checkpoint that they prove
        return out
    finally:
        led.close()


@dataclass
class ArtworkLedger:
    """What an exported ledger says of one artwork."""

    source: str
    size: int = 0
    entries: list[dict[str, Any]] = field(default_factory=list)
    owner: str | None = None
    problems: list[str] = field(default_factory=list)
    key_from_export: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.entries)


def check_artwork(record: dict[str, Any], source: str, log_key: str | None = None) -> ArtworkLedger:
    """Check an artwork's history in an exported ledger at `source` (a folder or an http(s) URL):
    the checkpoint's signature, each entry's inclusion proof, signature and place in the owner chain,
    and that the mint names this record and these pixels."""
    res = ArtworkLedger(source)
    try:
        info = json.loads(_fetch(source, INFO))
        verifier = Verifier.parse(log_key or info["vkey"])
        res.key_from_export = log_key is None
        cp = open_checkpoint(_fetch(source, "checkpoint").decode(), verifier)
    except (NoteError, ValueError, KeyError) as exc:
        res.problems.append(f"the ledger's checkpoint does not verify: {exc}")
        return res
    res.size = cp.size
    digest = record_sha256(record)
    try:
        listing = json.loads(_fetch(source, f"artworks/{digest}.json"))
    except FileNotFoundError:
        res.problems.append("the artwork is not on this ledger")
        return res
    owners = Owners(log_key=base64.b64encode(verifier.public).decode())
    for item in listing.get("entries", []):
        idx, leaf = item["index"], item["leaf"].encode()
        proof = [base64.b64decode(h) for h in item["inclusion"]]
        if not verify_inclusion(leaf_hash(leaf), idx, cp.size, proof, cp.root):
            res.problems.append(f"entry {idx}: not included in the signed checkpoint of size {cp.size}")
            continue
        try:
            e = parse_entry(leaf)
            owners.check(idx, cp.origin, e)
        except EntryError as exc:
            res.problems.append(f"entry {idx}: {exc}")
            continue
        if e.record_sha256 != digest:
            res.problems.append(f"entry {idx} is about another artwork")
            continue
        if e.type == "mint" and e.body["artwork"].get("pixels_sha256") != record.get("artwork", {}).get("pixels_sha256"):
            res.problems.append(f"entry {idx}: the mint names other pixels")
        owners.apply(idx, e)
        res.entries.append({"index": idx, **e.body})
    if digest in owners.latest:
        res.owner = owners.latest[digest][1]
    return res


def _fetch(source: str, name: str) -> bytes:
    if source.startswith(("http://", "https://")):
        url = source.rstrip("/") + "/" + name
        try:
            with urllib.request.urlopen(url, timeout=20) as fh:  # noqa: S310 (the user's own ledger URL)
                return fh.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise FileNotFoundError(url) from None
            raise BelamyError(f"could not read {url} (HTTP {exc.code})") from None
        except (urllib.error.URLError, TimeoutError) as exc:
            raise BelamyError(f"could not reach {url} ({getattr(exc, 'reason', exc)})") from None
    path = Path(source) / name
    if not Path(source).is_dir():
        raise BelamyError(f"{source} is neither a ledger export folder nor an http(s) URL")
    return path.read_bytes()
