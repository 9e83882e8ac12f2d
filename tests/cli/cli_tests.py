#!/usr/bin/python3
"""End-to-end tests of convpool-run, one meson test per case.

    cli_tests.py CONVPOOL_RUN DATA_DIR CASE

DATA_DIR is the source tree's tests/data. Each case runs the real binary and
checks its exit status and output; scratch files go to a temporary folder.
"""
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
from PIL import Image

EXE, DATA = sys.argv[1], sys.argv[2]
EDGE_MODEL = os.path.join(DATA, "models", "edge_detector.onnx")
EDGE_INPUT = os.path.join(DATA, "models", "edge_detector_input.npy")
DYNAMIC = os.path.join(DATA, "torch", "dynamic_batch")


LENET = os.path.join(DATA, "torch", "lenet_like", "model.onnx")
EDGE_FILTERS = os.path.join(DATA, "models", "edge_filters.onnx")


def run(*args, expect=0, stdin=None, binary=False):
    proc = subprocess.run([EXE, *args], capture_output=True, text=not binary, timeout=120,
                          input=stdin)
    where = f"convpool-run {' '.join(args)}"
    assert proc.returncode == expect, (
        f"{where}: exit {proc.returncode}, expected {expect}\n"
        f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def read_pb(path):
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t).copy()  # writable


def write_pb(path, array, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array, name).SerializeToString())


def case_edge_detector_prints_book_result():
    """The README's example prints the D2L book's 6x7 edge map."""
    out = run(EDGE_MODEL, "--input", EDGE_INPUT).stdout
    assert "output 0 'Y': float32 [1, 1, 6, 7]" in out, out
    row = "[ 0.,  1.,  0.,  0.,  0., -1.,  0.]"
    assert out.count(row) == 6, out
    assert "min -1  max 1" in out, out


def case_altered_expected_output_fails():
    """--test-dir must fail when one expected value is changed."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "t")
        shutil.copytree(os.path.join(DATA, "torch", "d2l_multi_in_out"), copy)
        run("--test-dir", copy)  # the untouched copy passes
        path = os.path.join(copy, "test_data_set_0", "output_0.pb")
        expected = read_pb(path)
        assert expected.flat[3] == 120.0, expected  # D2L: [[56, 72], [104, 120]]
        expected.flat[3] = 121.0
        write_pb(path, expected, "y")
        proc = run("--test-dir", copy, expect=1)
        assert "FAIL" in proc.stdout and "got 120, expected 121" in proc.stdout, proc.stdout
        # A tolerance wide enough accepts it again.
        run("--test-dir", copy, "--atol", "1.5")


def case_altered_shape_fails():
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "t")
        shutil.copytree(os.path.join(DATA, "torch", "d2l_corr2d"), copy)
        path = os.path.join(copy, "test_data_set_0", "output_0.pb")
        write_pb(path, read_pb(path).reshape(1, 1, 4, 1), "y")
        proc = run("--test-dir", copy, expect=1)
        assert "shape [1, 1, 2, 2], expected [1, 1, 4, 1]" in proc.stdout, proc.stdout


def case_info():
    out = run("--info", os.path.join(DYNAMIC, "model.onnx"), "--dim", "N=5").stdout
    assert "'x': float32 [N, 3, 12, 12]" in out, out
    assert "'y': float32 [N, 2, 1, 1]" in out, out
    assert "input 'x': [5, 3, 12, 12]" in out and "output 'y': [5, 2, 1, 1]" in out, out
    assert "nodes: 4" in out, out


def node_blocks(out):
    """--info's per-node blocks: {index: text of that node's lines}."""
    blocks, current = {}, None
    for line in out.splitlines():
        if line.startswith("  node "):
            current = int(line.split()[1])
            blocks[current] = line
        elif line.startswith("    ") and current is not None:
            blocks[current] += "\n" + line
        else:
            current = None
    return blocks


def case_info_edge_detector():
    """X (1,1,6,8) * W (1,1,1,2): Y (1,1,6,7); 2 weights, no bias;
    FLOPs 2*N*M*Hout*Wout*(C/group)*kh*kw = 2*1*1*6*7*1*1*2 = 168."""
    out = run("--info", EDGE_MODEL).stdout
    node = node_blocks(out)[0]
    assert "node 0 '/Conv' Conv" in node, out
    assert ("'X' float32 [1, 1, 6, 8], 'weight' float32 [1, 1, 1, 2] -> "
            "'Y' float32 [1, 1, 6, 7]") in node, out
    assert ("attributes: kernel_shape=[1, 2] strides=[1, 1] dilations=[1, 1] "
            "pads=[0, 0, 0, 0] auto_pad=NOTSET group=1") in node, out
    assert "params 2  FLOPs 168" in node, out
    assert "total: params 2  FLOPs 168 " in out, out


def case_info_convtranspose():
    """The DCGAN-style stack: ConvTranspose 8->6 then 6->3, k4 s2 p1.
    Output (in-1)*2 - 2 + 4 = 2*in: 4x4 -> 8x8 -> 16x16.
    FLOPs 2*N*C*Hin*Win*(M/group)*kh*kw: 2*1*8*4*4*6*16 = 24576 and
    2*1*6*8*8*3*16 = 36864; params W + B: 8*6*16 + 6 = 774 and 6*3*16 + 3 = 291.
    Without output_shape none is listed; with it, it is; LpPool shows p."""
    out = run("--info", os.path.join(DATA, "torch", "convtranspose_dcgan", "model.onnx")).stdout
    nodes = node_blocks(out)
    assert "ConvTranspose" in nodes[0] and "-> '/0/ConvTranspose_output_0' float32 [1, 6, 8, 8]" \
        in nodes[0], out
    assert ("attributes: kernel_shape=[4, 4] strides=[2, 2] dilations=[1, 1] "
            "pads=[1, 1, 1, 1] auto_pad=NOTSET group=1 output_padding=[0, 0]\n") in nodes[0], out
    assert "params 774  FLOPs 24576" in nodes[0], out
    assert "-> 'y' float32 [1, 3, 16, 16]" in nodes[1], out
    assert "params 291  FLOPs 36864" in nodes[1], out
    assert "total: params 1065  FLOPs 61440 " in out, out
    out = run("--info", os.path.join(DATA, "onnx-node", "test_convtranspose_output_shape",
                                     "model.onnx")).stdout
    assert "output_padding=[0, 0] output_shape=[10, 8]" in out, out
    assert "FLOPs 324" in out, out  # 2*1*1*3*3*2*9
    out = run("--info", os.path.join(DATA, "onnx-node", "test_lppool_2d_dilations",
                                     "model.onnx")).stdout
    assert "dilations=[2, 2] pads=[0, 0, 0, 0] auto_pad=NOTSET ceil_mode=0 p=2" in out, out
    assert "params 0  FLOPs 16" in out, out  # 1*1*2*2 outputs * 2*2 taps


def case_info_lenet():
    """LeNet-like (opset 13), by hand:
    conv0 1x28x28 -> 6x28x28 (k5 pad 2): params 6*1*25+6 = 156,
        FLOPs 2*1*6*28*28*1*25 = 235200
    avgpool 6x28x28 -> 6x14x14 (k2 s2): FLOPs 1*6*14*14*4 = 4704
    conv2 6x14x14 -> 16x10x10 (k5): params 16*6*25+16 = 2416,
        FLOPs 2*1*16*10*10*6*25 = 480000
    maxpool 16x10x10 -> 16x5x5 (k2 s2): FLOPs 1*16*5*5*4 = 1600
    conv4 16x5x5 -> 24x1x1 (k5): params 24*16*25+24 = 9624,
        FLOPs 2*1*24*1*1*16*25 = 19200
    totals: params 12196, FLOPs 740704."""
    out = run("--info", os.path.join(DATA, "torch", "lenet_like", "model.onnx")).stdout
    nodes = node_blocks(out)
    assert sorted(nodes) == [0, 1, 2, 3, 4], out
    want = {0: ("Conv", 156, 235200, "-> '/0/Conv_output_0' float32 [1, 6, 28, 28]"),
            1: ("AveragePool", 0, 4704, "float32 [1, 6, 14, 14]"),
            2: ("Conv", 2416, 480000, "float32 [1, 16, 10, 10]"),
            3: ("MaxPool", 0, 1600, "float32 [1, 16, 5, 5]"),
            4: ("Conv", 9624, 19200, "-> 'y' float32 [1, 24, 1, 1]")}
    for i, (op, params, flops, shape) in want.items():
        assert f"node {i} '/{i}/{op}' {op}" in nodes[i], nodes[i]
        assert f"params {params}  FLOPs {flops}" in nodes[i], nodes[i]
        assert shape in nodes[i], nodes[i]
    # Defaults the file leaves out: AveragePool-11's count_include_pad,
    # MaxPool-12's storage_order, auto_pad everywhere.
    assert "pads=[2, 2, 2, 2] auto_pad=NOTSET group=1" in nodes[0], nodes[0]
    assert ("kernel_shape=[2, 2] strides=[2, 2] dilations=[1, 1] pads=[0, 0, 0, 0] "
            "auto_pad=NOTSET ceil_mode=0 count_include_pad=0") in nodes[1], nodes[1]
    assert "ceil_mode=0 storage_order=0" in nodes[3], nodes[3]
    assert "total: params 12196  FLOPs 740704 " in out, out


def case_bench_json():
    proc = run("--bench", "5", "--warmup", "1", "--threads", "2", "--json",
               os.path.join(DATA, "torch", "lenet_like", "model.onnx"))
    result = json.loads(proc.stdout)
    assert result["runs"] == 5 and result["threads"] == 2, result
    assert 0 < result["min_ms"] <= result["median_ms"] <= result["max_ms"], result
    assert result["median_ms"] == result["p50_ms"], result
    assert result["p50_ms"] <= result["p90_ms"] <= result["p99_ms"] <= result["max_ms"], result
    assert result["inputs"][0]["shape"] == [1, 1, 28, 28], result
    assert result["flops"] == 740704, result  # as case_info_lenet computes
    assert abs(result["gflops"] - 740704 / (result["median_ms"] * 1e6)) < 1e-3, result


def case_bench_text_dynamic_dim():
    out = run("--bench", "3", "--dim", "N=4", os.path.join(DYNAMIC, "model.onnx")).stdout
    assert "input 'x': float32 [4, 3, 12, 12]" in out, out
    assert "latency us: min" in out and " p90 " in out and " p99 " in out, out
    assert "GFLOP/s: " in out and "n/a" not in out, out


def case_usage_errors():
    for args in [[], ["--bogus"], ["--bench"], ["--bench", "0", EDGE_MODEL],
                 ["--bench", "x", EDGE_MODEL], ["--threads", "-1", EDGE_MODEL],
                 ["--json", EDGE_MODEL], ["--test-dir", DYNAMIC, EDGE_MODEL],
                 ["--info", "--bench", "3", EDGE_MODEL], ["--output-format", "csv", EDGE_MODEL],
                 ["--rtol", "-1", "--test-dir", DYNAMIC], ["--dim", "N", EDGE_MODEL],
                 [EDGE_MODEL, EDGE_MODEL], [EDGE_MODEL],  # no --input for X
                 [EDGE_MODEL, "--input", EDGE_INPUT, "--input", EDGE_INPUT]]:
        proc = run(*args, expect=2)
        assert proc.stderr.startswith("convpool-run: "), (args, proc.stderr)
        assert proc.stdout == "", (args, proc.stdout)


def case_missing_model():
    proc = run("/nonexistent/model.onnx", "--input", EDGE_INPUT, expect=1)
    assert "cannot load model /nonexistent/model.onnx" in proc.stderr, proc.stderr
    run("--info", "/nonexistent/model.onnx", expect=1)
    run("--test-dir", "/nonexistent", expect=1)


def case_bad_input_files():
    with tempfile.TemporaryDirectory() as tmp:
        wrong = os.path.join(tmp, "wrong.npy")
        np.save(wrong, np.zeros((1, 1, 6, 9), np.float32))
        proc = run(EDGE_MODEL, "--input", wrong, expect=1)
        assert "input 'X'" in proc.stderr, proc.stderr
        doubles = os.path.join(tmp, "f8.npy")
        np.save(doubles, np.zeros((1, 1, 6, 8)))
        proc = run(EDGE_MODEL, "--input", doubles, expect=1)
        assert "'<f8' is not supported" in proc.stderr, proc.stderr
        fortran = os.path.join(tmp, "f.npy")
        np.save(fortran, np.asfortranarray(np.zeros((1, 1, 6, 8), np.float32).transpose()))
        proc = run(EDGE_MODEL, "--input", fortran, expect=1)
        assert "Fortran-order" in proc.stderr, proc.stderr
        garbage = os.path.join(tmp, "garbage.pb")
        with open(garbage, "wb") as f:
            f.write(b"\xff" * 40)
        run(EDGE_MODEL, "--input", garbage, expect=1)


def case_npy_round_trip():
    """A .npy input runs, and --output-format npy writes what numpy reads."""
    with tempfile.TemporaryDirectory() as tmp:
        x = np.random.default_rng(0).standard_normal((3, 3, 12, 12)).astype(np.float32)
        np.save(os.path.join(tmp, "x.npy"), x)
        run(os.path.join(DYNAMIC, "model.onnx"), "--input", "x=" + os.path.join(tmp, "x.npy"),
            "--output-dir", os.path.join(tmp, "out"), "--output-format", "npy")
        y = np.load(os.path.join(tmp, "out", "output_0.npy"))
        assert y.shape == (3, 2, 1, 1) and y.dtype == np.float32, y
        # The same input as .pb gives the same bits.
        write_pb(os.path.join(tmp, "x.pb"), x, "x")
        run(os.path.join(DYNAMIC, "model.onnx"), "--input", os.path.join(tmp, "x.pb"),
            "--output-dir", os.path.join(tmp, "out"))
        assert np.array_equal(read_pb(os.path.join(tmp, "out", "output_0.pb")), y)
        # An output .npy is a valid input file (round trip through our writer).
        np.save(os.path.join(tmp, "e.npy"), np.load(EDGE_INPUT))
        run(EDGE_MODEL, "--input", os.path.join(tmp, "e.npy"))


def case_empty_batch():
    """A .npy input with batch 0 on a model with a symbolic batch runs and
    writes an empty output of the shape ONNX gives (N = 0, the rest as for
    N = 1), in both output formats; a zero channel count is still refused."""
    model = os.path.join(DYNAMIC, "model.onnx")
    with tempfile.TemporaryDirectory() as tmp:
        x = os.path.join(tmp, "x.npy")
        np.save(x, np.zeros((0, 3, 12, 12), np.float32))
        out = run(model, "--input", x, "--output-dir", os.path.join(tmp, "npy"),
                  "--output-format", "npy").stdout
        assert "'y': float32 [0, 2, 1, 1]" in out, out
        y = np.load(os.path.join(tmp, "npy", "output_0.npy"))
        assert y.shape == (0, 2, 1, 1) and y.dtype == np.float32, y
        run(model, "--input", x, "--output-dir", os.path.join(tmp, "pb"))
        y = read_pb(os.path.join(tmp, "pb", "output_0.pb"))
        assert y.shape == (0, 2, 1, 1) and y.dtype == np.float32, y
        no_channels = os.path.join(tmp, "c0.npy")
        np.save(no_channels, np.zeros((0, 0, 12, 12), np.float32))
        err = run(model, "--input", no_channels, expect=1).stderr
        assert "dim 1" in err, err


def case_output_dir_is_test_data():
    """output_0.pb written by --output-dir is accepted by --test-dir."""
    with tempfile.TemporaryDirectory() as tmp:
        test_dir = os.path.join(tmp, "t")
        data_dir = os.path.join(test_dir, "test_data_set_0")
        os.makedirs(data_dir)
        shutil.copy(os.path.join(DYNAMIC, "model.onnx"), test_dir)
        src = os.path.join(DYNAMIC, "test_data_set_1", "input_0.pb")
        shutil.copy(src, data_dir)
        run(os.path.join(test_dir, "model.onnx"), "--input", src, "--output-dir", data_dir)
        out = run("--test-dir", test_dir).stdout
        assert "PASS" in out, out
        # And it agrees with torch's output to the usual tolerance.
        ours = read_pb(os.path.join(data_dir, "output_0.pb"))
        torch_y = read_pb(os.path.join(DYNAMIC, "test_data_set_1", "output_0.pb"))
        np.testing.assert_allclose(ours, torch_y, rtol=1e-3, atol=1e-7)


def case_unsupported_op_refused():
    """A model with an op outside the subset (Relu): a load error naming the
    node and the op, exit 1, nothing run."""
    proc = run(os.path.join(DATA, "malformed", "unknown_op.onnx"), expect=1)
    assert "node 1 ('pool'): op type 'Relu' is not supported" in proc.stderr, proc.stderr
    assert "ConvTranspose" in proc.stderr and "GlobalLpPool" in proc.stderr, proc.stderr
    assert proc.stdout == "", proc.stdout


def case_threads_same_result():
    """Outputs are bitwise identical on 1 and 2 threads (the API's promise)."""
    model = os.path.join(DATA, "torch", "lenet_like")
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for threads in ["1", "2"]:
            out = os.path.join(tmp, threads)
            run(os.path.join(model, "model.onnx"), "--threads", threads, "--input",
                os.path.join(model, "test_data_set_0", "input_0.pb"), "--output-dir", out)
            with open(os.path.join(out, "output_0.pb"), "rb") as f:
                results.append(f.read())
        assert results[0] == results[1]


def case_help_and_version():
    out = run("--help").stdout
    for word in ["--test-dir", "--info", "--bench", "--input", "Exit status", "--profile",
                 "--duration", "--save-png", "--mean", "--std", "--scale", "--quiet",
                 "--verbose", "standard input"]:
        assert word in out, word
    assert run("--version").stdout.startswith("convpool-run 1.")


def identity_model(path, channels, height, width, dtype=TensorProto.FLOAT):
    """y = MaxPool(x) with a 1x1 window: the input comes back unchanged, so a
    test sees exactly what the CLI made of a picture."""
    x = helper.make_tensor_value_info("x", dtype, [1, channels, height, width])
    y = helper.make_tensor_value_info("y", dtype, None)
    node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[1, 1])
    model = helper.make_model(helper.make_graph([node], "identity", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)


def picture_tensor(tmp, model, picture, *extra):
    """What the CLI feeds the model for `picture` (via the identity model)."""
    out = os.path.join(tmp, "out")
    run(model, "--input", "x=" + picture, "-o", out, "--output-format", "npy", *extra)
    return np.load(os.path.join(out, "output_0.npy"))


def random_rgb(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def case_image_png():
    """PNG in: RGB, grey from RGB (BT.601 luma), --mean/--std/--scale, uint8."""
    with tempfile.TemporaryDirectory() as tmp:
        rgb = random_rgb(7, 9)
        png = os.path.join(tmp, "p.png")
        Image.fromarray(rgb).save(png)
        model = os.path.join(tmp, "rgb.onnx")
        identity_model(model, 3, "H", "W")
        x = picture_tensor(tmp, model, png)
        want = (rgb.transpose(2, 0, 1)[None] / 255.0).astype(np.float32)
        assert x.shape == (1, 3, 7, 9) and x.dtype == np.float32, x.shape
        np.testing.assert_allclose(x, want, rtol=0, atol=1e-7)
        # Normalisation per channel: (pixel * scale - mean) / std.
        mean, std = np.array([0.5, 0.4, 0.3]), np.array([0.2, 0.25, 0.5])
        x = picture_tensor(tmp, model, png, "--mean", "0.5,0.4,0.3", "--std", "0.2,0.25,0.5")
        want = (rgb.transpose(2, 0, 1)[None] / 255.0 - mean[:, None, None]) / std[:, None, None]
        np.testing.assert_allclose(x, want.astype(np.float32), rtol=1e-6, atol=1e-6)
        x = picture_tensor(tmp, model, png, "--scale", "1", "--mean", "128")
        np.testing.assert_array_equal(x, rgb.transpose(2, 0, 1)[None].astype(np.float32) - 128)
        # A one-channel input takes the luma of an RGB picture.
        grey_model = os.path.join(tmp, "grey.onnx")
        identity_model(grey_model, 1, "H", "W")
        x = picture_tensor(tmp, grey_model, png, "--scale", "1")
        luma = rgb @ np.array([0.299, 0.587, 0.114])
        np.testing.assert_allclose(x[0, 0], luma, rtol=0, atol=1e-4)
        # A uint8 input takes the pixels as they are, and refuses normalisation.
        u8 = os.path.join(tmp, "u8.onnx")
        identity_model(u8, 3, "H", "W", TensorProto.UINT8)
        x = picture_tensor(tmp, u8, png)
        assert x.dtype == np.uint8
        np.testing.assert_array_equal(x[0], rgb.transpose(2, 0, 1))
        proc = run(u8, "--input", png, "--mean", "1", expect=1)
        assert "uint8 input takes the pixels as they are" in proc.stderr, proc.stderr
        # --mean with 2 values for 3 channels; normalisation without a picture.
        proc = run(model, "--input", png, "--mean", "1,2", expect=1)
        assert "--mean has 2 values; the input has 3 channel(s)" in proc.stderr, proc.stderr
        proc = run(EDGE_MODEL, "--input", EDGE_INPUT, "--std", "2", expect=2)
        assert "no --input is a picture" in proc.stderr, proc.stderr
        proc = run(EDGE_MODEL, "--input", EDGE_INPUT, "--std", "0", expect=2)
        assert "--std 0: expected a number > 0" in proc.stderr, proc.stderr


def case_image_jpeg():
    """JPEG in (colour and grey), decoded as Pillow decodes it (both use
    libjpeg-turbo), a grey picture repeated into 3 channels."""
    with tempfile.TemporaryDirectory() as tmp:
        jpg = os.path.join(tmp, "p.jpg")
        Image.fromarray(random_rgb(16, 12, 1)).save(jpg, quality=90)
        decoded = np.asarray(Image.open(jpg).convert("RGB"))
        model = os.path.join(tmp, "rgb.onnx")
        identity_model(model, 3, "H", "W")
        x = picture_tensor(tmp, model, jpg, "--scale", "1")
        assert x.shape == (1, 3, 16, 12), x.shape
        assert np.abs(x[0] - decoded.transpose(2, 0, 1)).max() <= 1, "JPEG decode differs"
        grey = os.path.join(tmp, "g.jpg")
        Image.fromarray(random_rgb(5, 6, 2)[:, :, 0]).save(grey, quality=95)
        decoded = np.asarray(Image.open(grey))
        x = picture_tensor(tmp, model, grey, "--scale", "1")
        for c in range(3):
            assert np.abs(x[0, c] - decoded).max() <= 1, c
        # A corrupt JPEG is an error naming the input and the file.
        with open(jpg, "rb") as f:
            data = f.read()
        bad = os.path.join(tmp, "bad.jpg")
        with open(bad, "wb") as f:
            f.write(data[:len(data) // 3])
        proc = run(model, "--input", "x=" + bad, expect=1)
        assert "input 'x'" in proc.stderr and "JPEG" in proc.stderr, proc.stderr


def case_image_resize():
    """Fixed H and W resize the picture like Pillow's BILINEAR (antialiased
    when shrinking); symbolic ones take --dim."""
    with tempfile.TemporaryDirectory() as tmp:
        rgb = random_rgb(24, 20, 3)
        png = os.path.join(tmp, "p.png")
        Image.fromarray(rgb).save(png)
        model = os.path.join(tmp, "fixed.onnx")
        identity_model(model, 3, 6, 7)
        proc = run(model, "--input", png, "-v")
        assert "p.png is 20x24 (width x height), resized to 7x6" in proc.stderr, proc.stderr
        x = picture_tensor(tmp, model, png, "--scale", "1")
        for c in range(3):
            plane = Image.fromarray(rgb[:, :, c].astype(np.float32), mode="F")
            want = np.asarray(plane.resize((7, 6), Image.BILINEAR))
            np.testing.assert_allclose(x[0, c], want, rtol=0, atol=1e-3)
        sym = os.path.join(tmp, "sym.onnx")
        identity_model(sym, 3, "H", "W")
        x = picture_tensor(tmp, sym, png, "--scale", "1", "--dim", "H=30", "--dim", "W=25")
        plane = Image.fromarray(rgb[:, :, 1].astype(np.float32), mode="F")
        want = np.asarray(plane.resize((25, 30), Image.BILINEAR))
        np.testing.assert_allclose(x[0, 1], want, rtol=0, atol=1e-3)


def expected_grid(y):
    """The --save-png picture of y, computed here as image.h describes it."""
    n, c, h, w = y.shape
    cols = int(np.ceil(np.sqrt(c)))
    rows = -(-c // cols)
    grid = np.zeros((n * rows * (h + 1) - 1, cols * (w + 1) - 1), np.uint8)
    for b in range(n):
        for k in range(c):
            tile = y[b, k].astype(np.float64)
            lo, hi = tile.min(), tile.max()
            level = np.full(tile.shape, 128.0) if hi == lo else \
                np.floor((tile - lo) / (hi - lo) * 255.0 + 0.5)
            r, col = b * rows + k // cols, k % cols
            grid[r * (h + 1):r * (h + 1) + h, col * (w + 1):col * (w + 1) + w] = level
    return grid


def case_save_png():
    """--save-png: each output channel a greyscale tile; decoded back, the
    pixels are the output stretched from its min to its max."""
    with tempfile.TemporaryDirectory() as tmp:
        # The edge detector: one 6x7 channel of -1, 0, 1 -> 0, 128, 255.
        out = os.path.join(tmp, "png", "deep")
        run(EDGE_MODEL, "--input", EDGE_INPUT, "--save-png", out)
        img = np.asarray(Image.open(os.path.join(out, "output_0.png")))
        assert img.shape == (6, 7) and img.dtype == np.uint8, img.shape
        row = [128, 255, 128, 128, 128, 0, 128]
        assert (img == row).all(), img
        # Four feature maps of a picture: a 2x2 grid, checked pixel by pixel
        # against the same run's output values.
        photo = os.path.join(tmp, "photo.png")
        Image.fromarray(random_rgb(20, 14, 4)[:, :, 0]).save(photo)
        run(EDGE_FILTERS, "--input", "image=" + photo, "--save-png", out, "-o", out,
            "--output-format", "npy")
        y = np.load(os.path.join(out, "output_0.npy"))
        assert y.shape == (1, 4, 10, 7), y.shape
        img = np.asarray(Image.open(os.path.join(out, "output_0.png")))
        assert img.shape == (21, 15), img.shape
        np.testing.assert_array_equal(img, expected_grid(y))
        # A batch of 3 with 2 channels: a row of tiles per batch item.
        x = np.random.default_rng(5).standard_normal((3, 3, 12, 12)).astype(np.float32)
        np.save(os.path.join(tmp, "x.npy"), x)
        run(os.path.join(DYNAMIC, "model.onnx"), "--input", os.path.join(tmp, "x.npy"),
            "--save-png", out, "-o", out, "--output-format", "npy")
        y = np.load(os.path.join(out, "output_0.npy"))
        img = np.asarray(Image.open(os.path.join(out, "output_0.png")))
        np.testing.assert_array_equal(img, expected_grid(y))
        assert img.shape == (3 * 2 - 1, 2 * 2 - 1), img.shape
        no_folder_left(tmp, "--save-png")


def case_profile_text():
    out = run("--profile", "--bench", "20", LENET).stdout
    assert "latency us: min" in out, out
    lines = [l for l in out.splitlines() if l.startswith("  ") and "'/" in l]
    assert len(lines) == 5, out
    shares = 0.0
    for i, (op, shape) in enumerate([("Conv", "[1, 6, 28, 28]"), ("AveragePool", None),
                                     ("Conv", None), ("MaxPool", None),
                                     ("Conv", "[1, 24, 1, 1]")]):
        fields = lines[i].split()
        assert fields[0] == str(i) and fields[1] == op, lines[i]
        assert lines[i].endswith(f"'/{i}/{op}'"), lines[i]
        assert float(fields[2]) > 0 and float(fields[4]) > 0, lines[i]
        shares += float(fields[3].rstrip("%"))
        if shape:
            assert shape in lines[i], lines[i]
    assert abs(shares - 100) < 0.5, shares
    outside = out.splitlines()[-1].split()
    assert outside[:3] == ["outside", "the", "nodes"], out
    assert float(outside[outside.index("median") + 1]) > 0, out


def case_profile_json():
    """--profile --json: the FLOPs per node as --info counts them, GFLOP/s
    over each node's median, shares summing to 1, a folded Constant."""
    result = json.loads(run("--profile", "--json", "--bench", "30", "--warmup", "2",
                            LENET).stdout)
    nodes = result["nodes"]
    assert [n["flops"] for n in nodes] == [235200, 4704, 480000, 1600, 19200], nodes
    assert nodes[0]["output_shape"] == [1, 6, 28, 28], nodes[0]
    assert nodes[4]["output_shape"] == [1, 24, 1, 1], nodes[4]
    assert result["runs"] == 30 and result["warmup"] == 2, result
    for n in nodes:
        assert n["executed"] and 0 < n["min_ms"] <= n["median_ms"] <= n["max_ms"], n
        assert abs(n["gflops"] - n["flops"] / (n["median_ms"] * 1e6)) < 1e-6 * n["gflops"], n
        assert abs(n["share"] - n["median_ms"] / result["node_median_sum_ms"]) < 1e-6, n
    assert abs(sum(n["share"] for n in nodes) - 1) < 1e-6, nodes
    assert abs(sum(n["median_ms"] for n in nodes) - result["node_median_sum_ms"]) < 1e-9
    # A run's time outside its nodes: positive, and less than the run.
    assert 0 < result["outside_nodes_median_ms"] <= result["outside_nodes_p90_ms"], result
    assert result["outside_nodes_median_ms"] < result["median_ms"], result
    dag = os.path.join(DATA, "onnx-loader", "dag.onnx")
    result = json.loads(run("--profile", "--json", "--duration", "0.05", dag).stdout)
    folded = [n for n in result["nodes"] if not n["executed"]]
    assert [n["op_type"] for n in folded] == ["Constant"], result["nodes"]
    assert "median_ms" not in folded[0] and result["runs"] >= 1, result


def case_bench_duration():
    result = json.loads(run("--duration", "0.3", "--json", LENET).stdout)
    assert result["runs"] >= 1 and result["seconds"] >= 0.29, result
    out = run("--duration", "0.1", EDGE_MODEL).stdout
    runs = int(out.split("runs: ")[1].split()[0])
    assert runs > 10, out
    # Sub-microsecond runs keep three digits after the microsecond point.
    p50 = out.split(" p50 ")[1].split()[0]
    assert len(p50.split(".")[1]) == 3, out
    for args in [["--bench", "5", "--duration", "1"], ["--duration", "0"],
                 ["--duration", "x"], ["--profile", "--info"]]:
        run(*args, LENET, expect=2)


def copy_test(src, dst):
    shutil.copytree(os.path.join(DATA, "torch", src), dst)


def case_test_dir_parent():
    with tempfile.TemporaryDirectory() as tmp:
        parent = os.path.join(tmp, "suite")
        copy_test("lenet_like", os.path.join(parent, "a", "lenet"))
        copy_test("d2l_corr2d", os.path.join(parent, "b", "c", "corr2d"))
        out = run("--test-dir", parent).stdout
        assert out.count("\nPASS ") + out.startswith("PASS ") == 2, out
        assert f"PASS: 2 of 2 test(s) under {parent} passed" in out, out
        # One changed expected value: that test fails, the others still run.
        bad = os.path.join(parent, "b", "multi")
        copy_test("d2l_multi_in_out", bad)
        path = os.path.join(bad, "test_data_set_0", "output_0.pb")
        expected = read_pb(path)
        expected.flat[0] += 1
        write_pb(path, expected, "y")
        proc = run("--test-dir", parent, expect=1)
        assert f"FAIL {bad} (outputs differ)" in proc.stdout, proc.stdout
        assert f"FAIL: 2 of 3 test(s) under {parent} passed" in proc.stdout, proc.stdout
        # --quiet: the failure and the summary only.
        proc = run("--test-dir", parent, "--quiet", expect=1)
        assert "PASS " not in proc.stdout and f"FAIL {bad}" in proc.stdout, proc.stdout
        # A model that does not load counts as failed, with its error.
        broken = os.path.join(parent, "broken")
        os.makedirs(os.path.join(broken, "test_data_set_0"))
        with open(os.path.join(broken, "model.onnx"), "wb") as f:
            f.write(b"not a model")
        proc = run("--test-dir", parent, expect=1)
        assert f"FAIL {broken} (error" in proc.stdout, proc.stdout
        assert "cannot load model" in proc.stderr, proc.stderr
        assert "1 of 4 test(s)" not in proc.stdout and "2 of 4 test(s)" in proc.stdout
        empty = os.path.join(tmp, "empty")
        os.makedirs(os.path.join(empty, "nothing"))
        proc = run("--test-dir", empty, expect=1)
        assert "no model.onnx in it or in any folder under it" in proc.stderr, proc.stderr
        # The repository's own torch tests, all at once.
        torch_dir = os.path.join(DATA, "torch")
        n = sum(os.path.exists(os.path.join(torch_dir, d, "model.onnx"))
                for d in os.listdir(torch_dir))
        out = run("--test-dir", torch_dir, "-q").stdout
        assert out.startswith(f"PASS: {n} of {n} test(s)"), out


def case_stdin_stdout():
    with open(EDGE_MODEL, "rb") as f:
        model = f.read()
    with open(EDGE_INPUT, "rb") as f:
        data = f.read()
    # The model from standard input.
    out = run("-", "--input", EDGE_INPUT, stdin=model, binary=True).stdout.decode()
    assert "output 0 'Y': float32 [1, 1, 6, 7]" in out, out
    # The input from standard input, the output to standard output.
    proc = run(EDGE_MODEL, "--input", "X=-", "-o", "-", "--output-format", "npy",
               stdin=data, binary=True)
    y = np.load(io.BytesIO(proc.stdout))
    assert y.shape == (1, 1, 6, 7) and (y[0, 0, :, 1] == 1).all(), y
    proc = run(EDGE_MODEL, "-i", "-", "-o", "-", stdin=data, binary=True)
    t = TensorProto()
    t.ParseFromString(proc.stdout)
    assert np.array_equal(numpy_helper.to_array(t), y)
    # A picture through a pipe, and the PNG grid back.
    buf = io.BytesIO()
    Image.fromarray(random_rgb(8, 6)[:, :, 0]).save(buf, format="PNG")
    proc = run(EDGE_FILTERS, "-i", "-", "--save-png", "-", stdin=buf.getvalue(), binary=True)
    assert Image.open(io.BytesIO(proc.stdout)).size == (3 * 2 + 1, 4 * 2 + 1)
    # Standard input is read once.
    proc = run("-", "--input", "-", stdin=model, binary=True, expect=2)
    assert b"standard input (-) can be read only once" in proc.stderr, proc.stderr
    proc = run(EDGE_MODEL, "-i", EDGE_INPUT, "-o", "-", "--save-png", "-", expect=2)


def case_quiet_verbose():
    proc = run(EDGE_MODEL, "--input", EDGE_INPUT, "--quiet")
    assert proc.stdout == "" and proc.stderr == "", proc
    proc = run(EDGE_MODEL, "--input", EDGE_INPUT, "-q", "--verbose", expect=2)
    assert "--quiet or --verbose, not both" in proc.stderr, proc.stderr
    with tempfile.TemporaryDirectory() as tmp:
        proc = run(EDGE_MODEL, "--input", EDGE_INPUT, "--save-png", tmp, "--verbose")
        assert "a 7x6 grid of its channels" in proc.stderr, proc.stderr
        assert "saved to" in proc.stdout, proc.stdout
        proc = run(EDGE_MODEL, "--input", EDGE_INPUT, "--save-png", tmp, "-q")
        assert proc.stdout == "" and os.path.exists(os.path.join(tmp, "output_0.png"))


def case_error_messages():
    """Each message names the real problem."""
    proc = run(EDGE_MODEL, "-i", "Q=" + EDGE_INPUT, expect=2)
    assert "the model has no input named 'Q' (its inputs: 'X')" in proc.stderr, proc.stderr
    with tempfile.TemporaryDirectory() as tmp:
        proc = run(EDGE_MODEL, "--input", tmp, expect=1)
        assert f"input 'X': {tmp} is a directory, not a file" in proc.stderr, proc.stderr
        proc = run(EDGE_MODEL, "--input", os.path.join(tmp, "none.npy"), expect=1)
        assert "No such file or directory" in proc.stderr, proc.stderr
        # A file whose name holds '=' is still a file.
        odd = os.path.join(tmp, "a=b.npy")
        shutil.copy(EDGE_INPUT, odd)
        run(EDGE_MODEL, "--input", odd)
        # --dim for a dim the model does not have.
        dyn = os.path.join(DYNAMIC, "model.onnx")
        proc = run("--info", dyn, "--dim", "M=8", expect=2)
        assert "--dim M=8: the model has no symbolic dim named 'M' (its symbolic dims: 'N')" \
            in proc.stderr, proc.stderr
        proc = run("--bench", "1", EDGE_MODEL, "--dim", "N=2", expect=2)
        assert "every input dim is fixed" in proc.stderr, proc.stderr
        # -o creates the whole path.
        deep = os.path.join(tmp, "a", "b", "c")
        run(EDGE_MODEL, "--input", EDGE_INPUT, "-o", deep)
        assert os.path.isfile(os.path.join(deep, "output_0.pb"))
        # A path through a file is refused by name.
        proc = run(EDGE_MODEL, "--input", EDGE_INPUT, "-o",
                   os.path.join(deep, "output_0.pb", "x"), expect=1)
        assert "output_0.pb exists and is not a directory" in proc.stderr or \
            "Not a directory" in proc.stderr, proc.stderr
        # A failed load, a failed bind or a failed run leaves no folder behind.
        no_folder_left(tmp, "-o")


def no_folder_left(tmp, flag):
    for args in [["/nonexistent.onnx", "--input", EDGE_INPUT],
                 [EDGE_MODEL, "--input", os.path.join(tmp, "none.npy")],
                 [EDGE_MODEL, "--input", tmp]]:
        target = os.path.join(tmp, "never", "made")
        run(*args, flag, target, expect=1)
        assert not os.path.exists(os.path.join(tmp, "never")), (args, flag)
HUGE_INPUT = os.path.join(DATA, "malformed", "huge_declared_input.onnx")
HUGE_OUTPUT = os.path.join(DATA, "malformed", "huge_output_from_pads.onnx")


def measured(*args):
    """Runs convpool-run in a child of a fresh interpreter; returns (exit
    status, stdout, seconds, peak RSS in KiB) of convpool-run alone."""
    probe = ("import resource, subprocess, sys, time\n"
             "t = time.monotonic()\n"
             "p = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=120)\n"
             "print(p.returncode, time.monotonic() - t,\n"
             "      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
             "sys.stdout.write(p.stdout)\n")
    out = subprocess.run([sys.executable, "-c", probe, EXE, *args], capture_output=True,
                         text=True, timeout=180, check=True).stdout
    head, _, rest = out.partition("\n")
    rc, seconds, rss = head.split()
    return int(rc), rest, float(seconds), int(rss)


def case_info_allocates_nothing():
    # 96 bytes declaring a [1, 1, 32768, 16384] float input (2 GiB): --info
    # prints the shapes from shape inference without making the input.
    rc, out, seconds, rss = measured("--info", "--memory-limit", "64G", HUGE_INPUT)
    assert rc == 0, out
    assert "input 'x': [1, 1, 32768, 16384]" in out, out
    assert "output 'y': [1, 1, 32768, 16384]" in out, out
    assert seconds < 10 and rss < 100 * 1024, (seconds, rss)


def case_memory_limits():
    # 119 bytes whose output is 32769 x 32769 floats: the output counts
    # against the limit, refused at load, quickly and small.
    rc, out, seconds, rss = measured("--memory-limit", "100000000", HUGE_OUTPUT)
    proc = run("--memory-limit", "100000000", HUGE_OUTPUT, expect=1)
    assert "outputs 4295229444" in proc.stderr and "memory limit of 100000000" in proc.stderr, \
        proc.stderr
    assert rc == 1 and seconds < 10 and rss < 100 * 1024, (rc, seconds, rss)
    # Suffixes are binary; 'none' lifts the limit; 0 and junk are usage errors.
    lenet = os.path.join(DATA, "torch", "lenet_like", "model.onnx")  # 49780 bytes
    proc = run("--info", "--memory-limit", "1K", lenet, expect=1)
    assert "memory limit 1024" in proc.stderr, proc.stderr
    run("--info", "--memory-limit", "1M", lenet)
    run("--info", "--memory-limit", "none", lenet)
    for bad in ["0", "-5", "1.5G", "12Q", "", "99999999999T"]:
        proc = run("--memory-limit", bad, EDGE_MODEL, "--input", EDGE_INPUT, expect=2)
        assert "--memory-limit" in proc.stderr, proc.stderr
    assert "half the physical memory" in run("--help").stdout


def case_special_files():
    # A FIFO as the model is refused at once, not waited on.
    with tempfile.TemporaryDirectory() as tmp:
        fifo = os.path.join(tmp, "model.onnx")
        os.mkfifo(fifo)
        proc = run(fifo, "--input", EDGE_INPUT, expect=1)
        assert "is a FIFO, not a regular file" in proc.stderr, proc.stderr
        proc = run("--info", tmp, expect=1)
        assert "is a directory, not a regular file" in proc.stderr, proc.stderr


def main():
    case = globals().get("case_" + sys.argv[3])
    if case is None:
        sys.exit(f"unknown case {sys.argv[3]}")
    case()
    print(f"{sys.argv[3]}: ok")


if __name__ == "__main__":
    main()
