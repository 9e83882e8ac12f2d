"""The thread count of every op and model run, as torch.set_num_threads /
torch.get_num_threads spell it.

Until set_num_threads() is called, runs use the library's default context
(CONVPOOL_NUM_THREADS, else one thread per online CPU). set_num_threads(n)
creates a context of n threads that every later run in the process uses;
a run in progress keeps the context it started with (it holds a reference),
and a replaced context is destroyed once no run holds it.
"""
import ctypes
import threading

from . import _lib
from ._errors import InvalidArgumentError, check
from ._handle import Handle


class _Context(Handle):
    """An owned convpool_context."""

    def __init__(self, num_threads):
        handle = ctypes.c_void_p()
        check(_lib.lib.convpool_context_create(num_threads, ctypes.byref(handle)))
        self._handle = handle.value

    def _destroy(self, handle):
        _lib.lib.convpool_context_destroy(handle)


_current = None  # a _Context, or None for the library's default context
_lock = threading.Lock()


def current():
    """The context for a run starting now: keep the returned object alive for
    the whole run and pass handle(ctx) to the library."""
    return _current


def handle(ctx):
    """The C handle of a context from current() (None: the default)."""
    return None if ctx is None else ctx._live_handle()


def set_num_threads(n: int) -> None:
    """Runs from now on use `n` threads in all (the calling thread counts as
    one). n must be an int from 1 to 1024."""
    global _current
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1024:
        raise InvalidArgumentError("set_num_threads(%r): expected an int from 1 to 1024" % (n,))
    ctx = _Context(n)
    with _lock:
        _current = ctx  # the old one is freed when the last run holding it ends


def get_num_threads() -> int:
    """The number of threads runs use now."""
    ctx = _current
    return _lib.lib.convpool_context_num_threads(handle(ctx))
