"""Train one outside peer (lightweight-gan or stylegan2-pytorch, from PyPI) for a wall-clock budget
and save its renders: the child of `benchmarks/peers.py`, run by the Python of an environment
where the peer is installed (belamy need not be).

    python peer_child.py PEER IMAGE_FOLDER WORK MINUTES N THREADS SEED DEVICE [default|small]

Both peers hard-code CUDA: the module asserts `torch.cuda.is_available()` on import and moves
every model and batch with `.cuda(rank)`. With DEVICE `cpu` they run through a small shim, so that
they can be compared on a machine without a GPU: the import assertion is removed from the source
(checked to be there, so a changed peer fails loudly instead of silently running something else),
`.cuda()` on tensors and modules returns them unchanged (on the CPU), and lightweight-gan's one
`torch.device('cuda:0')` becomes the CPU. Nothing else of the peer changes: its own training step,
losses, augmentation and settings. With DEVICE `cuda` the peer is imported untouched.

Settings: each peer's command-line defaults (what `lightweight_gan --data DIR --image-size 64` and
`stylegan2_pytorch --data DIR --image-size 64` train), with the data loader in-process as
belamy's is (num_workers 0) and its periodic checkpoints off; stylegan2-pytorch gets the
augmentation its README recommends for small collections (`--aug-prob 0.25`; lightweight-gan
sets its own from the collection size). At 64 px those defaults are large networks (lightweight-gan
23.6M + 11.7M parameters), so `small` also runs each with the width knob its README documents
turned down: lightweight-gan `--fmap-max 64` (4.5M in all), stylegan2-pytorch
`--network-capacity 4` (9.1M; most of it D, whose widths the knob barely touches). belamy's
default has 1.3M. Renders come from the live generator: both peers start
their EMA only after 20,000 steps, far beyond these budgets.

Writes WORK/renders.npy (N, H, W, 3) uint8 and WORK/result.json (steps, images shown, seconds).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import types
from pathlib import Path

import numpy as np
import torch

ASSERT = "assert torch.cuda.is_available(), 'You need to have an Nvidia GPU with CUDA installed.'"
CPU_PATCHES = {
    "lightweight_gan": [(ASSERT, "pass"), ("torch.device(f'cuda:{self.rank}')", "torch.device('cpu')")],
    "stylegan2_pytorch": [(ASSERT, "pass")],
}
MODULES = {"lightweight-gan": "lightweight_gan", "stylegan2-pytorch": "stylegan2_pytorch"}


def import_peer(package: str, device: str) -> types.ModuleType:
    """The peer's main module (`package.package`), shimmed for the CPU when `device` is cpu."""
    if device != "cpu":
        return importlib.import_module(f"{package}.{package}")
    torch.Tensor.cuda = lambda self, *a, **k: self  # type: ignore[method-assign]
    torch.nn.Module.cuda = lambda self, *a, **k: self  # type: ignore[method-assign]
    spec = importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        raise SystemExit(f"{package} is not installed in {sys.executable}")
    pkg = types.ModuleType(package)  # the package without its __init__ (which imports the CUDA-only module)
    pkg.__path__ = list(spec.submodule_search_locations)
    sys.modules[package] = pkg
    path = Path(pkg.__path__[0]) / f"{package}.py"
    source = path.read_text()
    for old, new in CPU_PATCHES[package]:
        if old not in source:
            raise SystemExit(f"{path}: expected {old!r}; this version of {package} is not one the shim knows")
        source = source.replace(old, new)
    module = types.ModuleType(f"{package}.{package}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


def trainer_for(peer: str, mod: types.ModuleType, work: Path, size: int, config: str = "default"):
    common = dict(name="bench", results_dir=str(work / "results"), models_dir=str(work / "models"),
                  image_size=size, num_workers=0, save_every=10**9)
    small = config == "small"
    if peer == "lightweight-gan":
        return mod.Trainer(**common, batch_size=10, gradient_accumulate_every=4, lr=2e-4,
                           attn_res_layers=[32], disc_output_size=1, aug_types=["cutout", "translation"],
                           use_aim=False, evaluate_every=1000, fmap_max=64 if small else 512)
    return mod.Trainer(**common, batch_size=5, gradient_accumulate_every=6, lr=2e-4, lr_mlp=0.1,
                       ttur_mult=1.5, network_capacity=4 if small else 16, trunc_psi=0.75, mixed_prob=0.9,
                       aug_prob=0.25, aug_types=["translation", "cutout"], evaluate_every=1000)


@torch.no_grad()
def render(peer: str, trainer, n: int, seed: int, device: str) -> np.ndarray:
    """n images in [0, 255] from the live generator, latents from `seed` (no truncation)."""
    gen = torch.Generator().manual_seed(seed)
    trainer.GAN.eval()
    G = trainer.GAN.G
    out = []
    for i in range(0, n, 16):
        b = min(16, n - i)
        if peer == "lightweight-gan":
            img = G(torch.randn(b, trainer.GAN.latent_dim, generator=gen).to(device))
        else:
            z = torch.randn(b, G.latent_dim, generator=gen).to(device)
            noise = torch.rand(b, G.image_size, G.image_size, 1, generator=gen).to(device)
            w = trainer.GAN.S(z)[:, None, :].expand(-1, G.num_layers, -1)
            img = G(w, noise)
        img = img.float().clamp(0, 1)  # both peers draw in [0, 1]
        out.append((img * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy())
    return np.concatenate(out)


def main() -> None:
    peer, folder, work, minutes, n, threads, seed, device = sys.argv[1:9]
    config = sys.argv[9] if len(sys.argv) > 9 else "default"
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(int(threads))
    torch.manual_seed(int(seed))
    np.random.seed(int(seed))
    mod = import_peer(MODULES[peer], device)
    from PIL import Image

    size = Image.open(min(Path(folder).glob("*.png"))).size[0]  # the collection's images are square
    trainer = trainer_for(peer, mod, work, size, config)
    trainer.set_data_src(folder)
    trainer.init_GAN()  # (train() would on its first call) to count the parameters
    params = {k: sum(p.numel() for p in getattr(trainer.GAN, k).parameters()) for k in ("G", "D")}
    per_step = trainer.batch_size * trainer.gradient_accumulate_every
    # The clock starts after the first step, which is slow on a CPU (lightweight-gan: 111-169 s
    # against 45-70 s for each later one): belamy's idle minutes exclude its start-up too.
    t_warm = time.perf_counter()
    trainer.train()
    t0 = time.perf_counter()
    steps = 1
    while time.perf_counter() - t0 < float(minutes) * 60:
        trainer.train()
        steps += 1
    seconds = time.perf_counter() - t0
    np.save(work / "renders.npy", render(peer, trainer, int(n), int(seed), device))
    (work / "result.json").write_text(json.dumps({
        "peer": peer, "config": config, "params": params, "steps": steps, "kimg": round(steps * per_step / 1000, 2), "seconds": round(seconds, 1),
        "warmup_seconds": round(t0 - t_warm, 1), "img_s": round((steps - 1) * per_step / seconds, 1), "device": device, "threads": int(threads)}))


if __name__ == "__main__":
    main()
