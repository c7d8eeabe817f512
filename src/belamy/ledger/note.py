"""Signed checkpoints in the C2SP formats, so transparency-log tooling can read them.

- tlog-checkpoint (c2sp.org/tlog-checkpoint): the note text is three lines, the log's origin, the
  tree size in decimal and the root hash in standard base64, each ending in a newline.
- signed-note (c2sp.org/signed-note): the text, a blank line, then one line per signature,
  "— NAME BASE64(KEY_ID || SIGNATURE)", where KEY_ID is the first 4 bytes of
  SHA-256(NAME || "\\n" || 0x01 || PUBLIC_KEY) for an Ed25519 key (type 0x01) and the signature is
  Ed25519 over the text's bytes. A verifier key is written "NAME+HEX(KEY_ID)+BASE64(0x01 || PUBLIC_KEY)".
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
DASH = "\u2014"  # the em dash that starts each signature line


class NoteError(ValueError):
    """A note or verifier key that does not parse or verify; the message says which part."""


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public: bytes) -> bytes:
    """The 4-byte key hint a signature line carries."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public).digest()[:4]


def verifier_key(name: str, public: bytes) -> str:
    """The signed-note verifier key string of an Ed25519 public key."""
    return f"{name}+{key_id(name, public).hex()}+{base64.b64encode(bytes([ED25519]) + public).decode()}"


@dataclass(frozen=True)
class Verifier:
    name: str
    public: bytes  # 32 raw bytes

    @classmethod
    def parse(cls, vkey: str) -> "Verifier":
        try:
            name, hint, b64 = vkey.strip().split("+", 2)  # base64 may hold "+"; a name may not
            blob = base64.b64decode(b64, validate=True)
        except ValueError:
            raise NoteError("the verifier key is not NAME+HEX+BASE64") from None
        if len(blob) != 33 or blob[0] != ED25519:
            raise NoteError("the verifier key is not an Ed25519 key")
        if key_id(name, blob[1:]).hex() != hint:
            raise NoteError("the verifier key's hash does not match its key")
        return cls(name, blob[1:])

    def __str__(self) -> str:
        return verifier_key(self.name, self.public)


def sign_note(text: str, name: str, key: Ed25519PrivateKey) -> str:
    """`text` (ending in a newline) signed by `key` under `name`: the signed note."""
    if not text.endswith("\n"):
        raise NoteError("a note's text ends with a newline")
    sig = key.sign(text.encode())
    line = base64.b64encode(key_id(name, raw_public(key.public_key())) + sig).decode()
    return f"{text}\n{DASH} {name} {line}\n"


def open_note(note: str, verifier: Verifier) -> str:
    """The text of a signed note whose signature by `verifier` verifies; NoteError otherwise."""
    text, sep, sigs = note.rpartition("\n\n")
    if not sep:
        raise NoteError("the note has no signature block")
    text += "\n"
    want = key_id(verifier.name, verifier.public)
    for line in sigs.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH:
            raise NoteError(f"malformed signature line {line!r}")
        if parts[1] != verifier.name:
            continue
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except ValueError:
            raise NoteError("a signature is not base64") from None
        if blob[:4] != want:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(verifier.public).verify(blob[4:], text.encode())
        except InvalidSignature:
            raise NoteError(f"the signature of {verifier.name} does not verify") from None
        return text
    raise NoteError(f"the note is not signed by {verifier.name}")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> "Checkpoint":
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint is three lines: origin, size, root")
        origin, size, root = lines[0], lines[1], lines[2]
        if not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError(f"checkpoint size {size!r} is not a decimal number")
        try:
            digest = base64.b64decode(root, validate=True)
        except ValueError:
            raise NoteError("the checkpoint's root is not base64") from None
        if len(digest) != 32:
            raise NoteError("the checkpoint's root is not a SHA-256 hash")
        return cls(origin, int(size), digest)


def sign_checkpoint(cp: Checkpoint, key: Ed25519PrivateKey) -> str:
    return sign_note(cp.text(), cp.origin, key)


def open_checkpoint(note: str, verifier: Verifier) -> Checkpoint:
    """A signed checkpoint, verified by the log's key and its origin checked."""
    cp = Checkpoint.parse(open_note(note, verifier))
    if cp.origin != verifier.name:
        raise NoteError(f"the checkpoint is for {cp.origin}, not {verifier.name}")
    return cp
