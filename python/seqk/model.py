"""Whole ONNX models from Python: seqk.Model over seqk_model_* of
include/seqk.h (README "Run an ONNX model").

    with seqk.Model("speech.onnx", device="cpu") as m:
        m.inputs    # [ModelIO('feats', float32, ('batch', 'frames', 20)),..]
        out = m.run({"feats": x, "h0": h0, "c0": c0})  # {"probs": array,..}
        probs = m.run([x, h0, c0], outputs=["probs"])["probs"]

Inputs take the dtype the model declares.  An array of another dtype is
converted only when NumPy calls the cast "safe" (int32 ids into an int64
input, float16 into float32); anything else is refused with the input's
name and both dtypes, as `seqk run model.onnx` does.  Python lists and
scalars take the declared dtype (floats rounded to float32, integers
checked to fit).  Outputs are NumPy arrays of their own (the C outputs
are the model's and change at the next run).
"""
import ctypes
import os
from ctypes import c_char_p, c_int
import threading

import numpy as np

from . import errors
from ._core import _DTYPES, _NP_DTYPES, Context, Tensor, _text, check
from ._lib import ModelIO as _CModelIO
from ._lib import (DeviceFacts, ModelOptions, dims_array, dims_p, lib,
                   tensor_p)


class ModelIO:
    """A graph input or output as the model declares it: name, dtype (a
    NumPy dtype, None when undeclared) and shape: a tuple whose entries
    are ints or, for symbolic dims, the dim's name (None when unnamed);
    shape is None when the rank is unknown."""

    __slots__ = ("name", "dtype", "shape")

    def __init__(self, name, dtype, shape):
        self.name, self.dtype, self.shape = name, dtype, shape

    def __iter__(self):  # name, dtype, shape = io
        return iter((self.name, self.dtype, self.shape))

    def __eq__(self, other):
        return tuple(self) == tuple(other)

    def __repr__(self):
        dt = self.dtype.name if self.dtype is not None else "?"
        return f"ModelIO({self.name!r}, {dt}, {self.shape!r})"


def _io(info):
    dtype = _NP_DTYPES.get(info.dtype)
    shape = None
    if info.ndim >= 0:
        shape = tuple(int(info.dims[d]) if info.dims[d] >= 0
                      else (_text(info.dim_names[d]) or None)
                      for d in range(info.ndim))
    return ModelIO(_text(info.name), dtype, shape)


def _not_one_of(names, what):
    """"'a' is not an input" / "'a', 'b' are not inputs"."""
    listed = ", ".join(map(repr, names))
    if len(names) == 1:
        return f"{listed} is not {what}"
    return f"{listed} are not {what.split(' ', 1)[1]}s"


def _names(names):
    arr = (c_char_p * max(len(names), 1))(*[n.encode() for n in names])
    return arr


class Model:
    """An ONNX model loaded once, run many times (a plan per distinct set
    of input shapes, cached by the library).

    source: a path (str or os.PathLike) or the model's bytes (bytes,
    bytearray, memoryview, or a file object to read).  device: any seqk
    device spec ("cpu", "ref", "opencl:0.0", ...; None: $SEQK_DEVICE,
    else "auto"); threads: 0 means $SEQK_NUM_THREADS, else the default.
    context: a seqk.Context to run on instead (device and threads are
    then ignored); seqk.Tensors of that context are used as inputs
    without a copy.  outputs: the graph outputs to compute (None: all);
    nodes feeding none of them are dropped.  base_dir: the folder
    external data is read from when loading from bytes.

    A model is used by one thread at a time (calls are serialised by a
    lock); one Model per thread runs concurrently.
    """

    def __init__(self, source, device="cpu", threads=0, outputs=None, *,
                 context=None, base_dir=None):
        self._m = None
        self._lock = threading.Lock()
        self._context = context  # kept alive while the model is
        opts = ModelOptions()
        lib.seqk_model_options_init(ctypes.byref(opts))
        if context is not None:
            if not isinstance(context, Context):
                raise errors.InvalidArgumentError(
                    "seqk.Model: context= must be a seqk.Context", 1)
            opts.context = context._handle()
        opts.device = device.encode() if device is not None else None
        opts.threads = int(threads)
        if isinstance(outputs, str):
            outputs = [outputs]
        if outputs is not None:
            outputs = list(outputs)
            keep = _names(outputs)
            opts.n_outputs = len(outputs)
            opts.outputs = keep
        if base_dir is not None:
            opts.base_dir = os.fsencode(base_dir)
        h = ctypes.c_void_p()
        if hasattr(source, "read"):
            source = source.read()
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            what = f"seqk.Model(<{len(data)} bytes>)"
            st = lib.seqk_model_load_bytes(data, len(data), ctypes.byref(opts),
                                           ctypes.byref(h))
        elif isinstance(source, (str, os.PathLike)):
            what = f"seqk.Model({os.fspath(source)!r})"
            st = lib.seqk_model_load(os.fsencode(source), ctypes.byref(opts),
                                     ctypes.byref(h))
        else:
            raise errors.InvalidArgumentError(
                "seqk.Model: source must be a path or the model's bytes, "
                f"got {type(source).__name__}", 1)
        check(st, None, what)  # load errors are in seqk_last_error(NULL)
        self._m = h
        self._ctx = lib.seqk_model_context(h)
        self.inputs = self._infos(lib.seqk_model_input_count,
                                  lib.seqk_model_input_info)
        self.outputs = self._infos(lib.seqk_model_output_count,
                                   lib.seqk_model_output_info)
        self._by_name = {io.name: io for io in self.inputs}
        facts = DeviceFacts()
        facts.struct_size = ctypes.sizeof(DeviceFacts)
        self._check(lib.seqk_context_device_facts(self._ctx,
                                                  ctypes.byref(facts)),
                    "seqk.Model")
        # Host devices read NumPy memory in place (seqk_tensor_wrap).
        self._host = lib.seqk_tensor_wrap is not None and not facts.present

    def _infos(self, count, get):
        out = []
        for i in range(count(self._m)):
            info = _CModelIO()
            info.struct_size = ctypes.sizeof(_CModelIO)
            self._check(get(self._m, i, ctypes.byref(info)), "seqk.Model")
            out.append(_io(info))
        return out

    def _handle(self):
        if self._m is None:
            raise errors.InvalidArgumentError("seqk.Model is closed", 1)
        return self._m

    def _check(self, st, what):
        check(st, self._ctx, what)

    @property
    def device(self):
        """The backend the model runs on, e.g. "avx512"."""
        self._handle()
        return _text(lib.seqk_context_device(self._ctx))

    @property
    def input_names(self):
        return [io.name for io in self.inputs]

    @property
    def output_names(self):
        return [io.name for io in self.outputs]

    # -- inputs -------------------------------------------------------

    def _by_position(self, feeds, what):
        """{name: value} from a dict or a list in the model's order."""
        names = self.input_names
        if isinstance(feeds, dict):
            unknown = [k for k in feeds if k not in self._by_name]
            if unknown:
                raise errors.InvalidArgumentError(
                    f"{what}: {_not_one_of(unknown, 'an input')} of the "
                    f"model (inputs: {', '.join(names)})", 1)
            missing = [n for n in names if n not in feeds]
            if missing:
                raise errors.InvalidArgumentError(
                    f"{what}: missing input{'s' if len(missing) > 1 else ''}"
                    f" {', '.join(map(repr, missing))} (inputs: "
                    f"{', '.join(names)})", 1)
            return {n: feeds[n] for n in names}
        feeds = list(feeds)
        if len(feeds) != len(names):
            raise errors.InvalidArgumentError(
                f"{what}: {len(feeds)} inputs given, the model has "
                f"{len(names)} ({', '.join(names)})", 1)
        return dict(zip(names, feeds))

    def _array(self, name, x):
        """x as a C-contiguous array of input name's declared dtype."""
        want = self._by_name[name].dtype
        if isinstance(x, np.ndarray) or hasattr(x, "__array__"):
            a = np.asarray(x)
            if want is None:
                want = a.dtype
            ok = a.dtype == want or (
                np.can_cast(a.dtype, want, casting="safe") and
                (a.dtype.kind == "b") == (want.kind == "b"))
            if not ok or want not in _DTYPES:
                raise errors.DtypeError(
                    f"seqk.Model.run: input '{name}' is {a.dtype} but the "
                    f"model declares {want} (convert it with "
                    f".astype(np.{want.name}) if that is what you mean)", 3)
            return np.ascontiguousarray(a, dtype=want) if a.ndim else \
                np.asarray(a, dtype=want)
        # Python scalars and lists: no dtype of their own to keep.
        a = np.asarray(x)
        if want is None:
            want = np.dtype(np.float32) if a.dtype.kind == "f" else a.dtype
        kinds = {"f": "fiub", "i": "iub", "b": "b"}.get(want.kind, "")
        if a.dtype.kind not in kinds or want not in _DTYPES:
            raise errors.DtypeError(
                f"seqk.Model.run: input '{name}' holds {a.dtype} values but "
                f"the model declares {want}", 3)
        b = np.asarray(a, dtype=want)
        if want.kind in "iu" and not np.array_equal(b, a):
            raise errors.OverflowError(
                f"seqk.Model.run: input '{name}' has values that do not fit "
                f"{want}", 7)
        return b

    def _tensor(self, name, x, keep):
        """The seqk_tensor handle feeding input name; keep collects the
        tensors (and arrays) to release after the run."""
        if isinstance(x, Tensor):
            if x.context._h is not None and \
                    x.context._h.value == self._ctx:
                want = self._by_name[name].dtype
                if want is not None and x.dtype != want:
                    raise errors.DtypeError(
                        f"seqk.Model.run: input '{name}' is {x.dtype} but the "
                        f"model declares {want}", 3)
                return x._handle()
            x = x.numpy()
        a = self._array(name, x)
        h = tensor_p()
        st = -1
        if self._host and a.flags.c_contiguous and a.flags.aligned:
            st = lib.seqk_tensor_wrap(self._ctx, a.ndim, dims_array(a.shape),
                                      _DTYPES[a.dtype],
                                      a.ctypes.data_as(ctypes.c_void_p),
                                      a.nbytes, ctypes.byref(h))
            if st != 0 and st != errors.UnsupportedError.status:
                self._check(st, f"seqk.Model.run: input '{name}'")
        if st != 0:
            self._check(lib.seqk_tensor_create(
                self._ctx, a.ndim, dims_array(a.shape), _DTYPES[a.dtype],
                ctypes.byref(h)), f"seqk.Model.run: input '{name}'")
            keep.append(h)
            self._check(lib.seqk_tensor_write(
                h, a.ctypes.data_as(ctypes.c_void_p), a.nbytes),
                f"seqk.Model.run: input '{name}'")
            return h
        keep.append(h)
        keep.append(a)
        return h

    # -- running ------------------------------------------------------

    def run(self, inputs, outputs=None):
        """Runs the model: inputs is {name: array} or a list in the
        model's input order (arrays, Python lists or scalars, or
        seqk.Tensors of the model's context); returns {name: ndarray} of
        every output, or of outputs (names, in that order)."""
        with self._lock:
            m = self._handle()
            feeds = self._by_position(inputs, "seqk.Model.run")
            if isinstance(outputs, str):
                outputs = [outputs]
            out_names = self.output_names if outputs is None \
                else list(outputs)
            unknown = [n for n in out_names if n not in self.output_names]
            if unknown:
                raise errors.InvalidArgumentError(
                    f"seqk.Model.run: {_not_one_of(unknown, 'an output')} "
                    f"the model computes (outputs: "
                    f"{', '.join(self.output_names)})", 1)
            keep = []
            try:
                names = list(feeds)
                handles = (tensor_p * max(len(names), 1))(
                    *[self._tensor(n, feeds[n], keep) for n in names])
                outs = (tensor_p * max(len(out_names), 1))()
                self._check(lib.seqk_model_run(
                    m, len(names), _names(names), handles, len(out_names),
                    _names(out_names), outs), "seqk.Model.run")
                # Read before the inputs go: an output may be their view.
                return {n: self._read(outs[i], n)
                        for i, n in enumerate(out_names)}
            finally:
                for h in keep:
                    if isinstance(h, tensor_p):
                        lib.seqk_tensor_destroy(h)

    __call__ = run

    def _read(self, h, name):
        nd = lib.seqk_tensor_ndim(h)
        shape = tuple(lib.seqk_tensor_dim(h, d) for d in range(nd))
        dtype = _NP_DTYPES.get(lib.seqk_tensor_dtype(h))
        if dtype is None:
            raise errors.InternalError(
                f"seqk.Model.run: output '{name}' has an unknown dtype "
                f"{lib.seqk_tensor_dtype(h)}", 12)
        out = np.empty(shape, dtype=dtype)
        self._check(lib.seqk_tensor_read(
            h, out.ctypes.data_as(ctypes.c_void_p), out.nbytes),
            f"seqk.Model.run: output '{name}'")
        return out

    def prepare(self, shapes=None, dims=None):
        """Makes (or finds) the plan for these input shapes without
        running: shapes is {name: shape} or a list of shapes in input
        order; or, without shapes, the declared shapes with the symbolic
        dims taken from dims ({"batch": 3, "seq": 5}; 1 when not given),
        as `seqk info model.onnx --dim batch=3` does."""
        with self._lock:
            m = self._handle()
            if shapes is None:
                dims = dict(dims or {})
                shapes = {}
                for io in self.inputs:
                    if io.shape is None:
                        raise errors.ShapeError(
                            f"seqk.Model.prepare: input '{io.name}' has no "
                            "declared rank: give shapes=", 2)
                    shapes[io.name] = [d if isinstance(d, int)
                                       else dims.get(d, 1) for d in io.shape]
            elif dims is not None:
                raise errors.InvalidArgumentError(
                    "seqk.Model.prepare: give shapes or dims, not both", 1)
            feeds = self._by_position(shapes, "seqk.Model.prepare")
            names = list(feeds)
            shapes = []
            for n in names:
                s = feeds[n]
                s = (int(s),) if np.isscalar(s) else tuple(int(d) for d in s)
                shapes.append(s)
            arrays = [dims_array(s) for s in shapes]
            ndims = (c_int * max(len(names), 1))(*[len(s) for s in shapes])
            dimp = (dims_p * max(len(names), 1))(
                *[ctypes.cast(a, dims_p) for a in arrays])
            self._check(lib.seqk_model_prepare(m, len(names), _names(names),
                                               ndims, dimp),
                        "seqk.Model.prepare")

    def describe(self):
        """seqk_model_describe's text: the last plan prepared or run (one
        line per step: nodes, fusions, kernel and device), or the loaded
        graph before any."""
        with self._lock:
            m = self._handle()
            n = lib.seqk_model_describe(m, None, 0)
            buf = ctypes.create_string_buffer(n + 1)
            lib.seqk_model_describe(m, buf, n + 1)
            return _text(buf.value)

    # -- lifetime -----------------------------------------------------

    def close(self):
        """Releases the model (its plans, buffers and, unless it was
        given one, its context)."""
        if self._m is not None:
            lib.seqk_model_destroy(self._m)
            self._m = None
            self._context = None

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
        if self._m is None:
            return "<seqk.Model closed>"
        return (f"<seqk.Model device={self.device!r} inputs="
                f"{self.input_names} outputs={self.output_names}>")
