"""Pieces of the training step: the EMA update and the gradient guard."""

from __future__ import annotations

import torch
from torch import nn

from belamy.training.ema import update_ema
from belamy.training.phases import _sanitize_grads


def test_update_ema_moves_parameters_and_copies_buffers():
    g, g_ema = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    with torch.no_grad():
        g.weight.fill_(1.0)
        g_ema.weight.fill_(0.0)
        g.running_mean.fill_(5.0)
    update_ema(g_ema, g, beta=0.75)
    torch.testing.assert_close(g_ema.weight, torch.full((3,), 0.25))
    assert torch.equal(g_ema.running_mean, g.running_mean)
    update_ema(g_ema, g, beta=0.0)  # no EMA: an exact copy
    assert torch.equal(g_ema.weight, g.weight)


def test_update_ema_without_buffers():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    update_ema(a, b, beta=0.0)
    assert torch.equal(a.weight, b.weight)


def test_sanitize_grads_replaces_only_non_finite_values():
    p, q = nn.Parameter(torch.zeros(3)), nn.Parameter(torch.zeros(2))
    p.grad = torch.tensor([1.0, float("nan"), float("inf")])
    q.grad = torch.tensor([2.0, -3.0])
    _sanitize_grads([p, q])
    assert p.grad.tolist() == [1.0, 0.0, 1e5]
    assert q.grad.tolist() == [2.0, -3.0]
    ok = torch.tensor([0.5, -0.5, 2.0])
    p.grad = ok.clone()
    _sanitize_grads([p])
    assert torch.equal(p.grad, ok)


def test_reloaded_adam_moments_keep_the_parameter_layout():
    """A fused Adam walks a parameter and its moments in memory order: moments saved contiguous
    must come back in the channels_last layout of their conv weight, or a resumed run updates
    each weight with another element's moments (resume then differs from uninterrupted)."""
    from belamy.training.checkpoint import load_optimizer, optimizer_tensors
    from belamy.training.loop import adam

    def make():
        torch.manual_seed(0)
        conv = nn.Conv2d(3, 4, 3).to(memory_format=torch.channels_last)
        return conv, adam(conv.parameters(), 0.01, (0.0, 0.99), torch.device("cpu"))

    def step(conv, opt, seed):
        torch.manual_seed(seed)
        conv(torch.randn(2, 3, 5, 5).contiguous(memory_format=torch.channels_last)).square().sum().backward()
        opt.step()
        opt.zero_grad()

    straight, opt = make()
    for s in range(3):
        step(straight, opt, s)
    resumed, opt2 = make()
    step(resumed, opt2, 0)
    tensors, meta = optimizer_tensors("opt", opt2)
    assert all(t.is_contiguous() for t in tensors.values())  # saved as plain contiguous tensors
    resumed2, opt3 = make()
    resumed2.load_state_dict(resumed.state_dict())
    load_optimizer(opt3, "opt", tensors, meta)
    moment = opt3.state[resumed2.weight]["exp_avg"]
    assert moment.stride() == resumed2.weight.stride()
    for s in (1, 2):
        step(resumed2, opt3, s)
    assert torch.equal(straight.weight, resumed2.weight)
