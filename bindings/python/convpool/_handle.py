"""The base of the objects that own a C handle."""


class Handle:
    """An owned C handle freed exactly once: by close(), at the end of a
    `with` block, or when the object is garbage collected."""

    _handle = None

    def _destroy(self, handle):
        raise NotImplementedError

    def close(self):
        handle, self._handle = self._handle, None
        if handle:
            self._destroy(handle)

    @property
    def closed(self):
        return not self._handle

    def _live_handle(self):
        if not self._handle:
            from ._errors import InvalidStateError
            raise InvalidStateError("%s is closed" % type(self).__name__)
        return self._handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass  # interpreter shutdown: the library may already be gone
