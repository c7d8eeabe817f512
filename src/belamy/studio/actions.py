"""What the studio's background jobs do: plan one from the renders it starts from, then run it.

A job starts from renders whose record names their run (`run_path`). `plan` checks the request
and the run's presence and turns it into plain parameters (stored with the job, so a queued job
survives a restart); `execute` calls the library (`belamy.api.explore`), importing it (and torch)
only then, so the studio starts without torch. Three kinds:

- "more": more like this, N relatives close to the render's latent (a series with a small spread);
- "family": a family from this, a series of cousins around it;
- "interpolate": a short walk between two renders of one run, as a GIF plus a strip of frames.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from belamy.core.errors import BelamyError

KINDS = ("more", "family", "interpolate")
DEFAULTS = {"more": {"n": 8, "spread": 0.3}, "family": {"n": 11, "spread": 0.6}}
MAX_N = 64


def latent_of(meta: dict[str, Any]) -> int | dict[str, Any] | None:
    """A render's latent as the library takes it: its seed, else the latent spec of its record."""
    if isinstance(meta.get("seed"), int):
        return int(meta["seed"])
    return meta.get("latent") if isinstance(meta.get("latent"), dict) else None


def run_of(meta: dict[str, Any], name: str) -> str:
    """The run folder a render came from, or a one-line error saying why no job can start from it."""
    run = meta.get("run_path")
    if not isinstance(run, str) or not run:
        raise BelamyError(f"{name} has no run in its record, so nothing can be rendered from it")
    if not (Path(run) / "run.json").is_file() and not Path(run).is_dir():
        raise BelamyError(f"{name}: its run {run} is not here (actions need the run)")
    return run


def _number(body: dict[str, Any], key: str, default: float, lo: float, hi: float) -> float:
    value = body.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not lo <= value <= hi:
        raise BelamyError(f"{key} must be a number from {lo:g} to {hi:g}")
    return float(value)


def plan(kind: str, metas: list[tuple[str, dict[str, Any]]], body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """(the job's parameters, how many outputs it will write) for `kind` from the renders
    `metas` ((name, lineage) each) and the request's settings in `body`."""
    if kind not in KINDS:
        raise BelamyError(f"unknown job kind {kind!r} (one of {', '.join(KINDS)})")
    want = 2 if kind == "interpolate" else 1
    if len(metas) != want:
        raise BelamyError(f"{kind} starts from {want} render{'s' if want > 1 else ''}, got {len(metas)}")
    runs = [run_of(meta, name) for name, meta in metas]
    latents = [latent_of(meta) for _, meta in metas]
    for (name, _), latent in zip(metas, latents):
        if latent is None:
            raise BelamyError(f"{name}: its record has no seed or latent")
    first = metas[0][1]
    trunc_default = first.get("truncation") if isinstance(first.get("truncation"), (int, float)) else 1.0
    truncation = _number(body, "truncation", trunc_default, 0.0, 2.0)
    if kind == "interpolate":
        if runs[0] != runs[1]:
            raise BelamyError("interpolate between two renders of the same run")
        seconds = _number(body, "seconds", 2.0, 0.5, 30.0)
        return {"run": runs[0], "latents": latents, "truncation": truncation, "seconds": seconds, "fps": 10.0}, 1
    n = int(_number(body, "n", DEFAULTS[kind]["n"], 1, MAX_N))
    spread = _number(body, "spread", DEFAULTS[kind]["spread"], 0.0, 5.0)
    return {"run": runs[0], "latent": latents[0], "n": n, "spread": spread, "truncation": truncation,
            "title": str(body.get("title") or metas[0][0])[:80]}, n


def execute(kind: str, params: dict[str, Any], folder: Path, device: str) -> list[Path]:
    """Run a planned job, writing into `folder`; the files written (renders, walk, strip)."""
    from belamy.api import explore  # torch: only when a job runs

    if kind == "interpolate":
        cfg = explore.WalkConfig(seconds=params["seconds"], fps=params["fps"], truncation=params["truncation"])
        strip = folder / "walk-strip.png"
        walk = explore.video(params["run"], params["latents"], folder / "walk.gif", cfg, device=device,
                             strip=strip, progress=False)
        return [walk, strip]
    cfg = explore.SeriesConfig(n=params["n"], family=params["latent"], spread=params["spread"],
                               truncation=params["truncation"], title=f"{kind}: {params['title']}")
    result = explore.series(params["run"], folder, cfg, device=device)
    sheet = folder / "sheet" / result.contact_sheet.name  # out of the grid's flat scan: not a render
    sheet.parent.mkdir(exist_ok=True)
    result.contact_sheet.replace(sheet)
    return [*result.renders, sheet]
