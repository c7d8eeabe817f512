"""MODEL_CARD.md: what a run was trained on, how, for how long, and whom to credit."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from belamy.core import atomic
from belamy.core.version import code_version
from belamy.data import names
from belamy.models.lineage import BELAMY_CODE, UPSTREAM, model_citations


def write_model_card(run_dir: Path, cfg, coll, state, env, stopped: str | None = None,
                     originality: dict | None = None) -> Path:
    m = cfg.model
    lic = ", ".join(f"{k} ({v})" for k, v in coll.license_counts().most_common())
    authors = sorted({r["author"] for r in coll.manifest if r.get("author")})
    credits = model_citations(m.name, augment=cfg.augment, r1=cfg.r1_gamma > 0 and cfg.r1_interval > 0,
                              ema=cfg.ema_kimg > 0)
    status = f"stopped ({stopped})" if stopped else "training"
    lines = [
        f"# Model card: {run_dir.name}", "",
        f"Status: {status} after {state.step} steps, {state.kimg:.1f} kimg, {state.seconds / 60:.1f} min "
        f"on {env.world} x {env.device.type} in {env.precision}.", "",
        "## Training data", "",
        f"- Collection: `{names.readable(str(coll.path))}` ({len(coll)} images at {coll.size} px)",
        f"- Licences: {lic or 'none recorded'}",
        f"- Authors credited: {len(authors)}" + (f" ({', '.join(authors[:10])}{', ...' if len(authors) > 10 else ''})" if authors else ""),
        f"- Images without full credits: {coll.missing_credits()}",
        *_opted_out_lines(coll),
        "- Full per-image credits: `belamy collection credits " + names.readable(str(coll.path)) + "`", "",
        "## Model", "",
        f"- Architecture: {m.name} at {m.resolution} px (preset {cfg.preset})",
        (f"- Super-resolution x{m.scale} learnt on {m.resolution} px crops of the collection, degraded "
         f"({cfg.degrade}); L1 + {cfg.ssim_weight} x (1 - SSIM) alone for {cfg.gan_start_kimg:g} kimg, then the "
         f"U-Net D and {cfg.gan_weight} x the GAN loss" if cfg.sr else f"- Latent: z {m.z_dim}, w {m.w_dim}"),
        f"- Loss: {cfg.loss}; R1 gamma {cfg.r1_gamma} every {cfg.r1_interval}; augmentation {cfg.augment} ({cfg.aug_policy}); EMA {cfg.ema_kimg} kimg",
        f"- Batch {cfg.batch}{_start_batch(cfg)}; Adam lr G {cfg.lr_g}, D {cfg.lr_d}, betas ({cfg.beta1}, {cfg.beta2}); seed {cfg.seed}"
        + ("; D and G phases share each step's fakes" if cfg.shared_fakes else ""),
        f"- Budget: kimg {cfg.kimg}, steps {cfg.steps}, minutes {cfg.minutes}", "",
        "## Algorithms credited", "",
        *[f"- {c}" for c in credits], "",
        "## Code credited", "",
        f"- {BELAMY_CODE['name']} {code_version()} ({BELAMY_CODE['license']}), {BELAMY_CODE['authors']}: this run's code",
        *[f"- [{u['name']}]({u['url']}) ({u['license']}), {u['authors']}: {u['role']} (not copied)"
          for u in UPSTREAM.get(m.name, [])], "",
        *_originality_lines(originality),
        "## Intended use", "",
        "Art-making from the collection above. Outputs may resemble training images; check originality "
        "before publishing and credit the collection's authors as their licences require.", "",
    ]
    path = run_dir / "MODEL_CARD.md"
    atomic.write_text(path, "\n".join(lines))
    return path


def _opted_out_lines(coll) -> list[str]:
    """One line when the collection holds images whose creators opted out of training."""
    rows = [r for r in coll.manifest if r.get("opt_out")]
    if not rows:
        return []
    by = Counter(r["opt_out"].get("signal", "?") for r in rows)
    return [f"- **Opted-out images included: {len(rows)}** of {len(coll)}, against their creators' signals "
            f"({', '.join(f'{s} {n}' for s, n in sorted(by.items()))}), by `--include-opted-out` when collected; "
            "each is marked `opt_out` in the collection's manifest"]


def _originality_lines(o: dict | None) -> list[str]:
    if not o:
        return []
    return ["## Originality", "",
            f"{o['count']} renders of step {o['step']} (seeds {o['seeds'][0]}-{o['seeds'][1]}, truncation "
            f"{o['truncation']}) compared with the collection: median score {o['score_median']:.2f}, lowest "
            f"{o['score_min']:.2f}; **{o['near_copies']} near copies** (score < {o['threshold']}; ~1 means as far from "
            "the collection as its images are from each other, 0 a copy). Closest pairs: `eval/originality.png`, "
            "details: `eval/report.html`; `belamy eval` measures more.", ""]


def _start_batch(cfg) -> str:
    """The start batch, when the run has one, for the batch line."""
    return f" ({cfg.batch_start} for the first {cfg.batch_start_kimg:g} kimg)" if cfg.batch_start else ""
