#!/usr/bin/python3
"""End-to-end tests of convpool-run, one meson test per case.

    cli_tests.py CONVPOOL_RUN DATA_DIR CASE

DATA_DIR is the source tree's tests/data. Each case runs the real binary and
checks its exit status and output; scratch files go to a temporary folder.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from onnx import numpy_helper, TensorProto

EXE, DATA = sys.argv[1], sys.argv[2]
EDGE_MODEL = os.path.join(DATA, "models", "edge_detector.onnx")
EDGE_INPUT = os.path.join(DATA, "models", "edge_detector_input.npy")
DYNAMIC = os.path.join(DATA, "torch", "dynamic_batch")


def run(*args, expect=0):
    proc = subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120)
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
    assert result["inputs"][0]["shape"] == [1, 1, 28, 28], result
    assert result["flops"] == 740704, result  # as case_info_lenet computes
    assert abs(result["gflops"] - 740704 / (result["median_ms"] * 1e6)) < 1e-3, result


def case_bench_text_dynamic_dim():
    out = run("--bench", "3", "--dim", "N=4", os.path.join(DYNAMIC, "model.onnx")).stdout
    assert "input 'x': float32 [4, 3, 12, 12]" in out, out
    assert "latency ms: min" in out, out
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
    """ConvTranspose / LpPool node tests: a load error, exit 1, no output compared."""
    node_dir = os.path.join(DATA, "onnx-node")
    for name, op in [("test_convtranspose", "ConvTranspose"), ("test_lppool_2d_default", "LpPool")]:
        proc = run("--test-dir", os.path.join(node_dir, name), expect=1)
        assert f"'{op}' is not supported" in proc.stderr, proc.stderr
        assert "PASS" not in proc.stdout, proc.stdout


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
    for word in ["--test-dir", "--info", "--bench", "--input", "Exit status"]:
        assert word in out, word
    assert run("--version").stdout.startswith("convpool-run 1.")


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
