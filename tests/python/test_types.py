"""What the binding does with data and arguments it could misread: no silent
change of input values in Model.run (lossless conversion or cast=True only),
complex and non-numeric data refused everywhere, non-int or out-of-range
arguments refused instead of truncated, MaxPool indices of windows with only
padding and of NaN ties, empty batches, the onnxruntime-style face of Model,
the error status codes, the exported names and the package metadata."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import convpool
from conftest import BINDINGS, DATA, SOURCE_ROOT

UINT8_MODEL = os.path.join(DATA, "onnx-node", "test_maxpool_2d_uint8", "model.onnx")
DYNAMIC_MODEL = os.path.join(DATA, "torch", "dynamic_batch", "model.onnx")


@pytest.fixture
def uint8_model(model_api):
    with convpool.Model(UINT8_MODEL) as model:
        yield model


def uint8_input(value, dtype):
    """The uint8 model's (1, 1, 5, 5) input, all 0 except `value` at (2, 3)."""
    x = np.zeros((1, 1, 5, 5), dtype=dtype)
    x[0, 0, 2, 3] = value
    return x


# ---------------------------------------------------------------- Model.run dtypes


@pytest.mark.parametrize("value,dtype,becomes", [
    (300, np.int64, 44), (-1, np.int64, 255), (3.7, np.float64, 3),
    (np.nan, np.float32, 0), (256, np.uint16, 0),
])
def test_model_refuses_a_value_changing_conversion(uint8_model, value, dtype, becomes):
    x = uint8_input(value, dtype)
    with pytest.raises(TypeError) as info:
        uint8_model.run(x)
    err = info.value
    assert isinstance(err, convpool.InputTypeError) and isinstance(err, convpool.Error)
    message = str(err)
    assert "input 'x'" in message, message
    assert np.dtype(dtype).name in message and "declares uint8" in message, message
    assert "(0, 0, 2, 3)" in message and "cast=True" in message, message
    if not np.isnan(value):
        assert repr(value) in message and "become %d" % becomes in message, message


def test_model_cast_true_converts_like_astype(uint8_model):
    for value, becomes in ((300, 44), (-1, 255)):
        y = uint8_model.run(uint8_input(value, np.int64), cast=True)[0]
        assert y.dtype == np.uint8 and y.max() == becomes
    y = uint8_model.run(uint8_input(3.7, np.float64), cast=True)[0]
    assert y.max() == 3


def test_model_converts_only_exact_values(uint8_model, model_api):
    # int64 and float64 data holding uint8 values exactly run as uint8
    for dtype in (np.int64, np.float64, np.int32, np.bool_):
        value = True if dtype is np.bool_ else 200
        y = uint8_model.run(uint8_input(value, dtype))[0]
        assert y.dtype == np.uint8 and y.max() == (1 if dtype is np.bool_ else 200)
    with convpool.Model(DYNAMIC_MODEL) as model:
        exact = np.linspace(-2, 2, 2 * 3 * 12 * 12).reshape(2, 3, 12, 12).astype(np.float32)
        want = model.run(exact)[0]
        # float64 data that float32 holds exactly: no error, same result
        np.testing.assert_array_equal(model.run(exact.astype(np.float64))[0], want)
        np.testing.assert_array_equal(model.run([exact.tolist()])[0], want)
        inexact = exact.astype(np.float64)
        inexact[1, 2, 3, 4] += 1e-12
        with pytest.raises(convpool.InputTypeError, match=r"float64 .*declares float32.*"
                           r"\(1, 2, 3, 4\)"):
            model.run(inexact)
        with pytest.raises(convpool.InputTypeError, match="float64"):
            model.run({"x": np.full((1, 3, 12, 12), 1e300)})  # inf in float32
        np.testing.assert_allclose(model.run(inexact, cast=True)[0], want)


def test_complex_and_non_numeric_input_are_refused(uint8_model, model_api):
    z = np.ones((1, 1, 5, 5), dtype=np.complex64) * (1 + 2j)
    for run in (lambda: uint8_model.run(z), lambda: uint8_model.run(z, cast=True)):
        with pytest.raises(TypeError, match="input 'x' is complex.*imaginary part"):
            run()
    with pytest.raises(convpool.InputTypeError, match="imaginary part"):
        convpool.max_pool2d(z, 2)
    with pytest.raises(convpool.InputTypeError, match="imaginary part"):
        convpool.conv2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2), dtype=complex))
    with pytest.raises(convpool.InputTypeError, match="expected real numbers"):
        convpool.avg_pool1d(np.array([[["a", "b"]]]), 1)
    with pytest.raises(convpool.InputTypeError, match="dtype <U1"):
        uint8_model.run(np.full((1, 1, 5, 5), "a"))


def test_functional_api_converts_to_float32_and_says_so():
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4) + 0.1
    y = convpool.max_pool2d(x, 2)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, convpool.max_pool2d(x.astype(np.float32), 2))
    assert convpool.avg_pool2d(np.ones((1, 1, 2, 2), dtype=np.int64), 2).dtype == np.float32
    for name in convpool.functional.__all__:
        doc = getattr(convpool.functional, name).__doc__
        assert "converted to float32" in doc and "float32 array" in doc, name
        assert re.search(r"\(N, C|\(h, w\)", doc), name  # the shapes


# ---------------------------------------------------------------- argument checks


def test_non_int_arguments_are_refused_not_truncated():
    w = np.ones((4, 2, 1, 1), dtype=np.float32)
    with pytest.raises(convpool.InvalidAttributeError, match=r"groups = 2\.7: expected an int"):
        convpool.conv2d(np.ones((1, 4, 3, 3)), w, groups=2.7)
    with pytest.raises(convpool.InvalidAttributeError, match=r"groups = 2\.0"):
        convpool.Conv2d(4, 4, 1, groups=2.0)
    with pytest.raises(convpool.InvalidAttributeError, match="in_channels = '4'"):
        convpool.Conv2d("4", 4, 1)
    with pytest.raises(convpool.InvalidAttributeError, match="kernel_size = 2.5"):
        convpool.max_pool2d(np.ones((1, 1, 4, 4)), 2.5)
    with pytest.raises(convpool.InvalidArgumentError, match="rank = 2.0"):
        convpool.GlobalAvgPool(2.0)
    # an int of another type is fine
    assert convpool.conv2d(np.ones((1, 4, 3, 3)), w, groups=np.int64(2)).shape == (1, 4, 3, 3)


def test_model_path_and_memory_limit_are_checked(model_api):
    with pytest.raises(convpool.InvalidArgumentError, match="NUL byte"):
        convpool.Model(UINT8_MODEL + "\0junk")
    with pytest.raises(convpool.InvalidArgumentError, match="NUL byte"):
        convpool.Model(os.fsencode(UINT8_MODEL).decode() + "\0")
    for limit in (-1, -2 ** 70):
        with pytest.raises(convpool.InvalidArgumentError, match="memory_limit = -.*>= 0"):
            convpool.Model(UINT8_MODEL, memory_limit=limit)
    for limit in (1.5, "100", True):
        with pytest.raises(convpool.InvalidArgumentError, match="memory_limit = .*expected an int"):
            convpool.Model(UINT8_MODEL, memory_limit=limit)
    with convpool.Model(UINT8_MODEL, memory_limit=np.int64(10 ** 6)) as model:
        assert model.inputs[0].name == "x"


# ---------------------------------------------------------------- MaxPool indices


def test_window_of_only_padding_keeps_index_minus_one():
    # The H window covers rows -1 and 1 (dilation 2) of a 1-row input: padding
    # only. PyTorch gives 7, 8, 9 here, positions outside the plane.
    x = np.arange(7, dtype="f4").reshape(1, 1, 1, 7)
    y, idx = convpool.max_pool2d(x, (2, 3), (2, 1), (1, 0), (2, 2), False, True)
    assert y.shape == idx.shape == (1, 1, 1, 3)
    assert np.all(y == -np.inf)
    np.testing.assert_array_equal(idx, [[[[-1, -1, -1]]]])
    # the same input unbatched, and through the layer
    y1, idx1 = convpool.MaxPool2d((2, 3), (2, 1), (1, 0), (2, 2), return_indices=True)(x[0])
    np.testing.assert_array_equal(idx1, idx[0])


def test_nan_ties_report_the_last_nan_as_torch():
    x = np.array([[[1, np.nan, 2, np.nan, 3]]], dtype=np.float32)
    y, idx = convpool.max_pool1d(x, 5, return_indices=True)
    assert np.isnan(y).all() and idx.tolist() == [[[3]]]
    y, idx = convpool.max_pool1d(x, 3, stride=1, return_indices=True)
    assert idx.tolist() == [[[1, 3, 3]]]
    # 2-D with dilation and padding: the last NaN in row-major window order
    x = np.zeros((1, 1, 4, 4), dtype=np.float32)
    x[0, 0, 0, 2] = x[0, 0, 2, 0] = np.nan
    y, idx = convpool.max_pool2d(x, 3, stride=1, padding=1, dilation=2, return_indices=True)
    assert np.isnan(y[0, 0, 1, 1]) and idx[0, 0, 1, 1] == 2 * 4 + 0
    # a window without NaN keeps the first max
    assert idx[0, 0, 0, 0] == 1 * 4 + 1  # rows 1, 3 and columns 1, 3: all 0


def test_nan_ties_match_torch(torch):
    rng = np.random.default_rng(5)
    checked = 0
    for _ in range(60):
        rank = int(rng.integers(1, 4))
        kernel = tuple(int(k) for k in rng.integers(1, 4, rank))
        stride = tuple(int(s) for s in rng.integers(1, 3, rank))
        dilation = tuple(int(d) for d in rng.integers(1, 3, rank))
        padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
        ceil = bool(rng.integers(0, 2))
        shape = (2, 2) + tuple(int(s) for s in rng.integers(5, 9, rank))
        x = rng.standard_normal(shape).astype(np.float32)
        x[rng.random(shape) < 0.3] = np.nan
        args = (kernel, stride, padding, dilation, ceil, True)
        want_y, want_idx = getattr(torch.nn.functional, "max_pool%dd" % rank)(
            torch.from_numpy(x), *args)
        y, idx = getattr(convpool, "max_pool%dd" % rank)(x, *args)
        np.testing.assert_array_equal(y, want_y.numpy())
        np.testing.assert_array_equal(idx, want_idx.numpy(), err_msg=str(args))
        checked += int(np.isnan(y).sum())
    assert checked > 1000  # NaN windows were really compared


# ---------------------------------------------------------------- empty batch


def test_empty_batch_through_functions_layers_and_model(model_api):
    x = np.zeros((0, 2, 6, 6), dtype=np.float32)
    w = np.ones((3, 2, 3, 3), dtype=np.float32)
    assert convpool.conv2d(x, w, padding=1).shape == (0, 3, 6, 6)
    y, idx = convpool.max_pool2d(x, 2, return_indices=True)
    assert y.shape == idx.shape == (0, 2, 3, 3) and idx.dtype == np.int64
    assert convpool.avg_pool2d(x, 3, 2, 1, divisor_override=2).shape == (0, 2, 3, 3)
    assert convpool.global_max_pool(x).shape == (0, 2, 1, 1)
    assert convpool.adaptive_avg_pool2d(x, 3).shape == (0, 2, 3, 3)
    assert convpool.Conv3d(2, 4, 1)(np.zeros((0, 2, 1, 2, 3))).shape == (0, 4, 1, 2, 3)
    with pytest.raises(convpool.InvalidArgumentError, match=r"shape\[1\] = 0"):
        convpool.max_pool2d(np.zeros((0, 0, 4, 4), np.float32), 2)
    with pytest.raises(convpool.InvalidArgumentError, match=r"shape\[3\] = 0"):
        convpool.max_pool2d(np.zeros((1, 1, 4, 0), np.float32), 2)
    with convpool.Model(DYNAMIC_MODEL) as model:
        out = model.run({"x": np.zeros((0, 3, 12, 12), np.float32)})
        assert out["y"].shape == (0, 2, 1, 1) and out["y"].dtype == np.float32
        # and a normal batch right after, on the same session
        assert model.run(np.ones((2, 3, 12, 12), np.float32))[0].shape == (2, 2, 1, 1)


# ---------------------------------------------------------------- onnxruntime face


def test_onnxruntime_style_model(model_api):
    with convpool.Model(DYNAMIC_MODEL) as model:
        inputs, outputs = model.get_inputs(), model.get_outputs()
        assert [(i.name, i.shape, i.type) for i in inputs] == [
            ("x", ("N", 3, 12, 12), "tensor(float)")]
        assert [(o.name, o.shape, o.type) for o in outputs] == [
            ("y", ("N", 2, 1, 1), "tensor(float)")]
        x = np.random.default_rng(0).standard_normal((2, 3, 12, 12)).astype(np.float32)
        want = model.run({"x": x})["y"]
        got = model.run(None, {inputs[0].name: x})
        assert isinstance(got, list) and len(got) == 1
        np.testing.assert_array_equal(got[0], want)
        np.testing.assert_array_equal(model.run(["y"], {"x": x})[0], want)
        with pytest.raises(convpool.InvalidArgumentError, match="no output named 'z'"):
            model.run(["z"], {"x": x})
        with pytest.raises(convpool.InvalidArgumentError, match="list of names"):
            model.run("y", {"x": x})
        # the keyword spelling of the older signature still works
        np.testing.assert_array_equal(model.run(feeds={"x": x})["y"], want)
        with pytest.raises(convpool.InvalidArgumentError, match="no inputs given"):
            model.run()
    with convpool.Model(UINT8_MODEL) as model:
        assert model.get_inputs()[0].type == "tensor(uint8)"


# ---------------------------------------------------------------- errors, names, metadata


def test_errors_carry_the_status_code():
    with pytest.raises(convpool.ShapeMismatchError) as info:
        convpool.conv2d(np.ones((1, 3, 4, 4)), np.ones((1, 2, 1, 1)))
    assert info.value.status == 3 and info.value.status_name == "shape mismatch"
    # raised by the binding itself: the class's code
    with pytest.raises(convpool.Error) as info:
        convpool.max_pool2d(np.ones((1, 1, 4, 4)), 2.5)
    assert info.value.status == convpool.InvalidAttributeError.status == 2
    assert convpool.InputTypeError.status == convpool.InvalidArgumentError.status == 1


def test_exported_names():
    functional = convpool.functional.__all__
    assert not [n for n in functional if n.endswith("Error")]
    assert set(functional) <= set(convpool.__all__)
    for name in convpool.__all__:
        assert hasattr(convpool, name), name
    assert "Model" in convpool.__all__ and "InputTypeError" in convpool.__all__


def test_package_is_typed():
    assert os.path.isfile(os.path.join(BINDINGS, "convpool", "py.typed"))
    import inspect
    hints = inspect.signature(convpool.max_pool2d).parameters["kernel_size"].annotation
    assert hints != inspect.Parameter.empty
    assert inspect.signature(convpool.Model.run).return_annotation != inspect.Signature.empty


def test_metadata_template_gives_importlib_version(tmp_path):
    """METADATA.in, filled in with the project version and installed as
    convpool-VERSION.dist-info/METADATA next to the package, is what
    importlib.metadata.version("convpool") reads."""
    with open(os.path.join(SOURCE_ROOT, "meson.build")) as f:
        project_version = re.search(r"project\([^)]*?[\s,]version\s*:\s*'([^']+)'", f.read(),
                                    re.S).group(1)
    assert project_version == convpool.__version__
    with open(os.path.join(BINDINGS, "METADATA.in")) as f:
        text = f.read().replace("@VERSION@", project_version)
    info = tmp_path / ("convpool-%s.dist-info" % project_version)
    info.mkdir()
    (info / "METADATA").write_text(text)
    code = "import importlib.metadata as m; print(m.version('convpool'))"
    r = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=str(tmp_path)),
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == convpool.__version__
