"""`belamy finish` -> `belamy verify` -> `belamy rerender`, and every way an artwork can be tampered with."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from belamy.api.finish import FinishOptions, finish, rerender, verify
from belamy.api.sample import sample
from belamy.core.errors import BelamyError
from belamy.finish.printing import PrintConfig
from belamy.provenance import keys as keys_mod
from belamy.provenance.record import PNG_KEY, pixels_sha256, record_sha256
from belamy.provenance.xmp import parse_xmp, read_xmp
from tests.conftest import run_cli

pytestmark = pytest.mark.usefixtures("one_thread")

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


@pytest.fixture(scope="module")
def studio(tmp_path_factory, run):
    """A run's render, a signing identity, and one finished PNG artwork (shared: finishing takes a second)."""
    root = tmp_path_factory.mktemp("finish")
    renders = sample(run, [3, 5], root / "renders", truncation=0.7, originality=False, progress=False)
    keys_mod.init_keys(root / "keys", "Ada Lovelace", "ada@example.org")
    keys_mod.init_keys(root / "other-keys", "Someone Else")
    opts = FinishOptions(printing=PrintConfig(size="384px"), artist="Ada Lovelace", operator="Studio B",
                         owner="A Collector", keys=root / "keys")
    res = finish(renders[0], root / "art", opts)
    return root, renders, opts, res


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out, i = [], 8
    while i < len(data):
        n = struct.unpack(">I", data[i:i + 4])[0]
        out.append((data[i + 4:i + 8], data[i + 8:i + 8 + n]))
        i += 12 + n
    return out


def build(parts: list[tuple[bytes, bytes]]) -> bytes:
    out = b"\x89PNG\r\n\x1a\n"
    for kind, body in parts:
        out += struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    return out


def with_idat(parts, payload: bytes):
    """The same chunks with the image data replaced by one IDAT of `payload` (what an optimiser does)."""
    out, done = [], False
    for kind, body in parts:
        if kind != b"IDAT":
            out.append((kind, body))
        elif not done:
            out.append((b"IDAT", payload))
            done = True
    return out


def test_finish_writes_a_verified_artwork(studio):
    root, renders, opts, res = studio
    rec = res.record
    assert res.artwork.name == "seed0003.png" and res.sidecar.is_file() and res.record_path.is_file()
    assert json.loads(res.record_path.read_text()) == rec
    im = Image.open(res.artwork)
    assert im.size == (384, 384) and im.info["dpi"][0] == pytest.approx(300, abs=0.01) and im.info.get("icc_profile")
    assert rec["steps"][0]["rerender_check"] == {"checked": True, "device": "cpu", "same_pixels": True}
    assert [s["kind"] for s in rec["steps"]] == ["sample", "upscale", "signature"]
    assert rec["roles"] == {"artist": "Ada Lovelace", "operator": "Studio B", "owner": "A Collector"}
    assert rec["run"]["checkpoint_sha256"] == rec["render"]["generator_sha256"]
    assert rec["collection"]["present"] and len(rec["collection"]["manifest_sha256"]) == 64
    assert rec["latent"]["seed"] == 3 and len(rec["latent"]["z_sha256"]) == 64
    names = [c["name"] for c in rec["credits"]["code"]]
    assert names[0] == "belamy" and "stylegan2-ada-pytorch" in names
    assert any(a["key"] == "stylegan2" for a in rec["credits"]["algorithms"])
    assert rec["artwork"]["digital_source_type"] == TRAINED
    v = verify(res.artwork, keys=root / "keys")
    assert v.status == "verified" and v.exit_code == 0 and not v.findings, v.findings
    assert v.c2pa_state == "Trusted" and "Ada Lovelace" in v.signer


def test_c2pa_reader_and_xmp(studio):
    """c2pa-python's own Reader sees the manifest; the XMP packet names the record."""
    import io

    import c2pa

    root, _, _, res = studio
    with c2pa.Reader("image/png", io.BytesIO(res.artwork.read_bytes())) as reader:
        m = reader.get_active_manifest()
        labels = [a["label"] for a in m["assertions"]]
    assert "c2pa.training-mining" in labels and "org.belamy.provenance" in labels
    actions = next(a for a in m["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    assert actions[0]["action"] == "c2pa.created" and actions[0]["digitalSourceType"] == TRAINED
    assert {i["relationship"] for i in m["ingredients"]} == {"inputTo"} and len(m["ingredients"]) == 2
    xmp = parse_xmp(read_xmp(res.artwork))
    assert xmp["record_sha256"] == record_sha256(res.record) and xmp["source_type"] == TRAINED
    assert xmp["data_mining"].endswith("DMI-PROHIBITED") and xmp["creators"] == ["Ada Lovelace"]


def test_exiftool_reads_the_xmp(studio):
    """A second, independent reader (exiftool) sees what belamy wrote."""
    exiftool = shutil.which("exiftool")
    if exiftool is None:
        import os

        if os.environ.get("CI") == "true":
            pytest.fail("exiftool is missing: install libimage-exiftool-perl")
        pytest.skip("exiftool is not installed")
    _, _, _, res = studio
    out = json.loads(subprocess.run([exiftool, "-j", "-n", "-G1", str(res.artwork)], capture_output=True, text=True,
                                    check=True).stdout)[0]
    assert out["XMP-iptcExt:DigitalSourceType"] == TRAINED
    assert out["XMP-plus:DataMining"].endswith("DMI-PROHIBITED")
    assert out["XMP-dc:Creator"] in ("Ada Lovelace", ["Ada Lovelace"])
    assert out["XMP-belamy:RecordSHA256"] == record_sha256(res.record)


def test_rerender_from_the_record_alone(studio, tmp_path):
    root, _, _, res = studio
    arr, same = rerender(res.record_path, tmp_path / "again.png")
    assert same and pixels_sha256(arr) == res.record["artwork"]["pixels_sha256"]
    assert np.array_equal(np.asarray(Image.open(tmp_path / "again.png").convert("RGB")),
                          np.asarray(Image.open(res.artwork).convert("RGB")))


def _tampered(tmp_path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_each_tampering_is_caught_with_its_own_message(studio, tmp_path):
    root, renders, opts, res = studio
    data = res.artwork.read_bytes()
    parts = chunks(data)
    raw = zlib.decompress(b"".join(body for kind, body in parts if kind == b"IDAT"))
    keys = root / "keys"

    def check(name: str, blob: bytes) -> tuple[str, list[str], str]:
        v = verify(_tampered(tmp_path, name, blob), keys=keys)
        return v.status, [f.check for f in v.findings], " | ".join(f.message for f in v.findings)

    changed = bytearray(raw)
    changed[(1 + 384 * 3) * 100 + 10] ^= 0x01  # one sample of one pixel of row 100 (past its filter byte)
    status, checks, msg = check("pixel.png", build(with_idat(parts, zlib.compress(bytes(changed), 6))))
    assert status == "tampered" and checks == ["pixels"] and "pixels were changed" in msg

    rec = json.loads(next(body for kind, body in parts if kind == b"iTXt" and body.startswith(PNG_KEY.encode()))
                     .split(b"\0", 5)[-1])
    rec["roles"]["artist"] = "Mallory"
    forged = [(k, PNG_KEY.encode() + b"\0\0\0\0\0" + json.dumps(rec).encode()) if k == b"iTXt" and b.startswith(
        PNG_KEY.encode()) else (k, b) for k, b in parts]
    status, checks, msg = check("record.png", build(forged))
    assert status == "tampered" and "record" in checks and "roles.artist" in msg

    status, checks, msg = check("stripped.png", build([(k, b) for k, b in parts if k != b"caBX"]))
    assert status == "tampered" and checks == ["c2pa"] and "stripped" in msg

    status, checks, msg = check("resaved.png", build(with_idat(parts, zlib.compress(raw, 1))))
    assert status == "tampered" and checks == ["file"] and "re-saved" in msg

    other = finish(renders[0], tmp_path / "other", FinishOptions(printing=PrintConfig(size="384px"),
                                                                 keys=root / "other-keys"))
    v = verify(other.artwork, keys=keys)
    assert v.status == "tampered" and [f.check for f in v.findings] == ["signer"] and "Someone Else" in v.signer

    # a stripped file beside its sidecar: still tampered, but the sidecar vouches for the bytes
    side = tmp_path / "stripped.c2pa"
    shutil.copy(res.sidecar, side)
    v = verify(tmp_path / "stripped.png", keys=keys)
    assert v.status == "tampered" and "still validates" in v.findings[0].message


def test_no_provenance_is_not_tampered(studio, tmp_path):
    root, renders, _, _ = studio
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8), (200, 10, 10)).save(plain)
    v = verify(plain, keys=root / "keys")
    assert v.status == "no provenance" and v.exit_code == 3


def test_bad_inputs_write_nothing(studio, tmp_path):
    root, renders, opts, _ = studio
    out = tmp_path / "out"
    bare = tmp_path / "bare.png"
    Image.open(renders[1]).convert("RGB").save(bare)  # pixels without a record
    with pytest.raises(BelamyError, match="no render record"):
        finish(bare, out, opts)
    jpeg = tmp_path / "render.jpg"
    Image.open(renders[1]).convert("RGB").save(jpeg, quality=95)
    with pytest.raises(BelamyError, match="is a JPEG: finish starts from a PNG render"):
        finish(jpeg, out, opts)
    with pytest.raises(BelamyError, match="no signing key"):
        finish(renders[1], out, FinishOptions(keys=tmp_path / "nokeys"))
    keys_mod.init_keys(tmp_path / "expired", "Old Me", leaf_days=-1)
    with pytest.raises(BelamyError, match="expired on"):
        finish(renders[1], out, FinishOptions(keys=tmp_path / "expired"))
    with pytest.raises(BelamyError, match="needs 100.0x upscaling, more than 16x"):
        finish(renders[1], out, FinishOptions(printing=PrintConfig(size="3200px"), keys=root / "keys"))
    assert not out.exists()


def test_cli_round_trip(studio, tmp_path, monkeypatch, capsys):
    root, renders, _, res = studio
    monkeypatch.setenv("BELAMY_KEYS", str(tmp_path / "k"))
    code, out, err = run_cli(monkeypatch, capsys, "keys", "init", "--name", "Cli Artist")
    assert code == 0 and "signing identity 'Cli Artist'" in out
    assert (tmp_path / "k" / "signer.key").stat().st_mode & 0o777 == 0o600
    code, out, err = run_cli(monkeypatch, capsys, "finish", str(renders[1]), "-o", str(tmp_path / "a"),
                             "--size", "384px", "--format", "jpeg", "--signature", "Cli Artist 2026")
    assert code == 0, err
    art = tmp_path / "a" / "seed0005.jpg"
    code, out, err = run_cli(monkeypatch, capsys, "verify", str(art))
    assert code == 0 and "verified" in out, out
    code, out, err = run_cli(monkeypatch, capsys, "rerender", str(art), "-o", str(tmp_path / "again.png"))
    assert code == 0 and "bit for bit" in out, out + err
    code, out, err = run_cli(monkeypatch, capsys, "verify", str(res.artwork))
    assert code == 1 and "FAIL signer" in out  # signed by Ada, whose root this identity does not trust
    code, out, err = run_cli(monkeypatch, capsys, "verify", str(res.artwork), "--trust", str(root / "keys" / "root.pem"))
    assert code == 0
    code, out, err = run_cli(monkeypatch, capsys, "finish", str(renders[1]), "-o", str(tmp_path / "a"),
                             "--size", "384px", "--format", "jpeg")
    assert code == 2 and err.count("\n") == 1 and "already exists" in err


def test_a_crash_while_finishing_leaves_the_earlier_artwork_whole(studio, tmp_path, monkeypatch):
    """Re-finishing over an artwork (--force) that dies while signing leaves the old files as they were."""
    from belamy.provenance import manifest

    root, renders, opts, res = studio
    out = tmp_path / "art"
    first = finish(renders[0], out, opts)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def dies(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(manifest, "sign", dies)
    with pytest.raises(KeyboardInterrupt):
        finish(renders[0], out, opts, force=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert verify(first.artwork, keys=root / "keys").status == "verified"


def test_a_brushed_render_is_finished_as_a_composite_and_rerenders(studio, tmp_path):
    """The robot's self-portrait path: render -> brush layer from a photo -> finish -> verify -> rerender."""
    from belamy.api.brush import brush
    from belamy.data.demo_paint import render_paint_photo
    from belamy.refine.brush import BrushConfig

    root, renders, opts, _ = studio
    photo = tmp_path / "photo.png"
    Image.fromarray(render_paint_photo(2, 96)).save(photo)
    brushed = brush(renders[1], photo, tmp_path / "brushed", BrushConfig(stroke_size=0.1, seed=1))
    res = finish(brushed.composite, tmp_path / "art", opts)
    kinds = [s["kind"] for s in res.record["steps"]]
    assert kinds == ["sample", "brush", "upscale", "signature"] and res.record["steps"][0]["rerender_check"]["same_pixels"]
    assert res.record["artwork"]["digital_source_type"].endswith("compositeWithTrainedAlgorithmicMedia")
    assert verify(res.artwork, keys=root / "keys").status == "verified"
    arr, same = rerender(res.record_path, tmp_path / "again.png")
    assert same
    photo.write_bytes(renders[0].read_bytes())  # the photo changed: the record can no longer be replayed
    with pytest.raises(BelamyError, match="photo .* gone or changed"):
        rerender(res.record_path)


def test_finish_upscales_with_a_super_resolution_run(studio, tmp_path):
    """`finish --sr RUN`: the print upscale is the SR run's x2 (then Lanczos to size), recorded and replayed."""
    from dataclasses import replace

    from tests.conftest import tiny_sr_run

    root, renders, opts, _ = studio
    sr = tiny_sr_run(tmp_path)
    res = finish(renders[1], tmp_path / "art", replace(opts, sr=sr.path, printing=PrintConfig(size="352px")))
    step = next(s for s in res.record["steps"] if s["kind"] == "upscale")
    assert step["method"] == "sr" and step["sr"]["run"]["generator_sha256"] == sr.generator_sha256()
    assert Image.open(res.artwork).size == (352, 352)
    assert verify(res.artwork, keys=root / "keys").status == "verified"
    assert rerender(res.record_path)[1]
    lanczos = finish(renders[1], tmp_path / "art-lanczos", replace(opts, printing=PrintConfig(size="352px")))
    assert lanczos.record["artwork"]["pixels_sha256"] != res.record["artwork"]["pixels_sha256"]
    (sr.path / "generator.safetensors").write_bytes((sr.path / "generator.safetensors").read_bytes() + b" ")
    with pytest.raises(BelamyError, match="different generator"):
        rerender(res.record_path)


def test_rerender_refuses_what_is_not_a_record(studio, tmp_path):
    root, renders, _, res = studio
    other = tmp_path / "other.provenance.json"
    other.write_text(json.dumps({"schema": "something.else"}))
    with pytest.raises(BelamyError, match="does not hold a belamy provenance record"):
        rerender(other)
    newer = json.loads(res.record_path.read_text())
    newer["schema_version"] = 99
    other.write_text(json.dumps(newer))
    with pytest.raises(BelamyError, match="newer than this belamy reads"):
        rerender(other)
    with pytest.raises(BelamyError, match="carries no provenance record"):
        rerender(renders[0])
