"""`belamy train` and `belamy sample`."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape

console = Console()


def register(app: typer.Typer) -> None:
    app.command("train")(train_cmd)
    app.command("sample")(sample_cmd)
    app.command("demo")(demo_cmd)
    app.command("train-pair")(train_pair_cmd)
    app.command("pairs")(pairs_cmd)
    app.command("translate")(translate_cmd)
    app.command("chain")(chain_cmd)
    app.command("train-sr")(train_sr_cmd)


def train_cmd(
    collection: Optional[Path] = typer.Argument(None, help="Collection folder (from `belamy collect`)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Run folder to create."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue this run exactly where it stopped."),
    preset: Optional[str] = typer.Option(None, "--preset", help="cpu-quick-64 (default), dcgan-64, dcgan-128, portrait-256, gpu-1024."),
    model: Optional[str] = typer.Option(None, "--model", help="stylegan2 (default), fastgan or dcgan: picks that model's default preset."),
    resolution: Optional[int] = typer.Option(None, "--resolution", help="Output size (power of two, 32-1024)."),
    config: Optional[Path] = typer.Option(None, "--config", help="JSON config file (fields of config.json)."),
    set_: List[str] = typer.Option([], "--set", help="Override any field: --set lr_g=0.002 --set model.g_channel_max=256."),
    kimg: Optional[float] = typer.Option(None, "--kimg", help="Budget: thousands of real images shown."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Budget: training iterations."),
    minutes: Optional[float] = typer.Option(None, "--minutes", help="Budget: wall-clock minutes."),
    batch: Optional[int] = typer.Option(None, "--batch", help="Global batch size (over all GPUs) for the whole run: replaces the preset's start batch too."),
    lr_g: Optional[float] = typer.Option(None, "--lr-g"),
    lr_d: Optional[float] = typer.Option(None, "--lr-d"),
    augment: Optional[str] = typer.Option(None, "--augment", help="diffaug, ada or none."),
    r1_gamma: Optional[float] = typer.Option(None, "--r1-gamma"),
    ema_kimg: Optional[float] = typer.Option(None, "--ema-kimg"),
    seed: Optional[int] = typer.Option(None, "--seed"),
    preview_kimg: Optional[float] = typer.Option(None, "--preview-kimg", help="Preview grid every N kimg."),
    checkpoint_kimg: Optional[float] = typer.Option(None, "--checkpoint-kimg", help="Checkpoint every N kimg."),
    keep: Optional[int] = typer.Option(None, "--keep", help="Keep the last K checkpoints."),
    device: Optional[str] = typer.Option(None, "--device", help="auto, cpu, cuda, cuda:N or mps."),
    amp: Optional[str] = typer.Option(None, "--amp", help="Mixed precision: auto (bf16 on CUDA and on CPUs with native bf16), bf16, fp16 (CUDA) or off."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads."),
) -> None:
    """Train a GAN on a collection (Ctrl-C saves a checkpoint; --resume continues exactly)."""
    from belamy.api.config import resolve_train_config
    from belamy.api.train import train
    from belamy.core.errors import BelamyError

    budget = {k: v for k, v in (("kimg", kimg), ("steps", steps), ("minutes", minutes)) if v is not None}
    runtime = {k: v for k, v in (("device", device), ("amp", amp), ("threads", threads)) if v is not None}
    if resume is not None:
        others = [preset, model, resolution, config, batch, lr_g, lr_d, augment, r1_gamma, ema_kimg, seed, collection]
        if any(x is not None for x in others) or set_:
            raise BelamyError("--resume continues the run's own config: only --kimg/--steps/--minutes and --device/--amp/--threads may be given")
        run = train(None, resume, resume=True, warn=_warn, **budget, **runtime)
    else:
        if collection is None or out is None:
            raise BelamyError("usage: belamy train COLLECTION -o RUN (or belamy train --resume RUN)")
        cfg = resolve_train_config(
            preset=preset, model=model, config_file=config, resolution=resolution, sets=set_, batch=batch,
            lr_g=lr_g, lr_d=lr_d, augment=augment, r1_gamma=r1_gamma, ema_kimg=ema_kimg, seed=seed,
            preview_kimg=preview_kimg, checkpoint_kimg=checkpoint_kimg, keep=keep, **budget, **runtime)
        run = train(collection, out, cfg, warn=_warn)
    reason = getattr(run, "stop_reason", "budget")
    console.print(f"[bold]{'stopped (Ctrl-C), resume with: belamy train --resume ' + str(run.path) if reason == 'interrupted' else 'trained'}[/]")
    console.print(f"run:        {run.path}")
    console.print(f"generator:  {run.export_path}")
    latest = sorted((run.path / 'samples').glob('fakes-*.png'))
    if latest:
        console.print(f"preview:    {latest[-1]}")
    console.print(f"curves:     {run.path / 'curves.png'}")
    console.print(f"model card: {run.path / 'MODEL_CARD.md'}")


def train_pair_cmd(
    pairs: Optional[Path] = typer.Argument(None, help="Pairs folder (from `belamy pairs`)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Run folder to create."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue this run exactly where it stopped."),
    preset: Optional[str] = typer.Option(None, "--preset", help="pix2pix-64 (default), pix2pix-128 (CPU), pix2pix-256, pix2pix-512 (GPU)."),
    config: Optional[Path] = typer.Option(None, "--config", help="JSON config file (fields of config.json)."),
    set_: List[str] = typer.Option([], "--set", help="Override any field: --set l1_weight=50 --set model.dropout=0."),
    kimg: Optional[float] = typer.Option(None, "--kimg", help="Budget: thousands of pairs shown."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Budget: training iterations."),
    minutes: Optional[float] = typer.Option(None, "--minutes", help="Budget: wall-clock minutes."),
    batch: Optional[int] = typer.Option(None, "--batch", help="Global batch size."),
    seed: Optional[int] = typer.Option(None, "--seed"),
    device: Optional[str] = typer.Option(None, "--device", help="auto, cpu, cuda, cuda:N or mps."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads."),
) -> None:
    """Train pix2pix (U-Net G, PatchGAN D, L1 + GAN) on pairs: the training machinery of `belamy train`."""
    train_cmd(collection=pairs, out=out, resume=resume, preset=preset, model=None if (preset or config or resume) else "pix2pix",
              resolution=None, config=config, set_=set_, kimg=kimg, steps=steps, minutes=minutes, batch=batch, lr_g=None,
              lr_d=None, augment=None, r1_gamma=None, ema_kimg=None, seed=seed, preview_kimg=None, checkpoint_kimg=None,
              keep=None, device=device, amp=None, threads=threads)


def train_sr_cmd(
    collection: Optional[Path] = typer.Argument(None, help="Collection folder (from `belamy collect`, at --size 256 or more)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Run folder to create."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue this run exactly where it stopped."),
    scale: Optional[int] = typer.Option(None, "--scale", help="Upscale factor: 2 or 4 (default 4)."),
    model: str = typer.Option("srvgg", "--model", help="srvgg (compact, the default) or rrdb (ESRGAN's, GPU-sized)."),
    preset: Optional[str] = typer.Option(None, "--preset", help="sr-x2, sr-x4 (CPU), sr-x2-gpu, sr-x4-gpu, rrdb-x2, rrdb-x4."),
    patch: Optional[int] = typer.Option(None, "--patch", help="High-res training crop in px (power of two; default 32 x scale on a CPU)."),
    degrade: Optional[str] = typer.Option(None, "--degrade", help="second-order (Real-ESRGAN, default), first-order, light or bicubic."),
    gan_start_kimg: Optional[float] = typer.Option(None, "--gan-start-kimg", help="Length of the L1 stage in kimg; then D and the GAN loss join."),
    config: Optional[Path] = typer.Option(None, "--config", help="JSON config file (fields of config.json)."),
    set_: List[str] = typer.Option([], "--set", help="Override any field: --set gan_weight=0.05 --set model.sr_blocks=16."),
    kimg: Optional[float] = typer.Option(None, "--kimg", help="Budget: thousands of crops shown."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Budget: training iterations."),
    minutes: Optional[float] = typer.Option(None, "--minutes", help="Budget: wall-clock minutes."),
    batch: Optional[int] = typer.Option(None, "--batch", help="Global batch size."),
    seed: Optional[int] = typer.Option(None, "--seed"),
    device: Optional[str] = typer.Option(None, "--device", help="auto, cpu, cuda, cuda:N or mps."),
    amp: Optional[str] = typer.Option(None, "--amp", help="auto, bf16, fp16 (CUDA) or off."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads."),
) -> None:
    """Train a super-resolution GAN on a collection's own images (L1 stage, then GAN stage): the machinery of `belamy train`."""
    from belamy.core.errors import BelamyError
    from belamy.training.presets import sr_preset_name

    if model not in ("srvgg", "rrdb"):
        raise BelamyError(f"--model {model}: use srvgg or rrdb")
    if scale is not None and scale not in (2, 4):
        raise BelamyError(f"--scale {scale}: use 2 or 4")
    if preset is not None and not preset.startswith(("sr-", "rrdb-")):
        raise BelamyError(f"--preset {preset} is not a super-resolution preset: use sr-x2, sr-x4, sr-x2-gpu, "
                          "sr-x4-gpu, rrdb-x2 or rrdb-x4")
    sets = list(set_)
    if resume is None and config is None:
        if preset is None:
            preset = sr_preset_name(model, scale or 4)
        elif scale is not None:
            sets.insert(0, f"model.scale={scale}")
    if resume is None:
        sets[:0] = [f"model.resolution={patch}"] * (patch is not None) + [f'degrade="{degrade}"'] * (degrade is not None) \
            + [f"gan_start_kimg={gan_start_kimg}"] * (gan_start_kimg is not None)
    elif any(x is not None for x in (scale, patch, degrade, gan_start_kimg)):
        raise BelamyError("--resume continues the run's own config: only --kimg/--steps/--minutes and --device/--amp/--threads may be given")
    train_cmd(collection=collection, out=out, resume=resume, preset=preset, model=None, resolution=None, config=config,
              set_=sets, kimg=kimg, steps=steps, minutes=minutes, batch=batch, lr_g=None, lr_d=None, augment=None,
              r1_gamma=None, ema_kimg=None, seed=seed, preview_kimg=None, checkpoint_kimg=None, keep=None,
              device=device, amp=amp, threads=threads)


def pairs_cmd(
    collection: Optional[Path] = typer.Argument(None, help="A collection: its images become the targets."),
    condition: Optional[str] = typer.Option(None, "--condition", help="pose (the figures demo's poses), edges, blur or lowres."),
    folders: Optional[List[Path]] = typer.Option(None, "--from", help="Two folders, conditions then targets, paired by file name: --from A_DIR --from B_DIR."),
    size: int = typer.Option(128, "--size", help="With --from: the side in pixels."),
    out: Path = typer.Option(..., "-o", "--out", help="Pairs folder to create."),
) -> None:
    """Make pix2pix pairs: a condition derived from each image of a collection, or two folders paired by name."""
    make_pairs(collection, condition, folders, size, out)


def make_pairs(collection: Optional[Path], condition: Optional[str], folders: Optional[List[Path]], size: int,
               out: Path) -> None:
    from belamy.core.errors import BelamyError
    from belamy.core.progress import make_progress
    from belamy.data.collection import Collection
    from belamy.data.pairs import derive_pairs, pairs_from_folders

    bar = make_progress()
    if folders:
        if len(folders) != 2 or collection is not None or condition is not None:
            raise BelamyError("pairs from folders: belamy pairs --from CONDITION_DIR --from TARGET_DIR -o PAIRS")
        with bar:
            task = bar.add_task("pairing", total=None)
            p = pairs_from_folders(folders[0], folders[1], out, size, progress=lambda k: bar.advance(task, k))
        report = p.path / "report.json"
        console.print(f"{len(p)} pairs at {p.size} px in {p.path} (unmatched and unreadable files: {report})")
        return
    if collection is None or condition is None:
        raise BelamyError("usage: belamy pairs COLLECTION --condition edges -o PAIRS, or --from A_DIR --from B_DIR")
    with bar:
        task = bar.add_task("pairing", total=len(Collection.open(collection)))
        p = derive_pairs(collection, out, condition, progress=lambda k: bar.advance(task, k))
    console.print(f"{len(p)} pairs ({condition} -> image) at {p.size} px in {p.path} (preview {p.path / 'preview.png'})")


def translate_cmd(
    run: Optional[Path] = typer.Argument(None, help="A pix2pix run (from `belamy train-pair`)."),
    inputs: List[Path] = typer.Argument(None, help="Condition images (stick figures, edges, ...)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output folder."),
    record: Optional[Path] = typer.Option(None, "--record", help="Re-render exactly from a translation's .record.json."),
    device: str = typer.Option("auto", "--device"),
) -> None:
    """Translate condition images with a pix2pix run: PNG + record each."""
    from belamy.core.errors import BelamyError
    from belamy.core.png import save_png
    from belamy.generate.records import read_record
    from belamy.generate.translate import reproduce_translation, translate
    from belamy.models.run import Run

    if record is not None:
        target = out or record.with_name(record.name.replace(".record.json", ".reproduced.png"))
        save_png(reproduce_translation(read_record(record), "cpu" if device == "auto" else device), target)
        console.print(f"re-rendered {target}")
        return
    if run is None or not inputs or out is None:
        raise BelamyError("usage: belamy translate RUN INPUT.png... -o DIR")
    paths = translate(Run.open(run), list(inputs), out, device=device)
    console.print(f"translated {len(paths)} images into {out}")


def chain_cmd(
    config: Path = typer.Argument(..., help="Chain config (TOML): tables poses, stick, translate, output, and optionally upscale."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder (run again to resume)."),
    shard: Optional[str] = typer.Option(None, "--shard", help="K/N: render every N-th pose from K (default: torchrun's rank/world, else all)."),
    device: str = typer.Option("auto", "--device"),
) -> None:
    """Render a chain of GANs: poses -> stick figures -> pix2pix (-> super-resolution), resumable and sharded."""
    from belamy.api.chain import parse_shard, run_chain

    res = run_chain(config, out, shard=parse_shard(shard), device=device)
    console.print(f"{res.rendered} rendered, {res.skipped} already there (shard {res.shard[0]}/{res.shard[1]}): "
                  f"{res.out / 'renders'}")


def _warn(message: str) -> None:
    console.print(f"[yellow]{escape(message)}[/]")


def sample_cmd(
    run: Optional[Path] = typer.Argument(None, help="Run folder (from `belamy train`)."),
    n: Optional[int] = typer.Option(None, "-n", help="How many images (seeds 0..n-1 unless --seeds)."),
    seeds: Optional[str] = typer.Option(None, "--seeds", help="Seeds, e.g. 0-63 or 3,17,42."),
    truncation: float = typer.Option(1.0, "--truncation", "--trunc", help="Pull latents toward the mean (1: none, 0.7 typical)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output folder (default RUN/renders)."),
    noise: str = typer.Option("const", "--noise", help="const (reproducible), random or none."),
    device: str = typer.Option("auto", "--device"),
    record: Optional[Path] = typer.Option(None, "--record", help="Re-render exactly from a render's .record.json."),
    originality: bool = typer.Option(True, "--originality/--no-originality", help="Store each render's nearest training image and originality score in its record."),
) -> None:
    """Render images by seed: PNG + record.json each, and a grid."""
    from belamy.api.sample import sample
    from belamy.core.errors import BelamyError
    from belamy.core.seeds import parse_seeds
    from belamy.generate.sample import reproduce
    from belamy.models.run import Run

    if record is not None:
        target = out or record.with_name(record.name.replace(".record.json", ".reproduced.png"))
        reproduce(record, target, device="cpu" if device == "auto" else device)
        console.print(f"re-rendered {target}")
        return
    if run is None:
        raise BelamyError("usage: belamy sample RUN -n 64 [--seeds 0-63] [--truncation 0.7] -o DIR")
    if noise not in ("const", "random", "none"):
        raise BelamyError(f"--noise must be const, random or none, got '{noise}'")
    if not 0.0 <= truncation <= 2.0:
        raise BelamyError(f"--truncation {truncation} is out of range: use 0 to 1 (values above 1 exaggerate)")
    seed_list = parse_seeds(seeds) if seeds else list(range(n or 16))
    if seeds and n:
        seed_list = seed_list[:n]
    r = Run.open(run)
    target = out or (r.path / "renders")
    paths = sample(r, seed_list, target, truncation=truncation, noise_mode=noise, device=device, originality=originality)
    console.print(f"rendered {len(paths)} images into {target} (grid: {target / 'grid.png'})")
    if originality:
        _print_near_copies(paths)


def _print_near_copies(paths: list[Path]) -> None:
    import json

    from belamy.generate.records import RECORD_SUFFIX

    copies = []
    for p in paths:
        orig = json.loads(p.with_name(p.stem + RECORD_SUFFIX).read_text()).get("originality", {})
        if "skipped" in orig:
            console.print(f"[yellow]originality not checked: {orig['skipped']}[/]")
            return
        if orig.get("near_copy"):
            copies.append(f"{p.name} (score {orig['score']:.2f}, like {orig['nearest'].get('title') or orig['nearest'].get('id')})")
    if copies:
        console.print(f"[red]{len(copies)} near copies of training images:[/] " + "; ".join(copies))


def demo_cmd(
    out: Path = typer.Option(Path("belamy-demo"), "-o", "--out", help="Folder for the collection, run and renders."),
    minutes: float = typer.Option(3.0, "--minutes", help="Training time."),
    count: Optional[int] = typer.Option(None, "--count", help="Demo portraits to paint (default 300)."),
    device: str = typer.Option("auto", "--device"),
    preset: str = typer.Option("cpu-quick-64", "--preset",
                               help="cpu-quick-64 (the default, 64 px), cpu-128 (128 px, ~4x slower per image) "
                                    "or any training preset."),
) -> None:
    """Run the whole pipeline on the built-in demo portraits: collect, train, sample, finish, mint."""
    from belamy.api.demo import run_demo

    res = run_demo(out, minutes=minutes, count=count, device=device, preset=preset,
                   say=lambda line: console.print(escape(line)))
    console.print("[bold green]done[/]")
    console.print(f"collection:     {res.collection}  (contact sheet {res.collection / 'preview.png'})")
    console.print(f"run:            {res.run}  (previews in {res.run / 'samples'}, curves {res.run / 'curves.png'})")
    console.print(f"renders:        {res.renders}")
    console.print(f"contact sheet:  {res.contact_sheet}")
    console.print(f"artwork:        {res.artwork}")
    console.print(f"ledger:         {res.ledger}")
    console.print(f"check it:       belamy verify {res.artwork} --keys {res.keys} --ledger {res.ledger}")
