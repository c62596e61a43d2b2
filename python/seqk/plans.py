"""Decode-step plans: work a decoder repeats at every step, done once.

    lin = ctx.linear(W, b)            # nn.Linear's W [out, in]; packed once
    logits = lin(h)                   # [..., in] -> [..., out]
    keys = ctx.attention_keys(enc, score="additive", W1=W1, W2=W2, v=v,
                              key_lens=lens)   # W2 . keys projected once
    context, weights = keys(query)    # one decoder step

seqk_linear_* and seqk_seq_attention_keys_* of include/seqk.h.
"""
import ctypes

import numpy as np

from . import errors
from ._core import Context
from ._lib import (WEIGHT_DTYPES, LinearDesc, SeqAttentionInputs,
                   SeqAttentionParams, lib)
from .ops import _SCORES, _Call, _h
from .tensor_ops import _need


class _Plan:
    def __init__(self, context, destroy):
        self.context = context
        self._p = None
        self._destroy = destroy

    def close(self):
        if self._p is not None:
            self._destroy(self._p)
            self._p = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _handle(self):
        if self._p is None:
            raise errors.InvalidArgumentError(
                f"seqk.{type(self).__name__} is closed", 1)
        return self._p


class Linear(_Plan):
    """Y = X W^T + b (layout "nk", nn.Linear's weight [out, in]) or
    X W + b (layout "kn", W [in, out]); W and b copied, packed once.
    weights="bf16": W kept rounded to bfloat16 (seqk_linear_desc
    weight_dtype), the product in f32."""

    def __init__(self, context, W, b=None, layout="nk", weights="f32"):
        super().__init__(context, lib.seqk_linear_destroy)
        if layout not in ("nk", "kn"):
            raise errors.InvalidArgumentError(
                f"seqk.Linear: layout must be 'nk' or 'kn', got {layout!r}",
                1)
        if weights not in WEIGHT_DTYPES:
            raise errors.InvalidArgumentError(
                f"seqk.Linear: weights must be 'f32' or 'bf16', got "
                f"{weights!r}", 1)
        c = _Call("Linear", context, W, b)
        W, b = c.input(W), c.input(b)
        if W.ndim != 2:
            raise errors.ShapeError(
                f"seqk.Linear: W must be 2-D, got {list(W.shape)}", 2)
        n, k = W.shape if layout == "nk" else W.shape[::-1]
        self.in_features, self.out_features = int(k), int(n)
        d = LinearDesc()
        _need("seqk_linear_desc_init")(ctypes.byref(d), k, n)
        d.weight_layout = 0 if layout == "nk" else 1
        d.weight_dtype = WEIGHT_DTYPES[weights]
        p = ctypes.c_void_p()
        c.run(lib.seqk_linear_create(c.ctx._handle(), ctypes.byref(d),
                                     _h(W), _h(b), ctypes.byref(p)))
        c.result()
        self._p = p

    @classmethod
    def from_torch(cls, context, module):
        """From a torch.nn.Linear (its weight and bias, copied)."""
        W = module.weight.detach().cpu().numpy().astype(np.float32)
        b = None if module.bias is None else \
            module.bias.detach().cpu().numpy().astype(np.float32)
        return cls(context, W, b)

    def __call__(self, X, *, out=None):
        c = _Call("Linear", self.context, X, out)
        X = c.input(X)
        Y = c.output(out, X.shape[:-1] + (self.out_features,))
        c.run(lib.seqk_linear_forward(self._handle(), _h(X), _h(Y)))
        return c.result(Y)


class AttentionKeys(_Plan):
    """The keys of one source sentence for seq_attention, projected once;
    calling it with a query [B,Dq] is one decoder step."""

    def __init__(self, context, keys, values=None, key_lens=None, *,
                 score="dot", W=None, W1=None, W2=None, v=None, Wloc=None):
        super().__init__(context, lib.seqk_seq_attention_keys_destroy)
        if score not in _SCORES:
            raise errors.InvalidArgumentError(
                f"seqk.AttentionKeys: score must be one of "
                f"{', '.join(_SCORES)}, got {score!r}", 1)
        c = _Call("AttentionKeys", context, keys, values, key_lens, W, W1,
                  W2, v, Wloc)
        inp = SeqAttentionInputs()
        ts = {}
        for name, x, dt in (("keys", keys, None), ("values", values, None),
                            ("key_lens", key_lens, np.int32), ("W", W, None),
                            ("W1", W1, None), ("W2", W2, None),
                            ("v", v, None), ("Wloc", Wloc, None)):
            ts[name] = c.input(x, dtype=dt)
            setattr(inp, name, _h(ts[name]))
        k = ts["keys"]
        vals = ts["values"] or k
        self.batch = k.shape[0] if k.ndim >= 1 else 0
        self.seq = k.shape[1] if k.ndim >= 2 else 0
        self.value_dim = vals.shape[2] if vals.ndim >= 3 else 0
        p = SeqAttentionParams()
        lib.seqk_seq_attention_params_init(ctypes.byref(p))
        p.score = _SCORES.index(score)
        h = ctypes.c_void_p()
        c.run(_need("seqk_seq_attention_keys_create")(
            c.ctx._handle(), ctypes.byref(p), ctypes.byref(inp),
            ctypes.byref(h)))
        c.result()
        self._p = h

    def __call__(self, query, *, return_weights=True):
        c = _Call("AttentionKeys", self.context, query)
        q = c.input(query)
        ctx_out = c.output(None, (self.batch, self.value_dim))
        w = c.output(None, (self.batch, self.seq)) if return_weights \
            else None
        c.run(lib.seqk_seq_attention_keyed(c.ctx._handle(), self._handle(),
                                           _h(q), _h(ctx_out), _h(w)))
        return c.result(ctx_out, w) if return_weights else c.result(ctx_out)


def _linear(self, W, b=None, layout="nk", weights="f32"):
    return Linear(self, W, b, layout, weights)


def _attention_keys(self, keys, values=None, key_lens=None, **kw):
    return AttentionKeys(self, keys, values, key_lens, **kw)


_linear.__doc__ = Linear.__doc__
_attention_keys.__doc__ = AttentionKeys.__doc__
Context.linear = _linear
Context.attention_keys = _attention_keys
