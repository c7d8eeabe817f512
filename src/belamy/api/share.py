"""Sharing a run: `belamy export RUN -o DIR` (and `--push REPO_ID`), `belamy pull REPO_ID -o DIR`.

An export is a Run without checkpoints, so every command that takes a run folder loads it as it
loads the run (`belamy.models.run.Run.open`):

    DIR/generator.safetensors  the run's exported EMA generator, byte for byte (config in its metadata)
    DIR/run.json               the run's run.json plus `format_version` and `exported` (when, from what)
    DIR/config.json            the run's training config
    DIR/MODEL_CARD.md          a Hugging Face-style YAML header, then the run's model card, its measured
                               quality, the sample grid and the collection's credits
    DIR/samples.png            seeds 0-15 (a pix2pix or super-resolution run: its newest preview)
    DIR/CREDITS.md             every training image's credits, when the collection is known
    DIR/eval/eval-*.json       the newest evaluation of the run, when it has one

Everything is JSON, Markdown, PNG or safetensors: loading a shared run never unpickles anything.
The hub functions (`push`, `pull`) need the `hub` extra (huggingface_hub); its token and endpoint
come from the usual places (HF_TOKEN or `hf auth login`, HF_ENDPOINT) unless given.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from belamy.core import atomic
from belamy.core.atomic import sha256_file
from belamy.core.device import pick_device
from belamy.core.errors import BelamyError, require
from belamy.core.png import save_grid
from belamy.core.progress import progress_enabled
from belamy.core.version import code_version
from belamy.data import names
from belamy.data.collection import Collection
from belamy.data.credits_file import credits_markdown
from belamy.data.pairs import Pairs, open_training_data
from belamy.generate.sample import render_batch
from belamy.metrics.report import metric_lines
from belamy.models.export import EXPORT
from belamy.models.run import RUN_FORMAT_VERSION, Run
from belamy.models.sr import SR_MODELS

__all__ = ["Export", "card_header", "export", "licence_summary", "pull", "push", "require_hub"]

CARD = "MODEL_CARD.md"
GRID = "samples.png"
CREDITS = "CREDITS.md"
GRID_SEEDS = list(range(16))
EXPORT_MARK = "<!-- belamy export: the sections below were added by `belamy export` -->"
# what a shared run may hold (pull downloads nothing else)
SHARED_PATTERNS = ["*.json", "*.safetensors", "*.md", "*.png"]
# licence ids the Hugging Face hub knows; anything else is `license: other` with a name
HUB_LICENSES = {
    "apache-2.0", "mit", "bsd-2-clause", "bsd-3-clause", "gpl-3.0", "lgpl-3.0", "agpl-3.0", "unlicense",
    "cc0-1.0", "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0", "cc-by-sa-3.0", "cc-by-sa-4.0",
    "cc-by-nc-2.0", "cc-by-nc-3.0", "cc-by-nc-4.0", "cc-by-nd-4.0", "cc-by-nc-nd-3.0", "cc-by-nc-nd-4.0",
    "cc-by-nc-sa-2.0", "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0", "pddl", "odc-by", "odbl",
}


@dataclass
class Export:
    folder: Path
    files: list[Path]  # every file written, relative to `folder`
    license: str  # the card's `license` (a hub id, `other` or `unknown`)
    licenses: dict[str, int]  # the collection's licences, images per licence
    grid: str  # what samples.png shows, or why there is none
    measured: bool  # whether the card has measured quality (an evaluation of the run)
    collection: bool  # whether the collection was found (its credits are in the card)
    notes: list[str] = field(default_factory=list)  # things the user should know


# -- export ------------------------------------------------------------------------------------

def export(run: Run | str | os.PathLike[str], out: str | os.PathLike[str], *, license: str | None = None,
           datasets: list[str] | None = None, device: str = "cpu") -> Export:
    """Write `run` as a shared run into the folder `out`: a new or empty folder, or an earlier
    export, which is replaced (the new one is written whole beside it, then renamed into place).
    `license` overrides the card's licence (default: from the collection), `datasets` its
    `datasets` (default: the collection's name); `device` renders the sample grid."""
    r = run if isinstance(run, Run) else Run.open(run)
    out = Path(out)
    _check_target(r, out)
    dev = pick_device(device)
    G = r.generator(dev)  # also proves that the weights fit their config before anything is written
    coll = _collection(r)
    credits = _credits(r, coll)
    stage = _parent(out) / f".{out.name}.export-{uuid.uuid4().hex[:8]}"
    stage.mkdir()  # the user's usual folder mode (mkdtemp's would be private)
    try:
        shutil.copyfile(r.export_path, stage / EXPORT)
        if sha256_file(stage / EXPORT) != r.generator_sha256():
            raise BelamyError(f"{r.export_path} changed while it was copied (is the run still training?): export again")
        atomic.write_json(stage / "config.json", r.config)
        info = {k: v for k, v in r.info.items() if k not in ("format_version", "exported", "credits")}
        info.update(format_version=RUN_FORMAT_VERSION, credits=credits, exported={
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "code_version": code_version(),
            "from": names.readable(r.path.resolve().name), "step": r.export_meta.get("step"),
            "kimg": r.export_meta.get("kimg"), "generator_sha256": r.generator_sha256()})
        atomic.write_json(stage / "run.json", info)
        grid, has_grid = _grid(r, G, dev, stage / GRID)
        evaluation = _newest_eval(r)
        if evaluation is not None:
            atomic.write_bytes(stage / "eval" / evaluation[0].name, evaluation[0].read_bytes())
        if coll is not None:
            atomic.write_text(stage / CREDITS, credits_markdown(coll))
        elif (r.path / CREDITS).is_file():  # exporting a shared run again
            shutil.copyfile(r.path / CREDITS, stage / CREDITS)
        header = card_header(r, credits, license=license, datasets=datasets,
                             credits_file=(stage / CREDITS).is_file())
        body = _card_body(r, credits, (grid, has_grid), evaluation, coll is not None, (stage / CREDITS).is_file())
        atomic.write_text(stage / CARD, header + "\n" + body)
        Run.open(stage).generator("cpu")  # what was written loads as a run
        _replace_folder(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    notes = []
    if coll is None and not (out / CREDITS).is_file():
        notes.append("the run's collection was not found: the card lists no per-image credits"
                     + ("" if credits["licenses"] else " and its licence is 'unknown' (--license sets one)"))
    if evaluation is None:
        notes.append("the run has no evaluation: the card says its quality was not measured (`belamy eval RUN` "
                     "before exporting)")
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    lic = _header_value(header, "license") or "unknown"
    return Export(out, files, lic, credits["licenses"], grid, evaluation is not None, coll is not None, notes)


def _parent(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    return out.parent


def _check_target(r: Run, out: Path) -> None:
    if out.resolve() == r.path.resolve() or out.resolve() in r.path.resolve().parents:
        raise BelamyError(f"{out} holds the run itself: export into a new folder (-o DIR)")
    _replaceable(out, "export into a new or empty folder")


def _replaceable(out: Path, advice: str) -> None:
    """`out` may be written: it is absent, an empty folder or an earlier shared run (replaced)."""
    if out.exists() and not out.is_dir():
        raise BelamyError(f"{out} exists and is not a folder: {advice}")
    if out.is_dir() and any(out.iterdir()):
        try:
            earlier = json.loads((out / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            earlier = None
        if not (isinstance(earlier, dict) and "exported" in earlier):
            raise BelamyError(f"{out} exists and is not an earlier shared run: {advice}")
        own = {EXPORT, "run.json", "config.json", CARD, GRID, CREDITS}
        extra = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()
                       and not (p.parent == out and p.name in own)
                       and not (p.parent == out / "eval" and re.fullmatch(r"eval-\d+\.json", p.name)))
        if extra:
            raise BelamyError(f"{out} is an earlier shared run, but also holds {extra[0]}"
                              f"{f' and {len(extra) - 1} more' if len(extra) > 1 else ''} (renders?), "
                              f"which replacing it would delete: {advice}")


def _replace_folder(stage: Path, out: Path) -> None:
    """Put the finished `stage` folder where `out` is, replacing an earlier one."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / "x")
    os.replace(stage, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _collection(r: Run) -> Collection | None:
    """The images the run learnt from, if they are still where it recorded them (a pix2pix run's
    pairs folder: its targets, the works; their conditions are derived from them)."""
    path = r.info.get("collection")
    if not path:
        return None
    try:
        data = open_training_data(names.local_path(path))
    except BelamyError:
        return None
    return data.target if isinstance(data, Pairs) else data


def _collection_name(r: Run) -> str:
    stored = r.info.get("collection") or ""
    return names.readable(Path(names.local_path(stored)).name) if stored else "unknown"


def _credits(r: Run, coll: Collection | None) -> dict[str, Any]:
    """What the card says about the training images: from the collection when it is here, else
    what an earlier export recorded in run.json."""
    if coll is not None:
        authors = sorted({row["author"] for row in coll.manifest if row.get("author")}, key=str.casefold)
        return {"collection": _collection_name(r), "images": len(coll),
                "licenses": dict(coll.license_counts().most_common()), "authors": authors,
                "missing_credits": coll.missing_credits()}
    saved = r.info.get("credits")
    if isinstance(saved, dict) and isinstance(saved.get("licenses"), dict):
        return saved
    return {"collection": _collection_name(r),
            "images": r.info.get("collection_count"), "licenses": {}, "authors": [], "missing_credits": None}


# -- the card ----------------------------------------------------------------------------------

def card_header(r: Run, credits: dict[str, Any], license: str | None = None, datasets: list[str] | None = None,
                credits_file: bool = False) -> str:
    """The card's YAML metadata block (Hugging Face model card fields), `---` lines included."""
    licenses = [k for k in credits.get("licenses", {}) if k != "unknown"]
    unknown = credits.get("licenses", {}).get("unknown", 0) > 0 or not credits.get("licenses")
    if license is not None:
        lic = license.strip().lower()
    elif len(licenses) == 1 and not unknown:
        lic = licenses[0].lower()
    elif not licenses:
        lic = "unknown"
    else:
        lic = "other"
    lines = ["---"]
    if lic in HUB_LICENSES or lic == "unknown":
        lines.append(f"license: {lic}")
    else:
        name = "collection-licenses" if lic == "other" else _slug(lic)
        lines += ["license: other", f"license_name: {_yaml(name)}"]
        if credits_file:
            lines.append(f"license_link: {CREDITS}")
    name = r.model_config.get("name", "")
    task = "image-to-image" if name == "pix2pix" or name in SR_MODELS else "unconditional-image-generation"
    tags = ["belamy", "gan", name, task, "safetensors"]
    if name in SR_MODELS:
        tags.append("super-resolution")
    lines += ["library_name: belamy", f"pipeline_tag: {task}", "tags:",
              *[f"- {_yaml(t)}" for t in dict.fromkeys(tags) if t]]
    sets = datasets if datasets is not None else [credits.get("collection") or "unknown"]
    if sets:
        lines += ["datasets:", *[f"- {_yaml(d)}" for d in sets]]
    if credits.get("licenses"):
        lines += ["collection_licenses:", *[f"- {_yaml(k)}" for k in credits["licenses"]]]
    lines.append("---")
    return "\n".join(lines) + "\n"


def _yaml(text: str) -> str:
    """A YAML scalar: plain when that is unambiguous, else double-quoted (JSON quoting is valid YAML)."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/+-]*", text) and text.lower() not in ("yes", "no", "true", "false",
                                                                                     "null", "on", "off", "y", "n"):
        return text
    return json.dumps(text, ensure_ascii=False)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-") or "other"


def _header_value(header: str, key: str) -> str | None:
    for line in header.splitlines():
        if line.startswith(f"{key}: "):
            return line.split(": ", 1)[1]
    return None


def _card_body(r: Run, credits: dict[str, Any], grid: tuple[str, bool], evaluation: tuple[Path, dict[str, Any]] | None,
               have_collection: bool, credits_file: bool) -> str:
    """The run's own card (training's MODEL_CARD.md), then what sharing adds."""
    own = r.path / CARD
    if own.is_file():
        text = own.read_text(encoding="utf-8")
        text = _strip_header(text).split(EXPORT_MARK)[0].rstrip() + "\n"
    else:
        text = f"# Model card: {r.path.name}\n\n(The run has no model card of its own.)\n"
    lines = [text, EXPORT_MARK, "", "## Shared run", "",
             (f"Exported by belamy {code_version()} from run `{r.run_id}` at step {r.export_meta.get('step')} "
              f"({_kimg(r.export_meta.get('kimg'))} kimg). Load it with any belamy command that takes a run folder:"),
             "", "```", "belamy pull REPO_ID -o my-run          # from a model hub (pip install 'belamy[hub]')",
             "belamy sample my-run -n 16 -o renders", "belamy series my-run -n 11 --family 7", "```", "",
             ("`belamy eval` and the originality check of `belamy sample` need the training collection, which a "
              "shared run does not include; without it sampling notes that originality was not checked. "
              "`belamy train --resume` needs checkpoints, which are not shared either."), "",
             *_quality_lines(r, evaluation), *_grid_lines(grid), *_credit_lines(credits, have_collection, credits_file),
             "## Files", "",
             f"- `{EXPORT}`: the generator's weights (safetensors; its model config is in the file's metadata)",
             "- `run.json`, `config.json`: the run and its training config",
             f"- `{GRID}`: the sample grid" if grid[1] else None,
             f"- `{CREDITS}`: every training image's credits" if credits_file else None,
             "- `eval/`: the evaluation quoted above" if evaluation is not None else None, ""]
    return "\n".join(line for line in lines if line is not None)


def _strip_header(text: str) -> str:
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end >= 0:
            return text[end + 5:].lstrip("\n")
    return text


def _kimg(v: Any) -> str:
    if not isinstance(v, (int, float)):
        return "?"
    return f"{v:.1f}" if v >= 10 else f"{v:.3g}"


def _quality_lines(r: Run, evaluation: tuple[Path, dict[str, Any]] | None) -> list[str]:
    lines = ["## Measured quality", ""]
    if evaluation is None:
        return lines + [("Not measured: the run has no evaluation (`belamy eval RUN` measures SWD, KID, precision/"
                         "recall and originality against the collection)."), ""]
    path, result = evaluation
    step = result.get("step")
    lines.append(f"`belamy eval` of step {step} ({_kimg(result.get('kimg'))} kimg): {result.get('n')} renders "
                 f"(seeds {result.get('seeds', ['?', '?'])[0]}-{result.get('seeds', ['?', '?'])[-1]}, truncation "
                 f"{result.get('truncation')}) against the {result.get('reals')} images of the collection, "
                 f"features `{result.get('features', {}).get('name')}`, from `eval/{path.name}`.")
    if step != r.export_meta.get("step"):
        lines.append(f"The shared generator is from step {r.export_meta.get('step')}: these numbers describe an "
                     "earlier state of it.")
    lines += ["", "| metric | value | meaning |", "|---|---|---|"]
    try:
        rows = metric_lines(result)
    except (KeyError, TypeError, ValueError):
        rows = []
    for name, value, meaning in rows:
        lines.append(f"| {name} | {value} | {meaning.replace('|', '/')} |")
    if not rows:
        lines.append("| (unreadable) | | |")
    return lines + [""]


def _grid_lines(grid: tuple[str, bool]) -> list[str]:
    what, written = grid
    if written:
        return ["## Samples", "", f"![{what}]({GRID})", "", f"{what[0].upper()}{what[1:]}.", ""]
    return ["## Samples", "", f"No sample grid: {what}.", ""]


def _credit_lines(credits: dict[str, Any], have_collection: bool, credits_file: bool) -> list[str]:
    lic = credits.get("licenses") or {}
    lines = ["## Training data and credits", "",
             f"- Collection: `{credits.get('collection')}` ({credits.get('images')} images)",
             "- Licences: " + (", ".join(f"{k} ({n} image{'s' * (n != 1)})" for k, n in lic.items()) or "not recorded")]
    authors = credits.get("authors") or []
    if authors:
        shown = ", ".join(authors[:50]) + (f", and {len(authors) - 50} more" if len(authors) > 50 else "")
        lines.append(f"- Authors ({len(authors)}): {shown}")
    if credits.get("missing_credits"):
        lines.append(f"- Images without full credits (author or licence): {credits['missing_credits']}")
    if credits_file:
        lines.append(f"- Every image's title, author, date, licence and source: [{CREDITS}]({CREDITS})")
    elif not have_collection:
        lines.append("- Per-image credits: not included (the collection was not available when this was exported)")
    return lines + ["", ("Renders may resemble training images: check originality before publishing, and credit the "
                         "authors above as their licences require."), ""]


def _newest_eval(r: Run) -> tuple[Path, dict[str, Any]] | None:
    """The run's newest evaluation (`RUN/eval/eval-XXXXXXXX.json`), or None."""
    for path in sorted((r.path / "eval").glob("eval-*.json"), reverse=True):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(result, dict) and result.get("format") == "belamy.eval" and int(result.get("version", 1)) <= 1:
            return path, result
    return None


def _grid(r: Run, G: Any, dev: Any, target: Path) -> tuple[str, bool]:
    """samples.png: seeds 0-15 of an unconditional run, else the run's newest training preview."""
    name = r.model_config.get("name")
    if name == "pix2pix" or name in SR_MODELS:
        previews = sorted((r.path / "samples").glob("fakes-*.png"))
        if not previews and (r.path / GRID).is_file():  # a shared run exported again
            previews = [r.path / GRID]
        if not previews:
            return "the run has no training preview (RUN/samples/fakes-*.png) to show", False
        shutil.copyfile(previews[-1], target)
        kind = "condition | output | target" if name == "pix2pix" else "low-res input | upscaled | original"
        return f"preview {previews[-1].name} from training ({kind})", True
    save_grid(render_batch(G, GRID_SEEDS, truncation=1.0, device=dev), target, cols=4)
    return f"seeds {GRID_SEEDS[0]}-{GRID_SEEDS[-1]}, truncation 1 (`belamy sample RUN -n 16` renders them again)", True


# -- the hub -----------------------------------------------------------------------------------

def push(folder: str | os.PathLike[str], repo_id: str, *, endpoint: str | None = None, token: str | None = None,
         private: bool = False, message: str | None = None, progress: bool | None = None) -> str:
    """Upload the shared run in `folder` to the model repo `repo_id` (created if needed) in one
    commit, its MODEL_CARD.md also as README.md (what the hub shows); return the repo's URL."""
    hub, utils, constants = _hub()
    folder = Path(folder)
    r = Run.open(folder)
    if not r.shared:
        raise BelamyError(f"{folder} is not a shared run: `belamy export RUN -o DIR --push {repo_id}` makes one")
    r.generator("cpu")  # never upload weights that do not load
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and not _hidden(p.relative_to(folder))]
    with _quiet(utils, progress):
        try:
            api = hub.HfApi(endpoint=endpoint, token=token)
            url = api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
            ops = [hub.CommitOperationAdd(path_in_repo=p.relative_to(folder).as_posix(), path_or_fileobj=str(p))
                   for p in files]
            if (folder / CARD).is_file():
                card = (folder / CARD).read_bytes()
                ops.append(hub.CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=card))
            api.create_commit(repo_id, ops, repo_type="model",
                              commit_message=message or f"belamy run {r.run_id}, step {r.export_meta.get('step')}")
        except BelamyError:
            raise
        except Exception as exc:  # the hub's HTTP, auth and validation errors, as one line
            raise BelamyError(f"could not push to {_where(constants, endpoint)}/{repo_id}: {_one_line(exc)}") from None
    return str(url)


def pull(repo_id: str, out: str | os.PathLike[str], *, endpoint: str | None = None, token: str | None = None,
         revision: str | None = None, progress: bool | None = None) -> Run:
    """Download the shared run `repo_id` into the folder `out` (new, empty or an earlier shared
    run, replaced) and return it. The download is checked before it is renamed into place, and
    the hub's cache is not used."""
    hub, utils, constants = _hub()
    out = Path(out)
    _replaceable(out, "pull into a new or empty folder")
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.pull-", dir=_parent(out)))
    try:
        files = stage / "files"
        with _quiet(utils, progress):
            try:
                hub.snapshot_download(repo_id, repo_type="model", revision=revision, endpoint=endpoint, token=token,
                                      local_dir=str(files), cache_dir=str(stage / "cache"),
                                      allow_patterns=SHARED_PATTERNS, ignore_patterns=["README.md"])
            except Exception as exc:
                raise BelamyError(f"could not pull {_where(constants, endpoint)}/{repo_id}: {_one_line(exc)}") from None
        shutil.rmtree(files / ".cache", ignore_errors=True)  # huggingface_hub's bookkeeping in local_dir
        if not (files / "run.json").is_file() or not (files / EXPORT).is_file():
            raise BelamyError(f"{repo_id} is not a shared belamy run (no run.json and {EXPORT}): "
                              "make one with `belamy export RUN -o DIR --push REPO_ID`")
        Run.open(files).generator("cpu")  # newer formats and mismatched weights are refused here, in one line
        _replace_folder(files, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return Run.open(out)


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def require_hub() -> None:
    """One line naming the `hub` extra unless huggingface_hub is installed (before a long export)."""
    _hub()


def _hub() -> tuple[Any, Any, Any]:
    """huggingface_hub, its utils and constants, or one line naming the `hub` extra."""
    return (require("huggingface_hub", "hub"), require("huggingface_hub.utils", "hub"),
            require("huggingface_hub.constants", "hub"))


def _where(constants: Any, endpoint: str | None) -> str:
    return (endpoint or constants.ENDPOINT).rstrip("/")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split("\n")[0].split()) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}"[:300]


class _quiet:
    """huggingface_hub's progress bars as belamy's own (on a terminal; `progress` decides), restored after."""

    def __init__(self, utils: Any, progress: bool | None) -> None:
        self.utils, self.show = utils, progress_enabled() if progress is None else progress

    def __enter__(self) -> None:
        self.was = self.utils.are_progress_bars_disabled()
        if not self.show:
            self.utils.disable_progress_bars()

    def __exit__(self, *exc: object) -> None:
        if not self.was:
            self.utils.enable_progress_bars()


def licence_summary(licenses: dict[str, int]) -> str:
    """'CC-BY-4.0 (8), CC0-1.0 (4)' for a line of output."""
    return ", ".join(f"{k} ({n})" for k, n in Counter(licenses).most_common()) or "none recorded"
