"""convpool.Model: load an ONNX model (the Conv/MaxPool/AveragePool subset)
and run it on NumPy arrays through the library's session API."""
import collections
import ctypes
import os
import threading

import numpy as np

from . import _lib, _threads
from ._errors import InvalidArgumentError, UnsupportedError, check
from ._handle import Handle

TensorInfo = collections.namedtuple("TensorInfo", "name shape dtype")

TensorInfo.__doc__ = """A graph input or output: `name`; `shape`, a tuple whose
items are ints, the symbol (str) of a symbolic dim, or None for an unknown
dim; `dtype`, a numpy dtype (None if undefined)."""

# convpool_dtype values (ONNX TensorProto.DataType) and their NumPy types.
_DTYPES = {1: np.dtype(np.float32), 2: np.dtype(np.uint8), 3: np.dtype(np.int8),
           7: np.dtype(np.int64)}
_CODES = {dtype: code for code, dtype in _DTYPES.items()}


class _Session(Handle):
    def _destroy(self, handle):
        _lib.lib.convpool_session_destroy(handle)


def _decode_name(raw):
    """A name from the model file as str. ONNX names are meant to be UTF-8,
    but a file may hold any bytes: those that are not UTF-8 are kept as
    \\xNN text (as convpool-run prints them), so loading never fails on a
    name. Python's repr() then escapes any control character in it."""
    return raw.decode("utf-8", errors="backslashreplace")


class Model(Handle):
    """An ONNX model loaded and validated by libconvpool.

    ``Model(path_or_bytes, memory_limit=0)``: a file path (str or
    os.PathLike) or the model's bytes. ``inputs`` / ``outputs`` describe the
    graph (TensorInfo). ``run(feeds)`` runs it: `feeds` is a dict
    {input name: array} (returns {output name: array}), a single array for a
    one-input model, or a list of arrays in input order (both return a list).

    Runs from several Python threads proceed in parallel: each thread gets
    its own session (the model itself is immutable) and the GIL is released
    while the graph runs. close() (or a ``with`` block) frees the model and
    every session; so does garbage collection. Do not close a model while
    another thread is inside run().
    """

    def __init__(self, path_or_bytes, memory_limit=0):
        if not _lib.has_model_api:
            raise UnsupportedError("%s was built without the ONNX model loader" % _lib.path)
        L = _lib.lib
        handle = ctypes.c_void_p()
        if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
            data = bytes(path_or_bytes)
            check(L.convpool_model_load_memory(data, len(data), memory_limit,
                                               ctypes.byref(handle)))
        elif isinstance(path_or_bytes, (str, os.PathLike)):
            check(L.convpool_model_load_file(os.fsencode(path_or_bytes), memory_limit,
                                             ctypes.byref(handle)))
        else:
            raise InvalidArgumentError("Model: expected a path or bytes, got %s" %
                                       type(path_or_bytes).__name__)
        self._handle = handle.value
        self._lock = threading.Lock()
        self._sessions = []  # every session made, freed by close()
        self._local = threading.local()
        self.inputs = self._describe(L.convpool_model_input_count, L.convpool_model_input_name,
                                     L.convpool_model_input_info,
                                     L.convpool_model_input_dim_name)
        self.outputs = self._describe(L.convpool_model_output_count,
                                      L.convpool_model_output_name,
                                      L.convpool_model_output_info,
                                      L.convpool_model_output_dim_name)

    def _describe(self, count_fn, name_fn, info_fn, dim_name_fn):
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
            shape = []
            for d in range(rank.value):
                if dims[d] >= 0:
                    shape.append(int(dims[d]))
                else:
                    symbol = dim_name_fn(self._handle, i, d)
                    shape.append(_decode_name(symbol) if symbol else None)
            infos.append(TensorInfo(_decode_name(name_fn(self._handle, i)), tuple(shape),
                                    _DTYPES.get(dtype.value)))
        return infos

    def _destroy(self, handle):
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        _lib.lib.convpool_model_destroy(handle)

    @property
    def node_count(self):
        return int(_lib.lib.convpool_model_node_count(self._live_handle()))

    def _session(self):
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

    def _feeds_by_index(self, feeds):
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

    def run(self, feeds):
        """Runs the graph; see the class doc for `feeds` and the result."""
        arrays = []
        for info, value in zip(self.inputs, self._feeds_by_index(feeds)):
            dtype = info.dtype or np.dtype(np.float32)
            try:
                arr = np.ascontiguousarray(value, dtype=dtype)
            except (TypeError, ValueError) as e:
                raise InvalidArgumentError("input %r: cannot be used as a %s array (%s)" %
                                           (info.name, dtype, e))
            arrays.append(arr)
        session = self._session()
        L = _lib.lib
        handle = session._live_handle()
        for i, arr in enumerate(arrays):
            shape = _lib.int64_array(arr.shape)
            check(L.convpool_session_set_input(handle, i, _CODES[arr.dtype], shape, arr.ndim,
                                               arr.ctypes.data))
        ctx = _threads.current()  # held until the run returns
        check(L.convpool_session_run(handle, _threads.handle(ctx)))  # GIL released meanwhile
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
        if isinstance(feeds, dict):
            return {info.name: out for info, out in zip(self.outputs, results)}
        return results

    __call__ = run

    def __repr__(self):
        return "Model(inputs=%s, outputs=%s)" % (self.inputs, self.outputs)
