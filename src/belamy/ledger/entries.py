"""Ledger entries: a mint binds an artwork to its first owner, a transfer moves it to the next.

An entry is `{"entry": BODY, "signer": KEY, "signature": SIG}` written canonically (RFC 8785), and
those bytes are the Merkle leaf. BODY names its log and its own index, so an entry cannot be
replayed into another log or another position; SIG is Ed25519 over a domain tag and BODY's
canonical bytes. A mint is signed by the log's key (the artist's ledger: only its keeper mints);
a transfer by the artwork's current owner, and names the entry it continues (`prev`), so an
artwork's owners form a chain that `replay` checks entry by entry.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from belamy.ledger.note import raw_public

VERSION = 1
TAG = b"belamy.ledger.entry.v1\n"


class EntryError(ValueError):
    """An entry that does not parse, verify or follow its artwork's owner chain."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise EntryError(f"{what} is not base64") from None


def public_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return b64(raw_public(pub))


def mint_body(origin: str, index: int, time: str, artwork: dict[str, Any], owner: str, owner_key: str) -> dict[str, Any]:
    """`artwork`: record_sha256 and pixels_sha256 (plus title, file_sha256 when known)."""
    return {"v": VERSION, "type": "mint", "log": origin, "index": index, "time": time, "artwork": artwork,
            "owner": {"name": owner, "key": owner_key}}


def transfer_body(origin: str, index: int, time: str, record_sha256: str, prev: int, from_key: str, owner: str,
                  owner_key: str, price: str | None = None) -> dict[str, Any]:
    body = {"v": VERSION, "type": "transfer", "log": origin, "index": index, "time": time,
            "artwork": {"record_sha256": record_sha256}, "prev": prev, "from": from_key,
            "owner": {"name": owner, "key": owner_key}}
    if price:
        body["price"] = price
    return body


def sign_entry(body: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    """The leaf bytes of `body` signed by `key`."""
    sig = key.sign(TAG + rfc8785.dumps(body))
    return rfc8785.dumps({"entry": body, "signer": public_b64(key), "signature": b64(sig)})


@dataclass
class Entry:
    body: dict[str, Any]
    signer: str  # base64 of the raw Ed25519 public key

    @property
    def type(self) -> str:
        return self.body["type"]

    @property
    def record_sha256(self) -> str:
        return self.body["artwork"]["record_sha256"]


def parse_entry(leaf: bytes) -> Entry:
    """The entry in `leaf`, its signature verified and its encoding canonical; EntryError otherwise."""
    try:
        obj = json.loads(leaf)
        body, signer, sig = obj["entry"], obj["signer"], obj["signature"]
    except (ValueError, KeyError, TypeError):
        raise EntryError("not a ledger entry (unreadable JSON)") from None
    if rfc8785.dumps(obj) != leaf:
        raise EntryError("not in canonical form (its bytes were edited)")
    try:
        Ed25519PublicKey.from_public_bytes(unb64(signer, "the signer")).verify(
            unb64(sig, "the signature"), TAG + rfc8785.dumps(body))
    except (InvalidSignature, ValueError):
        raise EntryError("its signature does not verify") from None
    if not isinstance(body, dict) or body.get("v") != VERSION or body.get("type") not in ("mint", "transfer"):
        raise EntryError("not a version-1 mint or transfer")
    return Entry(body, signer)


@dataclass
class Owners:
    """Each artwork's latest entry and owner, as the entries so far establish them."""

    log_key: str
    latest: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # record_sha256 -> (index, name, key)

    def check(self, index: int, origin: str, e: Entry) -> None:
        """Raise EntryError unless `e` may be entry `index` of the log `origin` after what came before."""
        b = e.body
        if b.get("index") != index:
            raise EntryError(f"it says it is entry {b.get('index')} (moved, inserted or deleted around it)")
        if b.get("log") != origin:
            raise EntryError(f"it belongs to the log {b.get('log')}")
        art = e.record_sha256
        if e.type == "mint":
            if e.signer != self.log_key:
                raise EntryError("a mint not signed by the log's key")
            if art in self.latest:
                raise EntryError(f"the artwork was already minted as entry {self.latest[art][0]}")
        else:
            if art not in self.latest:
                raise EntryError("a transfer of an artwork never minted")
            prev, _, owner_key = self.latest[art]
            if b.get("prev") != prev:
                raise EntryError(f"it continues entry {b.get('prev')}, but the artwork's latest entry is {prev}")
            if b.get("from") != owner_key or e.signer != owner_key:
                raise EntryError("a transfer not signed by the artwork's current owner")

    def apply(self, index: int, e: Entry) -> None:
        self.latest[e.record_sha256] = (index, e.body["owner"]["name"], e.body["owner"]["key"])
