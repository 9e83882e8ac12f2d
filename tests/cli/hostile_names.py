#!/usr/bin/python3
"""convpool-run on models whose names would drive a terminal
(tests/data/hostile-names, see tests/onnx/make_hostile_names.py): every
human-readable line escapes them, --json stays valid JSON with the real
names, and an invalid CONVPOOL_* variable is reported as a warning.

    hostile_names.py CONVPOOL_RUN DATA_DIR CASE
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from onnx import numpy_helper

EXE, DATA = sys.argv[1], sys.argv[2]
HOSTILE = os.path.join(DATA, "hostile-names")
VALID = os.path.join(HOSTILE, "valid_utf8.onnx")
INVALID = os.path.join(HOSTILE, "invalid_utf8.onnx")


def terminal_safe(data):
    """No C0 control but newline, no DEL, no C1 control, valid UTF-8."""
    text = data.decode("utf-8")  # raises on invalid UTF-8
    bad = [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f
           or 0x202a <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069]
    assert not bad, f"raw control characters {bad!r} in:\n{text}"
    return text


def run(*args, expect=0, env=None):
    proc = subprocess.run([EXE, *args], capture_output=True, timeout=120,
                          env=dict(os.environ, **(env or {})))
    assert proc.returncode == expect, (
        f"convpool-run {args}: exit {proc.returncode}, expected {expect}\n"
        f"stdout:\n{proc.stdout!r}\nstderr:\n{proc.stderr!r}")
    return terminal_safe(proc.stdout), terminal_safe(proc.stderr), proc.stdout


def case_info():
    out, _, _ = run("--info", VALID)
    for shown in ["node 0 'pool\\x1b]0;pwned\\x07' MaxPool", "0 'x\\u009b[2J': float32",
                  "[N\\x1b[31m, 1, 4, 4]", "output 'y\\u202e': [1, 1, 3, 3]"]:
        assert shown in out, (shown, out)
    out, _, _ = run("--info", INVALID)
    for shown in ["node 0 'n\\xff\\xfe' MaxPool", "'in\\xff\\x9b[2J' float32",
                  "'out\\xc3' float32"]:
        assert shown in out, (shown, out)


def case_run_and_bench():
    with tempfile.TemporaryDirectory() as tmp:
        x = os.path.join(tmp, "x.npy")
        np.save(x, np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        out, _, _ = run(VALID, "--input", x, "--output-dir", tmp)
        assert "output 0 'y\\u202e': float32 [1, 1, 3, 3]" in out, out
        out, _, _ = run(INVALID, "--input", x)
        assert "output 0 'out\\xc3'" in out, out
    out, _, _ = run("--bench", "2", "--warmup", "0", VALID)
    assert "input 'x\\u009b[2J': float32 [1, 1, 4, 4]" in out, out
    out, _, _ = run("--bench", "2", "--warmup", "0", INVALID)
    assert "input 'in\\xff\\x9b[2J'" in out, out


def case_bench_json():
    _, _, raw = run("--bench", "2", "--warmup", "0", "--json", VALID)
    result = json.loads(raw.decode("utf-8"))
    # A JSON reader gets the real name back; the bytes on the wire are safe.
    assert result["inputs"][0]["name"] == "x\u009b[2J", result
    _, _, raw = run("--bench", "2", "--warmup", "0", "--json", INVALID)
    result = json.loads(raw.decode("utf-8"))
    assert result["inputs"][0]["name"] == "in\\xff\\x9b[2J", result  # bytes JSON cannot hold


def case_errors():
    _, err, _ = run("--info", os.path.join(HOSTILE, "op_type_csi.onnx"), expect=1)
    assert "node 0 ('\\x1b]0;t\\x07'): op type 'MaxPool\\xff\\x9b[2J' is not supported" in err, err
    _, err, _ = run("--info", os.path.join(HOSTILE, "bad_attr_name.onnx"), expect=1)
    assert "attribute 'k\\x1b[2J'" in err, err
    _, err, _ = run(VALID, "--input", "no\x1b[2Jsuch=x.npy", expect=2)
    assert "no\\x1b[2Jsuch" in err, err
    # A path the CLI prints back (here a missing model) is escaped too.
    _, err, _ = run("--info", "/nonexistent/\x1b]0;t\x07.onnx", expect=1)
    assert "/nonexistent/\\x1b]0;t\\x07.onnx" in err, err


def case_test_dir():
    with tempfile.TemporaryDirectory() as tmp:
        with open(VALID, "rb") as f, open(os.path.join(tmp, "model.onnx"), "wb") as g:
            g.write(f.read())
        sets = os.path.join(tmp, "test_data_set_0")
        os.mkdir(sets)
        x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
        y = np.maximum.reduce([x[:, :, i:i + 3, j:j + 3] for i in (0, 1) for j in (0, 1)])
        for name, array in [("input_0.pb", x), ("output_0.pb", y)]:
            with open(os.path.join(sets, name), "wb") as f:
                f.write(numpy_helper.from_array(array, "t").SerializeToString())
        out, _, _ = run("--test-dir", tmp)
        assert "test_data_set_0: output 0 'y\\u202e' float32 [1, 1, 3, 3]: PASS" in out, out


def case_environment_warning():
    """Both variables invalid: one warning line, the same form for each,
    and the run goes on with the defaults."""
    out, err, _ = run("--info", VALID,
                      env={"CONVPOOL_NUM_THREADS": "many", "CONVPOOL_ISA": "avx3\x1b[2J"})
    assert "model: " in out, out
    assert err.startswith("convpool-run: warning: CONVPOOL_NUM_THREADS='many' is not a whole "
                          "number from 1 to"), err
    assert "CONVPOOL_ISA='avx3\\x1b[2J' is not one of scalar, avx2, avx512; using" in err, err
    _, err, _ = run("--info", VALID, env={"CONVPOOL_NUM_THREADS": "1", "CONVPOOL_ISA": "scalar"})
    assert err == "", err


if __name__ == "__main__":
    globals()["case_" + sys.argv[3]]()
