#!/usr/bin/python3
"""Seed 000, D2L 7.5 "Pooling": pool2d max/avg (In [14]-[15]), MaxPool2d
with the default stride (In [17]), padding 1 and stride 2 (In [18]), the
(2, 3) window with stride (2, 3) and padding (0, 1) (In [19]), and two
channels (In [20]-[21])."""
import _d2l

_d2l.pooling_cells(rect_kernel=(2, 3), rect_stride=(2, 3), rect_padding=(0, 1))
