"""The studio's walls, each attacked: loopback by default, a token off loopback, no file outside
the served folders and the state folder (traversal, encodings, absolute and Windows paths,
symlinks out), POST-only changes with a CSRF check, the Host check against DNS rebinding, and
unusable files shown as marked tiles rather than error pages."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.studio.conftest import Raw, write_folder, write_render

SECRET = "TOP-SECRET-DO-NOT-SERVE"


@pytest.fixture
def folders(tmp_path):
    """A served folder beside an unserved one holding a secret (a text file and a PNG)."""
    served = tmp_path / "site" / "renders"
    write_folder(served, 6)
    outside = tmp_path / "site" / "private"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    write_render(outside, 777)
    (outside / "seed0777.record.json").write_text(json.dumps({"kind": "sample", "run": SECRET, "seed": 777}))
    return served, outside


def test_binds_loopback_by_default_without_a_token(folders, studio_server):
    srv, raw = studio_server([folders[0]])
    assert srv.sock.getsockname()[0] == "127.0.0.1"
    assert srv.token is None and "token" not in srv.url
    assert raw.get("/")[0] == 200


def test_another_host_gets_a_random_token():
    from belamy.studio.server import is_loopback, token_for

    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.20") and not is_loopback("studio.lan")
    assert token_for("127.0.0.1", None) is None
    one, two = token_for("0.0.0.0", None), token_for("192.168.1.20", None)
    assert one and two and one != two and len(one) >= 32
    assert token_for("0.0.0.0", "given") == "given"


def test_with_a_token_every_request_needs_it(folders, studio_server):
    srv, raw = studio_server([folders[0]], token="s3cret-token")
    tid = srv.studio.library.tiles()[0].id
    for path in ("/", "/static/main.js", "/api/renders", "/api/status", f"/thumb/{tid}", f"/file/{tid}",
                 f"/api/render/{tid}"):
        assert raw.get(path)[0] == 401, path
        assert raw.get(path, Authorization="Bearer wrong")[0] == 401, path
        assert raw.get(path, Authorization="Bearer s3cret-token")[0] == 200, path
        assert raw.get(path, Cookie="belamy_studio_token=s3cret-token")[0] == 200, path
    assert raw.post(f"/api/mark/{tid}", {"rating": 3})[0] == 401  # a CSRF token is not the token
    status, headers, _ = raw.request("GET", "/?token=s3cret-token&x=1")
    assert status == 303 and headers["location"] == "/?x=1"  # the token leaves the address bar...
    assert "belamy_studio_token=s3cret-token" in headers["set-cookie"]  # ...for a strict cookie
    assert "HttpOnly" in headers["set-cookie"] and "SameSite=Strict" in headers["set-cookie"]
    assert raw.request("GET", "/?token=wrong")[0] == 401


TRAVERSALS = [
    "/static/../../private/secret.txt",
    "/static/../../../../../../etc/passwd",
    "/static/..%2f..%2fprivate%2fsecret.txt",
    "/static/%2e%2e/%2e%2e/private/secret.txt",
    "/static/%2E%2E%2F%2E%2E%2Fprivate%2Fsecret.txt",
    "/static/%252e%252e%252f%252e%252e%252fprivate%252fsecret.txt",
    "/static/..%252fsecret.txt",
    "/static/..\\..\\private\\secret.txt",
    "/static/..%5c..%5cprivate%5csecret.txt",
    "/static/C:\\Windows\\win.ini",
    "/static/C:%5cWindows%5cwin.ini",
    "/file/C:\\private\\secret.txt",
    "/file/../../private/secret.txt",
    "/thumb/..%2f..%2fprivate%2fsecret.txt",
    "/api/render/%2e%2e%2fsecret.txt",
    "//etc/passwd",
    "/file//etc/passwd",
    "/file/%2fetc%2fpasswd",
    "/static//etc/passwd",
    "/static/%00secret.txt",
    "/private/secret.txt",
    "/secret.txt",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_traversal_reaches_a_file_outside(folders, studio_server, path):
    _srv, raw = studio_server([folders[0]])
    path = path.replace("..\\..\\private", "..\\..\\private")
    status, body = raw.get(path)
    assert status in (400, 404), (path, status)
    assert SECRET.encode() not in body and b"root:" not in body


def test_absolute_paths_are_not_addresses(folders, studio_server):
    _srv, raw = studio_server([folders[0]])
    secret = folders[1] / "secret.txt"
    for path in (f"/file/{secret}", f"/static/{secret}", f"/thumb/{secret}", f"/api/render/{secret}"):
        status, body = raw.get(path)
        assert status in (400, 404) and SECRET.encode() not in body, path


def test_symlinks_out_are_marked_never_read(folders, studio_server):
    served, outside = folders
    os.symlink(outside / "seed0777.png", served / "link-out.png")
    os.symlink(outside / "secret.txt", served / "secret.png")
    write_render(served, 50)
    (served / "seed0050.record.json").unlink()
    os.symlink(outside / "seed0777.record.json", served / "seed0050.record.json")  # a record link out
    os.symlink(served / "seed0001.png", served / "link-in.png")  # inside: fine
    _srv, raw = studio_server([served])
    tiles = {t["name"]: t for t in raw.json("/api/renders?limit=100")["items"]}
    for name in ("link-out.png", "secret.png"):
        tile = tiles[name]
        assert tile["problem"] == "points outside the served folders" and not tile["viewable"]
        for path in (f"/file/{tile['id']}", f"/thumb/{tile['id']}"):
            status, body = raw.get(path)
            assert status in (404, 422) and SECRET.encode() not in body and body.startswith(b"{"), path
        detail = raw.json(f"/api/render/{tile['id']}")
        assert detail["record"] is None and detail["sha256"] is None
    linked = tiles["seed0050.png"]
    assert "points outside" in linked["problem"] and linked["run"] is None
    detail = raw.json(f"/api/render/{linked['id']}")
    assert detail["record"] is None and SECRET not in json.dumps(detail)
    assert raw.get(f"/file/{linked['id']}")[0] == 200  # the image itself is inside
    assert raw.get(f"/thumb/{tiles['link-in.png']['id']}")[0] == 200
    # a link swapped to point out after the scan is refused when the file is opened
    inside = tiles["seed0002.png"]
    (served / "seed0002.png").unlink()
    os.symlink(outside / "secret.txt", served / "seed0002.png")
    status, body = raw.get(f"/file/{inside['id']}")
    assert status == 404 and SECRET.encode() not in body


def test_host_header_is_checked_against_dns_rebinding(folders, studio_server):
    srv, raw = studio_server([folders[0]])
    port = srv.port
    ok = [f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"]
    bad = ["evil.example:80", f"evil.example:{port}", f"127.0.0.1:{port + 1}", "127.0.0.1", "localhost",
           f"127.0.0.1.evil.example:{port}", ""]
    for host in ok:
        assert raw.request("GET", "/api/status", headers={"Host": host})[0] == 200, host
    for host in bad:
        assert raw.request("GET", "/api/status", headers={"Host": host})[0] == 421, host


def test_the_host_given_is_accepted(folders, studio_server):
    srv, _ = studio_server([folders[0]], host="127.0.0.2")
    raw = Raw("127.0.0.2", srv.port, srv.csrf)
    assert srv.token is None  # 127.0.0.2 is loopback
    assert raw.request("GET", "/", headers={"Host": f"127.0.0.2:{srv.port}"})[0] == 200
    assert raw.request("GET", "/", headers={"Host": f"other:{srv.port}"})[0] == 421


def test_changes_only_by_post_from_the_page(folders, studio_server):
    srv, raw = studio_server([folders[0]])
    tid = srv.studio.library.tiles()[0].id
    status, _, page = raw.request("GET", "/")
    assert f'content="{srv.csrf}"'.encode() in page  # the page carries the token its POSTs send
    assert raw.get(f"/api/mark/{tid}?rating=5")[0] == 405
    for method in ("PUT", "DELETE", "PATCH"):
        assert raw.request(method, f"/api/mark/{tid}", b"{}", {"X-Studio-CSRF": srv.csrf})[0] == 405
    refused = [
        {"X-Studio-CSRF": ""}, {"X-Studio-CSRF": "guess"},
        {"Origin": "http://evil.example"}, {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
    ]
    for headers in refused:
        assert raw.post(f"/api/mark/{tid}", {"rating": 5}, headers)[0] == 403, headers
    # a cross-site form can only send form encodings; even with the token they are refused
    form = raw.request("POST", f"/api/mark/{tid}", b"rating=5",
                       {"Content-Type": "application/x-www-form-urlencoded", "X-Studio-CSRF": srv.csrf})
    assert form[0] == 415
    assert srv.studio.state.marks() == {}
    status, body = raw.post(f"/api/mark/{tid}", {"rating": 5},
                            {"Origin": f"http://127.0.0.1:{srv.port}", "Sec-Fetch-Site": "same-origin"})
    assert status == 200 and body["rating"] == 5
    assert raw.post(f"/api/mark/{tid}", {"rating": 9})[0] == 400
    assert raw.post(f"/api/mark/{tid}", {"owner": "me"})[0] == 400
    assert raw.post("/api/mark/ffffffffffffffff", {"rating": 1})[0] == 404


def test_unusable_files_are_marked_tiles_not_error_pages(tmp_path, studio_server):
    a, b = tmp_path / "a", tmp_path / "b"
    write_folder(a, 3)
    write_render(b, 10)
    write_render(b, 11)
    (a / "undecodable.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    write_render(a, 9, sidecar=False, painted=True, side=64).rename(a / "truncated.png")
    data = (a / "truncated.png").read_bytes()
    (a / "truncated.png").write_bytes(data[:-400])  # its header and record read, its pixels fail
    (a / "seed0001.record.json").write_text('{"kind": "sample", "seed": ')
    (a / "seed0002.record.json").write_text('[1, 2]')
    _srv, raw = studio_server([a, b])
    tiles = {t["name"]: t for t in raw.json("/api/renders?limit=100")["items"]}
    assert tiles["seed0001.png"]["problem"].startswith("broken record")
    assert tiles["seed0002.png"]["problem"].startswith("broken record")
    assert tiles["undecodable.png"]["problem"].startswith("image does not open")
    status, body = raw.get(f"/thumb/{tiles['truncated.png']['id']}")
    assert status == 422 and json.loads(body)["error"].startswith("truncated.png: image does not decode")
    assert raw.json("/api/renders?limit=100")["total"] == 7
    again = {t["name"]: t for t in raw.json("/api/renders?limit=100")["items"]}
    assert again["truncated.png"]["problem"].startswith("image does not decode")
    for name in ("seed0001.png", "undecodable.png", "truncated.png"):
        assert raw.get(f"/api/render/{tiles[name]['id']}")[0] == 200
    # a folder that vanishes while the studio runs
    b_tiles = [t for t in tiles.values() if t["folder"] == 1]
    shutil.rmtree(b)
    items = raw.json("/api/renders?limit=100")["items"]
    gone = [t for t in items if t["folder"] == 1]
    assert len(gone) == 1 and gone[0]["is_folder"] and gone[0]["problem"] == "folder vanished"
    for t in b_tiles:
        for path in (f"/thumb/{t['id']}", f"/file/{t['id']}", f"/api/render/{t['id']}"):
            status, body = raw.get(path)
            assert status == 404 and body.startswith(b"{"), path
    assert raw.get(f"/thumb/{gone[0]['id']}")[0] == 404
    assert raw.post(f"/api/mark/{gone[0]['id']}", {"rating": 3})[0] == 400
    assert raw.json("/api/facets")["count"] == 6


def test_an_unexpected_failure_is_one_json_line(folders, studio_server, monkeypatch):
    srv, raw = studio_server([folders[0]])

    def boom(params):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(srv.studio, "page", boom)
    status, headers, body = raw.request("GET", "/api/renders")
    assert status == 500 and headers["content-type"] == "application/json"
    assert json.loads(body) == {"error": "studio error: RuntimeError: disk on fire"}
    assert raw.get("/api/renders?sort=evil")[0] == 500  # still the patched one
    monkeypatch.undo()
    status, body = raw.get("/api/renders?sort=evil")
    assert status == 400 and b"sort is one of" in body


def test_every_answer_carries_a_strict_csp(folders, studio_server):
    _srv, raw = studio_server([folders[0]])
    for path in ("/", "/api/status", "/nope"):
        _, headers, _ = raw.request("GET", path)
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"


def test_the_nearest_training_image_reads_only_its_row_of_the_runs_collection(tmp_path, studio_server):
    """The route takes a render's id only; a crafted record (an index out of range, a negative or
    non-integer one, an id that differs from the row's, a run whose images.u8 links out) is a 404
    line, never another file's bytes."""
    from PIL import Image

    from tests.studio.conftest import write_run_with_collection

    run = write_run_with_collection(tmp_path / "lib")
    served = tmp_path / "renders"
    good = write_render(served, 3, originality=0.8, run_path=str(run))
    (tmp_path / "secret.txt").write_text(SECRET * 1000)

    def crafted(seed, **nearest):
        png = write_render(served, seed, originality=0.8, run_path=str(run))
        side = png.with_name(png.stem + ".record.json")
        rec = json.loads(side.read_text())
        rec["originality"]["nearest"].update(nearest)
        side.write_text(json.dumps(rec))
        return png

    crafted(10, index=7)
    crafted(11, index=-1)
    crafted(12, index="../../secret.txt")
    crafted(13, index=2, id="not-the-row")
    crafted(14, index=True)
    srv, raw = studio_server([served])
    tiles = {t.name: t.id for t in srv.studio.library.tiles()}
    status, body = raw.get(f"/nearest/{tiles[good.name]}")
    assert status == 200 and body[:4] == b"RIFF"
    import io

    with Image.open(io.BytesIO(body)) as im:
        assert im.size == (32, 32)
    for seed in (10, 11, 12, 13, 14):
        status, body = raw.get(f"/nearest/{tiles[f'seed{seed:04d}.png']}")
        assert status == 404 and SECRET.encode() not in body, (seed, body)
    for path in ("/nearest/../../secret.txt", "/nearest/%2e%2e%2fsecret.txt", "/nearest/0123456789abcdef",
                 f"/nearest/{tiles[good.name]}/../../secret.txt", f"/nearest/{tiles[good.name]}?index=5"):
        status, body = raw.get(path)
        assert SECRET.encode() not in body and (status != 200 or path.endswith("index=5")), (path, status)
    # a collection whose images.u8 is a link out is not read
    images = tmp_path / "lib" / "portraits-collection" / "images.u8"
    images.unlink()
    big = tmp_path / "big.u8"
    big.write_bytes(SECRET.encode() * 2000)
    images.symlink_to(big)
    write_render(served, 4, originality=0.8, run_path=str(run))
    srv.studio.library.scan(force=True)
    tid = next(t.id for t in srv.studio.library.tiles() if t.name == "seed0004.png")
    status, body = raw.get(f"/nearest/{tid}")
    assert status == 404 and b"not inside" in body
