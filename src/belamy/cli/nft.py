"""`belamy nft export` and `belamy certificate`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
nft_app = typer.Typer(help="NFT export: token metadata (ERC-721, ERC-7007, ERC-2981) and a CAR to pin on IPFS.",
                      no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(nft_app, name="nft")
    app.command("certificate")(certificate_cmd)


@nft_app.command("export")
def export_cmd(
    artwork: Path = typer.Argument(..., help="An artwork finished by belamy."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder for metadata.json, NAME.car and cids.json."),
    royalty: Optional[float] = typer.Option(None, "--royalty", help="ERC-2981 royalty in percent, 0-100 (default 5 with --receiver)."),
    receiver: Optional[str] = typer.Option(None, "--receiver", help="The royalty's receiver: an 0x address (40 hex digits)."),
    name: Optional[str] = typer.Option(None, "--name", help="The token's name (default: the artwork's title)."),
    description: Optional[str] = typer.Option(None, "--description", help="The token's description (default: one line from the record)."),
    external_url: Optional[str] = typer.Option(None, "--external-url", help="A web page for the work."),
    force: bool = typer.Option(False, "--force", help="Replace an earlier export in the folder."),
) -> None:
    """Write token metadata whose ERC-7007 prompt is the provenance record, and a CAR of it and the artwork."""
    from belamy.api.nft import NftOptions, export

    res = export(artwork, out, NftOptions(name=name, description=description, external_url=external_url,
                                          royalty=royalty, receiver=receiver, force=force))
    console.print(f"image     ipfs://{res.image_cid}")
    console.print(f"metadata  ipfs://{res.metadata_cid}  (the tokenURI)")
    console.print(f"wrote {escape(str(res.metadata))}, {escape(str(res.car))}, {escape(str(res.cids))}")
    console.print(f"pin it: ipfs dag import {escape(str(res.car))}  (or upload the CAR to a pinning service)")


def certificate_cmd(
    artwork: Path = typer.Argument(..., help="An artwork finished by belamy."),
    out: Path = typer.Option(..., "-o", "--out", help="The certificate, an .html file (print it, or save it as PDF)."),
    ledger: Optional[Path] = typer.Option(None, "--ledger", help="A ledger folder: the owners, with inclusion proofs."),
    link: Optional[str] = typer.Option(None, "--link", help="The verification URL the QR code holds (default: the record's sha256 as a URN)."),
) -> None:
    """A printable certificate of authenticity: the work, its record, fingerprints, owners and proofs, one HTML file."""
    from belamy.api.certificate import certificate

    path = certificate(artwork, out, ledger, link)
    console.print(f"wrote {escape(str(path))}: open it in a browser and print (A4 or Letter)")
