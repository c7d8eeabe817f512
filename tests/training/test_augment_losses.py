"""DiffAugment, the adaptive augmentation controller, and the GAN losses."""

from __future__ import annotations

import json

import pytest
import torch

from belamy.training.augment import AdaptiveP, augment, cutout, geometric, translation
from belamy.training.losses import (
    LOSSES,
    d_bce_loss,
    d_hinge_loss,
    d_logistic_loss,
    g_bce_loss,
    g_hinge_loss,
    g_nonsaturating_loss,
    lazy_adam,
    r1_loss,
    r1_penalty,
)


def images(n: int = 8, size: int = 16, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_p_zero_is_identity():
    x = images()
    assert augment(x, 0.0, generator=gen()) is x
    assert torch.equal(augment(x, -3.0, generator=gen()), x)  # clamped to 0


def test_p_one_changes_every_image():
    x = images()
    y = augment(x, 1.0, generator=gen())
    assert y.shape == x.shape
    assert all(not torch.equal(a, b) for a, b in zip(x, y))
    assert torch.equal(augment(x, 7.0, generator=gen()), y)  # clamped to 1


def test_same_seed_same_result_and_different_seed_differs():
    x = images()
    a = augment(x, 0.5, generator=gen(3))
    b = augment(x, 0.5, generator=gen(3))
    c = augment(x, 0.5, generator=gen(4))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_unchosen_samples_pass_through_exactly():
    x = images(64)
    y = augment(x, 0.05, generator=gen(1))
    same = sum(torch.equal(a, b) for a, b in zip(x, y))
    assert 0 < same < 64  # ~ (0.95 ** 5) of them untouched, bit for bit


def test_layout_and_dtype_are_kept_and_choices_do_not_depend_on_dtype():
    x = images()
    cl = x.contiguous(memory_format=torch.channels_last)
    y = augment(cl, 1.0, generator=gen())
    assert y.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(y, augment(x, 1.0, generator=gen()))  # reductions may round apart
    d = augment(x.double(), 0.5, generator=gen())
    assert d.dtype == torch.float64
    torch.testing.assert_close(d.float(), augment(x, 0.5, generator=gen()))


def test_gradients_flow_through_augment():
    x = images().requires_grad_(True)
    augment(x, 1.0, generator=gen()).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_translation_and_cutout_semantics():
    x = torch.ones(16, 1, 16, 16)
    t = translation(x, 1.0, gen())
    assert t.min() == 0 and t.max() == 1  # zero padding entered
    assert (t.sum(dim=(1, 2, 3)) >= 16 * (16 - 4)).all()  # at most 1/8 shift each way
    c = cutout(x, 1.0, gen())
    holes = (c == 0).sum(dim=(1, 2, 3))
    assert (holes > 0).all() and (holes <= 8 * 8).all()


def _centroid(img: torch.Tensor) -> torch.Tensor:
    """(1, H, W) non-negative -> (y, x) centroid relative to the image centre, in pixels."""
    h, w = img.shape[-2:]
    ys = torch.arange(h, dtype=img.dtype) - (h - 1) / 2
    xs = torch.arange(w, dtype=img.dtype) - (w - 1) / 2
    m = img[0].sum()
    return torch.stack([(img[0].sum(1) * ys).sum() / m, (img[0].sum(0) * xs).sum() / m])


def test_geometric_rotates_about_the_centre_and_scales():
    x = torch.zeros(16, 1, 32, 32)
    x[:, :, 6:10, 20:24] = 1.0  # a blob 10.6 px from the centre
    r0 = _centroid(x[0]).norm()
    rot = geometric(x, 1.0, gen(), scale_std=0.0)
    radii = torch.stack([_centroid(img).norm() for img in rot])
    torch.testing.assert_close(radii, torch.full_like(radii, float(r0)), atol=0.3, rtol=0)
    angles = torch.stack([torch.atan2(*_centroid(img)) for img in rot])
    assert angles.max() - angles.min() > 2.0  # really rotated, in both directions
    assert torch.allclose(rot.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)), rtol=0.05)  # mass kept
    # Scaling: a blob near the centre, so that shrinking brings in no reflected copy of it.
    x = torch.zeros(16, 1, 32, 32)
    x[:, :, 11:14, 20:23] = 1.0
    scaled = geometric(x, 1.0, gen(), rotate_max=0.0)
    ratios = []
    for img, out in zip(x, scaled):
        c0, c1 = _centroid(img), _centroid(out)
        ratio = c1.norm() / c0.norm()  # the blob moves radially by the scale factor ...
        assert torch.allclose(c1 / c1.norm(), c0 / c0.norm(), atol=0.05)
        area = out.sum() / img.sum()  # ... and its area grows by its square
        assert abs(float(area) / float(ratio) ** 2 - 1) < 0.15
        ratios.append(float(ratio))
    assert min(ratios) < 0.95 and max(ratios) > 1.05  # 2^N(0, 0.2^2): both ways


def test_geometric_fills_with_reflection_and_is_twice_differentiable():
    flat = torch.full((8, 3, 16, 16), 0.7)
    torch.testing.assert_close(geometric(flat, 1.0, gen()), flat)  # no black corners
    x = images(4, 8).double().requires_grad_(True)
    # Lazy R1 back-propagates a gradient of D's input through the warp a second time.
    assert torch.autograd.gradgradcheck(lambda t: geometric(t, 1.0, gen(2)), (x,))


def test_geometric_keeps_unchosen_samples_and_layout():
    x = images(32, 16).contiguous(memory_format=torch.channels_last)
    y = augment(x, 0.3, "geometric", generator=gen(5))
    assert y.is_contiguous(memory_format=torch.channels_last)
    same = sum(torch.equal(a, b) for a, b in zip(x, y))
    assert 0 < same < 32


def test_policy_errors():
    with pytest.raises(ValueError, match="rotate"):
        augment(images(), 0.5, policy="color,rotate", generator=gen())


def test_adaptive_p_moves_with_overfitting_and_clamps():
    ada = AdaptiveP(target=0.6, speed_images=100, interval=1)
    for _ in range(20):  # D is confident on every real: r_t = 1 > 0.6
        ada.update(torch.full((32,), 5.0))
    assert ada.p == 1.0 and ada.r_t == 1.0
    for _ in range(2):  # D is unsure: r_t = 0 < 0.6 -> p goes down by 32/100 each time
        ada.update(torch.tensor([1.0, -1.0] * 16))
    assert ada.p == pytest.approx(1.0 - 0.64)
    for _ in range(20):
        ada.update(torch.full((32,), -1.0))
    assert ada.p == 0.0


def test_adaptive_p_adjusts_every_interval_and_round_trips():
    ada = AdaptiveP(speed_images=1000, interval=4)
    for _ in range(3):
        ada.update(torch.ones(10))
    assert ada.p == 0.0  # not yet
    ada.update(torch.ones(10))
    assert ada.p == pytest.approx(40 / 1000)
    ada.update(torch.ones(10))
    state = json.loads(json.dumps(ada.state_dict()))
    other = AdaptiveP()
    other.load_state_dict(state)
    for a in (ada, other):
        for _ in range(3):
            a.update(torch.ones(10))
    assert other.p == ada.p == pytest.approx(80 / 1000)


def test_adaptive_p_accumulate_pre_reduced_sums():
    a, b = AdaptiveP(speed_images=1000, interval=2), AdaptiveP(speed_images=1000, interval=2)
    for _ in range(2):
        a.update(torch.tensor([1.0, 1.0, -1.0, 1.0]))
        b.accumulate(torch.tensor(2.0), 4)
    assert a.r_t == b.r_t == 0.5  # below the 0.6 target: p stays clamped at 0
    assert a.p == b.p == 0.0
    for _ in range(2):
        a.update(torch.ones(4))
        b.accumulate(4.0, 4)
    assert a.p == b.p == pytest.approx(8 / 1000)


def real_fake_logits():
    return torch.tensor([3.0, 2.0, 4.0]), torch.tensor([-3.0, -2.0, -4.0])


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_reward_the_right_side(name):
    d_loss, g_loss = LOSSES[name]
    real, fake = real_fake_logits()
    good_d, bad_d = d_loss(real, fake), d_loss(fake, real)
    assert good_d < bad_d  # D is better when reals score high and fakes low
    assert g_loss(real) < g_loss(fake)  # G is better when its fakes score high
    assert good_d.ndim == 0 and g_loss(fake).ndim == 0


def test_bce_equals_logistic():
    real, fake = torch.randn(16), torch.randn(16)
    torch.testing.assert_close(d_bce_loss(real, fake), d_logistic_loss(real, fake))
    torch.testing.assert_close(g_bce_loss(fake), g_nonsaturating_loss(fake))


def test_hinge_values():
    real, fake = real_fake_logits()
    assert d_hinge_loss(real, fake) == 0  # both beyond the margin
    assert g_hinge_loss(fake) == pytest.approx(3.0)


def test_r1_penalty_positive_and_lazy_scaling():
    torch.manual_seed(0)
    D = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.LeakyReLU(0.2),
                            torch.nn.Flatten(), torch.nn.LazyLinear(1))
    x = images(4).requires_grad_(True)
    logits = D(x).squeeze(1)
    pen = r1_penalty(x, logits)
    assert pen.shape == (4,) and (pen > 0).all()
    loss = r1_loss(x, D(x).squeeze(1), gamma=10.0, every=16)
    torch.testing.assert_close(loss, pen.mean() * 5.0 * 16)
    loss.backward()  # differentiable w.r.t. D's weights (create_graph)
    assert D[0].weight.grad is not None and D[0].weight.grad.abs().sum() > 0
    # a D that ignores its input has zero penalty
    zero = r1_penalty(x, (x * 0).sum(dim=(1, 2, 3)))
    assert torch.equal(zero, torch.zeros(4))


def test_lazy_adam():
    lr, betas = lazy_adam(0.002, (0.0, 0.99), every=16)
    assert lr == pytest.approx(0.002 * 16 / 17)
    assert betas == (0.0, pytest.approx(0.99 ** (16 / 17)))
    assert lazy_adam(0.002, (0.5, 0.9), every=0) == (0.002, (0.5, 0.9))
