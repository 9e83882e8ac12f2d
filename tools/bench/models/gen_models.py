#!/usr/bin/python3
"""The whole-model benchmark's nets: the conv/pool backbones of well-known CNNs (their
activations left out: the loader runs Conv and the pools only), built with random He-scaled
weights as initializers, opset 17. Writes DIR/<name>.onnx and DIR/<name>.x.npy (the input).

    /usr/bin/python3 tools/bench/models/gen_models.py --out DIR [names...]

Needs Debian's python3-onnx and python3-numpy. The same seed gives the same files, so the
models are built where the benchmark runs rather than kept in the repository."""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv(m, k, s=1, p=0, g=1):
    return ("conv", dict(m=m, k=k, s=s, p=p, g=g))


def pool(op, k, s=None, p=0):
    return (op, dict(k=k, s=s or k, p=p))


GAP = ("gap", {})

# name: (input shape, layers)
LENET = [conv(6, 5, p=2), pool("avgpool", 2), conv(16, 5), pool("avgpool", 2)]  # D2L's LeNet
MODELS = {
    "lenet_b1": ((1, 1, 28, 28), LENET),
    "lenet_b64": ((64, 1, 28, 28), LENET),
    # VGG-11's first three blocks' convolutions (64, 128, 256, 256) and their pools
    "vgg_blocks": ((1, 3, 224, 224), [conv(64, 3, p=1), pool("maxpool", 2), conv(128, 3, p=1),
                                      pool("maxpool", 2), conv(256, 3, p=1), conv(256, 3, p=1),
                                      pool("maxpool", 2)]),
    # ResNet-50's stem, one bottleneck's main path and the head's pool
    "resnet_stem": ((1, 3, 224, 224), [conv(64, 7, s=2, p=3), pool("maxpool", 3, 2, 1), conv(64, 1),
                                       conv(64, 3, p=1), conv(256, 1), GAP]),
    # MobileNet-v1's depthwise-separable blocks at 112x112 and 56x56
    "mobilenet_dw": ((1, 32, 112, 112), [conv(32, 3, p=1, g=32), conv(64, 1),
                                         conv(64, 3, s=2, p=1, g=64), conv(128, 1),
                                         conv(128, 3, p=1, g=128), conv(128, 1),
                                         conv(128, 3, s=2, p=1, g=128), conv(256, 1), GAP]),
}


def build(name, x_shape, layers, out_dir, seed=0):
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    cur, c = "x", x_shape[1]
    for i, (op, a) in enumerate(layers):
        out = f"t{i}"
        if op == "conv":
            m, k, g = a["m"], a["k"], a["g"]
            fan_in = c // g * k * k
            w = (rng.standard_normal((m, c // g, k, k)) * (2.0 / fan_in) ** 0.5).astype(np.float32)
            b = (rng.standard_normal(m) * 0.1).astype(np.float32)
            inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
            nodes.append(helper.make_node("Conv", [cur, f"w{i}", f"b{i}"], [out], kernel_shape=[k, k],
                                          strides=[a["s"]] * 2, pads=[a["p"]] * 4, group=g))
            c = m
        elif op in ("maxpool", "avgpool"):
            nodes.append(helper.make_node("MaxPool" if op == "maxpool" else "AveragePool", [cur], [out],
                                          kernel_shape=[a["k"]] * 2, strides=[a["s"]] * 2,
                                          pads=[a["p"]] * 4))
        else:
            nodes.append(helper.make_node("GlobalAveragePool", [cur], [out]))
        cur = out
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
                              [helper.make_tensor_value_info(cur, TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="convpool-bench-models")
    model.ir_version = 8
    inferred = onnx.shape_inference.infer_shapes(model)
    model.graph.output[0].CopyFrom(inferred.graph.output[0])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out_dir, name + ".onnx"))
    np.save(os.path.join(out_dir, name + ".x.npy"), rng.standard_normal(x_shape).astype(np.float32))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="directory for the .onnx and .x.npy files")
    ap.add_argument("names", nargs="*", help=f"models to build (default: all of {', '.join(MODELS)})")
    a = ap.parse_args()
    unknown = [n for n in a.names if n not in MODELS]
    if unknown:
        ap.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    os.makedirs(a.out, exist_ok=True)
    for n in a.names or MODELS:
        build(n, *MODELS[n], a.out)


if __name__ == "__main__":
    main()
