"""The refine stage's commands: `belamy brush` (a layer of strokes from a photograph) and
`belamy upscale` (a super-resolution run over any images)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

console = Console()


def register(app: typer.Typer) -> None:
    app.command("brush")(brush_cmd)
    app.command("upscale")(upscale_cmd)


def brush_cmd(
    portrait: Path = typer.Argument(..., help="The portrait to paint on (PNG, JPEG, TIFF, WebP)."),
    photo: Path = typer.Option(..., "--photo", help="The photograph the strokes' colours and texture come from."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder for NAME.png (composite), NAME.brush.png (layer) and NAME.brush.json."),
    strength: float = typer.Option(0.7, "--strength", help="Opacity of the layer, 0 to 1 (0 gives the portrait back)."),
    stroke_size: float = typer.Option(0.04, "--stroke-size", help="Width of the largest brush, of the portrait's shorter side."),
    region: str = typer.Option("all", "--region", help="Where to paint: all, figure or background (a segmentation by colour)."),
    mask: Optional[Path] = typer.Option(None, "--mask", help="Where to paint instead: a grey image at the portrait's size, white for paint."),
    seed: int = typer.Option(0, "--seed", help="Seed of the strokes' placement and texture (the same seed, the same layer)."),
    layers: int = typer.Option(3, "--layers", help="Brush sizes, each half the one before (coarse to fine)."),
    colors: int = typer.Option(12, "--colors", help="Colours in the palette taken from the photo."),
    tone: float = typer.Option(0.5, "--tone", help="How much of the portrait's light and shade the paint keeps, 0 to 1."),
    texture: float = typer.Option(0.6, "--texture", help="How much of the photo's texture shows in the strokes, 0 to 1."),
    video: Optional[Path] = typer.Option(None, "--video", help="Also a time-lapse of the strokes: .mp4 (the video extra) or .gif."),
    force: bool = typer.Option(False, "--force", help="Replace outputs of the same name in -o."),
) -> None:
    """Lay a layer of brush strokes on a portrait, with the colours and texture of a photograph."""
    from belamy.api.brush import brush
    from belamy.core.errors import BelamyError
    from belamy.refine.brush import BrushConfig

    if mask is not None and region != "all":
        raise BelamyError("--region and --mask both say where to paint: give one of them")
    cfg = BrushConfig(strength=strength, stroke_size=stroke_size, region=region, seed=seed, layers=layers,  # type: ignore[arg-type]
                      colors=colors, tone=tone, texture=texture)
    res = brush(portrait, photo, out, cfg, mask=mask, video=video, force=force)
    rec = res.record
    widths = ", ".join(f"{w:g}" for w in rec["brush_widths_px"])
    console.print(f"brushed {escape(str(res.composite))}: {rec['strokes']} strokes in {len(rec['strokes_per_layer'])} "
                  f"sizes ({widths} px) over {rec['region']} ({rec['region_share']:.0%} of the portrait), "
                  f"{len(rec['palette'])} colours from {escape(photo.name)}, in {res.seconds:.1f} s")
    console.print(f"  layer {escape(res.layer.name)}, record {escape(res.record_path.name)}"
                  + (f", time-lapse {escape(str(res.video))}" if res.video else ""))


def upscale_cmd(
    run: Path = typer.Argument(..., help="A super-resolution run (from `belamy train-sr`)."),
    images: list[Path] = typer.Argument(..., help="Images to upscale: renders, projections, any PNG/JPEG/TIFF/WebP."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder for NAME.png and NAME.upscale.json."),
    tile: int = typer.Option(512, "--tile", help="Tile side in input pixels (0: whole image at once); any image fits in bounded memory."),
    overlap: Optional[int] = typer.Option(None, "--overlap", help="Context around each tile in input px (default: what the model needs for no seams)."),
    device: str = typer.Option("auto", "--device"),
    force: bool = typer.Option(False, "--force", help="Replace outputs that exist."),
) -> None:
    """Upscale images with a super-resolution run, tile by tile; a render's record gains the upscale step."""
    from belamy.api.upscale import upscale

    done = upscale(run, images, out, tile=tile, overlap=overlap, device=device, force=force)
    for u in done:
        o = u.record["output"]
        console.print(f"{escape(str(u.image))}  {o['width']}x{o['height']} px  ({u.record['seconds']:.1f} s)")
    console.print(f"records: {escape(str(out))}/*.upscale.json")
