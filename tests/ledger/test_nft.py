"""NFT export (ERC-721 + ERC-7007 + ERC-2981 metadata, a CAR ready to pin) and the certificate of
authenticity (fingerprints, owners, inclusion proofs that verify from the page alone, a QR code of
the link, every text escaped), on one finished artwork minted and sold on a ledger."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re

import pytest
from PIL import Image

from belamy.api import ledger as ledger_api
from belamy.api.certificate import qr_svg, thumbnail
from belamy.api.finish import FinishOptions, artwork_record, finish
from belamy.api.sample import sample
from belamy.core.errors import BelamyError
from belamy.finish.printing import PrintConfig
from belamy.ledger.car import read_car
from belamy.ledger.cid import blocks, file_cid
from belamy.ledger.merkle import leaf_hash, verify_inclusion
from belamy.ledger.nft import BPS, royalty, token_metadata
from belamy.ledger.note import Verifier, open_checkpoint
from belamy.provenance import keys as keys_mod
from belamy.provenance.record import canonical, record_sha256
from tests.conftest import pattern, resave_with_a_pixel_changed, run_cli

pytestmark = pytest.mark.usefixtures("one_thread")

TITLE = '<script>alert("x")</script> & Co'
OPERATOR = "Op <b>Bold</b>"
ADDRESS = "0x52908400098527886E0F7030069857D2E4169EE7"


@pytest.fixture(scope="module")
def minted(tmp_path_factory, run):
    """Two finished artworks on a ledger: the first minted to Ada and sold to Bob, the second minted."""
    root = tmp_path_factory.mktemp("nft")
    ada, bob = root / "ada", root / "bob"
    keys_mod.init_keys(ada, "Ada Lovelace")
    keys_mod.init_keys(bob, "Bob Buyer")
    renders = sample(run, [3, 4], root / "renders", originality=False, progress=False)
    opts = [FinishOptions(printing=PrintConfig(size="384px"), keys=ada, title=TITLE, operator=OPERATOR),
            FinishOptions(printing=PrintConfig(size="384px"), keys=ada)]
    art, other = (finish(r, root / "art", o).artwork for r, o in zip(renders, opts))
    led = root / "ledger"
    ledger_api.init(led, ada, "ada.example/ledger")
    ledger_api.mint(led, art, keys=ada)
    ledger_api.mint(led, other, keys=ada)
    ledger_api.transfer(led, art, "Bob Buyer", bob, keys=ada, log_keys=ada, price="1 ETH")
    return root, art, led


def cli(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    return run_cli(monkeypatch, capsys, *[str(a) for a in args])


# -- metadata (the stage, pure data) -------------------------------------------------------------

def test_metadata_has_the_erc721_and_erc7007_fields(minted):
    _, art, _ = minted
    record = artwork_record(art)
    prompt, digest, cid = canonical(record).decode(), record_sha256(record), file_cid(art)
    meta = token_metadata(record, prompt, digest, cid, external_url="https://example.org/w",
                          royalty_info=royalty(2.5, ADDRESS.lower()))
    assert meta["name"] == TITLE and digest in meta["description"]
    assert meta["image"] == f"ipfs://{cid}" and meta["external_url"] == "https://example.org/w"
    # ERC-7007: the prompt is the record itself, as a string; sha256(prompt) is the record's hash
    assert isinstance(meta["prompt"], str) and json.loads(meta["prompt"]) == record
    assert hashlib.sha256(meta["prompt"].encode()).hexdigest() == digest
    assert meta["aigc_type"] == "image" and meta["aigc_data"] == meta["image"]
    assert "proof_type" not in meta  # neither zkML (validity) nor opML (fraud): not claimed
    assert meta["royalty"] == {"standard": "ERC-2981", "receiver": ADDRESS.lower(), "basis_points": 250,
                               "percent": 2.5}
    traits = {a["trait_type"]: a for a in meta["attributes"]}
    assert traits["Artist"]["value"] == "Ada Lovelace" and traits["Operator"]["value"] == OPERATOR
    assert traits["Seed"] == {"trait_type": "Seed", "value": 3, "display_type": "number"}
    assert traits["Model"]["value"] == "stylegan2" and traits["Record SHA-256"]["value"] == digest
    assert traits["Digital source type"]["value"] == "trainedAlgorithmicMedia"
    with pytest.raises(BelamyError, match="not the artwork's provenance record"):
        token_metadata(record, prompt.replace("Ada Lovelace", "Eve"), digest, cid)


def test_royalty_is_basis_points_of_the_sale_price():
    r = royalty(5, ADDRESS)
    assert r.basis_points == 500 and BPS == 10_000
    assert r.amount(10**18) == 5 * 10**16 and r.amount(999) == 49  # royaltyInfo(tokenId, salePrice)
    assert royalty(0, ADDRESS).basis_points == 0 and royalty(100, ADDRESS).basis_points == 10_000
    assert royalty(0.01, ADDRESS).basis_points == 1


@pytest.mark.parametrize("percent, receiver, why", [
    (-1, ADDRESS, "from 0 to 100"), (100.5, ADDRESS, "from 0 to 100"), (2.555, ADDRESS, "finer than a basis point"),
    (5, ADDRESS[2:], "not an Ethereum address"), (5, ADDRESS + "0", "not an Ethereum address"),
    (5, "0x" + "g" * 40, "not an Ethereum address"), (5, "0x123", "not an Ethereum address"),
])
def test_bad_royalty_or_receiver_is_refused(percent, receiver, why):
    with pytest.raises(BelamyError, match=why):
        royalty(percent, receiver)


# -- export (the files, through the CLI) -----------------------------------------------------------

def test_export_writes_metadata_and_a_car_that_reads_back(minted, monkeypatch, capsys, tmp_path):
    _, art, _ = minted
    out = tmp_path / "nft"
    code, stdout, err = cli(monkeypatch, capsys, "nft", "export", art, "-o", out, "--royalty", "5", "--receiver",
                            ADDRESS, "--name", "Portrait No. 3", "--description", "<b>bold</b> claims",
                            "--external-url", "https://example.org/w/3")
    assert code == 0, err
    data = (out / "metadata.json").read_bytes()
    meta, cids = json.loads(data), json.loads((out / "cids.json").read_text())
    image_cid = file_cid(art)
    assert meta["name"] == "Portrait No. 3" and meta["description"] == "<b>bold</b> claims"
    assert meta["image"] == meta["aigc_data"] == f"ipfs://{image_cid}"
    assert meta["royalty"]["basis_points"] == 500 and meta["royalty"]["receiver"] == ADDRESS
    assert json.loads(meta["prompt"]) == artwork_record(art)
    assert cids["image"] == {"cid": image_cid, "file": art.name, "sha256": hashlib.sha256(art.read_bytes()).hexdigest()}
    assert cids["metadata"]["cid"] == file_cid(data) and cids["kubo"].startswith("kubo")
    assert f"ipfs://{file_cid(data)}" in stdout

    roots, found = read_car(out / f"{art.stem}.car")  # read_car checks every block against its CID
    assert roots == [cids["metadata"]["cid"], image_cid]
    want = dict(blocks(art)) | dict(blocks(data))
    assert found == want and data in found.values()

    code, _, err = cli(monkeypatch, capsys, "nft", "export", art, "-o", out)
    assert code == 2 and "--force" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli(monkeypatch, capsys, "nft", "export", art, "-o", out, "--force")
    assert code == 0, err
    assert "royalty" not in json.loads((out / "metadata.json").read_text())  # no receiver, no royalty


@pytest.mark.parametrize("args, why", [
    (["--royalty", "101", "--receiver", ADDRESS], "from 0 to 100"),
    (["--royalty", "5", "--receiver", "0xabc"], "not an Ethereum address"),
    (["--royalty", "5"], "needs its receiver"),
    (["--external-url", "not a url"], "not a URI"),
])
def test_export_refuses_bad_options_in_one_line(minted, monkeypatch, capsys, tmp_path, args, why):
    _, art, _ = minted
    code, _, err = cli(monkeypatch, capsys, "nft", "export", art, "-o", tmp_path / "x", *args)
    assert code == 2 and why in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_export_refuses_an_artwork_without_a_record_or_with_other_pixels(minted, monkeypatch, capsys, tmp_path):
    _, art, _ = minted
    plain = tmp_path / "plain.png"
    pattern(1).save(plain)
    code, _, err = cli(monkeypatch, capsys, "nft", "export", plain, "-o", tmp_path / "a")
    assert code == 2 and "no provenance record" in err and len(err.strip().splitlines()) == 1
    changed = resave_with_a_pixel_changed(art, tmp_path / art.name)
    code, _, err = cli(monkeypatch, capsys, "nft", "export", changed, "-o", tmp_path / "b")
    assert code == 2 and "not the ones its provenance record names" in err
    code, _, err = cli(monkeypatch, capsys, "certificate", changed, "-o", tmp_path / "c.html")
    assert code == 2 and "not the ones its provenance record names" in err


# -- certificate --------------------------------------------------------------------------------------

def _one(pattern_: str, page: str) -> str:
    found = re.findall(pattern_, page, flags=re.DOTALL)
    assert len(found) == 1, (pattern_, len(found))
    return found[0]


def test_certificate_proves_owners_fingerprints_and_link(minted, monkeypatch, capsys, tmp_path):
    _, art, led = minted
    link = "https://ada.example/verify?work=3&lang=en"
    out = tmp_path / "cert.html"
    code, _, err = cli(monkeypatch, capsys, "certificate", art, "-o", out, "--ledger", led, "--link", link)
    assert code == 0, err
    page = out.read_text()
    record = artwork_record(art)
    digest = record_sha256(record)

    # fingerprints
    assert _one(r'class="file-sha256">([0-9a-f]{64})<', page) == hashlib.sha256(art.read_bytes()).hexdigest()
    assert _one(r'class="pixels-sha256">([0-9a-f]{64})<', page) == record["artwork"]["pixels_sha256"]
    assert _one(r'class="record-sha256">([0-9a-f]{64})<', page) == digest
    assert _one(r'class="cid">ipfs://(\w+)<', page) == file_cid(art)

    # the owner chain, in order
    owners = re.findall(r'<td class="owner">([^<]*)</td>', page)
    assert owners == ["Ada Lovelace", "Bob Buyer"]
    assert "1 ETH" in page and "transferred from Ada Lovelace to" in page

    # each proof verifies against the checkpoint printed on the page, under the key printed there
    vkey = html.unescape(_one(r"<dt>Verifier key</dt><dd><code>([^<]*)</code>", page))
    cp = open_checkpoint(html.unescape(_one(r'<pre class="checkpoint">(.*?)</pre>', page)), Verifier.parse(vkey))
    assert cp.size == 3
    proofs = re.findall(r'<div class="proof" data-index="(\d+)" data-size="(\d+)" data-leaf-hash="([0-9a-f]+)">'
                        r'.*?<pre class="leaf">(.*?)</pre>.*?<ol class="hashes">(.*?)</ol>', page, flags=re.DOTALL)
    assert [int(p[0]) for p in proofs] == [0, 2]
    for index, size, lh, leaf, hashes in proofs:
        leaf_bytes = html.unescape(leaf).encode()
        assert leaf_hash(leaf_bytes).hex() == lh and int(size) == cp.size
        path = [base64.b64decode(h) for h in re.findall(r"<code>([^<]*)</code>", hashes)]
        assert path, "a tree of 3 gives every leaf a proof"
        assert verify_inclusion(leaf_hash(leaf_bytes), int(index), cp.size, path, cp.root)
        assert not verify_inclusion(leaf_hash(leaf_bytes + b" "), int(index), cp.size, path, cp.root)
        assert json.loads(leaf_bytes)["entry"]["artwork"]["record_sha256"] == digest

    # the QR code is drawn from the link (and would differ for any other text)
    svg = _one(r'<div class="qr">(<svg.*?</svg>)</div>', page)
    assert svg == qr_svg(link) and svg != qr_svg(link + "&x") and svg != qr_svg(f"urn:sha256:{digest}")
    assert f'href="{html.escape(link)}"' in page

    # every user text escaped; nothing fetched from outside
    assert "<script" not in page.lower() and html.escape(TITLE) in page
    assert "<b>" not in page and html.escape(OPERATOR) in page
    assert not re.search(r'(src|href)="(?!data:|https://ada\.example/)', page) and "<link" not in page
    assert "url(" not in page and "@import" not in page
    assert "@page" in page

    # the picture: embedded, the artwork's own size here (384 px <= 1200)
    uri = _one(r'<img src="data:image/jpeg;base64,([^"]+)"', page)
    with Image.open(io.BytesIO(base64.b64decode(uri))) as im:
        assert im.size == (384, 384) and im.format == "JPEG"


def test_certificate_without_link_encodes_the_record_hash(minted, monkeypatch, capsys, tmp_path):
    _, art, _ = minted
    out = tmp_path / "cert.html"
    code, _, err = cli(monkeypatch, capsys, "certificate", art, "-o", out)
    assert code == 0, err
    page = out.read_text()
    urn = f"urn:sha256:{record_sha256(artwork_record(art))}"
    assert _one(r'<div class="qr">(<svg.*?</svg>)</div>', page) == qr_svg(urn)
    assert f"<code>{urn}</code>" in page and "not a web address" in page
    assert 'class="proofs"' not in page

    code, _, err = cli(monkeypatch, capsys, "certificate", art, "-o", out, "--link", "javascript:alert(1) x")
    assert code == 2 and "not a URI" in err
    empty = tmp_path / "empty"
    ledger_api.init(empty, minted[0] / "ada")
    code, _, err = cli(monkeypatch, capsys, "certificate", art, "-o", out, "--ledger", empty)
    assert code == 2 and "not on the ledger" in err and len(err.strip().splitlines()) == 1


def test_thumbnail_is_at_most_1200_px_and_flattens_transparency(tmp_path):
    big = tmp_path / "big.png"
    pattern(2, 2000, 1000).convert("RGBA").save(big)
    uri, size = thumbnail(big)
    assert size == (1200, 600)
    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as im:
        assert im.size == (1200, 600) and im.mode == "RGB"
