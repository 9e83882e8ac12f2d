#!/usr/bin/python3
"""Writes tests/data/onnx-loader/dag.onnx for test_loader.c and
separable.onnx for test_conv_pairs.c (run with Debian's /usr/bin/python3;
the output is committed).

A DAG, deliberately listed out of order, with a symbolic batch dim 'N',
IR version 3 (initializers also listed as graph inputs), a Constant node
and an initializer as weights, Identity, MaxPool with Indices and a global
pool. Weights follow pattern(i) = ((i * 37) % 17 - 8) / 8, which
test_loader.c recomputes to check the graph against single ops.
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'onnx-loader')


def pattern(shape, offset=0):
    n = int(np.prod(shape))
    i = np.arange(offset, offset + n)
    return (((i * 37) % 17 - 8) / 8.0).astype(np.float32).reshape(shape)


def main():
    os.makedirs(OUT, exist_ok=True)
    w1 = numpy_helper.from_array(pattern((4, 2, 3, 3)), 'W1')
    b1 = numpy_helper.from_array(pattern((4,), 100), 'B1')
    w2 = numpy_helper.from_array(pattern((3, 2, 1, 1), 200), 'W2_value')
    nodes = [
        # consumers first: the loader must sort
        helper.make_node('GlobalAveragePool', ['c2'], ['gap'], name='gap'),
        helper.make_node('MaxPool', ['c1'], ['mp', 'mp_idx'], name='mp_with_indices',
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node('Identity', ['c1'], ['c1_copy'], name='id'),
        helper.make_node('Conv', ['p1', 'W2'], ['c2'], name='conv2', group=1),
        helper.make_node('Conv', ['x', 'W1', 'B1'], ['c1'], name='conv1', pads=[1, 1, 1, 1]),
        helper.make_node('AveragePool', ['x'], ['p1'], name='avg', kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], count_include_pad=1),
        helper.make_node('Constant', [], ['W2'], name='w2_const', value=w2),
    ]
    x = helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 2, 6, 6])
    as_inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s))
                 for n, s in [('W1', (4, 2, 3, 3)), ('B1', (4,))]]
    outputs = [helper.make_tensor_value_info('c1_copy', TensorProto.FLOAT, ['N', 4, 6, 6]),
               helper.make_tensor_value_info('mp', TensorProto.FLOAT, None),
               helper.make_tensor_value_info('mp_idx', TensorProto.INT64, None),
               helper.make_tensor_value_info('gap', TensorProto.FLOAT, ['N', 3, 1, 1])]
    graph = helper.make_graph(nodes, 'dag', [x] + as_inputs, outputs, initializer=[w1, b1])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 8)])
    model.ir_version = 3
    with open(os.path.join(OUT, 'dag.onnx'), 'wb') as f:
        f.write(model.SerializeToString())

    separable()


def separable():
    """Depthwise-separable blocks with symbolic N, H and W: depthwise 5x5
    (bias, pads 2) -> pointwise 32 -> 48; depthwise 3x3 with two outputs per
    channel, stride 2, asymmetric pads -> pointwise 96 -> 40 (no bias), a
    graph output; depthwise 3x3 (bias, pads 1) -> pointwise 40 -> 16;
    depthwise -> pointwise 16 -> 8 whose intermediate is a graph output too
    (so that pair must not run fused)."""
    rng = np.random.default_rng(5)

    def weight(name, shape):
        return numpy_helper.from_array(
            (rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(np.float32), name)

    inits = [weight('Wd1', (32, 1, 5, 5)), weight('Bd1', (32,)), weight('Wp1', (48, 32, 1, 1)),
             weight('Bp1', (48,)), weight('Wd2', (96, 1, 3, 3)), weight('Wp2', (40, 96, 1, 1)),
             weight('Wd3', (40, 1, 3, 3)), weight('Bd3', (40,)), weight('Wp3', (16, 40, 1, 1)),
             weight('Wd4', (16, 1, 3, 3)), weight('Wp4', (8, 16, 1, 1))]
    nodes = [
        helper.make_node('Conv', ['x', 'Wd1', 'Bd1'], ['a'], name='dw1', group=32,
                         pads=[2, 2, 2, 2]),
        helper.make_node('Conv', ['a', 'Wp1', 'Bp1'], ['b'], name='pw1'),
        helper.make_node('Conv', ['b', 'Wd2'], ['c'], name='dw2', group=48, strides=[2, 2],
                         pads=[1, 0, 0, 1]),
        helper.make_node('Conv', ['c', 'Wp2'], ['d'], name='pw2'),
        helper.make_node('Conv', ['d', 'Wd3', 'Bd3'], ['e'], name='dw3', group=40,
                         pads=[1, 1, 1, 1]),
        helper.make_node('Conv', ['e', 'Wp3'], ['f'], name='pw3'),
        helper.make_node('Conv', ['f', 'Wd4'], ['g'], name='dw4', group=16, pads=[1, 1, 1, 1]),
        helper.make_node('Conv', ['g', 'Wp4'], ['h'], name='pw4'),
    ]
    x = helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 32, 'H', 'W'])
    outputs = [helper.make_tensor_value_info(v, TensorProto.FLOAT, None) for v in 'dgh']
    graph = helper.make_graph(nodes, 'separable', [x], outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    model.ir_version = 8
    with open(os.path.join(OUT, 'separable.onnx'), 'wb') as f:
        f.write(model.SerializeToString())


if __name__ == '__main__':
    main()
