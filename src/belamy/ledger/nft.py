"""NFT token metadata for a finished artwork: ERC-721 metadata, ERC-7007 AI-generated-content
fields and ERC-2981 royalty information, built from the provenance record as pure data.

The token's JSON is what a contract's `tokenURI(tokenId)` points at (on IPFS). It holds:

- ERC-721 (eips.ethereum.org/EIPS/eip-721, "ERC721 Metadata JSON Schema"): `name`, `description`,
  `image` = "ipfs://<CID of the artwork file>"; plus the widely read marketplace keys
  `external_url` and `attributes` (a list of `{"trait_type", "value"}`, `display_type` "number"
  for numbers), which ERC-721 leaves open.
- ERC-7007, Verifiable AI-Generated Content Token (eips.ethereum.org/EIPS/eip-7007, "ERC-7007
  Metadata JSON Schema"; read in the ethereum/ERCs text, ERCS/erc-7007.md): `prompt` (a string:
  "the prompt from which this AIGC NFT generated"), here the provenance record as its RFC 8785
  canonical JSON text, so sha256(prompt) is the record's sha256 that the ledger and the XMP name;
  `aigc_type` "image"; `aigc_data` (a URI of the image/* resource) = the same ipfs:// URI as
  `image`. ERC-7007's `proof_type` is "validity (zkML) or fraud (opML)": belamy's evidence is
  neither (a C2PA signature, a re-render from the record, an RFC 9162 ledger), so the field is
  left out rather than claim a proof system the token does not have.
- ERC-2981 (eips.ethereum.org/EIPS/eip-2981) is an on-chain interface, `royaltyInfo(tokenId,
  salePrice) -> (receiver, royaltyAmount)`, with no metadata key of its own. `royalty` records what
  a contract should return: `receiver` and `basis_points`, royaltyAmount = salePrice *
  basis_points / 10000 (the denominator OpenZeppelin's ERC2981 uses; ERC-2981 allows rounding
  either way), in the sale's own unit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from belamy.core.errors import BelamyError

BPS = 10_000  # basis points in 100 %
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"]+")
AIGC_TYPE = "image"


@dataclass(frozen=True)
class Royalty:
    """ERC-2981 royalty: what `royaltyInfo(tokenId, salePrice)` returns, as basis points."""

    receiver: str
    basis_points: int

    def amount(self, sale_price: int) -> int:
        """royaltyAmount for `sale_price` (rounded down, as ERC-2981 permits)."""
        return sale_price * self.basis_points // BPS

    def to_json(self) -> dict[str, Any]:
        return {"standard": "ERC-2981", "receiver": self.receiver, "basis_points": self.basis_points,
                "percent": self.basis_points / 100}


def royalty(percent: float, receiver: str) -> Royalty:
    """A royalty of `percent` (0 to 100, in steps of 0.01, one basis point) to `receiver` (0x + 40
    hex digits; an EIP-55 checksum is not required). One line if either is wrong."""
    if not isinstance(percent, (int, float)) or not 0 <= percent <= 100:
        raise BelamyError(f"the royalty must be a percentage from 0 to 100, not {percent}")
    bps = round(percent * 100)
    if abs(bps - percent * 100) > 1e-6:
        raise BelamyError(f"the royalty {percent}% is finer than a basis point (0.01%): round it")
    if not isinstance(receiver, str) or not ADDRESS.fullmatch(receiver):
        raise BelamyError(f"the royalty receiver {receiver!r} is not an Ethereum address (0x and 40 hex digits)")
    return Royalty(receiver, bps)


def check_uri(value: str, what: str) -> str:
    """`value` if it is one URI with a scheme and no spaces or HTML-unsafe characters; one line otherwise."""
    if not URI.fullmatch(value):
        raise BelamyError(f"the {what} {value!r} is not a URI (e.g. https://example.org/work)")
    return value


def attributes(record: dict[str, Any], record_sha256: str) -> list[dict[str, Any]]:
    """Marketplace traits from the record: who made it, with what model and seed, and what it is."""
    art, roles = record.get("artwork", {}), record.get("roles", {})
    render, run, latent = record.get("render", {}), record.get("run", {}), record.get("latent", {})
    source = str(art.get("digital_source_type") or "")
    traits: list[tuple[str, Any]] = [
        ("Artist", roles.get("artist")),
        ("Operator", roles.get("operator")),
        ("Model", render.get("model") or run.get("model")),
        ("Run", run.get("id")),
        ("Training step", run.get("step")),
        ("Seed", latent.get("seed")),
        ("Truncation", render.get("truncation")),
        ("Digital source type", source.rsplit("/", 1)[-1] or None),
        ("Size", f"{art['width']} x {art['height']} px" if art.get("width") and art.get("height") else None),
        ("Data mining", record.get("data_mining")),
        ("Steps", ", ".join(s.get("kind", "?") for s in record.get("steps", [])) or None),
        ("Record SHA-256", record_sha256),
    ]
    out = []
    for name, value in traits:
        if value is None or value == "":
            continue
        item: dict[str, Any] = {"trait_type": name, "value": value}
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            item["display_type"] = "number"
        out.append(item)
    return out


def default_description(record: dict[str, Any], record_sha256: str) -> str:
    art, roles = record.get("artwork", {}), record.get("roles", {})
    model = record.get("render", {}).get("model") or record.get("run", {}).get("model") or "a GAN"
    images = record.get("collection", {}).get("images")
    by = f" by {roles['artist']}" if roles.get("artist") else ""
    learned = f", trained on a collection of {images} images" if images else ""
    return (f"{art.get('title') or 'Untitled'}{by}: made with belamy ({model}{learned}). Its provenance record "
            f"(sha256 {record_sha256}) is this token's ERC-7007 prompt, and is signed into the image file (C2PA).")


def token_metadata(record: dict[str, Any], prompt: str, record_sha256: str, image_cid: str, *,
                   name: str | None = None, description: str | None = None, external_url: str | None = None,
                   royalty_info: Royalty | None = None) -> dict[str, Any]:
    """The token's metadata JSON (as a dict) for the artwork whose record is `record`.

    `prompt` is the record's canonical JSON text and `record_sha256` its sha256 (the caller has the
    canonical encoder); `image_cid` the artwork file's CIDv1.
    """
    if json.loads(prompt) != record:
        raise BelamyError("the ERC-7007 prompt is not the artwork's provenance record")
    uri = f"ipfs://{image_cid}"
    meta: dict[str, Any] = {
        "name": name or record.get("artwork", {}).get("title") or "Untitled",
        "description": description if description is not None else default_description(record, record_sha256),
        "image": uri,
    }
    if external_url:
        meta["external_url"] = check_uri(external_url, "external URL")
    meta["attributes"] = attributes(record, record_sha256)
    meta.update({"prompt": prompt, "aigc_type": AIGC_TYPE, "aigc_data": uri})
    if royalty_info is not None:
        meta["royalty"] = royalty_info.to_json()
    return meta
