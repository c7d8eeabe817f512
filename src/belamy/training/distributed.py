"""Device, dtype and distribution, decided in one place.

belamy runs on a laptop CPU, one GPU, or many GPUs/nodes through `torchrun ... -m belamy train`.
Multi-process training uses torch.distributed with the same semantics as StyleGAN2-ADA: the
configured batch is the *global* batch, each rank computes its slice, gradients are averaged with
one all-reduce per phase, and rank 0 is the only writer of checkpoints, previews and stats.
(Manual gradient all-reduce instead of DDP wrappers: a GAN alternates which network is trained,
which DDP's fixed reducer handles badly.)
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass

import torch
import torch.distributed as dist

from belamy.core.device import pick_amp, pick_device


@dataclass
class Env:
    """Where this process runs and who it is among the ranks."""

    device: torch.device
    rank: int = 0
    world: int = 1
    amp_dtype: torch.dtype | None = None  # autocast dtype (bf16 on CPU or CUDA, fp16 on CUDA), None for fp32

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    def autocast(self):
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    @property
    def precision(self) -> str:
        """What the training math runs in, for the model card: 'float32' or e.g. 'bfloat16 autocast'."""
        return "float32" if self.amp_dtype is None else f"{str(self.amp_dtype).removeprefix('torch.')} autocast"

    @property
    def needs_grad_scaler(self) -> bool:
        return self.amp_dtype == torch.float16


def setup(device: str = "auto", amp: str = "auto", threads: int = 0, deterministic: bool = True) -> Env:
    """Initialise torch.distributed when launched by torchrun; choose device and precision."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = pick_device(device, local_rank)
    if threads > 0:
        torch.set_num_threads(threads)
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group(backend=backend)
    if dev.type == "cuda":
        cuda_kernels(deterministic)
    return Env(device=dev, rank=rank, world=world, amp_dtype=pick_amp(amp, dev))


def cuda_kernels(deterministic: bool) -> None:
    """By default CUDA training repeats itself bit for bit, as it does on the CPU, so resume
    equals uninterrupted training: cuDNN's autotuner and its atomics-based backward kernels pick
    and sum differently from run to run, so both are off (ops with no deterministic kernel warn).
    `deterministic=False` lets cuDNN autotune instead: about a fifth faster, not repeatable."""
    torch.backends.cuda.matmul.allow_tf32 = True  # TF32 is deterministic
    torch.backends.cudnn.allow_tf32 = True
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS's deterministic workspace
    torch.backends.cudnn.benchmark = not deterministic
    torch.backends.cudnn.deterministic = deterministic
    torch.use_deterministic_algorithms(deterministic, warn_only=True)


def teardown(env: Env) -> None:
    if env.distributed and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_grads(params: list[torch.nn.Parameter], env: Env) -> None:
    """Average gradients over ranks with one flattened all-reduce (global-batch semantics)."""
    if not env.distributed:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= env.world
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset:offset + n].view_as(g))
        offset += n


def all_reduce_sum(t: torch.Tensor, env: Env) -> torch.Tensor:
    if env.distributed:
        dist.all_reduce(t)
    return t


def broadcast_module(module: torch.nn.Module, env: Env) -> None:
    """Make every rank start from rank 0's weights and buffers."""
    if not env.distributed:
        return
    for t in list(module.parameters()) + list(module.buffers()):
        dist.broadcast(t.data, src=0)


def barrier(env: Env) -> None:
    if env.distributed:
        dist.barrier()


def broadcast_flag(flag: bool, env: Env) -> bool:
    """True on every rank if it is true on any (e.g. Ctrl-C seen by one process)."""
    if not env.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0])
    dist.all_reduce(t)
    return bool(t.item() > 0)
