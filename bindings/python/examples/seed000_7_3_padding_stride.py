#!/usr/bin/python3
"""Seed 000, D2L 7.3 "Padding and Stride": output shapes of 3x3, 5x3 and
3x5 convolutions on an 8x8 input with padding and strides."""
import numpy as np

import _d2l
import convpool


def comp_conv2d(conv2d, X):
    # (1, 1) indicates that batch size and the number of channels are both 1
    X = X.reshape((1, 1) + X.shape)
    Y = conv2d(X)
    # Strip the first two dimensions: examples and channels
    return Y.reshape(Y.shape[2:])


X = np.random.default_rng(0).random((8, 8), dtype=np.float32)

# In [1]: 1 row and column padded on either side
with convpool.Conv2d(1, 1, kernel_size=3, padding=1) as conv2d:
    print(_d2l.size_str(comp_conv2d(conv2d, X).shape))
print()

# In [2]: kernel 5x3, padding 2 and 1
with convpool.Conv2d(1, 1, kernel_size=(5, 3), padding=(2, 1)) as conv2d:
    print(_d2l.size_str(comp_conv2d(conv2d, X).shape))
print()

# In [3]: stride 2 halves the height and width
with convpool.Conv2d(1, 1, kernel_size=3, padding=1, stride=2) as conv2d:
    print(_d2l.size_str(comp_conv2d(conv2d, X).shape))
print()

# In [4]: a slightly more complicated example
with convpool.Conv2d(1, 1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4)) as conv2d:
    print(_d2l.size_str(comp_conv2d(conv2d, X).shape))
