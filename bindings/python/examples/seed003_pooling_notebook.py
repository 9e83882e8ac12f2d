#!/usr/bin/python3
"""Seed 003, the Jupyter notebook on pooling (7.4): the values its pictures
show. The 4x4 input 1..16 with max pooling 2x2 stride 2 (6, 8, 14, 16),
average pooling 2x2 stride 2 (3.5 = (1+2+5+6)/4, ...), and max pooling 2x2
stride 1 padding 0 (3x3). pictures.py draws the same grids as PNG."""
import numpy as np

import _d2l
import convpool

input_tensor = np.arange(1, 17, dtype=np.float32).reshape(4, 4)
# MaxPool2d needs a four-dimensional input: add the batch and channel dims
input_tensor = input_tensor[np.newaxis, np.newaxis]
_d2l.show(input_tensor)

# 7.4.1: max pooling, window 2x2, stride 2
with convpool.MaxPool2d(kernel_size=2, stride=2) as max_pooling_layer:
    _d2l.show(max_pooling_layer(input_tensor))

# 7.4.1: average pooling, window 2x2, stride 2: (1 + 2 + 5 + 6) / 4 = 3.5
with convpool.AvgPool2d(kernel_size=2, stride=2) as avg_pooling_layer:
    _d2l.show(avg_pooling_layer(input_tensor))

# 7.4.2: max pooling, window 2x2, stride 1, padding 0
with convpool.MaxPool2d(kernel_size=2, stride=1, padding=0) as max_pooling_layer:
    _d2l.show(max_pooling_layer(input_tensor))
