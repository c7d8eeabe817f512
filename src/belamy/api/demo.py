"""The whole journey in one call: demo collection -> training -> a sampled series with a contact
sheet -> the first render finished into a signed artwork -> minted on a ledger.

This is what the README's first command runs, so a new user sees every stage work on their own
machine in a few minutes, with no data and no downloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from belamy.api.config import DEFAULT_PRESET, resolve_train_config
from belamy.api import ledger
from belamy.api.finish import FinishOptions, finish
from belamy.api.sample import sample
from belamy.api.train import train
from belamy.core.errors import BelamyError
from belamy.data.collect import collect
from belamy.finish.printing import PrintConfig
from belamy.provenance.keys import default_keys_dir, init_keys
from belamy.training import checkpoint as ckpt


@dataclass
class DemoResult:
    collection: Path
    run: Path
    renders: Path
    contact_sheet: Path
    artwork: Path
    keys: Path
    ledger: Path  # the published ledger (`belamy verify ARTWORK --ledger` reads it)


def run_demo(out: str | Path = "belamy-demo", minutes: float = 3.0, count: int | None = None,
             series: int = 32, truncation: float = 0.7, device: str = "auto",
             say: Callable[[str], None] | None = None, progress: bool | None = None,
             preset: str = DEFAULT_PRESET) -> DemoResult:
    """Collect the demo portraits at `preset`'s resolution, train that preset for `minutes`,
    render a series. `say` receives a line per step (the CLI prints them)."""
    say = say or (lambda line: None)
    out = Path(out)
    cfg = resolve_train_config(preset=preset, minutes=minutes, device=device, preview_kimg=1.0)
    size = cfg.model.resolution
    run_dir = out / "run"
    latest = ckpt.latest(run_dir)
    if latest is not None:  # a second `belamy demo` trains the same run `minutes` longer
        _, saved = ckpt.load(latest)
        if saved["config"]["preset"] != preset:
            raise BelamyError(f"{out} holds a demo of the {saved['config']['preset']} preset: give --preset "
                              f"{saved['config']['preset']} to train it longer, or -o NEW_FOLDER for {preset}")
    say(f"1/5 collect: painting the demo portraits at {size} px")
    coll = collect(["demo://portraits"], out / "collection", size=size, demo_count=count)
    say(f"    {len(coll)} portraits in {coll.path} (contact sheet: {coll.path / 'preview.png'})")
    say(f"2/5 train: {minutes:g} minutes of {'the default model ' if preset == DEFAULT_PRESET else ''}{preset}")
    if latest is not None:
        done = saved["train_state"]["seconds"] / 60.0
        run = train(None, run_dir, resume=True, progress=progress, warn=say, minutes=done + minutes, device=device)
    else:
        run = train(coll.path, run_dir, cfg, progress=progress, warn=say)
    say(f"3/5 sample: a series of {series} portraits (truncation {truncation})")
    renders = out / "renders"
    paths = sample(run, range(series), renders, truncation=truncation, progress=progress)
    keys = _demo_keys(out)
    say(f"4/5 finish: {paths[0].name} signed with the GAN objective, printed at {DEMO_PRINT}, with its provenance "
        f"record, XMP and a C2PA manifest signed by the identity in {keys}")
    art = finish(paths[0], out / "artworks", FinishOptions(printing=PrintConfig(size=DEMO_PRINT), keys=keys,
                                                           title=f"belamy demo, seed {paths[0].stem[4:]}"),
                 device=device, force=True)
    book = ledger.init_once(out / "ledger", keys)
    index, _ = ledger.mint_once(book, art.artwork, keys)
    public = ledger.export(book, out / "ledger-public")
    say(f"5/5 record: minted on the ledger in {book} (entry {index}), published in {public}")
    return DemoResult(coll.path, run.path, renders, renders / "grid.png", art.artwork, keys, public)


DEMO_PRINT = "1024px"  # 16x the 64 px render: the most finish allows, and room for a signature that reads


def _demo_keys(out: Path) -> Path:
    """The user's own signing identity if they made one, else a demo identity kept in the demo folder."""
    mine = default_keys_dir()
    if (mine / "signer.key").is_file():
        return mine
    demo = out / "keys"
    if not (demo / "signer.key").is_file():
        init_keys(demo, "belamy demo")
    return demo
