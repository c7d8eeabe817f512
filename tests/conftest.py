"""Shared fixtures: images made on the fly (never third-party files), tiny and seeded."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image


def pattern(seed: int, w: int = 96, h: int = 80) -> Image.Image:
    """A distinct, structured RGB image per seed (blocky, so perceptual hashes differ)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(6, 6, 3), dtype=np.uint8)
    im = Image.fromarray(small).resize((w, h), Image.Resampling.NEAREST)
    return im


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb)."""
    raw = encode(Image.new("L", (1, 1)), "PNG")
    ihdr_start = 8
    length = struct.unpack(">I", raw[ihdr_start:ihdr_start + 4])[0]
    body = bytearray(raw[ihdr_start + 4:ihdr_start + 8 + length])
    body[4:12] = struct.pack(">II", width, height)
    crc = struct.pack(">I", zlib.crc32(bytes(body)) & 0xFFFFFFFF)
    return raw[:ihdr_start + 4] + bytes(body) + crc + raw[ihdr_start + 8 + length + 4:]


@pytest.fixture
def make_pattern():
    return pattern


def tiny_config(name: str = "stylegan2", augment: str = "diffaug"):
    """A training config small enough for the CPU test suite (32 px, widths <= 16/64, batch 8)."""
    from belamy.models.config import ModelConfig
    from belamy.training.presets import train_preset

    cfg = train_preset({"dcgan": "dcgan-64", "fastgan": "fastgan-64"}.get(name, "cpu-quick-64"))
    if name == "fastgan":
        cfg.model = ModelConfig(name="fastgan", resolution=32, z_dim=16, w_dim=16, mapping_layers=2,
                                g_channel_base=128, g_channel_max=16, d_channel_base=128, d_channel_max=16,
                                top="light", tanh_output=True, mbstd_group=0)
        cfg.r1_interval = 2
    elif name == "dcgan":
        cfg.model = ModelConfig(name="dcgan", resolution=32, z_dim=16, w_dim=16, g_channel_base=8 * 16,
                                g_channel_max=64, d_channel_base=8 * 16, d_channel_max=64)
    else:
        cfg.model = ModelConfig(name="stylegan2", resolution=32, z_dim=16, w_dim=16, mapping_layers=2,
                                g_channel_base=128, g_channel_max=16, d_channel_base=128, d_channel_max=16,
                                top="light-s2d")  # light, as the default preset
        cfg.r1_interval = 2  # exercise the lazy R1 phase within a few steps
    cfg.batch = 8
    cfg.batch_start = 0  # tests that want a start batch set one
    cfg.mirror = True  # decided, so the training stage can run it directly (test_symmetry tests "auto")
    cfg.augment = augment
    cfg.ada_kimg = 0.5
    cfg.log_steps = 2
    cfg.preview_kimg = 0.02
    cfg.preview_n = 4
    cfg.checkpoint_kimg = 0.016
    cfg.keep = 2
    cfg.device = "cpu"
    cfg.amp = "off"  # float32 on every CPU; bf16 is tested where asked for
    return cfg


def pattern_collection(root, count: int = 12, side: int = 40, name: str = "coll"):
    """A 32 px Collection of `count` distinct pattern images at root/NAME (sources in root/src-NAME)."""
    import belamy

    out = root / name
    if not (out / "collection.json").is_file():
        src = root / f"src-{name}"
        src.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            (src / f"{i}.png").write_bytes(encode(pattern(i, side, side), "PNG"))
        belamy.collect([str(src)], out, size=32, workers=1, near_threshold=-1)
    return out


def tiny_run(root, name: str = "stylegan2"):
    """A Run trained for 2 steps on 12 pattern images at 32 px (a few seconds): for generate tests."""
    from belamy.api.train import train

    cfg = tiny_config(name, "none" if name == "dcgan" else "diffaug")
    cfg.steps = 2
    return train(pattern_collection(root), root / f"run-{name}", cfg, progress=False)


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run `belamy ARGS` in this process (as the console script does) -> (exit code, stdout, stderr).
    In-process saves the interpreter and torch start-up of a subprocess per command."""
    import sys

    from belamy.cli.main import main

    monkeypatch.setattr(sys, "argv", ["belamy", *args])
    monkeypatch.setenv("BELAMY_PROGRESS", "0")
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def one_thread():
    """Batch-1 renders and projection steps are tiny ops: on the shared 2-core machine one thread
    is several times faster than two that wait on each other. Use with
    `pytestmark = pytest.mark.usefixtures("one_thread")`."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny trained StyleGAN2 Run, one per test module."""
    return tiny_run(tmp_path_factory.mktemp("run"), "stylegan2")


@pytest.fixture(scope="module")
def G(run):
    """The tiny run's generator on the CPU."""
    return run.generator("cpu")


def pixels(path) -> np.ndarray:
    """An image file's RGB pixels."""
    return np.asarray(Image.open(path).convert("RGB"))


def sr_collection(root, count: int = 10, side: int = 90):
    """A 64 px collection of pattern images: room for 32 px super-resolution crops."""
    import belamy

    out = root / "coll64"
    if not (out / "collection.json").is_file():
        src = root / "src64"
        src.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            (src / f"{i}.png").write_bytes(encode(pattern(i, side, side), "PNG"))
        belamy.collect([str(src)], out, size=64, workers=1, near_threshold=-1)
    return out


def tiny_sr_config(steps: int, gan_start_kimg: float = 0.012):
    """A tiny x2 SRVGG on 32 px crops, batch 4: D joins at step 3 with the default start."""
    from belamy.models import presets
    from belamy.training.presets import train_preset

    cfg = train_preset("sr-x2")
    cfg.model = presets.srvgg(2, 32, feat=8, convs=2, d_feat=4)
    cfg.batch, cfg.steps, cfg.device, cfg.amp = 4, steps, "cpu", "off"
    cfg.checkpoint_kimg, cfg.preview_kimg, cfg.log_steps, cfg.keep = 0.008, 0.008, 1, 2
    cfg.gan_start_kimg = gan_start_kimg
    return cfg


def tiny_sr_run(root, steps: int = 4):
    from belamy.api.train import train

    return train(sr_collection(root), root / "sr-run", tiny_sr_config(steps), progress=False)


def resave_with_a_pixel_changed(art, out):
    """`art` re-saved by "another program" with one pixel changed and its text chunks (the record) kept."""
    from PIL.PngImagePlugin import PngInfo

    with Image.open(art) as im:
        info = PngInfo()
        for k, v in im.text.items():
            info.add_itxt(k, v)
        px = im.convert("RGB")
        px.putpixel((5, 5), (255, 0, 255))
        px.save(out, pnginfo=info)
    return out


def tiny_p2p_run(root):
    """A 32 px pix2pix Run trained for 2 steps on edges of 8 pattern images: for chain tests."""
    from belamy.api.train import train
    from belamy.data.pairs import derive_pairs
    from belamy.models import presets
    from belamy.training.presets import train_preset

    pairs = derive_pairs(pattern_collection(root, count=8, side=40), root / "pairs", "edges")
    cfg = train_preset("pix2pix-64")
    cfg.model = presets.pix2pix(32, ngf=8, ndf=8, patch_layers=2)
    cfg.batch, cfg.steps, cfg.device, cfg.amp = 4, 2, "cpu", "off"
    return train(pairs.path, root / "run", cfg, progress=False)
