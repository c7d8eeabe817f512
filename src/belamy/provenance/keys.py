"""A local signing identity: a root CA and a signing certificate it issued, kept on disk.

C2PA refuses a self-signed signing certificate, so `belamy keys init` makes two: a root that
only issues certificates, and a leaf that signs artworks (critical key usage digitalSignature,
extended key usage emailProtection, authority and subject key identifiers; ECDSA P-256, ES256).
Manifests are signed without a timestamp authority (nothing outside this machine is reached),
and a C2PA reader calls an untimestamped manifest invalid once its leaf has expired, so the leaf
lives long (25 years by default) and the root longer. Readers that are given `root.pem` as a
trust anchor report the artwork as trusted; `belamy verify` does so with the local root.

    KEYS/root.pem     root certificate (public: give it to whoever verifies your works)
    KEYS/root.key     root private key (0600)
    KEYS/signer.pem   signing certificate followed by the root (the chain C2PA embeds)
    KEYS/signer.key   signing private key (0600)
    KEYS/identity.json  name, email, created, fingerprints, expiry
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from belamy.core import atomic
from belamy.core.errors import BelamyError

LEAF_YEARS = 25
ROOT_YEARS = 50
ALG = "es256"
LEDGER_KEY = "ledger.key"  # Ed25519: the ledger's entries and checkpoints
FILES = ("root.pem", "root.key", "signer.pem", "signer.key", LEDGER_KEY, "identity.json")


def default_keys_dir() -> Path:
    """$BELAMY_KEYS, else $XDG_CONFIG_HOME/belamy/keys, else ~/.config/belamy/keys."""
    if os.environ.get("BELAMY_KEYS"):
        return Path(os.environ["BELAMY_KEYS"])
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "belamy" / "keys"


@dataclass(frozen=True)
class Identity:
    """A loaded signing identity: the chain C2PA embeds, the private key, and the root."""

    path: Path
    name: str
    chain_pem: bytes  # leaf then root
    key_pem: bytes
    root_pem: bytes
    leaf: x509.Certificate

    @property
    def fingerprint(self) -> str:
        return self.leaf.fingerprint(hashes.SHA256()).hex()

    @property
    def expires(self) -> dt.datetime:
        return self.leaf.not_valid_after_utc


def _name(common: str, email: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "belamy local identity")]
    if email:
        attrs.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    return x509.Name(attrs)


def _key_usage(sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=sign, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=not sign, crl_sign=not sign,
                         encipher_only=False, decipher_only=False)


def make_identity(name: str, email: str | None = None, leaf_days: float = LEAF_YEARS * 365.25,
                  now: dt.datetime | None = None) -> dict[str, bytes]:
    """The five files of a new identity, in memory. `leaf_days` may be negative (an expired leaf, for tests)."""
    if not name.strip():
        raise BelamyError("an identity needs a name: belamy keys init --name 'Your Name'")
    now = now or dt.datetime.now(dt.timezone.utc)
    start = now - dt.timedelta(minutes=5)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(f"{name} (belamy root)")
    root = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(now + dt.timedelta(days=ROOT_YEARS * 365.25))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(sign=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    end = now + dt.timedelta(days=leaf_days)
    leaf = (x509.CertificateBuilder().subject_name(_name(name, email)).issuer_name(root_name)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(min(start, end - dt.timedelta(days=1))).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(sign=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))

    def pem(cert: x509.Certificate) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    identity = {"name": name, "email": email, "algorithm": ALG, "created": now.isoformat(timespec="seconds"),
                "signer_expires": end.isoformat(timespec="seconds"),
                "signer_sha256": leaf.fingerprint(hashes.SHA256()).hex(),
                "root_sha256": root.fingerprint(hashes.SHA256()).hex()}
    return {"root.pem": pem(root), "root.key": key_pem(root_key), "signer.pem": pem(leaf) + pem(root),
            "signer.key": key_pem(leaf_key), LEDGER_KEY: _ed25519_pem(),
            "identity.json": (json.dumps(identity, indent=2) + "\n").encode()}


def _ed25519_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption())


def load_ledger_key(keys_dir: Path | None = None) -> tuple[str, Ed25519PrivateKey]:
    """The identity's name and its Ed25519 ledger key (entries and checkpoints are Ed25519-signed). An
    identity made before the ledger existed gets its ledger key now (0600)."""
    keys_dir = Path(keys_dir) if keys_dir else default_keys_dir()
    try:
        name = json.loads((keys_dir / "identity.json").read_text()).get("name", "")
    except FileNotFoundError:
        raise BelamyError(f"no identity in {keys_dir}: make one with `belamy keys init --name 'Your Name'`") from None
    except ValueError:
        raise BelamyError(f"{keys_dir / 'identity.json'} is unreadable: make a new identity with "
                          "`belamy keys init --force`") from None
    path = keys_dir / LEDGER_KEY
    if not path.is_file():
        with atomic.atomic_path(path) as tmp:
            tmp.write_bytes(_ed25519_pem())
            os.chmod(tmp, 0o600)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise BelamyError(f"the ledger key {path} is unreadable ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BelamyError(f"{path} is not an Ed25519 key")
    return name, key


def init_keys(keys_dir: Path, name: str, email: str | None = None, force: bool = False,
              leaf_days: float = LEAF_YEARS * 365.25) -> Path:
    """Write a new identity to `keys_dir` (0700; private keys 0600). Refuses to replace one unless `force`."""
    keys_dir = Path(keys_dir)
    if (keys_dir / "signer.key").exists() and not force:
        raise BelamyError(f"{keys_dir} already holds a signing identity: keep it, or pass --force to replace it "
                          "(works signed with the old one then verify only with its root.pem)")
    files = make_identity(name, email, leaf_days)
    keys_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    # private keys first: a kill between files leaves no signer.pem without its key
    for fname in ("root.key", "signer.key", LEDGER_KEY, "root.pem", "signer.pem", "identity.json"):
        with atomic.atomic_path(keys_dir / fname) as tmp:
            tmp.write_bytes(files[fname])
            os.chmod(tmp, 0o600 if fname.endswith(".key") else 0o644)
    return keys_dir


def load_identity(keys_dir: Path | None = None, now: dt.datetime | None = None) -> Identity:
    """The signing identity in `keys_dir`, refused (one line) when missing, unreadable or expired."""
    keys_dir = Path(keys_dir) if keys_dir else default_keys_dir()
    if not (keys_dir / "signer.key").is_file() or not (keys_dir / "signer.pem").is_file():
        raise BelamyError(f"no signing key in {keys_dir}: make one with `belamy keys init --name 'Your Name'`")
    try:
        chain = (keys_dir / "signer.pem").read_bytes()
        key = (keys_dir / "signer.key").read_bytes()
        root = (keys_dir / "root.pem").read_bytes()
        leaf = x509.load_pem_x509_certificates(chain)[0]
        serialization.load_pem_private_key(key, password=None)
        info = json.loads((keys_dir / "identity.json").read_text())
    except (OSError, ValueError, IndexError, TypeError) as exc:
        raise BelamyError(f"the signing identity in {keys_dir} is unreadable ({exc}): "
                          "make a new one with `belamy keys init --force`") from None
    now = now or dt.datetime.now(dt.timezone.utc)
    if leaf.not_valid_after_utc <= now:
        raise BelamyError(f"the signing certificate in {keys_dir} expired on {leaf.not_valid_after_utc:%Y-%m-%d}: "
                          "make a new identity with `belamy keys init --force` (keep the old root.pem to verify older works)")
    return Identity(keys_dir, info.get("name", ""), chain, key, root, leaf)
