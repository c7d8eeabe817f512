"""`belamy recipe instantiation`: a self-portrait learned from one sitter, morphed, brushed and sold.

After a robot artist's self-portrait sale: a GAN learned from a series of paintings of one sitter,
made a self-portrait, a 12-second video of a source painting morphing into it, a layer of brush
strokes taken from a photograph, and the work was sold as an NFT. Here the series is the built-in
`sitter` demo collection (one painted person in 200 sittings), the photo is a procedural one, and
the sale is a mint and a transfer on a local belamy ledger, so the whole road runs offline.

Steps: sitter -> train -> self-portrait -> morph -> brush -> finish -> nft -> mint -> transfer.
Each leaves a picture in OUT/pictures; the ledger steps look in the ledger before writing, so a
re-run (even after a kill between a mint and the recipe's own record of it) never mints twice.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from belamy.api import ledger as ledger_api
from belamy.api.brush import brush
from belamy.api.config import resolve_train_config
from belamy.api.explore import MorphConfig, ProjectConfig, morph
from belamy.api.finish import FinishOptions, finish
from belamy.api.nft import NftOptions
from belamy.api.nft import export as nft_export
from belamy.api.sample import sample
from belamy.core.errors import BelamyError
from belamy.core.grid import make_grid
from belamy.core.png import save_png
from belamy.data.collect import collect
from belamy.data.collection import Collection
from belamy.data.demo_paint import render_paint_photo
from belamy.finish.printing import PrintConfig
from belamy.generate.records import RECORD_SUFFIX
from belamy.metrics.originality import NEAR_COPY
from belamy.models.run import Run
from belamy.provenance.keys import init_keys
from belamy.provenance.record import record_sha256
from belamy.recipes.base import (
    Context,
    Made,
    Recipe,
    Step,
    check_verified,
    latest_preview,
    marked_grid,
    picture_path,
    recipe_keys,
    save_picture,
    train_step,
    trained,
)
from belamy.refine.brush import BrushConfig

DEFAULT_MINUTES = 14.0
TRAIN_SHARE = 0.8  # of the budget; the other steps take about the same time whatever the budget
PRESET = "cpu-quick-64"
SIZE = 64
TITLE = "Self-portrait (instantiation)"
MORPH_SECONDS = 12.0
MORPH_FPS = 25.0
MORPH_FRAME = 256  # px: the 64 px renders are shown larger (Lanczos) so the video can be watched
SOURCE_INDEX = 0  # the collection's painting the morph starts from
PRINT = "1024px"
PRICE = "1.5 ETH"
BUYER = "the buyer"
TRUNCATION = 0.7


def build() -> Recipe:
    return Recipe(
        name="instantiation",
        title="a self-portrait learned from one sitter, a 12 s morph, a brush layer, an NFT sold",
        default_minutes=DEFAULT_MINUTES,
        steps=[
            Step("sitter", "paint the demo series of one sitter at 64 px", _sitter),
            Step("train", f"train {PRESET} on the sittings (most of the budget)", _train),
            Step("self-portrait", "render a series and choose the most typical likeness that copies no sitting",
                 _self_portrait),
            Step("morph", f"a {MORPH_SECONDS:g} s video of a source painting morphing into the self-portrait", _morph),
            Step("brush", "a layer of brush strokes taken from a (procedural) photo", _brush),
            Step("finish", f"print at {PRINT}, sign, and write the provenance record and C2PA manifest", _finish),
            Step("nft", "the NFT metadata, its IPFS CIDs and a CAR file", _nft),
            Step("mint", "mint the artwork on a ledger in OUT/ledger", _mint),
            Step("transfer", f"sell it to {BUYER}: a signed transfer, then verify the ledger", _transfer),
        ],
    )


# ----------------------------------------------------------------------------- steps


def _sitter(ctx: Context) -> Made:
    coll = collect(["demo://sitter"], ctx.path("collection"), size=SIZE, progress=ctx.progress)
    pic = save_picture(Image.open(coll.path / "preview.png"), picture_path(ctx, 1, "sitter"))
    skipped = len(coll.report.near_duplicates) if coll.report is not None else 0
    note = f" ({skipped} set aside as near duplicates of another sitting)" if skipped else ""
    return Made(f"{len(coll)} sittings of one sitter at {SIZE} px{note}", {"collection": coll.path}, pic,
                {"images": len(coll)})


def _train(ctx: Context) -> Made:
    minutes = ctx.minutes_for(TRAIN_SHARE)
    cfg = resolve_train_config(preset=PRESET, minutes=minutes, device=ctx.device, preview_kimg=1.0,
                               checkpoint_minutes=1.0)
    run = train_step(ctx, ctx.done["sitter"].artefacts["collection"], ctx.path("run"), cfg)
    grid = latest_preview(run.path)
    pic = save_picture(Image.open(grid), picture_path(ctx, 2, "train")) if grid else None
    return Made(f"{minutes:g} min of {PRESET}{trained(run.path)}", {"run": run.path}, pic, {"minutes": minutes})


def _self_portrait(ctx: Context) -> Made:
    """A series of renders, and the self-portrait chosen from it: of the renders the originality check
    does not flag as near copies of one sitting, the one nearest the mean of all the sittings (the
    sitter's most typical likeness, not any one painting of her)."""
    run = Run.open(ctx.done["train"].artefacts["run"])
    count = _series_count(ctx.minutes)
    renders = ctx.path("renders")
    seeds = list(range(count))
    paths = sample(run, seeds, renders, truncation=TRUNCATION, progress=ctx.progress)
    coll = Collection.open(ctx.done["sitter"].artefacts["collection"])
    mean = _thumb(np.asarray(coll.images, dtype=np.float32).mean(0))
    arrays, distances, scores = [], [], []
    for p in paths:
        record = json.loads(p.with_name(p.stem + RECORD_SUFFIX).read_text())
        arr = np.asarray(Image.open(p).convert("RGB"))
        arrays.append(arr)
        distances.append(float(np.sqrt(np.mean((_thumb(arr.astype(np.float32)) - mean) ** 2))))
        scores.append((record.get("originality") or {}).get("score"))  # None: the check was skipped
    copies = [i for i, sc in enumerate(scores) if sc is not None and sc < NEAR_COPY]
    pool = [i for i in range(count) if i not in copies] or list(range(count))  # all copies: say so below
    best = min(pool, key=lambda i: distances[i])
    pic = marked_grid(arrays, best, picture_path(ctx, 3, "self-portrait"))
    score = "unchecked" if scores[best] is None else f"{scores[best]:.2f}"
    note = ("" if not copies else f"; {len(copies)} near copies passed over" if len(copies) < count
            else "; every render is a near copy of a sitting (train longer: --minutes)")
    return Made(f"{paths[best].stem} of {count} renders: nearest the sitter's mean (RMS {distances[best]:.1f}), "
                f"originality {score}{note}",
                {"renders": renders, "self-portrait": paths[best]}, pic,
                {"seed": seeds[best], "distance": round(distances[best], 2),
                 "originality": None if scores[best] is None else round(float(scores[best]), 3),
                 "near_copies": len(copies)})


def _morph(ctx: Context) -> Made:
    run = Run.open(ctx.done["train"].artefacts["run"])
    folder = ctx.path("morph")
    folder.mkdir(parents=True, exist_ok=True)
    coll = Collection.open(ctx.done["sitter"].artefacts["collection"])
    source = folder / "source.png"
    if not source.is_file():
        save_png(np.asarray(coll.images[SOURCE_INDEX]), source)
    video = folder / ("morph.mp4" if importlib.util.find_spec("imageio_ffmpeg") else "morph.gif")
    steps = _projection_steps(ctx.minutes)
    cfg = MorphConfig(seconds=MORPH_SECONDS, fps=MORPH_FPS, size=MORPH_FRAME,
                      project=ProjectConfig(steps=steps, video=False))
    projected = folder / "morph-projection" / "latent.safetensors"  # kept by an interrupted earlier try
    seed = ctx.fact("self-portrait", "seed")
    pic = picture_path(ctx, 4, "morph")
    morph(run, source, seed, video, cfg, latent=projected if projected.is_file() else None, device=ctx.device,
          strip=pic, progress=ctx.progress)
    frames = round(MORPH_SECONDS * MORPH_FPS)
    note = "" if video.suffix == ".mp4" else " (a gif: install belamy[video] for mp4)"
    return Made(f"{MORPH_SECONDS:g} s, {frames} frames at {MORPH_FPS:g} fps, {MORPH_FRAME} px: the source painting "
                f"projected ({steps} steps), then walked to seed {seed}{note}",
                {"video": video, "source": source, "projection": projected.parent}, pic,
                {"seconds": MORPH_SECONDS, "fps": MORPH_FPS, "frames": frames})


def _brush(ctx: Context) -> Made:
    folder = ctx.path("brush")
    folder.mkdir(parents=True, exist_ok=True)
    photo = folder / "photo.png"
    if not photo.is_file():
        save_png(render_paint_photo(seed=7, size=512), photo)
    portrait = ctx.done["self-portrait"].artefacts["self-portrait"]
    # on a 64 px render the default brushes (4 % of the side, then half, then a quarter) are 1-3 px wide:
    # two broader ones, so the strokes still read once the print is upscaled
    cfg = BrushConfig(strength=0.7, stroke_size=0.12, layers=2, region="figure", seed=0)
    res = brush(portrait, photo, folder, cfg, force=True, progress=ctx.progress)
    cells = [np.asarray(Image.open(p).convert("RGB").resize((256, 256), Image.Resampling.LANCZOS))
             for p in (portrait, photo, res.composite)]
    pic = save_picture(make_grid(cells, cols=3, pad=4), picture_path(ctx, 5, "brush"))
    return Made(f"{res.record['strokes']} strokes with the photo's paint over the figure", {
        "composite": res.composite, "layer": res.layer, "record": res.record_path, "photo": photo}, pic)


def _finish(ctx: Context) -> Made:
    keys = recipe_keys(ctx)
    composite = ctx.done["brush"].artefacts["composite"]
    res = finish(composite, ctx.path("artwork"), FinishOptions(printing=PrintConfig(size=PRINT), keys=keys,
                                                               title=TITLE), force=True)
    check_verified([res.artwork], keys)
    with Image.open(res.artwork) as im:
        pic = save_picture(im, picture_path(ctx, 6, "finish"), side=512)
        w, h = im.size
    return Made(f"'{TITLE}', {w}x{h} px, signed by {res.record['signer']['name']}: verified",
                {"artwork": res.artwork, "record": res.record_path, "c2pa": res.sidecar, "keys": keys}, pic,
                {"record_sha256": record_sha256(res.record)})


def _nft(ctx: Context) -> Made:
    artwork = ctx.done["finish"].artefacts["artwork"]
    exp = nft_export(artwork, ctx.path("nft"), NftOptions(
        description="A self-portrait a GAN learned from a series of paintings of one sitter, brushed with the "
                    "paint of a photograph (belamy recipe instantiation).", force=True))
    lines = [f"name: {exp.token.get('name')}", f"image: ipfs://{exp.image_cid}",
             f"tokenURI: ipfs://{exp.metadata_cid}", f"CAR: {exp.car.name}"]
    pic = _card(artwork, "NFT metadata", lines, picture_path(ctx, 7, "nft"))
    return Made(f"tokenURI ipfs://{exp.metadata_cid[:16]}...", {"metadata": exp.metadata, "car": exp.car,
                                                                "cids": exp.cids}, pic,
                {"image_cid": exp.image_cid, "metadata_cid": exp.metadata_cid})


def _mint(ctx: Context) -> Made:
    keys = Path(ctx.done["finish"].artefacts["keys"])
    artwork = ctx.done["finish"].artefacts["artwork"]
    led = ledger_api.init_once(ctx.path("ledger"), keys, origin="belamy.recipe/instantiation")
    index, now = ledger_api.mint_once(led, artwork, keys)
    note = "" if now else " (found on the ledger from an earlier run)"
    owner = _entries(led, artwork)[-1]["owner"]["name"]
    pic = _card(artwork, "minted", _history_lines(led, artwork), picture_path(ctx, 8, "mint"))
    return Made(f"entry {index}, owned by {owner}{note}", {"ledger": led}, pic, {"index": index, "owner": owner})


def _transfer(ctx: Context) -> Made:
    keys = Path(ctx.done["finish"].artefacts["keys"])
    artwork = ctx.done["finish"].artefacts["artwork"]
    led = Path(ctx.done["mint"].artefacts["ledger"])
    buyer = ctx.path("buyer")
    if not (buyer / "signer.key").is_file():
        init_keys(buyer, BUYER)
    buyer_key = ledger_api.owner_key(buyer)
    last = _entries(led, artwork)[-1]
    if last["type"] == "transfer" and last["owner"]["key"] == buyer_key:
        index, note = last["index"], " (found on the ledger from an earlier run)"
    else:
        index, _ = ledger_api.transfer(led, artwork, to=BUYER, to_key=buyer, keys=keys, price=PRICE)
        note = ""
    report = ledger_api.verify(led)
    entries = _entries(led, artwork)
    owner = entries[-1]["owner"]["name"]
    if not report.ok:
        raise BelamyError(f"the ledger in {led} does not verify after the transfer: run `belamy ledger verify {led}`")
    if owner != BUYER:
        raise BelamyError(f"{artwork} now belongs to {owner}, not {BUYER}: see `belamy ledger show {led} {artwork}`")
    pic = _card(artwork, f"sold to {BUYER}", _history_lines(led, artwork) + ["ledger verifies: yes"],
                picture_path(ctx, 9, "transfer"))
    return Made(f"entry {index}: sold to {BUYER} for {PRICE}{note}; the ledger verifies, {len(entries)} entries",
                {"ledger": led, "buyer": buyer}, pic, {"index": index, "owner": owner, "entries": len(entries)})


# ----------------------------------------------------------------------------- helpers


def _series_count(minutes: float) -> int:
    """Renders to choose the self-portrait from: 16 at the default budget, more with more."""
    return int(min(64, max(8, round(16 * minutes / DEFAULT_MINUTES))))


def _projection_steps(minutes: float) -> int:
    """Projection steps for the morph's source painting: 100 at the default budget (about a minute
    on 2 cores, each step a forward and backward pass of G), more with more."""
    return int(min(500, max(20, round(100 * minutes / DEFAULT_MINUTES))))


def _thumb(arr: np.ndarray) -> np.ndarray:
    """(H, W, 3) float -> 16x16x3 area average, what 'the same likeness' is compared on."""
    h = arr.shape[0]
    k = max(1, h // 16)
    return arr[:k * 16, :k * 16].reshape(16, k, 16, k, 3).mean((1, 3))


def _entries(led: Path, artwork: Path) -> list[dict[str, Any]]:
    return ledger_api.history(led, artwork)["artwork"]["entries"]


def _history_lines(led: Path, artwork: Path) -> list[str]:
    lines = []
    for e in _entries(led, artwork):
        price = f" for {e['price']}" if e.get("price") else ""
        lines.append(f"#{e['index']} {e['type']}: to {e['owner']['name']}{price}")
    return lines


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow before 10.1: the small bitmap font
        return ImageFont.load_default()


def _card(artwork: Path, heading: str, lines: list[str], path: Path) -> Path:
    """The artwork small, beside a heading and a few lines of what the step wrote."""
    side = 256
    with Image.open(artwork) as im:
        thumb = im.convert("RGB").resize((side, side), Image.Resampling.LANCZOS)
    font, big = _font(14), _font(20)
    card = Image.new("RGB", (side + 24 + 520, side + 24), (24, 24, 24))
    card.paste(thumb, (12, 12))
    draw = ImageDraw.Draw(card)
    draw.text((side + 28, 16), heading, font=big, fill=(236, 222, 180))
    for i, line in enumerate(lines[:9]):
        draw.text((side + 28, 52 + 22 * i), line if len(line) <= 62 else line[:59] + "...", font=font,
                  fill=(220, 220, 220))
    return save_picture(card, path)
