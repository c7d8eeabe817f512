"""`belamy collect` and `belamy collection show|credits`."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()
collection_app = typer.Typer(help="Inspect a collection: counts, licences, credits.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("collect")(collect_cmd)
    app.add_typer(collection_app, name="collection")


def collect_cmd(
    sources: List[str] = typer.Argument(None, help="Folders, .zip files, URL-list text files, image files or URLs."),
    out: Path = typer.Option(..., "-o", "--out", help="Collection folder (created, or extended if it exists)."),
    size: int = typer.Option(256, "--size", help="Image size in pixels: a power of two from 32 to 1024."),
    fit: str = typer.Option("crop", "--fit", help="Non-square images: crop (centre), pad or stretch."),
    background: str = typer.Option("white", "--background", help="Colour behind transparency and padding."),
    demo: Optional[str] = typer.Option(None, "--demo", help="Add a built-in demo collection: portraits, figures (full-body, each with its pose), or sitter (one person in 200 sittings)."),
    demo_count: Optional[int] = typer.Option(None, "--demo-count", help="How many demo images (default: all)."),
    credits: Optional[Path] = typer.Option(None, "--credits", help="CSV or JSON-lines sidecar with file/url, title, author, date, license, source_url."),
    license: Optional[str] = typer.Option(None, "--license", help="SPDX licence for images the credits don't cover."),
    author: Optional[str] = typer.Option(None, "--author", help="Author for images the credits don't cover."),
    near_threshold: int = typer.Option(20, "--near-threshold", help="Perceptual-hash distance (of 64 bits) within which images are compared on thumbnails as near duplicates; -1 keeps them."),
    min_side: int = typer.Option(0, "--min-side", help="Skip images whose short side is smaller (0: size/4)."),
    strict: bool = typer.Option(False, "--strict", help="Fail (and change nothing) if any file is skipped."),
    workers: int = typer.Option(0, "--workers", help="Decoding processes (0: one per CPU core)."),
    include_opted_out: bool = typer.Option(
        False, "--include-opted-out",
        help="Keep images whose creators opted out of training (TDMRep, ai.txt, plus:DataMining, C2PA "
             "training-mining; skipped by default). The decision is written into each such image's manifest "
             "row, collection.json, model cards and provenance records."),
    pairs: bool = typer.Option(False, "--pairs", help="SOURCES are two folders, conditions then targets, paired by file name: make a pairs folder for `belamy train-pair`."),
) -> None:
    """Turn folders, zips and URL lists into a prepared, credited collection."""
    if pairs:
        from belamy.cli.train import make_pairs

        make_pairs(None, None, [Path(s) for s in sources or []], size, out)
        return
    from belamy.data.config import CollectConfig
    from belamy.data.collect import collect
    from belamy.data.credits import normalise_license
    from belamy.data.sources import DEMO_SCHEME
    from belamy.core.errors import BelamyError

    all_sources = list(sources or [])
    if demo:
        all_sources.append(f"{DEMO_SCHEME}{demo}")
    if license:
        norm, warning = normalise_license(license)
        if warning:
            raise BelamyError(f"--license: {warning} (see https://spdx.org/licenses/)")
        license = norm
    cfg = CollectConfig(size=size, fit=fit, background=background, near_threshold=near_threshold,
                        min_side=min_side, strict=strict, workers=workers, default_license=license,
                        default_author=author, demo_count=demo_count, include_opted_out=include_opted_out)
    coll = collect(all_sources, out, cfg, credits=credits)
    print_report(coll)


def _shown(text) -> str:
    """Any name or path as terminal text: bytes that are not UTF-8 as escapes, markup inert."""
    from belamy.data.names import display

    return escape(display(str(text)))


def print_report(coll, examples: int = 5) -> None:
    rep = coll.report
    t = Table(title=f"collected into {_shown(coll.path)}", show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column(justify="right")
    t.add_row("files seen", str(rep.total))
    t.add_row("added", f"[green]{rep.added}[/]")
    t.add_row("already in collection", str(rep.already_present))
    if rep.credits_updated:
        t.add_row("credits updated", str(rep.credits_updated))
    t.add_row("exact duplicates removed", str(len(rep.exact_duplicates)))
    t.add_row("near duplicates removed", str(len(rep.near_duplicates)))
    if rep.near_threshold >= 0:
        t.add_row("  found within", f"hash distance {rep.near_threshold}, difference {rep.near_difference:g}")
    t.add_row("skipped", f"[yellow]{len(rep.skipped)}[/]" if rep.skipped else "0")
    for reason, n in rep.skip_reasons().most_common():
        t.add_row(f"  {reason}", str(n))
    skipped_out, kept_out = rep.opt_out_signals(included=False), rep.opt_out_signals(included=True)
    if skipped_out or not kept_out:
        total = sum(skipped_out.values())
        t.add_row("opted out by their creators, skipped", f"[yellow]{total}[/]" if total else "0")
        for signal, n in skipped_out.most_common():
            t.add_row(f"  {escape(signal)}", str(n))
    if kept_out:
        t.add_row("opted out, included (--include-opted-out)", f"[red]{sum(kept_out.values())}[/]")
        for signal, n in kept_out.most_common():
            t.add_row(f"  {escape(signal)}", str(n))
    t.add_row("images in collection", f"[bold]{len(coll)}[/] at {coll.size} px")
    t.add_row("missing credits", str(coll.missing_credits()))
    t.add_row("speed", f"{rep.images_per_second:.0f} images/s ({rep.seconds:.1f} s)")
    console.print(t)
    for s in rep.skipped[:examples]:
        console.print(f"[yellow]skipped:[/] {_shown(s['source'])}: {escape(s['reason'])}")
    if len(rep.skipped) > examples:
        console.print(f"[yellow]skipped:[/] ... and {len(rep.skipped) - examples} more (see the report)")
    for o in rep.opted_out[:examples]:
        verb = "[red]included despite opt-out:[/]" if o["included"] else "[yellow]opted out:[/]"
        console.print(f"{verb} {_shown(o['source'])}: {escape(o['signal'])} ({escape(o['detail'])})")
    if len(rep.opted_out) > examples:
        console.print(f"[yellow]opted out:[/] ... and {len(rep.opted_out) - examples} more (see the report)")
    for c in rep.credit_conflicts[:examples]:
        console.print(f"[yellow]credits:[/] {_shown(c['source'])}: the sidecar's {escape(c['field'])} "
                      f"'{escape(c['sidecar'])}' kept over the file's own '{escape(c['embedded'])}'")
    if len(rep.credit_conflicts) > examples:
        console.print(f"[yellow]credits:[/] ... and {len(rep.credit_conflicts) - examples} more sidecar/file "
                      "disagreements (see the report)")
    for w in rep.credit_warnings[:5]:
        console.print(f"[yellow]credits:[/] {escape(w)}")
    if rep.credits_unmatched:
        console.print(f"[yellow]credits:[/] {len(rep.credits_unmatched)} credits row(s) matched no image "
                      f"(e.g. {escape(rep.credits_unmatched[0])})")
    console.print(f"preview: {_shown(coll.path / 'preview.png')}")
    console.print(f"report:  {escape(rep.report_path)}")


@collection_app.command("show")
def show_cmd(path: Path = typer.Argument(..., help="Collection folder.")) -> None:
    """Counts, licence breakdown and how many images lack credits."""
    from belamy.data.collection import Collection

    coll = Collection.open(path)
    s = coll.summary()
    t = Table(title=f"collection {_shown(path)}", show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column(justify="right")
    t.add_row("images", str(s["count"]))
    t.add_row("size", f"{s['size']} px ({s['fit']})")
    t.add_row("authors", str(s["authors"]))
    t.add_row("missing credits", str(s["missing_credits"]))
    if s["opted_out_included"]:
        t.add_row("opted out, included", f"[red]{s['opted_out_included']}[/]")
    t.add_row("updated", str(s["updated"]))
    console.print(t)
    lic = Table(title="licences", title_justify="left")
    lic.add_column("licence")
    lic.add_column("images", justify="right")
    for name, n in s["licenses"].items():
        lic.add_row(escape(name), str(n))
    console.print(lic)


@collection_app.command("credits")
def credits_cmd(
    path: Path = typer.Argument(..., help="Collection folder."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Where to write (default: COLLECTION/CREDITS.md)."),
) -> None:
    """Write a CREDITS.md file listing every image's title, author, date, licence and source."""
    from belamy.data.collection import Collection
    from belamy.data.credits_file import write_credits_file

    coll = Collection.open(path)
    written = write_credits_file(coll, out)
    console.print(f"wrote {_shown(written)} ({len(coll)} images, {coll.missing_credits()} without full credits)")
