"""Shared fixtures of the convpool pytest suite.

meson test sets CONVPOOL_LIBRARY to the library just built and PYTHONPATH to
bindings/python; run by hand, the package falls back to a build*/lib tree.
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
BINDINGS = os.path.join(SOURCE_ROOT, "bindings", "python")
EXAMPLES = os.path.join(BINDINGS, "examples")
DATA = os.path.join(SOURCE_ROOT, "tests", "data")

try:
    import convpool  # noqa: F401
except ImportError:
    sys.path.insert(0, BINDINGS)


@pytest.fixture(scope="session")
def torch():
    return pytest.importorskip("torch", reason="python3-torch is not installed")


@pytest.fixture(scope="session")
def onnx():
    return pytest.importorskip("onnx", reason="python3-onnx is not installed")


@pytest.fixture(scope="session")
def model_api():
    from convpool import _lib
    if not _lib.has_model_api:
        pytest.skip("%s has no model loader (built without ONNX support?)" % _lib.path)


def run_in_threads(work, count):
    """Runs work(i) for i in range(count), each in its own thread, all at
    once; returns the exceptions they raised."""
    import threading

    errors = []

    def guarded(i):
        try:
            work(i)
        except Exception as e:  # handed back to the test
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors
