"""The ledger as a user drives it: a finished artwork minted, sold, verified from an export (a
folder and an HTTP server), and every refusal one line."""

from __future__ import annotations

import functools
import http.server
import json
import threading

import pytest

from belamy.api.finish import FinishOptions, finish
from belamy.api.sample import sample
from belamy.finish.printing import PrintConfig
from belamy.provenance import keys as keys_mod
from tests.conftest import resave_with_a_pixel_changed, run_cli

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def gallery(tmp_path_factory, run):
    root = tmp_path_factory.mktemp("ledger")
    keys_mod.init_keys(root / "ada", "Ada Lovelace")
    keys_mod.init_keys(root / "bob", "Bob Buyer")
    renders = sample(run, [3, 4], root / "renders", originality=False, progress=False)
    arts = [finish(r, root / "art", FinishOptions(printing=PrintConfig(size="384px"), keys=root / "ada")).artwork
            for r in renders]
    return root, arts


def cli(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    return run_cli(monkeypatch, capsys, *[str(a) for a in args])


def test_mint_sell_verify_export(gallery, monkeypatch, capsys, tmp_path):
    root, (art, other) = gallery
    led, ada, bob = tmp_path / "ledger", root / "ada", root / "bob"
    code, out, err = cli(monkeypatch, capsys, "ledger", "init", led, "--keys", ada, "--origin", "ada.example/ledger")
    assert code == 0, err
    assert "ada.example/ledger+" in out
    assert cli(monkeypatch, capsys, "ledger", "mint", led, art, "--keys", ada)[0] == 0
    code, out, err = cli(monkeypatch, capsys, "ledger", "mint", led, art, "--keys", ada)
    assert code == 2 and "already on the ledger" in err and len(err.strip().splitlines()) == 1
    code, out, err = cli(monkeypatch, capsys, "ledger", "transfer", led, art, "--to", "Bob Buyer", "--to-key", bob,
                         "--keys", ada, "--price", "1 ETH")
    assert code == 0, err
    code, out, err = cli(monkeypatch, capsys, "ledger", "transfer", led, art, "--to", "Eve", "--to-key", ada,
                         "--keys", ada)  # Ada sold it: her key may not move it again
    assert code == 2 and "refused" in err and "Bob Buyer" in err
    code, out, err = cli(monkeypatch, capsys, "ledger", "transfer", led, art, "--to", "Ada", "--to-key", ada,
                         "--keys", bob, "--log-keys", ada)  # Bob sells it back, the keeper checkpoints it
    assert code == 0, err
    code, out, err = cli(monkeypatch, capsys, "ledger", "show", led, art, "--json")
    entries = json.loads(out)["artwork"]["entries"]
    assert [(e["type"], e["owner"]["name"]) for e in entries] == [("mint", "Ada Lovelace"), ("transfer", "Bob Buyer"),
                                                                   ("transfer", "Ada")]
    code, out, err = cli(monkeypatch, capsys, "ledger", "verify", led)
    assert code == 0 and "verified: 3 entries" in out
    export = tmp_path / "export"
    assert cli(monkeypatch, capsys, "ledger", "export", led, "-o", export)[0] == 0
    published = [json.loads(line) for line in (export / "checkpoints.jsonl").read_text().splitlines()]
    assert [c["size"] for c in published] == [0, 1, 2, 3] and published[-1]["note"] == (export / "checkpoint").read_text()
    code, out, err = cli(monkeypatch, capsys, "verify", art, "--keys", ada, "--ledger", export)
    assert code == 0 and "owner Ada" in out and "3 entries included" in out
    code, out, err = cli(monkeypatch, capsys, "verify", other, "--keys", ada, "--ledger", export)
    assert code == 1 and "not on this ledger" in out

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(export))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        code, out, err = cli(monkeypatch, capsys, "verify", art, "--keys", ada, "--ledger", url, "--json")
        assert code == 0 and json.loads(out)["ledger"]["owner"] == "Ada"
        listing = next((export / "artworks").glob("*.json"))
        data = json.loads(listing.read_text())
        data["entries"][1]["leaf"] = data["entries"][1]["leaf"].replace("Bob Buyer", "Mallory")
        listing.write_text(json.dumps(data))
        code, out, err = cli(monkeypatch, capsys, "verify", art, "--keys", ada, "--ledger", url)
        assert code == 1 and "entry 1: not included" in out
    finally:
        server.shutdown()


def test_a_tampered_artwork_is_not_minted(gallery, monkeypatch, capsys, tmp_path):
    root, (art, _) = gallery
    led = tmp_path / "ledger"
    assert cli(monkeypatch, capsys, "ledger", "init", led, "--keys", root / "ada")[0] == 0
    bad = resave_with_a_pixel_changed(art, tmp_path / art.name)
    code, out, err = cli(monkeypatch, capsys, "ledger", "mint", led, bad, "--keys", root / "ada")
    assert code == 2 and "does not verify" in err
    code, out, err = cli(monkeypatch, capsys, "ledger", "show", tmp_path / "nowhere")
    assert code == 2 and "not a belamy ledger" in err
