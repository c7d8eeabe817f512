"""Near duplicates: what `belamy collect` catches, what it misses and what it merges wrongly.

Caught and missed over a grid of transformations (resize 0.5-0.95, JPEG quality 50-95, two at
once, small crops, a slight colour shift, a brightness shift) of three kinds of content: the demo
portraits, openclipart drawings (Debian's openclipart-png, fetched once with `apt-get download`
into --cache, never committed) and procedural noise-like textures. False positives: images that a
collect of the demo collection, or of openclipart's drawings, would drop as near duplicates of a
different image; pairs whose prepared pixels are identical (the package holds some files twice)
are counted apart, the rest are listed in the JSON for a look. Every figure is given for collect's
rule (hash candidates confirmed on thumbnails) and for the rule before it (hash distance <= 6).

    python benchmarks/dedupe.py [--size 256] [--per-kind 40] [--clipart PNG_ROOT]
prints a table and writes benchmarks/results/dedupe.json.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).parent))
from common import openclipart_png, write_result  # noqa: E402

from belamy.data import dedupe  # noqa: E402
from belamy.data.decode import DecodeOptions, Skip, decode  # noqa: E402

OLD_THRESHOLD = 6  # the hash distance that alone made a near duplicate before
OLD_COLOR_TOLERANCE = 16.0  # and the colour thumbnails' largest difference it allowed
DRAWINGS = ("people", "animals", "food", "plants", "buildings", "transportation", "recreation", "office", "tools")


def encode(im: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def resize(im: Image.Image, f: float) -> Image.Image:
    w, h = im.size
    return im.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.LANCZOS)


def crop(im: Image.Image, f: float, corner: bool) -> Image.Image:
    w, h = im.size
    dx, dy = round(w * f), round(h * f)
    return im.crop((dx, dy, w, h)) if corner else im.crop((dx // 2, dy // 2, w - dx // 2, h - dy // 2))


def shift(im: Image.Image, gains=(1.0, 1.0, 1.0), offset: float = 0.0) -> Image.Image:
    a = np.asarray(im, dtype=np.float32) * np.array(gains, dtype=np.float32) + offset
    return Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8))


TRANSFORMS: dict[str, Callable[[Image.Image], bytes]] = {
    **{f"resize {f}": (lambda im, f=f: encode(resize(im, f))) for f in (0.5, 0.6, 0.7, 0.8, 0.88, 0.95)},
    **{f"JPEG q{q}": (lambda im, q=q: encode(im, "JPEG", quality=q)) for q in (50, 60, 70, 85, 95)},
    "resize 0.88 + JPEG q85": lambda im: encode(resize(im, 0.88), "JPEG", quality=85),
    "resize 0.5 + JPEG q50": lambda im: encode(resize(im, 0.5), "JPEG", quality=50),
    "crop 2% each side": lambda im: encode(crop(im, 0.04, corner=False)),
    "crop 5% off one side": lambda im: encode(im.crop((round(im.size[0] * 0.05), 0, *im.size))),
    "crop 4% at a corner": lambda im: encode(crop(im, 0.04, corner=True)),
    "crop 8% at a corner": lambda im: encode(crop(im, 0.08, corner=True)),
    "colour shift (R x1.06, B x0.94)": lambda im: encode(shift(im, gains=(1.06, 1.0, 0.94))),
    "brightness +10": lambda im: encode(shift(im, offset=10)),
}


def texture(seed: int, n: int = 512, base: tuple[float, float, float] | None = None) -> Image.Image:
    """A noise-like texture of one of six kinds (seed % 6): colour noise, grain, pink noise, a
    weave, fine stripes, blurred noise at a fine random scale."""
    rng = np.random.default_rng(1000 + seed)
    kind = seed % 6
    y, x = np.mgrid[:n, :n].astype(np.float64)
    colour = np.array(base if base is not None else rng.uniform(60, 200, 3))
    if kind == 0:
        a = rng.normal(0, 40, (n, n, 3))
    elif kind == 1:
        a = rng.normal(0, 30, (n, n, 1)) * np.ones(3)
    elif kind == 2:
        f = np.fft.fftfreq(n)
        r = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
        r[0, 0] = 1
        a = np.stack([np.fft.ifft2(np.fft.fft2(rng.normal(size=(n, n))) / r ** rng.uniform(0.6, 1.0)).real
                      for _ in range(3)], -1)
        a = a / a.std() * 35
    elif kind == 3:
        th = rng.uniform(0, np.pi)
        u, v = x * np.cos(th) + y * np.sin(th), -x * np.sin(th) + y * np.cos(th)
        fu, fv = rng.uniform(0.6, 1.6, 2)
        g = 50 * np.sin(u * fu + rng.uniform(0, 6)) * np.sin(v * fv + rng.uniform(0, 6)) + 20 * rng.normal(size=(n, n))
        a = g[..., None] * np.array([1.0, 0.9, 0.75])
    elif kind == 4:
        th = rng.uniform(0, np.pi)
        g = 45 * np.sin((x * np.cos(th) + y * np.sin(th)) * rng.uniform(0.8, 2.5)) + 25 * rng.normal(size=(n, n))
        a = g[..., None] * np.ones(3)
    else:
        noise = Image.fromarray(np.clip(128 + rng.normal(0, 80, (n, n, 3)), 0, 255).astype(np.uint8))
        a = (np.asarray(noise.filter(ImageFilter.GaussianBlur(rng.uniform(0.7, 2.0))), np.float64) - 128) * 2.5
    return Image.fromarray(np.clip(colour + a, 0, 255).astype(np.uint8))


def flatten(path: Path) -> Image.Image:
    """An RGB image of a drawing, transparency over white (as collect composites it)."""
    im = Image.open(path)
    im.load()
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        bg = Image.new("RGB", im.size, (255, 255, 255))
        bg.paste(im, mask=im.getchannel("A"))
        return bg
    return im.convert("RGB")


class Prepared:
    """One image as collect sees it: hashes, colour thumbnail and prepared pixels."""

    def __init__(self, data: bytes, opts: DecodeOptions, name: str) -> None:
        d = decode(data, opts)
        self.name = name
        self.hashes = (d.phash, d.dhash)
        self.colors = d.colors
        self.pixels = np.frombuffer(d.pixels, np.uint8).reshape(opts.size, opts.size, 3)
        self.digest = hashlib.sha256(d.pixels).hexdigest()


class Rules:
    """collect's rule and the one before (hash distance <= 6, colours within 16) over the same kept images."""

    def __init__(self, radius: int, max_difference: float) -> None:
        self.kept: list[Prepared] = []
        self.new = dedupe.NearFinder(radius, max_difference, lambda i: self.kept[i].pixels)
        self._hashes: list[tuple[int, int]] = []
        self._colors: list[np.ndarray] = []

    def add(self, p: Prepared) -> None:
        self.kept.append(p)
        self.new.add(p.hashes, p.colors, p.name)
        self._hashes.append(p.hashes)
        self._colors.append(np.frombuffer(p.colors, np.uint8).astype(np.float32))

    def match(self, p: Prepared) -> tuple[dedupe.NearMatch | None, int | None]:
        """(collect's match, the old rule's match as a position)."""
        return self.new.find(p.hashes, p.colors, p.pixels), self._old(p)

    def _old(self, p: Prepared) -> int | None:
        if not self.kept:
            return None
        h = np.array(self._hashes, dtype=np.uint64) ^ np.array(p.hashes, dtype=np.uint64)
        dist = np.maximum(dedupe.popcount64(h[:, 0]), dedupe.popcount64(h[:, 1]))
        cdiff = np.abs(np.stack(self._colors) - np.frombuffer(p.colors, np.uint8).astype(np.float32)).max(axis=1)
        dist = np.where(cdiff <= OLD_COLOR_TOLERANCE, dist, 1 << 20)
        j = int(dist.argmin())
        return j if dist[j] <= OLD_THRESHOLD else None


def grid(kind: str, images: list[tuple[str, Image.Image]], opts: DecodeOptions, radius: int,
         max_difference: float) -> dict[str, dict]:
    rules = Rules(radius, max_difference)
    for name, im in images:
        rules.add(Prepared(encode(im), opts, name))
    out = {}
    for tname, make in TRANSFORMS.items():
        counts = {"n": 0, "caught": 0, "wrong": 0, "missed": 0, "old_caught": 0, "old_wrong": 0, "old_missed": 0}
        for i, (name, im) in enumerate(images):
            try:
                p = Prepared(make(im), opts, name)
            except Skip:
                continue
            counts["n"] += 1
            new, old = rules.match(p)
            counts["missed" if new is None else "caught" if new.position == i else "wrong"] += 1
            counts["old_missed" if old is None else "old_caught" if old == i else "old_wrong"] += 1
        out[tname] = counts
    return out


def false_positives(items: list[Prepared], radius: int, max_difference: float) -> dict:
    """Ingest `items` in order, once per rule; what each drops, identical prepared pixels counted apart."""
    res: dict = {"images": len(items), "pairs": []}
    for rule in ("new", "old"):
        rules = Rules(radius, max_difference)
        dropped = identical = 0
        for p in items:
            new, old = rules.match(p)
            hit = (new.position if new else None) if rule == "new" else old
            if hit is None:
                rules.add(p)
                continue
            twin = rules.kept[hit]
            if twin.digest == p.digest:
                identical += 1
                continue
            dropped += 1
            if rule == "new":
                res["pairs"].append({"image": p.name, "kept": twin.name, "distance": new.distance,
                                     "difference": round(new.difference, 3)})
        prefix = "" if rule == "new" else "old_"
        res[prefix + "dropped"], res[prefix + "identical"] = dropped, identical
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=256, help="collect --size")
    ap.add_argument("--per-kind", type=int, default=40, help="images of each kind in the transformation grid")
    ap.add_argument("--clipart", type=Path, default=None, help="an unpacked openclipart-png PNG tree")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "belamy-bench")
    ap.add_argument("--radius", type=int, default=dedupe.NEAR_RADIUS)
    ap.add_argument("--difference", type=float, default=dedupe.NEAR_DIFFERENCE)
    ap.add_argument("--name", default="dedupe")
    args = ap.parse_args()
    t0 = time.perf_counter()
    from belamy.data.demo import iter_demo, render_portrait

    opts = DecodeOptions(size=args.size, min_side=1)
    root = args.clipart or openclipart_png(args.cache)
    drawings = [p for s in DRAWINGS for p in sorted((root / s).rglob("*.png"))]
    n = args.per_kind
    kinds: dict[str, list[tuple[str, Image.Image]]] = {
        "demo portraits": [(f"portrait {i}", render_portrait(10_000 + i, 384)) for i in range(n)],
        "openclipart drawings": _spread_clipart(drawings, n, opts),
        "noise-like textures": [(f"texture {i}", texture(i)) for i in range(n)],
    }
    print(f"transformation grid: {n} images of each kind at --size {args.size} ...", file=sys.stderr)
    results = {k: grid(k, ims, opts, args.radius, args.difference) for k, ims in kinds.items()}
    print("false positives: the demo collection, openclipart's drawings ...", file=sys.stderr)
    collections = {
        "demo portraits (the demo collection)": [Prepared(encode(im), opts, ident) for ident, im in
                                                 iter_demo("portraits", size=args.size)],
        "openclipart drawings": [p for p in (_prepared(path, root, opts) for path in drawings) if p is not None],
        "textures, one colour per kind (stress)": [
            Prepared(encode(texture(k, base=(140, 120, 100))), opts, f"texture {k}") for k in range(48)],
    }
    fps = {k: false_positives(v, args.radius, args.difference) for k, v in collections.items()}
    seconds = time.perf_counter() - t0
    _print(results, fps, args)
    params = {"size": args.size, "per_kind": n, "hash_radius": args.radius, "max_difference": args.difference,
              "color_tolerance": dedupe.COLOR_TOLERANCE, "color_close": dedupe.COLOR_CLOSE,
              "thumbnail": dedupe.THUMB, "blur": dedupe.BLUR, "contrast_floor": dedupe.CONTRAST_FLOOR,
              "old_threshold": OLD_THRESHOLD, "old_color_tolerance": OLD_COLOR_TOLERANCE}
    path = write_result(args.name, {"params": params, "grid": results, "false_positives": fps,
                                    "seconds": round(seconds, 1)})
    print(f"\n{seconds:.0f} s; wrote {path}")


def _spread_clipart(paths: list[Path], n: int, opts: DecodeOptions) -> list[tuple[str, Image.Image]]:
    """n drawings spread over the sections, no two with the same prepared pixels."""
    out, seen = [], set()
    step = max(1, len(paths) // (3 * n))
    for path in paths[::step]:
        try:
            im = flatten(path)
            digest = Prepared(encode(im), opts, path.name).digest
        except (OSError, Skip, ValueError):
            continue
        if digest not in seen:
            seen.add(digest)
            out.append((path.stem, im))
    rng = np.random.default_rng(0)
    return [out[i] for i in sorted(rng.choice(len(out), size=min(n, len(out)), replace=False))]


def _prepared(path: Path, root: Path, opts: DecodeOptions) -> Prepared | None:
    try:
        return Prepared(path.read_bytes(), opts, path.relative_to(root).as_posix())
    except Skip:
        return None


def _print(results: dict, fps: dict, args) -> None:
    kinds = list(results)
    print(f"\nnear duplicates caught at --size {args.size}: collect (hash distance <= {args.radius} and colours "
          f"close, confirmed by thumbnail difference <= {args.difference:g}) | before (hash distance <= "
          f"{OLD_THRESHOLD})\n")
    print(f"{'transformation':34s}" + "".join(f"{k:>26s}" for k in kinds))
    for t in TRANSFORMS:
        cells = []
        for k in kinds:
            c = results[k][t]
            mark = "*" if c["wrong"] else " "
            cells.append(f"{c['caught']:>3d}/{c['n']:<3d}{mark} | {c['old_caught']:>3d}/{c['n']:<3d}")
        print(f"{t:34s}" + "".join(f"{c:>26s}" for c in cells))
    print("(* some copies matched a different image)\n")
    print(f"{'false positives (images dropped)':40s} {'images':>7s} {'collect':>8s} {'before':>7s}   "
          "identical pixels (not counted)")
    for k, r in fps.items():
        print(f"{k:40s} {r['images']:7d} {r['dropped']:8d} {r['old_dropped']:7d}   "
              f"{r['identical']} | {r['old_identical']}")


if __name__ == "__main__":
    main()
