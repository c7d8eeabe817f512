"""`belamy.finish()`, `belamy.verify()`, `belamy.rerender()`: a render becomes a signed artwork.

The order is fixed, because any byte changed after signing breaks the signature: the render is
checked against its record (re-rendered from its run), upscaled to the print size, signed with a
painted signature; then the provenance record is made, the XMP packet naming it, the file
encoded with both, and last the C2PA manifest signed over every byte. Every check a user can
fail (no record, no key, too much upscaling, a JPEG source) runs before anything is written.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from belamy.api.brush import RECORD_SUFFIX as BRUSH_SUFFIX
from belamy.api.brush import read_brush_record
from belamy.api.brush import replay as replay_brush
from belamy.api.upscale import SRUpscaler, replay_upscale
from belamy.core import atomic
from belamy.core.atomic import sha256_file
from belamy.core.errors import BelamyError
from belamy.core.png import save_png
from belamy.core.seeds import z_from_seed
from belamy.core.version import code_version
from belamy.data import names
from belamy.data.collection import MANIFEST_FILE, Collection
from belamy.data.pairs import Pairs, is_pairs
from belamy.finish.printing import MIME, SUFFIX, PrintConfig, encode, print_pixels, upscale
from belamy.finish.signature import SignatureConfig, sign
from belamy.generate.records import RECORD_KEY, RECORD_SUFFIX, recorded_run
from belamy.generate.rerender import still_from_record
from belamy.models.run import Run
from belamy.provenance import manifest as c2pa_manifest
from belamy.provenance.keys import default_keys_dir, load_identity
from belamy.provenance.record import (
    PNG_KEY,
    SCHEMA,
    SCHEMA_VERSION,
    canonical,
    check_record,
    code_credits,
    contributors,
    pixels_sha256,
    record_sha256,
    roles,
)
from belamy.provenance.verify import Verdict, decode
from belamy.provenance.verify import verify as verify_file
from belamy.provenance.xmp import COMPOSITE, TRAINED, XmpFields, build_xmp

PROVENANCE_SUFFIX = ".provenance.json"


@dataclass
class FinishOptions:
    """Everything `belamy finish` asks of the artist besides the render."""

    signature: SignatureConfig | None = field(default_factory=SignatureConfig)  # None: unsigned painting
    printing: PrintConfig = field(default_factory=PrintConfig)
    artist: str | None = None  # who conceived the work (default: the signing identity's name)
    operator: str | None = None  # who ran belamy
    owner: str | None = None  # who owns the artwork
    title: str | None = None
    rights: str | None = None  # copyright notice (default: "(c) YEAR ARTIST")
    data_mining: str = "prohibited"  # plus:DataMining and the C2PA training-and-mining assertion
    keys: Path | None = None  # signing identity folder (default: keys.default_keys_dir())
    sr: Path | None = None  # a super-resolution run (`belamy train-sr`) for the print upscale (default: Lanczos)


@dataclass
class FinishResult:
    artwork: Path
    sidecar: Path
    record_path: Path
    record: dict[str, Any]
    seconds: dict[str, float]


def _render_record(render: Path, need_record: bool = True) -> tuple[np.ndarray, dict[str, Any]]:
    """A render's pixels and record, refused with one line if it is not a PNG render with a record."""
    try:
        with Image.open(render) as im:
            fmt = im.format
            im.load()
            text = dict(getattr(im, "text", {}) or {})
            arr = np.asarray(im.convert("RGB"))
    except FileNotFoundError:
        raise BelamyError(f"{render} does not exist") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise BelamyError(f"{render} is not a readable image ({exc})") from None
    if fmt != "PNG":
        raise BelamyError(f"{render} is a {fmt}: finish starts from a PNG render of belamy (exact pixels, with "
                          "its record); render it again with `belamy sample` or `belamy series`")
    if not need_record:
        return arr, {}
    raw = text.get(RECORD_KEY)
    beside = render.with_name(render.stem + RECORD_SUFFIX)
    if raw is None and beside.is_file():
        raw = beside.read_text(encoding="utf-8")
    try:
        record = json.loads(raw) if raw is not None else None
    except json.JSONDecodeError:
        record = None
    if not isinstance(record, dict) or "generator_sha256" not in record:
        raise BelamyError(f"{render} has no render record (neither a {RECORD_KEY} chunk nor {beside.name}): finish "
                          "works on renders of `belamy sample`, `series`, `mix` or `bookmark load`")
    return arr, record


def _source(render: Path) -> tuple[np.ndarray, dict[str, Any], dict[str, Any] | None, np.ndarray | None]:
    """What is finished: (pixels, render record, brush record, the render under the brush). A PNG
    render carries its record; a brushed one (`belamy brush`) has NAME.brush.json beside it,
    whose portrait is a render with its record."""
    brushed = render.with_name(render.stem + BRUSH_SUFFIX)
    if brushed.is_file() and RECORD_KEY not in _png_text(render):
        brush = read_brush_record(brushed)
        if sha256_file(render) != brush["outputs"]["composite"]["sha256"]:
            raise BelamyError(f"{render} changed since it was brushed (its sha256 is not the one {brushed.name} "
                              "names): brush it again")
        portrait = Path(brush["inputs"]["portrait"]["path"])
        if not portrait.is_file() or sha256_file(portrait) != brush["inputs"]["portrait"]["sha256"]:
            raise BelamyError(f"the portrait {portrait} under this brush layer is gone or changed: restore it")
        arr, _ = _render_record(render, need_record=False)
        under, record = _render_record(portrait)
        return arr, record, brush, under
    arr, record = _render_record(render)
    return arr, record, None, None


def _png_text(path: Path) -> dict[str, str]:
    try:
        with Image.open(path) as im:
            im.load()
            return dict(getattr(im, "text", {}) or {})
    except (OSError, UnidentifiedImageError):
        return {}


def _check_render(arr: np.ndarray, record: dict[str, Any], device: str | None) -> tuple[Run | None, dict[str, Any]]:
    """Re-render the render from its run, on the device it was rendered on (another device may round
    differently): the same pixels make it a pure render, others an edit."""
    try:
        run = recorded_run(record)
    except BelamyError as exc:
        return None, {"checked": False, "why": str(exc)}
    device = device or record.get("device") or "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        return run, {"checked": False, "why": f"rendered on {device}, which this machine does not have"}
    again = still_from_record(record, device, replay_upscale)
    if again.shape == arr.shape and np.array_equal(again, arr):
        return run, {"checked": True, "device": device, "same_pixels": True}
    changed = int(np.any(again != arr, axis=-1).sum()) if again.shape == arr.shape else arr.shape[0] * arr.shape[1]
    return run, {"checked": True, "device": device, "same_pixels": False, "changed_pixels": changed}


def _latent(record: dict[str, Any], run: Run | None) -> dict[str, Any]:
    if record.get("kind") == "translation":  # pix2pix: the condition image is the input
        return {"condition": record.get("input"), "condition_sha256": record.get("input_sha256")}
    if "seed" in record and "latent" not in record:
        z_dim = (run.model_config.get("z_dim") if run else None) or record.get("z_dim")
        out: dict[str, Any] = {"seed": record["seed"]}
        if z_dim:
            z = z_from_seed(int(record["seed"]), int(z_dim)).numpy()
            out.update(z_dim=int(z_dim), z_sha256=_sha256_bytes(z.astype("<f4").tobytes()))
        return out
    spec = record.get("latent")
    return {"spec": spec, "spec_sha256": _sha256_bytes(canonical({"latent": spec}))}


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _collection(run: Run | None) -> tuple[dict[str, Any], Path | None]:
    """What the run was trained on, with its credits when the collection is still on disk."""
    if run is None:
        return {"present": False, "why": "the run is not present"}, None
    info = run.info
    out: dict[str, Any] = {"path": names.readable(info.get("collection", "")), "images": info.get("collection_count"),
                           "manifest_digest": info.get("collection_manifest_sha")}
    try:
        where = names.local_path(info["collection"])
        coll = Pairs.open(where).target if is_pairs(where) else Collection.open(where)  # pairs: the targets are the works
    except (BelamyError, KeyError, OSError):
        out["present"] = False
        return out, None
    manifest = coll.path / MANIFEST_FILE
    out.update(present=True, manifest_sha256=sha256_file(manifest), credits=contributors(coll.manifest),
               opted_out_included=len(coll.opted_out()))
    return out, manifest


def _software() -> dict[str, str]:
    import c2pa
    import matplotlib
    import PIL

    return {"belamy": code_version(), "python": platform.python_version(), "torch": torch.__version__,
            "pillow": PIL.__version__, "matplotlib": matplotlib.__version__, "c2pa-python": c2pa.__version__}


def finish(render: str | Path, out_dir: str | Path, opts: FinishOptions | None = None, device: str | None = None,
           force: bool = False) -> FinishResult:
    """Finish `render` into `out_dir`: ARTWORK (PNG/TIFF/JPEG), ARTWORK.c2pa and ARTWORK.provenance.json.
    `device` re-renders the render to check it (default: the device its record names)."""
    t0 = time.perf_counter()
    opts = opts or FinishOptions()
    render, out_dir = Path(render), Path(out_dir)
    arr, render_rec, brush, under = _source(render)
    identity = load_identity(opts.keys)
    h, w = arr.shape[:2]
    target = print_pixels(opts.printing, w, h)
    fmt = opts.printing.format
    artwork = out_dir / f"{render.stem}{SUFFIX[fmt]}"
    sidecar, record_path = artwork.with_suffix(".c2pa"), artwork.with_name(render.stem + PROVENANCE_SUFFIX)
    if artwork.exists() and not force:
        raise BelamyError(f"{artwork} already exists: pass --force to replace it, or another -o folder")
    seconds: dict[str, float] = {}

    t = time.perf_counter()
    run, check = _check_render(under if brush is not None else arr, render_rec, device)
    seconds["check"] = time.perf_counter() - t
    steps: list[dict[str, Any]] = [{"kind": "sample", "record": render_rec, "rerender_check": check}]
    if check.get("same_pixels") is False:
        steps.append({"kind": "edit", "by": "unknown: the pixels differ from a re-render of the record",
                      "changed_pixels": check["changed_pixels"]})
    if brush is not None:  # a layer of strokes from a photograph: the work is now a composite
        steps.append({k: v for k, v in brush.items() if k not in ("software", "seconds")})
    t = time.perf_counter()
    upscaler = SRUpscaler(opts.sr, device or "auto") if opts.sr is not None else None
    arr, step = upscale(arr, target, upscaler)
    if upscaler is not None and step["method"] == "sr":
        step["sr"] = upscaler.describe()
    steps.append(step)
    seconds["upscale"] = time.perf_counter() - t
    t = time.perf_counter()
    if opts.signature is not None:
        arr, step = sign(arr, opts.signature)
        steps.append({**step, "config": asdict(opts.signature)})
    seconds["signature"] = time.perf_counter() - t

    t = time.perf_counter()
    if fmt == "jpeg":  # lossy: the record names the pixels a reader decodes
        with Image.open(io.BytesIO(encode(arr, opts.printing))) as im:
            pixels = np.asarray(im.convert("RGB"))
    else:
        pixels = arr
    composite = any(s["kind"] in ("edit", "brush") for s in steps)
    source_type = COMPOSITE if composite else TRAINED
    artist = opts.artist or identity.name
    year = datetime.now(timezone.utc).year
    rights = opts.rights or f"(c) {year} {artist}"
    coll, coll_manifest = _collection(run)
    cfg = run.config if run else {}
    model = render_rec.get("model") or ""
    record: dict[str, Any] = {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION,
        "artwork": {"title": opts.title or render.stem, "format": fmt, "width": int(arr.shape[1]),
                    "height": int(arr.shape[0]), "pixels_sha256": pixels_sha256(pixels),
                    "print": {"size": opts.printing.size, "dpi": opts.printing.dpi,
                              "width_cm": round(arr.shape[1] / opts.printing.dpi * 2.54, 2),
                              "height_cm": round(arr.shape[0] / opts.printing.dpi * 2.54, 2),
                              **({"quality": opts.printing.quality} if fmt == "jpeg" else {})},
                    "digital_source_type": source_type},
        "roles": roles(artist, opts.operator, opts.owner),
        "rights": rights, "data_mining": opts.data_mining,
        "signer": {"name": identity.name, "certificate_sha256": identity.fingerprint,
                   "expires": identity.expires.isoformat(timespec="seconds")},
        "run": {"id": render_rec.get("run"), "checkpoint_sha256": render_rec.get("generator_sha256"),
                "step": render_rec.get("step"), "model": model, "resolution": render_rec.get("resolution"),
                "config": cfg},
        "collection": coll,
        "credits": code_credits(model, code_version(), cfg.get("augment"),
                                r1=bool(cfg.get("r1_gamma")) and bool(cfg.get("r1_interval")),
                                ema=bool(cfg.get("ema_kimg"))),
        "render": render_rec,
        "latent": _latent(render_rec, run),
        "steps": steps,
        "software": _software(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    digest = record_sha256(record)
    xmp = build_xmp(XmpFields(source_type=source_type, ai_system=f"belamy {model}".strip(),
                              ai_system_version=code_version(), data_mining=opts.data_mining, creators=[artist],
                              rights=rights, title=record["artwork"]["title"],
                              credit=f"{artist}, with belamy ({model})", record_sha256=digest))
    text = {PNG_KEY: canonical(record).decode("utf-8")} if fmt == "png" else None
    data = encode(arr, opts.printing, xmp=xmp, text=text)
    seconds["record"] = time.perf_counter() - t

    t = time.perf_counter()
    ingredients = []
    if run is not None:
        ingredients.append(c2pa_manifest.Ingredient(f"{run.export_path.name} (run {run.run_id})", run.export_path))
    if coll_manifest is not None:
        ingredients.append(c2pa_manifest.Ingredient(f"collection {coll_manifest.name}", coll_manifest,
                                                    "application/x-ndjson"))
    definition = c2pa_manifest.manifest_definition(
        artwork.name, MIME[fmt], source_type, {"name": "belamy", "version": code_version()}, record, opts.data_mining)
    signed, side = c2pa_manifest.sign(data, MIME[fmt], identity, definition, ingredients)
    seconds["c2pa"] = time.perf_counter() - t

    # the record and sidecar first: an artwork on disk always has them beside it
    atomic.write_json(record_path, record)
    atomic.write_bytes(sidecar, side)
    atomic.write_bytes(artwork, signed)
    seconds["total"] = time.perf_counter() - t0
    return FinishResult(artwork, sidecar, record_path, record, seconds)


def trust_anchors(trust: list[Path] | None = None, keys: Path | None = None) -> list[bytes]:
    """The roots `verify` trusts: the local identity's root (if any) and each `--trust` PEM file."""
    anchors = []
    root = Path(keys or default_keys_dir()) / "root.pem"
    if root.is_file():
        anchors.append(root.read_bytes())
    for p in trust or []:
        try:
            anchors.append(Path(p).read_bytes())
        except OSError:
            raise BelamyError(f"cannot read the trusted root {p}: give a PEM certificate file") from None
    return anchors


def verify(artwork: str | Path, trust: list[Path] | None = None, keys: Path | None = None) -> Verdict:
    """Verify an artwork against its record, XMP and C2PA manifest (see `belamy.provenance.verify`)."""
    return verify_file(Path(artwork), trust_anchors(trust, keys))


def artwork_record(source: str | Path) -> dict[str, Any]:
    """The provenance record of an artwork file, or of a NAME.provenance.json (one line if it holds none)."""
    source = Path(source)
    if source.suffix == ".json":
        try:
            record = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BelamyError(f"{source} is not a readable provenance record ({exc})") from None
        return check_record(record, str(source))
    _, mime, info = decode(source)
    if PNG_KEY in info:
        try:
            return check_record(json.loads(info[PNG_KEY]), str(source))
        except json.JSONDecodeError:
            raise BelamyError(f"the provenance record in {source} is not readable JSON") from None
    report = c2pa_manifest.read(source.read_bytes(), mime, [])
    record = report.record if report else None
    if record is None:
        raise BelamyError(f"{source} carries no provenance record: finish it with `belamy finish`")
    return check_record(record, str(source))


def rerender(source: str | Path, out: str | Path | None = None, device: str | None = None) -> tuple[np.ndarray, bool]:
    """Re-render an artwork from its record alone (its run must be present): (pixels, same as recorded).
    `device` defaults to the one the render was made on."""
    record = artwork_record(source)
    arr = still_from_record(record["render"], device or record["render"].get("device") or "cpu", replay_upscale)
    for step in record["steps"]:
        kind = step["kind"]
        if kind == "upscale":
            if step["method"] not in ("none", "lanczos", "sr"):
                raise BelamyError(f"this artwork was upscaled with {step['method']}, which rerender cannot replay")
            upscaler = SRUpscaler.replay(step["sr"]) if step["method"] == "sr" else None
            arr, _ = upscale(arr, tuple(step["to"]), upscaler)
        elif kind == "signature":
            arr, _ = sign(arr, SignatureConfig(**step["config"]))
        elif kind == "brush":
            arr = replay_brush(step, arr)
        elif kind != "sample":
            raise BelamyError(f"this artwork has a '{kind}' step (a human edit or a layer not from a run): it cannot be "
                              "re-rendered from its record alone")
    pixels = arr
    fmt = record["artwork"]["format"]
    if fmt == "jpeg":
        printed = record["artwork"]["print"]
        quality_cfg = PrintConfig(format="jpeg", dpi=printed["dpi"], quality=printed["quality"])
        with Image.open(io.BytesIO(encode(arr, quality_cfg))) as im:
            pixels = np.asarray(im.convert("RGB"))
    same = pixels_sha256(pixels) == record["artwork"]["pixels_sha256"]
    if out is not None:
        save_png(arr, Path(out))
    return arr, same
