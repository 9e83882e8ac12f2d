"""Functions in torch.nn.functional's spelling, on NumPy arrays.

Each call compiles a one-off op (validating attributes, packing the weight),
runs it and frees it; to run the same configuration many times, use the
layers in convpool.layers instead, which compile once.
"""
import math

from . import layers
from ._errors import InvalidArgumentError, UnsupportedError
from ._ops import as_float_array, as_input, ntuple


def _conv(layer_cls, x, weight, bias, stride, padding, dilation, groups):
    with layer_cls.from_weights(weight, bias, stride=stride, padding=padding,
                                dilation=dilation, groups=groups) as layer:
        return layer(x)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv1d: input (N, C, L) or (C, L), weight
    (out_channels, C/groups, kL), padding an int, a tuple, 'same' or 'valid'."""
    return _conv(layers.Conv1d, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv2d: input (N, C, H, W) or (C, H, W), weight
    (out_channels, C/groups, kH, kW), padding an int, a tuple, 'same' or
    'valid'."""
    return _conv(layers.Conv2d, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv3d: input (N, C, D, H, W) or (C, D, H, W)."""
    return _conv(layers.Conv3d, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(layer_cls, x, weight, bias, stride, padding, output_padding, groups,
                    dilation):
    with layer_cls.from_weights(weight, bias, stride=stride, padding=padding,
                                output_padding=output_padding, groups=groups,
                                dilation=dilation) as layer:
        return layer(x)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """torch.nn.functional.conv_transpose1d: input (N, C, L) or (C, L), weight
    (C, out_channels/groups, kL)."""
    return _conv_transpose(layers.ConvTranspose1d, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """torch.nn.functional.conv_transpose2d: input (N, C, H, W) or (C, H, W),
    weight (C, out_channels/groups, kH, kW)."""
    return _conv_transpose(layers.ConvTranspose2d, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """torch.nn.functional.conv_transpose3d: input (N, C, D, H, W) or (C, D, H, W)."""
    return _conv_transpose(layers.ConvTranspose3d, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def _run(layer, x):
    with layer:
        return layer(x)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """torch.nn.functional.max_pool1d; with return_indices, also the int64
    position of each max within its (n, c) row, as PyTorch gives it."""
    return _run(layers.MaxPool1d(kernel_size, stride, padding, dilation, return_indices,
                                 ceil_mode), input)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """torch.nn.functional.max_pool2d; with return_indices, also the int64
    position of each max within its (n, c) plane (h * W + w), as PyTorch."""
    return _run(layers.MaxPool2d(kernel_size, stride, padding, dilation, return_indices,
                                 ceil_mode), input)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """torch.nn.functional.max_pool3d (indices within each (n, c) volume)."""
    return _run(layers.MaxPool3d(kernel_size, stride, padding, dilation, return_indices,
                                 ceil_mode), input)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """torch.nn.functional.avg_pool1d (which has no divisor_override)."""
    return _run(layers.AvgPool1d(kernel_size, stride, padding, ceil_mode, count_include_pad),
                input)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """torch.nn.functional.avg_pool2d."""
    return _run(layers.AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad,
                                 divisor_override), input)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """torch.nn.functional.avg_pool3d."""
    return _run(layers.AvgPool3d(kernel_size, stride, padding, ceil_mode, count_include_pad,
                                 divisor_override), input)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """torch.nn.functional.lp_pool1d with ONNX LpPool's |x|: (sum |x|^p)^(1/p)
    over each window, p = norm_type a whole number."""
    return _run(layers.LPPool1d(norm_type, kernel_size, stride, ceil_mode), input)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """torch.nn.functional.lp_pool2d with ONNX LpPool's |x| (see lp_pool1d)."""
    return _run(layers.LPPool2d(norm_type, kernel_size, stride, ceil_mode), input)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """torch.nn.functional.lp_pool3d with ONNX LpPool's |x| (see lp_pool1d)."""
    return _run(layers.LPPool3d(norm_type, kernel_size, stride, ceil_mode), input)


def global_lp_pool(input, p=2):
    """ONNX GlobalLpPool: (sum over each (n, c) of |x|^p)^(1/p), output
    (N, C, 1..1)."""
    x = as_float_array(input, "global_lp_pool")
    return _run(layers.GlobalLpPool(_spatial_rank(x, "global_lp_pool"), p), x)


def global_avg_pool(input):
    """ONNX GlobalAveragePool: (N, C, D1..Dk) -> (N, C, 1..1), k = ndim - 2."""
    x = as_float_array(input, "global_avg_pool")
    return _run(layers.GlobalAvgPool(_spatial_rank(x, "global_avg_pool")), x)


def global_max_pool(input):
    """ONNX GlobalMaxPool: (N, C, D1..Dk) -> (N, C, 1..1), k = ndim - 2."""
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


def adaptive_avg_pool1d(input, output_size):
    """torch.nn.functional.adaptive_avg_pool1d where the length is a multiple
    of output_size (output_size 1 is GlobalAveragePool)."""
    return _adaptive_avg(1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """torch.nn.functional.adaptive_avg_pool2d where each input dim is a
    multiple of its output dim (output_size 1 is GlobalAveragePool)."""
    return _adaptive_avg(2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """torch.nn.functional.adaptive_avg_pool3d (input dims multiples of the
    output dims)."""
    return _adaptive_avg(3, input, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """torch.nn.functional.adaptive_max_pool1d (length a multiple of output_size)."""
    return _adaptive_max(1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """torch.nn.functional.adaptive_max_pool2d (input dims multiples of the
    output dims)."""
    return _adaptive_max(2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """torch.nn.functional.adaptive_max_pool3d (input dims multiples of the
    output dims)."""
    return _adaptive_max(3, input, output_size, return_indices)


def corr2d(X, K):
    """D2L's corr2d: the 2-D cross-correlation of a 2-D array X with a 2-D
    kernel K ("valid": output (h - kh + 1, w - kw + 1))."""
    X = as_float_array(X, "corr2d X")
    K = as_float_array(K, "corr2d K")
    if X.ndim != 2 or K.ndim != 2:
        raise InvalidArgumentError("corr2d: X and K must be 2-D, got shapes %s and %s" %
                                   (X.shape, K.shape))
    return conv2d(X[None, None], K[None, None])[0, 0]


__all__ = [name for name in dir() if not name.startswith("_") and name != "math"
           and callable(globals()[name]) and name not in ("as_float_array", "as_input",
                                                          "ntuple", "layers")]
