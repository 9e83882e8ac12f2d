"""convpool.Model on the committed test models (tests/data: the ONNX backend
node tests and the torch-exported networks) and on models built here with
onnx.helper: metadata, feeds as dict / list / array, dtypes, errors,
lifetime, and runs from several threads."""
import glob
import os

import numpy as np
import pytest

import convpool
from conftest import DATA, run_in_threads

SUPPORTED_OPS = {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool",
                 "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "Constant", "Identity"}
MODEL_DIRS = sorted(os.path.dirname(p) for p in
                    glob.glob(os.path.join(DATA, "onnx-node", "*", "model.onnx")) +
                    glob.glob(os.path.join(DATA, "torch", "*", "model.onnx")))

pytestmark = pytest.mark.usefixtures("model_api")


def load_tensor(onnx, path):
    from onnx import numpy_helper
    return numpy_helper.to_array(onnx.load_tensor(path))


def tolerance(model_dir):
    # This case stores its expected values rounded to 4 decimals (README).
    if model_dir.endswith("ceil_last_window_starts_on_pad"):
        return dict(rtol=1e-3, atol=1e-4)
    return dict(rtol=1e-3, atol=1e-7)


@pytest.mark.parametrize("model_dir", MODEL_DIRS,
                         ids=[os.path.relpath(d, DATA) for d in MODEL_DIRS])
def test_committed_model(onnx, model_dir):
    path = os.path.join(model_dir, "model.onnx")
    ops = {node.op_type for node in onnx.load(path).graph.node}
    if not ops <= SUPPORTED_OPS:
        with pytest.raises(convpool.UnsupportedError) as info:
            convpool.Model(path)
        assert any("'%s'" % op in str(info.value) for op in ops - SUPPORTED_OPS)
        return
    with convpool.Model(path) as model:
        sets = sorted(glob.glob(os.path.join(model_dir, "test_data_set_*")))
        assert sets
        for data_set in sets:
            inputs = [load_tensor(onnx, os.path.join(data_set, "input_%d.pb" % i))
                      for i in range(len(model.inputs))]
            outputs = model.run({info.name: x for info, x in zip(model.inputs, inputs)})
            assert list(outputs) == [info.name for info in model.outputs]
            for i, (name, got) in enumerate(outputs.items()):
                want = load_tensor(onnx, os.path.join(data_set, "output_%d.pb" % i))
                assert got.shape == want.shape and got.dtype == want.dtype, name
                if want.dtype.kind == "f":
                    np.testing.assert_allclose(got, want, err_msg=name, **tolerance(model_dir))
                else:
                    np.testing.assert_array_equal(got, want, err_msg=name)


def conv_pool_model(onnx):
    """x (N, 2, H, W), N and H symbolic -> Conv 3x3 pad 1 -> MaxPool 2x2 with
    Indices: outputs y (float) and idx (int64)."""
    h = onnx.helper
    rng = np.random.default_rng(11)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    graph = h.make_graph(
        [h.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
         h.make_node("MaxPool", ["c"], ["y", "idx"], kernel_shape=[2, 2], strides=[2, 2])],
        "conv_pool",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", 2, "H", 8])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None),
         h.make_tensor_value_info("idx", onnx.TensorProto.INT64, None)],
        [onnx.numpy_helper.from_array(w, "w"), onnx.numpy_helper.from_array(b, "b")])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
    return model.SerializeToString(), w, b


def expected_conv_pool(x, w, b):
    c = convpool.conv2d(x, w, b, padding=1)
    y, idx = convpool.max_pool2d(c, 2, return_indices=True)
    # ONNX Indices count over the whole tensor; max_pool2d's within a plane.
    plane = c.shape[2] * c.shape[3]
    offsets = np.arange(c.shape[0] * c.shape[1]).reshape(c.shape[0], c.shape[1], 1, 1) * plane
    return y, idx + offsets


def test_model_from_bytes(onnx):
    data, w, b = conv_pool_model(onnx)
    with convpool.Model(data) as model:
        assert model.inputs == [convpool.TensorInfo("x", ("N", 2, "H", 8), np.dtype("float32"))]
        assert [o.name for o in model.outputs] == ["y", "idx"]
        assert model.outputs[1].dtype == np.int64
        assert model.node_count == 2
        x = np.random.default_rng(2).standard_normal((2, 2, 6, 8)).astype(np.float32)
        want_y, want_idx = expected_conv_pool(x, w, b)
        by_name = model.run({"x": x})
        np.testing.assert_allclose(by_name["y"], want_y, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(by_name["idx"], want_idx)
        as_list = model.run(x)
        assert isinstance(as_list, list) and len(as_list) == 2
        np.testing.assert_array_equal(as_list[0], by_name["y"])
        # Other shapes for the symbolic dims, and a float64 list input
        # converted on request (cast=True: its values are not float32-exact)
        x2 = np.random.default_rng(3).standard_normal((1, 2, 4, 8))
        y2 = model.run([x2.tolist()], cast=True)[0]
        np.testing.assert_allclose(y2, expected_conv_pool(x2.astype(np.float32), w, b)[0],
                                   rtol=1e-5, atol=1e-6)
        # Outputs are the caller's: a later run does not change them
        before = by_name["y"].copy()
        model.run(x2.astype(np.float32))
        np.testing.assert_array_equal(by_name["y"], before)


def test_model_errors(onnx, tmp_path):
    with pytest.raises(convpool.InvalidModelError):
        convpool.Model(b"not a model")
    with pytest.raises(convpool.FileIOError) as info:
        convpool.Model(str(tmp_path / "missing.onnx"))
    assert "missing.onnx" in str(info.value)
    with pytest.raises(convpool.InvalidArgumentError):
        convpool.Model(42)
    data, _, _ = conv_pool_model(onnx)
    model = convpool.Model(data)
    x = np.zeros((1, 2, 4, 8), dtype=np.float32)
    with pytest.raises(convpool.InvalidArgumentError, match="no input named 'z'"):
        model.run({"z": x})
    with pytest.raises(convpool.InvalidArgumentError, match="has 1 inputs"):
        model.run([x, x])
    with pytest.raises(convpool.ShapeMismatchError):
        model.run(np.zeros((1, 2, 4, 9), dtype=np.float32))  # W is 8 in the model
    model.close()
    with pytest.raises(convpool.InvalidStateError):
        model.run(x)


def test_model_sessions_per_thread(onnx, monkeypatch):
    from convpool import _lib
    destroyed = []
    real = _lib.lib.convpool_session_destroy
    monkeypatch.setattr(_lib.lib, "convpool_session_destroy",
                        lambda h: (destroyed.append(h), real(h)))
    data, w, b = conv_pool_model(onnx)
    rng = np.random.default_rng(4)
    inputs = [rng.standard_normal((4, 2, 64, 8)).astype(np.float32) for _ in range(3)]
    wanted = [expected_conv_pool(x, w, b) for x in inputs]
    with convpool.Model(data) as model:
        def work(i):
            for _ in range(5):
                y, idx = model.run(inputs[i])
                np.testing.assert_allclose(y, wanted[i][0], rtol=1e-5, atol=1e-6)
                np.testing.assert_array_equal(idx, wanted[i][1])

        failures = run_in_threads(work, 3)
        sessions = len(model._sessions)
    assert not failures, failures
    assert sessions == 3  # one per thread
    assert len(destroyed) == 3  # all freed when the model closed
