"""PyTorch-style recurrent layers on seqk: seqk.nn.LSTM, GRU, RNN.

They take PyTorch's constructor arguments, parameter names and shapes
(weight_ih_l0, weight_hh_l0_reverse, bias_ih_l1, ...) and return what
torch.nn.LSTM returns, for inference:

    lstm = seqk.nn.LSTM.from_torch(torch_lstm)      # or LSTM(32, 64, ...)
    out, (h_n, c_n) = lstm(x, (h0, c0), lengths=lens)

x is [T,B,I] ([B,T,I] with batch_first; [T,I] unbatched), a NumPy array
(or anything np.asarray takes, torch CPU tensors included).  lengths
([B]) plays the role of a PackedSequence: out is zero past each length,
h_n/c_n are the states at each sequence's last step.  Outputs are NumPy
arrays.  GRU is PyTorch's (linear_before_reset=1).  Parameters live in
.params (name -> float32 array); after changing them call
load_state_dict (or reload()) so the plan's prepacked weights follow.
"""
import numpy as np

from . import errors
from ._core import default_context
from .rnn import RnnPlan

__all__ = ["LSTM", "GRU", "RNN"]


class _RNNBase:
    _cell = None
    _gates = 1

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False,
                 proj_size=0, *, nonlinearity="tanh", context=None,
                 seed=None):
        if proj_size:
            raise errors.UnsupportedError(
                "seqk.nn: proj_size (LSTM projections) is not supported", 4)
        if num_layers < 1:
            raise errors.InvalidArgumentError(
                f"seqk.nn: num_layers must be >= 1, got {num_layers}", 1)
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.num_layers = int(num_layers)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)  # training only: ignored here
        self.bidirectional = bool(bidirectional)
        self.nonlinearity = nonlinearity
        self.context = context if context is not None else default_context()
        D = 2 if bidirectional else 1
        acts = None
        if self._cell == "rnn":
            if nonlinearity not in ("tanh", "relu"):
                raise errors.InvalidArgumentError(
                    f"seqk.nn.RNN: nonlinearity must be 'tanh' or 'relu', "
                    f"got {nonlinearity!r}", 1)
            acts = ["Tanh" if nonlinearity == "tanh" else "Relu"]
        self._plan = RnnPlan(
            self.context, self._cell, input_size, hidden_size,
            direction="bidirectional" if bidirectional else "forward",
            layout=1 if batch_first else 0, num_layers=num_layers,
            activations=acts, linear_before_reset=self._cell == "gru")
        # PyTorch's initialisation: U(-1/sqrt(H), 1/sqrt(H)).
        rng = np.random.default_rng(seed)
        k = 1.0 / np.sqrt(hidden_size)
        G, H = self._gates, self.hidden_size
        self.params = {}
        for layer in range(self.num_layers):
            I = self.input_size if layer == 0 else D * H
            for sfx in self._suffixes(layer):
                shapes = {"weight_ih": (G * H, I), "weight_hh": (G * H, H)}
                if self.bias:
                    shapes.update(bias_ih=(G * H,), bias_hh=(G * H,))
                for name, shape in shapes.items():
                    self.params[name + sfx] = rng.uniform(
                        -k, k, shape).astype(np.float32)
        self.reload()

    def _suffixes(self, layer):
        sfx = [f"_l{layer}"]
        if self.bidirectional:
            sfx.append(f"_l{layer}_reverse")
        return sfx

    def state_dict(self):
        return dict(self.params)

    def load_state_dict(self, state):
        """Sets parameters by PyTorch name (arrays or torch tensors) and
        uploads them."""
        for name, value in state.items():
            if name not in self.params:
                raise errors.InvalidArgumentError(
                    f"seqk.nn: unexpected parameter {name!r}", 1)
            a = np.asarray(_to_numpy(value), dtype=np.float32)
            if a.shape != self.params[name].shape:
                raise errors.ShapeError(
                    f"seqk.nn: {name} has shape {list(a.shape)}, expected "
                    f"{list(self.params[name].shape)}", 2)
            self.params[name] = np.ascontiguousarray(a)
        self.reload()

    def reload(self):
        """Uploads .params to the plan (PyTorch weight format)."""
        G, H = self._gates, self.hidden_size
        for layer in range(self.num_layers):
            sfx = self._suffixes(layer)
            W = np.stack([self.params["weight_ih" + s] for s in sfx])
            R = np.stack([self.params["weight_hh" + s] for s in sfx])
            if self.bias:
                B = np.stack([np.concatenate([self.params["bias_ih" + s],
                                              self.params["bias_hh" + s]])
                              for s in sfx])
            else:
                B = np.zeros((len(sfx), 2 * G * H), np.float32)
            self._plan.set_weights(layer, W, R, B, format="pytorch")

    @classmethod
    def from_torch(cls, module, context=None):
        """A copy of a torch.nn.LSTM/GRU/RNN (its configuration and
        weights) on seqk."""
        import torch  # only here: seqk does not need PyTorch otherwise

        want = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU,
                "rnn": torch.nn.RNN}[cls._cell]
        if not isinstance(module, want):
            raise errors.InvalidArgumentError(
                f"seqk.nn.{cls.__name__}.from_torch: expected a "
                f"{want.__name__}, got {type(module).__name__}", 1)
        kw = {}
        if cls._cell == "rnn":
            kw["nonlinearity"] = module.nonlinearity
        self = cls(module.input_size, module.hidden_size, module.num_layers,
                   bias=module.bias, batch_first=module.batch_first,
                   dropout=module.dropout, bidirectional=module.bidirectional,
                   proj_size=getattr(module, "proj_size", 0),
                   context=context, **kw)
        with torch.no_grad():
            self.load_state_dict({k: v.detach().cpu().float().numpy()
                                  for k, v in module.state_dict().items()})
        return self

    def __call__(self, input, hx=None, lengths=None):
        return self.forward(input, hx, lengths)

    def forward(self, input, hx=None, lengths=None):
        x = np.asarray(_to_numpy(input), dtype=np.float32)
        unbatched = x.ndim == 2
        if unbatched:
            x = x[:, None, :] if not self.batch_first else x[None]
        if x.ndim != 3:
            raise errors.ShapeError(
                f"seqk.nn.{type(self).__name__}: input must be 2-D or 3-D, "
                f"got shape {list(x.shape)}", 2)
        h0 = c0 = None
        if hx is not None:
            if self._cell == "lstm":
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise errors.InvalidArgumentError(
                        "seqk.nn.LSTM: hx must be a tuple (h0, c0)", 1)
                h0, c0 = (self._state_in(s, unbatched) for s in hx)
            else:
                h0 = self._state_in(hx, unbatched)
        if lengths is not None:
            lengths = np.asarray(_to_numpy(lengths)).astype(np.int32)
        Y, Yh, Yc = self._plan.forward(x, lengths, h0, c0)
        D, H = (2 if self.bidirectional else 1), self.hidden_size
        if self.batch_first:            # Y [B,T,D,H], states [B,L*D,H]
            out = Y.reshape(Y.shape[0], Y.shape[1], D * H)
            Yh = Yh.transpose(1, 0, 2)
            Yc = None if Yc is None else Yc.transpose(1, 0, 2)
        else:                           # Y [T,D,B,H], states [L*D,B,H]
            out = Y.transpose(0, 2, 1, 3).reshape(Y.shape[0], Y.shape[2],
                                                  D * H)
        out = np.ascontiguousarray(out)
        Yh = np.ascontiguousarray(Yh)
        Yc = None if Yc is None else np.ascontiguousarray(Yc)
        if unbatched:
            out = out[:, 0] if not self.batch_first else out[0]
            Yh = Yh[:, 0]
            Yc = None if Yc is None else Yc[:, 0]
        if self._cell == "lstm":
            return out, (Yh, Yc)
        return out, Yh

    def _state_in(self, s, unbatched):
        """PyTorch's [L*D,B,H] (or [L*D,H]) to the plan's layout."""
        s = np.asarray(_to_numpy(s), dtype=np.float32)
        if unbatched:
            s = s[:, None, :]
        if self.batch_first and s.ndim == 3:
            s = s.transpose(1, 0, 2)
        return np.ascontiguousarray(s)

    def __repr__(self):
        extra = ", bidirectional=True" if self.bidirectional else ""
        extra += ", batch_first=True" if self.batch_first else ""
        return (f"seqk.nn.{type(self).__name__}({self.input_size}, "
                f"{self.hidden_size}, num_layers={self.num_layers}{extra})")


def _to_numpy(x):
    """torch tensors (CPU, any grad state) and array-likes to NumPy."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        return x.detach().cpu().numpy()
    return x


class LSTM(_RNNBase):
    """torch.nn.LSTM's arguments; returns out, (h_n, c_n)."""
    _cell, _gates = "lstm", 4


class GRU(_RNNBase):
    """torch.nn.GRU's arguments; returns out, h_n."""
    _cell, _gates = "gru", 3


class RNN(_RNNBase):
    """torch.nn.RNN's arguments (nonlinearity "tanh" or "relu");
    returns out, h_n."""
    _cell, _gates = "rnn", 1

    def __init__(self, input_size, hidden_size, num_layers=1,
                 nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, **kw):
        super().__init__(input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional,
                         nonlinearity=nonlinearity, **kw)
