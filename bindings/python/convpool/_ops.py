"""Op handles: a convpool_op created from a descriptor, run on NumPy arrays.

float32 C-contiguous inputs go to the library as their own buffer address
(no copy); anything else is converted once (np.asarray, order 'C').
"""
from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from . import _lib, _threads
from ._errors import (InputTypeError, InvalidArgumentError, InvalidAttributeError,
                      InvalidStateError, ShapeMismatchError, UnsupportedError, check, check_call)
from ._handle import Handle

CONV, MAX_POOL, AVERAGE_POOL, GLOBAL_MAX_POOL, GLOBAL_AVERAGE_POOL = 1, 2, 3, 4, 5
CONV_TRANSPOSE, LP_POOL, GLOBAL_LP_POOL = 6, 7, 8
ATTR_KERNEL_SHAPE, ATTR_STRIDES, ATTR_DILATIONS, ATTR_PADS = 1, 2, 3, 4
ATTR_AUTO_PAD, ATTR_GROUP, ATTR_CEIL_MODE, ATTR_COUNT_INCLUDE_PAD = 5, 6, 7, 8
ATTR_OUTPUT_PADDING, ATTR_OUTPUT_SHAPE, ATTR_P = 10, 11, 12
CREATE_BACKWARD = 1  # convpool_create_flags

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}  # the spatial dims, for messages


def whole(value: Any, name: str, minimum: int) -> int:
    """`value` as an int >= minimum; a float (even 2.0), a bool or a string is
    refused, not truncated, with an error naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidAttributeError("%s = %r: expected an int >= %d" % (name, value, minimum))
    if value < minimum:
        raise InvalidAttributeError("%s = %d: expected an int >= %d" % (name, value, minimum))
    return int(value)


def ntuple(value, n, name):
    """`value` as a tuple of n ints: an int is repeated, a sequence must have
    n items (PyTorch's _ntuple, with an error naming the parameter)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    try:
        items = tuple(value)
    except TypeError:
        raise InvalidAttributeError("%s = %r: expected an int or %d ints" % (name, value, n))
    if len(items) == 1 and n > 1:
        items = items * n
    if len(items) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                  for v in items):
        raise InvalidAttributeError("%s = %r: expected an int or %d ints" % (name, value, n))
    return tuple(int(v) for v in items)


def real_array(x: Any, what: str, target: np.dtype) -> np.ndarray:
    """`x` as an ndarray (no copy if it is one) of real numbers: bool, integer
    or floating point. Complex data (whose imaginary part would be dropped)
    and non-numeric data raise InputTypeError naming `what`, its dtype and
    `target`, the type it was to become."""
    try:
        arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    except (TypeError, ValueError) as e:
        raise InputTypeError("%s: cannot be used as a %s array (%s)" % (what, target, e))
    if arr.dtype.kind == "c":
        raise InputTypeError(
            "%s is complex (%s): %s holds real numbers only, and the imaginary part would be "
            "lost; pass x.real (or abs(x)) explicitly" % (what, arr.dtype, target))
    if arr.dtype.kind not in "biuf":
        raise InputTypeError("%s has dtype %s: expected real numbers (to become %s)" %
                             (what, arr.dtype, target))
    return arr


_FLOAT32 = np.dtype(np.float32)


def as_float_array(x: Any, what: str) -> np.ndarray:
    """`x` as a C-contiguous float32 ndarray: the same object (no copy) when it
    already is one, else a single conversion. Real data of any other type
    (bool, integers, float16, float64) is converted to float32, rounding to
    nearest as numpy's astype does; complex and non-numeric data raise
    InputTypeError."""
    if isinstance(x, np.ndarray) and x.dtype == _FLOAT32 and x.flags.c_contiguous \
            and x.ndim > 0:
        return x
    arr = real_array(x, what, _FLOAT32)
    with np.errstate(over="ignore"):  # float64 beyond float32's range becomes inf
        arr = np.asarray(arr, dtype=np.float32, order="C")  # one conversion at most
    if arr.ndim == 0:
        raise InvalidArgumentError("%s: expected an array, got a scalar" % what)
    return arr


def as_input(x, rank, what):
    """The op input: (array of rank k+2, True if the caller gave an unbatched
    (C, D1..Dk) input, which PyTorch accepts too)."""
    arr = as_float_array(x, what)
    if arr.ndim == rank + 1:
        return arr[np.newaxis], True  # a view: still no copy
    if arr.ndim != rank + 2:
        raise InvalidArgumentError(
            "%s: expected a %d-D (C, %s) or %d-D (N, C, %s) array, got %d-D with shape %s" %
            (what, rank + 1, _SPATIAL[rank], rank + 2, _SPATIAL[rank], arr.ndim,
             arr.shape))
    return arr, False


def require_training_api(what):
    """Raises UnsupportedError if the loaded library lacks the backward passes."""
    if not _lib.has_training_api:
        raise UnsupportedError("%s: %s has no backward passes (convpool_op_backward_data and "
                               "the rest of libconvpool 1.1's training API)" % (what, _lib.path))


def create_op(kind, rank, ints=None, scalars=None, weight=None, bias=None, flags=0):
    """A new convpool_op handle (an int) of `kind` over `rank` spatial dims;
    the caller owns it (see OpHandle).

    `ints` maps attribute keys to int lists, `scalars` to ints. For Conv,
    `weight` (M, C/group, K...) and `bias` (M,) are packed by the library
    here and may be freed afterwards; for ConvTranspose `weight` is (C,
    M/group, K...). `flags` (Conv and ConvTranspose): convpool_create_flags,
    CREATE_BACKWARD for an op that also runs backward_data."""
    if flags:
        require_training_api("a layer built for training")
    L = _lib.lib
    desc = ctypes.c_void_p()
    check(L.convpool_desc_create(kind, rank, ctypes.byref(desc)))
    try:
        for key, values in (ints or {}).items():
            check(L.convpool_desc_set_ints(desc, key, _lib.int64_array(values), len(values)))
        for key, value in (scalars or {}).items():
            check(L.convpool_desc_set_int(desc, key, int(value)))
        op = ctypes.c_void_p()
        if kind in (CONV, CONV_TRANSPOSE):
            bias_ptr = None if bias is None else bias.ctypes.data
            if flags:
                check(L.convpool_conv_create_ex(desc, _lib.int64_array(weight.shape), weight.ndim,
                                                weight.ctypes.data, bias_ptr, flags,
                                                ctypes.byref(op)))
            else:
                check(L.convpool_conv_create(desc, _lib.int64_array(weight.shape), weight.ndim,
                                             weight.ctypes.data, bias_ptr, ctypes.byref(op)))
        else:
            check(L.convpool_pool_create(desc, ctypes.byref(op)))
    finally:
        L.convpool_desc_destroy(desc)
    return op.value


class OpHandle(Handle):
    """A Handle holding a convpool_op.

    In training mode (`training` True, see train()) every call keeps a
    reference to its input (no copy) for backward(): changing that array in
    place before backward() changes the gradients, and concurrent calls
    from several threads overwrite each other's (pass x to backward() then).
    """

    training = False
    _saved = None  # (batched float32 input, unbatched) of the last call in training mode

    def train(self, mode: bool = True):
        """As torch.nn.Module.train: sets training mode and returns the layer.
        In training mode each call keeps its input for backward(dy)."""
        self.training = bool(mode)
        if not self.training:
            self._saved = None
        return self

    def eval(self):
        """train(False): calls keep nothing; backward() then needs its x."""
        return self.train(False)

    def _destroy(self, handle):
        _lib.lib.convpool_op_destroy(handle)

    def _set_op(self, handle):
        """Takes ownership of `handle`, freeing the op held before."""
        self.close()
        self._handle = handle

    def _apply(self, x):
        """Runs on a batched (N, C, ...) or unbatched (C, ...) input of the
        op's spatial rank `_rank`; the output is batched the same way."""
        x, unbatched = as_input(x, self._rank, type(self).__name__)
        y = self._run(x)
        self._keep(x, unbatched)
        return y[0] if unbatched else y

    def _keep(self, x, unbatched, *extra):
        """Keeps a forward call's input (and `extra`) for backward() in
        training mode."""
        if self.training:
            self._saved = (x, unbatched) + extra

    def _forward_input(self, x, what):
        """(batched input, unbatched) for a backward pass: `x` if given, else
        the input the last call in training mode kept."""
        if x is not None:
            return as_input(x, self._rank, what)
        if self._saved is None:
            raise InvalidStateError(
                "%s: no forward input to differentiate at: call the layer in training mode "
                "(built with training=True, or after train()) first, or pass x" % what)
        return self._saved[:2]

    def _output_shape(self, input_shape):
        shape = _lib.int64_array(input_shape)
        out = (_lib.c_int64 * len(input_shape))()
        check(_lib.lib.convpool_op_output_shape(self._live_handle(), shape, len(input_shape),
                                                out, len(input_shape)))
        return tuple(out)

    def _grad_output(self, dy, input_shape, unbatched, what):
        """dy as a float32 C array of exactly the forward output's shape for
        `input_shape` (batched): the library is given its element count only,
        so a dy of another shape would be read in the wrong order."""
        dy = as_float_array(dy, what + " grad_output")
        want = self._output_shape(input_shape)
        if unbatched:
            if dy.shape != want[1:]:
                raise ShapeMismatchError(
                    "%s: grad_output has shape %s, but the forward output for the input shape "
                    "%s is %s" % (what, dy.shape, tuple(input_shape[1:]), want[1:]))
            return dy[np.newaxis]
        if dy.shape != want:
            raise ShapeMismatchError(
                "%s: grad_output has shape %s, but the forward output for the input shape %s "
                "is %s" % (what, dy.shape, tuple(input_shape), want))
        return dy

    def _backward_data(self, input_shape, dy, x=None, indices=None):
        """dx, a new float32 array of `input_shape`, from dy (checked by
        _grad_output), the forward input `x` where the op needs it, and ONNX
        whole-tensor int64 `indices` (MaxPool)."""
        require_training_api(type(self).__name__ + " backward")
        handle = self._live_handle()
        dx = np.empty(tuple(input_shape), dtype=np.float32)
        ctx = _threads.current()  # held until the call returns
        status = _lib.lib.convpool_op_backward_data(
            handle, _threads.handle(ctx), _lib.int64_array(input_shape), len(input_shape),
            None if x is None else x.ctypes.data,
            None if indices is None else indices.ctypes.data, dy.ctypes.data, dy.size,
            dx.ctypes.data, dx.size, None, 0)
        check(status)  # the message is thread-local: read in the calling thread
        return dx

    def _weight_shape(self):
        shape = (_lib.c_int64 * 5)()
        rank = _lib.c_size_t()
        check(_lib.lib.convpool_op_weight_shape(self._live_handle(), shape, 5,
                                                ctypes.byref(rank)))
        return tuple(shape[:rank.value])

    def _backward_weights(self, x, dy, bias_size):
        """(dw, db): new float32 arrays of the op's weight shape and
        (bias_size,), db None when bias_size is None."""
        require_training_api(type(self).__name__ + " backward")
        handle = self._live_handle()
        dw = np.empty(self._weight_shape(), dtype=np.float32)
        db = None if bias_size is None else np.empty(bias_size, dtype=np.float32)
        ctx = _threads.current()
        status = _lib.lib.convpool_op_backward_weights(
            handle, _threads.handle(ctx), _lib.int64_array(x.shape), x.ndim, x.ctypes.data,
            dy.ctypes.data, dy.size, dw.ctypes.data, dw.size,
            None if db is None else db.ctypes.data, 0 if db is None else db.size, None, 0)
        check(status)
        return dw, db

    def _run(self, x, indices=False):
        """Runs the op on `x`, a C-contiguous float32 array of rank k+2 (see
        as_input()): its buffer is passed as is. Returns y, or (y, Indices)
        with ONNX's whole-tensor int64 Indices."""
        handle = self._live_handle()
        shape = _lib.int64_array(x.shape)
        y = np.empty(self._output_shape(x.shape), dtype=np.float32)
        idx = np.empty(y.shape, dtype=np.int64) if indices else None
        ctx = _threads.current()  # held until the run returns
        # ctypes releases the GIL for the duration of the call.
        check_call(_lib.lib.convpool_op_run_msg, handle, _threads.handle(ctx), shape, x.ndim,
                   x.ctypes.data, y.ctypes.data, y.size,
                   None if idx is None else idx.ctypes.data, None, 0)
        return (y, idx) if indices else y
