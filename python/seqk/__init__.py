"""seqk: sequence-model kernels (RNN/LSTM/GRU, GEMM, softmax, attention)
on CPUs and OpenCL devices, from Python.

    import numpy as np, seqk
    with seqk.Context("cpu") as ctx:
        y = ctx.matmul(np.ones((2, 3), np.float32), np.ones((3, 4), np.float32))
    lstm = seqk.nn.LSTM(32, 64, bidirectional=True)
    out, (h_n, c_n) = lstm(x)

Bindings are ctypes over the libseqk.so bundled in the package; foreign
calls release the GIL.  Errors raise seqk.Error subclasses whose message
is the library's (seqk_last_error).
"""
from . import errors
from ._core import Context, Device, Tensor, default_context, devices, version
from .errors import (DeviceError, DtypeError, Error, FormatError,
                     InternalError, InvalidArgumentError, IOError,
                     NoDeviceError, OutOfMemoryError, OverflowError,
                     ShapeError, TuningDBError, UnsupportedError)
from .ops import OPS as _OPS, install_methods as _install_methods
from .ops import attention, gemm, matmul, seq_attention, softmax
from .rnn import RnnPlan
from . import nn

_install_methods()
__version__ = version()

__all__ = ["Context", "Tensor", "Device", "RnnPlan", "devices", "version",
           "default_context", "nn", "errors", "Error"] + \
    [fn.__name__ for fn in _OPS] + \
    [name for name in dir(errors) if name.endswith("Error")]
