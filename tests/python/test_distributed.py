"""Models and layers shipped to other processes: pickling (a Model as its
model bytes, a layer as its weights and attributes), multiprocessing, and a
batch of images through dask.array.map_blocks on a distributed.LocalCluster
of two worker processes, compared with a run in this process."""
import multiprocessing
import os
import pickle
import shutil

import numpy as np
import pytest

import convpool
from conftest import DATA

DYNAMIC_MODEL = os.path.join(DATA, "torch", "dynamic_batch", "model.onnx")


def images(count, seed=0):
    return np.random.default_rng(seed).standard_normal((count, 3, 12, 12)).astype(np.float32)


def round_trip(obj):
    return pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


LAYERS = [
    lambda: convpool.Conv2d(3, 4, 3, stride=2, padding="valid", dilation=1, seed=1),
    lambda: convpool.Conv2d(3, 6, (3, 1), padding="same", groups=3, bias=False, seed=2),
    lambda: convpool.Conv1d(3, 2, 2, padding=1, seed=3),
    lambda: convpool.Conv3d(3, 2, 1, seed=4),
    lambda: convpool.MaxPool2d(3, 2, 1, dilation=1, return_indices=True, ceil_mode=True),
    lambda: convpool.MaxPool1d(2),
    lambda: convpool.AvgPool2d(3, 1, 1, count_include_pad=False, divisor_override=5),
    lambda: convpool.AvgPool3d(1, ceil_mode=True),
    lambda: convpool.GlobalAvgPool(2),
    lambda: convpool.GlobalMaxPool(1),
]


def layer_input(layer):
    return images(2)[(slice(None), slice(None)) + (0,) * (2 - layer._rank)] \
        if layer._rank <= 2 else images(2)[:, :, None]


@pytest.mark.parametrize("make", LAYERS, ids=lambda make: repr(make()).split("(")[0])
def test_layer_pickles_as_weights_and_attributes(make):
    layer = make()
    copy = round_trip(layer)
    assert type(copy) is type(layer) and repr(copy) == repr(layer)
    assert copy._handle != layer._handle  # its own op
    x = layer_input(layer)
    want, got = layer(x), copy(x)
    for w, g in zip(want if isinstance(want, tuple) else (want,),
                    got if isinstance(got, tuple) else (got,)):
        np.testing.assert_array_equal(g, w)
    if isinstance(layer, convpool.Conv2d):
        np.testing.assert_array_equal(copy.weight, layer.weight)


def test_model_pickles_as_model_bytes(model_api, tmp_path):
    x = images(3)
    with convpool.Model(DYNAMIC_MODEL) as model:
        want = model.run(x)[0]
        data = pickle.dumps(model)
    with open(DYNAMIC_MODEL, "rb") as f:
        assert f.read() in data  # the model itself, not a path
    # the file is gone: the copy still loads, from its bytes
    moved = tmp_path / "model.onnx"
    shutil.copy(DYNAMIC_MODEL, moved)
    with convpool.Model(str(moved), memory_limit=10 ** 7) as model:
        data = pickle.dumps(model)
    moved.unlink()
    with pickle.loads(data) as copy:
        np.testing.assert_array_equal(copy.run(x)[0], want)
        assert copy.get_inputs() == convpool.Model(DYNAMIC_MODEL).get_inputs()
        assert copy._memory_limit == 10 ** 7
    with open(DYNAMIC_MODEL, "rb") as f:
        from_bytes = convpool.Model(f.read())
    np.testing.assert_array_equal(round_trip(from_bytes).run(x)[0], want)
    from_bytes.close()
    with pytest.raises(convpool.InvalidStateError, match="closed"):
        pickle.dumps(from_bytes)


def test_model_with_external_data_pickles_by_path(onnx, model_api, tmp_path):
    # the bytes alone do not load (the weights are in another file): the
    # copy is loaded from the path, which this process still sees
    proto = onnx.load(DYNAMIC_MODEL)
    path = str(tmp_path / "external.onnx")
    onnx.save_model(proto, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    assert os.path.getsize(tmp_path / "weights.bin") > 0
    x = images(2)
    with convpool.Model(path) as model:
        data = pickle.dumps(model)
        want = model.run(x)[0]
    with open(path, "rb") as f:
        with pytest.raises(convpool.Error):
            convpool.Model(f.read())
    with pickle.loads(data) as copy:
        np.testing.assert_array_equal(copy.run(x)[0], want)


def run_model(model, x):
    return model.run(x)[0]


def test_model_through_a_process_pool(model_api):
    x = images(8, seed=1)
    with convpool.Model(DYNAMIC_MODEL) as model:
        want = model.run(x)[0]
        # spawn: a fresh interpreter receives the model only by pickling
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            parts = pool.starmap(run_model, [(model, x[i:i + 2]) for i in range(0, 8, 2)])
    np.testing.assert_array_equal(np.concatenate(parts), want)


def test_dask_map_blocks_on_two_worker_processes(model_api):
    da = pytest.importorskip("dask.array", reason="python3-dask is not installed")
    distributed = pytest.importorskip("distributed",
                                      reason="python3-distributed is not installed")
    x = images(24, seed=2)
    with convpool.Model(DYNAMIC_MODEL) as model:
        want = model.run(x)[0]
        pool = convpool.MaxPool2d(2, return_indices=False)
        want_pool = pool(x)
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            chunks = da.from_array(x, chunks=(6, 3, 12, 12))  # 4 blocks of 6 images
            # a lambda travels by value (cloudpickle); the model in it by
            # Model.__reduce__, loaded again in each worker
            y = chunks.map_blocks(lambda block, m: m.run(block)[0], model, dtype=np.float32,
                                  chunks=(6, 2, 1, 1))
            got = y.compute()
            # a layer as the block function itself
            pooled = chunks.map_blocks(pool, dtype=np.float32, chunks=(6, 3, 6, 6)).compute()
            # which processes ran the blocks: workers only, not this one
            ran_in = chunks.map_blocks(lambda block: np.full((1, 1, 1, 1), os.getpid()),
                                       dtype=np.int64, chunks=(1, 1, 1, 1)).compute()
            pids = client.run(os.getpid)
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    assert set(ran_in.ravel()) <= set(pids.values())
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(pooled, want_pool)
