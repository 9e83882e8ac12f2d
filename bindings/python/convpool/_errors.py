"""convpool.Error and one subclass per convpool_status.

Each subclass also derives from the built-in exception a Python user would
expect (ValueError for bad arguments, MemoryError, OSError ...), so existing
``except ValueError`` code keeps working.
"""
import ctypes

from . import _lib


class Error(Exception):
    """A libconvpool failure. ``status`` is the convpool_status code,
    ``message`` the library's detail message (convpool_last_error())."""

    status = None

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


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


_BY_STATUS = {cls.status: cls for cls in (
    InvalidArgumentError, InvalidAttributeError, ShapeMismatchError, SizeOverflowError,
    OutOfMemoryError, BufferTooSmallError, UnsupportedError, InvalidModelError, FileIOError,
    NotFoundError, InvalidStateError, InternalError)}


for _cls in (Error,) + tuple(_BY_STATUS.values()):
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
