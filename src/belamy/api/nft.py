"""`belamy nft export`: a finished artwork as files ready to pin on IPFS and mint as an NFT.

    DIR/metadata.json   the token's metadata (ERC-721 + ERC-7007 + ERC-2981, see `ledger.nft`)
    DIR/NAME.car        a CARv1 of the artwork's blocks and metadata.json's, roots [metadata, image]
    DIR/cids.json       {image: {cid, file, sha256}, metadata: {cid, file}, car, record_sha256, kubo}

The CIDs are the ones `ipfs add --cid-version=1` gives (`ledger.cid`), so importing the CAR
(`ipfs dag import NAME.car`, or a pinning service's CAR upload) serves exactly the `ipfs://`
links the metadata holds; a contract's tokenURI is then "ipfs://<metadata CID>".
Only an artwork whose pixels are the ones its record names is exported.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from belamy.api.finish import artwork_record
from belamy.core import atomic
from belamy.core.atomic import sha256_file
from belamy.core.errors import BelamyError
from belamy.ledger.car import write_car
from belamy.ledger.cid import KUBO_COMPAT, blocks, file_cid
from belamy.ledger.nft import Royalty, check_uri, royalty, token_metadata
from belamy.provenance.record import canonical, pixels_sha256, record_sha256
from belamy.provenance.verify import decode

__all__ = ["NftOptions", "NftExport", "export", "metadata_bytes"]

METADATA, CIDS = "metadata.json", "cids.json"
DEFAULT_ROYALTY = 5.0  # percent, when a receiver is given without --royalty


@dataclass
class NftOptions:
    name: str | None = None  # default: the record's title
    description: str | None = None  # default: one line from the record
    external_url: str | None = None
    royalty: float | None = None  # percent; needs `receiver` (default DEFAULT_ROYALTY when one is given)
    receiver: str | None = None  # 0x address the ERC-2981 royalty goes to
    force: bool = False  # replace an earlier export in the folder


@dataclass
class NftExport:
    out: Path
    metadata: Path
    car: Path
    cids: Path
    image_cid: str
    metadata_cid: str
    token: dict[str, Any]


def metadata_bytes(token: dict[str, Any]) -> bytes:
    """metadata.json's exact bytes (its CID is taken over these)."""
    return (json.dumps(token, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _royalty(opts: NftOptions) -> Royalty | None:
    if opts.receiver is None:
        if opts.royalty is not None:
            raise BelamyError("a royalty needs its receiver: add --receiver 0xADDRESS")
        return None
    return royalty(DEFAULT_ROYALTY if opts.royalty is None else opts.royalty, opts.receiver)


def check_pixels(artwork: Path, record: dict[str, Any]) -> str:
    """The artwork's pixel hash, refused (one line) unless it is the one its record names."""
    arr, _, _ = decode(artwork)
    actual = pixels_sha256(arr)
    if actual != record.get("artwork", {}).get("pixels_sha256"):
        raise BelamyError(f"the pixels of {artwork} are not the ones its provenance record names: it was changed "
                          "after finishing (`belamy verify` says more)")
    return actual


def export(artwork: str | Path, out: str | Path, opts: NftOptions | None = None) -> NftExport:
    """Write the NFT export of `artwork` (a file finished by belamy) into the folder `out`."""
    opts = opts or NftOptions()
    artwork, out = Path(artwork), Path(out)
    roy = _royalty(opts)
    if opts.external_url:
        check_uri(opts.external_url, "external URL")
    if artwork.suffix == ".json":
        raise BelamyError(f"{artwork} is a record: give the artwork file itself (its bytes go to IPFS)")
    car = out / f"{artwork.stem}.car"
    existing = [p.name for p in (out / METADATA, car, out / CIDS) if p.exists()]
    if existing and not opts.force:
        raise BelamyError(f"{out} already holds {', '.join(existing)}: choose another folder, or --force to replace")
    record = artwork_record(artwork)
    check_pixels(artwork, record)
    digest = record_sha256(record)
    image_cid = file_cid(artwork)
    token = token_metadata(record, canonical(record).decode("utf-8"), digest, image_cid, name=opts.name,
                           description=opts.description, external_url=opts.external_url, royalty_info=roy)
    data = metadata_bytes(token)
    metadata_cid = file_cid(data)
    try:
        write_car(car, [metadata_cid, image_cid], itertools.chain(blocks(data), blocks(artwork)))
    except ValueError as exc:  # the file changed between its CID and its blocks
        raise BelamyError(f"{artwork} changed while it was exported ({exc}): export it again") from None
    atomic.write_bytes(out / METADATA, data)
    atomic.write_json(out / CIDS, {
        "image": {"cid": image_cid, "file": artwork.name, "sha256": sha256_file(artwork)},
        "metadata": {"cid": metadata_cid, "file": METADATA},
        "car": car.name,
        "record_sha256": digest,
        "kubo": KUBO_COMPAT,
    })
    return NftExport(out, out / METADATA, car, out / CIDS, image_cid, metadata_cid, token)
