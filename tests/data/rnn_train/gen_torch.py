#!/usr/bin/python3
"""Expected RNN gradients from PyTorch autograd, for tests/test_rnn_train.c.

Run from anywhere: /usr/bin/python3 tests/data/rnn_train/gen_torch.py
(Debian's python3-torch, 1.13).  Writes, per configuration NAME, files
NAME_*.npy beside this script: the inputs (f32), the weights in PyTorch
format, random dY/dY_h/dY_c, and what torch computes in float64 from
those same f32 values for the loss
    L = sum(dY*Y) + sum(dY_h*Y_h) + sum(dY_c*Y_c)
(Y, Y_h, Y_c, dX, dinitial_h, dinitial_c, dW, dR, dB per layer).
Lengths go through pack_padded_sequence (Y is zero past a length, Y_h
is the state at the last valid step: seqk's semantics).

Layouts are seqk's: Y [T,D,B,H] (torch gives [T,B,D*H]); W [D,G*H,I],
R [D,G*H,H], B [D,2*G*H] = [b_ih, b_hh] per direction, PyTorch gate
order (seqk_rnn_set_weights / seqk_rnn_get_weight_grads with
SEQK_WEIGHTS_PYTORCH).  NAME_meta.npy (i32): cell (0 RNN, 1 LSTM, 2 GRU),
layers, directions, H, I, T, B, has_lens, relu.
"""
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))

CONFIGS = [
    # name, cell, layers, bidir, H, I, T, B, lens, relu
    ("lstm_l2_bi", 1, 2, True, 4, 3, 5, 3, [5, 2, 4], False),
    ("lstm_l1", 1, 1, False, 3, 2, 4, 2, None, False),
    ("gru_l1_bi", 2, 1, True, 3, 2, 4, 2, [4, 1], False),
    ("gru_l2", 2, 2, False, 4, 3, 3, 2, [3, 2], False),
    ("rnn_tanh_l2", 0, 2, False, 4, 2, 5, 3, [3, 5, 1], False),
    ("rnn_relu_bi", 0, 1, True, 3, 3, 4, 2, None, True),
]


def save(name, key, arr, dtype=np.float32):
    np.save(os.path.join(HERE, "%s_%s.npy" % (name, key)),
            np.ascontiguousarray(np.asarray(arr, dtype=dtype)))


def f32(shape, rng, scale=1.0):
    return (rng.uniform(-scale, scale, size=shape).astype(np.float32))


def main():
    for n, (name, cell, L, bidir, H, I, T, B, lens, relu) in enumerate(CONFIGS):
        rng = np.random.default_rng(1234 + n)
        D = 2 if bidir else 1
        G = {0: 1, 1: 4, 2: 3}[cell]
        kw = dict(input_size=I, hidden_size=H, num_layers=L,
                  bidirectional=bidir)
        if cell == 1:
            mod = torch.nn.LSTM(**kw)
        elif cell == 2:
            mod = torch.nn.GRU(**kw)
        else:
            mod = torch.nn.RNN(nonlinearity="relu" if relu else "tanh", **kw)
        mod = mod.double()
        # f32 values, held in float64 by torch
        for l in range(L):
            for sfx in ["", "_reverse"][:D]:
                for kind in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]:
                    p = getattr(mod, "%s_l%d%s" % (kind, l, sfx))
                    with torch.no_grad():
                        p.copy_(torch.from_numpy(f32(p.shape, rng, 0.5)).double())
        x = f32((T, B, I), rng)
        h0 = f32((L * D, B, H), rng)
        c0 = f32((L * D, B, H), rng)
        dy = f32((T, D, B, H), rng)
        dyh = f32((L * D, B, H), rng)
        dyc = f32((L * D, B, H), rng)

        xt = torch.from_numpy(x).double().requires_grad_()
        h0t = torch.from_numpy(h0).double().requires_grad_()
        c0t = torch.from_numpy(c0).double().requires_grad_()
        inp = xt
        if lens is not None:
            inp = torch.nn.utils.rnn.pack_padded_sequence(
                xt, torch.tensor(lens), enforce_sorted=False)
        if cell == 1:
            out, (yh, yc) = mod(inp, (h0t, c0t))
        else:
            out, yh = mod(inp, h0t)
            yc = None
        if lens is not None:
            out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=T)
        y = out.reshape(T, B, D, H).permute(0, 2, 1, 3)  # [T,D,B,H]
        loss = (y * torch.from_numpy(dy).double()).sum() + \
            (yh * torch.from_numpy(dyh).double()).sum()
        if yc is not None:
            loss = loss + (yc * torch.from_numpy(dyc).double()).sum()
        loss.backward()

        save(name, "meta", [cell, L, D, H, I, T, B, lens is not None, relu],
             np.int32)
        save(name, "x", x)
        save(name, "h0", h0)
        save(name, "dy", dy)
        save(name, "dyh", dyh)
        save(name, "y", y.detach().numpy())
        save(name, "yh", yh.detach().numpy())
        save(name, "dx", xt.grad.numpy())
        save(name, "dh0", h0t.grad.numpy())
        if cell == 1:
            save(name, "c0", c0)
            save(name, "dyc", dyc)
            save(name, "yc", yc.detach().numpy())
            save(name, "dc0", c0t.grad.numpy())
        if lens is not None:
            save(name, "lens", lens, np.int32)
        for l in range(L):
            sfx = ["", "_reverse"][:D]
            get = lambda k: [getattr(mod, "%s_l%d%s" % (k, l, s)) for s in sfx]
            W = torch.stack(get("weight_ih"))
            R = torch.stack(get("weight_hh"))
            Bv = torch.stack([torch.cat([bi, bh]) for bi, bh in
                              zip(get("bias_ih"), get("bias_hh"))])
            dW = torch.stack([p.grad for p in get("weight_ih")])
            dR = torch.stack([p.grad for p in get("weight_hh")])
            dB = torch.stack([torch.cat([bi.grad, bh.grad]) for bi, bh in
                              zip(get("bias_ih"), get("bias_hh"))])
            save(name, "w%d" % l, W.detach().numpy())
            save(name, "r%d" % l, R.detach().numpy())
            save(name, "b%d" % l, Bv.detach().numpy())
            save(name, "dw%d" % l, dW.numpy())
            save(name, "dr%d" % l, dR.numpy())
            save(name, "db%d" % l, dB.numpy())
        print("%s: %s L=%d D=%d H=%d I=%d T=%d B=%d lens=%s" %
              (name, ["RNN", "LSTM", "GRU"][cell], L, D, H, I, T, B, lens))


if __name__ == "__main__":
    main()
