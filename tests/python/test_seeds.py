"""Every value the seed notebooks print (../shared/seeds, D2L chapter 7),
recomputed with convpool. The expected values are the notebooks' outputs."""
import os
import sys

import numpy as np
import pytest

import convpool
from conftest import EXAMPLES

sys.path.insert(0, EXAMPLES)
import _d2l  # noqa: E402

X3 = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]], dtype=np.float32)
X16 = np.arange(16, dtype=np.float32).reshape((1, 1, 4, 4))
EDGES = np.array([[0, 1, 0, 0, 0, -1, 0]] * 6, dtype=np.float32)


def test_corr2d():
    K = np.array([[0.0, 1.0], [2.0, 3.0]], dtype=np.float32)
    np.testing.assert_array_equal(convpool.corr2d(X3, K), [[19, 25], [37, 43]])
    # seed 001 feeds integer tensors
    np.testing.assert_array_equal(convpool.corr2d(X3.astype(np.int64), K.astype(np.int64)),
                                  [[19, 25], [37, 43]])


def test_edge_detection():
    X = _d2l.edge_image()
    np.testing.assert_array_equal(X[0], [1, 1, 0, 0, 0, 0, 1, 1])
    K = np.array([[1.0, -1.0]], dtype=np.float32)
    np.testing.assert_array_equal(convpool.corr2d(X, K), EDGES)
    np.testing.assert_array_equal(convpool.corr2d(X.T, K), np.zeros((8, 5)))


@pytest.mark.parametrize("steps,losses,digits,final", [
    # seed 000: print(f'epoch {i + 1}, loss {l.sum():.3f}') every other epoch
    ([1, 3, 5, 7, 9], [3.543, 0.881, 0.265, 0.093, 0.035], 3, [0.9731, -1.0109]),
    # seed 001: "batch {}, loss {}" at i = 0, 2, ..., 8
    ([0, 2, 4, 6, 8], [10.075425148010254, 2.4747474193573, 0.7364716529846191,
                       0.25515487790107727, 0.0967092365026474], 16, [0.9663, -1.0163]),
])
def test_learning_the_kernel(steps, losses, digits, final):
    X = _d2l.edge_image().reshape(1, 1, 6, 8)
    Y = EDGES.reshape(1, 1, 6, 7)
    w = _d2l.recover_initial_kernel(X, Y, 3e-2, steps, losses, digits, final)
    got = [loss for i, loss in _d2l.learn_kernel(X, Y, w, 3e-2) if i in steps]
    if digits == 3:
        assert ["%.3f" % v for v in got] == ["%.3f" % v for v in losses]
    else:  # float32 sums in another order: equal to ~1e-6
        np.testing.assert_allclose(got, losses, rtol=2e-6)
    assert ["%.4f" % v for v in w.reshape(2)] == ["%.4f" % v for v in final]


@pytest.mark.parametrize("kwargs,shape", [
    ({"kernel_size": 3, "padding": 1}, (8, 8)),
    ({"kernel_size": (5, 3), "padding": (2, 1)}, (8, 8)),
    ({"kernel_size": 3, "padding": 1, "stride": 2}, (4, 4)),
    ({"kernel_size": (3, 5), "padding": (0, 1), "stride": (3, 4)}, (2, 2)),
])
def test_padding_and_stride_shapes(kwargs, shape):
    x = np.random.default_rng(0).random((1, 1, 8, 8), dtype=np.float32)
    with convpool.Conv2d(1, 1, **kwargs) as conv:
        assert conv(x).shape[2:] == shape


def test_multiple_channels():
    X = np.stack([X3, X3 + 1])
    K = np.array([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]], dtype=np.float32)
    np.testing.assert_array_equal(convpool.conv2d(X, K[None])[0], [[56, 72], [104, 120]])
    K3 = np.stack((K, K + 1, K + 2), 0)
    assert K3.shape == (3, 2, 2, 2)
    np.testing.assert_array_equal(convpool.conv2d(X, K3),
                                  [[[56, 72], [104, 120]], [[76, 100], [148, 172]],
                                   [[96, 128], [192, 224]]])


def test_1x1_conv_is_matmul():
    rng = np.random.default_rng(7)
    X = rng.normal(0, 1, (3, 3, 3)).astype(np.float32)
    K = rng.normal(0, 1, (2, 3, 1, 1)).astype(np.float32)
    Y1 = np.matmul(K.reshape(2, 3), X.reshape(3, 9)).reshape(2, 3, 3)
    assert float(np.abs(Y1 - convpool.conv2d(X, K)).sum()) < 1e-6


def test_pool2d_loops():
    np.testing.assert_array_equal(_d2l.pool2d(X3, (2, 2)), [[4, 5], [7, 8]])
    np.testing.assert_array_equal(_d2l.pool2d(X3, (2, 2), "avg"), [[2, 3], [5, 6]])


@pytest.mark.parametrize("args,kwargs,expected", [
    ((3,), {}, [[10]]),
    ((3,), {"padding": 1, "stride": 2}, [[5, 7], [13, 15]]),
    (((2, 3),), {"stride": (2, 3), "padding": (0, 1)}, [[5, 7], [13, 15]]),
    (((2, 3),), {"padding": (1, 1), "stride": (2, 3)}, [[1, 3], [9, 11], [13, 15]]),
])
def test_maxpool2d_padding_stride(args, kwargs, expected):
    with convpool.MaxPool2d(*args, **kwargs) as pool:
        np.testing.assert_array_equal(pool(X16)[0, 0], expected)


def test_pooling_two_channels():
    X = np.concatenate((X16, X16 + 1), 1)
    assert X.shape == (1, 2, 4, 4)
    np.testing.assert_array_equal(convpool.max_pool2d(X, 3, padding=1, stride=2),
                                  [[[[5, 7], [13, 15]], [[6, 8], [14, 16]]]])


def test_seed003_pictures_values():
    x = np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(convpool.MaxPool2d(2, stride=2)(x)[0, 0], [[6, 8], [14, 16]])
    np.testing.assert_array_equal(convpool.AvgPool2d(2, stride=2)(x)[0, 0],
                                  [[3.5, 5.5], [11.5, 13.5]])
    np.testing.assert_array_equal(convpool.MaxPool2d(2, stride=1, padding=0)(x)[0, 0],
                                  [[6, 7, 8], [10, 11, 12], [14, 15, 16]])


def test_seed004_exercises():
    X = np.concatenate((X16, X16 + 1), 1)
    # pooling as a convolution with a constant kernel
    np.testing.assert_allclose(
        convpool.conv2d(X, np.full((2, 1, 2, 2), 0.25, dtype=np.float32), groups=2),
        convpool.avg_pool2d(X, 2, stride=1))
    # min pooling
    np.testing.assert_array_equal(-convpool.max_pool2d(-X, 2, stride=1)[0, 0],
                                  [[0, 1, 2], [4, 5, 6], [8, 9, 10]])


@pytest.mark.skipif(not convpool._lib.has_training_api,
                    reason="the library has no backward passes")
@pytest.mark.parametrize("start", ["notebook", "seeded"])
def test_learning_the_kernel_converges(start):
    """7.2.4 trained with the library's own gradients (a Conv2d layer's
    backward()) from a fixed start at the seed's lr 3e-2: after 10 epochs the
    loss is below 0.05 and the kernel near [1, -1]."""
    X = _d2l.edge_image().reshape(1, 1, 6, 8)
    Y = EDGES.reshape(1, 1, 6, 7)
    if start == "notebook":  # the start PyTorch drew for the notebook
        w = _d2l.recover_initial_kernel(X, Y, 3e-2, [1, 3, 5, 7, 9],
                                        [3.543, 0.881, 0.265, 0.093, 0.035], 3,
                                        [0.9731, -1.0109])
    else:  # PyTorch's default initialisation, numpy seed 0
        with convpool.Conv2d(1, 1, (1, 2), bias=False, seed=0) as conv:
            w = np.array(conv.weight)
    losses = [loss for _, loss in _d2l.learn_kernel(X, Y, w, 3e-2)]
    assert len(losses) == 10 and losses[-1] < losses[0]
    final = float(np.sum((convpool.conv2d(X, w) - Y) ** 2))
    assert final < 0.05, (losses, final)
    np.testing.assert_allclose(w.reshape(2), [1, -1], atol=0.05)
