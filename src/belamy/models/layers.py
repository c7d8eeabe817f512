"""Layers shared by the architectures: equalized learning rate, modulated conv, resampling,
minibatch-stddev and noise injection.

Everything here is plain `torch.nn.functional`, chosen for speed on a 2-core CPU as much as on a
GPU: no custom kernels, and no batch-grouped convolutions (the only grouped conv is the fixed
depthwise blur of the upsampling layers). The modulated convolution is the *non-fused* form of
StyleGAN2 (scale activations by the style, one ordinary convolution shared by the whole batch,
then demodulate the output per sample and channel). It is mathematically the same as modulating
the weights, but runs as a single dense conv, which is what oneDNN/cuDNN are fast at.

Memory format: layers keep whatever layout comes in. On CPU, `channels_last` for the modules and
their inputs makes the default's training step faster (decision 0008); mixing layouts is several times slower than either, so convert models and real batch together.

Activation gain convention. StyleGAN multiplies every leaky-ReLU output by sqrt(2) to keep
magnitudes near 1. On a CPU that multiply is a full pass over the biggest tensors, so here a layer
with `activation="lrelu"` returns the leaky ReLU *without* the gain and the layer that consumes it
takes `input_gain=LRELU_GAIN`, which is folded into its (tiny) weight or style scaling. The
network computes exactly the same function; only the intermediate tensors are 1/sqrt(2) smaller.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)  # keeps activation magnitude ~1 after a leaky ReLU (He et al.)


def pixel_norm(x: torch.Tensor, dim: int = 1, eps: float = 1e-8) -> torch.Tensor:
    """Normalise each vector to unit RMS (StyleGAN's input normalisation of z)."""
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()


def _check_activation(activation: str) -> None:
    if activation not in ("linear", "lrelu"):
        raise ValueError(f"unknown activation {activation!r}")


class EqualLinear(nn.Module):
    """Linear layer with equalized learning rate (Karras et al. 2018).

    Weights are stored as N(0, 1/lr_mult^2) and scaled at run time by lr_mult/sqrt(fan_in), so
    Adam's per-parameter step size is the same for every layer regardless of fan-in, and
    `lr_mult` slows a whole layer down (the mapping network uses 0.01). `activation="lrelu"`
    leaves its sqrt(2) gain to the consumer (see module docstring).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        bias_init: float = 0.0,
        lr_mult: float = 1.0,
        activation: str = "linear",
        input_gain: float = 1.0,
    ) -> None:
        super().__init__()
        _check_activation(activation)
        self.in_features, self.out_features = in_features, out_features
        self.activation = activation
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mult)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init))) if bias else None
        self.weight_gain = input_gain * lr_mult / math.sqrt(in_features)
        self.bias_gain = lr_mult

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight * self.weight_gain
        b = self.bias * self.bias_gain if self.bias is not None else None
        x = F.linear(x, w, b)
        return F.leaky_relu(x, LRELU_SLOPE) if self.activation == "lrelu" else x

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, activation={self.activation}"


class EqualConv2d(nn.Module):
    """Conv2d with equalized learning rate, optional 2x box downsampling before the conv.

    `down=True` average-pools first and convolves at the lower resolution: the same cost as a
    stride-2 convolution, but anti-aliased (StyleGAN2 blurs before its strided conv for the same
    reason). `stride=2` with `kernel_size=4` is DCGAN's overlapping strided conv (R -> R/2).
    Padding keeps the output at input/stride. `activation="lrelu"` leaves its sqrt(2) gain to the
    consumer (module docstring).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        bias: bool = True,
        activation: str = "linear",
        down: bool = False,
        input_gain: float = 1.0,
        stride: int = 1,
    ) -> None:
        super().__init__()
        _check_activation(activation)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.activation, self.down = kernel_size, activation, down
        if (kernel_size - stride) % 2:
            raise ValueError(f"kernel {kernel_size} with stride {stride} cannot keep the output at "
                             "input/stride")
        self.stride, self.padding = stride, (kernel_size - stride) // 2  # output = input / stride
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = input_gain / math.sqrt(in_channels * kernel_size * kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.down:
            x = downsample2x(x)
        x = F.conv2d(x, self.weight * self.weight_gain, self.bias, stride=self.stride, padding=self.padding)
        # In place: the conv's backward needs its input and weight, not its output.
        return F.leaky_relu_(x, LRELU_SLOPE) if self.activation == "lrelu" else x

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, k={self.kernel_size}, "
                f"activation={self.activation}, down={self.down}"
                + (f", stride={self.stride}" if self.stride != 1 else ""))


def upsample2x(x: torch.Tensor) -> torch.Tensor:
    """2x bilinear upsampling; equals zero-insertion + the [1,3,3,1] filter StyleGAN2 uses."""
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)


def downsample2x(x: torch.Tensor) -> torch.Tensor:
    """2x box-filter downsampling (cheap anti-aliasing)."""
    return F.avg_pool2d(x, 2)


BLUR_TAPS = (1.0, 3.0, 3.0, 1.0)  # StyleGAN2's 1-D low-pass; with 2x zero insertion, bilinear upsampling


def blur_kernel(channels: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Depthwise [1,3,3,1] x [1,3,3,1] / 64 filter, shape (channels, 1, 4, 4)."""
    k = torch.tensor(BLUR_TAPS, dtype=dtype)
    return (k[:, None] * k[None, :] / k.sum() ** 2).expand(channels, 1, 4, 4).contiguous()


def blur_upsampled(x: torch.Tensor, kernel: torch.Tensor | None = None) -> torch.Tensor:
    """The [1,3,3,1] low-pass StyleGAN2 applies after a stride-2 transposed 3x3 conv.

    x: (N, C, 2H+1, 2W+1), the output of a padding-0 transposed 3x3 conv -> (N, C, 2H, 2W).
    The odd/even pixels of a transposed conv receive different numbers of kernel taps, which
    shows up as a checkerboard; this filter (zero at the Nyquist frequency) removes it, and
    together with the zero insertion it is exactly bilinear upsampling, so features stay aligned
    with the bilinear RGB skip path. It runs as a depthwise conv with a fixed kernel: measured
    faster on CPU than stride-1 pooling or a separable pair, and cheap next to the dense conv.
    """
    c = x.shape[1]
    if kernel is None:
        kernel = blur_kernel(c, x.dtype).to(x.device)
    return F.conv2d(x, kernel, padding=1, groups=c)


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    demodulate: bool = True,
    up: bool = False,
    input_gain: float = 1.0,
    add: torch.Tensor | None = None,
    blur: torch.Tensor | None = None,
) -> torch.Tensor:
    """StyleGAN2 modulated convolution, non-fused form.

    x: (N, Cin, H, W); weight: (Cout, Cin, k, k), already scaled by its equalized-lr gain;
    styles: (N, Cin). Returns (N, Cout, H, W), or (N, Cout, 2H, 2W) with `up`.

    Per-sample weights w'_{n,o,i} = w_{o,i} * s_{n,i} (then /||w'_{n,o}|| with demodulation) are
    never materialised: scaling the input channels by s and the output channels by the
    demodulation coefficient gives the same result with one dense convolution.
    `input_gain` is a constant folded into the input scaling (the previous layer's leaky-ReLU
    gain) without affecting demodulation. `add` (broadcastable, e.g. noise (N,1,H,W)) is added
    after demodulation in the same pass.

    With `up`, the conv runs as StyleGAN2's stride-2 transposed 3x3 conv at the *input*
    resolution followed by the [1,3,3,1] blur (`blur_upsampled`; `blur` is its cached kernel):
    the same function as bilinear-upsample-then-3x3-conv (kernel flipped) for a quarter of the
    multiply-adds.
    """
    n, cin = styles.shape
    s = styles if input_gain == 1.0 else styles * input_gain
    # Element-wise work stays in x's dtype: under CPU/GPU autocast the convs return bf16, and a
    # float32 style, demodulation or noise would promote every full-size tensor back to float32
    # (twice the memory traffic, plus a cast before each conv).
    x = x * s.reshape(n, cin, 1, 1).to(x.dtype)
    out_gain = 1.0
    if up:
        # (N,Cin,H,W) -> transposed 3x3, stride 2, no padding -> (N,Cout,2H+1,2W+1) -> blur
        x = blur_upsampled(F.conv_transpose2d(x, weight.transpose(0, 1), stride=2), blur)
        out_gain = 4.0  # zero insertion keeps 1 pixel in 4; the blur filter sums to 1
    else:
        x = F.conv2d(x, weight, padding=weight.shape[-1] // 2)
    if demodulate:
        # sum_{i,kh,kw} (w_{o,i,kh,kw} s_{n,i})^2 = s^2 @ (w^2 summed over taps)^T -> (N, Cout)
        d = (styles.square() @ weight.square().sum(dim=(2, 3)).t() + 1e-8).rsqrt()
        d = (d * out_gain).reshape(n, -1, 1, 1).to(x.dtype)
        return x * d if add is None else torch.addcmul(add.to(x.dtype), x, d)
    if out_gain != 1.0:
        x = x * out_gain
    return x if add is None else x + add


class ModulatedConv(nn.Module):
    """A style-modulated 3x3 conv layer: affine(w) -> styles, modulated conv, noise, bias, lrelu.

    The leaky ReLU output is returned *without* its sqrt(2) gain (module docstring); consumers
    pass `input_gain=LRELU_GAIN`. With `glu=True` (FastGAN's gating) the conv makes
    2 x `out_channels` maps and a gated linear unit halves them instead of the leaky ReLU.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        up: bool = False,
        use_noise: bool = True,
        input_gain: float = 1.0,
        glu: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.resolution, self.up, self.use_noise = resolution, up, use_noise
        self.input_gain, self.glu = input_gain, glu
        conv_channels = out_channels * (2 if glu else 1)
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(conv_channels, in_channels, 3, 3))
        # Demodulation makes the output independent of this gain; it only sets the scale Adam
        # sees, like equalized lr elsewhere.
        self.weight_gain = 1.0 / math.sqrt(in_channels * 9)
        self.bias = nn.Parameter(torch.zeros(conv_channels))
        if up:  # a constant, rebuilt from code: not saved with the weights
            self.register_buffer("blur", blur_kernel(conv_channels), persistent=False)
        else:
            self.blur = None
        if use_noise:
            self.noise = NoiseInjection(resolution)

    def forward(
        self,
        x: torch.Tensor,
        w: torch.Tensor,
        noise_mode: str = "const",
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        styles = self.affine(w)  # (N, Cin)
        noise = None
        if self.use_noise:
            n = x.shape[0]
            noise = self.noise.sample(n, x.dtype, x.device, noise_mode, generator)  # (N|1,1,H,W)
        x = modulated_conv2d(
            x, self.weight * self.weight_gain, styles, demodulate=True, up=self.up,
            input_gain=self.input_gain, add=noise, blur=self.blur,
        )  # (N, Cout, res, res), a fresh tensor: safe to update in place below
        # The bias in x's dtype: under autocast an in-place add of a float32 bias into a bf16
        # channels_last tensor takes PyTorch's mixed-dtype path (a float32 copy of x, the add, a
        # copy back): 0.9 ms instead of 0.07 at 32 px, batch 16, 6% of the CPU training step.
        x = x.add_(self.bias.to(x.dtype).reshape(1, -1, 1, 1))
        if self.glu:  # by hand: F.glu is 3x slower on channels_last tensors (torch 2.13, CPU)
            content, gate = x.chunk(2, dim=1)
            return content * torch.sigmoid(gate)
        return F.leaky_relu_(x, LRELU_SLOPE)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, res={self.resolution}, up={self.up}, "
                f"noise={self.use_noise}" + (", glu" if self.glu else ""))


class ToRGB(nn.Module):
    """1x1 modulated conv to image channels, no demodulation (StyleGAN2's tRGB).

    With `up`, RGB at twice the features' resolution, used where no feature maps exist at the top
    resolution (`ModelConfig.top` "light"): a 3x3 modulated up-conv (transposed conv + blur, see
    `modulated_conv2d`).
    """

    def __init__(self, in_channels: int, out_channels: int, w_dim: int,
                 input_gain: float = 1.0, up: bool = False) -> None:
        super().__init__()
        self.input_gain, self.up = input_gain, up
        k = 3 if up else 1
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, k, k))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = 1.0 / math.sqrt(in_channels * k * k)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # (N, Cin)
        x = modulated_conv2d(x, self.weight * self.weight_gain, styles, demodulate=False,
                             up=self.up, input_gain=self.input_gain)
        return x + self.bias.reshape(1, -1, 1, 1)  # (N, 3, res, res) or 2x with up


NOISE_MODES = ("const", "random", "none")


def check_synthesis_inputs(ws: torch.Tensor, num_ws: int, w_dim: int, noise_mode: str) -> None:
    """A synthesis network's inputs, checked the same way by every architecture."""
    if noise_mode not in NOISE_MODES:
        raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
    if ws.ndim != 3 or ws.shape[1] != num_ws or ws.shape[2] != w_dim:
        raise ValueError(f"ws must have shape (N, {num_ws}, {w_dim}), got {tuple(ws.shape)}")


class NoiseInjection(nn.Module):
    """Per-pixel Gaussian noise, scaled by a learned per-layer strength (init 0).

    "const" uses a fixed buffer drawn at construction (saved with the weights), so rendering a
    seed is deterministic; "random" draws fresh noise from `generator` (the global RNG when None);
    "none" adds nothing.
    """

    def __init__(self, resolution: int) -> None:
        super().__init__()
        self.resolution = resolution
        self.strength = nn.Parameter(torch.zeros([]))
        self.register_buffer("noise_const", torch.randn(1, 1, resolution, resolution))

    def sample(self, n: int, dtype: torch.dtype, device: torch.device, noise_mode: str,
               generator: torch.Generator | None) -> torch.Tensor | None:
        """The scaled noise to add, (N|1, 1, res, res), or None for "none"."""
        if noise_mode == "none":
            return None
        if noise_mode == "const":
            noise = self.noise_const
        elif noise_mode == "random":
            r = self.resolution
            noise = torch.randn(n, 1, r, r, generator=generator, device=device, dtype=dtype)
        else:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        return noise * self.strength

    def forward(self, x: torch.Tensor, noise_mode: str = "const",
                generator: torch.Generator | None = None) -> torch.Tensor:
        noise = self.sample(x.shape[0], x.dtype, x.device, noise_mode, generator)
        return x if noise is None else x + noise


def minibatch_stddev(x: torch.Tensor, group_size: int, num_channels: int = 1) -> torch.Tensor:
    """Append the per-group feature standard deviation as extra channels (Karras et al. 2018).

    Lets D see batch-level statistics so it can penalise a generator that collapses to a few
    outputs. x: (N, C, H, W) -> (N, C + num_channels, H, W). Samples i, i+N/G, i+2N/G, ... form a
    group; when N is not a multiple of `group_size` the largest group size that divides N is used.
    """
    n, c, h, w = x.shape
    g = max(1, min(group_size, n))
    while n % g:
        g -= 1
    f = num_channels
    y = x.reshape(g, -1, f, c // f, h, w)  # (G, N/G, F, C/F, H, W)
    y = y - y.mean(dim=0)
    y = (y.square().mean(dim=0) + 1e-8).sqrt()  # (N/G, F, C/F, H, W)
    y = y.mean(dim=(2, 3, 4))  # (N/G, F)
    y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w)  # (N, F, H, W)
    return torch.cat([x, y], dim=1)
