"""Quality at equal wall time: every model trains on the same collection for the same CPU minutes,
and its renders are measured against the collection; the floor is two random halves of the
collection measured against each other (what a perfect model would score with that many images).

    python benchmarks/quality.py                              # demo + clipart, default vs dcgan, 5/30 min
    python benchmarks/quality.py --collections demo --budgets 5 --models default,dcgan
    python benchmarks/quality.py --variant nonoise:model.use_noise=false --models default,nonoise
    python benchmarks/quality.py --unit idle-minutes --budgets 5,10,30 --seeds 0,1,2 --jobs 2 --long demo:default
    python benchmarks/quality.py --unit kimg --budgets 29.1 --seeds 0,1,2 --steady 0.86 ...  # + mean SWD of 2 checkpoints
    python benchmarks/quality.py --unit kimg --budgets 25.08,29.1,58.2,174.6 --short 2 --seeds 0,1,2,3,4 ...
    python benchmarks/quality.py --rescore WORK     # recount near copies from WORK's saved renders
    python benchmarks/quality.py --reuse dcgan --reuse-work OLDWORK ...   # baseline rows from the last run

Early GAN training varies a lot from seed to seed (the same configuration scored SWD 71 and 186
after the same 17 kimg), so `--seeds` trains each model once per seed and the table gives the
median; `--jobs 2` runs two trainings at once with one thread each, which is fair only when the
budget is in images (`--unit kimg`, or `idle-minutes`, which converts minutes to images at each
model's idle speed).

Collections: `demo` (the built-in procedural portraits, 300 at 64 px) and `clipart` (the 400
public-domain drawings of people in Debian's openclipart-png, fetched with `apt-get download` into
the cache folder and collected at 64 px on white; nothing is committed), and three from Debian's
Battle for Wesnoth 1.16 packages (GPL-2+ art, fetched the same way): `portraits` (241 painted
figures, padded on white), `sprites` (the units' standing sprites, drawings of one subject on
white, animation frames left out) and `scenes` (the campaigns' painted story pictures, cropped;
only about 80). Each (collection, model)
trains once in a subprocess; at each budget in `--budgets` the run is resumed up to that total
training time, so the 5-minute figure and the 30-minute figure come from one run (re-invoking with
the same --work resumes every run; a budget a run has already passed is skipped). A model whose
learning rates ramp down (`lr_rampdown`) ramps to the end of its budget, so it trains one run per
budget instead. At each budget: SWD (x1e3, Laplacian-pyramid patches), and KID, precision and
recall (Kynkaanniemi et al. 2019, k=3; in belamy-rand-v1, a feature space that needs no downloaded
weights) of N renders against half A of the collection, where N is the size of half B; the floor
is A against B. Recall says how much of the collection's variety the renders cover, which SWD
mixes with everything else. Originality: how many of the N renders are near copies of a training
image (`belamy.metrics.originality`, score < 0.5). Renders use truncation 1 (no cherry-picking) and the
EMA generator. SWD is given per Laplacian level (64/32/16 px), each the median over seeds; `layout`
says how much of the frame the ink covers, how far off-centre and how deep (pale) it is, and how
many images carry an augmentation's mark (translation's mid-grey edge, cutout's grey square);
`--relayout WORK` adds it to an older result. Also reported: images shown, img/s, and the run's peak resident memory.

Outside peers (lightweight-gan, stylegan2-pytorch from PyPI) hard-code CUDA and pull a CUDA build of
torch: the table says whether they are installed here, and `benchmarks/peers.py` trains them at
equal wall time in their own environment (on a CPU through a shim) and scores them the same way.
Prints a table, writes benchmarks/results/quality.json and one contact sheet per collection to
`--sheets` (docs/quality by default): a row of real images, then 10 renders of each model at each
budget.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import (  # noqa: E402
    budget_runs, idle_images, openclipart_png, past_budget, train_config, trained_images, variant, write_result,
)

ROOT = Path(__file__).resolve().parents[1]
MODELS = {"default": ["--preset", "cpu-quick-64"], "dcgan": ["--preset", "dcgan-64"]}
PEERS = {"lightweight-gan": "lightweight_gan", "stylegan2-pytorch": "stylegan2_pytorch"}


def belamy(*args: str) -> None:
    env = {**os.environ, "BELAMY_PROGRESS": "0"}
    r = subprocess.run([sys.executable, "-m", "belamy", *args], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"belamy {' '.join(args)} failed:\n{r.stderr[-3000:]}")


def debian_tree(cache: Path, folder: str, packages: list[str]) -> Path:
    """Debian `packages` downloaded once into `cache` and unpacked together into cache/FOLDER."""
    root = cache / folder
    if (root / ".unpacked").is_file():
        return root
    debs = cache / f"{folder}-debs"
    debs.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", *packages], cwd=debs, check=True, capture_output=True)
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    (root / ".unpacked").write_text("\n".join(packages) + "\n")
    return root


WESNOTH = "usr/share/games/wesnoth/1.16/data"
WESNOTH_CAMPAIGNS = ["httt", "tsg", "trow", "ttb", "ei", "utbs", "did", "nr", "sof", "sotbe", "l", "thot", "low",
                     "dm", "dw", "sota"]
# words of a Wesnoth unit sprite's file name that mark an animation frame, another facing or an effect
# layer, not the unit itself (a word that ends in a digit is a frame too)
SPRITE_FRAMES = {"attack", "defend", "die", "death", "dying", "idle", "melee", "ranged", "magic", "bob", "fly",
                 "takeoff", "inhale", "landing", "leading", "healing", "moving", "run", "swim", "water", "sleep",
                 "bow", "crossbow", "sword", "blade", "shadow", "torch", "overlay", "hover", "glow", "flame", "tail",
                 "dust", "top", "rise", "launch", "throw", "se", "ne", "sw", "nw", "n", "s", "e", "w"}


def wesnoth_sprite(path: Path) -> bool:
    """A unit's standing sprite (units/.../spearman.png), not one of its animation frames, facings or
    effect layers (spearman-attack-2.png, spearman-ne.png, spearman-bow.png, fire-ant-flame3.png)."""
    words = path.stem.lower().replace("+", "-").replace("_", "-").split("-")
    return path.suffix.lower() == ".png" and "units" in path.parts and not any(
        w in SPRITE_FRAMES or w[-1:].isdigit() for w in words)


def wesnoth_story(path: Path) -> bool:
    """A campaign's painted story picture (images/story/*.jpg|png), not a title logo."""
    return (path.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp") and path.parent.name == "story"
            and path.parent.parent.name == "images" and "logo" not in path.stem.lower())


def wesnoth_portrait(path: Path) -> bool:
    """A painted character portrait (images/portraits/**/*.png); transparent around the figure."""
    return path.suffix.lower() == ".png" and "portraits" in path.parts and "images" in path.parts


def staged(files: list[Path], folder: Path) -> Path:
    """The chosen `files` linked flat into `folder` (numbered, so equal names stay apart) for `belamy collect`."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for i, f in enumerate(files):
        (folder / f"{i:04d}-{f.name}").symlink_to(f.resolve())
    return folder


def wesnoth_files(cache: Path, kind: str) -> list[Path]:
    """The images of one kind from Debian's Wesnoth 1.16 packages (GPL-2+ art): `portraits` (painted
    figures, wesnoth-1.16-data), `sprites` (the units' standing sprites, wesnoth-1.16-data) or `story`
    (the painted story pictures of wesnoth-1.16-data and the 16 campaign packages)."""
    packages = ["wesnoth-1.16-data"] + ([f"wesnoth-1.16-{c}" for c in WESNOTH_CAMPAIGNS] if kind == "story" else [])
    root = debian_tree(cache, "wesnoth" if kind != "story" else "wesnoth-story", packages) / WESNOTH
    keep = {"portraits": wesnoth_portrait, "sprites": wesnoth_sprite, "story": wesnoth_story}[kind]
    return sorted(f for f in root.rglob("*") if f.is_file() and keep(f.relative_to(root)))


COLLECTIONS = {  # name: (how it is fitted to a square, licence, author, what it is)
    "demo": ("", "", "", "the built-in procedural portraits"),
    "clipart": ("pad", "CC0-1.0", "openclipart.org contributors", "drawings of people on white (openclipart-png)"),
    "portraits": ("pad", "GPL-2.0-or-later", "Battle for Wesnoth artists",
                  "painted figures on white (wesnoth-1.16-data portraits)"),
    "sprites": ("pad", "GPL-2.0-or-later", "Battle for Wesnoth artists",
                "drawings of one subject, a standing unit, on white (wesnoth-1.16-data unit sprites)"),
    "scenes": ("crop", "GPL-2.0-or-later", "Battle for Wesnoth artists",
               "painted scenes (wesnoth-1.16 story pictures, data and 16 campaigns)"),
}


def prepare(name: str, cache: Path, size: int = 64) -> Path:
    out = cache / f"collection-{name}-{size}"
    if (out / "collection.json").is_file():
        return out
    if name not in COLLECTIONS:
        raise SystemExit(f"unknown collection {name!r}: {', '.join(COLLECTIONS)}")
    if name == "demo":
        belamy("collect", "--demo", "portraits", "-o", str(out), "--size", str(size))
        return out
    fit, license_, author, _ = COLLECTIONS[name]
    source = openclipart_png(cache) / "people" if name == "clipart" else staged(
        wesnoth_files(cache, {"portraits": "portraits", "sprites": "sprites", "scenes": "story"}[name]),
        cache / f"staged-{name}")
    belamy("collect", str(source), "-o", str(out), "--size", str(size), "--fit", fit, "--background", "white",
           "--license", license_, "--author", author)
    return out


def halves(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two random disjoint halves of n images, of equal size (SWD compares equal counts): with an
    odd n, one image is in neither."""
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2: 2 * (n // 2)])


def peers_status() -> dict[str, str]:
    import torch

    out = {}
    for name, module in PEERS.items():
        if importlib.util.find_spec(module) is None:
            out[name] = "not installed here (it pulls a CUDA build of torch): see benchmarks/peers.py"
        elif not torch.cuda.is_available():
            out[name] = "installed; it hard-codes CUDA: run benchmarks/peers.py (CPU shim)"
        else:
            out[name] = "available: run benchmarks/peers.py --device cuda"
    return out


def idle_speeds(path: Path = ROOT / "benchmarks" / "results" / "train_speed.json") -> dict[str, dict[int, float]]:
    """img/s by batch of each model on an idle machine, from the latest `benchmarks/train_speed.py`
    run (the default has two rows when its preset starts with a smaller batch)."""
    rows = json.loads(path.read_text())["rows"]
    pick = {"default": "belamy cpu-quick-64 (stylegan2, default)", "dcgan": "belamy dcgan-64"}
    return {m: {r.get("batch", train_config(MODELS[m]).batch): r["img_s"] for r in rows  # older files: the preset's batch
                if r["config"] == key and r.get("resolution", 64) == 64} for m, key in pick.items()}


def layout(images: np.ndarray, ink: int = 24, grey: int = 6) -> dict:
    """Where the picture is and whether augmentation marks leaked into it, for (N, H, W, 3) uint8
    images on a light ground: the means over images of `coverage` (the fraction of pixels farther
    than `ink` from white in some channel), `offset` (the distance of that ink's centroid from the
    centre, in image sizes), `spread` (the spread of those centroids over the images: scattered
    figures), `bottom` (how much of the bottom row is ink: figures that stand on the lower edge),
    `depth` (how far the inked pixels are from white, 0-1: low is pale);
    and the fraction of images with `grey_edge`, an outermost row or column at least 90% mid-grey
    (within `grey` of 127.5: the zero fill of `translation` in [-1, 1]) or a `grey_square` of
    16 x 16 mid-grey pixels (the zeros of `cutout`, whose 32 px square keeps at least a 16 px quarter
    inside the frame)."""
    x = images.astype(np.float32)
    _, h, w, _ = x.shape
    dist = (255.0 - x).max(axis=3)  # (N, H, W): 0 on white
    mask = dist > ink
    area = mask.sum(axis=(1, 2))
    yy, xx = np.mgrid[0:h, 0:w]
    safe = np.maximum(area, 1)
    cy = (mask * yy).sum(axis=(1, 2)) / safe - (h - 1) / 2
    cx = (mask * xx).sum(axis=(1, 2)) / safe - (w - 1) / 2
    offset = np.where(area > 0, np.hypot(cy / h, cx / w), 0.0)
    depth = (dist * mask).sum(axis=(1, 2)) / safe / 255.0
    g = (np.abs(x - 127.5) <= grey).all(axis=3)  # (N, H, W) mid-grey pixels
    edge = np.stack([g[:, 0, :].mean(1), g[:, -1, :].mean(1), g[:, :, 0].mean(1), g[:, :, -1].mean(1)], 1)
    ii = np.pad(g.cumsum(1).cumsum(2), ((0, 0), (1, 0), (1, 0)))  # integral image
    k = 16
    block = ii[:, k:, k:] - ii[:, :-k, k:] - ii[:, k:, :-k] + ii[:, :-k, :-k]  # grey pixels per k x k window
    spread = float(np.hypot(np.std(cy[area > 0] / h), np.std(cx[area > 0] / w))) if (area > 0).any() else 0.0
    return {"coverage": float(mask.mean()), "offset": float(offset.mean()), "spread": spread,
            "bottom": float(mask[:, -1, :].mean()), "depth": float(depth.mean()),
            "grey_edge": float((edge.max(1) >= 0.9).mean()), "grey_square": float((block == k * k).any(axis=(1, 2)).mean())}


class Judge:
    """The measures of one collection: SWD, KID, precision and recall against half A (the floor
    is A against B), originality against the whole collection."""

    def __init__(self, images: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        from belamy.metrics.features import random_features
        from belamy.metrics.originality import Reference

        self.fx = random_features()
        self.real_a, self.n = images[a], len(b)
        self.feats_a = self.fx(self.real_a)
        self.reference = Reference.build(images, self.fx)
        self.floor = self.score(images[b], originality=False)

    def score(self, fake: np.ndarray, originality: bool = True) -> dict:
        from belamy.metrics.kid import kid
        from belamy.metrics.originality import summarize
        from belamy.metrics.precision_recall import precision_recall
        from belamy.metrics.swd import swd

        feats = self.fx(fake)
        pr = precision_recall(self.feats_a, feats)
        out = {"swd": swd(self.real_a, fake, seed=0), "kid": kid(self.feats_a, feats, seed=0).to_dict(),
               "precision": pr.precision, "recall": pr.recall, "layout": layout(fake)}
        if originality:
            out["originality"] = summarize(self.reference.check(fake, self.fx))
        return out


def measure(run_dir: Path, judge: Judge) -> tuple[dict, np.ndarray]:
    """Scores of n renders (seeds 0..n-1, truncation 1, EMA generator); returns the row and the renders."""
    from belamy.generate.sample import render_batch
    from belamy.models.run import Run

    run = Run.open(run_dir)
    fake = render_batch(run.generator("cpu"), list(range(judge.n)), truncation=1.0)
    stats = [r for r in run.stats() if "img_s" in r]
    return {**judge.score(fake), "kimg": stats[-1]["kimg"] if stats else None,
            "seconds": stats[-1]["seconds"] if stats else None, "aug_p": stats[-1].get("aug_p") if stats else None,
            "img_s": round(float(np.median([r["img_s"] for r in stats[1:]] or [0])), 1),
            "peak_rss_mb": max((r.get("mem_mb", {}).get("rss_peak", 0) for r in stats), default=None)}, fake


def save_sheet(path: Path, real: np.ndarray | None, rows: list[tuple[str, np.ndarray]]) -> None:
    """Renders of each model and budget, under a row of real images when `real` is given (only for
    the built-in demo: third-party images are never put into the repository's docs)."""
    from belamy.core.grid import labelled_rows

    path.parent.mkdir(parents=True, exist_ok=True)
    head = [("collection", real[:10])] if real is not None else []
    labelled_rows(head + [(label, imgs[:10]) for label, imgs in rows]).save(path)


ROWS_LOCK = threading.Lock()


def run_name(collection: str, model: str, seed: int) -> str:
    return f"{collection}-{model}" + ("" if seed == 0 else f"-s{seed}")


def rescore(result: Path, work: Path) -> None:
    """Recount near copies of a finished benchmark from its saved renders with the current
    originality rule (after the rule changed), and rewrite the result file's rows and medians."""
    from belamy.data.collection import Collection
    from belamy.metrics.features import random_features
    from belamy.metrics.originality import Reference, summarize

    data = json.loads(result.read_text())
    fx = random_features()
    cache = Path.home() / ".cache" / "belamy-bench"
    refs = {c: Reference.build(Collection.open(prepare(c, cache, data.get("size", 64))).load(), fx)
            for c in data["floors"]}
    for row in data["rows"]:
        renders = np.load(work / run_name(row["collection"], row["model"], row["seed"]) / f"renders-{row['minutes']:g}.npy")
        before = row["originality"]["near_copies"]
        row["originality"] = summarize(refs[row["collection"]].check(renders, fx))
        print(f"{row['collection']} {row['model']} seed {row['seed']} {row['minutes']:g}: near copies "
              f"{before} -> {row['originality']['near_copies']}", file=sys.stderr)
    data["medians"] = median_rows(data["rows"], data["floors"])
    data["rescored"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    result.write_text(json.dumps(data, indent=2))


def relayout(result: Path, work: Path) -> None:
    """Add the layout measure (and ADA's p at the end) to a finished benchmark's rows from the renders
    and stats saved in WORK, and to its floors from the collections (for results from before it)."""
    from belamy.data.collection import Collection
    from belamy.models.run import Run

    data = json.loads(result.read_text())
    cache = Path.home() / ".cache" / "belamy-bench"
    for c, floor in data["floors"].items():
        images = Collection.open(prepare(c, cache, data.get("size", 64))).load()
        floor["layout"] = layout(images[halves(len(images))[1]])
    for row in data["rows"]:
        run_dir = work / run_name(row["collection"], row["model"], row["seed"])
        row["layout"] = layout(np.load(run_dir / f"renders-{row['minutes']:g}.npy"))
        stats = [r for r in Run.open(run_dir).stats() if "aug_p" in r]
        row.setdefault("aug_p", stats[-1]["aug_p"] if stats else None)
    data["medians"] = median_rows(data["rows"], data["floors"])
    result.write_text(json.dumps(data, indent=2))


def train_and_measure(job: dict, judge: Judge, models: dict, budgets: list[float], unit: str,
                      speeds: dict, threads: int, steady: float = 0.0) -> list[tuple[dict, np.ndarray]]:
    """One (collection, model, seed): train, measure at each budget (resuming in between).

    With `steady` (a fraction such as 0.86), the run is also measured at that fraction of each
    budget on its way there, and the row's `swd_steady` is the mean SWD of the two checkpoints:
    one checkpoint's SWD early in training moves by tens of percent within a few kimg, so the
    mean of two judges a change with less noise than either.
    """
    rows = []
    run_dir = job["run_dir"]

    def train_to(minutes: float) -> None:
        if unit == "idle-minutes":
            images = idle_images(train_config(models[job["model"]]), minutes * 60, speeds[job["model"]])
            limit = ["--kimg", f"{images / 1000:.3f}"]
        else:
            limit = [f"--{unit}", f"{minutes:g}"]
        common = [*limit, "--threads", str(threads), "--device", "cpu"]
        if not (run_dir / "run.json").exists():
            belamy("train", str(job["coll_dir"]), "-o", str(run_dir), *models[job["model"]], *common,
                   "--set", f"seed={job['seed']}", "--preview-kimg", "0", "--set", "checkpoint_minutes=0",
                   "--checkpoint-kimg", "0")
        else:
            belamy("train", "--resume", str(run_dir), *common)

    def already_past(minutes: float) -> bool:
        """The run has trained beyond this budget before (its checkpoint would be mislabelled)."""
        cfg = train_config(models[job["model"]])
        if unit == "idle-minutes":
            images = idle_images(cfg, minutes * 60, speeds[job["model"]])
        elif unit == "kimg":
            images = round(minutes * 1000)
        else:
            return False  # wall-clock minutes: a run's images say nothing about them
        return past_budget(trained_images(run_dir), images, max(cfg.batches))

    for i, minutes in enumerate(budgets):
        if already_past(minutes):
            print(f"  {job['collection']} {job['model']} seed {job['seed']} {minutes:g}: skipped, the run is "
                  "already past this budget", file=sys.stderr)
            continue
        early = None
        if steady and steady * minutes > (budgets[i - 1] if i else 0) and not already_past(steady * minutes):
            train_to(steady * minutes)
            early = measure(run_dir, judge)[0]
        train_to(minutes)
        measured, renders = measure(run_dir, judge)
        np.save(run_dir / f"renders-{minutes:g}.npy", renders)  # for rescoring with other metrics
        row = {"collection": job["collection"], "model": job["model"], "seed": job["seed"], "minutes": minutes,
               **measured}
        if early is not None:
            row["swd_early"] = {"kimg": early["kimg"], **early["swd"]}
            row["swd_steady"] = (early["swd"]["mean"] + measured["swd"]["mean"]) / 2
        steady_note = f" (steady {row['swd_steady']:.1f})" if early is not None else ""
        print(f"  {row['collection']} {row['model']} seed {row['seed']} {minutes:g}: SWD {row['swd']['mean']:.1f}{steady_note} "
              f"KID {row['kid']['mean'] * 1e3:.1f}e-3, near copies {row['originality']['near_copies']}/{judge.n} "
              f"({row['kimg']} kimg, {row['img_s']} img/s)", file=sys.stderr)
        rows.append((row, renders))
        with ROWS_LOCK, open(run_dir.parent / "rows.jsonl", "a") as f:  # partial results survive an interruption
            f.write(json.dumps(row) + "\n")
    return rows


def reused_rows(job: dict, previous: dict, reuse_work: Path) -> list[tuple[dict, np.ndarray]]:
    """One (collection, model, seed) of an earlier run of this benchmark, with its saved renders:
    for a baseline whose code has not changed, retraining it would only repeat the same numbers."""
    rows = []
    for minutes in job["budgets"]:
        row = next((r for r in previous["rows"] if (r["collection"], r["model"], r["seed"], r["minutes"])
                    == (job["collection"], job["model"], job["seed"], minutes)), None)
        renders = reuse_work / job["run_dir"].name / f"renders-{minutes:g}.npy"
        if row is None or not renders.is_file():
            raise SystemExit(f"--reuse {job['model']}: the earlier result has no {job['collection']} seed "
                             f"{job['seed']} at {minutes:g} (or {renders} is missing): train it instead")
        rows.append(({**row, "reused_from": previous["time"]}, np.load(renders)))
    return rows


def level_medians(swds: list[dict]) -> dict:
    """The median over seeds of each SWD level (and of their mean), each level on its own: the
    median seed's levels (`swd` in a median row) can hide a level that most seeds get wrong."""
    return {k: float(np.median([s[k] for s in swds])) for k in swds[0]}


def median_rows(rows: list[dict], floors: dict) -> list[dict]:
    """One row per (collection, model, budget): the median over seeds of SWD and KID (the seed
    with the median SWD gives the per-level figures), the worst near-copy count."""
    out = []
    keys = list(dict.fromkeys((r["collection"], r["model"], r["minutes"]) for r in rows))
    for c, m, t in keys:
        group = sorted((r for r in rows if (r["collection"], r["model"], r["minutes"]) == (c, m, t)),
                       key=lambda r: r["swd"]["mean"])
        mid = group[(len(group) - 1) // 2]
        swd_med = float(np.median([r["swd"]["mean"] for r in group]))
        out.append({**mid, "seed": None, "seeds": [r["seed"] for r in group],
                    "swd_seeds": [round(r["swd"]["mean"], 1) for r in group],
                    "swd": {**mid["swd"], "mean": swd_med},
                    "swd_levels": level_medians([r["swd"] for r in group]),
                    **({"layout": level_medians([r["layout"] for r in group])}
                       if all("layout" in r for r in group) else {}),
                    "kid": {**mid["kid"], "mean": float(np.median([r["kid"]["mean"] for r in group]))},
                    **{k: float(np.median([r[k] for r in group])) for k in ("precision", "recall")
                       if all(k in r for r in group)},
                    "originality": {**mid["originality"],
                                    "near_copies": max(r["originality"]["near_copies"] for r in group)},
                    "swd_vs_floor": round(swd_med / floors[c]["swd"]["mean"], 2),
                    **({"swd_steady": float(np.median([r["swd_steady"] for r in group]))}
                       if all("swd_steady" in r for r in group) else {})})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--collections", default="demo,clipart")
    ap.add_argument("--size", type=int, default=64, help="collect and train at this many pixels (64 or 128: "
                    "use models that train at it, e.g. --variant 'cpu128:preset=cpu-128' and 'dcgan128:preset=dcgan-128')")
    ap.add_argument("--models", default="default,dcgan")
    ap.add_argument("--budgets", default="5,30", help="training budgets at which to measure, ascending")
    ap.add_argument("--unit", choices=("minutes", "idle-minutes", "kimg"), default="minutes",
                    help="budgets in wall-clock minutes; in minutes of an idle machine (each model trains for "
                         "the images it processes in that time at its img/s in results/train_speed.json, so a "
                         "busy machine does not skew the comparison); or in thousands of images")
    ap.add_argument("--variant", action="append", default=[],
                    help="NAME:key=value;key=value — the default model with overrides, usable in --models")
    ap.add_argument("--seeds", default="0", help="training seeds per model (early GAN training varies a lot "
                    "from seed to seed: the table gives the median, the JSON every seed)")
    ap.add_argument("--seeds-long", default="", help="seeds of the --long runs (default: the first seed)")
    ap.add_argument("--jobs", type=int, default=1, help="trainings at once (each gets --threads / --jobs "
                    "threads; use with --unit idle-minutes or kimg)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "belamy-bench")
    ap.add_argument("--work", type=Path, default=None, help="where runs go (default: a new folder in --cache)")
    ap.add_argument("--sheets", type=Path, default=ROOT / "docs" / "quality")
    ap.add_argument("--long", default="", help="COLLECTION:MODEL pairs that train through all budgets "
                    "(default: all); the others stop after the first --short budgets")
    ap.add_argument("--short", type=int, default=1, metavar="N",
                    help="how many of the budgets the runs that are not long train through (default 1: the "
                         "first), e.g. 2 to measure every seed at two nearby checkpoints")
    ap.add_argument("--name", default="quality", help="result file name in benchmarks/results/")
    ap.add_argument("--reuse", default="", help="MODELS whose rows come from the earlier results/NAME.json "
                    "and whose renders from --reuse-work, instead of training again (a baseline whose code "
                    "did not change); the earlier run must have had the same unit, budgets and seeds")
    ap.add_argument("--reuse-work", type=Path, default=None, help="the WORK folder of the earlier run")
    ap.add_argument("--steady", type=float, default=0.0, metavar="FRACTION",
                    help="also measure at FRACTION of each budget (e.g. 0.86) and report the mean SWD of the "
                         "two checkpoints, a steadier figure than one checkpoint's")
    ap.add_argument("--rescore", type=Path, default=None, metavar="WORK",
                    help="only recount near copies of results/NAME.json from the renders saved in WORK")
    ap.add_argument("--relayout", type=Path, default=None, metavar="WORK",
                    help="only add the layout measure to results/NAME.json from the renders saved in WORK")
    args = ap.parse_args()
    if args.rescore:
        return rescore(ROOT / "benchmarks" / "results" / f"{args.name}.json", args.rescore)
    if args.relayout:
        return relayout(ROOT / "benchmarks" / "results" / f"{args.name}.json", args.relayout)

    from concurrent.futures import ThreadPoolExecutor

    from belamy.data.collection import Collection

    models = dict(MODELS)
    for spec in args.variant:
        name, args_ = variant(spec, MODELS["default"])
        models[name] = args_
    budgets = sorted(float(b) for b in args.budgets.split(","))
    if not 1 <= args.short <= len(budgets):
        raise SystemExit(f"--short must be 1 to {len(budgets)} (the number of --budgets), got {args.short}")
    seeds = [int(x) for x in args.seeds.split(",")]
    seeds_long = [int(x) for x in args.seeds_long.split(",")] if args.seeds_long else seeds[:1]
    reuse = set(filter(None, args.reuse.split(",")))
    speeds = idle_speeds() if args.unit == "idle-minutes" else {}
    if speeds and set(args.models.split(",")) - set(speeds) - reuse:
        raise SystemExit("--unit idle-minutes needs each model's idle img/s from train_speed.py, which only "
                         "the default and dcgan have: time variants with --unit minutes or kimg")
    if args.jobs > 1 and args.unit == "minutes":
        raise SystemExit("--jobs > 1 shares the CPU between trainings: budget them with --unit idle-minutes or kimg")
    work = args.work or args.cache / time.strftime("quality-%Y%m%d-%H%M%S")
    previous = None
    if reuse:
        result = ROOT / "benchmarks" / "results" / f"{args.name}.json"
        if not (result.is_file() and args.reuse_work):
            raise SystemExit(f"--reuse needs the earlier {result} and its --reuse-work folder")
        previous = json.loads(result.read_text())
        if previous["unit"] != args.unit:
            raise SystemExit(f"--reuse: the earlier run used --unit {previous['unit']}, not {args.unit}")
    floors, judges, jobs = {}, {}, []
    for cname in args.collections.split(","):
        coll_dir = prepare(cname, args.cache, args.size)
        images = Collection.open(coll_dir).load()
        a, b = halves(len(images))
        judges[cname] = (Judge(images, a, b), images[b])
        floors[cname] = {**judges[cname][0].floor, "n": int(len(b)), "count": int(len(images))}
        print(f"{cname}: {len(images)} images, floor SWD {floors[cname]['swd']['mean']:.1f}", file=sys.stderr)
        if previous and abs(previous["floors"][cname]["swd"]["mean"] - floors[cname]["swd"]["mean"]) > 1e-6:
            raise SystemExit(f"--reuse: the {cname} collection differs from the earlier run's (floor SWD)")
        for mname in args.models.split(","):
            long = not args.long or f"{cname}:{mname}" in args.long.split(",")
            ramped = train_config(models[mname]).lr_rampdown > 0
            for seed in sorted(set(seeds) | (set(seeds_long) if long else set())):
                own = budgets if long and seed in seeds_long else budgets[:args.short]
                for tag, part in budget_runs(own, ramped, args.unit):
                    jobs.append({"collection": cname, "model": mname, "seed": seed, "coll_dir": coll_dir,
                                 "run_dir": work / (run_name(cname, mname, seed) + tag), "budgets": part})
    # the long runs start first, the short ones fill the other slots; results keep the job order
    order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i]["budgets"]))
    threads = max(1, args.threads // args.jobs)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {i: pool.submit(reused_rows, jobs[i], previous, args.reuse_work) if jobs[i]["model"] in reuse
                   else pool.submit(train_and_measure, jobs[i], judges[jobs[i]["collection"]][0], models,
                                    jobs[i]["budgets"], args.unit, speeds, threads, args.steady) for i in order}
        done = [futures[i].result() for i in range(len(jobs))]
    rows = [row for result in done for row, _ in result]
    for row in rows:
        row["swd_vs_floor"] = round(row["swd"]["mean"] / floors[row["collection"]]["swd"]["mean"], 2)
    medians = median_rows(rows, floors)
    unit = "kimg" if args.unit == "kimg" else "min"
    for cname, (judge, real_b) in judges.items():  # the contact sheet shows each model's first seed
        sheet = [(f"{job['model']}\n{row['minutes']:g} {unit}\nSWD {row['swd']['mean']:.0f}", renders)
                 for job, result in zip(jobs, done) if job["collection"] == cname and job["seed"] == seeds[0]
                 for row, renders in result]
        save_sheet(args.sheets / f"{cname}.png", real_b if cname == "demo" else None, sheet)

    equal = {"minutes": "wall time", "idle-minutes": "idle-machine time", "kimg": "images shown"}[args.unit]
    print(f"\nquality at equal {equal} ({os.cpu_count()} CPU cores, {args.threads} threads, {args.jobs} at once; "
          f"SWD x1e3, lower is better; median over seeds {args.seeds}; floor = two halves of the collection)\n")
    head = f"{'collection':10s} {'model':10s} {unit:>6s} {'kimg':>6s} {'img/s':>6s} {'peak MB':>8s} " \
           f"{'SWD':>7s} {'x floor':>8s} {'x dcgan':>8s} {'KIDx1e3':>8s} {'prec':>5s} {'recall':>6s} {'copies':>7s}   " \
           f"SWD per level ({'/'.join(str(args.size >> i) for i in range(args.size.bit_length() - 4))} px, " \
           "each the median over seeds), seeds"
    print(head)
    for cname, fl in floors.items():
        print(f"{cname:10s} {'floor':10s} {'':>6s} {'':>6s} {'':>6s} {'':>8s} {fl['swd']['mean']:7.1f} "
              f"{1.0:8.2f} {'':>8s} {fl['kid']['mean'] * 1e3:8.2f} {fl['precision']:5.2f} {fl['recall']:6.2f} "
              f"{'':>7s}   " + "/".join(f"{v:.0f}" for k, v in fl["swd"].items() if k != "mean"))
        for row in [r for r in medians if r["collection"] == cname]:
            base = next((r for r in medians if r["collection"] == cname and r["model"] == "dcgan"
                         and r["minutes"] == row["minutes"]), None)
            vs = f"{row['swd']['mean'] / base['swd']['mean']:8.2f}" if base else f"{'-':>8s}"
            levels = "/".join(f"{v:.0f}" for k, v in row["swd_levels"].items() if k != "mean")
            print(f"{cname:10s} {row['model']:10s} {row['minutes']:6g} {row['kimg']:6.1f} {row['img_s']:6.1f} "
                  f"{row['peak_rss_mb']:8.0f} {row['swd']['mean']:7.1f} {row['swd_vs_floor']:8.2f} {vs} "
                  f"{row['kid']['mean'] * 1e3:8.2f} {row.get('precision', float('nan')):5.2f} "
                  f"{row.get('recall', float('nan')):6.2f} {row['originality']['near_copies']:7d}   {levels}  "
                  f"{row['swd_seeds']}" + (f"  steady {row['swd_steady']:.1f}" if "swd_steady" in row else ""))
    print("\nlayout (medians over seeds): ink coverage, centroid offset, centroid spread, ink on the bottom row, "
          "ink depth (low: pale), images with a "
          "mid-grey edge (translation's fill) or square (cutout's), ADA's p at the end")
    for cname, fl in floors.items():
        for label, r in [("floor", fl)] + [(f"{m['model']} {m['minutes']:g}", m) for m in medians
                                           if m["collection"] == cname]:
            if "layout" in r:
                lay = r["layout"]
                print(f"{cname:10s} {label:16s} {lay['coverage']:6.3f} {lay['offset']:6.3f} {lay['spread']:6.3f} "
                      f"{lay['bottom']:6.3f} {lay['depth']:6.3f} "
                      f"{lay['grey_edge']:6.3f} {lay['grey_square']:6.3f}  {r.get('aug_p') or '':}")
    peers = peers_status()
    for name, why in peers.items():
        print(f"{name}: {why}")
    write_result(args.name, {"size": args.size, "threads": args.threads, "jobs": args.jobs, "unit": args.unit, "budgets": budgets,
                             "seeds": seeds, "idle_img_s": speeds, "floors": floors, "rows": rows, "medians": medians,
                             "peers": peers, "models": {k: models[k] for k in args.models.split(",")},
                             "reused": {m: previous["time"] for m in reuse} if previous else {}})


if __name__ == "__main__":
    main()
