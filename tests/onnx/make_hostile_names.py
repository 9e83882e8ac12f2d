#!/usr/bin/python3
"""Writes models whose names would drive a terminal if printed raw, under
tests/data/hostile-names/. Run with Debian's /usr/bin/python3
(python3-onnx); the outputs are committed, so the C tests need no Python.

Names are set to same-length ASCII placeholders, then the placeholders are
replaced in the serialized bytes: protobuf's Python API will not store
invalid UTF-8 in a string field, but a file from a stranger can hold it.

  valid_utf8.onnx    MaxPool; node name with an OSC title sequence
                     (ESC ] 0 ; ... BEL), input with a C1 CSI (U+009B, as
                     UTF-8), output with a right-to-left override (U+202E),
                     dim name with an SGR sequence (ESC [ 31 m)
  invalid_utf8.onnx  MaxPool; node, input and output names with bytes that
                     are not UTF-8 (0xff, a lone 0x9b, a cut sequence)
  op_type_csi.onnx   op type "MaxPool" + 0xff + an 8-bit CSI "ESC-less"
                     clear-screen (0x9b [2J), node name with an OSC title:
                     refused as an unsupported op
  bad_attr_name.onnx an attribute named with ESC [2J on a MaxPool: refused
"""
import os
import sys

import onnx
from onnx import TensorProto, helper

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'hostile-names')

# What each placeholder becomes; the test programs know these bytes too.
NAMES = {
    'valid_utf8.onnx': {
        'NODE': b'pool\x1b]0;pwned\x07',
        'INPUT': b'x\xc2\x9b[2J',
        'OUTPUT': b'y\xe2\x80\xae',
        'DIM': b'N\x1b[31m',
    },
    'invalid_utf8.onnx': {
        'NODE': b'n\xff\xfe',
        'INPUT': b'in\xff\x9b[2J',
        'OUTPUT': b'out\xc3',
        'DIM': b'N',
    },
    'op_type_csi.onnx': {
        'NODE': b'\x1b]0;t\x07',
        'INPUT': b'x',
        'OUTPUT': b'y',
        'DIM': b'N',
        'OPTYPE': b'MaxPool\xff\x9b[2J',
    },
    'bad_attr_name.onnx': {
        'NODE': b'pool',
        'INPUT': b'x',
        'OUTPUT': b'y',
        'DIM': b'N',
        'ATTR': b'k\x1b[2J',
    },
}


def placeholder(key, raw):
    """An ASCII stand-in of the same length, unlikely elsewhere in a model
    (a plain one-letter name stands for itself)."""
    if len(raw) < 2:
        return raw.decode()
    text = ('@' + key + '#' * len(raw))[:len(raw)]
    assert len(text) == len(raw), (key, raw)
    return text


def build(names):
    ph = {k: placeholder(k, v) for k, v in names.items()}
    attrs = {'kernel_shape': [2, 2]}
    if 'ATTR' in ph:
        attrs[ph['ATTR']] = 1
    node = helper.make_node('MaxPool', [ph['INPUT']], [ph['OUTPUT']], name=ph['NODE'], **attrs)
    if 'OPTYPE' in ph:
        node.op_type = ph['OPTYPE']
    dim = ph['DIM']
    graph = helper.make_graph(
        [node], 'g',
        [helper.make_tensor_value_info(ph['INPUT'], TensorProto.FLOAT, [dim, 1, 4, 4])],
        [helper.make_tensor_value_info(ph['OUTPUT'], TensorProto.FLOAT, [dim, 1, 3, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 7
    data = model.SerializeToString()
    for key, raw in names.items():
        if len(raw) < 2:
            continue
        stand_in = ph[key].encode()
        assert stand_in in data, key
        data = data.replace(stand_in, raw)
    for key in names:
        assert ph[key].startswith('@') is False or ph[key].encode() not in data, key
    return data


def main():
    os.makedirs(OUT, exist_ok=True)
    for file, names in NAMES.items():
        with open(os.path.join(OUT, file), 'wb') as f:
            f.write(build(names))


if __name__ == '__main__':
    main()
