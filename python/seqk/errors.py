"""seqk.Error and one subclass per seqk_status (include/seqk.h).

The message is seqk_last_error's: what was wrong, in words to act on.
Subclasses also derive from the closest built-in exception, so that
`except ValueError` catches a bad shape as it would in NumPy.
"""


class Error(Exception):
    """A seqk call failed.  .status is the seqk_status number, .message
    the library's explanation."""

    status = None

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class InvalidArgumentError(Error, ValueError):
    status = 1


class ShapeError(Error, ValueError):
    status = 2


class DtypeError(Error, TypeError):
    status = 3


class UnsupportedError(Error, NotImplementedError):
    status = 4


class NoDeviceError(Error, RuntimeError):
    status = 5


class OutOfMemoryError(Error, MemoryError):
    status = 6


class OverflowError(Error, ArithmeticError):  # noqa: A001 (seqk's own)
    status = 7


class DeviceError(Error, RuntimeError):
    status = 8


class IOError(Error, OSError):  # noqa: A001 (seqk's own)
    status = 9


class FormatError(Error, ValueError):
    status = 10


class TuningDBError(Error, RuntimeError):
    status = 11


class InternalError(Error, RuntimeError):
    status = 12


_BY_STATUS = {c.status: c for c in (
    InvalidArgumentError, ShapeError, DtypeError, UnsupportedError,
    NoDeviceError, OutOfMemoryError, OverflowError, DeviceError, IOError,
    FormatError, TuningDBError, InternalError)}


def error_for(status, message):
    """The exception for a non-zero seqk_status."""
    cls = _BY_STATUS.get(status, Error)
    return cls(message, status)
