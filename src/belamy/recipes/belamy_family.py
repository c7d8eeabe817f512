"""`belamy recipe belamy-family`: a portrait family of 11, one of them printed, signed with the GAN
loss formula and recorded on a ledger, with every author of the code credited.

The work it follows trained a GAN on portraits, rendered an 11-portrait family, printed one
signed with the GAN objective, and was then faulted for not crediting the code it came from. So
this recipe ends with a certificate whose credits name the models' papers and code, and the
collection's sources, beside the ledger's proof of who owns the print.

The portraits are the built-in demo gallery; the model is the default (at equal CPU time it is
much closer to the collection than a DCGAN: docs/benchmarks.md), and the pick is the member the
run's own discriminator finds most convincing, a choice the record and the summary state.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from belamy.api import ledger as ledger_api
from belamy.api.certificate import certificate
from belamy.api.config import DEFAULT_PRESET, resolve_train_config
from belamy.api.explore import series
from belamy.api.finish import FinishOptions, finish
from belamy.data.collect import collect
from belamy.finish.printing import PrintConfig
from belamy.generate.series import SeriesConfig
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
from belamy.studio.dscore import DScorer

SIZE = 64  # the default preset's resolution
TRAIN_SHARE = 0.85  # of --minutes; collecting, rendering, finishing and minting take about a minute
FAMILY = 11
FAMILY_SEED = 1
TRUNCATION = 0.7
PRINT = "1024px"  # 16x the render: the most finish allows
TITLE = "Portrait of a Belamy"


def _portraits(ctx: Context) -> Made:
    coll = collect(["demo://portraits"], ctx.path("collection"), size=SIZE)
    pic = picture_path(ctx, 1, "portraits")
    shutil.copyfile(coll.path / "preview.png", pic)
    return Made(f"{len(coll)} demo portraits at {SIZE} px", {"collection": coll.path}, pic)


def _train(ctx: Context) -> Made:
    minutes = ctx.minutes_for(TRAIN_SHARE)
    cfg = resolve_train_config(preset=DEFAULT_PRESET, minutes=minutes, device=ctx.device, preview_kimg=1.0)
    run = train_step(ctx, ctx.done["portraits"].artefacts["collection"], ctx.path("run"), cfg)
    pic = picture_path(ctx, 2, "train")
    shutil.copyfile(latest_preview(run.path) or run.path / "curves.png", pic)
    return Made(f"{minutes:.1f} min of {DEFAULT_PRESET}{trained(run.path)}",
                {"run": run.path, "generator": run.path / "generator.safetensors"}, pic)


def _family(ctx: Context) -> Made:
    cfg = SeriesConfig(n=FAMILY, family=FAMILY_SEED, truncation=TRUNCATION, title="The Belamy family")
    res = series(ctx.done["train"].artefacts["run"], ctx.path("family"), cfg, device=ctx.device)
    pic = picture_path(ctx, 3, "family")
    shutil.copyfile(res.contact_sheet, pic)
    return Made(f"{len(res.renders)} relatives of family {FAMILY_SEED} (spread {cfg.spread}, truncation "
                f"{TRUNCATION})", {"family": res.folder, "contact sheet": res.contact_sheet}, pic,
                facts={"renders": [str(p) for p in res.renders]})


def _pick(ctx: Context) -> Made:
    run = str(ctx.done["train"].artefacts["run"])
    renders = [Path(p) for p in ctx.fact("family", "renders")]
    scorer = DScorer("cpu")
    scores = [scorer.score(run, p)[0] for p in renders]
    best = int(np.argmax(scores))
    pic = picture_path(ctx, 4, "pick")
    marked_grid([np.asarray(Image.open(p).convert("RGB")) for p in renders], best, pic)
    return Made(f"{renders[best].name}: the discriminator's highest score of the {len(renders)} ({scores[best]:.2f}; "
                f"lowest {min(scores):.2f})", {"pick": renders[best]}, pic,
                facts={"scores": [round(s, 4) for s in scores], "pick": str(renders[best])})


def _finish(ctx: Context) -> Made:
    pick = Path(ctx.fact("pick", "pick"))
    keys = recipe_keys(ctx, "belamy-family recipe")
    title = f"{TITLE}, {pick.stem}"
    art = finish(pick, ctx.path("artwork"), FinishOptions(printing=PrintConfig(size=PRINT), keys=keys, title=title),
                 device=ctx.device, force=True)
    check_verified([art.artwork], keys)
    with Image.open(art.artwork) as im:
        pic = save_picture(im, picture_path(ctx, 5, "finish"), side=512)
    return Made(f"'{title}' printed at {PRINT}, signed with the GAN objective, C2PA-signed; verifies",
                {"artwork": art.artwork, "record": art.record_path}, pic)


def _record(ctx: Context) -> Made:
    keys = recipe_keys(ctx, "belamy-family recipe")
    artwork = ctx.done["finish"].artefacts["artwork"]
    path = ledger_api.init_once(ctx.path("ledger"), keys)
    index, _ = ledger_api.mint_once(path, artwork, keys)
    report = ledger_api.verify(path)
    if not report.ok:
        raise RuntimeError(f"the ledger does not verify: {report.findings}")
    cert = certificate(artwork, ctx.path("certificate.html"), ledger=path)
    public = ledger_api.export(path, ctx.path("ledger-public"))
    return Made(f"minted as entry {index} (the ledger verifies); a certificate crediting the code's and the data's "
                "authors", {"ledger": path, "published ledger": public, "certificate": cert})


def build() -> Recipe:
    return Recipe(
        name="belamy-family",
        title="an 11-portrait family; one printed, signed with the GAN loss formula, recorded",
        default_minutes=15.0,
        steps=[
            Step("portraits", "paint the demo portraits into a collection", _portraits),
            Step("train", "train the default model on them", _train),
            Step("family", f"render a family of {FAMILY} related portraits", _family),
            Step("pick", "pick the member the run's discriminator scores highest", _pick),
            Step("finish", f"print it at {PRINT}, sign it with the GAN objective, record its provenance", _finish),
            Step("record", "mint it on a ledger and write its certificate", _record),
        ],
    )
