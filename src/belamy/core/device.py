"""Which device and which precision: decided here, once, for training, sampling and every stage.

'auto' means CUDA, then Apple MPS, then the CPU; the autocast dtype follows the device (bf16 where
the hardware multiplies it natively, fp16 with a grad scaler on older GPUs, float32 otherwise).
"""

from __future__ import annotations

import torch

from belamy.core.errors import BelamyError


def pick_device(preference: str = "auto", local_rank: int = 0) -> torch.device:
    """'auto' picks CUDA, then Apple MPS, then the CPU; or name one ('cpu', 'cuda', 'cuda:1', 'mps')."""
    pref = preference.lower()
    if pref == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if pref.startswith("cuda"):
        if not torch.cuda.is_available():
            raise BelamyError("--device cuda was asked for but no CUDA GPU is visible: use --device cpu or auto")
        if pref == "cuda":
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        return torch.device(pref)
    if pref == "mps":
        if not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
            raise BelamyError("--device mps was asked for but MPS is not available: use --device cpu or auto")
        return torch.device("mps")
    if pref == "cpu":
        return torch.device("cpu")
    raise BelamyError(f"unknown --device '{preference}': use auto, cpu, cuda, cuda:N or mps")


def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AVX512-BF16 or AMX), where oneDNN's bf16
    convolutions run about twice as fast as float32; elsewhere bf16 is emulated and slower."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def pick_amp(preference: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype, or None for float32.

    CUDA: 'auto' is bf16 where supported, else fp16 (with a grad scaler). CPU: 'auto' is bf16 when
    the CPU has native bf16 (faster, and as good per image: decision 0021), float32 otherwise;
    'bf16' forces it. fp16 is CUDA-only, and MPS trains in float32.
    """
    pref = preference.lower()
    if pref not in ("auto", "bf16", "fp16", "off"):
        raise BelamyError(f"unknown --amp '{preference}': use auto, bf16, fp16 or off")
    if pref == "off":
        return None
    if device.type == "cpu" and pref != "fp16":
        return torch.bfloat16 if pref == "bf16" or cpu_has_native_bf16() else None
    if device.type != "cuda":
        if pref == "auto":
            return None
        raise BelamyError(f"--amp {pref} is not supported on {device.type}: use --amp off (or auto)")
    if pref == "fp16":
        return torch.float16
    if pref == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16
