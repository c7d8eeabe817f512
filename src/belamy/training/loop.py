"""The training loop: phases over a `TrainState`, with checkpoints, previews, stats and a watchdog.

`Trainer.run()` is what `belamy train` and `belamy.train()` call. It is deterministic: the random
numbers of step k are derived from (seed, k), the data order from (seed, epoch), so N steps
straight and N/2 steps + resume + N/2 steps give identical weights on the CPU.
"""

from __future__ import annotations

import json
import math
import resource
import signal
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from belamy.core.errors import BelamyError
from belamy.core.png import save_grid
from belamy.core.progress import make_progress
from belamy.core.seeds import mix
from belamy.core.version import code_version
from belamy.models import export
from belamy.training import checkpoint as ckpt
from belamy.training.augment import AdaptiveP, augment
from belamy.training.config import TrainConfig
from belamy.training.dataset import Cursor, Dataset
from belamy.training.distributed import Env, all_reduce_sum, barrier, broadcast_flag
from belamy.training.ema import ema_beta, update_ema
from belamy.training.losses import get_losses, lazy_adam
from belamy.training.phases import (
    Phase,
    d_main,
    d_pair,
    d_r1,
    d_sr,
    g_main,
    g_pair,
    g_sr,
)
from belamy.training.state import TrainState
from belamy.training.step import StepInput, purpose_seed

Render = Callable[[torch.nn.Module, list[int]], np.ndarray]  # (G, seeds) -> (N, H, W, 3) uint8 previews


class Diverged(Exception):
    """Losses or weights became NaN/inf."""


def adam(params, lr: float, betas: tuple[float, float], device: torch.device) -> torch.optim.Adam:
    """Adam with its fused kernel where torch has one (CPU, CUDA): one pass over each parameter
    instead of ~10 foreach passes over all of them (decision 0022). Elsewhere the foreach form
    (torch's own default picks neither on a CPU)."""
    fast = {"fused": True} if device.type in ("cpu", "cuda") else {"foreach": True}
    # float betas: a config value read as an int (beta1 0) would make torch refuse the pair
    return torch.optim.Adam(params, lr=lr, betas=(float(betas[0]), float(betas[1])), eps=1e-8, **fast)


class Trainer:
    def __init__(self, cfg: TrainConfig, run_dir: Path, data: Dataset, env: Env, G: torch.nn.Module,
                 D: torch.nn.Module, G_ema: torch.nn.Module, state: TrainState, render: Render | None = None,
                 warn: Callable[[str], None] | None = None) -> None:
        self.cfg, self.run_dir, self.data, self.env = cfg, run_dir, data, env
        self.G, self.D, self.G_ema, self.state = G, D, G_ema, state
        self.render, self.warn = render, warn
        loss_name = "logistic" if cfg.loss == "bce" else cfg.loss
        self.d_loss, self.g_loss = get_losses(loss_name)
        betas = (cfg.beta1, cfg.beta2)
        d_lr, d_betas = lazy_adam(cfg.lr_d, betas, cfg.r1_interval if cfg.r1_gamma > 0 else 0)
        self.opt_G = adam(G.parameters(), cfg.lr_g, betas, env.device)
        self.opt_D = adam(D.parameters(), d_lr, d_betas, env.device)
        self.base_lrs = {"G": cfg.lr_g, "D": d_lr}
        scaler = (lambda: torch.amp.GradScaler("cuda")) if env.needs_grad_scaler else (lambda: None)
        # the step as data: an unconditional GAN, pix2pix on (condition | target) pairs, or
        # super-resolution (D joins after the L1 stage)
        d_loss, g_loss = (d_pair, g_pair) if cfg.paired else (d_sr, g_sr) if cfg.sr else (d_main, g_main)
        d_start = int(cfg.gan_start_kimg * 1000) if cfg.sr else 0
        d_every = 0 if cfg.sr and cfg.gan_weight == 0 else 1  # an SR run with no GAN loss is its L1 model alone
        self.phases = [Phase("D", D, self.opt_D, d_loss, d_every, scaler(), d_start)]
        if cfg.r1_gamma > 0 and cfg.r1_interval > 0:
            self.phases.append(Phase("R1", D, self.opt_D, d_r1, cfg.r1_interval, scaler()))
        self.phases.append(Phase("G", G, self.opt_G, g_loss, 1, scaler()))
        self.ada = AdaptiveP(target=cfg.ada_target, speed_images=int(cfg.ada_kimg * 1000), p=cfg.initial_aug_p) \
            if cfg.augment == "ada" else None
        if self.ada is not None and state.aug:
            self.ada.load_state_dict(state.aug)
        self.stop_requested = False
        self._acc: dict[str, torch.Tensor] = {}
        self._acc_n = 0
        self._t_data = 0.0
        self._t_ema = 0.0
        self._log_t0 = time.perf_counter()
        self._log_images = state.images
        self._last_save_t = time.perf_counter()

    def say(self, message: str) -> None:
        """A warning for the user, through the caller's `warn` (training itself never prints)."""
        if self.warn is not None:
            self.warn(message)

    # -- pieces used by the phases ------------------------------------------------------------------
    @property
    def aug_p(self) -> float:
        return self.ada.p if self.ada is not None else self.cfg.initial_aug_p

    def augment(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        p = self.aug_p
        return augment(x, p, self.cfg.aug_policy, generator=generator) if p > 0 else x

    def observe_real_logits(self, logits: torch.Tensor) -> None:
        if self.ada is not None:
            signs = all_reduce_sum(logits.detach().sign().sum().reshape(1).float(), self.env)
            self.ada.accumulate(signs[0], self.cfg.batch_at(self.state.images))  # the global batch's evidence, same on every rank

    # -- one iteration ------------------------------------------------------------------------------
    def step_input(self) -> tuple[StepInput, Cursor]:
        t0 = time.perf_counter()
        st, cfg, env = self.state, self.cfg, self.env
        batch = cfg.batch_at(st.images)
        per_rank = batch // env.world
        rows = slice(env.rank * per_rank, (env.rank + 1) * per_rank)
        indices, cursor = self.data.global_indices(Cursor(st.epoch, st.cursor), batch)
        real = self.data.batch(indices, st.step, rows)
        seed = mix(cfg.seed, st.seed_offset, st.step)
        z_dim = self.G.z_dim
        zg = torch.Generator(device=env.device)
        z_d = torch.randn(batch, z_dim, generator=zg.manual_seed(purpose_seed(seed, "z_d")), device=env.device)[rows]
        z_g = torch.randn(batch, z_dim, generator=zg.manual_seed(purpose_seed(seed, "z_g")), device=env.device)[rows]
        if cfg.channels_last and env.device.type == "cpu":
            real = real.contiguous(memory_format=torch.channels_last)
        self._t_data += time.perf_counter() - t0
        return StepInput(real, z_d, z_g, seed, env.device, batch, images=st.images), cursor

    def train_step(self) -> None:
        if self.cfg.lr_rampdown > 0:
            self.apply_lr_scale()
        inp, cursor = self.step_input()
        for phase in self.phases:
            if phase.due(self.state.step, inp.images):
                for k, v in phase.run(self, inp).items():
                    self._acc[k] = self._acc.get(k, 0.0) + v.float()
        t0 = time.perf_counter()
        if self.env.distributed:
            _average_buffers(self.G, self.env)
            _average_buffers(self.D, self.env)
        st = self.state
        st.step += 1
        st.images += inp.batch
        st.epoch, st.cursor = cursor.epoch, cursor.index
        update_ema(self.G_ema, self.G, ema_beta(inp.batch, st.images, self.cfg.ema_kimg, self.cfg.ema_rampup))
        self._t_ema += time.perf_counter() - t0
        self._acc_n += 1

    # -- the loop ----------------------------------------------------------------------------------
    def run(self, progress: bool | None = None) -> str:
        """Train until the budget is spent or a stop is requested; return why it stopped."""
        from rich.progress import TextColumn

        cfg, st = self.cfg, self.state
        total = self._budget_images()
        bar = make_progress(TextColumn("{task.fields[info]}"), enabled=False if not self.env.is_main else progress)
        reason = "budget"
        session_t0 = time.perf_counter() - st.seconds
        with bar, _StopOnSignal(self):
            task = bar.add_task("training", total=total, completed=min(st.images, total or 0), info="")
            while True:
                if self._budget_done(time.perf_counter() - session_t0):
                    break
                if broadcast_flag(self.stop_requested, self.env):
                    reason = "interrupted"
                    break
                try:
                    self.train_step()
                    st.seconds = time.perf_counter() - session_t0
                    if st.step % cfg.log_steps == 0:
                        line = self.log()
                        bar.update(task, info=f"{line['img_s']:.0f} img/s  D {line.get('loss_D', 0):.3f}  G {line.get('loss_G', 0):.3f}  p {line['aug_p']:.2f}")
                    if self._due(st.last_checkpoint_images, cfg.checkpoint_kimg) or self._checkpoint_time_due():
                        self.check_finite()
                        self.save()
                    if self._due(st.last_preview_images, cfg.preview_kimg):
                        self.preview()
                except Diverged as exc:
                    self.rollback(str(exc))
                    session_t0 = time.perf_counter() - st.seconds
                bar.update(task, completed=min(st.images, total) if total else st.images)
        st.seconds = time.perf_counter() - session_t0
        try:
            self.check_finite()
        except Diverged as exc:
            self.rollback(str(exc))
            return "diverged"
        if self._acc_n:
            self.log()
        self.save()
        self.preview()
        return reason

    def _budget_images(self) -> int | None:
        cands = []
        if self.cfg.kimg is not None:
            cands.append(int(self.cfg.kimg * 1000))
        if self.cfg.steps is not None:
            cands.append(self.cfg.images_after(self.cfg.steps))
        return min(cands) if cands else None

    def _budget_done(self, seconds: float) -> bool:
        cfg, st = self.cfg, self.state
        if cfg.steps is not None and st.step >= cfg.steps:
            return True
        if cfg.kimg is not None and st.images >= cfg.kimg * 1000:
            return True
        if cfg.minutes is not None:
            return broadcast_flag(seconds >= cfg.minutes * 60, self.env)
        return False

    def _due(self, last: int, every_kimg: float) -> bool:
        return every_kimg > 0 and self.state.images - last >= every_kimg * 1000

    def _checkpoint_time_due(self) -> bool:
        if self.cfg.checkpoint_minutes <= 0:
            return False
        due = time.perf_counter() - self._last_save_t >= self.cfg.checkpoint_minutes * 60
        return broadcast_flag(due, self.env)

    # -- watchdog ----------------------------------------------------------------------------------
    def check_finite(self) -> None:
        bad = [k for k, v in self._acc.items() if not bool(torch.isfinite(v).all())]
        if not bad:
            for name, m in (("G", self.G), ("D", self.D)):
                if any(not bool(torch.isfinite(p).all()) for p in m.parameters()):
                    bad.append(f"{name} weights")
        if broadcast_flag(bool(bad), self.env):
            raise Diverged(f"non-finite {', '.join(bad) or 'values on another rank'} at step {self.state.step}")

    def rollback(self, why: str) -> None:
        """Go back to the last good checkpoint with halved learning rates and fresh random numbers."""
        st = self.state
        if st.rollbacks >= self.cfg.max_rollbacks:
            raise BelamyError(
                f"training diverged again ({why}) after {st.rollbacks} rollbacks: lower --lr-g/--lr-d or raise --r1-gamma"
            )
        path = ckpt.latest(self.run_dir)
        if path is None:
            raise BelamyError(f"training diverged ({why}) before any checkpoint: lower the learning rates")
        tensors, saved = ckpt.load(path)
        self.load_tensors(tensors, saved)
        rollbacks = st.rollbacks + 1
        self.state = TrainState.from_dict(saved["train_state"])
        self.state.rollbacks = rollbacks
        self.state.lr_scale = saved["train_state"]["lr_scale"] * 0.5
        self.state.seed_offset = saved["train_state"]["seed_offset"] + 1
        self.apply_lr_scale()
        self._acc, self._acc_n = {}, 0
        if self.env.is_main:
            msg = (f"watchdog: {why}; rolled back to {path.name} (step {self.state.step}), "
                   f"learning rates x{self.state.lr_scale:g}, rollback {rollbacks}/{self.cfg.max_rollbacks}")
            self.say(msg)
            self._append_stats({"event": "rollback", "message": msg, "step": self.state.step})

    def apply_lr_scale(self) -> None:
        scale = self.state.lr_scale * self.ramp_factor()
        for opt, key in ((self.opt_G, "G"), (self.opt_D, "D")):
            for group in opt.param_groups:
                group["lr"] = self.base_lrs[key] * scale

    def ramp_factor(self) -> float:
        """The ramp-down factor of the learning rates now (1 without `lr_rampdown`)."""
        return self.cfg.lr_factor(self.budget_progress()) if self.cfg.lr_rampdown > 0 else 1.0

    def budget_progress(self) -> float:
        """The fraction of the budget spent (the larger of images and wall time), equal on every rank."""
        cfg, st = self.cfg, self.state
        parts = []
        total = self._budget_images()
        if total:
            parts.append(st.images / total)
        if cfg.minutes:
            seconds = st.seconds
            if self.env.distributed:  # ranks' clocks differ a little; their learning rates must not
                seconds = all_reduce_sum(torch.tensor([seconds], device=self.env.device), self.env)[0].item() / self.env.world
            parts.append(seconds / (cfg.minutes * 60))
        return min(1.0, max(parts, default=0.0))

    # -- outputs -----------------------------------------------------------------------------------
    def log(self) -> dict[str, Any]:
        n = max(self._acc_n, 1)
        vals = {k: float(v) / n for k, v in self._acc.items()}
        now = time.perf_counter()
        img_s = (self.state.images - self._log_images) / max(now - self._log_t0, 1e-9)
        line = {"step": self.state.step, "kimg": round(self.state.kimg, 3), "seconds": round(self.state.seconds, 2),
                **{k: round(v, 5) for k, v in vals.items()}, "aug_p": round(self.aug_p, 4), "img_s": round(img_s, 2),
                "time": {"data": round(self._t_data, 3), **{p.name: round(p.seconds, 3) for p in self.phases},
                         "ema": round(self._t_ema, 3), "total": round(now - self._log_t0, 3)},
                "mem_mb": _memory_mb(self.env.device), "lr_scale": self.state.lr_scale,
                "lr_factor": self.ramp_factor()}
        if any(not math.isfinite(v) for v in vals.values()):
            raise Diverged(f"non-finite losses ({', '.join(k for k, v in vals.items() if not math.isfinite(v))}) "
                           f"before step {self.state.step}")
        self._append_stats(line)
        self._acc, self._acc_n = {}, 0
        self._t_data = self._t_ema = 0.0
        for p in self.phases:
            p.seconds = 0.0
        self._log_t0, self._log_images = now, self.state.images
        return line

    def _append_stats(self, line: dict[str, Any]) -> None:
        if self.env.is_main:
            with open(self.run_dir / "stats.jsonl", "a", encoding="utf-8") as fh:
                fh.write(json.dumps(line) + "\n")

    def tensors(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors: dict[str, torch.Tensor] = {}
        for name, m in (("G", self.G), ("D", self.D), ("G_ema", self.G_ema)):
            tensors.update(ckpt.module_tensors(name, m))
        opt_meta = {}
        for name, opt in (("opt_G", self.opt_G), ("opt_D", self.opt_D)):
            t, meta = ckpt.optimizer_tensors(name, opt)
            tensors.update(t)
            opt_meta[name] = meta
        tensors["rng/torch"] = torch.get_rng_state()
        scalers = {p.name: p.scaler.state_dict() for p in self.phases if p.scaler is not None}
        return tensors, {"optimizers": opt_meta, "scalers": scalers}

    def load_tensors(self, tensors: dict[str, torch.Tensor], saved: dict[str, Any]) -> None:
        dev = self.env.device
        for name, m in (("G", self.G), ("D", self.D), ("G_ema", self.G_ema)):
            ckpt.load_module(m, name, tensors)
        for name, opt in (("opt_G", self.opt_G), ("opt_D", self.opt_D)):
            ckpt.load_optimizer(opt, name, {k: v.to(dev) if not k.endswith("/step") else v
                                            for k, v in tensors.items()}, saved["optimizers"][name])
        if "rng/torch" in tensors:
            torch.set_rng_state(tensors["rng/torch"])
        for p in self.phases:
            if p.scaler is not None and p.name in saved.get("scalers", {}):
                p.scaler.load_state_dict(saved["scalers"][p.name])
        if self.ada is not None and saved["train_state"].get("aug"):
            self.ada.load_state_dict(saved["train_state"]["aug"])

    def save(self) -> None:
        """Checkpoint (rank 0 writes; everyone waits) and export the EMA generator for sampling."""
        st = self.state
        st.aug = self.ada.state_dict() if self.ada is not None else {}
        st.last_checkpoint_images = st.images
        self._last_save_t = time.perf_counter()
        if self.env.is_main:
            tensors, meta = self.tensors()
            state = {"train_state": st.to_dict(), "config": self.cfg.to_dict(), "code_version": code_version(), **meta}
            ckpt.save(self.run_dir, st.step, tensors, state, self.cfg.keep)
            export.export_generator(self.run_dir / export.EXPORT, self.G_ema, self.cfg.model.to_dict(),
                                  {"step": st.step, "kimg": st.kimg, "run": self.run_dir.name})
        barrier(self.env)

    @torch.no_grad()
    def preview(self) -> None:
        self.state.last_preview_images = self.state.images
        if not self.env.is_main or self.render is None:
            return
        imgs = self.render(self.G_ema, list(range(self.cfg.preview_n)))
        save_grid(imgs, self.run_dir / "samples" / f"fakes-kimg{self.state.kimg:010.3f}.png")


def _average_buffers(module: torch.nn.Module, env: Env) -> None:
    import torch.distributed as dist

    for b in module.buffers():
        if b.is_floating_point():
            dist.all_reduce(b)
            b /= env.world


def _memory_mb(device: torch.device) -> dict[str, float]:
    out = {"rss_peak": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}
    if device.type == "cuda":
        out["cuda_peak"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return out


class _StopOnSignal:
    """First Ctrl-C (or SIGTERM) asks for a clean stop with a checkpoint; a second one aborts."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self.old: dict[int, Any] = {}

    def __enter__(self) -> "_StopOnSignal":
        import threading

        if threading.current_thread() is not threading.main_thread():
            return self
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.trainer.stop_requested:
            raise KeyboardInterrupt
        self.trainer.stop_requested = True
        if self.trainer.env.is_main:
            self.trainer.say("stopping: saving a checkpoint (press Ctrl-C again to abort without saving)")

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.old.items():
            signal.signal(sig, handler)
