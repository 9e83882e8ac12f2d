#!/usr/bin/python3
"""Seed 001, "池化层" (pooling) and its code: pool2d max/avg (In [28]-[29]),
MaxPool2d with the default stride (In [31]), padding 1 and stride 2
(In [32]), the (2, 3) window with padding (1, 1) and stride (2, 3) giving
[[1, 3], [9, 11], [13, 15]] (In [33]), and two channels (In [34]-[35])."""
import _d2l

_d2l.pooling_cells(rect_kernel=(2, 3), rect_stride=(2, 3), rect_padding=(1, 1))
