"""Entry point: builds the Typer app from one module per command group and turns user errors
into one clear line and a non-zero exit (a traceback only with --debug)."""

from __future__ import annotations

import os
import sys

import typer

from belamy.core.errors import BelamyError

app = typer.Typer(
    name="belamy",
    help="From a collection of images to a signed, provenance-recorded series of GAN-made artworks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_state = {"debug": False}


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks for errors."),
) -> None:
    _state["debug"] = debug or os.environ.get("BELAMY_DEBUG") == "1"


def _register() -> None:
    from belamy.cli import brush as brush_cli
    from belamy.cli import collect as collect_cli
    from belamy.cli import eval as eval_cli
    from belamy.cli import explore as explore_cli
    from belamy.cli import finish as finish_cli
    from belamy.cli import ledger as ledger_cli
    from belamy.cli import nft as nft_cli
    from belamy.cli import poses as poses_cli
    from belamy.cli import recipe as recipe_cli
    from belamy.cli import studio as studio_cli
    from belamy.cli import share as share_cli
    from belamy.cli import train as train_cli

    collect_cli.register(app)
    train_cli.register(app)
    explore_cli.register(app)
    eval_cli.register(app)
    finish_cli.register(app)
    poses_cli.register(app)
    brush_cli.register(app)
    ledger_cli.register(app)
    share_cli.register(app)
    nft_cli.register(app)
    studio_cli.register(app)
    recipe_cli.register(app)


_register()


def main() -> None:
    try:
        app()
    except BelamyError as exc:
        if _state["debug"]:
            raise
        print(f"belamy: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("belamy: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
