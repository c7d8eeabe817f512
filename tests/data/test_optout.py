"""Creators' opt-outs when collecting: TDMRep (tdmrep.json, headers, meta tags, XMP), ai.txt,
plus:DataMining and C2PA training-mining, against local HTTP servers; and `--include-opted-out`
carried into the manifest, collection.json, the model card and the provenance record."""

from __future__ import annotations

import http.server
import json
import threading
from collections import Counter
from pathlib import Path

import pytest

import belamy
from belamy.data import optout
from belamy.data.credits import license_from_url
from conftest import encode, pattern
from embedded_images import c2pa_signed_png, jpeg_app1_xmp, png_with_xmp, xmp_packet


# -- the parsers -------------------------------------------------------------------------------
def test_tdmrep_location_patterns_first_matching_rule_wins():
    rules = optout.parse_tdmrep(json.dumps([
        {"location": "/art/public/*", "tdm-reservation": 0},
        {"location": "/art/", "tdm-reservation": 1, "tdm-policy": "https://x.example/policy.json"},
        {"location": "/*.gif$", "tdm-reservation": "1"},
        {"location": "/bad", "tdm-reservation": 2},  # a protocol error: not a rule
        {"tdm-reservation": 0},  # no location: the whole origin
    ]))
    assert [r.location for r in rules] == ["/art/public/*", "/art/", "/*.gif$", "/"]

    def rule(path):
        found = optout.tdmrep_rule(rules, "https://x.example" + path)
        return found and optout.rule_signal(found)

    assert rule("/art/public/a.png") == {"reservation": 0, "source": "tdmrep.json", "rule": "/art/public/*"}
    assert rule("/art/a.png") == {"reservation": 1, "source": "tdmrep.json", "rule": "/art/",
                                  "policy": "https://x.example/policy.json"}
    assert rule("/%61rt/a.png")["reservation"] == 1  # %61 is "a": unreserved characters are compared decoded
    assert rule("/ART/a.png")["rule"] == "/"  # case-sensitive
    assert rule("/x/y.gif")["reservation"] == 1 and rule("/x/y.gif?v=2")["rule"] == "/"  # "$" ends the path
    assert rule("/bad/z.png")["rule"] == "/"
    one = optout.parse_tdmrep('{"tdm-reservation": 1}')  # one rule written as an object
    assert optout.rule_signal(optout.tdmrep_rule(one, "https://x.example/any"))["reservation"] == 1
    with pytest.raises(ValueError):
        optout.parse_tdmrep('"no"')


def test_tdm_headers_and_meta_tags():
    assert optout.header_signal({"tdm-reservation": "1", "tdm-policy": "https://p.example/"}) == {
        "reservation": 1, "source": "header", "policy": "https://p.example/"}
    assert optout.header_signal({"tdm-reservation": " 0 "}) == {"reservation": 0, "source": "header"}
    assert optout.header_signal({"tdm-reservation": "2"}) is None  # protocol error: unset
    assert optout.header_signal({}) is None
    page = (b'<!doctype html><html><head><META NAME="TDM-Reservation" content="1">'
            b'<meta name="tdm-policy" content="https://p.example/policy"></head><body></body></html>')
    assert optout.meta_signal(page) == {"reservation": 1, "source": "meta", "policy": "https://p.example/policy"}
    assert optout.meta_signal(b"<html><head><meta name=robots content=noai></head></html>") is None
    assert optout.is_html("", b"  <!DOCTYPE html><p>") and not optout.is_html("image/png", b"\x89PNG")


def test_ai_txt_groups_and_longest_match():
    spawning = ("# Spawning AI\n# Prevent datasets from using the following file types\n\nUser-Agent: *\n"
                "Disallow: *.jpg\nDisallow: *.png  # images\nDisallow: *.txt\n")
    rules = optout.parse_ai_txt(spawning)
    assert optout.ai_txt_signal(rules, "https://a.example/x/photo.JPG") == {"allowed": True}  # case matters
    assert optout.ai_txt_signal(rules, "https://a.example/x/photo.jpg") == {"allowed": False,
                                                                            "rule": "Disallow: *.jpg"}
    ours = optout.parse_ai_txt("User-Agent: *\nDisallow: /\n\nUser-Agent: Belamy\nDisallow: /noai/\n"
                               "Allow: /noai/ok/\nAllow: /tie/\nDisallow: /tie/\n")
    assert optout.ai_txt_signal(ours, "https://a.example/free.png") == {"allowed": True}  # the * group is not ours
    assert optout.ai_txt_signal(ours, "https://a.example/noai/a.png")["allowed"] is False
    assert optout.ai_txt_signal(ours, "https://a.example/noai/ok/a.png") == {"allowed": True,
                                                                             "rule": "Allow: /noai/ok/"}
    assert optout.ai_txt_signal(ours, "https://a.example/tie/a.png")["allowed"] is True  # Allow wins a tie
    assert optout.parse_ai_txt("User-Agent: *\nDisallow:\n") == []  # an empty Disallow allows everything


def test_decide_names_the_first_signal():
    assert optout.decide({}) is None
    assert optout.decide({"tdm": {"reservation": 0, "source": "header"}, "ai_txt": {"allowed": True},
                          "data_mining": "DMI-ALLOWED", "training_mining": {"c2pa.ai_inference": "notAllowed"}}) is None
    assert optout.decide({"tdm": {"reservation": 1, "source": "header"}, "data_mining": "DMI-PROHIBITED"}) == (
        "tdm-reservation", "1 in HTTP header")
    assert optout.decide({"ai_txt": {"allowed": False, "rule": "Disallow: /"}}) == ("ai.txt", "Disallow: /")
    for key in ("DMI-PROHIBITED", "DMI-PROHIBITED-AIMLTRAINING", "DMI-PROHIBITED-GENAIMLTRAINING",
                "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING", "DMI-PROHIBITED-SEECONSTRAINT"):
        assert optout.decide({"data_mining": key}) == ("plus:DataMining", key)
    assert optout.decide({"data_mining": "DMI-UNSPECIFIED"}) is None
    assert optout.decide({"training_mining": {"cawg.ai_generative_training": "notAllowed"}}) == (
        "c2pa.training-mining", "cawg.ai_generative_training: notAllowed")
    assert optout.decide({"training_mining": {"c2pa.ai_training": "constrained"}}) is None


def test_creative_commons_urls_become_spdx_ids():
    assert license_from_url("https://creativecommons.org/licenses/by/4.0/") == "CC-BY-4.0"
    assert license_from_url("http://creativecommons.org/licenses/by-nc-sa/3.0/de/deed.fr") == "CC-BY-NC-SA-3.0-DE"
    assert license_from_url("https://creativecommons.org/publicdomain/zero/1.0/legalcode") == "CC0-1.0"
    assert license_from_url("https://creativecommons.org/licenses/by/2.0/zz/") is None  # no such SPDX id
    assert license_from_url("https://example.org/terms") is None


# -- collecting from web origins --------------------------------------------------------------
class _Site(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[bytes, dict[str, str]]] = {}
    hits: Counter

    def do_GET(self):  # noqa: N802
        self.hits[self.path] += 1
        route = self.routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        body, headers = route
        self.send_response(200)
        for k, v in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client stopped after the headers
            pass

    def log_message(self, *args):
        pass


def _serve(routes: dict[str, tuple[bytes, dict[str, str]]]):
    handler = type("Site", (_Site,), {"routes": routes, "hits": Counter()})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, handler, f"http://127.0.0.1:{httpd.server_address[1]}"


PNG, JPEG, HTML = {"Content-Type": "image/png"}, {"Content-Type": "image/jpeg"}, {"Content-Type": "text/html"}


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """Two origins: `site` has a tdmrep.json and an ai.txt; `plain` has neither, and opts out by
    headers, meta tags and what the images carry."""
    keys = tmp_path_factory.mktemp("c2pa-keys") / "keys"
    site_routes = {
        "/.well-known/tdmrep.json": (json.dumps([
            {"location": "/art/public/*", "tdm-reservation": 0},
            {"location": "/art/", "tdm-reservation": 1, "tdm-policy": "https://site.example/tdm-policy.json"},
            {"location": "/", "tdm-reservation": 0},
        ]).encode(), {"Content-Type": "application/json"}),
        "/ai.txt": (b"# Spawning AI\nUser-Agent: *\nDisallow: /\n\nUser-Agent: belamy\nDisallow: *.gif\n"
                    b"Disallow: /noai/\nAllow: /noai/ok/\n", {"Content-Type": "text/plain"}),
        "/art/reserved.png": (encode(pattern(101), "PNG"), PNG),
        "/art/public/open.png": (encode(pattern(102), "PNG"), PNG),
        "/free/header-ignored.png": (encode(pattern(103), "PNG"), {**PNG, "tdm-reservation": "1"}),
        "/free/anim.gif": (encode(pattern(104).convert("P"), "GIF"), {"Content-Type": "image/gif"}),
        "/noai/a.png": (encode(pattern(105), "PNG"), PNG),
        "/noai/ok/b.png": (encode(pattern(106), "PNG"), PNG),
    }
    plain_routes = {
        "/h1.png": (encode(pattern(111), "PNG"), {**PNG, "TDM-Reservation": "1",
                                                  "TDM-Policy": "https://plain.example/policy"}),
        "/h0.png": (encode(pattern(112), "PNG"), {**PNG, "tdm-reservation": "0"}),
        "/h2.png": (encode(pattern(113), "PNG"), {**PNG, "tdm-reservation": "2"}),
        "/plain.png": (encode(pattern(114), "PNG"), PNG),
        "/page-reserved.html": (b'<!doctype html><html><head><meta name="tdm-reservation" content="1"></head>'
                                b'<body><img src="/plain.png"></body></html>', HTML),
        "/page.html": (b'<html><head><meta name="tdm-reservation" content="0"></head></html>', HTML),
        "/dmi-gen.png": (png_with_xmp(115, xmp_packet(data_mining="DMI-PROHIBITED-GENAIMLTRAINING")), PNG),
        "/dmi-allowed.jpg": (jpeg_app1_xmp(116, xmp_packet(data_mining="DMI-ALLOWED", mining_as_element=True)),
                             JPEG),
        "/xmp-tdm.png": (png_with_xmp(117, xmp_packet(tdm_reservation="1")), PNG),
        "/c2pa-no.png": (c2pa_signed_png(118, keys, {"c2pa.ai_training": "notAllowed",
                                                     "c2pa.ai_generative_training": "notAllowed",
                                                     "c2pa.data_mining": "allowed"}), PNG),
        "/c2pa-yes.png": (c2pa_signed_png(119, keys, {"c2pa.ai_training": "allowed",
                                                      "c2pa.ai_generative_training": "allowed"}), PNG),
    }
    servers = [_serve(site_routes), _serve(plain_routes)]
    yield {"site": servers[0][2], "plain": servers[1][2], "site_hits": servers[0][1].hits,
           "plain_hits": servers[1][1].hits}
    for httpd, _, _ in servers:
        httpd.shutdown()
        httpd.server_close()


def _url_list(tmp_path: Path, web) -> Path:
    s, p = web["site"], web["plain"]
    paths = [f"{s}/art/reserved.png", f"{s}/art/public/open.png", f"{s}/free/header-ignored.png",
             f"{s}/free/anim.gif", f"{s}/noai/a.png", f"{s}/noai/ok/b.png",
             f"{p}/h1.png", f"{p}/h0.png", f"{p}/h2.png", f"{p}/plain.png", f"{p}/page-reserved.html",
             f"{p}/page.html", f"{p}/dmi-gen.png", f"{p}/dmi-allowed.jpg", f"{p}/xmp-tdm.png",
             f"{p}/c2pa-no.png", f"{p}/c2pa-yes.png"]
    out = tmp_path / "urls.txt"
    out.write_text("\n".join(paths) + "\n")
    return out


def _name(url: str) -> str:
    return url.split("/", 3)[-1]


def test_opted_out_urls_are_skipped_with_their_signal(web, tmp_path: Path):
    web["site_hits"].clear()
    web["plain_hits"].clear()
    coll = belamy.collect([str(_url_list(tmp_path, web))], tmp_path / "coll", size=32, workers=1,
                          near_threshold=-1, url_retries=0)
    rep = coll.report
    out = {_name(o["source"]): (o["signal"], o["detail"], o["included"]) for o in rep.opted_out}
    assert out == {
        "art/reserved.png": ("tdm-reservation", "1 in tdmrep.json rule '/art/'; policy "
                                                "https://site.example/tdm-policy.json", False),
        "free/anim.gif": ("ai.txt", "Disallow: *.gif", False),
        "noai/a.png": ("ai.txt", "Disallow: /noai/", False),
        "h1.png": ("tdm-reservation", "1 in HTTP header; policy https://plain.example/policy", False),
        "page-reserved.html": ("tdm-reservation", "1 in HTML meta tag", False),
        "dmi-gen.png": ("plus:DataMining", "DMI-PROHIBITED-GENAIMLTRAINING", False),
        "xmp-tdm.png": ("tdm-reservation", "1 in the image's XMP", False),
        "c2pa-no.png": ("c2pa.training-mining", "c2pa.ai_generative_training: notAllowed", False),
    }
    rows = {_name(r["source"]): r for r in coll.manifest}
    assert sorted(rows) == ["art/public/open.png", "c2pa-yes.png", "dmi-allowed.jpg", "free/header-ignored.png",
                            "h0.png", "h2.png", "noai/ok/b.png", "plain.png"]
    assert not any("opt_out" in r for r in coll.manifest)
    # what was found is recorded even where nothing opted out
    assert rows["art/public/open.png"]["tdm"] == {"reservation": 0, "source": "tdmrep.json", "rule": "/art/public/*"}
    assert rows["free/header-ignored.png"]["tdm"] == {"reservation": 0, "source": "tdmrep.json", "rule": "/"}
    assert rows["noai/ok/b.png"]["ai_txt"] == {"allowed": True, "rule": "Allow: /noai/ok/"}
    assert rows["art/public/open.png"]["ai_txt"] == {"allowed": True}
    assert rows["h0.png"]["tdm"] == {"reservation": 0, "source": "header"}
    assert "tdm" not in rows["h2.png"] and "tdm" not in rows["plain.png"] and "ai_txt" not in rows["plain.png"]
    assert rows["dmi-allowed.jpg"]["data_mining"] == "DMI-ALLOWED"
    assert rows["c2pa-yes.png"]["training_mining"] == {"c2pa.ai_generative_training": "allowed",
                                                        "c2pa.ai_training": "allowed"}
    reasons = {_name(s["source"]): s["reason"] for s in rep.skipped}
    assert reasons == {"page.html": "not an image (an HTML page: list the URLs of its images, not the page)"}
    # origin files were fetched once per origin; reserved images were never downloaded
    site, plain = web["site_hits"], web["plain_hits"]
    assert site["/.well-known/tdmrep.json"] == 1 and site["/ai.txt"] == 1
    assert plain["/.well-known/tdmrep.json"] == 1 and plain["/ai.txt"] == 1
    assert site["/art/reserved.png"] == 0 and site["/free/anim.gif"] == 0 and site["/noai/a.png"] == 0
    assert rep.origins[web["site"]] == {"tdmrep.json": "3 rule(s)", "ai.txt": "3 rule(s) for belamy or *"}
    assert rep.origins[web["plain"]]["tdmrep.json"].startswith("none (HTTP 404")
    assert rep.total == 17 and rep.added == 8
    meta = json.loads((coll.path / "collection.json").read_text())
    assert meta["opted_out"] == {"included": 0}
    saved = json.loads((coll.path / rep.report_path.split(str(coll.path) + "/")[-1]).read_text())
    assert len(saved["opted_out"]) == 8 and saved["include_opted_out"] is False


def test_include_opted_out_records_the_decision(web, tmp_path: Path):
    coll = belamy.collect([str(_url_list(tmp_path, web))], tmp_path / "coll", size=32, workers=1,
                          near_threshold=-1, url_retries=0, include_opted_out=True)
    rows = {_name(r["source"]): r for r in coll.manifest}
    assert len(coll) == 15  # all but the two pages
    kept = {n: r["opt_out"] for n, r in rows.items() if "opt_out" in r}
    assert set(kept) == {"art/reserved.png", "free/anim.gif", "noai/a.png", "h1.png", "dmi-gen.png", "xmp-tdm.png",
                         "c2pa-no.png"}
    assert kept["h1.png"] == {"signal": "tdm-reservation", "detail": "1 in HTTP header; policy "
                              "https://plain.example/policy", "included_by": "--include-opted-out"}
    assert rows["h1.png"]["tdm"] == {"reservation": 1, "source": "header", "policy": "https://plain.example/policy"}
    assert rows["noai/a.png"]["ai_txt"] == {"allowed": False, "rule": "Disallow: /noai/"}
    assert rows["c2pa-no.png"]["training_mining"]["c2pa.ai_training"] == "notAllowed"
    meta = json.loads((coll.path / "collection.json").read_text())
    assert meta["opted_out"] == {"included": 7, "included_by": "--include-opted-out",
                                 "signals": {"ai.txt": 2, "c2pa.training-mining": 1, "plus:DataMining": 1,
                                             "tdm-reservation": 3}}
    assert sum(o["included"] for o in coll.report.opted_out) == 7
    assert coll.summary()["opted_out_included"] == 7
    reasons = {_name(s["source"]): s["reason"] for s in coll.report.skipped}
    assert reasons["page-reserved.html"] == "not an image (an HTML page whose meta tags reserve TDM rights)"


def test_include_opted_out_reaches_model_card_and_provenance_record(tmp_path: Path):
    """A collection holding an opted-out image: the model card says so in one line, and every
    provenance record of the run's artworks counts it."""
    from belamy.api.finish import FinishOptions, finish
    from belamy.api.sample import sample
    from belamy.api.train import train
    from belamy.finish.printing import PrintConfig
    from belamy.provenance import keys as keys_mod
    from belamy.training.model_card import _opted_out_lines
    from conftest import tiny_config

    src = tmp_path / "src"
    src.mkdir()
    for i in range(10):
        (src / f"{i}.png").write_bytes(encode(pattern(200 + i), "PNG"))
    (src / "no-ai.png").write_bytes(png_with_xmp(250, xmp_packet(data_mining="DMI-PROHIBITED-AIMLTRAINING")))
    skipped = belamy.collect([str(src)], tmp_path / "honoured", size=32, workers=1, near_threshold=-1)
    assert len(skipped) == 10 and skipped.report.opted_out[0]["signal"] == "plus:DataMining"
    coll = belamy.collect([str(src)], tmp_path / "coll", size=32, workers=1, near_threshold=-1,
                          include_opted_out=True)
    assert len(coll) == 11 and len(coll.opted_out()) == 1
    cfg = tiny_config()
    cfg.steps = 2
    run = train(coll.path, tmp_path / "run", cfg, progress=False)
    card = (run.path / "MODEL_CARD.md").read_text()
    assert ("**Opted-out images included: 1** of 11, against their creators' signals (plus:DataMining 1), "
            "by `--include-opted-out`") in card
    assert _opted_out_lines(skipped) == []  # a collection without any: no line
    renders = sample(run, [3], tmp_path / "renders", originality=False, progress=False)
    keys_mod.init_keys(tmp_path / "keys", "Ada Lovelace")
    res = finish(renders[0], tmp_path / "art", FinishOptions(signature=None, printing=PrintConfig(size="64px"),
                                                           keys=tmp_path / "keys"))
    assert res.record["collection"]["opted_out_included"] == 1
    assert json.loads(res.record_path.read_text())["collection"]["opted_out_included"] == 1
