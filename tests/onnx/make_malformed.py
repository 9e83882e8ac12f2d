#!/usr/bin/python3
"""Writes the malformed (and a few valid reference) models under
tests/data/malformed/. Run with Debian's /usr/bin/python3 (python3-onnx);
the outputs are committed, so the tests need no Python.

Each broken model changes one thing of a small valid model, so that the
refusal the test expects can only come from that one thing.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'malformed')


def conv_pool_model(opset=13, ir=7, nodes=None, inits=None, inputs=None, outputs=None):
    """x(1,2,6,6) -> Conv(W 3x2x3x3, B) -> MaxPool 2x2 -> y."""
    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    if inits is None:
        inits = [numpy_helper.from_array(w, 'W'), numpy_helper.from_array(b, 'B')]
    if nodes is None:
        nodes = [helper.make_node('Conv', ['x', 'W', 'B'], ['c'], name='conv',
                                  pads=[1, 1, 1, 1]),
                 helper.make_node('MaxPool', ['c'], ['y'], name='pool', kernel_shape=[2, 2],
                                  strides=[2, 2])]
    if inputs is None:
        inputs = [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 2, 6, 6])]
    if outputs is None:
        outputs = [helper.make_tensor_value_info('y', TensorProto.FLOAT, ['N', 3, 3, 3])]
    graph = helper.make_graph(nodes, 'g', inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)])
    model.ir_version = ir
    return model


def save(model, name):
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(model if isinstance(model, bytes) else model.SerializeToString())


def main():
    os.makedirs(OUT, exist_ok=True)
    base = conv_pool_model()
    save(base, 'base.onnx')

    m = conv_pool_model()
    m.graph.initializer[0].raw_data = m.graph.initializer[0].raw_data[:-4]
    save(m, 'wrong_raw_size.onnx')

    m = conv_pool_model()
    m.graph.initializer[1].dims[0] = -3
    save(m, 'negative_dim.onnx')

    m = conv_pool_model()
    del m.graph.initializer[1].dims[:]
    m.graph.initializer[1].dims.extend([1 << 40, 1 << 40])
    save(m, 'overflow_dims.onnx')

    m = conv_pool_model()
    m.graph.node[1].op_type = 'Relu'
    del m.graph.node[1].attribute[:]
    save(m, 'unknown_op.onnx')

    m = conv_pool_model(nodes=[
        helper.make_node('MaxPool', ['x', ], ['a'], name='p1', kernel_shape=[1, 1]),
        helper.make_node('Identity', ['b'], ['c'], name='id'),
        helper.make_node('Identity', ['c'], ['b'], name='back'),
        helper.make_node('MaxPool', ['b'], ['y'], name='p2', kernel_shape=[1, 1])],
        outputs=[helper.make_tensor_value_info('y', TensorProto.FLOAT, None)])
    save(m, 'cyclic.onnx')

    m = conv_pool_model()
    del m.graph.initializer[0]
    save(m, 'missing_initializer.onnx')

    m = conv_pool_model()
    del m.graph.node[1].attribute[1]  # strides (ints) ...
    m.graph.node[1].attribute.append(helper.make_attribute('strides', 2))  # ... as an INT
    save(m, 'wrong_attribute_type.onnx')

    m = conv_pool_model(opset=11, nodes=[
        helper.make_node('AveragePool', ['x'], ['y'], name='avg', kernel_shape=[2, 2],
                         dilations=[2, 2])],
        outputs=[helper.make_tensor_value_info('y', TensorProto.FLOAT, None)])
    save(m, 'attribute_not_in_opset.onnx')

    for name, location in [('external_dotdot.onnx', '../onnx-node/README.md'),
                           ('external_absolute.onnx', '/etc/passwd'),
                           ('external_symlink.onnx', 'link_outside.bin'),
                           ('external_ok.onnx', 'external_ok.bin')]:
        m = conv_pool_model()
        t = m.graph.initializer[0]
        data = t.raw_data
        t.ClearField('raw_data')
        t.data_location = TensorProto.EXTERNAL
        for k, v in [('location', location), ('offset', '0'), ('length', str(len(data)))]:
            e = t.external_data.add()
            e.key, e.value = k, v
        if name == 'external_ok.onnx':
            with open(os.path.join(OUT, 'external_ok.bin'), 'wb') as f:
                f.write(data)
        save(m, name)
    link = os.path.join(OUT, 'link_outside.bin')
    if not os.path.lexists(link):
        os.symlink('../onnx-node/README.md', link)

    m = conv_pool_model()
    m.graph.node[1].output[0] = 'c'  # 'c' is already the Conv's output
    save(m, 'duplicate_name.onnx')

    m = conv_pool_model(outputs=[helper.make_tensor_value_info('z', TensorProto.FLOAT, None)])
    save(m, 'missing_output.onnx')

    m = conv_pool_model(opset=11, nodes=[
        helper.make_node('MaxPool', ['x'], ['y'], name='pool', kernel_shape=[2, 2])],
        inputs=[helper.make_tensor_value_info('x', TensorProto.UINT8, [1, 2, 6, 6])],
        outputs=[helper.make_tensor_value_info('y', TensorProto.UINT8, None)], inits=[])
    save(m, 'uint8_before_opset12.onnx')

    save(conv_pool_model(ir=2), 'ir_too_old.onnx')
    save(conv_pool_model(opset=23), 'opset_too_new.onnx')

    m = conv_pool_model()
    t = m.graph.initializer[1]
    vals = np.frombuffer(t.raw_data, dtype=np.float32)
    t.ClearField('raw_data')
    t.float_data.extend(vals[:-1].tolist())
    save(m, 'float_data_count.onnx')

    m = conv_pool_model()
    m.graph.initializer[0].data_type = TensorProto.DOUBLE
    save(m, 'wrong_element_type.onnx')

    # A graph input whose dim_param was copied before the input failed: the
    # copy must be freed (the fuzzer found it leaking), for either failure.
    save(conv_pool_model(inputs=[
        helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', -2, 6, 6])]),
        'dim_param_negative_dim.onnx')
    save(conv_pool_model(inputs=[
        helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 2, 6, 6]),
        helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 2, 6, 6])]),
        'dim_param_duplicate_input.onnx')

    # A few bytes that ask for gigabytes: a 1x1 input padded by 2^14 on every
    # side gives a 32769 x 32769 output (4.3 GB); a declared input of
    # 32768 x 16384 floats (2 GiB) that --info must not allocate.
    def tiny(pool_attrs, in_shape):
        g = helper.make_graph(
            [helper.make_node('MaxPool', ['x'], ['y'], **pool_attrs)], '',
            [helper.make_tensor_value_info('x', TensorProto.FLOAT, in_shape)],
            [helper.make_tensor_value_info('y', TensorProto.FLOAT, None)])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)])
        m.ir_version = 7
        m.ClearField('producer_name')
        m.ClearField('producer_version')
        return m
    save(tiny({'kernel_shape': [1, 1], 'pads': [1 << 14] * 4}, [1, 1, 1, 1]),
         'huge_output_from_pads.onnx')
    save(tiny({'kernel_shape': [1, 1]}, [1, 1, 32768, 16384]), 'huge_declared_input.onnx')

    save(b'', 'empty.onnx')
    save(b'This is not an ONNX model, just some text.\n' * 4, 'not_onnx.onnx')


if __name__ == '__main__':
    main()
