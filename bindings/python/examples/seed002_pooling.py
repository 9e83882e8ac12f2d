#!/usr/bin/python3
"""Seed 002, pooling lecture notes: the concise implementation (MaxPool2d(3),
two channels, padding 1 and stride 2) and the full PyTorch signatures of
MaxPool2d and AvgPool2d, every parameter exercised once."""
import numpy as np

import _d2l
import convpool

X = np.arange(16, dtype=np.float32).reshape((1, 1, 4, 4))

# pool2d = nn.MaxPool2d(3); pool2d(X)  -- the stride defaults to the window
with convpool.MaxPool2d(3) as pool2d:
    _d2l.show(pool2d(X))

# X = torch.cat((X, X + 1), 1); X.shape
X = np.concatenate((X, X + 1), 1)
print(_d2l.size_str(X.shape))
print()

# pool2d = nn.MaxPool2d(3, padding=1, stride=2); pool2d(X).shape
with convpool.MaxPool2d(3, padding=1, stride=2) as pool2d:
    print(_d2l.size_str(pool2d(X).shape))
print()

# MaxPool2d(kernel_size, stride=None, padding=0, dilation=1,
#           return_indices=False, ceil_mode=False)
with convpool.MaxPool2d(2, stride=2, padding=1, dilation=1, return_indices=True,
                        ceil_mode=True) as pool2d:
    values, indices = pool2d(X)
_d2l.show(values)
_d2l.show(indices)

# AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False,
#           count_include_pad=True, divisor_override=None)
for kwargs in ({"count_include_pad": True}, {"count_include_pad": False},
               {"divisor_override": 1}):
    with convpool.AvgPool2d(3, stride=2, padding=1, ceil_mode=False, **kwargs) as pool2d:
        print(kwargs)
        _d2l.show(pool2d(X[:, :1]))
