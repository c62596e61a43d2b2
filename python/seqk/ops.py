"""The ops of include/seqk.h as functions (and Context methods).

Each op takes seqk.Tensor or NumPy arrays.  Tensors say which context runs
the op; with arrays only, it runs on context= or seqk.default_context()
and returns NumPy arrays; with any Tensor input (or out=), it returns
Tensors that stay on the device.  On host contexts arrays are wrapped,
not copied (seqk_tensor_wrap), and so are the outputs.

A new op is one function here: _Call collects the inputs, allocates the
outputs, and turns a failed status into seqk.Error; decorate it with @op
and it is also a method of seqk.Context.
"""
import ctypes

import numpy as np

from . import errors
from ._core import Context, Tensor, default_context
from ._lib import (AttentionParams, GemmParams, SeqAttentionInputs,
                   SeqAttentionParams, lib)

OPS = []


def op(fn):
    """Registers fn as an op: seqk.<name>(...) and ctx.<name>(...)."""
    OPS.append(fn)
    return fn


class _Call:
    """One op call: its context, its inputs as Tensors, its outputs."""

    def __init__(self, name, context, *inputs):
        self.name = name
        self.temps = []
        ctxs = {id(t.context): t.context for t in inputs
                if isinstance(t, Tensor)}
        if len(ctxs) > 1:
            raise errors.InvalidArgumentError(
                f"seqk.{name}: the tensors come from different contexts", 1)
        self.numpy_out = not ctxs
        if ctxs:
            ctx = next(iter(ctxs.values()))
            if context is not None and context is not ctx:
                raise errors.InvalidArgumentError(
                    f"seqk.{name}: context= is not the tensors' context", 1)
        else:
            ctx = context if context is not None else default_context()
        self.ctx = ctx

    def input(self, x, dtype=None):
        """x as a Tensor of this context (None stays None)."""
        if x is None or isinstance(x, Tensor):
            return x
        t = self.ctx.tensor(x, dtype=dtype)
        self.temps.append(t)
        return t

    def output(self, out, shape, dtype=np.float32):
        """out, or a new tensor of shape (over a NumPy array on host
        contexts, so that returning it costs no copy)."""
        if out is not None:
            if not isinstance(out, Tensor):
                raise errors.InvalidArgumentError(
                    f"seqk.{self.name}: out= must be a seqk.Tensor", 1)
            self.numpy_out = False
            return out
        if self.numpy_out:
            t = self.ctx.tensor(np.empty(shape, dtype=dtype))
        else:
            t = self.ctx.empty(shape, dtype)
        return t

    def run(self, st):
        self.ctx._check(st, f"seqk.{self.name}")

    def result(self, *outs):
        """The outputs as the caller wants them (NumPy or Tensor)."""
        res = []
        for t in outs:
            if t is None:
                res.append(None)
            elif self.numpy_out:
                res.append(t.numpy())
                t.close()
            else:
                res.append(t)
        for t in self.temps:
            t.close()
        return res[0] if len(res) == 1 else tuple(res)


def _h(t):
    return None if t is None else t._handle()


@op
def gemm(A, B, C=None, *, trans_a=False, trans_b=False, alpha=1.0, beta=1.0,
         out=None, context=None):
    """ONNX Gemm: alpha * A' B' + beta * C (C broadcasts to [M,N])."""
    c = _Call("gemm", context, A, B, C, out)
    A, B, C = c.input(A), c.input(B), c.input(C)
    if A.ndim != 2 or B.ndim != 2:
        raise errors.ShapeError(
            f"seqk.gemm: A and B must be 2-D, got {list(A.shape)} and "
            f"{list(B.shape)}", 2)
    M = A.shape[1] if trans_a else A.shape[0]
    N = B.shape[0] if trans_b else B.shape[1]
    Y = c.output(out, (M, N))
    p = GemmParams()
    lib.seqk_gemm_params_init(ctypes.byref(p))
    p.trans_a, p.trans_b = int(bool(trans_a)), int(bool(trans_b))
    p.alpha, p.beta = alpha, beta
    c.run(lib.seqk_gemm(c.ctx._handle(), ctypes.byref(p), _h(A), _h(B),
                        _h(C), _h(Y)))
    return c.result(Y)


def _matmul_shape(a, b):
    if len(a) == 0 or len(b) == 0:
        return None
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    try:
        batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    except ValueError:
        return None
    shape = tuple(batch) + (a2[-2], b2[-1])
    if len(a) == 1:
        shape = shape[:-2] + shape[-1:]
    if len(b) == 1:
        shape = shape[:-1]
    return shape


@op
def matmul(A, B, *, out=None, context=None):
    """ONNX MatMul (numpy.matmul): batched, broadcasting, 1-D operands."""
    c = _Call("matmul", context, A, B, out)
    A, B = c.input(A), c.input(B)
    shape = _matmul_shape(A.shape, B.shape)
    if shape is None and out is None:
        # Let the library say what is wrong with the shapes.
        shape = (0,)
    Y = c.output(out, shape)
    c.run(lib.seqk_matmul(c.ctx._handle(), _h(A), _h(B), _h(Y)))
    return c.result(Y)


@op
def softmax(X, axis=-1, *, out=None, context=None):
    """ONNX Softmax-13 along axis."""
    c = _Call("softmax", context, X, out)
    X = c.input(X)
    Y = c.output(out, X.shape)
    c.run(lib.seqk_softmax(c.ctx._handle(), int(axis), _h(X), _h(Y)))
    return c.result(Y)


@op
def attention(Q, K, V, attn_mask=None, *, q_num_heads=0, kv_num_heads=0,
              scale=0.0, softcap=0.0, is_causal=False, causal_align="top_left",
              out=None, context=None):
    """ONNX Attention-23.  Q [B,Sq,Hq*Dh] or [B,Hq,Sq,Dh]; K, V likewise
    with Skv and Hkv; attn_mask bool (True attends) or float (added);
    causal_align "top_left" (PyTorch) or "bottom_right"."""
    c = _Call("attention", context, Q, K, V, attn_mask, out)
    Q, K, V = c.input(Q), c.input(K), c.input(V)
    attn_mask = c.input(attn_mask)
    aligns = {"top_left": 0, "bottom_right": 1}
    if causal_align not in aligns:
        raise errors.InvalidArgumentError(
            f"seqk.attention: causal_align must be 'top_left' or "
            f"'bottom_right', got {causal_align!r}", 1)
    shape = None
    if out is None:
        if Q.ndim == 4 and V.ndim == 4:
            shape = (Q.shape[0], Q.shape[1], Q.shape[2], V.shape[3])
        elif Q.ndim == 3 and V.ndim == 3 and q_num_heads and kv_num_heads:
            dv = V.shape[2] // kv_num_heads
            shape = (Q.shape[0], Q.shape[1], q_num_heads * dv)
        else:
            shape = Q.shape  # the library names what is wrong
    Y = c.output(out, shape)
    p = AttentionParams()
    lib.seqk_attention_params_init(ctypes.byref(p))
    p.q_num_heads, p.kv_num_heads = int(q_num_heads), int(kv_num_heads)
    p.scale, p.softcap = scale, softcap
    p.is_causal, p.causal_align = int(bool(is_causal)), aligns[causal_align]
    c.run(lib.seqk_attention(c.ctx._handle(), ctypes.byref(p), _h(Q), _h(K),
                             _h(V), _h(attn_mask), _h(Y)))
    return c.result(Y)


_SCORES = ("dot", "scaled_dot", "general", "additive", "cosine", "location")


@op
def seq_attention(query, keys, values=None, key_lens=None, *, score="dot",
                  W=None, W1=None, W2=None, v=None, Wloc=None,
                  return_weights=True, context=None):
    """Encoder-decoder attention: query [B,Dq], keys [B,S,Dk], values
    [B,S,Dv] (None: keys), key_lens [B] (None: all S); score "dot",
    "scaled_dot", "general" (W), "additive" (W1, W2, v), "cosine",
    "location" (Wloc).  Returns (context [B,Dv], weights [B,S]), or the
    context alone with return_weights=False."""
    if score not in _SCORES:
        raise errors.InvalidArgumentError(
            f"seqk.seq_attention: score must be one of {', '.join(_SCORES)},"
            f" got {score!r}", 1)
    c = _Call("seq_attention", context, query, keys, values, key_lens, W,
              W1, W2, v, Wloc)
    inp = SeqAttentionInputs()
    tensors = {}
    for name, x, dt in (("query", query, None), ("keys", keys, None),
                        ("values", values, None),
                        ("key_lens", key_lens, np.int32), ("W", W, None),
                        ("W1", W1, None), ("W2", W2, None), ("v", v, None),
                        ("Wloc", Wloc, None)):
        t = c.input(x, dtype=dt)
        tensors[name] = t
        setattr(inp, name, _h(t))
    q, k = tensors["query"], tensors["keys"]
    vals = tensors["values"] or k
    B = q.shape[0] if q.ndim >= 1 else 0
    S = k.shape[1] if k.ndim >= 2 else 0
    Dv = vals.shape[2] if vals.ndim >= 3 else 0
    ctx_out = c.output(None, (B, Dv))
    w_out = c.output(None, (B, S)) if return_weights else None
    p = SeqAttentionParams()
    lib.seqk_seq_attention_params_init(ctypes.byref(p))
    p.score = _SCORES.index(score)
    c.run(lib.seqk_seq_attention(c.ctx._handle(), ctypes.byref(p),
                                 ctypes.byref(inp), _h(ctx_out), _h(w_out)))
    if return_weights:
        return c.result(ctx_out, w_out)
    return c.result(ctx_out)


def _method(fn):
    def m(self, *args, **kwargs):
        return fn(*args, context=self, **kwargs)
    m.__name__ = fn.__name__
    m.__doc__ = fn.__doc__
    return m


def install_methods(cls=Context):
    for fn in OPS:
        setattr(cls, fn.__name__, _method(fn))


install_methods()
