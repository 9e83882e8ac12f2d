"""convpool: NumPy bindings of libconvpool (ONNX Conv / MaxPool / AveragePool
with exact semantics), spelled like PyTorch.

    import numpy as np, convpool
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    convpool.max_pool2d(x, 3, padding=1, stride=2)   # [[[[5, 7], [13, 15]]]]

Functions: conv1d/2d/3d, conv_transpose1d/2d/3d, max_pool1d/2d/3d,
avg_pool1d/2d/3d, lp_pool1d/2d/3d, adaptive_*_pool*d, global_avg_pool,
global_max_pool, global_lp_pool, corr2d.
Layers: Conv1d/2d/3d, ConvTranspose1d/2d/3d, MaxPool1d/2d/3d,
AvgPool1d/2d/3d, LPPool1d/2d/3d, GlobalAvgPool, GlobalMaxPool, GlobalLpPool. Models: Model(path_or_bytes).run(...).
Gradients: convpool.grad (conv*_input, conv*_weight as torch.nn.grad; pool
*_backward), and backward(dy) on every layer (see convpool.layers: training).
Threads: set_num_threads(n), get_num_threads().
Errors: convpool.Error and its subclasses, each with the library's status
code in ``status``; InputTypeError (a TypeError) for data the binding will
not convert silently.
Types: the package is typed (PEP 561, py.typed).
"""
__version__ = "1.1.0"

from . import _lib

_lib.load(__version__)

from ._errors import (BufferTooSmallError, Error, FileIOError, InputTypeError,  # noqa: E402
                      InternalError, InvalidArgumentError, InvalidAttributeError, InvalidModelError,
                      InvalidStateError, NotFoundError, OutOfMemoryError, ShapeMismatchError,
                      SizeOverflowError, UnsupportedError)
from .functional import *  # noqa: E402,F401,F403
from .functional import __all__ as _functional_names  # noqa: E402
from .layers import (AvgPool1d, AvgPool2d, AvgPool3d, Conv1d, Conv2d, Conv3d,  # noqa: E402
                     ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, GlobalAvgPool,
                     GlobalLpPool, GlobalMaxPool, LPPool1d, LPPool2d, LPPool3d, MaxPool1d,
                     MaxPool2d, MaxPool3d)
from .model import Model, TensorInfo  # noqa: E402
from . import grad  # noqa: E402,F401
from ._threads import get_num_threads, set_num_threads  # noqa: E402

library_path = _lib.path


def library_version() -> str:
    """The version string of the loaded libconvpool."""
    return _lib.lib.convpool_version().decode()


def isa() -> str:
    """The instruction-set path new ops use: 'scalar', 'avx2' or 'avx512'."""
    return _lib.lib.convpool_isa_name(_lib.lib.convpool_isa_active()).decode()


__all__ = list(_functional_names) + [
    "AvgPool1d", "AvgPool2d", "AvgPool3d", "Conv1d", "Conv2d", "Conv3d", "GlobalAvgPool",
    "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "LPPool1d", "LPPool2d", "LPPool3d",
    "GlobalLpPool", "GlobalMaxPool", "MaxPool1d", "MaxPool2d", "MaxPool3d", "Model", "TensorInfo",
    "get_num_threads", "set_num_threads", "library_version", "isa", "library_path",
    "Error", "BufferTooSmallError", "FileIOError", "InputTypeError", "InternalError",
    "InvalidArgumentError", "InvalidAttributeError", "InvalidModelError", "InvalidStateError",
    "NotFoundError", "OutOfMemoryError", "ShapeMismatchError", "SizeOverflowError",
    "UnsupportedError",
]
