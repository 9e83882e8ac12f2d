#!/usr/bin/python3
"""Seed 001, "多输入多输出通道" (multiple input and output channels) and
"1x1 卷积等价于全连接" (1x1 convolution as a fully connected layer)."""
import numpy as np

import _d2l
import convpool

# In [19]: two input channels summed into one output channel
X = np.array([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
              [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]], dtype=np.float32)
K = np.array([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]], dtype=np.float32)
_d2l.show(convpool.conv2d(X, K[np.newaxis])[0])

# In [21]-[22]: three output channels
K = np.stack((K, K + 1, K + 2), 0)
print(_d2l.size_str(K.shape))
print()
_d2l.show(convpool.conv2d(X, K))

# In [25]: the 1x1 convolution equals a matrix product over channels
rng = np.random.default_rng(1)
X = rng.normal(0, 1, (3, 3, 3)).astype(np.float32)
K = rng.normal(0, 1, (2, 3, 1, 1)).astype(np.float32)
Y1 = np.matmul(K.reshape(2, 3), X.reshape(3, 9)).reshape(2, 3, 3)
Y2 = convpool.conv2d(X, K)
assert float(np.abs(Y1 - Y2).sum()) < 1e-6
print("1x1 convolution == matrix product: sum |Y1 - Y2| = %.1e < 1e-6" %
      float(np.abs(Y1 - Y2).sum()))
