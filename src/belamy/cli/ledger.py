"""`belamy ledger init|mint|transfer|show|verify|export`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
ledger_app = typer.Typer(help="The ownership ledger: a signed, append-only Merkle log (RFC 9162) of mints and transfers.",
                         no_args_is_help=True)

KEYS_HELP = "Identity folder (default ~/.config/belamy/keys or $BELAMY_KEYS)."


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")


@ledger_app.command("init")
def init_cmd(
    ledger: Path = typer.Argument(..., help="Folder for the new ledger."),
    keys: Optional[Path] = typer.Option(None, "--keys", help="The keeper's identity: " + KEYS_HELP),
    origin: Optional[str] = typer.Option(None, "--origin", help="The log's name in its checkpoints, e.g. example.org/ledger."),
) -> None:
    """Start an empty ledger kept by your identity."""
    from belamy.api.ledger import init

    led = init(ledger, keys, origin)
    console.print(f"ledger {escape(str(led.path))}: origin {escape(led.origin)}, kept by {escape(led.info['keeper'])}")
    console.print(f"verifier key (publish it): {escape(str(led.verifier))}", soft_wrap=True)  # whole, to copy


@ledger_app.command("mint")
def mint_cmd(
    ledger: Path = typer.Argument(..., help="The ledger folder."),
    artwork: Path = typer.Argument(..., help="An artwork finished by belamy (it must verify)."),
    owner: Optional[str] = typer.Option(None, "--owner", help="First owner's name (default: the record's owner, else you)."),
    owner_key: Optional[str] = typer.Option(None, "--owner-key", help="First owner's ledger key: their identity folder, a file, or the key (default: yours)."),
    keys: Optional[Path] = typer.Option(None, "--keys", help="The keeper's identity: " + KEYS_HELP),
) -> None:
    """Record an artwork's creation: its record hash and pixel hash, bound to its first owner."""
    from belamy.api.ledger import mint

    index, art = mint(ledger, artwork, owner, owner_key, keys)
    console.print(f"minted {escape(str(artwork))} as entry {index} (record {art.record_sha256[:16]}...)")


@ledger_app.command("transfer")
def transfer_cmd(
    ledger: Path = typer.Argument(..., help="The ledger folder."),
    artwork: Path = typer.Argument(..., help="The artwork (or its .provenance.json)."),
    to: str = typer.Option(..., "--to", help="The new owner's name."),
    to_key: str = typer.Option(..., "--to-key", help="The new owner's ledger key: identity folder, file, or the key."),
    keys: Optional[Path] = typer.Option(None, "--keys", help="The current owner's identity (their key signs): " + KEYS_HELP),
    log_keys: Optional[Path] = typer.Option(None, "--log-keys", help="The keeper's identity, for the checkpoint (default: --keys)."),
    price: Optional[str] = typer.Option(None, "--price", help="A price to record, e.g. '4.2 ETH' (optional)."),
) -> None:
    """Transfer an artwork: valid only when signed by its current owner's key."""
    from belamy.api.ledger import transfer

    index, _ = transfer(ledger, artwork, to, to_key, keys, log_keys, price)
    console.print(f"transferred {escape(str(artwork))} to {escape(to)} as entry {index}")


@ledger_app.command("show")
def show_cmd(
    ledger: Path = typer.Argument(..., help="The ledger folder."),
    artwork: Optional[Path] = typer.Argument(None, help="An artwork: its history."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The ledger's size, key and latest checkpoint; with an artwork, its owners in order."""
    from belamy.api.ledger import history

    h = history(ledger, artwork)
    if as_json:
        print(json.dumps(h, indent=2))
        return
    console.print(f"{escape(h['origin'])}: {h['size']} entries, kept by {escape(str(h['keeper']))}")
    console.print(f"verifier key: {escape(h['vkey'])}", soft_wrap=True)
    if "artwork" in h:
        a = h["artwork"]
        console.print(f"{escape(a['title'] or str(artwork))} (record {a['record_sha256'][:16]}...):")
        for e in a["entries"]:
            console.print(f"  {e['index']:>6}  {e['time']}  {e['type']:<8} -> {escape(e['owner']['name'])}"
                          + (f"  ({escape(e['price'])})" if e.get("price") else ""))
        if not a["entries"]:
            console.print("  not on this ledger")


@ledger_app.command("verify")
def verify_cmd(
    ledger: Path = typer.Argument(..., help="The ledger folder."),
    checkpoint: List[Path] = typer.Option([], "--checkpoint", help="A checkpoint file kept from earlier: the ledger must extend it. Repeatable."),
) -> None:
    """Check every entry's signature, every owner chain, the tree against every checkpoint: exit 0 or 1."""
    from belamy.api.ledger import verify

    r = verify(ledger, checkpoint)
    for f in r.findings:
        console.print(f"  FAIL {f.check}: {escape(f.message)}")
    if r.ok:
        console.print(f"verified: {r.size} entries, {r.checkpoints} signed checkpoints, {len(r.owners)} artworks")
    raise typer.Exit(0 if r.ok else 1)


@ledger_app.command("export")
def export_cmd(
    ledger: Path = typer.Argument(..., help="The ledger folder."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder of static files to publish."),
) -> None:
    """Publish the log as static files (entries, checkpoint, proofs): `belamy verify ART --ledger URL` reads them."""
    from belamy.api.ledger import export

    export(ledger, out)
    console.print(f"exported to {escape(str(out))}: serve it from any file host")
