"""RNN/LSTM/GRU plans (seqk_rnn_*): ONNX semantics, any weight format.

    plan = ctx.rnn("lstm", input_size=32, hidden_size=64,
                   direction="bidirectional")
    plan.set_weights(0, W, R, B)              # ONNX format by default
    Y, Y_h, Y_c = plan.forward(X, sequence_lens=lens)

Shapes (L layers, D directions; layout 1 swaps the first two axes of X,
Y, the states): X [T,B,I]; sequence_lens [B]; initial_h/c [L*D,B,H];
Y [T,D,B,H]; Y_h/Y_c [L*D,B,H].  seqk.nn wraps this PyTorch-style.
"""
import ctypes

import numpy as np

from . import errors
from ._core import Context
from ._lib import RNN_MAX_ACTIVATIONS, WEIGHT_DTYPES, RnnDesc, lib, rnn_p
from .ops import _Call, _h

CELLS = {"rnn": 0, "lstm": 1, "gru": 2}
DIRECTIONS = {"forward": 0, "reverse": 1, "bidirectional": 2}
FORMATS = {"onnx": 0, "pytorch": 1, "cudnn": 2, "onednn": 3}


def _choice(table, value, what):
    key = str(value).lower()
    if key not in table:
        raise errors.InvalidArgumentError(
            f"seqk.RnnPlan: {what} must be one of {', '.join(table)}, got "
            f"{value!r}", 1)
    return table[key]


class RnnPlan:
    """A seqk_rnn plan: descriptor plus prepacked weights on a context.

    activations: None (ONNX defaults) or a list of names ("Tanh") or
    (name, alpha, beta) tuples, as ONNX's activations attribute.
    weights="bf16": W and R kept rounded to bfloat16 (seqk_rnn_desc
    weight_dtype), the rest in f32."""

    def __init__(self, context, cell, input_size, hidden_size, *,
                 direction="forward", layout=0, num_layers=1,
                 activations=None, clip=0.0, input_forget=False,
                 linear_before_reset=False, weights="f32"):
        self.context = context
        if weights not in WEIGHT_DTYPES:
            raise errors.InvalidArgumentError(
                f"seqk.RnnPlan: weights must be 'f32' or 'bf16', got "
                f"{weights!r}", 1)
        d = RnnDesc()
        lib.seqk_rnn_desc_init(ctypes.byref(d), _choice(CELLS, cell, "cell"),
                               int(input_size), int(hidden_size))
        d.direction = _choice(DIRECTIONS, direction, "direction")
        d.layout = int(layout)
        d.num_layers = int(num_layers)
        d.clip = float(clip)
        d.input_forget = int(bool(input_forget))
        d.linear_before_reset = int(bool(linear_before_reset))
        d.weight_dtype = WEIGHT_DTYPES[weights]
        if activations:
            if len(activations) > RNN_MAX_ACTIVATIONS:
                raise errors.InvalidArgumentError(
                    f"seqk.RnnPlan: at most {RNN_MAX_ACTIVATIONS} "
                    f"activations, got {len(activations)}", 1)
            d.num_activations = len(activations)
            for i, a in enumerate(activations):
                name, alpha, beta = (a, None, None) if isinstance(a, str) \
                    else (tuple(a) + (None, None))[:3]
                kind = lib.seqk_act_from_name(name.encode())
                if kind < 0:
                    raise errors.InvalidArgumentError(
                        f"seqk.RnnPlan: unknown activation {name!r}", 1)
                act = lib.seqk_activation_default(kind)
                if alpha is not None:
                    act.alpha = alpha
                if beta is not None:
                    act.beta = beta
                d.activations[i] = act
        self.cell = str(cell).lower()
        self.num_directions = 2 if d.direction == 2 else 1
        self.hidden_size = int(hidden_size)
        self.num_layers = int(num_layers)
        self.layout = d.layout
        h = rnn_p()
        context._check(lib.seqk_rnn_create(context._handle(), ctypes.byref(d),
                                           ctypes.byref(h)), "seqk.RnnPlan")
        self._h = h

    def _handle(self):
        if self._h is None:
            raise errors.InvalidArgumentError("seqk.RnnPlan is closed", 1)
        return self._h

    def set_weights(self, layer, W, R, B=None, P=None, format="onnx"):
        """Weights of one layer (copied): W [D,G*H,I], R [D,G*H,H],
        B [D,2*G*H], P [D,3*H] (LSTM peepholes) in format "onnx",
        "pytorch", "cudnn" or "onednn" (see include/seqk.h)."""
        c = _Call("RnnPlan.set_weights", self.context)
        W, R, B, P = c.input(W), c.input(R), c.input(B), c.input(P)
        c.run(lib.seqk_rnn_set_weights(
            self._handle(), int(layer), _choice(FORMATS, format, "format"),
            _h(W), _h(R), _h(B), _h(P)))
        c.result()

    def forward(self, X, sequence_lens=None, initial_h=None, initial_c=None,
                *, outputs=("Y", "Y_h", "Y_c")):
        """Runs every layer; returns (Y, Y_h, Y_c) (Y_c None for RNN and
        GRU), NumPy or Tensors as the ops do.  outputs names the ones to
        compute (the others come back None)."""
        c = _Call("RnnPlan.forward", self.context, X, sequence_lens,
                  initial_h, initial_c)
        X = c.input(X)
        lens = c.input(sequence_lens, dtype=np.int32)
        h0, c0 = c.input(initial_h), c.input(initial_c)
        if X.ndim != 3:
            raise errors.ShapeError(
                f"seqk.RnnPlan.forward: X must be 3-D, got {list(X.shape)}",
                2)
        D, H, LD = self.num_directions, self.hidden_size, \
            self.num_layers * self.num_directions
        if self.layout == 0:
            T, Bn = X.shape[0], X.shape[1]
            yshape, hshape = (T, D, Bn, H), (LD, Bn, H)
        else:
            Bn, T = X.shape[0], X.shape[1]
            yshape, hshape = (Bn, T, D, H), (Bn, LD, H)
        Y = c.output(None, yshape) if "Y" in outputs else None
        Yh = c.output(None, hshape) if "Y_h" in outputs else None
        Yc = c.output(None, hshape) \
            if "Y_c" in outputs and self.cell == "lstm" else None
        c.run(lib.seqk_rnn_forward(self._handle(), _h(X), _h(lens), _h(h0),
                                   _h(c0), _h(Y), _h(Yh), _h(Yc)))
        return c.result(Y, Yh, Yc)

    def close(self):
        if self._h is not None:
            lib.seqk_rnn_destroy(self._h)
            self._h = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def _rnn(self, cell, input_size, hidden_size, **kwargs):
    """An RnnPlan on this context (see seqk.RnnPlan)."""
    return RnnPlan(self, cell, input_size, hidden_size, **kwargs)


Context.rnn = _rnn
