"""The example scripts print what the seed notebooks printed, and the
pictures script writes its PNG files."""
import os
import subprocess
import sys

import pytest

from conftest import EXAMPLES

POOL_4x4 = """tensor([[[[ 5.,  7.],
          [13., 15.]]]])"""
TWO_CHANNELS = """tensor([[[[ 5.,  7.],
          [13., 15.]],

         [[ 6.,  8.],
          [14., 16.]]]])"""
CORR2D = """tensor([[19., 25.],
        [37., 43.]])"""
EDGES = "\n".join(["tensor([[ 0.,  1.,  0.,  0.,  0., -1.,  0.],"] +
                  ["        [ 0.,  1.,  0.,  0.,  0., -1.,  0.],"] * 4 +
                  ["        [ 0.,  1.,  0.,  0.,  0., -1.,  0.]])"])
MULTI_IN = """tensor([[ 56.,  72.],
        [104., 120.]])"""
MULTI_OUT = """tensor([[[ 56.,  72.],
         [104., 120.]],

        [[ 76., 100.],
         [148., 172.]],

        [[ 96., 128.],
         [192., 224.]]])"""
SHAPES = ["torch.Size([8, 8])", "torch.Size([4, 4])", "torch.Size([2, 2])"]

EXPECTED = {
    "seed000_7_2_conv_layers.py": [CORR2D, EDGES, "epoch 2, loss 3.543", "epoch 4, loss 0.881",
                                   "epoch 6, loss 0.265", "epoch 8, loss 0.093",
                                   "epoch 10, loss 0.035", "tensor([[ 0.9731, -1.0109]])"],
    "seed000_7_3_padding_stride.py": SHAPES,
    "seed000_7_4_channels.py": [MULTI_IN, "torch.Size([3, 2, 2, 2])", MULTI_OUT],
    "seed000_7_5_pooling.py": ["tensor([[4., 5.],\n        [7., 8.]])",
                               "tensor([[2., 3.],\n        [5., 6.]])", "tensor([[[[10.]]]])",
                               POOL_4x4, TWO_CHANNELS],
    "seed001_conv_layer.py": [CORR2D, EDGES, "batch 0, loss 10.0754", "batch 2, loss 2.47474",
                              "batch 4, loss 0.73647", "batch 6, loss 0.25515",
                              "batch 8, loss 0.09670", "tensor([[[[ 0.9663, -1.0163]]]])"],
    "seed001_padding_stride.py": SHAPES,
    "seed001_channels.py": [MULTI_IN, "torch.Size([3, 2, 2, 2])", MULTI_OUT],
    "seed001_pooling.py": ["tensor([[[[10.]]]])", POOL_4x4, TWO_CHANNELS,
                           "tensor([[[[ 1.,  3.],\n          [ 9., 11.],\n          [13., 15.]]]])"],
    "seed002_pooling.py": ["tensor([[[[10.]]]])", "torch.Size([1, 2, 2, 2])"],
    "seed003_pooling_notebook.py": ["tensor([[[[ 6.,  8.],\n          [14., 16.]]]])",
                                    "tensor([[[[ 3.5000,  5.5000],\n          [11.5000, 13.5000]]]])"],
    "seed004_pooling.py": ["tensor([[4., 5.],\n        [7., 8.]])", "tensor([[[[10.]]]])",
                           POOL_4x4, TWO_CHANNELS],
}


def run(script, *args):
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, script)] + list(args),
                          capture_output=True, text=True, check=True, timeout=120).stdout


def test_every_example_is_checked():
    scripts = {f for f in os.listdir(EXAMPLES) if f.startswith("seed") and f.endswith(".py")}
    assert scripts == set(EXPECTED)


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_prints_the_seed_values(script):
    out = run(script)
    for block in EXPECTED[script]:
        assert block in out, "%s does not print:\n%s\n--- it printed:\n%s" % (script, block, out)


def test_pictures(tmp_path):
    pytest.importorskip("matplotlib", reason="python3-matplotlib is not installed")
    run("pictures.py", str(tmp_path))
    names = sorted(os.listdir(tmp_path))
    assert names == ["avg_pool_2x2_stride2.png", "edge_detection.png",
                     "max_pool_2x2_stride1.png", "max_pool_2x2_stride2.png"]
    for name in names:
        with open(tmp_path / name, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
