"""Functions in torch.nn.functional's spelling, on NumPy arrays.

Each call compiles a one-off op (validating attributes, packing the weight),
runs it and frees it; to run the same configuration many times, use the
layers in convpool.layers instead, which compile once.

Types: the library computes in float32. Inputs (and Conv weights and bias)
of another real type (float64, float16, integers, bool) are converted to
float32 first, rounding to nearest as numpy's astype does, so float64 data
loses precision; complex or non-numeric data raises InputTypeError. Results
are float32 arrays (indices int64), new arrays owned by the caller.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from . import layers
from ._errors import InvalidArgumentError, UnsupportedError
from ._ops import as_float_array, as_input, ntuple

IntOrTuple = Union[int, Sequence[int]]
Padding = Union[int, Sequence[int], str]
MaybeIndices = Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]

_TYPES_NOTE = """
    Types: `input` (and any weight or bias) may be any real-valued array-like;
    data that is not float32 is converted to float32 first (float64 rounds to
    the nearest float32, beyond its range to +-inf; complex data raises
    InputTypeError). The result is a new float32 array{indices}.
    An input without the batch dim (C, spatial...) gives a result without it,
    as in PyTorch; a batch of 0 gives an empty result."""


def _types(indices=False):
    """Appends the type rules above to a function's docstring."""
    note = _TYPES_NOTE.format(indices=";\n    with return_indices, also an int64 array of "
                              "positions within each (n, c) plane\n    (-1 for a window "
                              "that holds only padding)" if indices else "")

    def add(fn):
        fn.__doc__ = fn.__doc__.rstrip() + "\n" + note
        return fn
    return add


def _conv(layer_cls, x, weight, bias, stride, padding, dilation, groups):
    with layer_cls.from_weights(weight, bias, stride=stride, padding=padding,
                                dilation=dilation, groups=groups) as layer:
        return layer(x)


@_types()
def conv1d(input: npt.ArrayLike, weight: npt.ArrayLike, bias: Optional[npt.ArrayLike] = None,
           stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1,
           groups: int = 1) -> np.ndarray:
    """torch.nn.functional.conv1d: input (N, C, L) or (C, L), weight
    (out_channels, C/groups, kL), bias (out_channels,) or None; stride and
    dilation an int or a 1-tuple (default 1); padding an int, a 1-tuple,
    'same' or 'valid' (default 0); groups an int dividing C and out_channels.
    Output (N, out_channels, L_out)."""
    return _conv(layers.Conv1d, input, weight, bias, stride, padding, dilation, groups)


@_types()
def conv2d(input: npt.ArrayLike, weight: npt.ArrayLike, bias: Optional[npt.ArrayLike] = None,
           stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1,
           groups: int = 1) -> np.ndarray:
    """torch.nn.functional.conv2d: input (N, C, H, W) or (C, H, W), weight
    (out_channels, C/groups, kH, kW), bias (out_channels,) or None; stride
    and dilation an int or a 2-tuple (default 1); padding an int, a 2-tuple,
    'same' or 'valid' (default 0); groups an int dividing C and out_channels.
    Output (N, out_channels, H_out, W_out)."""
    return _conv(layers.Conv2d, input, weight, bias, stride, padding, dilation, groups)


@_types()
def conv3d(input: npt.ArrayLike, weight: npt.ArrayLike, bias: Optional[npt.ArrayLike] = None,
           stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1,
           groups: int = 1) -> np.ndarray:
    """torch.nn.functional.conv3d: input (N, C, D, H, W) or (C, D, H, W),
    weight (out_channels, C/groups, kD, kH, kW), bias (out_channels,) or
    None; stride, dilation (default 1) and padding (default 0) an int, a
    3-tuple, or for padding 'same' or 'valid'; groups an int dividing C and
    out_channels. Output (N, out_channels, D_out, H_out, W_out)."""
    return _conv(layers.Conv3d, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(layer_cls, x, weight, bias, stride, padding, output_padding, groups,
                    dilation):
    with layer_cls.from_weights(weight, bias, stride=stride, padding=padding,
                                output_padding=output_padding, groups=groups,
                                dilation=dilation) as layer:
        return layer(x)


@_types()
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """torch.nn.functional.conv_transpose1d: input (N, C, L) or (C, L), weight
    (C, out_channels/groups, kL);
    bias (out_channels,) or None; stride, dilation (default 1), padding
    (default 0: ints cropped from both ends of the full output) and
    output_padding (default 0: added at the end, less than the stride or the
    dilation) an int or a 1-tuple; groups an int dividing C and
    out_channels. Output (N, out_channels, L_out) with
    out = (in - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1."""
    return _conv_transpose(layers.ConvTranspose1d, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


@_types()
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """torch.nn.functional.conv_transpose2d: input (N, C, H, W) or (C, H, W),
    weight (C, out_channels/groups, kH, kW);
    bias (out_channels,) or None; stride, dilation (default 1), padding
    (default 0: ints cropped from both ends of the full output) and
    output_padding (default 0: added at the end, less than the stride or the
    dilation) an int or a 2-tuple; groups an int dividing C and
    out_channels. Output (N, out_channels, H_out, W_out) with
    out = (in - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1."""
    return _conv_transpose(layers.ConvTranspose2d, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


@_types()
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """torch.nn.functional.conv_transpose3d: input (N, C, D, H, W) or (C, D, H, W),
    weight (C, out_channels/groups, kD, kH, kW);
    bias (out_channels,) or None; stride, dilation (default 1), padding
    (default 0: ints cropped from both ends of the full output) and
    output_padding (default 0: added at the end, less than the stride or the
    dilation) an int or a 3-tuple; groups an int dividing C and
    out_channels. Output (N, out_channels, D_out, H_out, W_out) with
    out = (in - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1."""
    return _conv_transpose(layers.ConvTranspose3d, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def _run(layer, x):
    with layer:
        return layer(x)


_POOL_ARGS = """kernel_size an int or a {k}-tuple; stride likewise (default None: the
    kernel size); padding an int or a {k}-tuple, at most half the kernel
    (default 0); ceil_mode (default False) rounds the output size up."""


@_types(indices=True)
def max_pool1d(input: npt.ArrayLike, kernel_size: IntOrTuple, stride: Optional[IntOrTuple] = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> MaybeIndices:
    """torch.nn.functional.max_pool1d: input (N, C, L) or (C, L); output
    (N, C, L_out); dilation an int or a 1-tuple (default 1). With
    return_indices, also the position of each max within its (n, c) row, as
    PyTorch gives it (for a window with several NaNs, the last one, as
    PyTorch's CPU kernel)."""
    return _run(layers.MaxPool1d(kernel_size, stride, padding, dilation, return_indices,
                                 ceil_mode), input)


@_types(indices=True)
def max_pool2d(input: npt.ArrayLike, kernel_size: IntOrTuple, stride: Optional[IntOrTuple] = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> MaybeIndices:
    """torch.nn.functional.max_pool2d: input (N, C, H, W) or (C, H, W);
    output (N, C, H_out, W_out); dilation an int or a 2-tuple (default 1).
    With return_indices, also the position of each max within its (n, c)
    plane (h * W + w), as PyTorch (for several NaNs, the last one)."""
    return _run(layers.MaxPool2d(kernel_size, stride, padding, dilation, return_indices,
                                 ceil_mode), input)


@_types(indices=True)
def max_pool3d(input: npt.ArrayLike, kernel_size: IntOrTuple, stride: Optional[IntOrTuple] = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> MaybeIndices:
    """torch.nn.functional.max_pool3d: input (N, C, D, H, W) or (C, D, H, W);
    output (N, C, D_out, H_out, W_out); dilation an int or a 3-tuple
    (default 1). With return_indices, also the position of each max within
    its (n, c) volume ((d * H + h) * W + w; for several NaNs, the last one)."""
    return _run(layers.MaxPool3d(kernel_size, stride, padding, dilation, return_indices,
                                 ceil_mode), input)


@_types()
def avg_pool1d(input: npt.ArrayLike, kernel_size: IntOrTuple, stride: Optional[IntOrTuple] = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> np.ndarray:
    """torch.nn.functional.avg_pool1d (which has no divisor_override): input
    (N, C, L) or (C, L); output (N, C, L_out); count_include_pad (default
    True) counts the zero padding in each window's divisor."""
    return _run(layers.AvgPool1d(kernel_size, stride, padding, ceil_mode, count_include_pad),
                input)


@_types()
def avg_pool2d(input: npt.ArrayLike, kernel_size: IntOrTuple, stride: Optional[IntOrTuple] = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: Optional[int] = None) -> np.ndarray:
    """torch.nn.functional.avg_pool2d: input (N, C, H, W) or (C, H, W);
    output (N, C, H_out, W_out); count_include_pad (default True) counts the
    zero padding in the divisor; divisor_override, a non-zero int, divides
    each window's sum by itself instead."""
    return _run(layers.AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad,
                                 divisor_override), input)


@_types()
def avg_pool3d(input: npt.ArrayLike, kernel_size: IntOrTuple, stride: Optional[IntOrTuple] = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: Optional[int] = None) -> np.ndarray:
    """torch.nn.functional.avg_pool3d: input (N, C, D, H, W) or (C, D, H, W);
    output (N, C, D_out, H_out, W_out); count_include_pad and
    divisor_override as in avg_pool2d."""
    return _run(layers.AvgPool3d(kernel_size, stride, padding, ceil_mode, count_include_pad,
                                 divisor_override), input)


for _fn, _k in ((max_pool1d, 1), (max_pool2d, 2), (max_pool3d, 3), (avg_pool1d, 1),
                (avg_pool2d, 2), (avg_pool3d, 3)):
    _fn.__doc__ = _fn.__doc__.replace("\n\n    Types:",
                                      "\n    " + _POOL_ARGS.format(k=_k) + "\n\n    Types:", 1)


@_types()
def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """torch.nn.functional.lp_pool1d with ONNX LpPool's |x|: (sum |x|^p)^(1/p)
    over each window, p = norm_type a whole number (1..1024). Input (N, C, L)
    or (C, L); kernel_size an int or a 1-tuple; stride likewise (default
    None: the kernel size); ceil_mode (default False) rounds the output size
    up. Output (N, C, L_out)."""
    return _run(layers.LPPool1d(norm_type, kernel_size, stride, ceil_mode), input)


@_types()
def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """torch.nn.functional.lp_pool2d with ONNX LpPool's |x| (see lp_pool1d):
    input (N, C, H, W) or (C, H, W), kernel_size and stride an int or a
    2-tuple; output (N, C, H_out, W_out)."""
    return _run(layers.LPPool2d(norm_type, kernel_size, stride, ceil_mode), input)


@_types()
def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """torch.nn.functional.lp_pool3d with ONNX LpPool's |x| (see lp_pool1d):
    input (N, C, D, H, W) or (C, D, H, W), kernel_size and stride an int or
    a 3-tuple; output (N, C, D_out, H_out, W_out)."""
    return _run(layers.LPPool3d(norm_type, kernel_size, stride, ceil_mode), input)


@_types()
def global_lp_pool(input, p=2):
    """ONNX GlobalLpPool: (sum over each (n, c) plane of |x|^p)^(1/p), p a
    whole number (default 2). Input (N, C, D1..Dk) with k = ndim - 2 in 1..3;
    output (N, C, 1, ..., 1)."""
    x = as_float_array(input, "global_lp_pool")
    return _run(layers.GlobalLpPool(_spatial_rank(x, "global_lp_pool"), p), x)


@_types()
def global_avg_pool(input: npt.ArrayLike) -> np.ndarray:
    """ONNX GlobalAveragePool: the mean of each (n, c) plane. Input
    (N, C, D1..Dk) with k = ndim - 2 in 1..3 (the batch dim is required);
    output (N, C, 1, ..., 1)."""
    x = as_float_array(input, "global_avg_pool")
    return _run(layers.GlobalAvgPool(_spatial_rank(x, "global_avg_pool")), x)


@_types()
def global_max_pool(input: npt.ArrayLike) -> np.ndarray:
    """ONNX GlobalMaxPool: the max of each (n, c) plane. Input (N, C, D1..Dk)
    with k = ndim - 2 in 1..3 (the batch dim is required); output
    (N, C, 1, ..., 1)."""
    x = as_float_array(input, "global_max_pool")
    return _run(layers.GlobalMaxPool(_spatial_rank(x, "global_max_pool")), x)


def _spatial_rank(x, what):
    if x.ndim not in (3, 4, 5):
        raise InvalidArgumentError("%s: expected a 3-D, 4-D or 5-D (N, C, ...) array, got "
                                   "shape %s" % (what, x.shape))
    return x.ndim - 2


def _adaptive_kernel(x, rank, output_size, what):
    """Adaptive pooling to `output_size` is plain pooling with kernel = stride
    = input / output when every input dim is a multiple of its output dim."""
    x, unbatched = as_input(x, rank, what)
    spatial = x.shape[2:]
    out = tuple(s if o is None else o for s, o in
                zip(spatial, _adaptive_size(output_size, rank, what)))
    if any(o < 1 or s % o for s, o in zip(spatial, out)):
        raise UnsupportedError(
            "%s: output_size %s must divide the input size %s (PyTorch's overlapping "
            "adaptive windows are not supported)" % (what, out, spatial))
    kernel = tuple(s // o for s, o in zip(spatial, out))
    return (x[0] if unbatched else x), kernel


def _adaptive_size(output_size, rank, what):
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != rank:
            raise InvalidArgumentError("%s: output_size %r needs %d values" %
                                       (what, output_size, rank))
        return tuple(output_size)
    return ntuple(output_size, rank, "output_size")


def _adaptive_avg(rank, x, output_size):
    what = "adaptive_avg_pool%dd" % rank
    x, kernel = _adaptive_kernel(x, rank, output_size, what)
    if all(k == s for k, s in zip(kernel, x.shape[-rank:])):
        return _run(layers.GlobalAvgPool(rank), x)
    return _run(getattr(layers, "AvgPool%dd" % rank)(kernel), x)


def _adaptive_max(rank, x, output_size, return_indices):
    what = "adaptive_max_pool%dd" % rank
    x, kernel = _adaptive_kernel(x, rank, output_size, what)
    return _run(getattr(layers, "MaxPool%dd" % rank)(kernel, return_indices=return_indices), x)


OutputSize = Union[int, None, Sequence[Optional[int]]]


@_types()
def adaptive_avg_pool1d(input: npt.ArrayLike, output_size: OutputSize) -> np.ndarray:
    """torch.nn.functional.adaptive_avg_pool1d: input (N, C, L) or (C, L),
    output (N, C, output_size), where L is a multiple of output_size
    (output_size 1 is GlobalAveragePool); other sizes raise UnsupportedError."""
    return _adaptive_avg(1, input, output_size)


@_types()
def adaptive_avg_pool2d(input: npt.ArrayLike, output_size: OutputSize) -> np.ndarray:
    """torch.nn.functional.adaptive_avg_pool2d: input (N, C, H, W) or
    (C, H, W), output (N, C, oH, oW), where each input dim is a multiple of
    its output dim (an int for both, or a pair; None keeps that dim);
    other sizes raise UnsupportedError."""
    return _adaptive_avg(2, input, output_size)


@_types()
def adaptive_avg_pool3d(input: npt.ArrayLike, output_size: OutputSize) -> np.ndarray:
    """torch.nn.functional.adaptive_avg_pool3d: input (N, C, D, H, W) or
    (C, D, H, W), output (N, C, oD, oH, oW), each input dim a multiple of its
    output dim."""
    return _adaptive_avg(3, input, output_size)


@_types(indices=True)
def adaptive_max_pool1d(input: npt.ArrayLike, output_size: OutputSize,
                        return_indices: bool = False) -> MaybeIndices:
    """torch.nn.functional.adaptive_max_pool1d: input (N, C, L) or (C, L),
    output (N, C, output_size), L a multiple of output_size."""
    return _adaptive_max(1, input, output_size, return_indices)


@_types(indices=True)
def adaptive_max_pool2d(input: npt.ArrayLike, output_size: OutputSize,
                        return_indices: bool = False) -> MaybeIndices:
    """torch.nn.functional.adaptive_max_pool2d: input (N, C, H, W) or
    (C, H, W), output (N, C, oH, oW), each input dim a multiple of its
    output dim."""
    return _adaptive_max(2, input, output_size, return_indices)


@_types(indices=True)
def adaptive_max_pool3d(input: npt.ArrayLike, output_size: OutputSize,
                        return_indices: bool = False) -> MaybeIndices:
    """torch.nn.functional.adaptive_max_pool3d: input (N, C, D, H, W) or
    (C, D, H, W), output (N, C, oD, oH, oW), each input dim a multiple of its
    output dim."""
    return _adaptive_max(3, input, output_size, return_indices)


def corr2d(X: npt.ArrayLike, K: npt.ArrayLike) -> np.ndarray:
    """D2L's corr2d: the 2-D cross-correlation of a 2-D array X (h, w) with a
    2-D kernel K (kh, kw), "valid": output (h - kh + 1, w - kw + 1).

    Types: X and K may be any real-valued array-likes; data that is not
    float32 is converted to float32 first (float64 rounds to the nearest
    float32; complex data raises InputTypeError). The result is a new
    float32 array."""
    X = as_float_array(X, "corr2d X")
    K = as_float_array(K, "corr2d K")
    if X.ndim != 2 or K.ndim != 2:
        raise InvalidArgumentError("corr2d: X and K must be 2-D, got shapes %s and %s" %
                                   (X.shape, K.shape))
    return conv2d(X[None, None], K[None, None])[0, 0]


__all__ = [
    "conv1d", "conv2d", "conv3d", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d",
    "avg_pool2d", "avg_pool3d", "global_avg_pool", "global_max_pool", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "adaptive_max_pool3d", "corr2d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "lp_pool1d", "lp_pool2d", "lp_pool3d", "global_lp_pool",
]
