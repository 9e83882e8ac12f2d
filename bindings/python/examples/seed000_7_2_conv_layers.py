#!/usr/bin/python3
"""Seed 000, D2L 7.2 "Convolutions for Images", recomputed with convpool:
corr2d, edge detection with the kernel [1, -1], the transposed image, and
learning that kernel by gradient descent (lr 3e-2, 10 epochs)."""
import numpy as np

import _d2l
import convpool

# In [23]: corr2d(X, K)
X = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]], dtype=np.float32)
K = np.array([[0.0, 1.0], [2.0, 3.0]], dtype=np.float32)
_d2l.show(convpool.corr2d(X, K))

# In [25]: a 6x8 image, black (0) in the middle four columns
X = _d2l.edge_image()
_d2l.show(X)

# In [26]-[27]: the kernel [1, -1] finds the vertical edges: 1 and -1
K = np.array([[1.0, -1.0]], dtype=np.float32)
Y = convpool.corr2d(X, K)
_d2l.show(Y)

# In [28]: on the transposed image the edges are horizontal: nothing is found
_d2l.show(convpool.corr2d(np.ascontiguousarray(X.T), K))

# In [29]: learn the kernel from X and Y. PyTorch drew the starting kernel at
# random and did not print it; _d2l recovers it from the printed numbers.
# _d2l.learn_kernel trains a convpool.Conv2d built with training=True: each
# epoch runs it forward, takes the kernel's gradient from its backward() (the
# library's own, no formula here), steps `w -= lr * dw` on the kernel array
# and update()s the layer.
X = X.reshape((1, 1, 6, 8))
Y = Y.reshape((1, 1, 6, 7))
lr = 3e-2  # Learning rate
w = _d2l.recover_initial_kernel(X, Y, lr, loss_steps=[1, 3, 5, 7, 9],
                                losses=[3.543, 0.881, 0.265, 0.093, 0.035], loss_digits=3,
                                final_kernel=[0.9731, -1.0109])
for i, loss in _d2l.learn_kernel(X, Y, w, lr):
    if (i + 1) % 2 == 0:
        print(f'epoch {i + 1}, loss {loss:.3f}')
print()

# In [30]: the learned kernel, close to [1, -1]
_d2l.show(w.reshape((1, 2)))
