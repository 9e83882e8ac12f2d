"""Layers in PyTorch's spelling (torch.nn.Conv2d, MaxPool2d, AvgPool2d, ...),
each holding a compiled convpool op: attributes are validated and Conv
weights packed once, at construction; calling the layer only runs it.

Training: Conv and ConvTranspose layers built with ``training=True`` (or put
in training mode by ``train()``) also run backward passes, and every layer in
training mode keeps its last input so that ``layer.backward(dy)`` returns the
gradients (dx, and for conv layers dw and db). The weight and bias stay the
caller's arrays: after an optimiser step on them in place (``w -= lr * dw``),
``layer.update()`` rebuilds the op from them. The kept input is a reference
(changing that array before backward() changes the gradients), and calls
from several threads overwrite each other's: pass x to backward() there.

A layer owns a C handle. It is freed by close(), at the end of a ``with``
block, or when the layer is garbage collected. Calling a layer from several
threads at once is allowed (the op is immutable; the GIL is released while
it runs); closing it, or assigning a Conv layer's weight or bias (which
repacks), must wait until no other thread is calling it.

Layers pickle as their weights and attributes (each process packs its own
op), so multiprocessing and Dask can ship them to workers.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from . import _ops
from ._errors import (InputTypeError, InvalidArgumentError, InvalidAttributeError,
                      ShapeMismatchError, UnsupportedError)
from ._ops import OpHandle, as_float_array, as_input, create_op, ntuple, whole


IntOrTuple = Union[int, Sequence[int]]


def _ranked(base, family, rank):
    """The class for one spatial rank, e.g. MaxPool2d from _MaxPoolNd."""
    name = "%s%dd" % (family, rank)
    return type(name, (base,), {"_rank": rank, "__module__": "convpool", "__qualname__": name,
                                "__doc__": "As torch.nn.%s. %s" % (name, base.__doc__ or "")})


def _pad_pairs(padding, rank):
    """[(begin, end)] * rank if `padding` is a sequence of `rank` pairs (the
    asymmetric form, as numpy.pad's pad_width), else None."""
    if isinstance(padding, (str, int, np.integer)):
        return None
    try:
        items = tuple(padding)
    except TypeError:
        return None
    if not items or not all(isinstance(p, (tuple, list, np.ndarray)) for p in items):
        return None
    if len(items) != rank:
        raise InvalidAttributeError("padding = %r: expected %d (begin, end) pairs" %
                                    (padding, rank))
    return [ntuple(p, 2, "padding pair") for p in items]


def _conv_pads(padding, kernel, stride, dilation, rank):
    """ONNX pads (begins then ends) for PyTorch's `padding` argument, or for
    `rank` (begin, end) pairs."""
    pairs = _pad_pairs(padding, rank)
    if pairs is not None:
        return [b for b, _ in pairs] + [e for _, e in pairs]
    if isinstance(padding, str):
        if padding == "valid":
            return [0] * (2 * rank)
        if padding == "same":
            if any(s != 1 for s in stride):
                raise InvalidAttributeError(
                    "padding='same' is not supported for strided convolutions "
                    "(stride = %s)" % (stride,))
            # PyTorch pads d*(k-1) in all, the odd one at the end (= ONNX
            # SAME_UPPER at stride 1), independent of the input size.
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return [t // 2 for t in total] + [t - t // 2 for t in total]
        raise InvalidAttributeError(
            "padding = %r: expected 'same', 'valid', an int or %d ints" % (padding, rank))
    pads = list(ntuple(padding, rank, "padding"))
    return pads + pads


class _ConvNd(OpHandle):
    """Holds the weight and bias as NumPy arrays and the op packed from them."""
    _rank = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: Union[IntOrTuple, str] = 0,
                 dilation: IntOrTuple = 1, groups: int = 1,
                 bias: Union[bool, npt.ArrayLike] = True, padding_mode: str = "zeros", *,
                 weight: Optional[npt.ArrayLike] = None, seed: Optional[int] = None,
                 training: bool = False):
        """As torch.nn.ConvNd: in_channels, out_channels and groups ints (groups
        dividing both, default 1); kernel_size, stride (default 1) and dilation
        (default 1) an int or a k-tuple; padding an int, a k-tuple, 'same' or
        'valid' (default 0); only padding_mode 'zeros'. Weight (out_channels,
        in_channels/groups, K...) and bias (out_channels,) are drawn like
        PyTorch's default initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        (numpy RNG `seed`), unless `weight` (and a bias array for `bias`) are
        given; given arrays are converted to float32 (bias=False: no bias).
        Calling the layer on (N, C, D1..Dk) or (C, D1..Dk) data returns a new
        float32 array (N, out_channels, out...); other real input types are
        converted to float32 first, complex data is refused. padding may
        also be k (begin, end) pairs, e.g. ((0, 1), (1, 2)): asymmetric pads.
        training=True: the op also runs backward() (see train()); a given
        weight and bias must then be float32 C-contiguous arrays, which the
        layer uses, not copies, so that an optimiser step on them in place
        followed by update() trains the layer."""
        in_channels = whole(in_channels, "in_channels", 1)
        out_channels = whole(out_channels, "out_channels", 1)
        groups = whole(groups, "groups", 1)
        lead = (out_channels, in_channels // groups)
        weight, bias = self._initial(in_channels, out_channels, kernel_size, groups, bias,
                                     padding_mode, weight, seed, lead)
        self._setup(weight, bias, stride, padding, dilation, groups, training)
        self._check_lead(lead)

    def _initial(self, in_channels, out_channels, kernel_size, groups, bias, padding_mode,
                 weight, seed, lead):
        """The weight and bias to start from: the given ones, else drawn like
        PyTorch, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = lead[1] *
        prod(kernel) for a weight of shape lead + kernel."""
        k = self._rank
        if padding_mode != "zeros":
            raise UnsupportedError("padding_mode = %r: only 'zeros' is supported" % padding_mode)
        in_channels = whole(in_channels, "in_channels", 1)
        out_channels = whole(out_channels, "out_channels", 1)
        groups = whole(groups, "groups", 1)
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise InvalidAttributeError(
                "groups = %d must divide in_channels = %d and out_channels = %d" %
                (groups, in_channels, out_channels))
        kernel = ntuple(kernel_size, self._rank, "kernel_size")
        if weight is None:
            rng = np.random.default_rng(seed)
            bound = 1.0 / math.sqrt(lead[1] * math.prod(kernel))
            weight = rng.uniform(-bound, bound, lead + kernel).astype(np.float32)
            if bias is True:
                bias = rng.uniform(-bound, bound, out_channels).astype(np.float32)
        if bias is True or bias is False:
            bias = None
        return weight, bias

    def _check_lead(self, lead):
        if self.weight.shape[:2] != lead:
            raise InvalidArgumentError("weight has shape %s: expected (%d, %d, ...)" %
                                       ((self.weight.shape,) + lead))

    @classmethod
    def from_weights(cls, weight: npt.ArrayLike, bias: Optional[npt.ArrayLike] = None,
                     stride: IntOrTuple = 1, padding: Union[IntOrTuple, str] = 0,
                     dilation: IntOrTuple = 1, groups: int = 1, *,
                     training: bool = False) -> "_ConvNd":
        """A layer with the given weight (M, C/groups, K...) and bias (M,),
        converted to float32 (with training=True: used as they are, see
        __init__)."""
        self = cls.__new__(cls)
        self._setup(weight, bias, stride, padding, dilation, groups, training)
        return self

    @staticmethod
    def _own_arrays(name, weight, bias, training):
        """The weight and bias as float32 arrays; in training mode the
        caller's own, which an optimiser updates in place."""
        for what, array in (("weight", weight), ("bias", bias)):
            if training and array is not None and not (
                    isinstance(array, np.ndarray) and array.dtype == np.float32 and
                    array.flags.c_contiguous):
                raise InputTypeError(
                    "%s %s: a layer built for training uses the caller's array, so that "
                    "`w -= lr * dw` then update() trains it: pass a float32 C-contiguous "
                    "ndarray (np.ascontiguousarray(w, dtype=np.float32)), not %s" %
                    (name, what, getattr(array, "dtype", type(array).__name__)))
        weight = as_float_array(weight, name + " weight")
        if bias is not None:
            bias = as_float_array(bias, name + " bias")
        return weight, bias

    def _setup(self, weight, bias, stride, padding, dilation, groups, training=False):
        """Validates and packs; the layer changes only if all succeeds."""
        k = self._rank
        name = type(self).__name__
        weight, bias = self._own_arrays(name, weight, bias, training)
        if weight.ndim != k + 2:
            raise InvalidArgumentError(
                "%s weight: expected %d dims (out_channels, in_channels/groups, %s), got "
                "shape %s" % (name, k + 2, _ops._SPATIAL[k], weight.shape))
        if bias is not None:
            if bias.shape != weight.shape[:1]:
                raise InvalidArgumentError("%s bias: expected shape (%d,), got %s" %
                                           (name, weight.shape[0], bias.shape))
        groups = whole(groups, "groups", 1)
        stride = ntuple(stride, k, "stride")
        dilation = ntuple(dilation, k, "dilation")
        pads = _conv_pads(padding, weight.shape[2:], stride, dilation, k)
        self._set_op(create_op(_ops.CONV, k,
                               ints={_ops.ATTR_STRIDES: stride, _ops.ATTR_DILATIONS: dilation,
                                     _ops.ATTR_PADS: pads},
                               scalars={_ops.ATTR_GROUP: int(groups)},
                               weight=weight, bias=bias, flags=self._flags(training)))
        self.kernel_size = weight.shape[2:]
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, \
            int(groups)
        self._weight, self._bias = weight, bias
        self._set_training(training)

    @staticmethod
    def _flags(training):
        return _ops.CREATE_BACKWARD if training else 0

    def _set_training(self, training):
        OpHandle.train(self, training)

    def _repack(self, weight, bias, training=None):
        self._setup(weight, bias, self.stride, self.padding, self.dilation, self.groups,
                    self.training if training is None else training)

    def train(self, mode: bool = True):
        """As torch.nn.Module.train: training mode (mode True) rebuilds the op
        to run backward passes too (CONVPOOL_CREATE_BACKWARD: one more copy of
        the weights) and keeps each call's input for backward(); mode False
        rebuilds it for inference only. Returns the layer."""
        if bool(mode) != self.training:
            self._repack(self._weight, self._bias, bool(mode))
        return self

    def update(self):
        """Rebuilds the op from the layer's weight and bias arrays after they
        were changed in place (an optimiser step, `w -= lr * dw`); the
        attributes and the mode stay. Returns the layer."""
        self._repack(self._weight, self._bias)
        return self

    def backward(self, dy: npt.ArrayLike, x: Optional[npt.ArrayLike] = None, *,
                 input_grad: bool = True
                 ) -> Tuple[Optional[np.ndarray], np.ndarray, Optional[np.ndarray]]:
        """The gradients of a loss L at the forward input x: (dx, dw, db) =
        (dL/dx, dL/dweight, dL/dbias) from dy = dL/dy, an array of the forward
        output's shape (ShapeMismatchError otherwise). x defaults to the input
        of the last call in training mode; dx needs the op built for training
        (training=True or train()), dw and db do not. db is None for a layer
        without bias, dx None with input_grad=False (saves its pass). New
        float32 arrays; dx without the batch dim if x had none."""
        what = type(self).__name__ + ".backward"
        x, unbatched = self._forward_input(x, what)
        dy = self._grad_output(dy, x.shape, unbatched, what)
        dx = self._backward_data(x.shape, dy) if input_grad else None
        dw, db = self._backward_weights(x, dy, None if self._bias is None else
                                        self.out_channels)
        if dx is not None and unbatched:
            dx = dx[0]
        return dx, dw, db

    @staticmethod
    def _read_only(array):
        if array is None:
            return None
        view = array.view()
        view.flags.writeable = False
        return view

    @property
    def weight(self):
        """The weight: a read-only view, or in training mode the array itself
        (so `layer.weight -= lr * dw` updates and repacks); assigning an
        array repacks the op."""
        return self._weight if self.training else self._read_only(self._weight)

    @weight.setter
    def weight(self, value):
        self._repack(value, self._bias)

    @property
    def bias(self):
        """The bias or None (a read-only view; in training mode the array
        itself); assigning repacks the op."""
        return self._bias if self.training else self._read_only(self._bias)

    @bias.setter
    def bias(self, value):
        self._repack(self._weight, value)

    @property
    def in_channels(self):
        return self._weight.shape[1] * self.groups

    @property
    def out_channels(self):
        return self._weight.shape[0]

    __call__ = forward = OpHandle._apply

    def __reduce__(self):
        # The weights and attributes: the other process packs its own op.
        return (_rebuild_conv, (type(self), self._weight, self._bias, self.stride,
                                self.padding, self.dilation, self.groups, self.training))

    def __repr__(self):
        return "%s(%d, %d, kernel_size=%s, stride=%s, padding=%r, dilation=%s, groups=%d, " \
               "bias=%s)" % (type(self).__name__, self.in_channels, self.out_channels,
                             self.kernel_size, self.stride, self.padding, self.dilation,
                             self.groups, self._bias is not None)


Conv1d, Conv2d, Conv3d = (_ranked(_ConvNd, "Conv", r) for r in (1, 2, 3))


def _rebuild_conv(cls, weight, bias, stride, padding, dilation, groups, training=False):
    """A pickled Conv layer made again (module level, so pickle finds it)."""
    return cls.from_weights(weight, bias, stride, padding, dilation, groups, training=training)


def _rebuild_conv_transpose(cls, weight, bias, stride, padding, output_padding, groups,
                            dilation, training=False):
    """A pickled ConvTranspose layer made again."""
    return cls.from_weights(weight, bias, stride, padding, output_padding, groups, dilation,
                            training=training)


class _ConvTransposeNd(_ConvNd):
    """The weight is (in_channels, out_channels/groups, K...), as PyTorch and
    ONNX lay it out; `padding` (ints) crops both ends of the full output and
    `output_padding` adds that many positions at the end of each dim."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros", *,
                 weight=None, seed=None, training=False):
        """As torch.nn.ConvTransposeNd: weight and bias drawn like PyTorch's
        default initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in
        = out_channels/groups * prod(kernel) (numpy RNG `seed`), unless
        `weight` (and a bias array for `bias`) are given; training as in
        ConvNd (backward() gives dx by a convolution)."""
        in_channels = whole(in_channels, "in_channels", 1)
        out_channels = whole(out_channels, "out_channels", 1)
        groups = whole(groups, "groups", 1)
        lead = (in_channels, out_channels // groups)
        weight, bias = self._initial(in_channels, out_channels, kernel_size, groups, bias,
                                     padding_mode, weight, seed, lead)
        self._setup_transpose(weight, bias, stride, padding, output_padding, dilation, groups,
                              training)
        self._check_lead(lead)

    @classmethod
    def from_weights(cls, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, *, training=False):
        """A layer with the given weight (C, M/groups, K...) and bias (M,)."""
        self = cls.__new__(cls)
        self._setup_transpose(weight, bias, stride, padding, output_padding, dilation, groups,
                              training)
        return self

    def _setup_transpose(self, weight, bias, stride, padding, output_padding, dilation,
                         groups, training=False):
        """Validates and packs; the layer changes only if all succeeds."""
        k = self._rank
        name = type(self).__name__
        weight, bias = self._own_arrays(name, weight, bias, training)
        if weight.ndim != k + 2:
            raise InvalidArgumentError(
                "%s weight: expected %d dims (in_channels, out_channels/groups, %s), got "
                "shape %s" % (name, k + 2, _ops._SPATIAL[k], weight.shape))
        out_channels = weight.shape[1] * int(groups)
        if bias is not None:
            if bias.shape != (out_channels,):
                raise InvalidArgumentError("%s bias: expected shape (%d,), got %s" %
                                           (name, out_channels, bias.shape))
        stride = ntuple(stride, k, "stride")
        dilation = ntuple(dilation, k, "dilation")
        output_padding = ntuple(output_padding, k, "output_padding")
        pads = list(ntuple(padding, k, "padding"))
        self._set_op(create_op(_ops.CONV_TRANSPOSE, k,
                               ints={_ops.ATTR_STRIDES: stride, _ops.ATTR_DILATIONS: dilation,
                                     _ops.ATTR_PADS: pads + pads,
                                     _ops.ATTR_OUTPUT_PADDING: output_padding},
                               scalars={_ops.ATTR_GROUP: int(groups)},
                               weight=weight, bias=bias, flags=self._flags(training)))
        self.kernel_size = weight.shape[2:]
        self.stride, self.padding, self.output_padding = stride, tuple(pads), output_padding
        self.dilation, self.groups = dilation, int(groups)
        self._weight, self._bias = weight, bias
        self._set_training(training)

    def __reduce__(self):
        return (_rebuild_conv_transpose, (type(self), self._weight, self._bias, self.stride,
                                          self.padding, self.output_padding, self.groups,
                                          self.dilation, self.training))

    def _repack(self, weight, bias, training=None):
        self._setup_transpose(weight, bias, self.stride, self.padding, self.output_padding,
                              self.dilation, self.groups,
                              self.training if training is None else training)

    @property
    def in_channels(self):
        return self._weight.shape[0]

    @property
    def out_channels(self):
        return self._weight.shape[1] * self.groups

    def __repr__(self):
        return "%s(%d, %d, kernel_size=%s, stride=%s, padding=%s, output_padding=%s, " \
               "groups=%d, bias=%s, dilation=%s)" % (
                   type(self).__name__, self.in_channels, self.out_channels, self.kernel_size,
                   self.stride, self.padding, self.output_padding, self.groups,
                   self._bias is not None, self.dilation)


ConvTranspose1d, ConvTranspose2d, ConvTranspose3d = (
    _ranked(_ConvTransposeNd, "ConvTranspose", r) for r in (1, 2, 3))


def _pool_geometry(rank, kernel_size, stride, padding):
    kernel = ntuple(kernel_size, rank, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else \
        ntuple(stride, rank, "stride")
    pads = ntuple(padding, rank, "padding")
    for p, k in zip(pads, kernel):
        # PyTorch's rule; it also guarantees that no window is all padding.
        if p > k // 2:
            raise InvalidAttributeError(
                "padding = %s: pad should be at most half of kernel size %s" % (pads, kernel))
    return kernel, stride, pads


class _PoolNd(OpHandle):
    """Pools: backward(dy) gives dx; train() makes calls keep their input."""
    _rank = None

    def backward(self, dy: npt.ArrayLike, x: Optional[npt.ArrayLike] = None) -> np.ndarray:
        """dL/dx, a new float32 array of the forward input's shape, from dy =
        dL/dy (the forward output's shape; ShapeMismatchError otherwise) at
        the forward input x, by default the input of the last call in
        training mode (see train())."""
        what = type(self).__name__ + ".backward"
        x, unbatched = self._forward_input(x, what)
        return self._input_grad(x.shape, unbatched, dy, what, x)

    def _input_grad(self, input_shape, unbatched, dy, what, x=None, indices=None):
        """dx for a batched `input_shape`; x (batched) may be None where the
        op does not read it."""
        dy = self._chain(self._grad_output(dy, input_shape, unbatched, what), input_shape)
        dx = self._backward_data(input_shape, dy, x, indices)
        return dx[0] if unbatched else dx

    def _chain(self, dy, input_shape):
        """dy for the library's op, where the layer's output is a function of it."""
        return dy

    def _pickled_state(self):
        return {"training": True} if self.training else None


class _MaxPoolNd(_PoolNd):
    """kernel_size an int or a k-tuple; stride likewise (default None: the
    kernel size); padding an int or a k-tuple, at most half the kernel
    (default 0); dilation (default 1); ceil_mode (default False) rounds the
    output size up. Called on (N, C, D1..Dk) or (C, D1..Dk) data (converted
    to float32 if it is another real type; complex is refused), returns a new
    float32 array; with return_indices, also int64 indices within each (n, c)
    plane, as PyTorch does (ONNX's are over the whole tensor): -1 for a
    window that holds only padding (PyTorch gives an out-of-range position),
    and the last NaN of a window that holds NaNs (as PyTorch's CPU kernel;
    the library itself reports the first)."""
    def __init__(self, kernel_size: IntOrTuple, stride: Optional[IntOrTuple] = None,
                 padding: IntOrTuple = 0, dilation: IntOrTuple = 1, return_indices: bool = False,
                 ceil_mode: bool = False):
        k = self._rank
        self.kernel_size, self.stride, self.padding = _pool_geometry(k, kernel_size, stride,
                                                                     padding)
        self.dilation = ntuple(dilation, k, "dilation")
        self.return_indices = bool(return_indices)
        self.ceil_mode = bool(ceil_mode)
        self._set_op(create_op(_ops.MAX_POOL, k,
                       ints={_ops.ATTR_KERNEL_SHAPE: self.kernel_size,
                             _ops.ATTR_STRIDES: self.stride,
                             _ops.ATTR_DILATIONS: self.dilation,
                             _ops.ATTR_PADS: self.padding + self.padding},
                       scalars={_ops.ATTR_CEIL_MODE: int(self.ceil_mode)}))

    def __call__(self, x: npt.ArrayLike) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
        x, unbatched = as_input(x, self._rank, type(self).__name__)
        if not self.return_indices:
            y = self._run(x)
            self._keep(x, unbatched)
            return y[0] if unbatched else y
        y, idx = self._run(x, indices=True)
        # ONNX flattens Indices over the whole (N, C, ...) tensor, PyTorch per
        # (n, c) plane: keep the position within the plane. A window that
        # holds only padding (possible with dilation) has no position: the
        # library's -1 stays.
        np.remainder(idx, math.prod(x.shape[2:]), out=idx, where=idx >= 0)
        self._last_nan_indices(x, y, idx)
        # backward() sends dy where these indices point (PyTorch's choice for NaNs too)
        self._keep(x, unbatched, idx)
        return (y[0], idx[0]) if unbatched else (y, idx)

    def backward(self, dy: npt.ArrayLike, x: Optional[npt.ArrayLike] = None,
                 indices: Optional[npt.ArrayLike] = None) -> np.ndarray:
        """dL/dx from dy = dL/dy: each dy element goes to the input element
        its window took the maximum from (summed where windows overlap). That
        position is read from `indices` (as a call with return_indices gives
        them: within each (n, c) plane) if given, else from the indices the
        last call in training mode returned when x is not given either, else
        recomputed from x (the first maximum in window order)."""
        what = type(self).__name__ + ".backward"
        if x is None and indices is None and self._saved is not None and \
                len(self._saved) > 2:
            indices = self._saved[2][0] if self._saved[1] else self._saved[2]
        x, unbatched = self._forward_input(x, what)
        return self._input_grad(x.shape, unbatched, dy, what, x,
                                self._whole_tensor_indices(indices, x.shape, unbatched, what))

    def _whole_tensor_indices(self, indices, input_shape, unbatched, what):
        """Per-plane indices (as __call__ returns them) made ONNX's whole-tensor
        int64 Indices for the library, or None. -1 (a window of padding only:
        no position, its dy goes nowhere) stays -1; the library refuses other
        positions outside their plane."""
        if indices is None:
            return None
        arr = indices if isinstance(indices, np.ndarray) else np.asarray(indices)
        if arr.dtype.kind not in "iu":
            raise InputTypeError("%s: indices have dtype %s: expected integers (positions "
                                 "within each (n, c) plane, as return_indices gives them)" %
                                 (what, arr.dtype))
        out = self._output_shape(input_shape)
        want = out[1:] if unbatched else out
        if arr.shape != want:
            raise ShapeMismatchError("%s: indices have shape %s, but the forward output for "
                                     "the input shape %s is %s" %
                                     (what, arr.shape, tuple(input_shape[1 if unbatched else 0:]),
                                      want))
        idx = np.array(arr, dtype=np.int64, order="C").reshape(out)  # a copy: offsets added
        n, c = input_shape[:2]
        planes = np.arange(n * c, dtype=np.int64).reshape((n, c) + (1,) * self._rank)
        np.add(idx, planes * math.prod(input_shape[2:]), out=idx, where=idx >= 0)
        return idx

    def _last_nan_indices(self, x, y, idx):
        """PyTorch's CPU kernel keeps the last NaN of a window (every NaN
        replaces the max), the library the first (a NaN is never replaced):
        move the index of each NaN output to the window's last NaN, scanning
        the window in row-major order as PyTorch does. Only NaN outputs are
        visited, so inputs without NaN cost one isnan over y."""
        nan_at = np.argwhere(np.isnan(y))
        if not len(nan_at):
            return
        spatial = x.shape[2:]
        strides = np.array([math.prod(spatial[d + 1:]) for d in range(self._rank)])
        for pos in nan_at:
            n, c, out = pos[0], pos[1], pos[2:]
            starts = out * np.array(self.stride) - np.array(self.padding)
            # each dim's in-bounds taps, then every combination in row-major order
            taps = [s + d * np.arange(k) for s, d, k in
                    zip(starts, self.dilation, self.kernel_size)]
            taps = [t[(t >= 0) & (t < size)] for t, size in zip(taps, spatial)]
            grid = np.stack(np.meshgrid(*taps, indexing="ij"), -1).reshape(-1, self._rank)
            flat = grid @ strides
            nans = flat[np.isnan(x[n, c].reshape(-1)[flat])]
            idx[tuple(pos)] = nans[-1]

    forward = __call__

    def __reduce__(self):
        return (type(self), (self.kernel_size, self.stride, self.padding, self.dilation,
                             self.return_indices, self.ceil_mode), self._pickled_state())

    def __repr__(self):
        return "%s(kernel_size=%s, stride=%s, padding=%s, dilation=%s, ceil_mode=%s)" % (
            type(self).__name__, self.kernel_size, self.stride, self.padding, self.dilation,
            self.ceil_mode)


MaxPool1d, MaxPool2d, MaxPool3d = (_ranked(_MaxPoolNd, "MaxPool", r) for r in (1, 2, 3))


class _AvgPoolNd(_PoolNd):
    """kernel_size, stride (default None: the kernel size) and padding
    (default 0, at most half the kernel) an int or a k-tuple; ceil_mode
    (default False) rounds the output size up; count_include_pad (default
    True) counts the zero padding in each window's divisor; divisor_override,
    a non-zero int, divides each window's sum by that number instead.
    Called on (N, C, D1..Dk) or (C, D1..Dk) data (converted to float32 if it
    is another real type; complex is refused), returns a new float32 array."""
    def __init__(self, kernel_size: IntOrTuple, stride: Optional[IntOrTuple] = None,
                 padding: IntOrTuple = 0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: Optional[int] = None):
        k = self._rank
        self.kernel_size, self.stride, self.padding = _pool_geometry(k, kernel_size, stride,
                                                                     padding)
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        if divisor_override is not None:
            if isinstance(divisor_override, bool) or not isinstance(divisor_override,
                                                                    (int, np.integer)):
                raise InvalidAttributeError(
                    "divisor_override = %r: expected an int" % (divisor_override,))
            if divisor_override == 0:
                raise InvalidAttributeError("divisor_override = 0: divisor must be not zero")
        self.divisor_override = divisor_override
        # With divisor_override the library averages over the valid elements
        # only; __call__ turns that back into the window sum.
        include = self.count_include_pad and divisor_override is None
        self._set_op(create_op(_ops.AVERAGE_POOL, k,
                       ints={_ops.ATTR_KERNEL_SHAPE: self.kernel_size,
                             _ops.ATTR_STRIDES: self.stride,
                             _ops.ATTR_PADS: self.padding + self.padding},
                       scalars={_ops.ATTR_CEIL_MODE: int(self.ceil_mode),
                                _ops.ATTR_COUNT_INCLUDE_PAD: int(include)}))

    def _valid_counts(self, in_spatial, out_spatial):
        """How many input elements each output window covers (padding
        excluded), shaped to broadcast over the output's spatial dims."""
        counts = np.ones((), dtype=np.float64)
        for size, out, k, s, p in zip(in_spatial, out_spatial, self.kernel_size, self.stride,
                                      self.padding):
            start = np.arange(out, dtype=np.int64) * s - p
            per_dim = np.clip(start + k, 0, size) - np.clip(start, 0, size)
            counts = np.multiply.outer(counts, per_dim)
        return counts

    def _chain(self, dy, input_shape):
        """With divisor_override the layer's y is the library's times
        count / divisor_override (see __call__): so is dy."""
        if self.divisor_override is None:
            return dy
        scale = self._valid_counts(input_shape[2:], dy.shape[2:]) / self.divisor_override
        return np.multiply(dy, scale, dtype=np.float32)

    def __call__(self, x: npt.ArrayLike) -> np.ndarray:
        y = self._apply(x)
        if self.divisor_override is not None:
            # mean over the valid elements * their count = the window sum,
            # which PyTorch divides by divisor_override.
            scale = self._valid_counts(np.shape(x)[-self._rank:], y.shape[-self._rank:])
            np.multiply(y, scale / self.divisor_override, out=y, casting="unsafe")
        return y

    forward = __call__

    def __reduce__(self):
        return (type(self), (self.kernel_size, self.stride, self.padding, self.ceil_mode,
                             self.count_include_pad, self.divisor_override),
                self._pickled_state())

    def __repr__(self):
        return "%s(kernel_size=%s, stride=%s, padding=%s, ceil_mode=%s, " \
               "count_include_pad=%s, divisor_override=%r)" % (
                   type(self).__name__, self.kernel_size, self.stride, self.padding,
                   self.ceil_mode, self.count_include_pad, self.divisor_override)


AvgPool1d, AvgPool2d, AvgPool3d = (_ranked(_AvgPoolNd, "AvgPool", r) for r in (1, 2, 3))


def _lp_exponent(norm_type):
    """ONNX's p is an integer; PyTorch's norm_type may be any float."""
    p = float(norm_type)
    if not p.is_integer() or not 1 <= p <= 1024:
        raise UnsupportedError(
            "norm_type = %r: only whole exponents 1 to 1024 are supported (ONNX LpPool's p)" %
            (norm_type,))
    return int(p)


class _LPPoolNd(_PoolNd):
    """(sum over each window of |x|^p)^(1/p), p = norm_type, as ONNX LpPool.
    PyTorch raises x to p without the absolute value, so the two agree for
    even p or non-negative inputs; its ceil_mode windows that run past the
    input are scaled by the full window size, ONNX's are not."""

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        k = self._rank
        self.norm_type = _lp_exponent(norm_type)
        self.kernel_size, self.stride, _ = _pool_geometry(k, kernel_size, stride, 0)
        self.ceil_mode = bool(ceil_mode)
        self._set_op(create_op(_ops.LP_POOL, k,
                       ints={_ops.ATTR_KERNEL_SHAPE: self.kernel_size,
                             _ops.ATTR_STRIDES: self.stride},
                       scalars={_ops.ATTR_CEIL_MODE: int(self.ceil_mode),
                                _ops.ATTR_P: self.norm_type}))

    __call__ = forward = OpHandle._apply

    def __reduce__(self):
        return (type(self), (self.norm_type, self.kernel_size, self.stride, self.ceil_mode),
                self._pickled_state())

    def __repr__(self):
        return "%s(norm_type=%d, kernel_size=%s, stride=%s, ceil_mode=%s)" % (
            type(self).__name__, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


LPPool1d, LPPool2d, LPPool3d = (_ranked(_LPPoolNd, "LPPool", r) for r in (1, 2, 3))


class _GlobalPool(_PoolNd):
    _kind = None

    def __init__(self, rank: int = 2, scalars=None):
        if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or \
                rank not in (1, 2, 3):
            raise InvalidArgumentError("rank = %r: must be 1, 2 or 3" % (rank,))
        self._rank = int(rank)
        self._set_op(create_op(self._kind, self._rank, scalars=scalars))

    __call__ = forward = OpHandle._apply

    def __reduce__(self):
        return (type(self), (self._rank,), self._pickled_state())

    def __repr__(self):
        return "%s(rank=%d)" % (type(self).__name__, self._rank)


class GlobalAvgPool(_GlobalPool):
    """ONNX GlobalAveragePool over `rank` (1, 2 or 3, default 2) spatial dims:
    (N, C, D1..Dk) or (C, D1..Dk) -> float32 (N, C, 1, ...); other real input
    types are converted to float32, complex is refused."""
    _kind = _ops.GLOBAL_AVERAGE_POOL


class GlobalMaxPool(_GlobalPool):
    """ONNX GlobalMaxPool over `rank` (1, 2 or 3, default 2) spatial dims:
    (N, C, D1..Dk) or (C, D1..Dk) -> float32 (N, C, 1, ...); other real input
    types are converted to float32, complex is refused."""
    _kind = _ops.GLOBAL_MAX_POOL


class GlobalLpPool(_GlobalPool):
    """ONNX GlobalLpPool over `rank` spatial dims: (sum of |x|^p)^(1/p) per
    (n, c), output (N, C, 1, ...)."""
    _kind = _ops.GLOBAL_LP_POOL

    def __init__(self, rank: int = 2, p: int = 2):
        self.p = _lp_exponent(p)
        super().__init__(rank, {_ops.ATTR_P: self.p})

    def __reduce__(self):
        return (type(self), (self._rank, self.p), self._pickled_state())
