"""Originality: how close is each render to the nearest image of the training collection?

A GAN trained on a small collection can memorise: some renders are (near) copies of a training
image, which an artist must not publish as new work. For every render this finds the nearest
training image in two spaces, each searched over the training images *and their mirror images*
(training flips the reals, so a memorised image may come out mirrored):

- **pixel**: 32x32 thumbnails (area-averaged, softly blurred) with each colour channel's mean
  removed (so a global brightness or colour-cast change does not hide a copy), compared at every
  offset up to 2 thumbnail pixels (1/16 of the image) in half-pixel steps so a shifted copy is
  found; distance = RMS difference in 0-255 levels over the overlap.
- **feature**: Euclidean distance in a multi-scale feature space (`belamy-rand-v1` by default:
  colour/texture statistics at four scales plus coarse layout, see `features.py`).

Score = distance to the nearest training image / the collection's typical nearest-neighbour
distance (the median, over training images, of the distance to their nearest *other* training
image, mirror images included). So a score of ~1 means "as far from the collection as its
images are from each other", and near 0 a copy. In pixel space the divisor is the matched
training image's own contrast when that is smaller, in both spaces (`Space.unit`): a copy must
reproduce content, and a blank canvas (or a faint blob on one) is close to every drawing on white
paper without copying any.

**Detail**: a pixel-space match counts only when the render also reproduces the matched image's
fine detail: the normalised correlation of their band-pass images (64 px, difference of Gaussians
sigma 0.7 and 2 px: lines and brush texture, not layout), best over offsets of up to 5 px, must be
at least `DETAIL_MIN`. Why: on blurred 32x32 thumbnails a small line drawing on white is itself a
faint blob, so a render that is only a faint colour smudge in the same place would match it; a
copy reproduces the lines too. Otherwise the feature space alone decides. Known limit: for a
drawing only a few pixels wide the band sees its blob, not its inner detail.

A render's score is the smaller of its spaces' scores (the more suspicious one; the pixel space
only when its detail agrees), and it is flagged as a **near copy** below `NEAR_COPY` = 0.5: closer
to one training image than half the usual distance between two neighbouring training images.
How these thresholds were calibrated, and what they catch and miss: docs/decisions/0004.
tests/metrics/test_originality.py checks both sides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from belamy.core.errors import BelamyError
from belamy.data import names
from belamy.data.collection import Collection
from belamy.metrics.features import FeatureExtractor, chunks, random_features
from belamy.models.run import Run

NEAR_COPY = 0.5
THUMB = 32  # pixel thumbnails are 32x32 ...
SHIFT = 2  # ... compared at every offset of up to +-2 thumbnail pixels (1/16 of the image)
CHUNK = 256
MAX_SCALE_QUERIES = 256  # training images used to measure the typical nearest-neighbour distance
CANDIDATES = 32  # pixel space: training images (or mirrors) shortlisted per query for the shift search
DETAIL_SIZE = 64  # band-pass images are compared at 64 px ...
DETAIL_SHIFT = 5  # ... at every offset of up to +-5 px (the thumbnails' +-2 at 1/32, plus one)
DETAIL_MIN = 0.45  # a pixel match counts when the band-pass correlation is at least this


def thumbnails(images: Any, half_shifts: bool = False) -> Tensor:
    """uint8 (N, H, W, 3) -> (N, 3, 32, 32) float32 in 0-255 levels: area-downsampled, softened
    by a 5-tap binomial blur (so shifts by half a thumbnail pixel barely matter), each channel's
    mean removed. With `half_shifts`: (N, 4, 3, 32, 32), the image also moved by half a thumbnail
    pixel down, right and both (edges replicated), so that with the whole-pixel offsets of
    `shifted_crops` a copy moved by any multiple of 1/64 of the image lines up exactly."""
    out = []
    for c in chunks(images, CHUNK):
        x = F.interpolate(c.permute(0, 3, 1, 2).float(), size=(2 * THUMB, 2 * THUMB), mode="area")
        moves = ((0, 0), (1, 0), (0, 1), (1, 1)) if half_shifts else ((0, 0),)
        views = [F.pad(x, (dx, 0, dy, 0), mode="replicate")[:, :, :2 * THUMB, :2 * THUMB] for dy, dx in moves]
        t = _blur(F.avg_pool2d(torch.cat(views), 2))  # (V*n, 3, 32, 32)
        t = (t - t.mean(dim=(2, 3), keepdim=True)).view(len(moves), len(x), 3, THUMB, THUMB).transpose(0, 1)
        out.append(t if half_shifts else t[:, 0])
    if out:
        return torch.cat(out)
    return torch.zeros(0, 4, 3, THUMB, THUMB) if half_shifts else torch.zeros(0, 3, THUMB, THUMB)


def query_crops(images: Any) -> tuple[Tensor, Tensor]:
    """uint8 (N, H, W, 3) -> the pixel space's query descriptors: (N, 100, D) crops (4 half-pixel
    moves x 25 whole-pixel offsets) and (N, 9, 192) shortlist descriptors (`shortlist_queries`)."""
    thumbs = thumbnails(images, half_shifts=True)  # (N, 4, 3, 32, 32)
    n, v = thumbs.shape[:2]
    crops = shifted_crops(thumbs.flatten(0, 1))  # (N*4, 25, D)
    return crops.view(n, v * crops.shape[1], crops.shape[2]), shortlist_queries(thumbs[:, 0])


def shortlist_queries(thumbs: Tensor) -> Tensor:
    """(N, 3, 32, 32) -> (N, 9, 192): `coarse` of the thumbnail moved by -2, 0 and +2 pixels each
    way (edges replicated). Why: on a collection of similar pictures a copy moved by half a coarse
    cell fell out of the 32 candidates (15 of 40 demo portraits moved by 4 px were missed)."""
    p = SHIFT
    padded = F.pad(thumbs, (p, p, p, p), mode="replicate")
    moved = [padded[:, :, p - dy:p - dy + THUMB, p - dx:p - dx + THUMB]
             for dy in (-SHIFT, 0, SHIFT) for dx in (-SHIFT, 0, SHIFT)]
    return torch.stack([coarse(m) for m in moved], dim=1)


def _blur(x: Tensor, k: Tensor | None = None) -> Tensor:
    """Separable blur of (N, C, H, W) by the odd 1-D kernel k (default binomial [1 4 6 4 1]/16),
    edges replicated."""
    k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16 if k is None else k
    c, r = x.shape[1], len(k) // 2
    x = F.pad(x, (r, r, r, r), mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def centre_crops(thumbs: Tensor) -> Tensor:
    """(N, 3, T, T) -> (N, D): the crop that leaves SHIFT pixels on every side, as RMS-ready rows."""
    t = THUMB - 2 * SHIFT
    crop = thumbs[:, :, SHIFT:SHIFT + t, SHIFT:SHIFT + t].flatten(1)
    return crop / crop.shape[1] ** 0.5  # Euclidean distance = RMS difference in levels


def shifted_crops(thumbs: Tensor) -> Tensor:
    """(N, 3, T, T) -> (N, (2*SHIFT+1)**2, D): the same crop at every offset."""
    t = THUMB - 2 * SHIFT
    crops = [thumbs[:, :, dy:dy + t, dx:dx + t].flatten(1)
             for dy in range(2 * SHIFT + 1) for dx in range(2 * SHIFT + 1)]
    return torch.stack(crops, dim=1) / crops[0].shape[1] ** 0.5


def _flipped(images: Any) -> Any:
    return images[:, :, ::-1] if isinstance(images, np.ndarray) else images.flip(2)


def _flat(images: Any):
    """Chunks of blank canvases, each filled with one image's mean colour (same size as the images)."""
    for c in chunks(images, CHUNK):
        yield c.float().mean(dim=(1, 2), keepdim=True).round().to(torch.uint8).expand_as(c).contiguous()


def coarse(thumbs: Tensor) -> Tensor:
    """(N, 3, 32, 32) -> (N, 192): 8x8 averages, the pixel space's shortlist descriptor (a shift
    of 2 thumbnail pixels moves them by half a pixel, so a shifted copy still ranks near the top)."""
    return F.avg_pool2d(thumbs, THUMB // 8).flatten(1)


def _gaussian(sigma: float) -> Tensor:
    """A normalised 1-D Gaussian kernel reaching 3 sigma."""
    t = torch.arange(-int(3 * sigma + 0.5), int(3 * sigma + 0.5) + 1, dtype=torch.float32)
    k = torch.exp(-t**2 / (2 * sigma**2))
    return k / k.sum()


def detail_images(images: Any) -> Tensor:
    """uint8 (N, H, W, 3) -> uint8 (N, 3, 64, 64): what the detail check keeps of the collection
    (12 KB an image, area-downsampled when larger)."""
    out = []
    for c in chunks(images, CHUNK):
        x = c.permute(0, 3, 1, 2)
        if x.shape[-1] != DETAIL_SIZE or x.shape[-2] != DETAIL_SIZE:
            x = F.interpolate(x.float(), size=(DETAIL_SIZE, DETAIL_SIZE), mode="area").round().to(torch.uint8)
        out.append(x.contiguous())
    return torch.cat(out) if out else torch.zeros(0, 3, DETAIL_SIZE, DETAIL_SIZE, dtype=torch.uint8)


def band(x: Tensor) -> Tensor:
    """uint8 (N, 3, 64, 64) -> float (N, 3, 64, 64): difference of Gaussians (sigma 0.7 and 2 px),
    the detail a copy keeps and a smudge lacks; pixel noise and the layout are both filtered out."""
    x = x.float()
    return _blur(x, _gaussian(0.7)) - _blur(x, _gaussian(2.0))


def detail_correlation(render: Tensor, train: Tensor) -> float:
    """Band-pass (3, 64, 64) of a render and of a training image -> the best normalised correlation
    of the render's centre crop with the training image at every offset of up to DETAIL_SHIFT."""
    c = DETAIL_SIZE - 2 * DETAIL_SHIFT
    q = render[:, DETAIL_SHIFT:DETAIL_SHIFT + c, DETAIL_SHIFT:DETAIL_SHIFT + c]  # (3, c, c)
    dots = F.conv2d(train[None], q[None])[0, 0]  # (2S+1, 2S+1): q . window at each offset
    norms = F.conv2d((train**2).sum(0)[None, None], torch.ones(1, 1, c, c))[0, 0].clamp_min(0).sqrt()
    return float((dots / (norms * q.norm() + 1e-6)).max())


@dataclass
class Space:
    """One search space: the training descriptors (originals then mirrors: row i + N is image
    i mirrored) and the typical nearest-neighbour distance between training images. Queries
    are (Q, S, D): S variants of each query (shifted crops), the nearest over all of them counts.

    With `shortlist` descriptors (the pixel space), each query is first compared with every
    training image on those cheap descriptors (the nearest of 9 moved versions) and only the
    CANDIDATES closest get the full shift search: 100 shifts x 2352 values against 32 candidates
    instead of against the whole collection and its mirrors (for 20,000 images, ~150 GFLOP
    instead of ~4.7 TFLOP per 100 queries)."""

    name: str
    ref: Tensor  # (2N, D)
    scale: float
    shortlist: Tensor | None = None  # (2N, d) or None: exhaustive search
    contrast: Tensor | None = None  # (2N,) each reference's distance from a blank canvas of its mean colour

    def unit(self, row: int) -> float:
        """What a distance to reference `row` is divided by to give a score: the typical
        neighbour distance, or the matched training image's own contrast (its distance from a
        blank canvas of its mean colour) when that is smaller. Why: a nearly blank render lies
        close to every drawing that is mostly white paper, closer than drawings lie to each
        other, yet it copies nothing; a copy must reproduce the training image's content, so its
        difference must be small next to that content. Measured on the openclipart people: a
        DCGAN's near-blank renders were 135 of 182 'near copies' in pixel space without this; two
        faint colour blobs from the default model matched a brain line drawing in feature space
        (score 0.46), 1.0 and above with it."""
        if self.contrast is None:
            return self.scale
        return min(self.scale, float(self.contrast[row]))

    @property
    def count(self) -> int:
        return self.ref.shape[0] // 2

    def nearest(self, queries: Tensor, short: Tensor | None = None,
                exclude: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(Q, S, D) queries (+ (Q, d) or (Q, V, d) shortlist descriptors when the space has them) -> (Q,)
        distance and (Q,) row of the nearest reference descriptor. `exclude` (Q,): a training
        index per query whose rows (the image and its mirror) are skipped."""
        dist, idx = [], []
        step = max(1, CHUNK // queries.shape[1])
        for at in range(0, len(queries), step):
            q = queries[at:at + step]
            ex = exclude[at:at + step] if exclude is not None else None
            if self.shortlist is None:
                d = torch.cdist(q.flatten(0, 1), self.ref).view(len(q), q.shape[1], -1).min(dim=1).values  # (q, 2N)
                rows = None
            else:
                sq = short[at:at + step]  # (q, d) or (q, V, d): V moved versions, the nearest counts
                c = torch.cdist(sq.flatten(0, 1) if sq.dim() == 3 else sq, self.shortlist)
                c = self._masked(c.view(len(sq), -1, c.shape[1]).min(dim=1).values, ex)  # (q, 2N)
                top = c.topk(min(CANDIDATES, c.shape[1]), dim=1, largest=False)
                rows = top.indices  # (q, K)
                d = torch.cdist(q, self.ref[rows]).min(dim=1).values  # (q, S, K) -> (q, K)
                d = d.masked_fill(torch.isinf(top.values), float("inf"))
            d = self._masked(d, ex) if rows is None else d
            best = d.min(dim=1)
            row = best.indices if rows is None else rows.gather(1, best.indices[:, None])[:, 0]
            # cdist's matrix-product form loses the last digits of small distances (the near copies
            # this is for), and how many depends on the batch's shape: the found pair is measured again
            # directly, so its distance is exact whichever way it was found
            exact = (q - self.ref[row][:, None]).norm(dim=2).min(dim=1).values  # (q, S, D) -> (q,)
            dist.append(torch.where(torch.isinf(best.values), best.values, exact))
            idx.append(row)
        return torch.cat(dist), torch.cat(idx)

    def _masked(self, d: Tensor, exclude: Tensor | None) -> Tensor:
        if exclude is not None:
            r = torch.arange(len(exclude))
            d[r, exclude] = float("inf")
            d[r, exclude + self.count] = float("inf")
        return d

    @classmethod
    def build(cls, name: str, ref: Tensor, queries: Tensor, shortlist: Tensor | None = None,
              short_queries: Tensor | None = None, contrast: Tensor | None = None) -> "Space":
        """`queries` (P, S, D) (and `short_queries` (P, d)): the query descriptors of the training
        images `scale_sample(N)` picks. The scale is the median over them of the distance to the
        nearest reference row other than the image itself and its own mirror."""
        pick = torch.from_numpy(scale_sample(ref.shape[0] // 2))
        space = cls(name, ref, 0.0, shortlist, contrast)
        dist, _ = space.nearest(queries, short_queries, exclude=pick)
        space.scale = float(dist.median())
        return space


def scale_sample(n: int) -> np.ndarray:
    """Indices of up to MAX_SCALE_QUERIES training images spread over a collection of n, whose
    distances to their nearest neighbours set a space's scale."""
    return np.unique(np.linspace(0, n - 1, min(n, MAX_SCALE_QUERIES)).round().astype(np.int64))


@dataclass
class Reference:
    """The training collection prepared for originality checks (build once, check many)."""

    pixel: Space
    feature: Space
    features: str  # feature-space name
    detail_images: Tensor  # (N, 3, 64, 64) uint8: the collection for the detail check
    manifest: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def build(cls, images: Any, fx: FeatureExtractor, manifest: list[dict[str, Any]] | None = None) -> "Reference":
        if len(images) < 2:
            raise BelamyError(f"originality needs a collection of at least 2 images, got {len(images)}")
        thumbs = thumbnails(images)
        pix = torch.cat([centre_crops(thumbs), centre_crops(thumbs.flip(3))])  # (2N, D)
        short = torch.cat([coarse(thumbs), coarse(thumbs.flip(3))])  # (2N, 192)
        feats = fx(images).float()
        feat = torch.cat([feats, fx(_flipped(images)).float()])
        # a mean-removed thumbnail's norm is its distance from a flat one
        pick = scale_sample(len(images))
        crops, short_queries = query_crops(images[pick])
        pixel = Space.build("pixel", pix, crops, short, short_queries, contrast=pix.norm(dim=1))
        blank = torch.cat([fx(c) for c in _flat(images)]).float() if len(images) else feats
        feature = Space.build("feature", feat, feats[pick][:, None],
                              contrast=(feat - torch.cat([blank, blank])).norm(dim=1))
        return cls(pixel, feature, fx.name, detail_images(images), list(manifest or []))

    def check(self, renders: Any, fx: FeatureExtractor) -> list["Originality"]:
        """One `Originality` per render (uint8 (N, H, W, 3)), in order."""
        if fx.name != self.features:
            raise ValueError(f"reference built with {self.features}, checked with {fx.name}")
        feat = fx(renders).float()[:, None]  # (Q, 1, D)
        found = [(self.pixel, *self.pixel.nearest(*query_crops(renders))),  # (Q, 100, D)
                 (self.feature, *self.feature.nearest(feat))]
        bands = band(detail_images(renders))
        out = []
        for i in range(len(feat)):
            pixel, feature = (self._match(space, float(d[i]), int(j[i])) for space, d, j in found)
            pixel.detail = self._detail(bands[i], pixel)
            counted = [m for m in (pixel, feature) if m.detail is None or m.detail >= DETAIL_MIN]
            best = min(counted, key=lambda m: m.score)
            out.append(Originality(best.score, best.score < NEAR_COPY, best, pixel, feature))
        return out

    def _detail(self, render_band: Tensor, match: "Match") -> float:
        """Band-pass correlation of a render with its matched training image (mirrored if the match is)."""
        train = band(self.detail_images[match.index][None])[0]
        return detail_correlation(render_band, train.flip(2) if match.flipped else train)

    def _match(self, space: Space, distance: float, row: int) -> "Match":
        index, flipped = row % space.count, row >= space.count
        meta = self.manifest[index] if index < len(self.manifest) else {}
        return Match(space.name, distance, distance / max(space.unit(row), 1e-12), index, flipped,
                     meta.get("id"), meta.get("title"), meta.get("author"))


@dataclass
class Match:
    space: str  # pixel | feature
    distance: float
    score: float  # distance / the collection's typical nearest-neighbour distance in this space
    index: int  # row in the collection
    flipped: bool  # the match is the training image's mirror image
    id: str | None = None
    title: str | None = None
    author: str | None = None
    detail: float | None = None  # pixel space: band-pass correlation with the match (counts if >= DETAIL_MIN)


@dataclass
class Originality:
    score: float  # min of the spaces' scores that count (see DETAIL_MIN); ~1 typical, < NEAR_COPY a near copy
    near_copy: bool
    nearest: Match  # the match that gave the score
    pixel: Match
    feature: Match

    def to_record(self) -> dict[str, Any]:
        """What a render's record stores (rounded: records are for people and diffs)."""
        def m(x: Match) -> dict[str, Any]:
            d = asdict(x)
            d["distance"], d["score"] = round(x.distance, 4), round(x.score, 4)
            if x.detail is None:
                del d["detail"]
            else:
                d["detail"] = round(x.detail, 4)
            return d

        return {"score": round(self.score, 4), "near_copy": self.near_copy, "threshold": NEAR_COPY,
                "detail_min": DETAIL_MIN,
                "nearest": m(self.nearest), "pixel": m(self.pixel), "feature": m(self.feature)}


def summarize(results: list[Originality]) -> dict[str, Any]:
    scores = np.array([r.score for r in results], dtype=np.float64)
    return {"count": len(results), "near_copies": int(sum(r.near_copy for r in results)),
            "threshold": NEAR_COPY, "score_min": float(scores.min()) if len(scores) else None,
            "score_median": float(np.median(scores)) if len(scores) else None}


def run_collection(run: Run) -> Collection:
    """The collection the run was trained on, or one line saying it is gone."""
    path = Path(names.local_path(run.info.get("collection") or ""))
    if not (path / "collection.json").is_file():
        if run.shared:
            raise BelamyError(f"this shared run (belamy export) comes without its collection "
                              f"({names.readable(path.name)}, {run.info.get('collection_count', '?')} images): "
                              f"eval and originality checks need it at {names.readable(str(path))}")
        raise BelamyError(f"the run's collection {names.readable(str(path))} is missing (moved or deleted): restore it there to evaluate")
    return Collection.open(path)


def originality_reference(run: Run, fx: FeatureExtractor) -> Reference:
    """The run's collection prepared for originality checks. Built from the stored images as
    they are (memory-mapped, read in chunks): thumbnails and features resize anyway, so a
    1024 px run over a 256 px collection never upsamples the collection in memory."""
    coll = run_collection(run)
    return Reference.build(coll.images, fx, coll.manifest)


def originality_checker(run: Run) -> Callable[[np.ndarray], list[dict[str, Any]]]:
    """renders (N, H, W, 3) -> one originality entry per render for its record: the nearest
    training image and the score, or why it was skipped (the collection is gone, say)."""
    fx = random_features()
    try:
        ref = originality_reference(run, fx)
    except BelamyError as exc:
        note = {"skipped": str(exc)}
        return lambda imgs: [note] * len(imgs)
    return lambda imgs: [{**r.to_record(), "features": fx.name} for r in ref.check(imgs, fx)]
