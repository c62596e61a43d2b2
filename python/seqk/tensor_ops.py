"""The tensor ops of include/seqk.h (Gather, ArgMax, TopK, element-wise,
Concat) and views, with ONNX semantics.

    ids = np.array([[3, 1]], np.int64)
    emb = seqk.gather(E, ids)                 # embedding rows [1,2,D]
    tok = seqk.argmax(logits, axis=-1, keepdims=False)
    vals, idx = seqk.topk(logits, 5)
    y = seqk.add(a, b)                        # NumPy broadcasting
    keys = Y.reshape_view((T, B, 2 * H))      # no copy (seqk.Tensor)
    row = X.slice_view(0, 3, 1)               # rows 3..3 of axis 0

As the other ops: NumPy in, NumPy out; a seqk.Tensor in keeps results on
its context's device.
"""
import ctypes

import numpy as np

from . import errors
from ._core import Tensor
from ._lib import (ArgmaxParams, ElementwiseParams, TopkParams, dims_array,
                   lib, tensor_p)
from .ops import _Call, _h, install_methods, op


def _need(name):
    fn = getattr(lib, name)
    if fn is None:
        raise errors.UnsupportedError(
            f"{name}: this libseqk is older than the seqk package", 4)
    return fn


def _axis(axis, ndim):
    return axis + ndim if axis < 0 else axis


@op
def gather(data, indices, axis=0, *, out=None, context=None):
    """ONNX Gather: data's slices along axis picked by int32/int64
    indices (negative counts from the end; out of range is an error)."""
    c = _Call("gather", context, data, indices, out)
    data = c.input(data)
    indices = c.input(indices, dtype=None if isinstance(indices, Tensor) or
                      np.asarray(indices).dtype in (np.int32, np.int64)
                      else np.int64)
    a = _axis(int(axis), data.ndim)
    shape = data.shape
    if 0 <= a < data.ndim:
        shape = data.shape[:a] + indices.shape + data.shape[a + 1:]
    Y = c.output(out, shape, data.dtype)
    c.run(_need("seqk_gather")(c.ctx._handle(), int(axis), _h(data),
                               _h(indices), _h(Y)))
    return c.result(Y)


@op
def argmax(X, axis=0, *, keepdims=True, select_last_index=False, out=None,
           context=None):
    """ONNX ArgMax: int64 indices of the largest values along axis."""
    c = _Call("argmax", context, X, out)
    X = c.input(X)
    a = _axis(int(axis), X.ndim)
    shape = X.shape
    if 0 <= a < X.ndim:
        shape = (X.shape[:a] + ((1,) if keepdims else ()) + X.shape[a + 1:])
    Y = c.output(out, shape, np.int64)
    p = ArgmaxParams()
    _need("seqk_argmax_params_init")(ctypes.byref(p))
    p.axis, p.keepdims = int(axis), int(bool(keepdims))
    p.select_last_index = int(bool(select_last_index))
    c.run(lib.seqk_argmax(c.ctx._handle(), ctypes.byref(p), _h(X), _h(Y)))
    return c.result(Y)


@op
def topk(X, k, axis=-1, *, largest=True, sorted=True, context=None):
    """ONNX TopK: (values, int64 indices) of the k largest (or smallest)
    along axis; ties go to the lower index."""
    c = _Call("topk", context, X)
    X = c.input(X)
    a = _axis(int(axis), X.ndim)
    shape = X.shape
    if 0 <= a < X.ndim and k >= 0:
        shape = X.shape[:a] + (int(k),) + X.shape[a + 1:]
    V = c.output(None, shape, X.dtype)
    idx = c.output(None, shape, np.int64)
    p = TopkParams()
    _need("seqk_topk_params_init")(ctypes.byref(p), int(k))
    p.axis, p.largest, p.sorted = int(axis), int(bool(largest)), \
        int(bool(sorted))
    c.run(lib.seqk_topk(c.ctx._handle(), ctypes.byref(p), _h(X), _h(V),
                        _h(idx)))
    return c.result(V, idx)


def _elementwise(name, A, B=None, out=None, context=None):
    c = _Call(name, context, A, B, out)
    A, B = c.input(A), c.input(B)
    code = _need("seqk_elementwise_from_name")(name.encode())
    if code < 0:
        raise errors.UnsupportedError(f"seqk.{name}: not in this libseqk", 4)
    shape = A.shape
    if B is not None:
        try:
            shape = tuple(np.broadcast_shapes(A.shape, B.shape))
        except ValueError:
            pass  # the library names the shapes
    Y = c.output(out, shape, A.dtype)
    p = ElementwiseParams()
    lib.seqk_elementwise_params_init(ctypes.byref(p), code)
    c.run(lib.seqk_elementwise(c.ctx._handle(), ctypes.byref(p), _h(A),
                               _h(B), _h(Y)))
    return c.result(Y)


def _binary(onnx):
    def fn(A, B, *, out=None, context=None):
        return _elementwise(onnx, A, B, out, context)
    fn.__name__ = onnx.lower()
    fn.__doc__ = f"ONNX {onnx} with NumPy broadcasting."
    return op(fn)


def _unary(onnx):
    def fn(X, *, out=None, context=None):
        return _elementwise(onnx, X, None, out, context)
    fn.__name__ = onnx.lower()
    fn.__doc__ = f"ONNX {onnx}, element by element."
    return op(fn)


add, sub, mul, div = (_binary(n) for n in ("Add", "Sub", "Mul", "Div"))
tanh, sigmoid, relu, exp, neg = (_unary(n) for n in
                                 ("Tanh", "Sigmoid", "Relu", "Exp", "Neg"))


@op
def concat(inputs, axis=0, *, out=None, context=None):
    """ONNX Concat of a list of tensors along axis."""
    inputs = list(inputs)
    c = _Call("concat", context, *inputs, out)
    ts = [c.input(x) for x in inputs]
    shape = ts[0].shape if ts else (0,)
    if ts:
        a = _axis(int(axis), ts[0].ndim)
        if 0 <= a < ts[0].ndim:
            total = sum(t.shape[a] if t.ndim == ts[0].ndim else 0 for t in ts)
            shape = ts[0].shape[:a] + (total,) + ts[0].shape[a + 1:]
    Y = c.output(out, shape, ts[0].dtype if ts else np.float32)
    arr = (tensor_p * max(len(ts), 1))(*[_h(t) for t in ts])
    c.run(_need("seqk_concat")(c.ctx._handle(), int(axis), len(ts), arr,
                               _h(Y)))
    return c.result(Y)


def _view(t, handle, shape, host):
    v = Tensor(t.context, handle, shape, t.dtype, host=host)
    v._parent = t  # the parent's NumPy memory outlives the view
    return v


def reshape_view(self, shape):
    """The same memory with another shape (one dim may be -1): no copy."""
    shape = tuple(int(d) for d in shape)
    h = tensor_p()
    self._check(_need("seqk_tensor_reshape_view")(
        self._handle(), len(shape), dims_array(shape), ctypes.byref(h)),
        "seqk.Tensor.reshape_view")
    v = Tensor(self.context, h, (), self.dtype)
    nd = lib.seqk_tensor_ndim(h)
    v.shape = tuple(int(lib.seqk_tensor_dim(h, i)) for i in range(nd))
    host = None if self._host is None else self._host.reshape(v.shape)
    v._host = host
    v._parent = self
    return v


def slice_view(self, axis, start, length):
    """Elements start..start+length-1 along axis, as a view (the dims
    before axis must be 1, so the slice is one block): no copy."""
    h = tensor_p()
    self._check(_need("seqk_tensor_slice_view")(
        self._handle(), int(axis), int(start), int(length), ctypes.byref(h)),
        "seqk.Tensor.slice_view")
    a = _axis(int(axis), self.ndim)
    shape = self.shape[:a] + (int(length),) + self.shape[a + 1:]
    host = None
    if self._host is not None:
        idx = [slice(None)] * self.ndim
        idx[a] = slice(int(start), int(start) + int(length))
        host = self._host[tuple(idx)]
    return _view(self, h, shape, host)


Tensor.reshape_view = reshape_view
Tensor.slice_view = slice_view
install_methods()
