"""`belamy studio DIR...` (serve) and `belamy studio export DIR... --picks -o OUT`."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import click
import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from belamy.core.errors import BelamyError, require

console = Console()


class _ServeByDefault(TyperGroup):
    """`belamy studio DIR...` means `belamy studio serve DIR...`: folders come first, and only a
    first word that names a subcommand (`export`) is one."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


studio_app = typer.Typer(cls=_ServeByDefault, no_args_is_help=True,
                         help="Sift folders of renders in the browser: rate with keys, pick, export the picks.")


def register(app: typer.Typer) -> None:
    app.add_typer(studio_app, name="studio")


@studio_app.command("serve")
def serve_cmd(
    dirs: List[Path] = typer.Argument(..., help="Folders of renders (NAME.png with NAME.record.json or its iTXt record)."),
    port: int = typer.Option(0, "--port", help="Port to listen on (0: a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; anything but loopback needs the printed token."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open a browser."),
    state: Optional[Path] = typer.Option(None, "--state", help="State folder (ratings, thumbnails); default DIR/.belamy-studio."),
) -> None:
    """Open the studio over DIR... in the browser (the default command: `belamy studio DIR...`)."""
    require("starlette", "studio")
    require("uvicorn", "studio")
    from belamy.studio.server import StudioServer, open_browser

    srv = StudioServer(dirs, host=host, port=port, state=state)
    status = srv.studio.status()
    console.print(f"studio: {status['renders']} renders in {len(dirs)} folder(s); state in {escape(status['state'])}")
    if srv.token:
        console.print(f"token (shown once; every request needs it): {srv.token}", soft_wrap=True)
    console.print(f"open {escape(srv.url)}   (Ctrl-C stops it)", soft_wrap=True)
    srv.run(on_ready=None if no_browser else (lambda: open_browser(srv.url)))


@studio_app.command("export")
def export_cmd(
    dirs: List[Path] = typer.Argument(..., help="The folders the studio served."),
    picks: bool = typer.Option(False, "--picks", help="Copy the picked renders with their records."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder for the copies and ratings.csv."),
    state: Optional[Path] = typer.Option(None, "--state", help="State folder, if not DIR/.belamy-studio."),
) -> None:
    """Copy the picks with their records to OUT, plus ratings.csv of every marked render."""
    from belamy.studio.export import export_picks

    if not picks:
        raise BelamyError("say what to export: --picks")
    res = export_picks(dirs, out, state)
    console.print(f"exported {len(res.picks)} pick(s) to {escape(str(res.out))}; "
                  f"{res.marked} marked render(s) in {escape(str(res.ratings_csv))}")
    for line in res.skipped:
        console.print(f"skipped {escape(line)}")
