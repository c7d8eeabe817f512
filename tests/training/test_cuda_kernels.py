"""The CUDA kernel choice that makes GPU training repeatable (tests/gpu checks the repeat itself
on a GPU); the switches are torch's global flags, which exist without a GPU."""

from __future__ import annotations

import torch

from belamy.training.config import TrainConfig
from belamy.training.distributed import cuda_kernels


def test_deterministic_by_default_and_autotune_on_request():
    flags = (torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic,
             torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
    try:
        assert TrainConfig().deterministic  # exact resume on a GPU unless asked otherwise
        cuda_kernels(True)
        assert not torch.backends.cudnn.benchmark and torch.backends.cudnn.deterministic
        assert torch.are_deterministic_algorithms_enabled() and torch.is_deterministic_algorithms_warn_only_enabled()
        cuda_kernels(False)  # --set deterministic=false: cuDNN autotunes, runs no longer repeat
        assert torch.backends.cudnn.benchmark and not torch.backends.cudnn.deterministic
        assert not torch.are_deterministic_algorithms_enabled()
    finally:
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = flags[:2]
        torch.use_deterministic_algorithms(flags[2], warn_only=flags[3])
