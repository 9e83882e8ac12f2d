#!/usr/bin/python3
"""Writes tests/data/models/edge_filters.onnx: a grey picture of any size,
(1, 1, H, W), through four hand-set 3x3 filters (Sobel across, Sobel down,
Laplacian, 3x3 mean; padding 1), then a 2x2 max pool, giving the feature
maps (1, 4, H/2, W/2). The README's --save-png picture is made with it.

    make_edge_filters.py OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FILTERS = np.array([
    [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],      # Sobel: vertical edges
    [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],      # Sobel: horizontal edges
    [[0, 1, 0], [1, -4, 1], [0, 1, 0]],        # Laplacian: fine detail
    [[1 / 9] * 3] * 3,                         # 3x3 mean: a blur
], dtype=np.float32).reshape(4, 1, 3, 3)


def build():
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, "H", "W"])
    y = helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, 4, None, None])
    conv = helper.make_node("Conv", ["image", "filters"], ["edges"], name="filters",
                            kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    pool = helper.make_node("MaxPool", ["edges"], ["features"], name="pool",
                            kernel_shape=[2, 2], strides=[2, 2])
    graph = helper.make_graph([conv, pool], "edge_filters", [x], [y],
                              [numpy_helper.from_array(FILTERS, "filters")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="tests/cli/make_edge_filters.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    onnx.save(build(), sys.argv[1])
