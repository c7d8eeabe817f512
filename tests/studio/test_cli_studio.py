"""`belamy studio` from the command line, over real renders of a tiny trained run."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli
from tests.studio.conftest import write_folder

pytestmark = pytest.mark.usefixtures("one_thread")


def test_real_renders_show_their_lineage(run, tmp_path):
    from belamy.api.sample import sample
    from belamy.studio.service import Studio

    sample(run, range(4), tmp_path / "renders", truncation=0.8, device="cpu")
    studio = Studio([tmp_path / "renders"], warm=False)
    try:
        items = {t["name"]: t for t in studio.page({})["items"]}
        assert set(items) == {"grid.png", *(f"seed{i:04d}.png" for i in range(4))}
        assert items["grid.png"]["problem"] == "no record" and items["grid.png"]["viewable"]
        one = items["seed0002.png"]
        assert one["seed"] == 2 and one["run"] == run.run_id and one["truncation"] == 0.8
        assert one["originality"] is not None and one["problem"] == ""
        detail = studio.detail(studio.library.get(one["id"]))
        assert detail["lineage"]["generator_sha256"] == run.generator_sha256()
        assert detail["lineage"]["nearest"] is not None and detail["record"]["kind"] == "sample"
        assert [t["seed"] for t in studio.page({"sort": "-seed"})["items"]][:4] == [3, 2, 1, 0]
    finally:
        studio.close()


def test_serve_prints_the_address_and_opens_the_browser(tmp_path, monkeypatch, capsys):
    from belamy.studio import server

    write_folder(tmp_path / "r", 3)
    opened: list[str] = []
    monkeypatch.setattr(server.webbrowser, "open", lambda url, new=0: opened.append(url))

    def run_once(self, on_ready=None):
        if on_ready is not None:
            on_ready()
        self.studio.close()

    monkeypatch.setattr(server.StudioServer, "run", run_once)
    code, out, _ = run_cli(monkeypatch, capsys, "studio", str(tmp_path / "r"), "--port", "0")
    assert code == 0 and "3 renders in 1 folder(s)" in out and "open http://127.0.0.1:" in out
    assert "token" not in out and len(opened) == 1 and opened[0].startswith("http://127.0.0.1:")
    code, out, _ = run_cli(monkeypatch, capsys, "studio", "serve", str(tmp_path / "r"), "--no-browser",
                           "--state", str(tmp_path / "st"))
    assert code == 0 and len(opened) == 1 and (tmp_path / "st" / "studio.sqlite").is_file()


def test_command_line_errors_are_one_line(tmp_path, monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "studio", str(tmp_path / "nope"), "--no-browser")
    assert code == 2 and "is not a folder" in err and "Traceback" not in err
    write_folder(tmp_path / "r", 2)
    code, _, err = run_cli(monkeypatch, capsys, "studio", "export", str(tmp_path / "r"), "-o", str(tmp_path / "o"))
    assert code == 2 and "--picks" in err
    code, out, _ = run_cli(monkeypatch, capsys, "studio", "--help")
    assert code == 0 and "export" in out and "serve" in out
