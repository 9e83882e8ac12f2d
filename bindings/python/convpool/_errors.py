"""convpool.Error and one subclass per convpool_status.

Each subclass also derives from the built-in exception a Python user would
expect (ValueError for bad arguments, MemoryError, OSError ...), so existing
``except ValueError`` code keeps working.
"""
import ctypes

from . import _lib


class Error(Exception):
    """A libconvpool failure. ``status`` is the convpool_status code (an int,
    e.g. 3 for CONVPOOL_ERROR_SHAPE_MISMATCH; each subclass has its own, also
    when the binding raises it before calling the library), ``status_name``
    its name as the library spells it, ``message`` the detail message
    (convpool_last_error() for a library failure)."""

    status: "int | None" = None

    def __init__(self, message: str, status: "int | None" = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    @property
    def status_name(self) -> "str | None":
        """The library's name of ``status`` (convpool_status_string())."""
        if self.status is None:
            return None
        return _lib.lib.convpool_status_string(self.status).decode()


class InvalidArgumentError(Error, ValueError):
    status = 1


class InvalidAttributeError(Error, ValueError):
    status = 2


class ShapeMismatchError(Error, ValueError):
    status = 3


class SizeOverflowError(Error, OverflowError):
    status = 4


class OutOfMemoryError(Error, MemoryError):
    status = 5


class BufferTooSmallError(Error, ValueError):
    status = 6


class UnsupportedError(Error, NotImplementedError):
    status = 7


class InvalidModelError(Error, ValueError):
    status = 8


class FileIOError(Error, OSError):
    status = 9


class NotFoundError(Error, LookupError):
    status = 10


class InvalidStateError(Error, RuntimeError):
    status = 11


class InternalError(Error, RuntimeError):
    status = 12


class InputTypeError(InvalidArgumentError, TypeError):
    """An input whose element type the binding will not convert silently
    (it would change values, or it is complex or not numeric). Also a
    ValueError, as InvalidArgumentError was raised for these before."""


_BY_STATUS = {cls.status: cls for cls in (
    InvalidArgumentError, InvalidAttributeError, ShapeMismatchError, SizeOverflowError,
    OutOfMemoryError, BufferTooSmallError, UnsupportedError, InvalidModelError, FileIOError,
    NotFoundError, InvalidStateError, InternalError)}


for _cls in (Error, InputTypeError) + tuple(_BY_STATUS.values()):
    _cls.__module__ = "convpool"  # as users spell them: convpool.ShapeMismatchError


def error_for(status, message):
    """The exception for `status` with `message` (an unknown code gives Error)."""
    cls = _BY_STATUS.get(status, Error)
    return cls(message, status)


def check(status):
    """Raises the matching Error if `status` is not CONVPOOL_OK. Must be called
    right after the failing call, in the same thread: the message is
    thread-local and overwritten by the next failure."""
    if status != 0:
        message = _lib.lib.convpool_last_error().decode(errors="replace")
        if not message:
            message = _lib.lib.convpool_status_string(status).decode()
        raise error_for(status, message)


def check_call(fn, *args):
    """Calls `fn`, one of the library's *_msg functions (the long-running
    calls: model load, op run, session run), with `args` plus a message
    buffer, and raises the matching Error with the message the call wrote
    there: it is that call's own message whichever thread ran it."""
    buf = ctypes.create_string_buffer(_lib.MESSAGE_CAPACITY)
    status = fn(*args, buf, len(buf))
    if status != 0:
        message = buf.value.decode(errors="replace")
        if not message:
            message = _lib.lib.convpool_status_string(status).decode()
        raise error_for(status, message)
