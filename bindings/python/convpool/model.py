"""convpool.Model: load an ONNX model (the Conv/MaxPool/AveragePool subset)
and run it on NumPy arrays through the library's session API."""
from __future__ import annotations

import ctypes
import os
import threading
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from . import _lib, _threads
from ._errors import InputTypeError, InvalidArgumentError, UnsupportedError, check, check_call
from ._handle import Handle
from ._ops import real_array

# convpool_dtype values (ONNX TensorProto.DataType), their NumPy types and
# the type strings onnxruntime's NodeArg.type uses.
_DTYPES = {1: np.dtype(np.float32), 2: np.dtype(np.uint8), 3: np.dtype(np.int8),
           7: np.dtype(np.int64)}
_CODES = {dtype: code for code, dtype in _DTYPES.items()}
_ORT_TYPES = {np.dtype(np.float32): "tensor(float)", np.dtype(np.uint8): "tensor(uint8)",
              np.dtype(np.int8): "tensor(int8)", np.dtype(np.int64): "tensor(int64)"}

Dim = Union[int, str, None]


class TensorInfo(NamedTuple):
    """A graph input or output: `name`; `shape`, a tuple whose items are ints,
    the symbol (str) of a symbolic dim, or None for an unknown dim; `dtype`, a
    numpy dtype (None if undefined). ``type`` gives the element type as
    onnxruntime spells it ("tensor(float)"), so that code written against
    onnxruntime's get_inputs() works unchanged."""
    name: str
    shape: Tuple[Dim, ...]
    dtype: Optional[np.dtype]

    @property
    def type(self) -> str:
        return _ORT_TYPES.get(self.dtype, "tensor(undefined)")


def _first_change(arr: np.ndarray, converted: np.ndarray) -> Optional[Tuple[int, ...]]:
    """The index of the first element that `converted` does not hold exactly
    (None if every value survived the conversion), NaN matching NaN."""
    with np.errstate(invalid="ignore", over="ignore"):
        back = converted.astype(arr.dtype)
    same = back == arr
    if arr.dtype.kind == "f":
        same |= np.isnan(back) & np.isnan(arr)
    if same.all():
        return None
    return tuple(int(i) for i in np.argwhere(~same)[0])


def convert_input(info: TensorInfo, value: Any, cast: bool) -> np.ndarray:
    """`value` as a C-contiguous array of the input's declared type.

    Data of that type is used as is. Other real data (bool, integers, floats)
    is converted only when every value is exactly representable in the
    declared type (e.g. float64 data that float32 holds exactly), or with
    cast=True, which converts like numpy's astype (wrapping, truncating and
    rounding). Complex and non-numeric data are always refused."""
    expected = info.dtype or np.dtype(np.float32)
    what = "Model.run: input %r" % info.name
    arr = real_array(value, what, expected)
    if arr.dtype == expected:
        return np.asarray(arr, order="C")
    with np.errstate(invalid="ignore", over="ignore"):
        converted = np.asarray(arr, dtype=expected, order="C")
    if not cast:
        at = _first_change(arr, converted)
        if at is not None:
            raise InputTypeError(
                "%s is %s data but the model declares %s: %r at index %s would become %r; "
                "pass %s data, or cast=True to convert with numpy's astype" %
                (what, arr.dtype, expected, arr[at].item(), at, converted[at].item(),
                 expected))
    return converted


class _Session(Handle):
    def _destroy(self, handle):
        _lib.lib.convpool_session_destroy(handle)


Feeds = Union[Dict[str, Any], Sequence[Any], np.ndarray]
_NOT_GIVEN = object()  # run()'s first argument left out: run(feeds=...)
def _decode_name(raw):
    """A name from the model file as str. ONNX names are meant to be UTF-8,
    but a file may hold any bytes: those that are not UTF-8 are kept as
    \\xNN text (as convpool-run prints them), so loading never fails on a
    name. Python's repr() then escapes any control character in it."""
    return raw.decode("utf-8", errors="backslashreplace")


class Model(Handle):
    """An ONNX model loaded and validated by libconvpool.

    ``Model(path_or_bytes, memory_limit=0)``: a file path (str or
    os.PathLike; no NUL byte) or the model's bytes. `memory_limit` is an int
    >= 0 of bytes the model may use (weights, packed weights, intermediates,
    workspaces; see convpool_model_load_file() in convpool.h); 0, the default,
    leaves the library's own limit.

    ``inputs`` / ``outputs`` (or, as in onnxruntime, ``get_inputs()`` /
    ``get_outputs()``) describe the graph as TensorInfo (name, shape, dtype,
    type).

    Running: ``run(feeds)`` where `feeds` is a dict {input name: array}
    (returns {output name: array}), a single array for a one-input model, or a
    list of arrays in input order (both return a list). onnxruntime's form
    ``run(output_names, feeds)`` returns the list of the named outputs (all,
    in graph order, if output_names is None). Inputs are never changed
    silently: data of another type than the declared one is converted only if
    every value survives exactly (float64 data that float32 holds exactly,
    small ints as float32 ...); otherwise InputTypeError (a TypeError) names
    the input, its dtype, the declared one and the first value that would
    change, unless ``cast=True`` asks for numpy's astype conversion. Complex
    or non-numeric data is always refused. Outputs are new arrays of the
    declared types, owned by the caller.

    Runs from several Python threads proceed in parallel: each thread gets
    its own session (the model itself is immutable) and the GIL is released
    while the graph runs. close() (or a ``with`` block) frees the model and
    every session; so does garbage collection. Do not close a model while
    another thread is inside run().

    A Model pickles as its model bytes and memory limit (for a model loaded
    from a path, the file is read when the model is pickled), so multiprocessing, Dask or Ray can ship it to
    other processes, which load it again there. A model whose weights are in
    external data files is loaded from its path on the other side instead,
    which must then see the same files.
    """

    def __init__(self, path_or_bytes: Union[str, bytes, "os.PathLike[str]", bytearray,
                                            memoryview], memory_limit: int = 0):
        if not _lib.has_model_api:
            raise UnsupportedError("%s was built without the ONNX model loader" % _lib.path)
        if isinstance(memory_limit, bool) or not isinstance(memory_limit, (int, np.integer)):
            raise InvalidArgumentError("Model: memory_limit = %r: expected an int >= 0 (bytes; "
                                       "0 for the library's default)" % (memory_limit,))
        if memory_limit < 0:
            raise InvalidArgumentError("Model: memory_limit = %d: expected an int >= 0 (bytes; "
                                       "0 for the library's default)" % memory_limit)
        memory_limit = int(memory_limit)
        L = _lib.lib
        handle = ctypes.c_void_p()
        self._path = None
        if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
            data = bytes(path_or_bytes)
            check_call(L.convpool_model_load_memory_msg, data, len(data), memory_limit,
                       ctypes.byref(handle))
            self._bytes = data
        elif isinstance(path_or_bytes, (str, os.PathLike)):
            path = os.fsencode(path_or_bytes)
            if b"\0" in path:
                raise InvalidArgumentError(
                    "Model: the path %r contains a NUL byte, which no file name can hold" %
                    (path_or_bytes,))
            check_call(L.convpool_model_load_file_msg, path, memory_limit, ctypes.byref(handle))
            self._path = os.path.abspath(os.fsdecode(path))
            self._bytes = None  # read when pickled
        else:
            raise InvalidArgumentError("Model: expected a path or bytes, got %s" %
                                       type(path_or_bytes).__name__)
        self._handle = handle.value
        self._memory_limit = memory_limit
        self._lock = threading.Lock()
        self._sessions: List[_Session] = []  # every session made, freed by close()
        self._local = threading.local()
        self.inputs = self._describe(L.convpool_model_input_count, L.convpool_model_input_name,
                                     L.convpool_model_input_info,
                                     L.convpool_model_input_dim_name)
        self.outputs = self._describe(L.convpool_model_output_count,
                                      L.convpool_model_output_name,
                                      L.convpool_model_output_info,
                                      L.convpool_model_output_dim_name)

    def _describe(self, count_fn, name_fn, info_fn, dim_name_fn) -> List[TensorInfo]:
        infos = []
        for i in range(count_fn(self._handle)):
            dtype = ctypes.c_int32()
            rank = ctypes.c_size_t()
            # Ask for the rank first, then the dims.
            status = info_fn(self._handle, i, ctypes.byref(dtype), ctypes.byref(rank), None, 0)
            if status not in (0, 6):  # BUFFER_TOO_SMALL still sets the rank
                check(status)
            dims = (ctypes.c_int64 * max(rank.value, 1))()
            check(info_fn(self._handle, i, ctypes.byref(dtype), ctypes.byref(rank), dims,
                          rank.value))
            shape: List[Dim] = []
            for d in range(rank.value):
                if dims[d] >= 0:
                    shape.append(int(dims[d]))
                else:
                    symbol = dim_name_fn(self._handle, i, d)
                    shape.append(_decode_name(symbol) if symbol else None)
            infos.append(TensorInfo(_decode_name(name_fn(self._handle, i)), tuple(shape),
                                    _DTYPES.get(dtype.value)))
        return infos

    def get_inputs(self) -> List[TensorInfo]:
        """The graph inputs, as onnxruntime's InferenceSession.get_inputs()."""
        return list(self.inputs)

    def get_outputs(self) -> List[TensorInfo]:
        """The graph outputs, as onnxruntime's InferenceSession.get_outputs()."""
        return list(self.outputs)

    def _destroy(self, handle):
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        _lib.lib.convpool_model_destroy(handle)

    @property
    def node_count(self) -> int:
        """The number of nodes the loader kept (Identity-like nodes included)."""
        return int(_lib.lib.convpool_model_node_count(self._live_handle()))

    def __reduce__(self):
        self._live_handle()  # a closed model has nothing to ship
        data = self._bytes
        if data is None:
            with open(self._path, "rb") as f:
                data = f.read()
        return (_unpickle_model, (data, self._path, self._memory_limit))

    def _session(self) -> _Session:
        session = getattr(self._local, "session", None)
        if session is None or session.closed:
            handle = ctypes.c_void_p()
            check(_lib.lib.convpool_session_create(self._live_handle(), ctypes.byref(handle)))
            session = _Session()
            session._handle = handle.value
            with self._lock:
                self._sessions.append(session)
            self._local.session = session
        return session

    def _feeds_by_index(self, feeds: Feeds) -> list:
        names = [info.name for info in self.inputs]
        if isinstance(feeds, dict):
            unknown = sorted(set(feeds) - set(names))
            if unknown:
                raise InvalidArgumentError("Model.run: no input named %s (inputs: %s)" %
                                           (", ".join(map(repr, unknown)), ", ".join(names)))
            missing = [n for n in names if n not in feeds]
            if missing:
                raise InvalidArgumentError("Model.run: input %s not given" %
                                           ", ".join(map(repr, missing)))
            return [feeds[n] for n in names]
        if isinstance(feeds, (list, tuple)):
            arrays = list(feeds)
        else:
            arrays = [feeds]
        if len(arrays) != len(names):
            raise InvalidArgumentError("Model.run: the model has %d inputs (%s), got %d arrays" %
                                       (len(names), ", ".join(names), len(arrays)))
        return arrays

    def _output_indices(self, output_names: Optional[Sequence[str]]) -> List[int]:
        names = [info.name for info in self.outputs]
        if output_names is None:
            return list(range(len(names)))
        if isinstance(output_names, str):
            raise InvalidArgumentError("Model.run: output_names = %r: expected a list of names "
                                       "or None" % (output_names,))
        indices = []
        for name in output_names:
            if name not in names:
                raise InvalidArgumentError("Model.run: no output named %r (outputs: %s)" %
                                           (name, ", ".join(names)))
            indices.append(names.index(name))
        return indices

    def run(self, output_names_or_feeds: Any = _NOT_GIVEN, feeds: Optional[Feeds] = None, *,
            cast: bool = False) -> Union[Dict[str, np.ndarray], List[np.ndarray]]:
        """``run(feeds)`` (also ``run(feeds=...)``) or onnxruntime's
        ``run(output_names, feeds)``; see the class doc for the feeds, the
        results and the type rules (`cast`)."""
        if output_names_or_feeds is _NOT_GIVEN:
            if feeds is None:
                raise InvalidArgumentError("Model.run: no inputs given")
            wanted = None
        elif feeds is None:
            feeds, wanted = output_names_or_feeds, None
        else:
            wanted = self._output_indices(output_names_or_feeds)
        arrays = [convert_input(info, value, cast)
                  for info, value in zip(self.inputs, self._feeds_by_index(feeds))]
        results = self._run_arrays(arrays)
        if wanted is not None:
            return [results[i] for i in wanted]
        if isinstance(feeds, dict):
            return {info.name: out for info, out in zip(self.outputs, results)}
        return results

    def _run_arrays(self, arrays: List[np.ndarray]) -> List[np.ndarray]:
        session = self._session()
        L = _lib.lib
        handle = session._live_handle()
        for i, arr in enumerate(arrays):
            shape = _lib.int64_array(arr.shape)
            check(L.convpool_session_set_input(handle, i, _CODES[arr.dtype], shape, arr.ndim,
                                               arr.ctypes.data))
        ctx = _threads.current()  # held until the run returns
        check_call(L.convpool_session_run_msg, handle, _threads.handle(ctx))  # GIL released
        results = []
        for i in range(len(self.outputs)):
            dtype = ctypes.c_int32()
            rank = ctypes.c_size_t()
            dims = ctypes.POINTER(ctypes.c_int64)()
            data = ctypes.c_void_p()
            check(L.convpool_session_output(handle, i, ctypes.byref(dtype), ctypes.byref(rank),
                                            ctypes.byref(dims), ctypes.byref(data)))
            np_dtype = _DTYPES.get(dtype.value)
            if np_dtype is None:
                raise UnsupportedError("output %r has element type %d" %
                                       (self.outputs[i].name, dtype.value))
            shape = tuple(int(dims[d]) for d in range(rank.value))
            count = int(np.prod(shape, dtype=np.int64))
            out = np.empty(shape, dtype=np_dtype)
            if count:
                # Session memory is reused by the next run: copy it out.
                ctypes.memmove(out.ctypes.data, data.value, count * np_dtype.itemsize)
            results.append(out)
        return results

    __call__ = run

    def __repr__(self):
        return "Model(inputs=%s, outputs=%s)" % (self.inputs, self.outputs)


def _unpickle_model(data: bytes, path: Optional[str], memory_limit: int) -> Model:
    """A pickled Model loaded again: from its bytes, or from its path when the
    bytes alone do not load (weights in external data files)."""
    try:
        return Model(data, memory_limit)
    except Exception:
        if path is None:
            raise
    return Model(path, memory_limit)
