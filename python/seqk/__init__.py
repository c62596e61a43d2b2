"""seqk: sequence-model kernels (RNN/LSTM/GRU, GEMM, softmax, attention)
on CPUs and OpenCL devices, from Python.

    import numpy as np, seqk
    with seqk.Context("cpu") as ctx:
        y = ctx.matmul(np.ones((2, 3), np.float32), np.ones((3, 4), np.float32))
    lstm = seqk.nn.LSTM(32, 64, bidirectional=True)
    out, (h_n, c_n) = lstm(x)
    with seqk.Model("model.onnx", device="cpu") as m:    # ONNX models
        outs = m.run({"tokens": ids})                      # {name: ndarray}

Bindings are ctypes over the libseqk.so bundled in the package; foreign
calls release the GIL.  Errors raise seqk.Error subclasses whose message
is the library's (seqk_last_error).

Kept free of heavy imports (no library loading at import time), so that
tools such as `python3 -m seqk.report` run without libseqk installed: the
names below load the library on first use.
"""
import importlib

from . import errors
from .errors import (DeviceError, DtypeError, Error, FormatError,
                     InternalError, InvalidArgumentError, IOError,
                     NoDeviceError, OutOfMemoryError, OverflowError,
                     ShapeError, TuningDBError, UnsupportedError)

# name -> the module that defines it (loaded, with libseqk, on first use)
_LAZY = {
    "Context": "_core", "Tensor": "_core", "Device": "_core",
    "devices": "_core", "version": "_core", "default_context": "_core",
    "gemm": "ops", "matmul": "ops", "softmax": "ops", "attention": "ops",
    "seq_attention": "ops", "RnnPlan": "rnn", "nn": None,
    "gather": "tensor_ops", "argmax": "tensor_ops", "topk": "tensor_ops",
    "add": "tensor_ops", "sub": "tensor_ops", "mul": "tensor_ops",
    "div": "tensor_ops", "tanh": "tensor_ops", "sigmoid": "tensor_ops",
    "relu": "tensor_ops", "exp": "tensor_ops", "neg": "tensor_ops",
    "concat": "tensor_ops", "Linear": "plans", "AttentionKeys": "plans",
    "Model": "model", "ModelIO": "model",
}

__all__ = sorted(_LAZY) + ["errors"] + \
    [name for name in dir(errors) if name.endswith("Error")]


def __getattr__(name):
    if name == "__version__":
        return __getattr__("version")()
    if name not in _LAZY:
        raise AttributeError(f"module 'seqk' has no attribute {name!r}")
    # rnn, tensor_ops and plans add Context methods; importing them
    # brings _core and ops along.
    for mod in (".rnn", ".tensor_ops", ".plans"):
        importlib.import_module(mod, __name__)
    mod = importlib.import_module("." + (_LAZY[name] or name), __name__)
    value = mod if _LAZY[name] is None else getattr(mod, name)
    globals()[name] = value
    return value
