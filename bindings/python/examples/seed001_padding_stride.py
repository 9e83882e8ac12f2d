#!/usr/bin/python3
"""Seed 001, "填充和步幅" (padding and stride): output shapes on an 8x8 input."""
import numpy as np

import _d2l
import convpool


def comp_conv2d(conv2d, x):
    x = x.reshape((1, 1) + x.shape)  # add the batch and channel dims
    y = conv2d(x)
    return y.reshape(y.shape[2:])    # and strip them


x = np.random.default_rng(1).random((8, 8), dtype=np.float32)
for kwargs in ({"kernel_size": 3, "padding": 1},
               {"kernel_size": (5, 3), "padding": (2, 1)},
               {"kernel_size": 3, "padding": 1, "stride": 2},
               {"kernel_size": (3, 5), "padding": (0, 1), "stride": (3, 4)}):
    with convpool.Conv2d(1, 1, **kwargs) as conv2d:
        print(_d2l.size_str(comp_conv2d(conv2d, x).shape))
    print()
