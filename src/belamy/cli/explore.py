"""`belamy series | video | project | morph | mix | bookmark`: exploring a trained run's latent space.

A latent on the command line is a seed (`42`), `bookmark:NAME`, or a latent file / folder made by
`belamy project`; see `belamy.generate.latents`. Each command parses its arguments, calls its
function in `belamy.api.explore` and prints what it wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

console = Console()
# options every rendering command shares (typer reads them, never mutates them)
DEVICE = typer.Option("auto", "--device")
THREADS = typer.Option(0, "--threads", help="CPU threads (0: torch's default; 1 on a busy machine).")
bookmark_app = typer.Typer(help="Named latents kept in the run: save, load (render), list.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("series")(series_cmd)
    app.command("video")(video_cmd)
    app.command("project")(project_cmd)
    app.command("morph")(morph_cmd)
    app.command("mix")(mix_cmd)
    app.add_typer(bookmark_app, name="bookmark")


def _need(path: Optional[Path], usage: str) -> Path:
    from belamy.core.errors import BelamyError

    if path is None:
        raise BelamyError(f"usage: {usage}")
    return path


def _threads(n: int) -> None:
    if n > 0:
        import torch

        torch.set_num_threads(n)


def _latents(text: str) -> list[str]:
    """'3,bookmark:anna,proj/' -> its latents (each a seed, bookmark:NAME or latent file)."""
    return [part for part in text.split(",") if part.strip()]


def series_cmd(
    run: Path = typer.Argument(..., help="Run folder (from `belamy train`)."),
    n: int = typer.Option(11, "-n", help="How many portraits."),
    family: str = typer.Option("0", "--family", help="The family's seed, or bookmark:NAME / a projection (relatives of it)."),
    spread: float = typer.Option(0.5, "--spread", help="Individual variation: 0 twins, 0.5 siblings, 1 cousins."),
    truncation: float = typer.Option(1.0, "--truncation", "--trunc", help="Pull toward the mean (0.7 typical)."),
    title: Optional[str] = typer.Option(None, "--title", help="Contact-sheet title (default 'Family SEED')."),
    noise: str = typer.Option("const", "--noise", help="const or none."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output folder (default RUN/series/familySEED)."),
    device: str = DEVICE,
    threads: int = THREADS,
) -> None:
    """A family of related portraits (shared latent + individual variation) and a titled contact sheet."""
    _threads(threads)
    from belamy.api import explore as api

    cfg = api.SeriesConfig(n=n, family=api.as_spec(family), spread=spread, truncation=truncation, noise_mode=noise,
                           title=title)
    done = api.series(run, out, cfg, device=device)
    console.print(f"rendered {len(done.renders)} portraits into {done.folder} (contact sheet: {done.contact_sheet})")


def video_cmd(
    run: Optional[Path] = typer.Argument(None, help="Run folder (from `belamy train`)."),
    seeds: Optional[str] = typer.Option(None, "--seeds", help="Keyframe seeds, e.g. 3,17,42."),
    latents: Optional[str] = typer.Option(None, "--latents", help="Keyframes: seeds, bookmark:NAME, latent files (comma-separated)."),
    seconds: float = typer.Option(12.0, "--seconds"),
    fps: float = typer.Option(25.0, "--fps"),
    space: str = typer.Option("w", "--space", help="w (any keyframe) or z (seeds only)."),
    interp: Optional[str] = typer.Option(None, "--interp", help="slerp or lerp (default: slerp in z, lerp in w)."),
    easing: str = typer.Option("ease", "--easing", help="linear, ease, smoothstep, ease-in, ease-out."),
    loop: bool = typer.Option(False, "--loop", help="Return to the first keyframe (seamless loop)."),
    truncation: float = typer.Option(1.0, "--truncation", "--trunc"),
    size: Optional[int] = typer.Option(None, "--size", help="Frame size in px (default: the model's)."),
    out: Path = typer.Option(Path("walk.mp4"), "-o", "--out", help="Video file: .mp4, .webm or .gif."),
    record: Optional[Path] = typer.Option(None, "--record", help="Re-render a video from its .record.json."),
    strip: Optional[Path] = typer.Option(None, "--strip", help="Also save 8 evenly spaced frames side by side as a PNG."),
    device: str = DEVICE,
    threads: int = THREADS,
) -> None:
    """A smooth walk through keyframe latents, as mp4 (H.264), webm (VP9) or gif."""
    _threads(threads)
    from belamy.api import explore as api
    from belamy.core.errors import BelamyError
    from belamy.core.seeds import parse_seeds

    if record is not None:
        api.video_from_record(record, out, device)
        console.print(f"re-rendered {out}")
        return
    _need(run, "belamy video RUN --seeds 3,17,42 --seconds 12 -o walk.mp4")
    if (seeds is None) == (latents is None):
        raise BelamyError("give the keyframes with --seeds 3,17,42 or --latents 3,bookmark:NAME,proj/ (one of them)")
    keys = parse_seeds(seeds) if seeds else _latents(latents or "")
    cfg = api.WalkConfig(seconds=seconds, fps=fps, space=space, interp=interp, easing=easing, loop=loop,
                         truncation=truncation, size=size)
    api.video(run, keys, out, cfg, device=device, strip=strip)
    console.print(f"wrote {out} ({cfg.frames} frames, record {out.name}.record.json)")


def project_cmd(
    run: Path = typer.Argument(..., help="Run folder (from `belamy train`)."),
    image: Path = typer.Argument(..., help="The image to reproduce."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output folder (default RUN/projections/IMAGE)."),
    steps: int = typer.Option(500, "--steps"),
    space: str = typer.Option("w+", "--space", help="w (one w) or w+ (one per layer: closer fits)."),
    seed: int = typer.Option(0, "--seed"),
    noise: bool = typer.Option(True, "--noise/--no-noise", help="Also optimise the noise inputs."),
    fit: str = typer.Option("crop", "--fit", help="crop, pad or stretch a non-square image."),
    video: bool = typer.Option(True, "--video/--no-video", help="Write projection.mp4 of the optimisation."),
    device: str = DEVICE,
    threads: int = THREADS,
) -> None:
    """Find the latent that best reproduces an image; saves it, a video of the search, and the quality."""
    _threads(threads)
    from belamy.api import explore as api

    cfg = api.ProjectConfig(steps=steps, space=space, seed=seed, optimize_noise=noise, fit=fit, video=video)
    proj = api.project(run, image, out, cfg, device=device)
    q = proj.quality
    console.print(f"projected {image} into {proj.folder}: PSNR {q['psnr']:.2f} dB (start {q['psnr_start']:.2f}), "
                  f"SSIM {q['ssim']:.3f} (start {q['ssim_start']:.3f})")
    console.print(f"latent: {proj.folder / 'latent.safetensors'}  (use it as a latent in any command)")


def morph_cmd(
    run: Path = typer.Argument(..., help="Run folder (from `belamy train`)."),
    source: Path = typer.Option(..., "--from", help="The painting to start from."),
    to: str = typer.Option(..., "--to", help="The portrait to end on: a seed, bookmark:NAME or a latent file."),
    seconds: float = typer.Option(12.0, "--seconds"),
    fps: float = typer.Option(25.0, "--fps"),
    crossfade: float = typer.Option(1.0, "--crossfade", help="Seconds from the exact source into its projection (0: none)."),
    hold: float = typer.Option(0.5, "--hold", help="Seconds resting on the final portrait."),
    easing: str = typer.Option("ease", "--easing"),
    truncation: float = typer.Option(1.0, "--truncation", "--trunc", help="Applied to the final portrait."),
    size: Optional[int] = typer.Option(None, "--size", help="Frame size in px (default: the model's)."),
    steps: int = typer.Option(500, "--steps", help="Projection steps."),
    latent: Optional[Path] = typer.Option(None, "--latent", help="Reuse a projection (folder or latent file) of --from."),
    out: Path = typer.Option(Path("morph.mp4"), "-o", "--out", help="Video file: .mp4, .webm or .gif."),
    strip: Optional[Path] = typer.Option(None, "--strip", help="Also save 8 evenly spaced frames side by side as a PNG."),
    device: str = DEVICE,
    threads: int = THREADS,
) -> None:
    """The video of a painting transforming into a generated portrait (projection, then interpolation)."""
    _threads(threads)
    from belamy.api import explore as api

    cfg = api.MorphConfig(seconds=seconds, fps=fps, crossfade=crossfade, hold=hold, easing=easing, truncation=truncation,
                          size=size, project=api.ProjectConfig(steps=steps, video=False))
    api.morph(run, source, to, out, cfg, latent=latent, device=device, strip=strip)
    console.print(f"wrote {out} (record {out.name}.record.json)")


def mix_cmd(
    run: Path = typer.Argument(..., help="Run folder (from `belamy train`)."),
    base: str = typer.Option(..., "--base", help="The latent the other layers come from."),
    coarse: Optional[str] = typer.Option(None, "--coarse", help="Latent for the coarse layers (4-8 px: pose, head shape)."),
    middle: Optional[str] = typer.Option(None, "--middle", help="Latent for the middle layers (16-32 px: features)."),
    fine: Optional[str] = typer.Option(None, "--fine", help="Latent for the fine layers (64 px+: colour, texture)."),
    layers: List[str] = typer.Option([], "--layers", help="Explicit ws range: --layers 0-3=42 (repeatable)."),
    truncation: float = typer.Option(1.0, "--truncation", "--trunc"),
    out: Path = typer.Option(Path("mix.png"), "-o", "--out", help="PNG to write (record beside it)."),
    bookmark: Optional[str] = typer.Option(None, "--bookmark", help="Also keep the mix as a bookmark with this name."),
    device: str = DEVICE,
    threads: int = THREADS,
) -> None:
    """Style mixing: coarse, middle and fine layers from different latents (StyleGAN2 runs)."""
    _threads(threads)
    from belamy.api import explore as api
    from belamy.core.errors import BelamyError

    parts = [(g, s) for g, s in (("coarse", coarse), ("middle", middle), ("fine", fine)) if s is not None]
    for item in layers:
        if "=" not in item:
            raise BelamyError(f"--layers {item}: use --layers 0-3=SEED")
        rng, latent = (x.strip() for x in item.split("=", 1))
        parts.append((rng, latent))
    done = api.mix(run, base, parts, out, truncation=truncation, device=device, bookmark=bookmark)
    console.print(f"wrote {done.render} (record {done.record.name})")
    if done.bookmark is not None:
        console.print(f"bookmarked as {bookmark}: {done.bookmark}")


@bookmark_app.command("save")
def bookmark_save_cmd(
    run: Path = typer.Argument(..., help="Run folder."),
    name: str = typer.Argument(..., help="Bookmark name (letters, digits, - _ .)."),
    latent: Optional[str] = typer.Argument(None, help="A seed, bookmark:NAME or latent file."),
    record: Optional[Path] = typer.Option(None, "--record", help="Bookmark the latent of a render record instead."),
    note: str = typer.Option("", "--note"),
    force: bool = typer.Option(False, "--force", help="Replace an existing bookmark."),
) -> None:
    """Keep a latent under a name; any command then accepts bookmark:NAME."""
    from belamy.api import explore as api

    path = api.save_bookmark(run, name, latent, record, note=note, overwrite=force)
    console.print(f"saved bookmark:{name} ({path})")


@bookmark_app.command("load")
def bookmark_load_cmd(
    run: Path = typer.Argument(..., help="Run folder."),
    name: str = typer.Argument(..., help="Bookmark name."),
    truncation: float = typer.Option(1.0, "--truncation", "--trunc"),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="PNG to write (default NAME.png)."),
    device: str = DEVICE,
    threads: int = THREADS,
) -> None:
    """Render a bookmark to a PNG (with its record)."""
    _threads(threads)
    from belamy.api import explore as api

    console.print(f"wrote {api.render_bookmark(run, name, out, truncation=truncation, device=device)}")


@bookmark_app.command("list")
def bookmark_list_cmd(run: Path = typer.Argument(..., help="Run folder.")) -> None:
    """The run's bookmarks and where each came from."""
    import json

    from belamy.api import explore as api

    marks = api.bookmarks(run)
    if not marks:
        console.print("no bookmarks yet: belamy bookmark save RUN NAME 42")
    for b in marks:
        console.print(f"{b['name']:<24} {json.dumps(b.get('source'))}  {b.get('note', '')}".rstrip())
