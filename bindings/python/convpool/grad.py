"""Gradients of the ops, in torch.nn.grad's spelling, on NumPy arrays.

Conv (as torch.nn.grad):

    conv1d_input / conv2d_input / conv3d_input(input_size, weight, grad_output,
        stride=1, padding=0, dilation=1, groups=1)           -> grad_input
    conv1d_weight / conv2d_weight / conv3d_weight(input, weight_size,
        grad_output, stride=1, padding=0, dilation=1, groups=1, *, bias=False)
                                      -> grad_weight, or (grad_weight, grad_bias)

Pools (torch has no public spelling; these follow ATen's *_backward order,
grad_output first, then the forward input and the forward arguments):

    max_pool{1,2,3}d_backward(grad_output, input, kernel_size, stride=None,
        padding=0, dilation=1, ceil_mode=False, indices=None)
    avg_pool{1,2,3}d_backward(grad_output, input, kernel_size, stride=None,
        padding=0, ceil_mode=False, count_include_pad=True[, divisor_override])
    lp_pool{1,2,3}d_backward(grad_output, input, norm_type, kernel_size,
        stride=None, ceil_mode=False)
    global_avg_pool_backward(grad_output, input)
    global_max_pool_backward(grad_output, input)
    global_lp_pool_backward(grad_output, input, p=2)

Every argument means what it means to the forward function of the same name
in convpool.functional (padding may be 'same', 'valid', or for Conv also k
(begin, end) pairs). grad_output is dL/d(output) and must have exactly the
forward output's shape (ShapeMismatchError otherwise); the result is a new
float32 array, dL/d(input) of the input's shape, or dL/d(weight) (and
dL/d(bias), the sum of grad_output over the batch and positions). Where only
the input's shape matters (conv*_input; avg pools; max pools given indices)
`input`/`input_size` may be the shape alone; input_size of a conv may also be
just the spatial size, as in torch.nn.grad. The max pools' `indices` are the
per-plane positions return_indices gives; without them the maximum is found
again in `input` (the first one in window order).

Each call builds a one-off op and frees it; to train a layer over many steps
use the layers' backward() (convpool.layers), which keep their op.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from . import layers
from ._errors import InvalidArgumentError
from ._ops import as_float_array, as_input, whole

IntOrTuple = Union[int, Sequence[int]]
Padding = Union[int, Sequence[int], str, Sequence[Sequence[int]]]
ShapeOrArray = Union[npt.ArrayLike, Sequence[int]]


def _shape(value, what):
    """`value` as a shape (a tuple of ints >= 0) if it is one, else None."""
    if isinstance(value, (tuple, list)) and value and \
            all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        return tuple(whole(v, what, 0) for v in value)
    return None


def _conv_input_shape(input_size, rank, grad_output, weight, groups, what):
    """The batched input shape from torch.nn.grad's input_size: the whole
    (N, C, D1..Dk) shape, or just (D1..Dk), N and C then coming from
    grad_output and the weight."""
    shape = _shape(input_size, "input_size")
    if shape is not None and len(shape) == rank + 2:
        return shape
    if shape is not None and len(shape) == rank:
        return (grad_output.shape[0], weight.shape[1] * whole(groups, "groups", 1)) + shape
    raise InvalidArgumentError("%s: input_size = %r: expected %d ints (N, C, %s) or %d (%s)" %
                               (what, input_size, rank + 2, "spatial", rank, "spatial"))


def _conv_input(layer_cls, input_size, weight, grad_output, stride, padding, dilation, groups):
    rank = layer_cls._rank
    what = "conv%dd_input" % rank
    weight = as_float_array(weight, what + " weight")
    grad_output = as_float_array(grad_output, what + " grad_output")
    shape = _conv_input_shape(input_size, rank, grad_output, weight, groups, what)
    with layer_cls.from_weights(weight, None, stride, padding, dilation, groups,
                                training=True) as layer:
        return layer._backward_data(shape, layer._grad_output(grad_output, shape, False, what))


def _conv_weight(layer_cls, input, weight_size, grad_output, stride, padding, dilation, groups,
                 bias):
    rank = layer_cls._rank
    what = "conv%dd_weight" % rank
    size = _shape(weight_size, "weight_size")
    if size is None or len(size) != rank + 2:
        raise InvalidArgumentError("%s: weight_size = %r: expected %d ints (out_channels, "
                                   "in_channels/groups, kernel...)" % (what, weight_size,
                                                                       rank + 2))
    x, unbatched = as_input(input, rank, what + " input")
    # The weight's values do not enter its gradient: the op is built from zeros.
    with layer_cls.from_weights(np.zeros(size, dtype=np.float32), None, stride, padding,
                                dilation, groups) as layer:
        dy = layer._grad_output(grad_output, x.shape, unbatched, what)
        dw, db = layer._backward_weights(x, dy, size[0] if bias else None)
    return (dw, db) if bias else dw


def conv1d_input(input_size: Sequence[int], weight: npt.ArrayLike, grad_output: npt.ArrayLike,
                 stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1,
                 groups: int = 1) -> np.ndarray:
    """torch.nn.grad.conv1d_input: dL/dx of conv1d(x, weight, ...) for an x of
    shape input_size ((N, C, L) or (L,)), from grad_output (N, M, L_out)."""
    return _conv_input(layers.Conv1d, input_size, weight, grad_output, stride, padding,
                       dilation, groups)


def conv2d_input(input_size: Sequence[int], weight: npt.ArrayLike, grad_output: npt.ArrayLike,
                 stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1,
                 groups: int = 1) -> np.ndarray:
    """torch.nn.grad.conv2d_input: dL/dx of conv2d(x, weight, ...) for an x of
    shape input_size ((N, C, H, W) or (H, W)), from grad_output."""
    return _conv_input(layers.Conv2d, input_size, weight, grad_output, stride, padding,
                       dilation, groups)


def conv3d_input(input_size: Sequence[int], weight: npt.ArrayLike, grad_output: npt.ArrayLike,
                 stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1,
                 groups: int = 1) -> np.ndarray:
    """torch.nn.grad.conv3d_input: dL/dx of conv3d(x, weight, ...) for an x of
    shape input_size ((N, C, D, H, W) or (D, H, W)), from grad_output."""
    return _conv_input(layers.Conv3d, input_size, weight, grad_output, stride, padding,
                       dilation, groups)


def conv1d_weight(input: npt.ArrayLike, weight_size: Sequence[int], grad_output: npt.ArrayLike,
                  stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1,
                  groups: int = 1, *, bias: bool = False
                  ) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
    """torch.nn.grad.conv1d_weight: dL/dweight of conv1d(input, weight, ...)
    for a weight of shape weight_size (M, C/groups, kL), from grad_output;
    with bias=True, (dL/dweight, dL/dbias) from the same pass."""
    return _conv_weight(layers.Conv1d, input, weight_size, grad_output, stride, padding,
                        dilation, groups, bias)


def conv2d_weight(input: npt.ArrayLike, weight_size: Sequence[int], grad_output: npt.ArrayLike,
                  stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1,
                  groups: int = 1, *, bias: bool = False
                  ) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
    """torch.nn.grad.conv2d_weight: dL/dweight for a weight of shape
    weight_size (M, C/groups, kH, kW); with bias=True also dL/dbias."""
    return _conv_weight(layers.Conv2d, input, weight_size, grad_output, stride, padding,
                        dilation, groups, bias)


def conv3d_weight(input: npt.ArrayLike, weight_size: Sequence[int], grad_output: npt.ArrayLike,
                  stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1,
                  groups: int = 1, *, bias: bool = False
                  ) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
    """torch.nn.grad.conv3d_weight: dL/dweight for a weight of shape
    weight_size (M, C/groups, kD, kH, kW); with bias=True also dL/dbias."""
    return _conv_weight(layers.Conv3d, input, weight_size, grad_output, stride, padding,
                        dilation, groups, bias)


def _pool_input(pool, input, what, shape_ok):
    """(batched input or None, batched shape, unbatched) from a forward
    input array or, where `shape_ok`, its shape alone."""
    shape = _shape(input, what + " input")
    if shape is not None and not shape_ok:
        raise InvalidArgumentError("%s: needs the forward input itself, not only its shape %s" %
                                   (what, shape))
    if shape is None:
        x, unbatched = as_input(input, pool._rank, what + " input")
        return x, x.shape, unbatched
    if len(shape) == pool._rank + 1:
        return None, (1,) + shape, True
    if len(shape) != pool._rank + 2:
        raise InvalidArgumentError("%s: input shape %s: expected %d or %d dims" %
                                   (what, shape, pool._rank + 1, pool._rank + 2))
    return None, shape, False


def _pool_backward(pool, grad_output, input, what, shape_ok=False, indices=None):
    with pool:
        x, shape, unbatched = _pool_input(pool, input, what, shape_ok)
        if indices is not None:
            indices = pool._whole_tensor_indices(indices, shape, unbatched, what)
        return pool._input_grad(shape, unbatched, grad_output, what, x, indices)


def _max_pool_backward(rank, grad_output, input, kernel_size, stride, padding, dilation,
                       ceil_mode, indices):
    pool = getattr(layers, "MaxPool%dd" % rank)(kernel_size, stride, padding, dilation,
                                                False, ceil_mode)
    return _pool_backward(pool, grad_output, input, "max_pool%dd_backward" % rank,
                          shape_ok=True, indices=indices)


def max_pool1d_backward(grad_output: npt.ArrayLike, input: ShapeOrArray,
                        kernel_size: IntOrTuple, stride: Optional[IntOrTuple] = None,
                        padding: IntOrTuple = 0, dilation: IntOrTuple = 1,
                        ceil_mode: bool = False,
                        indices: Optional[npt.ArrayLike] = None) -> np.ndarray:
    """dL/dx of max_pool1d(input, ...): each grad_output element goes to the
    input element its window took the maximum from (indices, or found again
    in `input`); with indices, `input` may be its shape."""
    return _max_pool_backward(1, grad_output, input, kernel_size, stride, padding, dilation,
                              ceil_mode, indices)


def max_pool2d_backward(grad_output: npt.ArrayLike, input: ShapeOrArray,
                        kernel_size: IntOrTuple, stride: Optional[IntOrTuple] = None,
                        padding: IntOrTuple = 0, dilation: IntOrTuple = 1,
                        ceil_mode: bool = False,
                        indices: Optional[npt.ArrayLike] = None) -> np.ndarray:
    """dL/dx of max_pool2d(input, ...); see max_pool1d_backward."""
    return _max_pool_backward(2, grad_output, input, kernel_size, stride, padding, dilation,
                              ceil_mode, indices)


def max_pool3d_backward(grad_output: npt.ArrayLike, input: ShapeOrArray,
                        kernel_size: IntOrTuple, stride: Optional[IntOrTuple] = None,
                        padding: IntOrTuple = 0, dilation: IntOrTuple = 1,
                        ceil_mode: bool = False,
                        indices: Optional[npt.ArrayLike] = None) -> np.ndarray:
    """dL/dx of max_pool3d(input, ...); see max_pool1d_backward."""
    return _max_pool_backward(3, grad_output, input, kernel_size, stride, padding, dilation,
                              ceil_mode, indices)


def avg_pool1d_backward(grad_output: npt.ArrayLike, input: ShapeOrArray,
                        kernel_size: IntOrTuple, stride: Optional[IntOrTuple] = None,
                        padding: IntOrTuple = 0, ceil_mode: bool = False,
                        count_include_pad: bool = True) -> np.ndarray:
    """dL/dx of avg_pool1d(input, ...): each grad_output element divided by
    its window's divisor, to every element of the window. `input` may be
    the input array or its shape."""
    return _pool_backward(layers.AvgPool1d(kernel_size, stride, padding, ceil_mode,
                                           count_include_pad),
                          grad_output, input, "avg_pool1d_backward", shape_ok=True)


def avg_pool2d_backward(grad_output: npt.ArrayLike, input: ShapeOrArray,
                        kernel_size: IntOrTuple, stride: Optional[IntOrTuple] = None,
                        padding: IntOrTuple = 0, ceil_mode: bool = False,
                        count_include_pad: bool = True,
                        divisor_override: Optional[int] = None) -> np.ndarray:
    """dL/dx of avg_pool2d(input, ...); see avg_pool1d_backward."""
    return _pool_backward(layers.AvgPool2d(kernel_size, stride, padding, ceil_mode,
                                           count_include_pad, divisor_override),
                          grad_output, input, "avg_pool2d_backward", shape_ok=True)


def avg_pool3d_backward(grad_output: npt.ArrayLike, input: ShapeOrArray,
                        kernel_size: IntOrTuple, stride: Optional[IntOrTuple] = None,
                        padding: IntOrTuple = 0, ceil_mode: bool = False,
                        count_include_pad: bool = True,
                        divisor_override: Optional[int] = None) -> np.ndarray:
    """dL/dx of avg_pool3d(input, ...); see avg_pool1d_backward."""
    return _pool_backward(layers.AvgPool3d(kernel_size, stride, padding, ceil_mode,
                                           count_include_pad, divisor_override),
                          grad_output, input, "avg_pool3d_backward", shape_ok=True)


def _lp_pool_backward(rank, grad_output, input, norm_type, kernel_size, stride, ceil_mode):
    pool = getattr(layers, "LPPool%dd" % rank)(norm_type, kernel_size, stride, ceil_mode)
    return _pool_backward(pool, grad_output, input, "lp_pool%dd_backward" % rank)


def lp_pool1d_backward(grad_output: npt.ArrayLike, input: npt.ArrayLike, norm_type,
                       kernel_size: IntOrTuple, stride: Optional[IntOrTuple] = None,
                       ceil_mode: bool = False) -> np.ndarray:
    """dL/dx of lp_pool1d(input, ...) (ONNX LpPool's |x|): grad_output *
    sign(x) |x|^(p-1) / y^(p-1) summed over the windows holding x, 0 where
    the window's y is 0."""
    return _lp_pool_backward(1, grad_output, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d_backward(grad_output: npt.ArrayLike, input: npt.ArrayLike, norm_type,
                       kernel_size: IntOrTuple, stride: Optional[IntOrTuple] = None,
                       ceil_mode: bool = False) -> np.ndarray:
    """dL/dx of lp_pool2d(input, ...); see lp_pool1d_backward."""
    return _lp_pool_backward(2, grad_output, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d_backward(grad_output: npt.ArrayLike, input: npt.ArrayLike, norm_type,
                       kernel_size: IntOrTuple, stride: Optional[IntOrTuple] = None,
                       ceil_mode: bool = False) -> np.ndarray:
    """dL/dx of lp_pool3d(input, ...); see lp_pool1d_backward."""
    return _lp_pool_backward(3, grad_output, input, norm_type, kernel_size, stride, ceil_mode)


def _global_rank(input, what):
    shape = _shape(input, what + " input")
    ndim = len(shape) if shape is not None else np.ndim(input)
    if ndim not in (3, 4, 5):
        raise InvalidArgumentError("%s: expected a 3-D, 4-D or 5-D (N, C, ...) input, got %s" %
                                   (what, shape if shape is not None else np.shape(input)))
    return ndim - 2


def global_avg_pool_backward(grad_output: npt.ArrayLike, input: ShapeOrArray) -> np.ndarray:
    """dL/dx of global_avg_pool(input): grad_output / (spatial size) to every
    element of its plane. `input` may be the input array or its shape."""
    what = "global_avg_pool_backward"
    return _pool_backward(layers.GlobalAvgPool(_global_rank(input, what)), grad_output, input,
                          what, shape_ok=True)


def global_max_pool_backward(grad_output: npt.ArrayLike, input: npt.ArrayLike) -> np.ndarray:
    """dL/dx of global_max_pool(input): grad_output to the (first) maximum
    of each plane."""
    what = "global_max_pool_backward"
    return _pool_backward(layers.GlobalMaxPool(_global_rank(input, what)), grad_output, input,
                          what)


def global_lp_pool_backward(grad_output: npt.ArrayLike, input: npt.ArrayLike,
                            p: int = 2) -> np.ndarray:
    """dL/dx of global_lp_pool(input, p); see lp_pool1d_backward."""
    what = "global_lp_pool_backward"
    return _pool_backward(layers.GlobalLpPool(_global_rank(input, what), p), grad_output,
                          input, what)


__all__ = [
    "conv1d_input", "conv2d_input", "conv3d_input", "conv1d_weight", "conv2d_weight",
    "conv3d_weight", "max_pool1d_backward", "max_pool2d_backward", "max_pool3d_backward",
    "avg_pool1d_backward", "avg_pool2d_backward", "avg_pool3d_backward", "lp_pool1d_backward",
    "lp_pool2d_backward", "lp_pool3d_backward", "global_avg_pool_backward",
    "global_max_pool_backward", "global_lp_pool_backward",
]
