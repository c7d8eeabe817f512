"""`belamy eval`: render N images from fixed seeds and measure them against the run's collection.

    result = evaluate(Run.open("my-run"), n=500)          # -> dict, also RUN/eval/eval-<step>.json
    rows = evaluate_curve(Run.open("my-run"), n=256)      # every kept checkpoint -> eval/curve.json

The renders are seeds `seed .. seed+n-1` at the given truncation (the same images `belamy sample
--seeds` makes), the reals are the run's collection: SWD compares them at the run's resolution
(resized as training resizes them), the feature metrics and originality read them at the
collection's size in chunks and let the feature extractor resize. Every result names its feature
space: numbers in different spaces never compare.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from belamy.core import atomic
from belamy.core.device import pick_device
from belamy.core.errors import BelamyError
from belamy.core.resize import at_resolution
from belamy.core.version import code_version
from belamy.data.collection import Collection
from belamy.generate.sample import render_batch
from belamy.metrics import fid, kid, precision_recall, swd
from belamy.metrics.features import FeatureExtractor, get_features
from belamy.metrics.originality import Reference, originality_reference, run_collection, summarize
from belamy.metrics.report import originality_sheet, write_report
from belamy.models import ModelConfig, build_generator
from belamy.models.run import Run
from belamy.training import checkpoint as ckpt
from belamy.training.curves import plot_panels

METRICS = ("swd", "kid", "pr", "fid", "originality")
DEFAULT_METRICS = ("swd", "kid", "pr", "originality")
MIN_N = 10  # KID, FID and precision/recall need at least this many images per set
MAX_REALS = 10_000  # reals used for the set metrics (a seeded subset of larger collections)
EVAL_DIR = "eval"
FORMAT = "belamy.eval"


def parse_metrics(text: str | list[str] | tuple[str, ...]) -> list[str]:
    names = [m.strip().lower() for m in (text.split(",") if isinstance(text, str) else text) if m.strip()]
    bad = [m for m in names if m not in METRICS]
    if bad or not names:
        raise BelamyError(f"unknown metric '{bad[0] if bad else text}': choose from {','.join(METRICS)}")
    return list(dict.fromkeys(names))


@dataclass
class Rows:
    """Selected rows of a (memory-mapped) image array, read only when sliced: feature
    extractors take it in chunks, so 10,000 reals at 1024 px are never all in memory."""
    images: np.ndarray
    index: np.ndarray

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, item: slice) -> np.ndarray:
        return np.asarray(self.images[self.index[item]])


@dataclass
class Snapshot:
    """A generator to evaluate: the run's export or one of its checkpoints."""

    G: torch.nn.Module
    step: int
    kimg: float
    source: str  # "generator.safetensors" or "checkpoints/step-XXXXXXXX"


def load_snapshot(run: Run, checkpoint: str | Path | None = None, device: torch.device | str = "cpu") -> Snapshot:
    """The generator to evaluate. Building a model initialises weights from torch's global
    random state before the saved ones replace them; training checkpoints that state (and the
    end-of-training originality check runs in the training process), so it is forked here."""
    with torch.random.fork_rng(devices=[]):
        return _load_snapshot(run, checkpoint, device)


def _load_snapshot(run: Run, checkpoint: str | Path | None, device: torch.device | str) -> Snapshot:
    if checkpoint is None:
        meta = run.export_meta
        return Snapshot(run.generator(device), int(meta.get("step", 0)), float(meta.get("kimg", 0.0)), run.export_path.name)

    path = Path(checkpoint)
    if not path.is_absolute() and not path.is_dir():
        path = run.path / ckpt.CKPT_DIR / str(checkpoint)
    if not (path / ckpt.STATE).is_file():
        raise BelamyError(f"{checkpoint} is not a checkpoint of {run.path}: see {run.path / ckpt.CKPT_DIR}")
    tensors, state = ckpt.load(path)
    G = build_generator(ModelConfig.from_dict(state["config"]["model"]))
    ckpt.load_module(G, "G_ema", tensors)
    ts = state["train_state"]
    step = int(ts["step"])
    kimg = float(ts.get("images", 0)) / 1000
    return Snapshot(G.eval().requires_grad_(False).to(device), step, kimg, f"{ckpt.CKPT_DIR}/{path.name}")


@dataclass
class Evaluator:
    """What stays the same across the snapshots of one evaluation: reals, their features, the
    originality reference. Built once, so a curve over ten checkpoints embeds the collection once."""
    run: Run
    metrics: list[str]
    n: int
    seed: int
    truncation: float
    fx: FeatureExtractor
    coll: Collection  # reals: its images, memory-mapped at the collection's size
    resolution: int  # the run's
    device: torch.device
    _real_feats: torch.Tensor | None = None
    _reference: Reference | None = None

    @classmethod
    def create(cls, run: Run, n: int, metrics: list[str], seed: int, truncation: float,
               features: "str | FeatureExtractor", device: torch.device) -> "Evaluator":
        if n < 1:
            raise BelamyError(f"-n must be at least 1, got {n}")
        if n < MIN_N and set(metrics) & {"kid", "pr", "fid"}:
            raise BelamyError(f"-n {n} is too small for KID, FID and precision/recall: use -n {MIN_N} or more "
                              f"(500+ for numbers worth comparing)")
        coll = run_collection(run)
        if len(coll) < 2:
            raise BelamyError(f"the run's collection {coll.path} has {len(coll)} image(s): evaluation needs at least 2")
        fx = get_features(features) if set(metrics) - {"swd"} else get_features("rand")
        return cls(run, metrics, n, seed, truncation, fx, coll, int(run.model_config["resolution"]), device)

    @property
    def seeds(self) -> list[int]:
        return list(range(self.seed, self.seed + self.n))

    def real_features(self) -> torch.Tensor:
        """Features of (up to MAX_REALS of) the collection's images; the extractor resizes them
        itself (to 64 px for belamy-rand-v1), so they are read at the collection's size."""
        if self._real_feats is None:
            self._real_feats = self.fx(Rows(self.coll.images, self._pick(MAX_REALS)))
        return self._real_feats

    def reference(self) -> Reference:
        if self._reference is None:
            self._reference = originality_reference(self.run, self.fx)
        return self._reference

    def _pick(self, k: int) -> np.ndarray:
        """k collection indices (all if there are no more), a seeded choice, sorted."""
        if len(self.coll) <= k:
            return np.arange(len(self.coll))
        return np.sort(np.random.default_rng(self.seed).choice(len(self.coll), k, replace=False))

    def __call__(self, snap: Snapshot) -> tuple[dict[str, Any], np.ndarray]:
        """Evaluate one snapshot -> (result dict, the (n, R, R, 3) renders)."""

        t0 = time.perf_counter()
        fakes = render_batch(snap.G, self.seeds, self.truncation, self.device)
        seconds: dict[str, float] = {"render": time.perf_counter() - t0}
        out: dict[str, Any] = {}
        feats: torch.Tensor | None = None
        for name in self.metrics:
            t = time.perf_counter()
            if name != "swd" and name != "originality" and feats is None:
                feats = self.fx(fakes)
                seconds["features"] = time.perf_counter() - t
                t = time.perf_counter()
            out[name] = self._metric(name, fakes, feats)
            seconds[name] = time.perf_counter() - t
        return self._result(snap, out, seconds), fakes

    def _metric(self, name: str, fakes: np.ndarray, feats: torch.Tensor | None) -> Any:

        if name == "swd":
            m = min(len(fakes), len(self.coll))
            reals = at_resolution(self.coll.images[self._pick(m)], self.resolution)
            return swd.swd(reals, fakes[:m], seed=self.seed)
        if name == "kid":
            return kid.kid(self.real_features(), feats, seed=self.seed).to_dict()
        if name == "pr":
            return precision_recall.precision_recall(self.real_features(), feats).to_dict()
        if name == "fid":
            return fid.fid(self.real_features(), feats)
        if name == "originality":

            found = self.reference().check(fakes, self.fx)
            renders = [{"seed": s, **r.to_record()} for s, r in zip(self.seeds, found)]
            return {**summarize(found), "renders": renders}
        raise AssertionError(name)

    def _result(self, snap: Snapshot, metrics: dict[str, Any], seconds: dict[str, float]) -> dict[str, Any]:

        fx = self.fx
        return {
            "format": FORMAT, "version": 1, "run": self.run.run_id, "source": snap.source, "step": snap.step,
            "kimg": round(snap.kimg, 3), "n": self.n, "seeds": [self.seed, self.seed + self.n - 1],
            "truncation": self.truncation, "resolution": self.resolution,
            "collection": self.run.info.get("collection"), "reals": len(self.coll),
            "features": {"name": fx.name, "dim": fx.dim, "fingerprint": getattr(fx, "fingerprint", None)},
            "metrics": metrics, "seconds": {k: round(v, 3) for k, v in seconds.items()},
            "code_version": code_version(), "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }


def evaluate(run: Run, n: int = 500, metrics: list[str] | str = DEFAULT_METRICS, truncation: float = 1.0,
             seed: int = 0, checkpoint: str | Path | None = None, features: "str | FeatureExtractor" = "rand",
             device: str = "cpu", write: bool = True) -> dict[str, Any]:
    """Evaluate the run's exported generator (or `checkpoint`); write RUN/eval/eval-<step>.json,
    report.html and (with originality) originality.png. Returns the result dict."""
    dev = pick_device(device)
    ev = Evaluator.create(run, n, parse_metrics(metrics), seed, truncation, features, dev)
    snap = load_snapshot(run, checkpoint, dev)
    result, fakes = ev(snap)
    if write:
        write_result(run, result, fakes, ev.coll.images)
    return result


def write_result(run: Run, result: dict[str, Any], fakes: np.ndarray, reals: np.ndarray) -> Path:
    """eval-<step>.json, report.html and originality.png (`reals`: the collection's images, any size)."""

    folder = run.path / EVAL_DIR
    path = folder / f"eval-{result['step']:08d}.json"
    atomic.write_json(path, result)
    sheet = None
    if "originality" in result["metrics"]:
        sheet = originality_sheet(result["metrics"]["originality"]["renders"], fakes, reals, folder / "originality.png")
    write_report(result, folder / "report.html", sheet)
    return path


CURVE_KEYS = (("swd",), ("kid",), ("precision", "recall"), ("fid",), ("originality",))


def curve_row(result: dict[str, Any]) -> dict[str, Any]:
    """One flat row of curve.json from an evaluation result."""
    m = result["metrics"]
    row: dict[str, Any] = {"step": result["step"], "kimg": result["kimg"], "source": result["source"]}
    if "swd" in m:
        row["swd"] = m["swd"]["mean"]
    if "kid" in m:
        row["kid"] = m["kid"]["mean"]
    if "pr" in m:
        row["precision"], row["recall"] = m["pr"]["precision"], m["pr"]["recall"]
    if "fid" in m:
        row["fid"] = m["fid"]
    if "originality" in m:
        row["originality"], row["near_copies"] = m["originality"]["score_median"], m["originality"]["near_copies"]
    return row


def evaluate_curve(run: Run, n: int = 256, metrics: list[str] | str = DEFAULT_METRICS, truncation: float = 1.0,
                   seed: int = 0, features: "str | FeatureExtractor" = "rand", device: str = "cpu",
                   on_step: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Evaluate every kept checkpoint (oldest first) with the same seeds and reals; write
    RUN/eval/curve.json and curve.png (metrics against kimg). Returns the curve rows."""
    ckpts = sorted(p for p in (run.path / ckpt.CKPT_DIR).glob("step-*") if (p / ckpt.STATE).is_file())
    if not ckpts:
        raise BelamyError(f"{run.path} has no checkpoints to draw a curve from")
    dev = pick_device(device)
    ev = Evaluator.create(run, n, parse_metrics(metrics), seed, truncation, features, dev)
    rows = []
    for path in ckpts:
        result, _ = ev(load_snapshot(run, path, dev))
        result["metrics"].get("originality", {}).pop("renders", None)  # per-render detail: eval-<step>.json
        rows.append(curve_row(result))
        if on_step is not None:
            on_step(rows[-1])
    folder = run.path / EVAL_DIR
    atomic.write_json(folder / "curve.json", {"format": "belamy.eval-curve", "version": 1, "run": run.run_id, "n": n,
                                              "truncation": truncation, "features": ev.fx.name, "rows": rows})
    panels = tuple(keys for keys in CURVE_KEYS if any(k in rows[0] for k in keys))
    plot_panels(rows, panels, folder / "curve.png")
    return rows
