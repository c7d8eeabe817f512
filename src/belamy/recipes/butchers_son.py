"""`belamy recipe butchers-son`: poses -> stick figures -> pix2pix -> super-resolution, thousands
of renders, 20 picked by taste and finished.

The work it follows drew stick figures from a large set of human poses, turned them into figures
through a chain of GANs (pose -> image with pix2pix), refined them with a super-resolution GAN,
and picked 20 works out of thousands of renders. Here the figures are the built-in demo (each
painted over the pose it is paired with), the poses come from the procedural sampler, and the
picking is done in the studio: by the artist in the browser, or, with `--no-browser` (or no
terminal to answer), by a scripted critic whose ratings teach the studio's taste model, which then
ranks every render. Counts scale with `--minutes`: 2000 renders at the default budget.
"""

from __future__ import annotations

import shutil
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from belamy.api.chain import run_chain
from belamy.api.config import resolve_train_config
from belamy.api.finish import FinishOptions, finish
from belamy.api.poses import sample_poses_to
from belamy.api.upscale import SRUpscaler
from belamy.chain.config import (
    ChainConfig,
    OutputStep,
    PosesStep,
    TranslateStep,
    UpscaleStep,
)
from belamy.core.errors import BelamyError
from belamy.core.grid import labelled_rows, make_grid, spread_indices
from belamy.data.collect import collect
from belamy.data.collection import Collection
from belamy.data.pairs import Pairs, derive_pairs, is_pairs
from belamy.data.pose_collection import PoseCollection
from belamy.data.stick import StickConfig, render_stick
from belamy.finish.printing import PrintConfig
from belamy.recipes.base import (
    Context,
    Made,
    Recipe,
    Step,
    check_verified,
    picture_path,
    recipe_keys,
    train_step,
    trained,
)

DEFAULT_MINUTES = 11.0
SIZE = 64  # the pix2pix resolution; the super-resolution step doubles it
SR_SIZE = 2 * SIZE  # the figures the x2 super-resolution run learns from
P2P_SHARE, SR_SHARE = 0.55, 0.2  # of --minutes; sampling, rendering, ranking and finishing take the rest
P2P_PRESET, SR_PRESET = "pix2pix-64", "sr-x2"
SR_L1_SHARE = 0.3  # the super-resolution run's L1 stage, as a share of its budget (then its GAN joins)
SR_IMAGES_PER_SECOND = 20.0  # a 2-core CPU's pace on sr-x2 (previews included), to put the GAN's start in kimg
FIGURES = 400  # demo figures at the default budget (the whole demo set)
RENDERS = 2000  # poses sampled and rendered at the default budget
PICKS = 20
RATED = 40  # renders the scripted critic rates (the taste model needs 30)
POSE_SEED = 0
PRINT = "512px"  # 4x the 128 px render: a modest print, so twenty finish in seconds
TITLE = "The butcher's son, study"


def _scaled(ctx: Context, at_default: int, least: int) -> int:
    """A count in proportion to the budget (`at_default` at the default one), at least `least`."""
    return max(least, round(at_default * ctx.minutes / DEFAULT_MINUTES))


def _figure_count(ctx: Context) -> int:
    return min(FIGURES, _scaled(ctx, FIGURES, 48))


def _render_count(ctx: Context) -> int:
    return _scaled(ctx, RENDERS, 50)


def _pick_count(renders: int) -> int:
    """20, or fewer at a tiny budget (a tenth of the renders, at least 5)."""
    return min(PICKS, max(5, renders // 10), renders)


def _array(img: Any) -> np.ndarray:
    return np.asarray(img.convert("RGB") if isinstance(img, Image.Image) else img, np.uint8)


def _load(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


# -- the steps ----------------------------------------------------------------------------------
def _figures(ctx: Context) -> Made:
    n = _figure_count(ctx)
    small = collect(["demo://figures"], ctx.path("figures"), size=SIZE, demo_count=n, progress=ctx.progress)
    big = collect(["demo://figures"], ctx.path(f"figures-{SR_SIZE}"), size=SR_SIZE, demo_count=n,
                  progress=ctx.progress)
    pic = picture_path(ctx, 1, "figures")
    shutil.copyfile(big.path / "preview.png", pic)
    return Made(f"{len(small)} demo figures, each painted over its pose, at {SIZE} px (for pix2pix) and {SR_SIZE} px "
                "(for super-resolution)", {"figures": small.path, f"figures {SR_SIZE} px": big.path}, pic,
                facts={"figures": len(small)})


def _pairs(ctx: Context) -> Made:
    out = ctx.path("pairs")
    if not is_pairs(out):
        shutil.rmtree(out, ignore_errors=True)  # an interrupted build: pairs.json is written last
        derive_pairs(ctx.done["figures"].artefacts["figures"], out, "pose")
    pairs = Pairs.open(out)
    pic = picture_path(ctx, 2, "pairs")
    shutil.copyfile(pairs.path / "preview.png", pic)
    return Made(f"{len(pairs)} pairs: the stick figure of each figure's pose beside the figure", {"pairs": pairs.path},
                pic, facts={"pairs": len(pairs)})


def _pix2pix(ctx: Context) -> Made:
    from belamy.generate.translate import translate_arrays
    from belamy.models.run import Run

    minutes = ctx.minutes_for(P2P_SHARE)
    cfg = resolve_train_config(preset=P2P_PRESET, minutes=minutes, device=ctx.device)
    pairs_dir = ctx.done["pairs"].artefacts["pairs"]
    run = train_step(ctx, pairs_dir, ctx.path("pix2pix"), cfg)
    pairs = Pairs.open(pairs_dir)
    idx = spread_indices(len(pairs), 8)
    sticks = np.stack([_array(pairs.condition.images[i]) for i in idx])
    made = translate_arrays(Run.open(run.path).generator("cpu"), sticks)
    targets = [_array(pairs.target.images[i]) for i in idx]
    pic = picture_path(ctx, 3, "pix2pix")
    labelled_rows([("stick figure", list(sticks)), ("pix2pix", list(made)), ("painted", targets)],
                  label_width=110).save(pic)
    step = trained(run.path)
    return Made(f"{minutes:.1f} min of {P2P_PRESET} (U-Net G, PatchGAN D, L1 + GAN){step}",
                {"run": run.path, "generator": run.path / "generator.safetensors"}, pic)


def _sr(ctx: Context) -> Made:
    minutes = ctx.minutes_for(SR_SHARE)
    gan_start = round(SR_L1_SHARE * minutes * 60 * SR_IMAGES_PER_SECOND / 1000, 3)
    cfg = resolve_train_config(preset=SR_PRESET, minutes=minutes, device=ctx.device, degrade="light",
                               gan_start_kimg=gan_start)
    coll = ctx.done["figures"].artefacts[f"figures {SR_SIZE} px"]
    run = train_step(ctx, coll, ctx.path("sr"), cfg)
    # low-res | Lanczos | super-resolution | original, on a few of the figures it learned from
    figures = Collection.open(coll)
    idx = spread_indices(len(figures), 6)
    originals = [_array(figures.images[i]) for i in idx]
    lows = [np.asarray(Image.fromarray(a).resize((SIZE, SIZE), Image.Resampling.BICUBIC)) for a in originals]
    up = SRUpscaler(run.path, "cpu", tile=0)
    rows = [(f"low-res\n{SIZE} px", lows),
            ("Lanczos\nx2", [np.asarray(Image.fromarray(a).resize((SR_SIZE, SR_SIZE), Image.Resampling.LANCZOS))
                            for a in lows]),
            ("super-res\nx2", [up(a, (SR_SIZE, SR_SIZE)) for a in lows]),
            (f"original\n{SR_SIZE} px", originals)]
    pic = picture_path(ctx, 4, "sr")
    labelled_rows([(label, [_cell(a, SR_SIZE) for a in images]) for label, images in rows], label_width=110).save(pic)
    return Made(f"{minutes:.1f} min of {SR_PRESET} (--degrade light; the GAN joins at {gan_start:g} kimg)"
                f"{trained(run.path)}", {"run": run.path, "generator": run.path / "generator.safetensors"}, pic)


def _cell(arr: np.ndarray, side: int) -> np.ndarray:
    if arr.shape[0] == side:
        return arr
    return np.asarray(Image.fromarray(arr).resize((side, side), Image.Resampling.NEAREST))


def _poses(ctx: Context) -> Made:
    n = _render_count(ctx)
    coll = sample_poses_to(ctx.path("poses"), n, seed=POSE_SEED, progress=ctx.progress)
    plausible = (coll.report or {}).get("plausible", {})
    idx = spread_indices(len(coll), 32)
    cfg = StickConfig(size=SIZE)
    pic = picture_path(ctx, 5, "poses")
    make_grid([render_stick(coll.poses[i], cfg) for i in idx], cols=8).save(pic)
    share = plausible.get("ok")
    extra = f" ({share:.0%} plausible by the pose checks)" if isinstance(share, (int, float)) else ""
    return Made(f"{len(coll)} procedural poses, seed {POSE_SEED}{extra}", {"poses": coll.path}, pic,
                facts={"poses": len(coll)})


def _chain(ctx: Context) -> Made:
    poses_dir = ctx.done["poses"].artefacts["poses"]
    n = len(PoseCollection.open(poses_dir))
    cfg = ChainConfig(poses=PosesStep(count=n, seed=POSE_SEED, source=str(Path(poses_dir).resolve())),
                      translate=TranslateStep(run=str(Path(ctx.done["pix2pix"].artefacts["run"]).resolve())),
                      upscale=UpscaleStep(run=str(Path(ctx.done["sr"].artefacts["run"]).resolve()), tile=0),
                      output=OutputStep(batch=16, sticks=True))
    out = ctx.path("chain")
    res = run_chain(cfg, out, device=ctx.device, progress=ctx.progress)
    renders = out / "renders"
    idx = spread_indices(n, 12)
    names = [f"chain-{i:06d}.png" for i in idx]
    pic = picture_path(ctx, 6, "chain")
    labelled_rows([("stick figure", [_cell(_load(out / "sticks" / s), SR_SIZE) for s in names]),
                   ("pix2pix + SR", [_load(renders / s) for s in names])], label_width=110).save(pic)
    again = f" ({res.skipped} made in an earlier run)" if res.skipped else ""
    return Made(f"{n} renders at {SR_SIZE} px, each with its stick figure and record{again}",
                {"renders": renders, "sticks": out / "sticks", "chain": out / "chain.json"}, pic,
                facts={"renders": n})


# -- picking: the studio, by hand or by the scripted critic ------------------------------------------
def critic_score(path: Path) -> float:
    """The scripted critic's taste: crispness, the mean luminance gradient of the render. Figures
    from a short pix2pix run are mostly blurred; the critic prefers the ones that came out sharp."""
    lum = _load(path).astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    gy, gx = np.gradient(lum)
    return float(np.hypot(gx, gy).mean())


def critic_ratings(paths: list[Path]) -> dict[Path, int]:
    """1 to 5 stars for each of `paths`: the quintile of its crispness among them."""
    scores = np.array([critic_score(p) for p in paths])
    order = np.argsort(scores, kind="stable")
    stars = np.empty(len(paths), int)
    stars[order] = 1 + (np.arange(len(paths)) * 5) // max(1, len(paths))
    return {p: int(s) for p, s in zip(paths, stars)}


def _renders(studio: Any) -> list[Any]:
    return [t for t in studio.library.tiles() if t.viewable and not t.problem and t.name.endswith(".png")]


def _rate_by_critic(studio: Any, count: int) -> int:
    """The critic rates `count` renders spread over the folder, as the page's keys would (only those the
    artist left unrated); returns how many it rated."""
    tiles = _renders(studio)
    sample = [tiles[i] for i in spread_indices(len(tiles), count)]
    marks = studio.state.marks()
    stars = critic_ratings([t.path for t in sample])  # over the whole sample: a resumed step rates alike
    todo = [t for t in sample if (m := marks.get(studio.identity.sha256(t) or "")) is None or m.rating is None]
    for tile in todo:
        studio.set_mark(tile, {"rating": stars[tile.path]})
    return len(todo)


def ranked(studio: Any) -> tuple[dict[str, Any], list[tuple[Any, float]]]:
    """(the taste model's summary, every render with its predicted rating, best first; ties by name)."""
    summary, scores = studio.taste()
    tiles = [t for t in _renders(studio) if t.sha256 in scores]
    return summary, sorted(((t, scores[t.sha256]) for t in tiles), key=lambda ts: (-ts[1], ts[0].name))


def _by_hand(ctx: Context, renders: Path, state: Path, n: int) -> None:
    """The studio in the browser until the artist has picked `n` renders or pressed Enter."""
    from belamy.studio.server import StudioServer, open_browser

    srv = StudioServer([renders], state=state, device=ctx.device).start()
    pressed = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), pressed.set()), daemon=True).start()
    try:
        open_browser(srv.url)
        ctx.say(f"    the studio is open at {srv.url}: rate with 1-5, pick with P; the recipe goes on when {n} are "
                "picked, or press Enter (the learned taste picks the rest once 30 are rated, else a scripted critic)")
        while not pressed.wait(0.5):
            marks = srv.studio.state.marks()
            if sum(1 for t in _renders(srv.studio) if (m := marks.get(t.sha256 or "")) is not None and m.pick) >= n:
                break
    finally:
        srv.stop()


def _interactive(ctx: Context) -> bool:
    if not ctx.browser or not sys.stdin.isatty():
        return False
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        ctx.say("    the studio needs the 'studio' extra (pip install 'belamy[studio]'): "
                "the scripted critic rates instead")
        return False
    return True


def _pick(ctx: Context) -> Made:
    from belamy.studio.export import export_picks
    from belamy.studio.service import Studio, default_state

    renders = Path(ctx.done["chain"].artefacts["renders"])
    state = default_state([renders])  # the studio's own: `belamy studio OUT/chain/renders` reopens these marks
    n = _pick_count(int(ctx.fact("chain", "renders")))
    by_hand = _interactive(ctx)
    if by_hand:
        _by_hand(ctx, renders, state, n)
    studio = Studio([renders], state, warm=False, device=ctx.device)
    try:
        marks = studio.state.marks()
        chosen = [t for t in _renders(studio) if (m := marks.get(studio.identity.sha256(t) or "")) is not None
                  and m.pick]
        by_artist, rated = (len(chosen) if by_hand else 0), 0
        if len(chosen) < n:  # the critic's ratings (where the artist gave too few), then the taste model's order
            summary, _ = studio.taste()
            if not summary.get("ready"):
                rated = _rate_by_critic(studio, max(RATED, summary.get("needed", RATED)))
            summary, order = ranked(studio)
            if not summary.get("ready"):
                raise BelamyError(f"the taste model is not ready ({summary.get('ratings', 0)} ratings, it needs "
                                  f"{summary.get('needed')} that differ): rate more renders in the studio")
            rejected = {sha for sha, m in studio.state.marks().items() if m.reject}
            have = {t.sha256 for t in chosen}
            for tile, _ in order:
                if len(chosen) >= n:
                    break
                if tile.sha256 not in have and tile.sha256 not in rejected:
                    studio.set_mark(tile, {"pick": True})
                    chosen.append(tile)
                    have.add(tile.sha256)
        summary, order = ranked(studio)
        total = len(_renders(studio))
    finally:
        studio.close()
    if not chosen:
        raise BelamyError("no render was picked: open the studio again and pick some with P")
    rank = {t.name: i for i, (t, _) in enumerate(order)}
    chosen.sort(key=lambda t: (rank.get(t.name, len(rank)), t.name))  # in the taste model's order
    exported = export_picks([renders], ctx.path("picks"), state)
    names = [t.name for t in chosen]
    scores = {t.name: s for t, s in order}
    pic = picture_path(ctx, 7, "pick")
    half = (len(chosen) + 1) // 2
    rows = [(f"picked {1}-{half}", [_load(t.path) for t in chosen[:half]])]
    if chosen[half:]:
        rows.append((f"picked {half + 1}-{len(chosen)}", [_load(t.path) for t in chosen[half:]]))
    if order:
        rows.append(("lowest by taste", [_load(t.path) for t, _ in order[-half:]]))
    labelled_rows(rows, label_width=120).save(pic)
    how = f"the taste model after the scripted critic rated {rated}" if rated else "the taste model"
    if by_hand:
        how = f"the artist in the studio ({by_artist})" + (f" and {how}" if len(chosen) > by_artist else "")
    acc = f"; out-of-fold Spearman {summary['spearman']:.2f}" if "spearman" in summary else ""
    return Made(f"{len(chosen)} of {total} renders picked by {how}{acc}",
                {"picks": ctx.path("picks"), "ratings": exported.ratings_csv or ctx.path("picks", "ratings.csv"),
                 "studio state": state}, pic,
                facts={"picks": names, "taste": dict(summary),
                       "pick_scores": [round(scores[nm], 4) if nm in scores else None for nm in names],
                       "by_artist": by_artist, "critic_rated": rated})


def _finish(ctx: Context) -> Made:
    picks = ctx.path("picks")
    names = list(ctx.fact("pick", "picks"))
    keys = recipe_keys(ctx, "butchers-son recipe")
    out = ctx.path("artworks")
    arts = []
    for rank, name in enumerate(names, 1):
        art = out / name  # finish names the artwork after the render (PNG), written last
        if not art.is_file():
            art = finish(picks / name, out, FinishOptions(printing=PrintConfig(size=PRINT), keys=keys,
                                                          title=f"{TITLE} {rank:02d} ({Path(name).stem})"),
                         force=True).artwork
        arts.append(art)
    check_verified(arts, keys)
    pic = picture_path(ctx, 8, "finish")
    make_grid([_thumb(a) for a in arts], cols=min(5, len(arts))).save(pic)
    return Made(f"{len(arts)} artworks printed at {PRINT}, signed with the GAN objective, with provenance records "
                "and C2PA manifests; all verify", {"artworks": out}, pic,
                facts={"artworks": [a.name for a in arts]})


def _thumb(path: Path, side: int = 192) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB").resize((side, side), Image.Resampling.LANCZOS))


def build() -> Recipe:
    return Recipe(
        name="butchers-son",
        title="poses -> stick figures -> pix2pix -> super-resolution; thousands of renders, 20 picked and finished",
        default_minutes=DEFAULT_MINUTES,
        steps=[
            Step("figures", "paint the demo figures over their poses, at 64 and 128 px", _figures),
            Step("pairs", "pair each figure with the stick figure of its pose", _pairs),
            Step("pix2pix", f"train pix2pix (stick figure -> figure) for {P2P_SHARE:.0%} of the budget", _pix2pix),
            Step("sr", f"train a x2 super-resolution GAN on the 128 px figures for {SR_SHARE:.0%} of the budget", _sr),
            Step("poses", "sample thousands of procedural poses", _poses),
            Step("chain", "draw each pose as a stick figure, translate it with pix2pix, upscale it x2", _chain),
            Step("pick", "rate and rank the renders in the studio, pick 20", _pick),
            Step("finish", f"finish the picks: print at {PRINT}, sign, record provenance", _finish),
        ],
    )
