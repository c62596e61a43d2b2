"""seqk.nn.LSTM/GRU/RNN and RnnPlan against a NumPy reference (PyTorch's
equations and gate orders) and, when torch is importable, against
torch.nn.LSTM/GRU/RNN: bidirectional, stacked, batch_first, variable
lengths, initial states."""
import numpy as np
import pytest

import seqk
from conftest import close

CELLS = {"lstm": seqk.nn.LSTM, "gru": seqk.nn.GRU, "rnn": seqk.nn.RNN}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def step(cell, p, sfx, x, h, c):
    """One PyTorch cell step for a batch."""
    gi = x @ p["weight_ih" + sfx].T + p["bias_ih" + sfx]
    gh = h @ p["weight_hh" + sfx].T + p["bias_hh" + sfx]
    if cell == "lstm":
        i, f, g, o = np.split(gi + gh, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        return sigmoid(o) * np.tanh(c), c
    if cell == "gru":
        ir, iz, in_ = np.split(gi, 3, axis=1)
        hr, hz, hn = np.split(gh, 3, axis=1)
        r, z = sigmoid(ir + hr), sigmoid(iz + hz)
        n = np.tanh(in_ + r * hn)
        return (1 - z) * n + z * h, c
    return np.tanh(gi + gh), c


def reference(m, x, lengths=None, h0=None, c0=None):
    """x [T,B,I] (not batch_first); returns out [T,B,D*H], h_n, c_n."""
    T, B, _ = x.shape
    D, H, L = (2 if m.bidirectional else 1), m.hidden_size, m.num_layers
    lengths = np.full(B, T) if lengths is None else np.asarray(lengths)
    h0 = np.zeros((L * D, B, H), np.float32) if h0 is None else h0
    c0 = np.zeros((L * D, B, H), np.float32) if c0 is None else c0
    hn, cn = np.zeros_like(h0), np.zeros_like(c0)
    inp = x
    for layer in range(L):
        out = np.zeros((T, B, D * H), np.float32)
        for d in range(D):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            k = layer * D + d
            for b in range(B):
                h, c = h0[k, b:b + 1], c0[k, b:b + 1]
                ts = range(lengths[b])
                for t in (reversed(ts) if d else ts):
                    h, c = step(m._cell, m.params, sfx, inp[t, b:b + 1], h, c)
                    out[t, b, d * H:(d + 1) * H] = h[0]
                hn[k, b], cn[k, b] = h[0], c[0]
        inp = out
    return out, hn, cn


CASES = [  # layers, bidirectional, batch_first, lengths, initial state
    (1, False, False, None, False),
    (2, True, False, None, True),
    (1, True, True, [5, 2, 0], False),
    (3, False, True, [1, 5, 3], True),
]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers, bidir, batch_first, lengths, state", CASES)
def test_nn_against_numpy(ctx, rng, cell, layers, bidir, batch_first,
                          lengths, state):
    T, B, I, H = 5, 3, 4, 6
    m = CELLS[cell](I, H, layers, bidirectional=bidir,
                    batch_first=batch_first, context=ctx, seed=7)
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    D = 2 if bidir else 1
    h0 = c0 = None
    if state:
        h0 = rng.standard_normal((layers * D, B, H)).astype(np.float32)
        c0 = rng.standard_normal((layers * D, B, H)).astype(np.float32)
    hx = None if not state else ((h0, c0) if cell == "lstm" else h0)
    xin = x.transpose(1, 0, 2) if batch_first else x
    out, hs = m(xin, hx, lengths=lengths)
    want_out, want_h, want_c = reference(m, x, lengths, h0, c0)
    if batch_first:
        want_out = want_out.transpose(1, 0, 2)
    close(out, want_out)
    if cell == "lstm":
        close(hs[0], want_h)
        close(hs[1], want_c)
    else:
        close(hs, want_h)


def test_unbatched_input(rng):
    m = seqk.nn.GRU(3, 4, seed=1)
    x = rng.standard_normal((6, 3)).astype(np.float32)
    out, h = m(x)
    out_b, h_b = m(x[:, None])
    assert out.shape == (6, 4) and h.shape == (1, 4)
    close(out, out_b[:, 0])
    close(h, h_b[:, 0])


def test_rnn_plan_onnx_layout(ctx, rng):
    # The C-level plan: ONNX weights, Y [T,D,B,H]; GRU default activations.
    T, B, I, H = 4, 2, 3, 5
    plan = ctx.rnn("gru", I, H, direction="reverse", linear_before_reset=True)
    W = rng.standard_normal((1, 3 * H, I)).astype(np.float32)
    R = rng.standard_normal((1, 3 * H, H)).astype(np.float32)
    Bb = rng.standard_normal((1, 6 * H)).astype(np.float32)
    plan.set_weights(0, W, R, Bb)
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    Y, Yh, Yc = plan.forward(x, sequence_lens=[4, 2])
    assert Y.shape == (T, 1, B, H) and Yh.shape == (1, B, H) and Yc is None
    # ONNX z,r,h is PyTorch's r,z,n with z and r swapped
    m = seqk.nn.GRU(I, H, bidirectional=False, context=ctx)
    perm = np.r_[H:2 * H, 0:H, 2 * H:3 * H]
    m.load_state_dict({"weight_ih_l0": W[0][perm], "weight_hh_l0": R[0][perm],
                       "bias_ih_l0": Bb[0, :3 * H][perm],
                       "bias_hh_l0": Bb[0, 3 * H:][perm]})
    # reverse direction = forward over each sequence's reversed prefix
    for b, n in enumerate([4, 2]):
        out, h = m(x[:n, b:b + 1][::-1].copy())
        close(Y[:n, 0, b][::-1], out[:, 0])
        close(Yh[0, b], h[0, 0])
        assert not Y[n:, 0, b].any()


def test_rnn_errors(ctx, rng):
    with pytest.raises(seqk.InvalidArgumentError, match="cell"):
        ctx.rnn("transformer", 3, 4)
    plan = ctx.rnn("lstm", 3, 4)
    with pytest.raises(seqk.ShapeError) as e:
        plan.set_weights(0, np.zeros((1, 12, 3), np.float32),
                         np.zeros((1, 16, 4), np.float32))
    assert "W" in str(e.value) and "[1,16,3]" in str(e.value)
    m = seqk.nn.LSTM(3, 4, context=ctx)
    with pytest.raises(seqk.ShapeError, match="weight_ih_l0"):
        m.load_state_dict({"weight_ih_l0": np.zeros((4, 3))})
    with pytest.raises(seqk.Error) as e:
        m(np.zeros((5, 2, 7), np.float32))   # input size 7, not 3
    assert "7" in str(e.value)
    with pytest.raises(seqk.Error, match="sequence_lens"):
        m(np.zeros((5, 2, 3), np.float32), lengths=[6, 1])


try:
    import torch
except ImportError:  # torch-compare tests skip
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not importable")
TORCH = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


@needs_torch
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers, bidir, batch_first, lengths, state", CASES)
def test_nn_against_torch(ctx, cell, layers, bidir, batch_first, lengths,
                          state):
    torch.manual_seed(0)
    T, B, I, H = 5, 3, 4, 6
    kw = {"nonlinearity": "relu"} if cell == "rnn" and layers == 2 else {}
    tm = getattr(torch.nn, TORCH[cell])(I, H, layers, bidirectional=bidir,
                                        batch_first=batch_first, **kw)
    m = CELLS[cell].from_torch(tm, context=ctx)
    D = 2 if bidir else 1
    x = torch.randn((B, T, I) if batch_first else (T, B, I))
    hx = None
    if state:
        h0, c0 = torch.randn(layers * D, B, H), torch.randn(layers * D, B, H)
        hx = (h0, c0) if cell == "lstm" else h0
    with torch.no_grad():
        if lengths is not None and min(lengths) > 0:
            pk = torch.nn.utils.rnn.pack_padded_sequence(
                x, torch.tensor(lengths), batch_first=batch_first,
                enforce_sorted=False)
            o, hs = tm(pk, hx)
            o, _ = torch.nn.utils.rnn.pad_packed_sequence(
                o, batch_first=batch_first, total_length=T)
        elif lengths is None:
            o, hs = tm(x, hx)
        else:
            pytest.skip("PyTorch packs no zero-length sequence")
    out, shs = m(x, hx, lengths=lengths)
    close(out, o.numpy())
    if cell == "lstm":
        close(shs[0], hs[0].numpy())
        close(shs[1], hs[1].numpy())
    else:
        close(shs, hs.numpy())


@needs_torch
def test_from_torch_refuses_the_wrong_module():
    with pytest.raises(seqk.InvalidArgumentError, match="expected a LSTM"):
        seqk.nn.LSTM.from_torch(torch.nn.GRU(2, 3))
    with pytest.raises(seqk.UnsupportedError, match="proj_size"):
        seqk.nn.LSTM.from_torch(torch.nn.LSTM(2, 4, proj_size=3))
