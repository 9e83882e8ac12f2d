"""The binding's own contract: library lookup and version check, zero-copy
inputs, argument checking, error classes and messages, handle lifetime, and
runs from several Python threads at once."""
import ctypes
import gc
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import convpool
from convpool import _lib
from conftest import BINDINGS, run_in_threads


# ---------------------------------------------------------------- loading


def test_version_matches_library():
    assert convpool.__version__ == "1.1.0"
    assert convpool.library_version() == convpool.__version__
    assert convpool.isa() in ("scalar", "avx2", "avx512")


def test_every_used_function_is_declared():
    for name, (restype, argtypes) in list(_lib._OP_API.items()) + list(_lib._MODEL_API.items()):
        if not hasattr(_lib.lib, name):
            assert name in _lib._MODEL_API  # only the loader may be missing
            continue
        fn = getattr(_lib.lib, name)
        assert fn.restype is restype and fn.argtypes == argtypes, name


def import_in_subprocess(env_library):
    env = dict(os.environ, PYTHONPATH=BINDINGS, CONVPOOL_LIBRARY=env_library)
    return subprocess.run([sys.executable, "-c", "import convpool"], env=env,
                          capture_output=True, text=True)


def test_wrong_library_path_is_a_clear_import_error(tmp_path):
    r = import_in_subprocess(str(tmp_path / "libconvpool.so.1"))
    assert r.returncode != 0
    assert "ImportError: convpool: cannot load libconvpool" in r.stderr
    assert "CONVPOOL_LIBRARY" in r.stderr


def fake_library(tmp_path, version, extra=""):
    """A stand-in libconvpool that reports `version`."""
    src = tmp_path / "fake.c"
    src.write_text('const char *convpool_version(void) { return "%s"; }\n%s' % (version, extra))
    lib = tmp_path / "libfake.so"
    cc = subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src)],
                        capture_output=True)
    if cc.returncode != 0:
        pytest.skip("no C compiler")
    return str(lib)


def test_version_mismatch_is_an_import_error(tmp_path):
    r = import_in_subprocess(fake_library(tmp_path, "0.9.0"))
    assert r.returncode != 0
    assert "ImportError: convpool 1.1.0 needs libconvpool 1.1.0" in r.stderr
    assert "is version 0.9.0" in r.stderr


def test_missing_functions_are_an_import_error(tmp_path):
    r = import_in_subprocess(fake_library(tmp_path, "1.1.0"))
    assert r.returncode != 0
    assert "ImportError" in r.stderr and "lacks convpool_version_number" in r.stderr


def test_not_libconvpool_is_an_import_error():
    import ctypes.util
    libm = ctypes.util.find_library("m")
    if not libm:
        pytest.skip("no libm to stand in")
    r = import_in_subprocess(libm)
    assert r.returncode != 0 and "is not libconvpool" in r.stderr


# ---------------------------------------------------------------- zero copy


def record_run_inputs(monkeypatch):
    """Wraps convpool_op_run_msg to record the input address it receives."""
    seen = []
    real = _lib.lib.convpool_op_run_msg

    def spy(op, ctx, shape, rank, x, *rest):
        seen.append(x)
        return real(op, ctx, shape, rank, x, *rest)

    monkeypatch.setattr(_lib.lib, "convpool_op_run_msg", spy)
    return seen


def address(a):
    return a.__array_interface__["data"][0]


def test_float32_input_is_passed_in_place(monkeypatch):
    seen = record_run_inputs(monkeypatch)
    x = np.random.default_rng(0).random((2, 3, 8, 8), dtype=np.float32)
    convpool.max_pool2d(x, 2)
    unbatched = x[1]
    convpool.avg_pool2d(unbatched, 3, stride=1)
    w = np.ones((4, 3, 3, 3), dtype=np.float32)
    with convpool.Conv2d.from_weights(w) as conv:
        conv(x)
    assert seen == [address(x), address(unbatched), address(x)]


def test_other_inputs_are_converted(monkeypatch):
    seen = record_run_inputs(monkeypatch)
    x = np.random.default_rng(0).random((2, 3, 8, 8))  # float64
    xf = np.asfortranarray(x.astype(np.float32))
    y64 = convpool.max_pool2d(x, 2)
    yf = convpool.max_pool2d(xf, 2)
    assert address(x) not in seen and address(xf) not in seen
    np.testing.assert_array_equal(y64, yf)
    assert y64.dtype == np.float32 and y64.flags.c_contiguous


def test_the_library_reads_the_buffer_itself():
    """A change made through a view is seen by the next run: the library
    reads the caller's memory, not a snapshot of it."""
    x = np.zeros((1, 1, 4, 4), dtype=np.float32)
    view = x.reshape(16)
    with convpool.MaxPool2d(4) as pool:
        assert pool(x)[0, 0, 0, 0] == 0
        view[5] = 42
        assert pool(x)[0, 0, 0, 0] == 42


def test_no_copy_of_a_large_input():
    x = np.ones((1, 4, 1024, 1024), dtype=np.float32)  # 16 MiB
    with convpool.GlobalMaxPool(2) as pool:
        pool(x)  # warm up: anything cached on first use is not counted
        tracemalloc.start()
        try:
            pool(x)
            peak_in_place = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            pool(np.asfortranarray(x))  # needs one C-ordered copy
            peak_converted = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak_in_place < 64 * 1024
    assert peak_converted >= x.nbytes  # the measurement does see copies


# ---------------------------------------------------------------- errors


def test_error_classes():
    assert issubclass(convpool.InvalidArgumentError, convpool.Error)
    assert issubclass(convpool.InvalidArgumentError, ValueError)
    assert issubclass(convpool.OutOfMemoryError, MemoryError)
    assert issubclass(convpool.FileIOError, OSError)
    statuses = {cls.status for cls in (
        convpool.InvalidArgumentError, convpool.InvalidAttributeError,
        convpool.ShapeMismatchError, convpool.SizeOverflowError, convpool.OutOfMemoryError,
        convpool.BufferTooSmallError, convpool.UnsupportedError, convpool.InvalidModelError,
        convpool.FileIOError, convpool.NotFoundError, convpool.InvalidStateError,
        convpool.InternalError)}
    assert statuses == set(range(1, 13))
    for status in statuses:
        assert _lib.lib.convpool_status_string(status).decode() != "unknown status"


X = np.ones((1, 2, 5, 5), dtype=np.float32)


@pytest.mark.parametrize("call,cls,words", [
    (lambda: convpool.conv2d(X, np.ones((1, 2, 3, 3)), stride=0),
     convpool.InvalidAttributeError, ["strides[0] = 0", ">= 1"]),
    (lambda: convpool.conv2d(X, np.ones((1, 2, 3, 3)), dilation=(1, 0)),
     convpool.InvalidAttributeError, ["dilations[1] = 0"]),
    (lambda: convpool.conv2d(X, np.ones((1, 3, 3, 3))),
     convpool.ShapeMismatchError, ["C = 2", "C = 3"]),
    (lambda: convpool.conv2d(X, np.ones((4, 1, 3, 3)), groups=3),
     convpool.ShapeMismatchError, ["group = 3"]),
    (lambda: convpool.max_pool2d(X, 7),
     convpool.ShapeMismatchError, ["kernel_shape[0] = 7", "output size"]),
    (lambda: convpool.conv2d(X, np.ones((1, 2, 3, 3)), stride=2, padding="same"),
     convpool.InvalidAttributeError, ["padding='same'", "strided"]),
    (lambda: convpool.conv2d(X, np.ones((1, 2, 3, 3)), padding="full"),
     convpool.InvalidAttributeError, ["'full'"]),
    (lambda: convpool.max_pool2d(X, 2, padding=2),
     convpool.InvalidAttributeError, ["half of kernel size"]),
    (lambda: convpool.avg_pool2d(X, 2, divisor_override=0),
     convpool.InvalidAttributeError, ["divisor"]),
    (lambda: convpool.max_pool2d(X, (2, 2, 2)),
     convpool.InvalidAttributeError, ["kernel_size"]),
    (lambda: convpool.conv2d(X, "weights"),
     convpool.InvalidArgumentError, ["weight", "float32"]),
    (lambda: convpool.conv2d(object(), np.ones((1, 2, 3, 3))),
     convpool.InvalidArgumentError, ["float32"]),
    (lambda: convpool.max_pool2d(np.ones(5), 2),
     convpool.InvalidArgumentError, ["got 1-D"]),
    (lambda: convpool.max_pool2d(np.float32(3), 2),
     convpool.InvalidArgumentError, ["scalar"]),
    (lambda: convpool.conv2d(X, np.ones((2, 3))),
     convpool.InvalidArgumentError, ["expected 4 dims"]),
    (lambda: convpool.conv2d(X, np.ones((1, 2, 3, 3)), np.ones(2)),
     convpool.InvalidArgumentError, ["bias", "(1,)"]),
    (lambda: convpool.corr2d(np.ones((3, 3, 3)), np.ones((2, 2))),
     convpool.InvalidArgumentError, ["2-D"]),
    (lambda: convpool.adaptive_avg_pool2d(X, 2),
     convpool.UnsupportedError, ["divide"]),
    (lambda: convpool.max_pool2d(np.ones((1, 1, 0, 4), np.float32), 1),
     convpool.InvalidArgumentError, ["shape[2] = 0"]),
])
def test_errors_carry_the_message(call, cls, words):
    with pytest.raises(cls) as info:
        call()
    err = info.value
    assert isinstance(err, convpool.Error) and err.status == cls.status
    for word in words:
        assert word in str(err), str(err)
    assert err.message == str(err)


def test_error_message_is_per_thread():
    """Another thread's failure does not overwrite this thread's message."""
    messages = {}
    strides = [0, (1, -1)]

    def fail(i):
        for _ in range(50):
            try:
                convpool.conv2d(X, np.ones((1, 2, 3, 3)), stride=strides[i])
            except convpool.Error as e:
                messages.setdefault(i, set()).add(str(e).split(":")[0])

    assert not run_in_threads(fail, 2)
    assert messages == {0: {"strides[0] = 0"}, 1: {"strides[1] = -1"}}


# ---------------------------------------------------------------- lifetime


def test_layers_close_deterministically(monkeypatch):
    destroyed = []
    real = _lib.lib.convpool_op_destroy
    monkeypatch.setattr(_lib.lib, "convpool_op_destroy",
                        lambda h: (destroyed.append(h), real(h)))
    with convpool.MaxPool2d(2) as pool:
        handle = pool._handle
        pool(X)
    assert destroyed == [handle] and pool.closed
    with pytest.raises(convpool.InvalidStateError, match="closed"):
        pool(X)
    pool.close()  # closing twice is harmless
    assert destroyed == [handle]

    conv = convpool.Conv2d(2, 3, 3)
    handle = conv._handle
    conv.weight = np.zeros((3, 2, 1, 1))  # repacking frees the old op
    assert destroyed[-1] == handle
    handle = conv._handle
    del conv
    gc.collect()
    assert destroyed[-1] == handle


def test_conv_layer_weights():
    w = np.arange(2 * 2 * 3 * 3, dtype=np.float32).reshape(2, 2, 3, 3)
    b = np.array([1.0, -1.0], dtype=np.float32)
    with convpool.Conv2d(2, 2, 3, padding=1, weight=w, bias=b) as conv:
        assert conv.in_channels == 2 and conv.out_channels == 2
        np.testing.assert_array_equal(conv.weight, w)
        with pytest.raises(ValueError):
            conv.weight[0, 0, 0, 0] = 5  # read-only: assign a new array instead
        y = conv(X)
        w[...] = 0  # the layer packed its own copy at construction
        np.testing.assert_array_equal(conv(X), y)
        np.testing.assert_allclose(y, convpool.conv2d(X, np.arange(36, dtype=np.float32)
                                                      .reshape(2, 2, 3, 3), b, padding=1))
        with pytest.raises(convpool.InvalidArgumentError):
            conv.bias = np.ones(3)
        np.testing.assert_array_equal(conv.bias, b)  # unchanged after the failure
    default = convpool.Conv2d(4, 8, (3, 5), seed=1)
    bound = 1 / np.sqrt(4 * 15)
    assert default.weight.shape == (8, 4, 3, 5) and np.abs(default.weight).max() <= bound
    assert default.bias.shape == (8,)
    assert convpool.Conv2d(4, 8, 3, bias=False).bias is None


# ---------------------------------------------------------------- threads


def test_concurrent_runs_from_python_threads():
    """Two threads run a large convolution at once (ctypes releases the GIL
    during the call); each gets the right answer."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    inputs = [rng.standard_normal((2, 16, 96, 96)).astype(np.float32) for _ in range(2)]
    with convpool.Conv2d.from_weights(w, padding=1) as conv:
        expected = [conv(x) for x in inputs]
        results = [[None] * 3, [None] * 3]

        def work(i):
            for r in range(3):
                results[i][r] = conv(inputs[i])

        errors = run_in_threads(work, 2)
    assert not errors
    for i in range(2):
        for r in range(3):
            np.testing.assert_array_equal(results[i][r], expected[i])


def test_run_message_comes_from_the_run_not_an_earlier_failure():
    """The op run reports through its own message buffer: an earlier,
    unrelated failure of this thread must not show up in its error."""
    with pytest.raises(convpool.InvalidAttributeError):
        convpool.max_pool2d(np.zeros((1, 1, 4, 4), np.float32), 2, stride=0)
    with pytest.raises(convpool.ShapeMismatchError) as e:
        convpool.max_pool2d(np.zeros((1, 1, 1, 1), np.float32), 3)
    assert "stride" not in str(e.value) and "kernel" in str(e.value)
