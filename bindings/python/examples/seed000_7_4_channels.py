#!/usr/bin/python3
"""Seed 000, D2L 7.4 "Multiple Input and Multiple Output Channels":
multi-input correlation (56, 72, 104, 120), three output channels, and the
1x1 convolution as a matrix product."""
import numpy as np

import _d2l
import convpool


def corr2d_multi_in(X, K):
    # One Conv with C input channels sums the per-channel correlations
    return convpool.conv2d(X, K[np.newaxis])[0]


def corr2d_multi_in_out(X, K):
    # Each of K's (c_o) kernels makes one output channel
    return convpool.conv2d(X, K)


# In [7]
X = np.array([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
              [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]], dtype=np.float32)
K = np.array([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]], dtype=np.float32)
_d2l.show(corr2d_multi_in(X, K))

# In [9]
K = np.stack((K, K + 1, K + 2), 0)
print(_d2l.size_str(K.shape))
print()

# In [10]
_d2l.show(corr2d_multi_in_out(X, K))


# In [11]-[12]: a 1x1 convolution is a matrix product over the channels
def corr2d_multi_in_out_1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    X = X.reshape((c_i, h * w))
    K = K.reshape((c_o, c_i))
    Y = np.matmul(K, X)
    return Y.reshape((c_o, h, w))


rng = np.random.default_rng(0)
X = rng.normal(0, 1, (3, 3, 3)).astype(np.float32)
K = rng.normal(0, 1, (2, 3, 1, 1)).astype(np.float32)
Y1 = corr2d_multi_in_out_1x1(X, K)
Y2 = corr2d_multi_in_out(X, K)
assert float(np.abs(Y1 - Y2).sum()) < 1e-6
print("1x1 convolution == matrix product: sum |Y1 - Y2| = %.1e < 1e-6" %
      float(np.abs(Y1 - Y2).sum()))
