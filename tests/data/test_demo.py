"""The built-in demo collection: painted portraits that are reproducible, varied and not flat."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from belamy.data import demo
from belamy.data.demo import DEMO_COLLECTIONS, iter_demo, render_portrait
from belamy.core.errors import BelamyError


def _pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.float64)


def test_collections_list_portraits_with_their_default_count() -> None:
    assert DEMO_COLLECTIONS == {"portraits": 300, "figures": 400, "sitter": 200}


def test_same_seed_gives_identical_bytes() -> None:
    assert render_portrait(7, 64).tobytes() == render_portrait(7, 64).tobytes()


def test_same_seed_gives_identical_bytes_in_another_process() -> None:
    code = (
        "import hashlib; from belamy.data.demo import render_portrait; "
        "print(hashlib.sha256(render_portrait(11, 64).tobytes()).hexdigest())"
    )
    src_dir = str(Path(demo.__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONHASHSEED": "123", "PYTHONPATH": src_dir}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == hashlib.sha256(render_portrait(11, 64).tobytes()).hexdigest()


def test_different_seeds_give_different_portraits() -> None:
    a, b, c = (_pixels(render_portrait(seed, 64)) for seed in (1, 2, -1))
    assert np.abs(a - b).mean() > 5
    assert np.abs(a - c).mean() > 5  # negative seeds are distinct, not folded onto positive ones


@pytest.mark.parametrize("size", [64, 256])
def test_size_and_mode(size: int) -> None:
    img = render_portrait(3, size)
    assert img.mode == "RGB"
    assert img.size == (size, size)


def test_iter_demo_names_images_and_is_reproducible() -> None:
    first = list(iter_demo("portraits", count=3, size=64))
    assert [name for name, _ in first] == ["portrait-0000", "portrait-0001", "portrait-0002"]
    again = list(iter_demo("portraits", count=2, size=64))
    for (name_a, a), (name_b, b) in zip(first, again):
        assert name_a == name_b
        assert a.tobytes() == b.tobytes()  # a shorter run starts with the same images
    assert first[0][1].tobytes() != first[1][1].tobytes()
    _, other = next(iter(iter_demo("portraits", count=1, seed=1, size=64)))
    assert other.tobytes() != first[0][1].tobytes()


def test_iter_demo_defaults_to_the_collection_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "render_portrait", lambda seed, size: seed)  # skip the painting
    names = [name for name, _ in iter_demo("portraits")]
    assert len(names) == 300
    assert names[-1] == "portrait-0299"
    assert len(list(iter_demo("portraits", count=0))) == 0


def test_portraits_vary_in_colour() -> None:
    images = [img for _, img in iter_demo("portraits", count=20, size=64)]
    means = np.array([_pixels(img).mean(axis=(0, 1)) for img in images])
    assert means.std(axis=0).max() > 5  # per-channel spread of the mean colours (0-255 scale)
    assert means.mean(axis=1).std() > 3  # and of their brightness


def test_portraits_are_not_flat() -> None:
    size = 64
    for _, img in iter_demo("portraits", count=8, size=size):
        px = _pixels(img)
        assert px.std() > 12
        centre = px[int(size * 0.3):int(size * 0.6), int(size * 0.35):int(size * 0.65)]
        k = size // 8
        corners = np.concatenate([px[:k, :k], px[:k, -k:], px[-k:, :k], px[-k:, -k:]])
        assert np.abs(centre.mean(axis=(0, 1)) - corners.mean(axis=(0, 1))).max() > 5


def test_unknown_collection_is_one_line_listing_the_names() -> None:
    with pytest.raises(BelamyError) as err:
        iter_demo("landscapes")  # raised at the call, before any painting
    message = str(err.value)
    assert "\n" not in message
    assert "landscapes" in message
    assert all(name in message for name in DEMO_COLLECTIONS)


@pytest.mark.parametrize("kwargs", [{"count": -1}, {"size": 8}])
def test_bad_count_or_size_is_a_belamy_error(kwargs: dict[str, int]) -> None:
    with pytest.raises(BelamyError):
        iter_demo("portraits", **kwargs)
    if "size" in kwargs:
        with pytest.raises(BelamyError):
            render_portrait(0, kwargs["size"])


def test_sitter_collection_is_reproducible_and_named_sittings() -> None:
    first = list(iter_demo("sitter", count=3, size=64))
    assert [name for name, _ in first] == ["sitting-0000", "sitting-0001", "sitting-0002"]
    again = list(iter_demo("sitter", count=3, size=64))
    assert [im.tobytes() for _, im in first] == [im.tobytes() for _, im in again]
    assert first[0][1].tobytes() != first[1][1].tobytes()


def test_sitter_collection_is_one_person_in_different_sittings() -> None:
    from dataclasses import asdict

    sittings = [demo._sample_sitting(demo._rng(demo._image_seed(0, i))) for i in range(12)]
    person = demo._person()
    for s in sittings:  # the likeness never changes
        assert s.face == person.face
        assert (s.head.rx, s.head.ry) == (person.head.rx, person.head.ry)
        for key in ("skin", "hair", "eye"):
            assert np.array_equal(getattr(s, key), getattr(person, key))
        assert (s.hair_style, s.hair_length, s.jaw_square, s.jaw_taper, s.brow, s.beard) == (
            person.hair_style, person.hair_length, person.jaw_square, person.jaw_taper, person.brow, person.beard)
        assert abs(s.head.turn) <= 0.4 and abs(s.head.tilt) <= 0.14
    # while the sittings differ: pose, light, setting, clothes
    assert len({round(s.head.turn, 6) for s in sittings}) > 6
    assert {s.light for s in sittings} == {-1.0, 1.0}
    assert len({s.background for s in sittings}) > 1
    assert len({tuple(np.round(s.cloth, 6)) for s in sittings}) > 6
    assert asdict(sittings[0]) != asdict(sittings[1])
    images = [_pixels(img) for _, img in iter_demo("sitter", count=8, size=64)]
    assert min(np.abs(a - b).mean() for a, b in zip(images, images[1:])) > 3


def test_sitter_is_drawn_from_its_own_seed_not_from_the_portraits() -> None:
    portraits = [img.tobytes() for _, img in iter_demo("portraits", count=2, size=64)]
    sittings = [img.tobytes() for _, img in iter_demo("sitter", count=2, size=64)]
    assert not set(portraits) & set(sittings)
