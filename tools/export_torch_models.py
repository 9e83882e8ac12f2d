#!/usr/bin/python3
"""Export small conv/pool networks with PyTorch's ONNX exporter, as test data.

Each model is written in the ONNX backend-test layout under tests/data/torch:

    tests/data/torch/<name>/model.onnx
    tests/data/torch/<name>/test_data_set_<K>/input_0.pb, output_0.pb

with the outputs computed by torch itself, so `convpool-run --test-dir` checks
libconvpool against a real exporter and a real framework, not against our own
reading of the ONNX spec. The D2L edge detector is also written to
tests/data/models/edge_detector.onnx (+ edge_detector_input.npy), the bundled
example the README runs.

Only ops libconvpool supports are exported (Conv, ConvTranspose, MaxPool,
AveragePool, GlobalAveragePool, GlobalMaxPool): no activations, no
Flatten/Gemm. (torch.onnx writes lp_pool as Pow/AveragePool/Mul, not LpPool.)

Run with Debian's python3-torch (not a pyenv python):
    /usr/bin/python3 tools/export_torch_models.py [--out tests/data]
Seeds are fixed; weights are kept small so the committed files stay small.
"""
import argparse
import contextlib
import os
import shutil

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn
from torch.onnx import symbolic_helper

OPSET_DEFAULT = 13


def seed_everything(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


def conv(in_c, out_c, kernel, weight=None, **kw):
    """A torch conv layer of the right rank; `weight` (nested lists) fixes it."""
    rank = len(kernel) if isinstance(kernel, tuple) else kw.pop("rank", 2)
    cls = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[rank]
    layer = cls(in_c, out_c, kernel, **kw)
    if weight is not None:
        with torch.no_grad():
            layer.weight.copy_(torch.tensor(weight, dtype=torch.float32))
    return layer


@contextlib.contextmanager
def avg_pool_with_count_include_pad():
    """Export AvgPool2d(count_include_pad=True) as one AveragePool node.

    torch 1.13's exporter writes count_include_pad=True with padding as a Pad
    node followed by an unpadded AveragePool; ONNX's AveragePool has the
    count_include_pad attribute for exactly this, so we register a symbolic
    that uses it (the same numbers, one supported node)."""

    @symbolic_helper.parse_args("v", "is", "is", "is", "i", "i", "none")
    def avg_pool2d(g, x, kernel, stride, padding, ceil_mode, count_include_pad,
                   divisor_override=None):
        return g.op("AveragePool", x, kernel_shape_i=kernel,
                    strides_i=stride or kernel, pads_i=list(padding) * 2,
                    ceil_mode_i=ceil_mode, count_include_pad_i=count_include_pad)

    torch.onnx.register_custom_op_symbolic("aten::avg_pool2d", avg_pool2d, OPSET_DEFAULT)
    try:
        yield
    finally:
        torch.onnx.unregister_custom_op_symbolic("aten::avg_pool2d", OPSET_DEFAULT)


def d2l_models():
    """The seed notebook's examples (D2L 7.2-7.5), with the book's numbers."""
    x3 = torch.arange(9, dtype=torch.float32).reshape(1, 1, 3, 3)
    x16 = torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4)
    k = [[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]]
    k3 = [k, (np.array(k) + 1).tolist(), (np.array(k) + 2).tolist()]
    x_multi = torch.stack([x3[0, 0], x3[0, 0] + 1]).unsqueeze(0)
    return [
        ("d2l_corr2d", conv(1, 1, (2, 2), [[[[0.0, 1.0], [2.0, 3.0]]]], bias=False), [x3]),
        ("d2l_edge_detector", edge_detector(), [edge_image()]),
        ("d2l_padding_5x3", conv(1, 1, (5, 3), padding=(2, 1)), [torch.rand(1, 1, 8, 8)]),
        ("d2l_stride_2", conv(1, 1, (3, 3), padding=1, stride=2), [torch.rand(1, 1, 8, 8)]),
        ("d2l_stride_3x4", conv(1, 1, (3, 5), padding=(0, 1), stride=(3, 4)),
         [torch.rand(1, 1, 8, 8)]),
        ("d2l_multi_in_out", conv(2, 3, (2, 2), k3, bias=False), [x_multi]),
        ("d2l_conv_1x1", conv(3, 2, (1, 1)), [torch.normal(0, 1, (1, 3, 3, 3))]),
        ("d2l_maxpool_2x2", nn.MaxPool2d(2, stride=1), [x3]),
        ("d2l_avgpool_2x2", nn.AvgPool2d(2, stride=1), [x3]),
        ("d2l_maxpool_3", nn.MaxPool2d(3), [x16]),
        ("d2l_maxpool_pad_stride", nn.MaxPool2d(3, padding=1, stride=2),
         [torch.cat((x16, x16 + 1), 1)]),
        ("d2l_maxpool_rect", nn.MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1)), [x16]),
    ]


def edge_detector():
    return conv(1, 1, (1, 2), [[[[1.0, -1.0]]]], bias=False)


def edge_image():
    x = torch.ones(6, 8)
    x[:, 2:6] = 0
    return x.reshape(1, 1, 6, 8)


def network_models():
    """Conv/pool stacks the way real networks use them."""
    lenet = nn.Sequential(
        conv(1, 6, (5, 5), padding=2), nn.AvgPool2d(2, stride=2),
        conv(6, 16, (5, 5)), nn.MaxPool2d(2, stride=2),
        conv(16, 24, (5, 5)))
    net_1d = nn.Sequential(
        conv(3, 4, (3,), padding=1), nn.MaxPool1d(2),
        conv(4, 4, (3,), stride=2, dilation=2), nn.AvgPool1d(2))
    net_3d = nn.Sequential(
        conv(2, 4, (3, 3, 3), padding=1), nn.MaxPool3d(2),
        conv(4, 4, (1, 3, 3)), nn.AvgPool3d((1, 2, 2)), nn.AdaptiveAvgPool3d(1))
    depthwise = nn.Sequential(
        conv(8, 8, (3, 3), padding=1, groups=8), conv(8, 16, (1, 1)),
        nn.AdaptiveMaxPool2d(1))
    grouped_dilated = nn.Sequential(
        conv(4, 6, (3, 3), padding=2, dilation=2, groups=2),
        nn.MaxPool2d(2, stride=2, dilation=2), nn.AdaptiveAvgPool2d(1))
    return [
        ("lenet_like", lenet, [torch.rand(1, 1, 28, 28)]),
        ("net_1d", net_1d, [torch.randn(2, 3, 20)]),
        ("net_3d", net_3d, [torch.randn(1, 2, 6, 8, 8)]),
        ("depthwise_separable", depthwise, [torch.randn(1, 8, 10, 10)]),
        ("grouped_dilated", grouped_dilated, [torch.randn(1, 4, 12, 12)]),
    ]


def pooling_variant_models():
    x7 = torch.randn(1, 2, 7, 7)
    x8 = torch.randn(1, 2, 8, 8)
    return [
        ("maxpool_ceil_mode", nn.MaxPool2d(3, stride=2, ceil_mode=True), [x8]),
        ("maxpool_ceil_mode_pad", nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), [x8]),
        ("avgpool_ceil_mode", nn.AvgPool2d(3, stride=2, ceil_mode=True), [x8]),
        ("avgpool_exclude_pad", nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
         [x7]),
        ("avgpool_include_pad", nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=True),
         [x7]),
        ("avgpool_ceil_exclude_pad",
         nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), [x8]),
    ]


def transpose(in_c, out_c, kernel, rank=2, **kw):
    """A torch transposed-conv layer of the given rank."""
    cls = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}[rank]
    return cls(in_c, out_c, kernel, **kw)


def transpose_models():
    """Decoders the way real networks build them: a DCGAN-style generator
    (k4 s2 p1), a U-Net up-convolution (k2 s2) after an encoder step, and
    1-D / 3-D layers with groups, dilation and output_padding."""
    dcgan = nn.Sequential(transpose(8, 6, 4, stride=2, padding=1),
                          transpose(6, 3, 4, stride=2, padding=1))
    unet = nn.Sequential(conv(3, 8, (3, 3), padding=1), nn.MaxPool2d(2),
                         transpose(8, 4, 2, stride=2))
    odd_1d = nn.Sequential(transpose(4, 6, 3, rank=1, stride=2, padding=1, output_padding=1,
                                     groups=2, dilation=2))
    odd_3d = nn.Sequential(transpose(2, 4, (2, 3, 3), rank=3, stride=(1, 2, 2),
                                     padding=(0, 1, 1), output_padding=(0, 1, 1), groups=2))
    return [
        ("convtranspose_dcgan", dcgan, [torch.randn(1, 8, 4, 4)]),
        ("convtranspose_unet_up", unet, [torch.randn(1, 3, 8, 8)]),
        ("convtranspose_1d_groups_dilation", odd_1d, [torch.randn(2, 4, 7)]),
        ("convtranspose_3d", odd_3d, [torch.randn(1, 2, 3, 5, 5)]),
    ]


def exclude_zero_padding(model):
    """AvgPool layers with padding 0: count_include_pad=False, same numbers.

    torch's default count_include_pad=True makes its exporter emit a Pad node
    in front of every AveragePool, even when there is nothing to pad; with no
    padding the setting cannot change a result, so turn it off and export the
    single AveragePool node a hand-written model would have."""
    for m in model.modules():
        if isinstance(m, (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)):
            padding = m.padding if isinstance(m.padding, tuple) else (m.padding,)
            if not any(padding):
                m.count_include_pad = False


def write_tensor(path, array, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(array), name).SerializeToString())


def export(out_root, name, model, inputs, opset=OPSET_DEFAULT, dynamic_batch=False,
           input_name="x", output_name="y"):
    """Export `model` and write one test_data_set per input tensor."""
    model.eval()
    exclude_zero_padding(model)
    folder = os.path.join(out_root, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    model_path = os.path.join(folder, "model.onnx")
    dynamic_axes = {input_name: {0: "N"}, output_name: {0: "N"}} if dynamic_batch else None
    needs_include_pad = any(isinstance(m, nn.AvgPool2d) and m.count_include_pad and m.padding
                            for m in model.modules())
    guard = avg_pool_with_count_include_pad() if needs_include_pad else contextlib.nullcontext()
    with guard, torch.no_grad():
        torch.onnx.export(model, (inputs[0],), model_path, opset_version=opset,
                          input_names=[input_name], output_names=[output_name],
                          dynamic_axes=dynamic_axes)
    ops = sorted({node.op_type for node in onnx.load(model_path).graph.node})
    onnx.checker.check_model(model_path)
    for k, x in enumerate(inputs):
        data_dir = os.path.join(folder, f"test_data_set_{k}")
        os.makedirs(data_dir)
        with torch.no_grad():
            y = model(x)
        write_tensor(os.path.join(data_dir, "input_0.pb"), x.numpy(), input_name)
        write_tensor(os.path.join(data_dir, "output_0.pb"), y.numpy(), output_name)
    line = (f"{name}: opset {opset}, ops {', '.join(ops)}, "
            f"{len(inputs)} data set(s), output {tuple(y.shape)}")
    print(line)
    EXPORTED.append(line)
    return model_path


EXPORTED = []


def write_provenance(torch_root):
    """tests/data/torch/README.md: where these files come from."""
    with open(os.path.join(torch_root, "README.md"), "w") as f:
        f.write("# Models exported by PyTorch\n\n"
                "Generated by `tools/export_torch_models.py` (do not edit by hand; rerun it)\n"
                f"with torch {torch.__version__} and onnx {onnx.__version__}: each folder holds\n"
                "`model.onnx` from `torch.onnx.export` and `test_data_set_<K>/input_0.pb`,\n"
                "`output_0.pb` with the output torch computed. The `cli` test suite runs\n"
                "`convpool-run --test-dir` on every folder.\n\n")
        for line in EXPORTED:
            if not line.startswith("_"):
                f.write(f"- {line}\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(here, "..", "tests", "data"),
                        help="the tests/data folder to write torch/ and models/ into")
    args = parser.parse_args()
    torch_root = os.path.join(args.out, "torch")
    os.makedirs(torch_root, exist_ok=True)

    seed_everything(0)
    for name, model, inputs in d2l_models() + network_models() + pooling_variant_models():
        export(torch_root, name, model, inputs)

    seed_everything(1)
    dynamic = nn.Sequential(conv(3, 4, (3, 3), padding=1), nn.MaxPool2d(2),
                            conv(4, 2, (3, 3), stride=2), nn.AvgPool2d(2))
    export(torch_root, "dynamic_batch", dynamic,
           [torch.randn(2, 3, 12, 12), torch.randn(3, 3, 12, 12)], dynamic_batch=True)
    seed_everything(2)
    export(torch_root, "opset11_conv_pool",
           nn.Sequential(conv(2, 3, (3, 3), padding=1, stride=2), nn.MaxPool2d(2, padding=1)),
           [torch.randn(1, 2, 9, 9)], opset=11)
    export(torch_root, "opset17_conv_pool",
           nn.Sequential(conv(2, 3, (2, 2)), nn.AvgPool2d(2, ceil_mode=True)),
           [torch.randn(1, 2, 9, 9)], opset=17)
    seed_everything(3)
    for name, model, inputs in transpose_models():
        export(torch_root, name, model, inputs)
    export(torch_root, "convtranspose_dynamic_batch",
           nn.Sequential(transpose(3, 2, 3, stride=2, padding=1, output_padding=1)),
           [torch.randn(2, 3, 5, 5), torch.randn(3, 3, 5, 5)], dynamic_batch=True)

    write_provenance(torch_root)

    # The README's bundled example: named X -> Y as in the book.
    models_dir = os.path.join(args.out, "models")
    os.makedirs(models_dir, exist_ok=True)
    path = os.path.join(models_dir, "edge_detector.onnx")
    tmp = export(models_dir, "_edge_tmp", edge_detector(), [edge_image()],
                 input_name="X", output_name="Y")
    shutil.move(tmp, path)
    shutil.rmtree(os.path.dirname(tmp))
    np.save(os.path.join(models_dir, "edge_detector_input.npy"), edge_image().numpy())
    print(f"wrote {path} and edge_detector_input.npy")


if __name__ == "__main__":
    main()
