"""GAN losses as pure functions of discriminator logits (and, for R1, of the real images).

Conventions: a logit is D's raw output (N,), higher means "real". Every loss returns a scalar
to minimise. `LOSSES[name] = (d_loss, g_loss)` lets a config pick a pair by name.

- logistic (StyleGAN2's default): D minimises softplus(-D(x)) + softplus(D(G(z))), G minimises
  the non-saturating softplus(-D(G(z))).
- bce (DCGAN): binary cross-entropy with targets 1 for real and 0 for fake, G trained with
  target 1. This is *exactly* the logistic pair above (BCE-with-logits(l, 1) = softplus(-l)),
  kept under its own name because that is how the DCGAN paper and the PyTorch example say it.
- hinge (SAGAN, BigGAN): D minimises relu(1 - D(x)) + relu(1 + D(G(z))), G minimises -D(G(z)).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F


def d_logistic_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_nonsaturating_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(-fake_logits).mean()


def d_bce_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    ones, zeros = torch.ones_like(real_logits), torch.zeros_like(fake_logits)
    return (F.binary_cross_entropy_with_logits(real_logits, ones)
            + F.binary_cross_entropy_with_logits(fake_logits, zeros))


def g_bce_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def d_hinge_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def g_hinge_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    return -fake_logits.mean()


LOSSES: dict[str, tuple[Callable[..., torch.Tensor], Callable[..., torch.Tensor]]] = {
    "logistic": (d_logistic_loss, g_nonsaturating_loss),
    "bce": (d_bce_loss, g_bce_loss),
    "hinge": (d_hinge_loss, g_hinge_loss),
}


def get_losses(name: str) -> tuple[Callable[..., torch.Tensor], Callable[..., torch.Tensor]]:
    """(d_loss, g_loss) by name, with a one-line error listing the choices."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of: {', '.join(LOSSES)}") from None


def r1_penalty(real_images: torch.Tensor, real_logits: torch.Tensor) -> torch.Tensor:
    """Per-sample squared gradient norm ||dD(x)/dx||^2 on reals (Mescheder et al. 2018), (N,).

    `real_images` must have had `requires_grad_(True)` before D was called on them (and, if they
    are augmented, before augmentation: the penalty is then on the un-augmented input, as in ADA).
    The graph is kept so the penalty itself can be back-propagated into D.
    """
    (grad,) = torch.autograd.grad(real_logits.sum(), real_images, create_graph=True)
    return grad.square().sum(dim=tuple(range(1, grad.ndim)))


def r1_loss(real_images: torch.Tensor, real_logits: torch.Tensor, gamma: float,
            every: int = 1) -> torch.Tensor:
    """R1 regulariser gamma/2 * E[||grad||^2], scaled by `every` for lazy regularisation.

    StyleGAN2 computes R1 only every `every` D steps (16) and multiplies it by `every` so the
    average strength is unchanged; combine with `lazy_adam` for the optimizer of that phase.
    """
    return r1_penalty(real_images, real_logits).mean() * (gamma / 2.0) * every


def lazy_adam(lr: float, betas: tuple[float, float], every: int
              ) -> tuple[float, tuple[float, float]]:
    """Adam hyper-parameters compensating for a regulariser run every `every` steps.

    With lazy regularisation the optimizer takes `every + 1` steps per `every` main steps;
    StyleGAN2 scales lr and the betas by c = every / (every + 1) to keep the same dynamics.
    `every <= 0` means no regularisation (returns the inputs).
    """
    if every <= 0:
        return lr, betas
    c = every / (every + 1)
    return lr * c, (betas[0] ** c, betas[1] ** c)


__all__ = ["LOSSES", "d_bce_loss", "d_hinge_loss", "d_logistic_loss", "g_bce_loss",
           "g_hinge_loss", "g_nonsaturating_loss", "get_losses", "lazy_adam", "r1_loss",
           "r1_penalty"]
