"""Contexts, tensors, devices: the handles of include/seqk.h in Python."""
import ctypes
import threading

import numpy as np

from . import errors
from ._lib import (DeviceFacts, DeviceInfo, Options, ctx_p, dims_array, lib,
                   tensor_p)

F32, I32, BOOL, I64 = 1, 2, 3, 4
_DTYPES = {np.dtype(np.float32): F32, np.dtype(np.int32): I32,
           np.dtype(np.bool_): BOOL, np.dtype(np.int64): I64}
_NP_DTYPES = {v: k for k, v in _DTYPES.items()}


def _text(b):
    return b.decode("utf-8", "replace") if b else ""


def check(st, ctx_handle=None, what=None):
    """Raises the seqk.Error subclass for status st with the context's
    (or this thread's) last error message."""
    if st == 0:
        return
    msg = _text(lib.seqk_last_error(ctx_handle))
    if not msg:
        msg = _text(lib.seqk_status_string(st))
    if what:
        msg = f"{what}: {msg}"
    raise errors.error_for(st, msg)


def version():
    """The library's version, e.g. "0.1.0"."""
    return _text(lib.seqk_version_string())


class Device:
    """One entry of seqk.devices(): spec (what Context(device=...) takes),
    name, kind ("reference", "cpu_simd", "opencl"), available and, when
    not, why_unavailable."""
    _KINDS = {0: "reference", 1: "cpu_simd", 2: "opencl"}

    def __init__(self, info):
        self.spec = _text(info.spec)
        self.name = _text(info.name)
        self.kind = self._KINDS.get(info.kind, str(info.kind))
        self.available = bool(info.available)
        self.why_unavailable = _text(info.why_unavailable)

    def __repr__(self):
        state = "available" if self.available else \
            f"unavailable: {self.why_unavailable}"
        return f"<seqk.Device {self.spec!r} {self.name!r} ({state})>"


def devices():
    """Every device seqk knows of, available or not, reference first."""
    n = ctypes.c_int()
    check(lib.seqk_device_count(ctypes.byref(n)))
    out = []
    for i in range(n.value):
        info = DeviceInfo()
        info.struct_size = ctypes.sizeof(DeviceInfo)
        check(lib.seqk_device_info_get(i, ctypes.byref(info)))
        out.append(Device(info))
    return out


class Context:
    """A seqk context: the device ops run on and its threads.

        with seqk.Context("cpu") as ctx:
            y = ctx.softmax(x)

    device: "auto" (default; $SEQK_DEVICE when None), "ref", "cpu", "avx2",
    "avx512", "neon", "opencl", "opencl:P.D".  threads: 0 means
    $SEQK_NUM_THREADS, else the library's default.  A context (and its
    tensors) may be used by one thread at a time, as in C; use one
    context per thread for concurrent calls.
    """

    def __init__(self, device="auto", threads=0, tuning_db=None):
        opts = Options()
        lib.seqk_options_init(ctypes.byref(opts))
        opts.device = device.encode() if device is not None else None
        opts.threads = int(threads)
        opts.tuning_db = tuning_db.encode() if tuning_db else None
        h = ctx_p()
        check(lib.seqk_context_create(ctypes.byref(opts), ctypes.byref(h)),
              None, "seqk.Context")
        self._h = h
        facts = DeviceFacts()
        facts.struct_size = ctypes.sizeof(DeviceFacts)
        self._check(lib.seqk_context_device_facts(h, ctypes.byref(facts)))
        # Host contexts can wrap NumPy memory (seqk_tensor_wrap).
        self.is_host = not facts.present

    def _handle(self):
        if self._h is None:
            raise errors.InvalidArgumentError("seqk.Context is closed", 1)
        return self._h

    def _check(self, st, what=None):
        check(st, self._h, what)

    @property
    def device(self):
        """The backend ops run on, e.g. "avx512"."""
        return _text(lib.seqk_context_device(self._handle()))

    @property
    def threads(self):
        return lib.seqk_context_threads(self._handle())

    def synchronize(self):
        """Waits for every op enqueued on the context (OpenCL)."""
        self._check(lib.seqk_context_synchronize(self._handle()))

    def close(self):
        """Releases the context.  Tensors and plans made on it keep
        working (they hold the C context alive) until they go too."""
        if self._h is not None:
            lib.seqk_context_destroy(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        if self._h is None:
            return "<seqk.Context closed>"
        return f"<seqk.Context device={self.device!r} threads={self.threads}>"

    def tensor(self, array, dtype=None, copy=False):
        """A seqk.Tensor holding array (NumPy or anything np.asarray takes).

        On host contexts a C-contiguous array of a seqk dtype (float32,
        int32, bool, int64 where the library has it) is wrapped, not
        copied, when the library has seqk_tensor_wrap: ops read and write
        its memory, and the tensor keeps the array alive.  Other arrays
        are converted (other floats to float32, other integers and Python
        ints to int32, or to dtype=) and copied; copy=True always
        copies."""
        a = _as_seqk_array(array, dtype)
        if (not copy and self.is_host and lib.seqk_tensor_wrap is not None
                and a.flags.c_contiguous and a.flags.aligned):
            h = tensor_p()
            st = lib.seqk_tensor_wrap(
                self._handle(), a.ndim, dims_array(a.shape),
                _DTYPES[a.dtype], a.ctypes.data_as(ctypes.c_void_p),
                a.nbytes, ctypes.byref(h))
            if st == 0:
                return Tensor(self, h, a.shape, a.dtype, host=a)
            if st != errors.UnsupportedError.status:
                self._check(st, "seqk.Context.tensor")
        t = self.empty(a.shape, a.dtype)
        t.write(a)
        return t

    def empty(self, shape, dtype=np.float32):
        """An uninitialised tensor of shape and dtype on the device."""
        shape = tuple(int(d) for d in shape)
        dt = np.dtype(dtype)
        if dt not in _DTYPES:
            raise errors.DtypeError(f"seqk has no dtype {dt}", 3)
        h = tensor_p()
        self._check(lib.seqk_tensor_create(
            self._handle(), len(shape), dims_array(shape), _DTYPES[dt],
            ctypes.byref(h)), "seqk.Context.empty")
        return Tensor(self, h, shape, dt)


def _as_seqk_array(array, dtype=None):
    is_array = isinstance(array, np.ndarray)
    a = np.asarray(array)
    if dtype is not None:
        dt = np.dtype(dtype)
    elif a.dtype in _DTYPES and (is_array or a.dtype != np.int64):
        # An array keeps its dtype; Python ints (int64 to NumPy) are int32.
        dt = a.dtype
    elif a.dtype.kind == "f":
        dt = np.dtype(np.float32)
    elif a.dtype.kind in "iu":
        dt = np.dtype(np.int32)
    else:
        raise errors.DtypeError(
            f"seqk has no dtype for {a.dtype}: use float32, int32 or bool", 3)
    if dt not in _DTYPES:
        raise errors.DtypeError(f"seqk has no dtype {dt}", 3)
    # (np.ascontiguousarray would turn a 0-d array into 1-d)
    return np.asarray(a, dtype=dt, order="C")


class Tensor:
    """A tensor on a context's device.  ctx.tensor(array) makes one;
    .numpy() reads it back (the wrapped array itself, no copy, when the
    tensor wraps NumPy memory)."""

    def __init__(self, ctx, handle, shape, dtype, host=None):
        self.context = ctx
        self._h = handle
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self._host = host  # the wrapped array, kept alive with the tensor

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def nbytes(self):
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    @property
    def is_wrapped(self):
        """Whether the tensor is NumPy memory wrapped without a copy."""
        return self._host is not None

    def _handle(self):
        if self._h is None:
            raise errors.InvalidArgumentError("seqk.Tensor is closed", 1)
        return self._h

    def _check(self, st, what):
        ctx = self.context._h
        check(st, ctx, what)

    def write(self, array):
        """Copies array (of this shape; converted to this dtype) in."""
        a = np.asarray(array, dtype=self.dtype, order="C")
        if a.shape != self.shape:
            raise errors.ShapeError(
                f"seqk.Tensor.write: array has shape {list(a.shape)} but "
                f"the tensor is {list(self.shape)}", 2)
        if self._host is not None:
            self._host[...] = a
            return
        self._check(lib.seqk_tensor_write(
            self._handle(), a.ctypes.data_as(ctypes.c_void_p), a.nbytes),
            "seqk.Tensor.write")

    def numpy(self):
        """The tensor's contents as a NumPy array (waits for pending ops).
        A wrapped tensor returns the array it wraps, sharing memory."""
        if self._host is not None:
            return self._host
        out = np.empty(self.shape, dtype=self.dtype)
        self._check(lib.seqk_tensor_read(
            self._handle(), out.ctypes.data_as(ctypes.c_void_p), out.nbytes),
            "seqk.Tensor.numpy")
        return out

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def close(self):
        if self._h is not None:
            lib.seqk_tensor_destroy(self._h)
            self._h = None
            self._host = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        return (f"<seqk.Tensor shape={list(self.shape)} dtype={self.dtype}"
                f"{' wrapped' if self._host is not None else ''}>")


_default = None
_default_lock = threading.Lock()


def default_context():
    """The context ops use when given no seqk.Tensor and no context=:
    made on first use with device "auto" ($SEQK_DEVICE when set)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Context(device=None)
        return _default
