"""A recipe: a named list of steps over the library, each skipped when a re-run finds it done.

A recipe walks the whole road of one well-known work on the demo data. What it has finished is
kept in OUT/recipe.json (written atomically after every step), so a re-run, or a run after a
kill -9, starts at the first step not recorded as done; the steps themselves are built on
resumable library calls (a run's checkpoints, the chain's finished renders), so an interrupted
step picks up where it stopped rather than from nothing. `--minutes` is the budget: training
steps take their share of it, and counts that should grow with it (renders, poses) read it too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from belamy.core import atomic
from belamy.core.errors import BelamyError

FORMAT_VERSION = 1
STATE_FILE = "recipe.json"
PICTURES = "pictures"  # OUT/pictures/NN-step.png: one picture per step, for the eye and the docs


@dataclass
class Made:
    """What one step made: labelled paths (relative to OUT when inside it), a one-line summary
    and, when it has one, the picture that shows the step."""

    summary: str
    artefacts: dict[str, Path] = field(default_factory=dict)
    picture: Path | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # numbers a later step or a test may read


@dataclass
class Context:
    """What a step gets: the recipe's folder, its budget, and the device and output callbacks."""

    out: Path
    minutes: float
    device: str = "auto"
    browser: bool = False
    progress: bool | None = None
    say: Callable[[str], None] = lambda line: None
    done: dict[str, Made] = field(default_factory=dict)  # the steps finished so far, by name

    def path(self, *parts: str) -> Path:
        return self.out.joinpath(*parts)

    def minutes_for(self, share: float) -> float:
        """A training step's part of the budget."""
        return self.minutes * share

    def fact(self, step: str, key: str) -> Any:
        """A number or path an earlier step recorded (KeyError means the recipe is misbuilt)."""
        return self.done[step].facts[key]


@dataclass
class Step:
    name: str
    what: str  # one line, shown as the step starts and in the summary
    run: Callable[[Context], Made]


@dataclass
class Recipe:
    name: str
    title: str  # the work it follows, one line
    default_minutes: float
    steps: list[Step]


@dataclass
class StepRow:
    name: str
    what: str
    made: Made
    seconds: float
    skipped: bool  # done in an earlier run


@dataclass
class RecipeResult:
    recipe: str
    out: Path
    minutes: float
    rows: list[StepRow]

    def made(self, step: str) -> Made:
        return next(r.made for r in self.rows if r.name == step)


def _made_to_json(made: Made, out: Path) -> dict[str, Any]:
    def rel(p: Path) -> str:
        p = Path(p)
        try:
            return str(p.resolve().relative_to(out.resolve()))
        except ValueError:
            return str(p)

    return {"summary": made.summary, "artefacts": {k: rel(v) for k, v in made.artefacts.items()},
            "picture": rel(made.picture) if made.picture else None, "facts": made.facts}


def _made_from_json(d: dict[str, Any], out: Path) -> Made:
    def absolute(s: str) -> Path:
        p = Path(s)
        return p if p.is_absolute() else out / p

    return Made(summary=d["summary"], artefacts={k: absolute(v) for k, v in d["artefacts"].items()},
                picture=absolute(d["picture"]) if d.get("picture") else None, facts=dict(d.get("facts", {})))


def read_state(out: Path, recipe: str) -> dict[str, Any]:
    """OUT/recipe.json, or a fresh state; a folder holding another recipe is one line."""
    f = out / STATE_FILE
    if not f.is_file():
        return {"recipe": recipe, "format_version": FORMAT_VERSION, "steps": {}}
    try:
        state = json.loads(f.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BelamyError(f"{f} is unreadable ({exc.__class__.__name__}): move it away to start the recipe "
                          "again (the steps' own folders are kept and resumed)") from None
    if state.get("recipe") != recipe:
        raise BelamyError(f"{out} holds the recipe {state.get('recipe')!r}, not {recipe!r}: give -o NEW_FOLDER")
    if int(state.get("format_version", 0)) > FORMAT_VERSION:
        raise BelamyError(f"{f} was written by a newer belamy (format {state['format_version']}): upgrade belamy")
    return state


def _artefacts_exist(made: Made) -> bool:
    return all(Path(p).exists() for p in made.artefacts.values())


def run_recipe(recipe: Recipe, out: str | Path, minutes: float | None = None, device: str = "auto",
               browser: bool = False, progress: bool | None = None,
               say: Callable[[str], None] | None = None) -> RecipeResult:
    """Run `recipe` into `out`, skipping the steps a previous run finished (whose artefacts are all
    still there). The budget of a folder is fixed by its first run; a re-run with another
    `--minutes` is refused unless every step is already done, so resumed training stays exact."""
    out = Path(out)
    say = say or (lambda line: None)
    if minutes is not None and minutes <= 0:
        raise BelamyError(f"--minutes must be positive, got {minutes:g}")
    out.mkdir(parents=True, exist_ok=True)
    state = read_state(out, recipe.name)
    kept = state.get("minutes")
    if kept is not None and minutes is not None and abs(float(kept) - minutes) > 1e-9:
        raise BelamyError(f"{out} was started with --minutes {float(kept):g}: re-run it with that budget to "
                          "resume, or give -o NEW_FOLDER for a new budget")
    budget = float(kept if kept is not None else (minutes if minutes is not None else recipe.default_minutes))
    state["minutes"] = budget
    atomic.write_json(out / STATE_FILE, state)
    ctx = Context(out=out, minutes=budget, device=device, browser=browser, progress=progress, say=say)
    rows: list[StepRow] = []
    (out / PICTURES).mkdir(exist_ok=True)
    for i, step in enumerate(recipe.steps, 1):
        saved = state["steps"].get(step.name)
        made = _made_from_json(saved, out) if saved else None
        if made is not None and _artefacts_exist(made):
            say(f"{i}/{len(recipe.steps)} {step.name}: done in an earlier run ({made.summary})")
            rows.append(StepRow(step.name, step.what, made, float(saved.get("seconds", 0.0)), True))
            ctx.done[step.name] = made
            continue
        say(f"{i}/{len(recipe.steps)} {step.name}: {step.what}")
        t0 = time.perf_counter()
        made = step.run(ctx)
        seconds = time.perf_counter() - t0
        ctx.done[step.name] = made
        state["steps"][step.name] = {**_made_to_json(made, out), "seconds": round(seconds, 2)}
        atomic.write_json(out / STATE_FILE, state)
        say(f"    {made.summary}")
        rows.append(StepRow(step.name, step.what, made, seconds, False))
    return RecipeResult(recipe.name, out, budget, rows)


def picture_path(ctx: Context, index: int, name: str) -> Path:
    """Where step `index`'s picture goes (OUT/pictures/NN-name.png)."""
    return ctx.path(PICTURES, f"{index:02d}-{name}.png")


def train_step(ctx: Context, collection: Path, run_dir: Path, cfg: Any) -> Any:
    """Train `cfg` (a TrainConfig with a `minutes` budget) on `collection` into `run_dir`, or,
    when an earlier recipe run was stopped mid-training, continue that run to the same budget.
    Returns the api's `Run`."""
    from belamy.api.train import train
    from belamy.training import checkpoint as ckpt

    if ckpt.latest(run_dir) is None:
        return train(collection, run_dir, cfg, progress=ctx.progress, warn=ctx.say)
    ctx.say(f"    continuing the run in {run_dir} from its latest checkpoint")
    return train(None, run_dir, resume=True, progress=ctx.progress, warn=ctx.say, minutes=cfg.minutes,
                 device=ctx.device)


def recipe_keys(ctx: Context, name: str = "belamy recipe") -> Path:
    """The user's own signing identity if they made one (`belamy keys init`), else one kept in
    OUT/keys, made on first use."""
    from belamy.provenance.keys import default_keys_dir, init_keys

    mine = default_keys_dir()
    if (mine / "signer.key").is_file():
        return mine
    keys = ctx.path("keys")
    if not (keys / "signer.key").is_file():
        init_keys(keys, name)
    return keys


# -- what the recipes share to show and check their steps -----------------------------------------
def latest_preview(run_dir: Path) -> Path | None:
    """A run's last preview grid (RUN/samples/fakes-kimgNNNNNN.NNN.png: the names sort by kimg)."""
    previews = sorted((Path(run_dir) / "samples").glob("fakes-kimg*.png"))
    return previews[-1] if previews else None


def trained(run_dir: Path) -> str:
    """", N steps (K kimg)" from a run's stats, or nothing: what a training step's summary adds."""
    from belamy.models.run import Run

    stats = Run.open(run_dir).stats()
    last = stats[-1] if stats else {}
    return f", {last['step']} steps ({last['kimg']:g} kimg)" if "step" in last and "kimg" in last else ""


def save_picture(im: Any, path: Path, side: int | None = None) -> Path:
    """A step's picture (a PIL image, or an (H, W, 3) array) as PNG, resized to `side` x `side`."""
    from PIL import Image

    im = Image.fromarray(im) if not isinstance(im, Image.Image) else im
    im = im.convert("RGB")
    if side is not None:
        im = im.resize((side, side), Image.Resampling.LANCZOS)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, format="PNG", optimize=True)
    return path


def marked_grid(images: list[Any], chosen: int, path: Path, cell: int = 128) -> Path:
    """Renders as a contact sheet, the chosen one framed in gold: how a step shows its pick."""
    from PIL import ImageDraw

    from belamy.core.grid import make_grid

    cols, pad = min(8, len(images)), 4
    sheet = make_grid(images, cols=cols, cell=cell, pad=pad)
    r, c = divmod(chosen, cols)
    x, y = pad + c * (cell + pad), pad + r * (cell + pad)
    ImageDraw.Draw(sheet).rectangle([x - 3, y - 3, x + cell + 2, y + cell + 2], outline=(222, 180, 60), width=3)
    return save_picture(sheet, path)


def check_verified(artworks: list[Path], keys: Path) -> None:
    """Every finished artwork verifies against the recipe's identity, or one line naming those that do not."""
    from belamy.api.finish import verify

    failed = [f"{a.name} ({v.status})" for a in artworks if (v := verify(a, keys=keys)).exit_code != 0]
    if failed:
        raise BelamyError(f"finished artworks that do not verify: {', '.join(failed)}: see `belamy verify`")
