#!/usr/bin/python3
"""Seed 004, D2L "汇聚层" (pooling, Chinese edition): pool2d max/avg,
MaxPool2d with default stride, padding and stride, rectangular windows, two
channels; then the section's exercises computed with convpool."""
import numpy as np

import _d2l
import convpool

# pool2d(X, (2, 2)): max(0, 1, 3, 4) = 4, max(1, 2, 4, 5) = 5, ...; then
# MaxPool2d: default stride, padding and stride, (2, 3) window, two channels
X = _d2l.pooling_cells(rect_kernel=(2, 3), rect_stride=(2, 3), rect_padding=(0, 1))

# TensorFlow's variant pads (1, 0) before a VALID 3x3 stride-2 pool: the
# same numbers, which asymmetric pads give directly (ONNX pads begin/end).
X1 = X[:, :1]
print("tf.pad((1, 0)) + MaxPool2D(3, 'valid', strides=2):")
_d2l.show(convpool.max_pool2d(np.pad(X1, ((0, 0), (0, 0), (1, 0), (1, 0)),
                                     constant_values=-np.inf), 3, stride=2))

# Exercise 1: average pooling as a convolution with a constant kernel
avg_as_conv = convpool.conv2d(X, np.full((2, 1, 2, 2), 0.25, dtype=np.float32), groups=2)
assert np.allclose(avg_as_conv, convpool.avg_pool2d(X, 2, stride=1))
print("exercise 1: avg_pool2d(X, 2, stride=1) == conv2d(X, 1/4 everywhere, groups=2)")

# Exercise 3: the cost of a p_h x p_w pool with padding (p_h // 2, p_w // 2)
# and stride (s_h, s_w) on c x h x w: one comparison per window element of
# each output, c * h_out * w_out * p_h * p_w.
ph, pw, sh, sw = 2, 2, 2, 2
out = convpool.max_pool2d(X[0], (ph, pw), stride=(sh, sw), padding=(ph // 2, pw // 2))
print("exercise 3: input %s -> output %s, %d comparisons" %
      (_d2l.size_str(X[0].shape), _d2l.size_str(out.shape), out.size * ph * pw))

# Exercise 5: min pooling is max pooling of the negation
min_pool = -convpool.max_pool2d(-X, 2, stride=1)
print("exercise 5: min pooling = -max_pool2d(-X):")
_d2l.show(min_pool)

# Exercise 6: softmax pooling, sum(softmax(window) * window), from two
# average pools: mean(x e^x) / mean(e^x) over each window.
E = np.exp(X - X.max())
softmax_pool = convpool.avg_pool2d(X * E, 2, stride=1) / convpool.avg_pool2d(E, 2, stride=1)
print("exercise 6: softmax pooling:")
_d2l.show(softmax_pool)
