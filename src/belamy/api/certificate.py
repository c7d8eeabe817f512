"""`belamy certificate`: a printable certificate of authenticity, one self-contained HTML page.

The page holds what a buyer or a registrar needs without belamy at hand: the work (a thumbnail
embedded as a data: URI), who made it and from what (the provenance record's summary, the
collection's contributors and licences, the papers and code credited), its fingerprints (file,
pixels, record, IPFS CID) and, from a ledger, its owners in order, each entry with its RFC 9162
inclusion proof against the ledger's latest signed checkpoint, whose note is printed whole: the
proofs can be checked by hand from the page. A QR code (segno, drawn as inline SVG) carries the
verification link. No external resources; every text from the record or the user is escaped.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from string import Template
from typing import Any

import segno
from PIL import Image

from belamy.api.finish import artwork_record
from belamy.api.nft import check_pixels
from belamy.core import atomic
from belamy.core.atomic import sha256_file
from belamy.core.errors import BelamyError
from belamy.core.version import code_version
from belamy.data.image_file import open_image
from belamy.ledger.cid import file_cid
from belamy.ledger.entries import parse_entry
from belamy.ledger.merkle import leaf_hash, verify_inclusion
from belamy.ledger.nft import check_uri
from belamy.ledger.note import NoteError, open_checkpoint
from belamy.ledger.store import Ledger
from belamy.provenance.record import record_sha256

__all__ = ["certificate", "ledger_proofs", "qr_svg", "thumbnail", "LedgerProofs", "ProvedEntry"]

THUMB = 1200  # the embedded picture's longest side, px
MAX_PIXELS = 1_000_000_000  # the largest artwork the thumbnail is made from


@dataclass
class ProvedEntry:
    index: int
    body: dict[str, Any]
    leaf: str  # the leaf's bytes (canonical JSON), as text
    leaf_hash: bytes
    proof: list[bytes]


@dataclass
class LedgerProofs:
    origin: str
    vkey: str
    size: int  # the checkpoint's tree size
    note: str  # the signed checkpoint, C2SP note text
    entries: list[ProvedEntry]


def e(value: Any) -> str:
    """Text for the page: always escaped."""
    return html.escape("" if value is None else str(value), quote=True)


def qr_svg(text: str) -> str:
    """A QR code of `text` (medium error correction, never a Micro QR) as inline SVG, sized by CSS."""
    return segno.make_qr(text, error="m").svg_inline(scale=1, border=4, omitsize=True, dark="#000", light="#fff")


def thumbnail(path: Path, side: int = THUMB) -> tuple[str, tuple[int, int]]:
    """The artwork as a JPEG data: URI of at most `side` px, and its size."""
    im, _ = open_image(path, "artwork", MAX_PIXELS, "a certificate", shrink_to=side)
    if im.mode in ("RGBA", "LA", "P", "PA"):  # transparency goes onto white paper
        rgba = im.convert("RGBA")
        im = Image.new("RGB", im.size, "white")
        im.paste(rgba, mask=rgba.getchannel("A"))
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=90, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii"), im.size


def ledger_proofs(path: str | Path, digest: str) -> LedgerProofs:
    """The artwork's entries in the ledger at `path`, each proved against the latest checkpoint."""
    led = Ledger.open(path)
    try:
        db = led.connect()
        db.execute("BEGIN")  # one read snapshot: the proofs and the checkpoint see the same log
        try:
            row = db.execute("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()
            tree = led.tree(db)
            rows = db.execute("SELECT idx, leaf FROM entries WHERE record_sha256 = ? ORDER BY idx", (digest,)).fetchall()
        finally:
            db.execute("COMMIT")
    finally:
        led.close()
    damaged = f"the ledger {path} is damaged (run `belamy ledger verify {path}`)"
    if row is None:
        raise BelamyError(f"{damaged}: it has no checkpoint")
    try:
        cp = open_checkpoint(row[0], led.verifier)
    except NoteError as exc:
        raise BelamyError(f"{damaged}: {exc}") from None
    if not rows:
        raise BelamyError(f"the artwork is not on the ledger {path}: mint it first (`belamy ledger mint`)")
    entries = []
    for idx, leaf in rows:
        leaf = bytes(leaf)
        lh = leaf_hash(leaf)
        proof = tree.inclusion_proof(idx, cp.size) if idx < cp.size else []
        if idx >= cp.size or not verify_inclusion(lh, idx, cp.size, proof, cp.root):
            raise BelamyError(f"{damaged}: entry {idx} is not in its latest signed checkpoint")
        entries.append(ProvedEntry(idx, parse_entry(leaf).body, leaf.decode("utf-8"), lh, proof))
    return LedgerProofs(cp.origin, str(led.verifier), cp.size, row[0], entries)


def certificate(artwork: str | Path, out: str | Path, ledger: str | Path | None = None,
                link: str | None = None) -> Path:
    """Write the certificate of `artwork` (a file finished by belamy) to `out`, an .html file."""
    artwork, out = Path(artwork), Path(out)
    if link is not None:
        check_uri(link, "verification link")
    if artwork.suffix == ".json":
        raise BelamyError(f"{artwork} is a record: give the artwork file itself (the certificate shows it)")
    record = artwork_record(artwork)
    pixels = check_pixels(artwork, record)
    digest = record_sha256(record)
    proofs = ledger_proofs(ledger, digest) if ledger is not None else None
    picture, thumb_size = thumbnail(artwork)
    prints = {"file": sha256_file(artwork), "pixels": pixels, "record": digest, "cid": file_cid(artwork)}
    page = render(record, artwork.name, picture, thumb_size, prints, proofs, link)
    atomic.write_text(out, page)
    return out


# -- the page ------------------------------------------------------------------------------------

CSS = """
@page { size: auto; margin: 14mm; }  /* A4 or Letter: the sheet fits the narrower (A4) width */
* { box-sizing: border-box; }
body { margin: 0; color: #111; background: #fff; font: 10pt/1.45 Georgia, "Times New Roman", serif; }
.sheet { max-width: 180mm; margin: 0 auto; }
header { text-align: center; border-bottom: 1pt solid #111; padding-bottom: 4mm; }
.kicker { margin: 0; font-size: 9pt; letter-spacing: .25em; text-transform: uppercase; }
h1 { margin: 2mm 0 1mm; font-size: 22pt; font-weight: normal; }
h2 { margin: 6mm 0 2mm; font-size: 12pt; border-bottom: .5pt solid #999; }
h3 { margin: 3mm 0 1mm; font-size: 10pt; }
.by { margin: 0; font-style: italic; }
figure.art { margin: 6mm 0; text-align: center; break-inside: avoid; }
figure.art img { max-width: 100%; max-height: 120mm; }
figcaption, .note, footer { font-size: 8pt; color: #555; }
dl { display: grid; grid-template-columns: 40mm 1fr; gap: 1mm 4mm; margin: 0; }
dt { color: #555; }
dd { margin: 0; }
code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 7.5pt; word-break: break-all; }
pre { white-space: pre-wrap; margin: 1mm 0; }
table { width: 100%; border-collapse: collapse; font-size: 9pt; }
th, td { text-align: left; vertical-align: top; padding: 1mm 2mm 1mm 0; border-bottom: .5pt solid #ccc; }
section { break-inside: avoid; }
.qr-row { display: flex; gap: 6mm; align-items: center; }
.qr svg { width: 36mm; height: 36mm; }
.proof { break-inside: avoid; margin-bottom: 3mm; }
.proofs { break-before: page; }
footer { margin-top: 8mm; border-top: .5pt solid #999; padding-top: 2mm; }
@media screen {
  body { background: #e8e8e8; }
  .sheet { background: #fff; padding: 14mm; margin: 10mm auto; max-width: 208mm; box-shadow: 0 0 3mm #999; }
}
"""

PAGE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="belamy $version">
<title>Certificate of authenticity: $title</title>
<style>$css</style>
</head>
<body>
<main class="sheet">
<header>
<p class="kicker">Certificate of authenticity</p>
<h1>$title</h1>
<p class="by">$by</p>
</header>
<figure class="art"><img src="$picture" alt="$title"><figcaption>$caption</figcaption></figure>
$sections
<footer>Issued $issued by belamy $version. Check this work with <code>belamy verify $file</code>
(signature, record, pixels)$ledger_hint.</footer>
</main>
</body>
</html>
""")


def _dl(rows: list[tuple[str, str | None]]) -> str:
    """A definition list of (label, HTML already escaped) rows; empty values are left out."""
    return "<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{v}</dd>" for k, v in rows if v) + "</dl>"


def _section(cls: str, title: str, body: str) -> str:
    return f'<section class="{cls}">\n<h2>{e(title)}</h2>\n{body}\n</section>'


def _work(record: dict[str, Any], proofs: LedgerProofs | None) -> str:
    art, roles, run = record.get("artwork", {}), record.get("roles", {}), record.get("run", {})
    render, latent = record.get("render", {}), record.get("latent", {})
    current = None
    if proofs is not None:
        last = proofs.entries[-1]
        current = f"{e(last.body['owner']['name'])} (ledger entry {last.index})"
    model = render.get("model") or run.get("model")
    return _section("summary", "The work", _dl([
        ("Title", e(art.get("title"))),
        ("Artist", e(roles.get("artist"))),
        ("Operator", e(roles.get("operator"))),
        ("Owner (at finishing)", e(roles.get("owner"))),
        ("Owner now", current),
        ("Rights", e(record.get("rights"))),
        ("Made", e(record.get("created"))),
        ("Signed by", e(record.get("signer", {}).get("name"))),
        ("Model", e(f"{model}, run {run.get('id')}, step {run.get('step')}" if model else None)),
        ("Seed", e(latent.get("seed"))),
        ("Steps", e(", ".join(s.get("kind", "?") for s in record.get("steps", [])))),
        ("Digital source type", e(art.get("digital_source_type"))),
        ("Data mining", e(record.get("data_mining"))),
    ]))


def _credits(record: dict[str, Any]) -> str:
    coll = record.get("collection", {})
    credits = coll.get("credits") or {}
    rows = "".join(
        f"<tr><td>{e(c.get('name'))}</td><td>{e(_counts(c.get('licenses', {})))}</td><td>{e(c.get('images'))}</td></tr>"
        for c in credits.get("contributors", []))
    table = (f"<table class=\"contributors\"><thead><tr><th>Contributor</th><th>Licences</th><th>Images</th></tr>"
             f"</thead><tbody>{rows}</tbody></table>" if rows else '<p class="note">No contributor is named.</p>')
    facts = _dl([("Images", e(coll.get("images"))),
                 ("Licences", e(_counts(credits.get("licenses", {})))),
                 ("Without full credits", e(credits.get("images_without_full_credits")))])
    algos = "".join(f"<li>{e(a.get('authors'))}, <i>{e(a.get('title'))}</i> ({e(a.get('year'))})</li>"
                    for a in record.get("credits", {}).get("algorithms", []))
    code = "".join(
        f"<li>{e(c.get('name'))}{' ' + e(c['version']) if c.get('version') else ''}: {e(c.get('authors'))}, "
        f"{e(c.get('license'))}, <code>{e(c.get('url'))}</code> ({e(c.get('role'))})</li>"
        for c in record.get("credits", {}).get("code", []))
    return (_section("collection", "The collection it learned from", facts + table) + "\n"
            + _section("credits", "Algorithms and code credited",
                       f"<h3>Algorithms</h3><ul>{algos}</ul><h3>Code</h3><ul>{code}</ul>"))


def _counts(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k} ({v})" for k, v in counts.items())


def _fingerprints(prints: dict[str, str]) -> str:
    return _section("fingerprints", "Fingerprints", _dl([
        ("File SHA-256", f'<code class="file-sha256">{e(prints["file"])}</code>'),
        ("Pixels SHA-256", f'<code class="pixels-sha256">{e(prints["pixels"])}</code>'),
        ("Record SHA-256", f'<code class="record-sha256">{e(prints["record"])}</code>'),
        ("IPFS CID", f'<code class="cid">ipfs://{e(prints["cid"])}</code>'),
    ]) + '<p class="note">The pixels hash is over the decoded samples ("HxWxC:" then the bytes): metadata and the '
         "container do not count. The record hash is over the record's RFC 8785 canonical JSON; the CID is the one "
         "<code>ipfs add --cid-version=1</code> gives the file.</p>")


def _verify(link: str | None, digest: str) -> str:
    text = link or f"urn:sha256:{digest}"
    shown = (f'<a href="{e(text)}">{e(text)}</a>' if text.startswith(("https://", "http://")) else e(text))
    why = ("Scan to open the verification page." if link else
           "This code is not a web address: it holds the record's SHA-256 as a URN, the name under which the "
           "ledger and the image's XMP know this work. Issue the certificate with --link for a verification page.")
    return _section("verify", "Verify", f'<div class="qr-row"><div class="qr">{qr_svg(text)}</div>'
                                         f'<div><p class="link"><code>{shown}</code></p><p class="note">{e(why)}</p>'
                                         "</div></div>")


def _ledger(proofs: LedgerProofs) -> str:
    names: dict[str, str] = {}
    rows = []
    for p in proofs.entries:
        b = p.body
        frm = names.get(b.get("from", ""), "") if b["type"] == "transfer" else ""
        names[b["owner"]["key"]] = b["owner"]["name"]
        event = "minted to" if b["type"] == "mint" else f"transferred{' from ' + frm if frm else ''} to"
        rows.append(f"<tr><td>{p.index}</td><td>{e(b.get('time'))}</td><td>{e(event)}</td>"
                    f'<td class="owner">{e(b["owner"]["name"])}</td><td>{e(b.get("price"))}</td></tr>')
    table = ("<table class=\"owners\"><thead><tr><th>Entry</th><th>Time (UTC)</th><th>Event</th><th>Owner</th>"
             f"<th>Price</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")
    facts = _dl([("Log", f"<code>{e(proofs.origin)}</code>"), ("Verifier key", f"<code>{e(proofs.vkey)}</code>"),
                 ("Signed tree size", e(proofs.size))])
    owners = _section("ledger", "Owners, from the ledger", facts + table)
    items = []
    for p in proofs.entries:
        hashes = "".join(f"<li><code>{base64.b64encode(h).decode()}</code></li>" for h in p.proof)
        items.append(
            f'<div class="proof" data-index="{p.index}" data-size="{proofs.size}" data-leaf-hash="{p.leaf_hash.hex()}">'
            f"<h3>Entry {p.index} in a tree of {proofs.size}</h3>"
            f'<p>Leaf hash (SHA-256 of 0x00 and the leaf): <code>{p.leaf_hash.hex()}</code></p>'
            f'<p>Leaf:</p><pre class="leaf">{e(p.leaf)}</pre>'
            f'<p>Inclusion proof (base64, leaf to root):</p><ol class="hashes">{hashes}</ol></div>')
    how = ("<p class=\"note\">Each entry's leaf hash, combined with its proof hashes as RFC 9162 section 2.1.3.2 "
           "says, gives the root hash in the checkpoint below, whose Ed25519 signature the verifier key checks "
           "(C2SP signed-note).</p>")
    note = f'<h3>Latest signed checkpoint</h3><pre class="checkpoint">{e(proofs.note)}</pre>'
    return owners + "\n" + _section("proofs", "Ledger proofs", how + "".join(items) + note)


def render(record: dict[str, Any], file: str, picture: str, thumb_size: tuple[int, int], prints: dict[str, str],
           proofs: LedgerProofs | None, link: str | None) -> str:
    """The certificate page."""
    art, roles = record.get("artwork", {}), record.get("roles", {})
    title = art.get("title") or "Untitled"
    size = f"{art.get('width')} x {art.get('height')} px"
    printed = art.get("print") or {}
    if printed.get("width_cm"):
        size += f", {printed['width_cm']} x {printed['height_cm']} cm at {printed.get('dpi')} dpi"
    caption = f"{size}. Shown at {thumb_size[0]} x {thumb_size[1]} px; the fingerprints are of the original file."
    sections = [_work(record, proofs), _fingerprints(prints), _verify(link, prints["record"]), _credits(record)]
    if proofs is not None:
        sections.append(_ledger(proofs))
    return PAGE.substitute(
        version=e(code_version()), css=CSS, title=e(title), by=e(f"by {roles['artist']}" if roles.get("artist") else ""),
        picture=picture, caption=e(caption), sections="\n".join(sections),
        issued=e(datetime.now(timezone.utc).isoformat(timespec="seconds")), file=e(file),
        ledger_hint=(", and with <code>belamy verify " + e(file) + " --ledger EXPORT</code> (ownership), from the "
                     "ledger's export" if proofs is not None else ""))
