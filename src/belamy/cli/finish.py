"""`belamy keys`, `belamy finish`, `belamy verify` and `belamy rerender`."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
keys_app = typer.Typer(help="Your signing identity: a local root CA and a signing certificate.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.command("finish")(finish_cmd)
    app.command("verify")(verify_cmd)
    app.command("rerender")(rerender_cmd)


@keys_app.command("init")
def keys_init_cmd(
    name: str = typer.Option(..., "--name", help="Who signs: your name as artists and buyers should read it."),
    email: Optional[str] = typer.Option(None, "--email", help="An e-mail address for the certificate."),
    keys: Optional[Path] = typer.Option(None, "--keys", help="Folder for the identity (default ~/.config/belamy/keys or $BELAMY_KEYS)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing identity."),
) -> None:
    """Make a local signing identity (root CA + signing certificate, ES256, private keys 0600)."""
    from belamy.provenance.keys import default_keys_dir, init_keys, load_identity

    folder = init_keys(keys or default_keys_dir(), name, email, force=force)
    ident = load_identity(folder)
    console.print(f"signing identity '{escape(ident.name)}' in {folder} (certificate sha256 {ident.fingerprint[:16]}..., "
                  f"valid until {ident.expires:%Y-%m-%d}); share {folder / 'root.pem'} with whoever verifies your works")


@keys_app.command("show")
def keys_show_cmd(keys: Optional[Path] = typer.Option(None, "--keys", help="Identity folder.")) -> None:
    """Show the signing identity."""
    from belamy.provenance.keys import load_identity

    from belamy.ledger.entries import public_b64
    from belamy.provenance.keys import load_ledger_key

    ident = load_identity(keys)
    console.print(f"{escape(ident.name)}: {ident.path}, certificate sha256 {ident.fingerprint}, "
                  f"valid until {ident.expires:%Y-%m-%d}")
    console.print(f"ledger key (give it to whoever transfers an artwork to you): {public_b64(load_ledger_key(keys)[1])}",
                  soft_wrap=True)


def finish_cmd(
    render: Path = typer.Argument(..., help="A PNG render of belamy (with its record)."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder for the artwork, its .c2pa sidecar and .provenance.json."),
    signature: str = typer.Option("formula", "--signature", help="'formula' (the GAN objective) or your own text."),
    no_signature: bool = typer.Option(False, "--no-signature", help="Do not paint a signature."),
    corner: str = typer.Option("auto", "--corner", help="auto (the calmest), bottom-right, bottom-left, top-right, top-left."),
    ink: str = typer.Option("auto", "--ink", help="auto (from the painting's palette, readable) or #rrggbb."),
    signature_height: float = typer.Option(0.03, "--signature-height", help="Signature height, of the shorter side."),
    font: str = typer.Option("auto", "--font", help="auto, a mathtext fontset for the formula, or a font family."),
    size: Optional[str] = typer.Option(None, "--size", help="Print size: 30x30cm, 12in, 300mm, 2048px (default: the render's pixels)."),
    dpi: int = typer.Option(300, "--dpi", help="Print resolution."),
    fmt: str = typer.Option("png", "--format", help="png, tiff or jpeg (sRGB profile embedded in each)."),
    quality: int = typer.Option(95, "--quality", help="JPEG quality."),
    artist: Optional[str] = typer.Option(None, "--artist", help="Who conceived the work (default: the signing identity)."),
    operator: Optional[str] = typer.Option(None, "--operator", help="Who ran belamy."),
    owner: Optional[str] = typer.Option(None, "--owner", help="Who owns the artwork."),
    title: Optional[str] = typer.Option(None, "--title", help="Title (default: the render's name)."),
    rights: Optional[str] = typer.Option(None, "--rights", help="Copyright notice (default: (c) YEAR ARTIST)."),
    data_mining: str = typer.Option("prohibited", "--data-mining", help="prohibited, allowed, no-ai-training, no-genai-training, search-indexing-only or unspecified."),
    keys: Optional[Path] = typer.Option(None, "--keys", help="Signing identity folder (from `belamy keys init`)."),
    force: bool = typer.Option(False, "--force", help="Replace an artwork of the same name in -o."),
    device: Optional[str] = typer.Option(None, "--device", help="Device for the re-render check (default: the render's own)."),
    sr: Optional[Path] = typer.Option(None, "--sr", help="Upscale for print with this super-resolution run (`belamy train-sr`) instead of Lanczos."),
) -> None:
    """Finish a render: signature, print size, provenance record, XMP and a signed C2PA manifest."""
    from belamy.api.finish import FinishOptions, finish
    from belamy.finish.printing import PrintConfig
    from belamy.finish.signature import SignatureConfig

    sig = None if no_signature else SignatureConfig(text=signature, corner=corner, ink=ink, height=signature_height, font=font)  # type: ignore[arg-type]
    opts = FinishOptions(signature=sig, printing=PrintConfig(size=size, dpi=dpi, format=fmt, quality=quality),  # type: ignore[arg-type]
                         artist=artist, operator=operator, owner=owner, title=title, rights=rights,
                         data_mining=data_mining, keys=keys, sr=sr)
    res = finish(render, out, opts, device=device, force=force)
    art = res.record["artwork"]
    check = res.record["steps"][0]["rerender_check"]
    console.print(f"finished {res.artwork} ({art['width']}x{art['height']} px, {art['print']['width_cm']}x"
                  f"{art['print']['height_cm']} cm at {art['print']['dpi']} dpi) in {res.seconds['total']:.1f} s")
    console.print(f"  record {res.record_path.name}, C2PA sidecar {res.sidecar.name}; "
                  + ("the render matches its record" if check.get("same_pixels") else
                     f"the render differs from its record ({check.get('changed_pixels')} pixels: recorded as an edit)"
                     if check.get("checked") else f"not re-rendered: {escape(check.get('why', ''))}"))


def verify_cmd(
    artwork: Path = typer.Argument(..., help="An artwork finished by belamy (PNG, TIFF or JPEG)."),
    trust: List[Path] = typer.Option([], "--trust", help="Another trusted root certificate (PEM); repeatable."),
    keys: Optional[Path] = typer.Option(None, "--keys", help="Identity folder whose root.pem is trusted (default: yours)."),
    as_json: bool = typer.Option(False, "--json", help="Print the verdict as JSON."),
    ledger: Optional[str] = typer.Option(None, "--ledger", help="An exported ledger (folder or URL): check the artwork's owners there too."),
    log_key: Optional[str] = typer.Option(None, "--log-key", help="The ledger's verifier key to trust (default: the one the export names)."),
) -> None:
    """Verify an artwork: exit 0 verified, 1 tampered (what failed is printed), 3 no provenance."""
    import json

    from belamy.api.finish import verify

    v = verify(artwork, trust, keys)
    on_ledger = None
    if ledger is not None and v.record is not None:
        from belamy.api.ledger import check_artwork

        on_ledger = check_artwork(v.record, ledger, log_key)
    code = v.exit_code if on_ledger is None or on_ledger.ok or v.exit_code else 1
    if as_json:
        out = v.to_dict()
        if on_ledger is not None:
            out["ledger"] = {"source": ledger, "ok": on_ledger.ok, "size": on_ledger.size, "owner": on_ledger.owner,
                             "entries": on_ledger.entries, "problems": on_ledger.problems}
            out["exit_code"] = code
        print(json.dumps(out, indent=2))
    elif v.status == "no provenance":
        console.print(f"{escape(str(artwork))}: no provenance (no record, XMP record hash or C2PA manifest)")
    else:
        console.print(f"{escape(str(artwork))}: [bold]{v.status}[/bold]" + (f", signed by {escape(v.signer)}" if v.signer else ""))
        for f in v.findings:
            console.print(f"  FAIL {f.check}: {escape(f.message)}")
        for p in v.passed:
            console.print(f"  ok   {escape(p)}")
        if on_ledger is not None:
            for problem in on_ledger.problems:
                console.print(f"  FAIL ledger: {escape(problem)}")
            if on_ledger.ok:
                console.print(f"  ok   ledger: {len(on_ledger.entries)} entries included in its signed checkpoint of "
                              f"size {on_ledger.size}; owner {escape(str(on_ledger.owner))}"
                              + (" (log key taken from the export: pin it with --log-key)" if on_ledger.key_from_export else ""))
    raise typer.Exit(code)


def rerender_cmd(
    source: Path = typer.Argument(..., help="An artwork, or its .provenance.json."),
    out: Path = typer.Option(..., "-o", "--out", help="PNG to write the re-rendered pixels to."),
    device: Optional[str] = typer.Option(None, "--device", help="Default: the device the render was made on."),
) -> None:
    """Re-render an artwork from its provenance record alone (its run must be present)."""
    from belamy.api.finish import rerender
    from belamy.core.errors import BelamyError

    _, same = rerender(source, out, device=device)
    if not same:
        raise BelamyError(f"re-rendered {out}, but its pixels differ from the record's: the run, the code or the "
                          "machine's arithmetic differs from the one that finished it")
    console.print(f"re-rendered {out}: the same pixels as the record, bit for bit")
