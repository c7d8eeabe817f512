"""The training step as data: a list of phases, each with its module, optimizer, loss and interval.

A phase computes a loss on this rank's slice of the global batch, back-propagates it into the one
module it trains (the other network is frozen), averages gradients over ranks and steps its
optimizer. Adding a regulariser (path length, say) is adding a phase, not editing a loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from belamy.core.similarity import ssim
from belamy.data.degrade import DegradeConfig, degrade
from belamy.training.distributed import all_reduce_grads
from belamy.training.losses import r1_loss
from belamy.training.step import StepContext, StepInput, purpose_seed

LossFn = Callable[[StepContext, StepInput], tuple[torch.Tensor, dict[str, torch.Tensor]]]


@dataclass
class Phase:
    name: str
    module: torch.nn.Module
    opt: torch.optim.Optimizer
    loss: LossFn
    interval: int = 1
    scaler: torch.amp.GradScaler | None = None
    start_images: int = 0  # the phase joins once this many images have been shown
    seconds: float = field(default=0.0, repr=False)

    def due(self, step: int, images: int = 0) -> bool:
        return self.interval > 0 and step % self.interval == 0 and images >= self.start_images

    def run(self, trainer: StepContext, inp: StepInput) -> dict[str, torch.Tensor]:
        t0 = time.perf_counter()
        others = [m for m in (trainer.G, trainer.D) if m is not self.module]
        self.module.requires_grad_(True)
        for m in others:
            m.requires_grad_(False)
        self.opt.zero_grad(set_to_none=True)
        loss, stats = self.loss(trainer, inp)
        params = [p for p in self.module.parameters() if p.requires_grad]
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.opt)
        else:
            loss.backward()
        all_reduce_grads(params, trainer.env)
        _sanitize_grads(params)
        if self.scaler is not None:
            self.scaler.step(self.opt)
            self.scaler.update()
        else:
            self.opt.step()
        if trainer.env.device.type == "cuda":
            torch.cuda.synchronize(trainer.env.device)
        self.seconds += time.perf_counter() - t0
        return {f"loss_{self.name}": loss.detach(), **{k: v.detach() for k, v in stats.items()}}


def _sanitize_grads(params: list[torch.nn.Parameter]) -> None:
    """A NaN/inf gradient must not poison the weights (the watchdog sees the loss). One fused norm
    finds out whether any is non-finite, so the common case costs one call, not one per tensor."""
    grads = [p.grad for p in params if p.grad is not None]
    if grads and not bool(torch.stack(torch._foreach_norm(grads)).isfinite().all()):
        for g in grads:
            torch.nan_to_num_(g, nan=0.0, posinf=1e5, neginf=-1e5)


# -- losses of the standard phases --------------------------------------------------------------
def d_main(t: StepContext, inp: StepInput) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """D learns real from fake on augmented images (fakes from the current G, no grad into G).

    With `shared_fakes` they are the G phase's fakes (`g_fake`), detached.
    """
    if t.cfg.shared_fakes:
        fake = g_fake(t, inp).detach()
    else:
        with torch.no_grad(), t.env.autocast():
            fake = t.G(inp.z_d, noise_mode="random", generator=inp.gen("noise_d"))
    with t.env.autocast():
        real_logits = t.D(t.augment(inp.real, inp.gen("aug_d_real")))
        fake_logits = t.D(t.augment(fake.float(), inp.gen("aug_d_fake")))
    real_logits, fake_logits = real_logits.float(), fake_logits.float()
    t.observe_real_logits(real_logits)
    loss = t.d_loss(real_logits, fake_logits)
    return loss, {"D_real": real_logits.mean(), "D_fake": fake_logits.mean()}


def d_r1(t: StepContext, inp: StepInput) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Lazy R1 on (augmented) reals, in float32 (its second derivatives are fragile in half precision)."""
    real = inp.real.detach().requires_grad_(True)
    logits = t.D(t.augment(real, inp.gen("aug_r1"))).float()
    penalty = r1_loss(real, logits, t.cfg.r1_gamma, every=t.cfg.r1_interval)
    return penalty, {"r1": penalty / max(t.cfg.r1_interval, 1)}


def g_fake(t: StepContext, inp: StepInput) -> torch.Tensor:
    """The step's fakes for the G phase, with G's graph, made on first use and kept in `inp`.

    The G phase always asks for them; with `TrainConfig.shared_fakes` the D phase asks first and
    trains on them detached. Why: G is ~60% of a CPU step's FLOPs, and StyleGAN2 runs it forward
    twice per step (fresh fakes for D, fresh ones for G). The PyTorch DCGAN example trains D on a
    batch of fakes and then G on the same batch, which saves that second forward pass; G's
    parameters do not change in between, so the kept graph gives G's exact gradient at the
    updated D.
    """
    if inp.fake is None:
        G = t.G
        frozen = not next(G.parameters()).requires_grad  # the D phase froze G
        with torch.enable_grad(), t.env.autocast():
            G.requires_grad_(True)
            inp.fake = G(inp.z_g, noise_mode="random", generator=inp.gen("noise_g"), update_w_avg=True)
            if frozen:
                G.requires_grad_(False)
    return inp.fake


def g_main(t: StepContext, inp: StepInput) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """G learns to fool D on augmented fakes (augmentation is differentiable)."""
    fake = g_fake(t, inp)
    with t.env.autocast():
        logits = t.D(t.augment(fake.float(), inp.gen("aug_g"))).float()
    return t.g_loss(logits), {}



# -- pix2pix: the reals are (condition | target) pairs, 6 channels ------------------------------
def split_pair(t: StepContext, inp: StepInput) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, cond + img, R, R) pairs -> condition (N, cond, R, R), target (N, img, R, R)."""
    c = t.cfg.model.cond_channels
    return inp.real[:, :c], inp.real[:, c:]


def pair_fake(t: StepContext, inp: StepInput) -> torch.Tensor:
    """G's translation of the step's conditions, made once with G's graph (shared by D and G).

    G's dropout draws from the global generator, seeded here from the step's seed, so a step's
    masks do not depend on what ran before it (resume is exact)."""
    if inp.fake is None:
        cond, _ = split_pair(t, inp)
        frozen = not next(t.G.parameters()).requires_grad
        devices = [inp.device] if inp.device.type == "cuda" else []
        with torch.enable_grad(), t.env.autocast(), torch.random.fork_rng(devices=devices):
            torch.manual_seed(purpose_seed(inp.seed, "dropout"))
            t.G.requires_grad_(True)
            inp.fake = t.G(cond)
            if frozen:
                t.G.requires_grad_(False)
    return inp.fake


def d_pair(t: StepContext, inp: StepInput) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """D learns real pairs (condition, target) from fake ones (condition, G(condition)), patch by patch."""
    cond, real = split_pair(t, inp)
    fake = pair_fake(t, inp).detach()
    with t.env.autocast():
        real_logits = t.D(torch.cat([cond, real], 1)).float()
        fake_logits = t.D(torch.cat([cond, fake.to(cond.dtype)], 1)).float()
    loss = 0.5 * t.d_loss(real_logits, fake_logits)  # the paper halves D's objective
    return loss, {"D_real": real_logits.mean(), "D_fake": fake_logits.mean()}


def g_pair(t: StepContext, inp: StepInput) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """G fools D on its pairs and stays near the target: GAN loss + l1_weight x L1."""
    cond, real = split_pair(t, inp)
    fake = pair_fake(t, inp)
    with t.env.autocast():
        logits = t.D(torch.cat([cond, fake.to(cond.dtype)], 1)).float()
    l1 = (fake.float() - real).abs().mean()
    gan = t.g_loss(logits)
    return gan + t.cfg.l1_weight * l1, {"G_gan": gan, "L1": l1}


# -- super-resolution: the reals are high-res crops, G's input their degraded copies -------------
def sr_low(t: StepContext, inp: StepInput) -> torch.Tensor:
    """The step's low-res inputs: `real` degraded with random numbers of the step's own seed (a
    CPU generator, so the pairs are the same on any device and after a resume)."""
    if inp.low is None:
        gen = torch.Generator().manual_seed(purpose_seed(inp.seed, "degrade"))
        inp.low = degrade(inp.real, t.cfg.model.scale, gen, DegradeConfig.named(t.cfg.degrade))
    return inp.low


def sr_fake(t: StepContext, inp: StepInput) -> torch.Tensor:
    """G's upscale of the step's low-res inputs, made once with G's graph (shared by D and G)."""
    if inp.fake is None:
        frozen = not next(t.G.parameters()).requires_grad
        with torch.enable_grad(), t.env.autocast():
            t.G.requires_grad_(True)
            inp.fake = t.G(sr_low(t, inp))
            if frozen:
                t.G.requires_grad_(False)
    return inp.fake


def gan_started(t: StepContext, inp: StepInput) -> bool:
    return inp.images >= t.cfg.gan_start_kimg * 1000


def d_sr(t: StepContext, inp: StepInput) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """D learns high-res crops from G's upscales, pixel by pixel (U-Net D)."""
    fake = sr_fake(t, inp).detach()
    with t.env.autocast():
        real_logits = t.D(inp.real).float()
        fake_logits = t.D(fake.to(inp.real.dtype)).float()
    return t.d_loss(real_logits, fake_logits), {"D_real": real_logits.mean(), "D_fake": fake_logits.mean()}


def g_sr(t: StepContext, inp: StepInput) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """G's pixel loss, l1_weight x L1 + ssim_weight x (1 - SSIM), plus gan_weight x the GAN loss
    once the GAN stage has begun."""
    fake = sr_fake(t, inp).float()
    l1 = (fake - inp.real).abs().mean()
    loss, stats = t.cfg.l1_weight * l1, {"L1": l1}
    if t.cfg.ssim_weight > 0:
        s = ssim((fake + 1) / 2, (inp.real + 1) / 2).mean()
        loss, stats["SSIM"] = loss + t.cfg.ssim_weight * (1 - s), s
    if t.cfg.gan_weight > 0 and gan_started(t, inp):
        with t.env.autocast():
            logits = t.D(fake.to(inp.real.dtype)).float()
        gan = t.g_loss(logits)
        loss, stats["G_gan"] = loss + t.cfg.gan_weight * gan, gan
    return loss, stats
