"""`belamy recipe NAME -o DIR`: walk one well-known work end to end, then print what it made."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()


def register(app: typer.Typer) -> None:
    app.command("recipe")(recipe_cmd)


def recipe_cmd(
    name: Optional[str] = typer.Argument(None, help="belamy-family, butchers-son or instantiation (none: list them)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Folder for everything the recipe makes "
                                                                 "(default: ./NAME)."),
    minutes: Optional[float] = typer.Option(None, "--minutes", help="The budget (default: the recipe's, which fits "
                                                                     "20 minutes of a 2-core CPU). Training takes "
                                                                     "most of it; a re-run keeps the first budget."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Never open the studio: rank renders by the learned "
                                                                "taste after a scripted set of ratings instead."),
    device: str = typer.Option("auto", "--device"),
) -> None:
    """Walk the road of one well-known GAN work on the built-in demo data, resumably."""
    from belamy.recipes import RECIPES, get_recipe, run_recipe

    if name is None:
        for key, (_, line) in RECIPES.items():
            console.print(f"[bold]{key}[/]  {escape(line)}")
        return
    recipe = get_recipe(name)
    res = run_recipe(recipe, out or Path(name), minutes=minutes, device=device, browser=not no_browser,
                     say=lambda line: console.print(escape(line)))
    table = Table(title=f"{recipe.name}: {recipe.title} ({res.minutes:g} min budget)", title_justify="left")
    for col in ("step", "made", "where", "time"):
        table.add_column(col, overflow="fold")
    for row in res.rows:
        where = "\n".join(f"{label}: {_short(path, res.out)}" for label, path in row.made.artefacts.items())
        took = "earlier run" if row.skipped else f"{row.seconds:.0f} s"
        table.add_row(row.name, escape(row.made.summary), escape(where), took)
    console.print(table)
    console.print(f"paths are in {res.out}: pictures of every step in pictures/, the recipe's state in recipe.json")


def _short(path: Path, out: Path) -> str:
    """A path inside the recipe's folder relative to it (the table names the folder once)."""
    try:
        return str(Path(path).resolve().relative_to(out.resolve()))
    except ValueError:
        return str(path)
