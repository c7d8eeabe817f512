"""`belamy poses import | extract | sample | train | render | show`: pose collections, the chain's first link."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()
poses_app = typer.Typer(help="Pose collections: import COCO keypoints, sample poses, draw stick figures.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(poses_app, name="poses")


def _table(title: str) -> Table:
    t = Table(title=title, show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column(justify="right")
    return t


@poses_app.command("import")
def import_cmd(
    files: List[Path] = typer.Argument(..., help="COCO person_keypoints_*.json files."),
    out: Path = typer.Option(..., "-o", "--out", help="Pose collection folder (written, or replaced)."),
    min_visible: int = typer.Option(8, "--min-visible", help="Skip people with fewer labelled keypoints "
                                    "(COCO's num_keypoints: visible or hidden but labelled)."),
    min_box: float = typer.Option(64.0, "--min-box", help="Skip people whose box's longer side is smaller (pixels)."),
    mirror: bool = typer.Option(False, "--mirror", help="Also add a mirrored copy of every pose."),
    height: float = typer.Option(0.8, "--height", help="Normalised size: the keypoints' box's longer side, "
                                 "in canvas units."),
    keep_crowd: bool = typer.Option(False, "--keep-crowd", help="Keep crowd regions (iscrowd) too."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Stop after this many people."),
) -> None:
    """Read COCO keypoint annotations (streaming) into a pose collection."""
    from belamy.api.poses import import_poses
    from belamy.chain.coco import CocoImportConfig

    cfg = CocoImportConfig(min_visible=min_visible, min_box=min_box, mirror=mirror, height=height,
                           skip_crowd=not keep_crowd, limit=limit)
    coll = import_poses(files, out, cfg)
    rep = coll.report or {}
    t = _table(f"imported into {escape(str(coll.path))}")
    t.add_row("annotations seen", str(rep.get("seen", 0)))
    t.add_row("kept", f"[green]{rep.get('kept', 0)}[/]")
    if rep.get("mirrored"):
        t.add_row("mirrored copies", str(rep["mirrored"]))
    skipped = rep.get("skipped", {})
    t.add_row("skipped", f"[yellow]{sum(skipped.values())}[/]" if skipped else "0")
    for reason, n in skipped.items():
        t.add_row(f"  {escape(reason)}", str(n))
    t.add_row("poses in collection", f"[bold]{len(coll)}[/]")
    t.add_row("time", f"{rep.get('seconds', 0):.1f} s")
    console.print(t)
    console.print(f"preview: {escape(str(coll.path / 'preview.png'))}")


@poses_app.command("extract")
def extract_cmd(
    images: List[Path] = typer.Argument(..., help="Photographs, one person each (JPEG, PNG, ...)."),
    out: Path = typer.Option(..., "-o", "--out", help="Pose collection folder (written, or replaced)."),
    min_visible: int = typer.Option(8, "--min-visible", help="Skip people with fewer visible keypoints "
                                    "(MediaPipe visibility score >= 0.5)."),
    height: float = typer.Option(0.8, "--height", help="Normalised size: the keypoints' box's longer side, "
                                 "in canvas units."),
) -> None:
    """Find the person in each photograph (MediaPipe BlazePose; the optional 'pose' extra) and
    write their COCO-17 poses as a pose collection."""
    from belamy.api.poses import extract_poses

    coll = extract_poses(images, out, min_visible=min_visible, height=height)
    rep = coll.report or {}
    t = _table(f"extracted into {escape(str(coll.path))}")
    t.add_row("images", str(rep.get("seen", 0)))
    t.add_row("kept", f"[green]{rep.get('kept', 0)}[/]")
    skipped = rep.get("skipped", {})
    t.add_row("skipped", f"[yellow]{sum(skipped.values())}[/]" if skipped else "0")
    for reason, n in skipped.items():
        t.add_row(f"  {escape(reason)}", str(n))
    console.print(t)
    for f in rep.get("no_person", [])[:20]:
        console.print(f"[yellow]no person detected:[/] {escape(f)}")
    if len(rep.get("no_person", [])) > 20:
        console.print(f"... and {len(rep['no_person']) - 20} more (report.json lists them all)")
    console.print(f"preview: {escape(str(coll.path / 'preview.png'))}")


@poses_app.command("sample")
def sample_cmd(
    n: int = typer.Option(1000, "-n", help="How many poses."),
    seed: int = typer.Option(0, "--seed", help="Seed: pose i depends only on (seed, i)."),
    out: Path = typer.Option(..., "-o", "--out", help="Pose collection folder (written, or replaced)."),
    families: str = typer.Option("standing,walking,sitting,reaching,dancing", "--families",
                                 help="Comma-separated pose families."),
    height: float = typer.Option(0.8, "--height", help="Normalised size (canvas units)."),
    max_yaw: float = typer.Option(180.0, "--max-yaw", help="Degrees the camera may turn round the figure."),
    occlusion: float = typer.Option(0.1, "--occlusion", help="Chance that a limb joint is hidden by something."),
    model: Optional[Path] = typer.Option(None, "--model", help="Sample from a learned pose sampler "
                                         "(`belamy poses train`) instead of the procedural one."),
) -> None:
    """Draw procedural poses (varied bodies, joint limits, five pose families), or a learned
    sampler's (--model), into a pose collection."""
    if model is not None:
        from belamy.api.poses import sample_model_to

        coll = sample_model_to(model, out, n, seed)
    else:
        from belamy.api.poses import sample_poses_to
        from belamy.data.pose_sampler import PoseSamplerConfig

        cfg = PoseSamplerConfig(families=families, height=height, max_yaw=max_yaw, occlusion=occlusion)
        coll = sample_poses_to(out, n, seed, cfg)
    rates = (coll.report or {}).get("plausible", {})
    t = _table(f"sampled into {escape(str(coll.path))}")
    t.add_row("poses", f"[bold]{len(coll)}[/]")
    t.add_row("seed", str(seed))
    if rates:
        t.add_row("plausible", f"{100 * rates.get('ok', 0):.1f}% (of {rates.get('measured')} checked)")
    console.print(t)
    console.print(f"preview: {escape(str(coll.path / 'preview.png'))}")


@poses_app.command("train")
def train_cmd(
    poses: Path = typer.Argument(..., help="Pose collection folder to learn from."),
    out: Path = typer.Option(..., "-o", "--out", help="Model file (safetensors; written, or replaced)."),
    components: int = typer.Option(24, "--components", help="Mixture components."),
    covariance: str = typer.Option("full", "--covariance", help="full or diag."),
    iterations: int = typer.Option(100, "--iterations", help="Most EM iterations."),
    seed: int = typer.Option(0, "--seed", help="Seed of the k-means++ start."),
) -> None:
    """Learn a pose sampler (a Gaussian mixture on the normalised keypoints) from a pose collection."""
    from belamy.api.poses import train_pose_model
    from belamy.data.pose_model import PoseModelConfig

    cfg = PoseModelConfig(components=components, covariance=covariance,  # type: ignore[arg-type]
                          iterations=iterations, seed=seed)
    model = train_pose_model(poses, out, cfg)
    rates = model.meta["report"]["plausible"]
    t = _table(f"pose model {escape(str(out))}")
    t.add_row("trained on", f"{model.meta['poses']} poses")
    t.add_row("components", f"{model.components} ({model.meta['covariance']} covariance)")
    t.add_row("EM iterations", str(model.meta["iterations_run"]))
    t.add_row("log-likelihood per pose", f"{model.meta['loglik_per_pose']:.2f}")
    t.add_row("plausible samples", f"{100 * rates.get('ok', 0):.1f}% (of {rates.get('measured')})")
    console.print(t)


@poses_app.command("render")
def render_cmd(
    poses: Path = typer.Argument(..., help="Pose collection folder."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder for the stick figures (pose000000.png, ...)."),
    size: int = typer.Option(256, "--size", help="Image side in pixels."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Draw only the first N poses."),
    thickness: float = typer.Option(0.02, "--thickness", help="Limb width, fraction of the size."),
    joint: float = typer.Option(0.012, "--joint", help="Joint disc radius, fraction of the size."),
    background: str = typer.Option("#000000", "--background", help="Background colour (name or hex)."),
    hidden: bool = typer.Option(True, "--hidden/--no-hidden", help="Draw keypoints labelled as hidden."),
) -> None:
    """Draw a pose collection's poses as OpenPose-style stick figures."""
    from belamy.api.poses import render_poses
    from belamy.data.stick import StickConfig

    cfg = StickConfig(size=size, thickness=thickness, joint=joint, background=background, hidden=hidden)
    written = render_poses(poses, out, cfg, limit)
    console.print(f"drew {len(written)} stick figures into {escape(str(out))}")


@poses_app.command("show")
def show_cmd(poses: Path = typer.Argument(..., help="Pose collection folder.")) -> None:
    """Counts, source, normalisation and what the import skipped."""
    from belamy.data.pose_collection import PoseCollection

    coll = PoseCollection.open(poses)
    s = coll.summary()
    t = _table(f"poses {escape(str(poses))}")
    t.add_row("poses", str(s["count"]))
    src = s["source"] or {}
    t.add_row("source", escape(str(src.get("kind", "?"))))
    if src.get("files"):
        t.add_row("files", escape(", ".join(src["files"])))
    if "seed" in src:
        t.add_row("seed", str(src["seed"]))
    norm = s["normalisation"] or {}
    t.add_row("normalisation", escape(f"{norm.get('method', '?')}, height {norm.get('height')}"
                                      f"{', mirrored copies' if norm.get('mirror') else ''}"))
    t.add_row("labelled keypoints", f"{s['labelled_per_pose']} per pose ({s['visible_per_pose']} visible)")
    t.add_row("created", escape(str(s["created"])))
    rep = coll.report or {}
    if "seen" in rep:
        t.add_row("annotations seen", str(rep["seen"]))
    for reason, n in rep.get("skipped", {}).items():
        t.add_row(f"  skipped: {escape(reason)}", str(n))
    if "plausible" in rep:
        t.add_row("plausible", f"{100 * rep['plausible'].get('ok', 0):.1f}%")
    console.print(t)
