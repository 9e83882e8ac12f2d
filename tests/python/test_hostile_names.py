"""Models whose names are not plain text (tests/data/hostile-names): the
binding gives every name as a str, never a bare UnicodeDecodeError, and
runs the model by those names; library messages reach Python escaped."""
import os

import numpy as np
import pytest

import convpool
from conftest import DATA

HOSTILE = os.path.join(DATA, "hostile-names")


def test_valid_utf8_names_kept_exactly():
    m = convpool.Model(os.path.join(HOSTILE, "valid_utf8.onnx"))
    assert m.inputs[0].name == "x\u009b[2J"
    assert m.outputs[0].name == "y\u202e"
    assert m.inputs[0].shape == ("N\x1b[31m", 1, 4, 4)
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    y = m.run({"x\u009b[2J": x})
    np.testing.assert_array_equal(y["y\u202e"], x[:, :, 1:, 1:])  # increasing: max at the end


def test_invalid_utf8_names_decoded_with_escapes():
    m = convpool.Model(os.path.join(HOSTILE, "invalid_utf8.onnx"))
    assert m.inputs[0].name == "in\\xff\\x9b[2J"
    assert m.outputs[0].name == "out\\xc3"
    x = np.ones((2, 1, 4, 4), dtype=np.float32)
    y = m.run({"in\\xff\\x9b[2J": x})
    assert y["out\\xc3"].shape == (2, 1, 3, 3)


def test_refusal_message_escaped():
    with pytest.raises(convpool.UnsupportedError) as info:
        convpool.Model(os.path.join(HOSTILE, "op_type_csi.onnx"))
    message = str(info.value)
    assert "op type 'MaxPool\\xff\\x9b[2J'" in message, message
    assert "\x1b" not in message and "\x9b" not in message, message
