"""`belamy export` and `belamy pull`: a run as a folder others can load, optionally through a model hub."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape

console = Console()


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)
    app.command("pull")(pull_cmd)


def export_cmd(
    run: Path = typer.Argument(..., help="Run folder (from `belamy train`)."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder for the shared run: new, empty or an earlier export (replaced)."),
    push: Optional[str] = typer.Option(None, "--push", help="Also upload it to this model repo (needs belamy[hub])."),
    endpoint: Optional[str] = typer.Option(None, "--endpoint", help="Hub address (default: HF_ENDPOINT or huggingface.co)."),
    private: bool = typer.Option(False, "--private", help="Create the hub repo as private."),
    license: Optional[str] = typer.Option(None, "--license", help="The card's licence (default: from the collection's credits)."),
    dataset: List[str] = typer.Option([], "--dataset", help="The card's datasets (repeatable; default: the collection's name)."),
    device: str = typer.Option("auto", "--device", help="Device that renders the sample grid."),
) -> None:
    """Write a run as a shared run: weights (safetensors), model card, sample grid, run.json/config.json."""
    from belamy.api import share

    if push is not None:
        share.require_hub()
    done = share.export(run, out, license=license, datasets=dataset or None, device=device)
    console.print(f"exported {run} into {done.folder}: {', '.join(str(f) for f in done.files)}")
    console.print(f"licence in the card: {done.license} (collection: {share.licence_summary(done.licenses)})")
    for note in done.notes:
        console.print(f"[yellow]{escape(note)}[/]")
    if push is not None:
        url = share.push(done.folder, push, endpoint=endpoint, private=private)
        console.print(f"pushed to {url}")


def pull_cmd(
    repo_id: str = typer.Argument(..., help="Model repo of a shared run (user/name)."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder to download it into: new, empty or an earlier shared run (replaced)."),
    revision: Optional[str] = typer.Option(None, "--revision", help="Branch, tag or commit (default main)."),
    endpoint: Optional[str] = typer.Option(None, "--endpoint", help="Hub address (default: HF_ENDPOINT or huggingface.co)."),
) -> None:
    """Download a shared run from a model hub (needs belamy[hub]); then sample, series, ... from it."""
    from belamy.api import share

    r = share.pull(repo_id, out, endpoint=endpoint, revision=revision)
    console.print(f"pulled {repo_id} into {r.path} (run {r.run_id}, {r.model_config.get('name')} at "
                  f"{r.model_config.get('resolution')} px): belamy sample {r.path} -n 16")
