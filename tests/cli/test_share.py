"""`belamy export` / `belamy pull`: a shared run loads like a run, without its collection, without
unpickling, and refuses damaged or newer files in one line; the hub round trip runs against a
local stand-in of the hub's HTTP API (no network here)."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from conftest import encode, pattern, pixels, run_cli, tiny_run

pytestmark = pytest.mark.usefixtures("one_thread")

SHARED_FILES = {"generator.safetensors", "run.json", "config.json", "MODEL_CARD.md", "samples.png", "CREDITS.md",
                "eval/eval-00000002.json"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A tiny run on a credited collection (8 images CC-BY-4.0, 4 CC0-1.0) and its export."""
    import belamy
    from belamy.api import share

    root = tmp_path_factory.mktemp("share")
    src = root / "src-coll"
    src.mkdir()
    rows = ["file,title,author,license"]
    for i in range(12):
        (src / f"{i}.png").write_bytes(encode(pattern(i, 40, 40), "PNG"))
        author, licence = ("Ada Painter", "CC-BY-4.0") if i < 8 else ("Ben Drawer", "CC0-1.0")
        rows.append(f"{i}.png,Study {i},{author},{licence}")
    (root / "credits.csv").write_text("\n".join(rows) + "\n")
    belamy.collect([str(src)], root / "coll", size=32, workers=1, near_threshold=-1, credits=root / "credits.csv")
    run = tiny_run(root)  # trains on root/coll, made above
    shared = share.export(run, root / "shared")
    return {"root": root, "run": run, "shared": shared}


@contextmanager
def collection_away(root: Path):
    """The run's collection moved away for the block (as on another machine)."""
    (root / "coll").rename(root / "coll-away")
    try:
        yield
    finally:
        (root / "coll-away").rename(root / "coll")


def one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("belamy: error: "), err
    for needle in needles:
        assert needle in lines[0], lines[0]


def flat(text: str) -> str:
    """Printed text with rich's line wrapping undone."""
    return " ".join(text.split())


def header(card: str) -> dict:
    assert card.startswith("---\n")
    block = card[4:card.index("\n---\n", 4)]
    try:
        import yaml
    except ImportError:  # the hub extra brings PyYAML; without it read the simple block by hand
        out, key = {}, None
        for line in block.splitlines():
            if line.startswith("- "):
                out[key].append(line[2:].strip('"'))
            else:
                key, _, value = line.partition(": ")
                key = key.rstrip(":")
                out[key] = value.strip('"') if value else []
        return out
    return yaml.safe_load(block)


def test_export_writes_a_run_without_checkpoints(world):
    from belamy.models.run import Run

    done, run = world["shared"], world["run"]
    assert {f.as_posix() for f in done.files} == SHARED_FILES
    r = Run.open(done.folder)
    assert r.shared and r.run_id == run.run_id and not (done.folder / "checkpoints").exists()
    assert r.generator_sha256() == run.generator_sha256()  # the weights, byte for byte
    assert r.config == run.config
    assert r.info["format_version"] == 1 and r.info["exported"]["step"] == run.export_meta["step"]
    with safe_open(str(done.folder / "generator.safetensors"), framework="pt") as fh:
        md = fh.metadata()
    assert md["format_version"] == "1" and json.loads(md["model_config"])["name"] == "stylegan2"
    grid = pixels(done.folder / "samples.png")
    assert grid.shape == (4 * 32 + 5 * 2, 4 * 32 + 5 * 2, 3)  # seeds 0-15, 4 x 4 with 2 px gutters
    credits = (done.folder / "CREDITS.md").read_text()
    assert "Ada Painter" in credits and "Ben Drawer" in credits and "CC0-1.0" in credits


def test_the_card_has_a_hub_header_and_the_runs_card(world):
    card = (world["shared"].folder / "MODEL_CARD.md").read_text()
    meta = header(card)
    assert meta["license"] == "other" and meta["license_link"] == "CREDITS.md"  # two licences: the credits decide
    assert meta["collection_licenses"] == ["CC-BY-4.0", "CC0-1.0"]
    assert meta["library_name"] == "belamy" and meta["pipeline_tag"] == "unconditional-image-generation"
    assert meta["datasets"] == ["coll"] and "stylegan2" in meta["tags"]
    own = (world["run"].path / "MODEL_CARD.md").read_text()
    assert own.strip() in card  # the run's own card, whole
    assert "Budget:" in card and "## Measured quality" in card and "| originality |" in card
    assert "CC-BY-4.0 (8 images), CC0-1.0 (4 images)" in card and "Ada Painter, Ben Drawer" in card
    assert "![seeds 0-15" in card and "(samples.png)" in card


def test_card_licence_from_one_licence_and_not_measured(world, monkeypatch, capsys, tmp_path):
    from belamy.api.share import card_header
    from belamy.models.run import Run

    r = Run.open(world["shared"].folder)
    assert "license: cc-by-4.0\n" in card_header(r, {"licenses": {"CC-BY-4.0": 3}, "collection": "c"})
    assert "license: unknown\n" in card_header(r, {"licenses": {"unknown": 3}, "collection": "c"})
    assert "license: mit\n" in card_header(r, {"licenses": {"CC-BY-4.0": 3}}, license="MIT")
    # a run without an evaluation: its card says so
    bare = tmp_path / "bare"
    shutil.copytree(world["run"].path, bare, ignore=shutil.ignore_patterns("checkpoints", "eval"))
    code, out, err = run_cli(monkeypatch, capsys, "export", str(bare), "-o", str(tmp_path / "out"), "--device", "cpu",
                             "--license", "CC-BY-SA-4.0", "--dataset", "someone/paintings")
    assert code == 0, err
    assert "not measured" in flat(out) and "licence in the card: cc-by-sa-4.0" in flat(out)
    card = (tmp_path / "out" / "MODEL_CARD.md").read_text()
    meta = header(card)
    assert meta["license"] == "cc-by-sa-4.0" and meta["datasets"] == ["someone/paintings"]
    assert "Not measured" in card and not (tmp_path / "out" / "eval").exists()
    # exporting the export again keeps one header and one set of added sections
    code, out, err = run_cli(monkeypatch, capsys, "export", str(tmp_path / "out"), "-o", str(tmp_path / "again"),
                             "--device", "cpu")
    assert code == 0, err
    again = (tmp_path / "again" / "MODEL_CARD.md").read_text()
    assert again.count("\n---\n") == 1 and again.count("## Measured quality") == 1
    assert header(again)["collection_licenses"] == ["CC-BY-4.0", "CC0-1.0"]


def test_export_refuses_to_overwrite_what_is_not_an_export(world, monkeypatch, capsys, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    code, _, err = run_cli(monkeypatch, capsys, "export", str(world["run"].path), "-o", str(tmp_path / "mine"))
    one_line_error(code, err, "is not an earlier shared run")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    # an earlier export is replaced, unless something was made in it since
    code, _, err = run_cli(monkeypatch, capsys, "export", str(world["run"].path), "-o", str(tmp_path / "x"),
                           "--device", "cpu")
    assert code == 0, err
    (tmp_path / "x" / "renders").mkdir()
    (tmp_path / "x" / "renders" / "seed0000.png").write_bytes(b"a render")
    code, _, err = run_cli(monkeypatch, capsys, "export", str(world["run"].path), "-o", str(tmp_path / "x"),
                           "--device", "cpu")
    one_line_error(code, err, "also holds renders/seed0000.png", "would delete")
    assert (tmp_path / "x" / "renders" / "seed0000.png").is_file()
    shutil.rmtree(tmp_path / "x" / "renders")
    code, _, err = run_cli(monkeypatch, capsys, "export", str(world["run"].path), "-o", str(tmp_path / "x"),
                           "--device", "cpu")
    assert code == 0, err
    assert not list(tmp_path.glob(".x.*"))  # no staging or old folder left behind
    code, _, err = run_cli(monkeypatch, capsys, "export", str(world["run"].path), "-o", str(world["run"].path))
    one_line_error(code, err, "export into a new folder")


def test_commands_load_the_export_without_the_collection(world, monkeypatch, capsys, tmp_path):
    shared, root = world["shared"].folder, world["root"]
    with collection_away(root):
        code, out, err = run_cli(monkeypatch, capsys, "sample", str(shared), "-n", "3", "-o", str(tmp_path / "s"),
                                 "--device", "cpu")
        assert code == 0, err
        assert "originality not checked: this shared run (belamy export) comes without its collection" in flat(out)
        record = json.loads((tmp_path / "s" / "seed0001.record.json").read_text())
        assert "skipped" in record["originality"] and record["run_path"] == str(shared.resolve())
        code, out, err = run_cli(monkeypatch, capsys, "series", str(shared), "-n", "3", "--family", "7",
                                 "-o", str(tmp_path / "fam"), "--device", "cpu")
        assert code == 0, err
        assert len(list((tmp_path / "fam").glob("*.record.json"))) == 3
        code, out, err = run_cli(monkeypatch, capsys, "mix", str(shared), "--base", "1", "--coarse", "2",
                                 "-o", str(tmp_path / "mix.png"), "--device", "cpu")
        assert code == 0, err
        assert (tmp_path / "mix.png").is_file()
        code, out, err = run_cli(monkeypatch, capsys, "video", str(shared), "--seeds", "3,17", "--seconds", "0.4",
                                 "--fps", "5", "-o", str(tmp_path / "walk.gif"), "--device", "cpu")
        assert code == 0, err
        assert (tmp_path / "walk.gif").is_file()
        code, out, err = run_cli(monkeypatch, capsys, "project", str(shared), str(tmp_path / "s" / "seed0001.png"),
                                 "--steps", "2", "--no-video", "-o", str(tmp_path / "proj"), "--device", "cpu")
        assert code == 0, err
        assert (tmp_path / "proj" / "latent.safetensors").is_file()
        code, _, err = run_cli(monkeypatch, capsys, "eval", str(shared), "-n", "16", "--device", "cpu")
        one_line_error(code, err, "comes without its collection", "coll")
        code, _, err = run_cli(monkeypatch, capsys, "train", "--resume", str(shared))
        one_line_error(code, err)
    # the same generator renders the same pixels from the run and from its export
    code, _, err = run_cli(monkeypatch, capsys, "sample", str(world["run"].path), "-n", "3", "-o", str(tmp_path / "r"),
                           "--device", "cpu", "--no-originality")
    assert code == 0, err
    assert (pixels(tmp_path / "r" / "seed0002.png") == pixels(tmp_path / "s" / "seed0002.png")).all()


def _tampered(world, tmp_path, change) -> Path:
    out = tmp_path / "tampered"
    shutil.copytree(world["shared"].folder, out)
    f = out / "generator.safetensors"
    with safe_open(str(f), framework="pt") as fh:
        md = fh.metadata()
    tensors = load_file(str(f))
    change(tensors)
    save_file(tensors, str(f), metadata=md)
    return out


def _drop(t):
    del t[sorted(t)[0]]


def _reshape(t):
    k = next(k for k in sorted(t) if t[k].dim() == 4)
    t[k] = t[k].reshape(t[k].shape[0], -1).contiguous()


def _add(t):
    import torch

    t["extra.weight"] = torch.zeros(3)


@pytest.mark.parametrize("change, needle", [(_drop, "1 tensor missing"), (_reshape, "1 mis-shaped"),
                                            (_add, "1 unexpected (e.g. extra.weight)")])
def test_weights_that_do_not_fit_their_config_fail_in_one_line(world, monkeypatch, capsys, tmp_path, change, needle):
    out = _tampered(world, tmp_path, change)
    code, _, err = run_cli(monkeypatch, capsys, "sample", str(out), "-n", "1", "-o", str(tmp_path / "s"),
                           "--device", "cpu", "--no-originality")
    one_line_error(code, err, "does not match its config", needle)


def test_a_newer_format_fails_in_one_line(world, monkeypatch, capsys, tmp_path):
    out = tmp_path / "newer"
    shutil.copytree(world["shared"].folder, out)
    info = json.loads((out / "run.json").read_text())
    (out / "run.json").write_text(json.dumps({**info, "format_version": 2}))
    code, _, err = run_cli(monkeypatch, capsys, "series", str(out), "-n", "2", "--device", "cpu")
    one_line_error(code, err, "run.json was written by a newer belamy (format_version 2", "upgrade belamy")
    (out / "run.json").write_text(json.dumps(info))
    f = out / "generator.safetensors"
    with safe_open(str(f), framework="pt") as fh:
        md = fh.metadata()
    save_file(load_file(str(f)), str(f), metadata={**md, "format_version": "3"})
    code, _, err = run_cli(monkeypatch, capsys, "sample", str(out), "-n", "1", "-o", str(tmp_path / "s"),
                           "--device", "cpu", "--no-originality")
    one_line_error(code, err, "generator file) was written by a newer belamy (format_version 3", "reads up to 1")


def test_loading_a_shared_run_never_unpickles(world, monkeypatch, tmp_path):
    import pickle

    import torch

    from belamy.api.sample import sample
    from belamy.models.run import Run

    def refuse(*a, **k):
        raise AssertionError("something was unpickled")

    for mod, name in ((pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"), (torch, "load")):
        monkeypatch.setattr(mod, name, refuse)
    with collection_away(world["root"]):
        r = Run.open(world["shared"].folder)
        paths = sample(r, [0, 5], tmp_path / "s", device="cpu", progress=False)
    assert len(paths) == 2 and all(p.is_file() for p in paths)


def test_hub_needs_its_extra(world, monkeypatch, capsys, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # as if not installed
    code, _, err = run_cli(monkeypatch, capsys, "pull", "someone/run", "-o", str(tmp_path / "p"))
    one_line_error(code, err, "pip install 'belamy[hub]'")
    code, _, err = run_cli(monkeypatch, capsys, "export", str(world["run"].path), "-o", str(tmp_path / "x"),
                           "--push", "someone/run")
    one_line_error(code, err, "pip install 'belamy[hub]'")
    assert not (tmp_path / "x").exists()  # said before exporting, not after


# -- a stand-in for the hub: just the endpoints huggingface_hub calls for create_repo,
# create_commit (with README validation and preupload) and snapshot_download ---------------------

class StandInHub:
    def __init__(self) -> None:
        self.repos: dict[str, dict] = {}  # repo id -> {"files": {path: bytes}, "sha": commit}
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, authorization)
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                hub.handle(self, "POST")

            def do_GET(self):
                hub.handle(self, "GET")

            def do_HEAD(self):
                hub.handle(self, "HEAD")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def reply(h, status: int, body: bytes | dict | list = b"", headers: dict | None = None, head: bool = False):
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        h.send_response(status)
        if isinstance(body, (dict, list)):
            h.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if not head:
            h.wfile.write(data)

    def handle(self, h, method: str) -> None:
        url = urlparse(h.path)
        path = unquote(url.path)
        self.requests.append((method, path, h.headers.get("authorization")))
        body = h.rfile.read(int(h.headers.get("content-length") or 0)) if method == "POST" else b""
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/api/repos/create":
            req = json.loads(body)
            repo = f"{req['organization']}/{req['name']}" if req.get("organization") else req["name"]
            if repo in self.repos:
                return self.reply(h, 409, {"error": "You already created this model repo", "url": f"{self.url}/{repo}"})
            self.repos[repo] = {"files": {}, "sha": "0" * 40}
            return self.reply(h, 200, {"url": f"{self.url}/{repo}"})
        if method == "POST" and path == "/api/validate-yaml":
            import yaml

            content = json.loads(body)["content"]
            meta = yaml.safe_load(content[4:content.index("\n---\n", 4)])
            ok = isinstance(meta, dict) and isinstance(meta.get("license"), str)
            return self.reply(h, 200 if ok else 400, {"errors": [] if ok else [{"message": "bad metadata"}],
                                                      "warnings": []})
        if parts[:2] == ["api", "models"] and len(parts) >= 5:
            repo, verb = f"{parts[2]}/{parts[3]}", parts[4]
            if repo not in self.repos:
                return self.reply(h, 404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"},
                                  head=method == "HEAD")
            state = self.repos[repo]
            if method == "POST" and verb == "preupload":  # every file inline ("regular"): no LFS/Xet storage here
                files = json.loads(body)["files"]
                return self.reply(h, 200, {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
                                                      "oid": None} for f in files]})
            if method == "POST" and verb == "commit":
                for line in body.splitlines():
                    item = json.loads(line)
                    if item["key"] == "file":
                        state["files"][item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                    elif item["key"] != "header":
                        return self.reply(h, 400, {"error": f"stand-in: {item['key']} not supported"})
                digest = hashlib.sha1(json.dumps(sorted((k, hashlib.sha256(v).hexdigest())
                                                        for k, v in state["files"].items())).encode())
                state["sha"] = digest.hexdigest()
                return self.reply(h, 200, {"commitUrl": f"{self.url}/{repo}/commit/{state['sha']}",
                                           "commitOid": state["sha"]})
            if method == "GET" and verb == "revision":
                return self.reply(h, 200, {"id": repo, "sha": state["sha"], "private": False,
                                           "siblings": [{"rfilename": k} for k in sorted(state["files"])]})
            if method == "GET" and verb == "tree":
                return self.reply(h, 200, [{"type": "file", "path": k, "size": len(v),
                                            "oid": hashlib.sha1(b"blob %d\0" % len(v) + v).hexdigest()}
                                           for k, v in sorted(state["files"].items())])
        if len(parts) >= 5 and parts[2] == "resolve":
            repo, file = f"{parts[0]}/{parts[1]}", "/".join(parts[4:])
            data = self.repos.get(repo, {}).get("files", {}).get(file)
            if data is None:
                return self.reply(h, 404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"},
                                  head=method == "HEAD")
            etag = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
            return self.reply(h, 200, data, {"X-Repo-Commit": self.repos[repo]["sha"], "ETag": f'"{etag}"'},
                              head=method == "HEAD")
        return self.reply(h, 404, {"error": f"stand-in: no {method} {path}"}, head=method == "HEAD")


def test_hub_round_trip_through_a_stand_in(world, monkeypatch, capsys, tmp_path):
    pytest.importorskip("huggingface_hub")
    pytest.importorskip("yaml")
    from belamy.models.run import Run

    monkeypatch.setenv("HF_TOKEN", "hf_standin_token")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with StandInHub() as hub:
        code, out, err = run_cli(monkeypatch, capsys, "export", str(world["run"].path), "-o", str(tmp_path / "x"),
                                 "--push", "artist/tiny-portraits", "--endpoint", hub.url, "--device", "cpu")
        assert code == 0, err
        assert f"pushed to {hub.url}/artist/tiny-portraits" in flat(out)
        stored = hub.repos["artist/tiny-portraits"]["files"]
        exported = {p.relative_to(tmp_path / "x").as_posix(): p.read_bytes()
                    for p in (tmp_path / "x").rglob("*") if p.is_file()}
        assert {k: v for k, v in stored.items() if k != "README.md"} == exported
        assert stored["README.md"] == exported["MODEL_CARD.md"]  # what the hub shows as the card
        assert all(auth == "Bearer hf_standin_token" for _, _, auth in hub.requests)  # the usual HF token

        code, out, err = run_cli(monkeypatch, capsys, "pull", "artist/tiny-portraits", "-o", str(tmp_path / "p"),
                                 "--endpoint", hub.url)
        assert code == 0, err
        pulled = {p.relative_to(tmp_path / "p").as_posix(): p.read_bytes()
                  for p in (tmp_path / "p").rglob("*") if p.is_file()}
        assert pulled == exported  # file for file, byte for byte; nothing of the hub's bookkeeping left
        assert not list(tmp_path.glob(".p.pull-*"))
        with collection_away(world["root"]):
            code, _, err = run_cli(monkeypatch, capsys, "sample", str(tmp_path / "p"), "-n", "2", "--device", "cpu")
        assert code == 0, err
        assert (tmp_path / "p" / "renders" / "seed0001.png").is_file()  # RUN/renders, as for any run
        assert Run.open(tmp_path / "p").generator_sha256() == world["run"].generator_sha256()

        # pushing the same export again is a new commit to the existing repo
        code, out, err = run_cli(monkeypatch, capsys, "export", str(world["run"].path), "-o", str(tmp_path / "x"),
                                 "--push", "artist/tiny-portraits", "--endpoint", hub.url, "--device", "cpu")
        assert code == 0, err
        # errors are one line: a repo that is not there, a repo that is not a shared run, a folder in the way
        code, _, err = run_cli(monkeypatch, capsys, "pull", "artist/nothing", "-o", str(tmp_path / "q"),
                               "--endpoint", hub.url)
        one_line_error(code, err, f"could not pull {hub.url}/artist/nothing")
        hub.repos["artist/notes"] = {"files": {"notes.md": b"# hi\n"}, "sha": "1" * 40}
        code, _, err = run_cli(monkeypatch, capsys, "pull", "artist/notes", "-o", str(tmp_path / "q"),
                               "--endpoint", hub.url)
        one_line_error(code, err, "is not a shared belamy run")
        assert not (tmp_path / "q").exists()
        code, _, err = run_cli(monkeypatch, capsys, "pull", "artist/tiny-portraits", "-o", str(tmp_path / "p"),
                               "--endpoint", hub.url)
        one_line_error(code, err, "also holds renders/", "would delete")  # the renders sampled into it above
        shutil.rmtree(tmp_path / "p" / "renders")
        code, _, err = run_cli(monkeypatch, capsys, "pull", "artist/tiny-portraits", "-o", str(tmp_path / "p"),
                               "--endpoint", hub.url)
        assert code == 0, err  # an earlier shared run is replaced by the newer commit


def test_a_super_resolution_export_shows_its_preview_and_upscales(monkeypatch, capsys, tmp_path):
    from conftest import tiny_sr_run

    from belamy.core.png import save_png

    run = tiny_sr_run(tmp_path)
    code, out, err = run_cli(monkeypatch, capsys, "export", str(run.path), "-o", str(tmp_path / "sr"))
    assert code == 0, err
    newest = sorted((run.path / "samples").glob("fakes-*.png"))[-1]
    assert (tmp_path / "sr" / "samples.png").read_bytes() == newest.read_bytes()  # training's own preview
    card = (tmp_path / "sr" / "MODEL_CARD.md").read_text()
    meta = header(card)
    assert meta["pipeline_tag"] == "image-to-image" and "super-resolution" in meta["tags"]
    assert f"preview {newest.name} from training" in card
    save_png(pixels(tmp_path / "sr" / "samples.png")[:24, :24], tmp_path / "small.png")
    (tmp_path / "coll64").rename(tmp_path / "away")
    code, _, err = run_cli(monkeypatch, capsys, "upscale", str(tmp_path / "sr"), str(tmp_path / "small.png"),
                             "-o", str(tmp_path / "up"), "--device", "cpu")
    assert code == 0, err
    assert pixels(tmp_path / "up" / "small.png").shape == (48, 48, 3)


def test_a_pix2pix_export_translates(monkeypatch, capsys, tmp_path):
    from conftest import pattern_collection

    from belamy.api.train import train
    from belamy.data.pairs import derive_pairs
    from belamy.models import presets
    from belamy.training.presets import train_preset

    pairs = derive_pairs(pattern_collection(tmp_path), tmp_path / "pairs", "edges")
    cfg = train_preset("pix2pix-64")
    cfg.model = presets.pix2pix(32, ngf=8, ndf=8, patch_layers=2)
    cfg.batch, cfg.steps, cfg.device, cfg.amp = 4, 2, "cpu", "off"
    cfg.checkpoint_kimg, cfg.preview_kimg, cfg.log_steps, cfg.keep = 0.008, 0.004, 2, 2
    run = train(pairs.path, tmp_path / "p2p", cfg, progress=False)
    code, out, err = run_cli(monkeypatch, capsys, "export", str(run.path), "-o", str(tmp_path / "shared"))
    assert code == 0, err
    card = (tmp_path / "shared" / "MODEL_CARD.md").read_text()
    assert header(card)["pipeline_tag"] == "image-to-image" and "condition | output | target" in card
    assert "- Collection: `pairs` (12 images)" in card and (tmp_path / "shared" / "CREDITS.md").is_file()
    shutil.rmtree(tmp_path / "pairs")
    code, _, err = run_cli(monkeypatch, capsys, "translate", str(tmp_path / "shared"),
                             str(tmp_path / "src-coll" / "3.png"), "-o", str(tmp_path / "t"), "--device", "cpu")
    assert code == 0, err
    assert pixels(tmp_path / "t" / "3.png").shape == (32, 32, 3)
