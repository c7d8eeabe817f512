"""Near-duplicate detection: re-encodes and resizes are caught, different sitters are not."""

from __future__ import annotations

import io

from belamy.data.decode import DecodeOptions, decode
from belamy.data.dedupe import NearIndex
from belamy.data.demo import iter_demo


def _decoded(im, fmt="PNG", size=None, **kw):
    buf = io.BytesIO()
    (im.resize((size, size)) if size else im).save(buf, format=fmt, **kw)
    return decode(buf.getvalue(), DecodeOptions(size=64))


def test_reencodes_found_and_distinct_portraits_kept():
    portraits = list(iter_demo("portraits", count=40, size=128))
    index = NearIndex()
    for ident, im in portraits:
        d = _decoded(im)
        hit = index.nearest((d.phash, d.dhash), d.colors)
        # portraits share a genre layout (centred head, dark ground) but none is a duplicate
        assert hit is None or hit[1] > 6, (ident, hit)
        index.add((d.phash, d.dhash), d.colors, ident)
    for ident, im in portraits[::4]:
        d = _decoded(im, "JPEG", size=200, quality=70)
        hit = index.nearest((d.phash, d.dhash), d.colors)
        assert hit is not None and hit[0] == ident and hit[1] <= 6
