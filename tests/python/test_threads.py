"""set_num_threads / get_num_threads: the thread count of later runs, results
identical whatever it is, argument checking, and changes while other Python
threads run."""
import os

import numpy as np
import pytest

import convpool
from conftest import DATA, run_in_threads


@pytest.fixture(autouse=True)
def restore_threads():
    before = convpool.get_num_threads()
    yield
    convpool.set_num_threads(before)


def test_default_is_the_library_default():
    # CONVPOOL_NUM_THREADS, else one per online CPU (meson sets neither)
    want = int(os.environ.get("CONVPOOL_NUM_THREADS", "0")) or os.cpu_count()
    assert convpool.get_num_threads() == want


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_set_then_get(n):
    convpool.set_num_threads(n)
    assert convpool.get_num_threads() == n


@pytest.mark.parametrize("bad", [0, -1, 1025, 2.0, "2", None, True])
def test_bad_counts_are_refused(bad):
    before = convpool.get_num_threads()
    with pytest.raises(convpool.InvalidArgumentError, match="set_num_threads"):
        convpool.set_num_threads(bad)
    assert convpool.get_num_threads() == before


def test_results_are_bitwise_identical_for_any_thread_count():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 16, 30, 30), dtype=np.float32)
    w = rng.standard_normal((32, 16, 3, 3), dtype=np.float32)
    b = rng.standard_normal(32, dtype=np.float32)
    results = []
    for n in (1, 2, 3):
        convpool.set_num_threads(n)
        results.append((convpool.conv2d(x, w, b, padding=1),
                        convpool.max_pool2d(x, 3, stride=2, padding=1),
                        convpool.avg_pool2d(x, 2),
                        convpool.global_avg_pool(x)))
    for other in results[1:]:
        for got, want in zip(other, results[0]):
            assert got.tobytes() == want.tobytes()


def test_model_runs_use_the_setting():
    x = np.load(os.path.join(DATA, "models", "edge_detector_input.npy"))
    with convpool.Model(os.path.join(DATA, "models", "edge_detector.onnx")) as model:
        want = model.run([x])
        convpool.set_num_threads(2)
        got = model.run([x])
    assert [g.tobytes() for g in got] == [w.tobytes() for w in want]


def test_changing_the_count_while_other_threads_run():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 8, 40, 40), dtype=np.float32)
    w = rng.standard_normal((8, 8, 3, 3), dtype=np.float32)
    want = convpool.conv2d(x, w, padding=1)

    def work(i):
        for k in range(30):
            if i == 0 and k % 3 == 0:
                convpool.set_num_threads(1 + k % 4)
            assert convpool.conv2d(x, w, padding=1).tobytes() == want.tobytes()

    assert run_in_threads(work, 4) == []
