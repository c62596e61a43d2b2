#!/usr/bin/python3
"""The model for the plan's layout folds (tests/test_model_layout.c,
src/model/fuse_layout.c), with inputs and NumPy's outputs:

    fuse_layout.onnx
    fuse_layout/inputs/<input>.npy, fuse_layout/outputs/<output>.npy

Branches that fold:
  a  Transpose(1,0,2) -> LSTM (h0, c0 in; hn, cn out) -> Squeeze(1) ->
     Transpose(1,0,2): PyTorch's batch_first export (X's Transpose absorbed)
  b  Transpose(2,0,1) of a channels-first [B,I,T] -> reverse GRU with
     sequence_lens -> Squeeze -> Transpose(1,0,2) (X re-permuted (0,2,1))
  h  Transpose(0,2,1) -> Conv (SAME_LOWER, K 4, stride 2, bias)
  i  Transpose(0,2,1) -> Conv (pads 2,1, stride 2, dilation 2, group 2,
     no bias)
and near-patterns that must not:
  c  the output Transpose is (0,2,1)
  d  a bidirectional LSTM (torch's export: Transpose(0,2,1,3), Reshape)
  e  a Reshape where the Squeeze would be
  f  X is a time-major graph input (no Transpose before the RNN)
  g  X's Transpose is also read by another node
  j  the Conv's input Transpose is also read by another node
  k  the Conv's input Transpose has perm (2,1,0)
Conv chains (channels-last between the convs, their outputs too):
  l  Transpose(0,2,1) -> Conv -> Tanh -> Relu -> Conv (stride 2) ->
     Transpose(0,2,1): both convs fold, no transpose left
  m  Conv -> Conv on a channels-first input (no element-wise step between)
  q  Conv -> Transpose(0,2,1) (the conv writes channels-last)
and near-patterns that must not fold:
  n  Conv -> Relu -> Conv with the Relu's output also read by a Sigmoid
  o  Conv -> Add (a second input) -> Conv
  p  Conv -> Transpose(0,2,1) with the conv's output also read by a Relu
The Squeeze output of branch a is named "mid" and is a graph output too:
asking for it keeps it, so branch a must not fold then.

    /usr/bin/python3 tests/models/tiny/make_layout.py
Deterministic (fixed seed)."""
import os

import numpy as np
import onnx
from onnx import TensorProto as TP, helper as h, numpy_helper as nh

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(17)
B, T, I = 3, 5, 4


def sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def rnn_ref(cell, x, W, R, Bias, H, direction="forward", lens=None,
            h0=None, c0=None):
    """ONNX LSTM/GRU/RNN, layout 0 (x [T,B,I]), default activations:
    Y [T,D,B,H], Y_h, Y_c [D,B,H] (float64)."""
    Tn, Bn = x.shape[0], x.shape[1]
    dirs = ["forward", "reverse"] if direction == "bidirectional" \
        else [direction]
    lens = np.full(Bn, Tn) if lens is None else lens
    Y = np.zeros((Tn, len(dirs), Bn, H))
    Yh = np.zeros((len(dirs), Bn, H))
    Yc = np.zeros((len(dirs), Bn, H))
    for d, dn in enumerate(dirs):
        wb, rb = Bias[d][:Bias.shape[1] // 2], Bias[d][Bias.shape[1] // 2:]
        for b in range(Bn):
            hs = np.zeros(H) if h0 is None else h0[d, b].astype(np.float64)
            cs = np.zeros(H) if c0 is None else c0[d, b].astype(np.float64)
            steps = range(lens[b]) if dn == "forward" \
                else range(lens[b] - 1, -1, -1)
            for t in steps:
                xw = W[d] @ x[t, b] + wb
                if cell == "LSTM":
                    g = xw + R[d] @ hs + rb
                    i_, o_, f_, c_ = np.split(g, 4)
                    cs = sig(f_) * cs + sig(i_) * np.tanh(c_)
                    hs = sig(o_) * np.tanh(cs)
                elif cell == "GRU":
                    xz, xr, xh = np.split(xw, 3)
                    rz, rr, rh = np.split(R[d], 3)
                    bz, br, bh = np.split(rb, 3)
                    z = sig(xz + rz @ hs + bz)
                    r = sig(xr + rr @ hs + br)
                    hh = np.tanh(xh + rh @ (r * hs) + bh)
                    hs = (1 - z) * hh + z * hs
                else:
                    hs = np.tanh(xw + R[d] @ hs + rb)
                Y[t, d, b] = hs
            Yh[d, b], Yc[d, b] = hs, cs
    return Y, Yh, Yc


def conv_ref(x, W, bias, stride, dil, pb, lout, group):
    n_, c_, l_ = x.shape
    m_, cg, k_ = W.shape
    y = np.zeros((n_, m_, lout))
    for m in range(m_):
        g = m // (m_ // group)
        for t in range(lout):
            for c in range(cg):
                for k in range(k_):
                    p = t * stride + k * dil - pb
                    if 0 <= p < l_:
                        y[:, m, t] += W[m, c, k] * x[:, g * cg + c, p]
        if bias is not None:
            y[:, m, :] += bias[m]
    return y


def weights(prefix, cell, H, In, D=1):
    G = {"LSTM": 4, "GRU": 3, "RNN": 1}[cell]
    W = (rng.standard_normal((D, G * H, In)) * 0.5).astype(np.float32)
    R = (rng.standard_normal((D, G * H, H)) * 0.5).astype(np.float32)
    Bb = (rng.standard_normal((D, 2 * G * H)) * 0.2).astype(np.float32)
    inits.extend([nh.from_array(W, prefix + "W"), nh.from_array(R, prefix + "R"),
                  nh.from_array(Bb, prefix + "B")])
    return W, R, Bb


x = rng.standard_normal((B, T, I)).astype(np.float32)
u = rng.standard_normal((B, I, T)).astype(np.float32)
xt = rng.standard_normal((T, B, I)).astype(np.float32)
h0 = rng.standard_normal((1, B, 6)).astype(np.float32)
c0 = rng.standard_normal((1, B, 6)).astype(np.float32)
lens = np.array([5, 3, 1], np.int32)
inits = [nh.from_array(np.array([1], np.int64), "ax1"),
         nh.from_array(lens, "lens")]
nodes, want = [], {}
xd = x.astype(np.float64)


def tr(name, src, dst, perm):
    nodes.append(h.make_node("Transpose", [src], [dst], name=name, perm=perm))


# a: the batch_first LSTM
Wa, Ra, Ba = weights("a_", "LSTM", 6, I)
tr("a_tx", "x", "a_x", [1, 0, 2])
nodes += [h.make_node("LSTM", ["a_x", "a_W", "a_R", "a_B", "", "h0", "c0"],
                      ["a_y", "hn_a", "cn_a"], name="a_lstm", hidden_size=6),
          h.make_node("Squeeze", ["a_y", "ax1"], ["mid"], name="a_sq")]
tr("a_tr", "mid", "y_a", [1, 0, 2])
Y, Yh, Yc = rnn_ref("LSTM", xd.transpose(1, 0, 2), Wa, Ra, Ba, 6, h0=h0, c0=c0)
want.update(y_a=Y[:, 0].transpose(1, 0, 2), hn_a=Yh, cn_a=Yc)

# b: channels-first input, reverse GRU, sequence lengths
Wb, Rb, Bb = weights("b_", "GRU", 5, I)
tr("b_tx", "u", "b_x", [2, 0, 1])
nodes += [h.make_node("GRU", ["b_x", "b_W", "b_R", "b_B", "lens"],
                      ["b_y", "hn_b"], name="b_gru", hidden_size=5,
                      direction="reverse"),
          h.make_node("Squeeze", ["b_y", "ax1"], ["b_s"], name="b_sq")]
tr("b_tr", "b_s", "y_b", [1, 0, 2])
Y, Yh, _ = rnn_ref("GRU", u.astype(np.float64).transpose(2, 0, 1), Wb, Rb,
                   Bb, 5, "reverse", lens)
want.update(y_b=Y[:, 0].transpose(1, 0, 2), hn_b=Yh)

# c: output Transpose (0,2,1)
Wc, Rc, Bc = weights("c_", "RNN", 3, I)
tr("c_tx", "x", "c_x", [1, 0, 2])
nodes += [h.make_node("RNN", ["c_x", "c_W", "c_R", "c_B"], ["c_y"],
                      name="c_rnn", hidden_size=3),
          h.make_node("Squeeze", ["c_y", "ax1"], ["c_s"], name="c_sq")]
tr("c_tr", "c_s", "y_c", [0, 2, 1])
Y, _, _ = rnn_ref("RNN", xd.transpose(1, 0, 2), Wc, Rc, Bc, 3)
want["y_c"] = Y[:, 0].transpose(0, 2, 1)

# d: bidirectional
Wd, Rd, Bd = weights("d_", "LSTM", 3, I, 2)
inits.append(nh.from_array(np.array([T, B, 6], np.int64), "d_shape"))
tr("d_tx", "x", "d_x", [1, 0, 2])
nodes.append(h.make_node("LSTM", ["d_x", "d_W", "d_R", "d_B"], ["d_y"],
                         name="d_lstm", hidden_size=3,
                         direction="bidirectional"))
tr("d_t4", "d_y", "d_y4", [0, 2, 1, 3])
nodes.append(h.make_node("Reshape", ["d_y4", "d_shape"], ["d_s"],
                         name="d_reshape"))
tr("d_tr", "d_s", "y_d", [1, 0, 2])
Y, _, _ = rnn_ref("LSTM", xd.transpose(1, 0, 2), Wd, Rd, Bd, 3,
                  "bidirectional")
want["y_d"] = Y.transpose(0, 2, 1, 3).reshape(T, B, 6).transpose(1, 0, 2)

# e: Reshape instead of Squeeze
We, Re, Be = weights("e_", "GRU", 4, I)
inits.append(nh.from_array(np.array([T, B, 4], np.int64), "e_shape"))
tr("e_tx", "x", "e_x", [1, 0, 2])
nodes += [h.make_node("GRU", ["e_x", "e_W", "e_R", "e_B"], ["e_y"],
                      name="e_gru", hidden_size=4),
          h.make_node("Reshape", ["e_y", "e_shape"], ["e_s"],
                      name="e_reshape")]
tr("e_tr", "e_s", "y_e", [1, 0, 2])
Y, _, _ = rnn_ref("GRU", xd.transpose(1, 0, 2), We, Re, Be, 4)
want["y_e"] = Y[:, 0].transpose(1, 0, 2)

# f: X a time-major graph input
Wf, Rf, Bf = weights("f_", "RNN", 3, I)
nodes += [h.make_node("RNN", ["xt", "f_W", "f_R", "f_B"], ["f_y"],
                      name="f_rnn", hidden_size=3),
          h.make_node("Squeeze", ["f_y", "ax1"], ["f_s"], name="f_sq")]
tr("f_tr", "f_s", "y_f", [1, 0, 2])
Y, _, _ = rnn_ref("RNN", xt.astype(np.float64), Wf, Rf, Bf, 3)
want["y_f"] = Y[:, 0].transpose(1, 0, 2)

# g: X's Transpose read twice
Wg, Rg, Bg = weights("g_", "LSTM", 3, I)
tr("g_tx", "x", "g_x", [1, 0, 2])
nodes += [h.make_node("LSTM", ["g_x", "g_W", "g_R", "g_B"], ["g_y"],
                      name="g_lstm", hidden_size=3),
          h.make_node("Squeeze", ["g_y", "ax1"], ["g_s"], name="g_sq"),
          h.make_node("Relu", ["g_x"], ["y_g2"], name="g_relu")]
tr("g_tr", "g_s", "y_g", [1, 0, 2])
Y, _, _ = rnn_ref("LSTM", xd.transpose(1, 0, 2), Wg, Rg, Bg, 3)
want["y_g"] = Y[:, 0].transpose(1, 0, 2)
want["y_g2"] = np.maximum(xd.transpose(1, 0, 2), 0)


def conv(prefix, src, perm, M, K, bias, out, **attrs):
    xin = xd.transpose(perm)
    C = xin.shape[1]
    group = attrs.get("group", 1)
    W = (rng.standard_normal((M, C // group, K)) * 0.5).astype(np.float32)
    inits.append(nh.from_array(W, prefix + "W"))
    ins = [prefix + "x", prefix + "W"]
    bv = None
    if bias:
        bv = rng.standard_normal(M).astype(np.float32)
        inits.append(nh.from_array(bv, prefix + "Bc"))
        ins.append(prefix + "Bc")
    tr(prefix + "tx", src, prefix + "x", perm)
    nodes.append(h.make_node("Conv", ins, [out], name=prefix + "conv",
                             **attrs))
    s, d = attrs.get("strides", [1])[0], attrs.get("dilations", [1])[0]
    L, ext = xin.shape[2], d * (K - 1) + 1
    if attrs.get("auto_pad") == "SAME_LOWER":
        lout = (L + s - 1) // s
        need = max((lout - 1) * s + ext - L, 0)
        pb = need - need // 2
    else:
        pb, pe = attrs.get("pads", [0, 0])
        lout = (L + pb + pe - ext) // s + 1
    want[out] = conv_ref(xin, W, bv, s, d, pb, lout, group)


conv("h_", "x", [0, 2, 1], 6, 4, True, "y_h", auto_pad="SAME_LOWER",
     strides=[2])
conv("i_", "x", [0, 2, 1], 6, 2, False, "y_i", pads=[2, 1], strides=[2],
     dilations=[2], group=2)
conv("j_", "x", [0, 2, 1], 2, 3, True, "y_j")
nodes.append(h.make_node("Relu", ["j_x"], ["y_j2"], name="j_relu"))
want["y_j2"] = np.maximum(xd.transpose(0, 2, 1), 0)
conv("k_", "x", [2, 1, 0], 2, 2, True, "y_k")


def conv_node(name, src, out, C, M, K, bias=True, s=1, pads=(0, 0)):
    """A Conv node with new weights; its NumPy function."""
    W = (rng.standard_normal((M, C, K)) * 0.5).astype(np.float32)
    inits.append(nh.from_array(W, name + "_W"))
    ins = [src, name + "_W"]
    bv = None
    if bias:
        bv = rng.standard_normal(M).astype(np.float32)
        inits.append(nh.from_array(bv, name + "_Bc"))
        ins.append(name + "_Bc")
    nodes.append(h.make_node("Conv", ins, [out], name=name, strides=[s],
                             pads=list(pads)))

    def f(v):
        lout = (v.shape[2] + pads[0] + pads[1] - K) // s + 1
        return conv_ref(v, W, bv, s, 1, pads[0], lout, 1)
    return f


ud = u.astype(np.float64)
# l: channels-last all the way
tr("l_tx", "x", "l_x", [0, 2, 1])
f1 = conv_node("l_c1", "l_x", "l_y1", I, 6, 3, pads=(1, 1))
nodes += [h.make_node("Tanh", ["l_y1"], ["l_t"], name="l_tanh"),
          h.make_node("Relu", ["l_t"], ["l_r"], name="l_relu")]
f2 = conv_node("l_c2", "l_r", "l_y2", 6, 5, 2, bias=False, s=2)
tr("l_ty", "l_y2", "y_l", [0, 2, 1])
want["y_l"] = f2(np.maximum(np.tanh(f1(xd.transpose(0, 2, 1))), 0)) \
    .transpose(0, 2, 1)
# m: Conv -> Conv, channels-first in and out
f1 = conv_node("m_c1", "u", "m_y1", I, 5, 2, pads=(1, 0))
f2 = conv_node("m_c2", "m_y1", "y_m", 5, 3, 3, s=3, pads=(2, 2))
want["y_m"] = f2(f1(ud))
# q: Conv -> Transpose(0,2,1)
f1 = conv_node("q_c", "u", "q_y", I, 7, 3, pads=(0, 1))
tr("q_ty", "q_y", "y_q", [0, 2, 1])
want["y_q"] = f1(ud).transpose(0, 2, 1)
# n: the Relu between the convs also read by a Sigmoid
f1 = conv_node("n_c1", "u", "n_y1", I, 4, 2)
nodes += [h.make_node("Relu", ["n_y1"], ["n_r"], name="n_relu"),
          h.make_node("Sigmoid", ["n_r"], ["y_n2"], name="n_sig")]
f2 = conv_node("n_c2", "n_r", "y_n", 4, 3, 2)
r = np.maximum(f1(ud), 0)
want.update(y_n=f2(r), y_n2=sig(r))
# o: Conv -> Add(Conv, u) -> Conv
f1 = conv_node("o_c1", "u", "o_y1", I, 4, 1)
nodes.append(h.make_node("Add", ["o_y1", "u"], ["o_a"], name="o_add"))
f2 = conv_node("o_c2", "o_a", "y_o", 4, 3, 2)
want["y_o"] = f2(f1(ud) + ud)
# p: Conv -> Transpose(0,2,1), the conv's output also read by a Relu
f1 = conv_node("p_c", "u", "p_y", I, 3, 2)
tr("p_ty", "p_y", "y_p", [0, 2, 1])
nodes.append(h.make_node("Relu", ["p_y"], ["y_p2"], name="p_relu"))
want.update(y_p=f1(ud).transpose(0, 2, 1), y_p2=np.maximum(f1(ud), 0))

outs = ["y_a", "hn_a", "cn_a", "y_b", "hn_b", "y_c", "y_d", "y_e", "y_f",
        "y_g", "y_g2", "y_h", "y_i", "y_j", "y_j2", "y_k", "y_l", "y_m",
        "y_q", "y_n", "y_n2", "y_o", "y_p", "y_p2"]
g = h.make_graph(
    nodes, "layout",
    [h.make_tensor_value_info("x", TP.FLOAT, x.shape),
     h.make_tensor_value_info("u", TP.FLOAT, u.shape),
     h.make_tensor_value_info("xt", TP.FLOAT, xt.shape),
     h.make_tensor_value_info("h0", TP.FLOAT, h0.shape),
     h.make_tensor_value_info("c0", TP.FLOAT, c0.shape)],
    [h.make_tensor_value_info(k, TP.FLOAT, want[k].shape) for k in outs] +
    [h.make_tensor_value_info("mid", TP.FLOAT, (T, B, 6))], inits)
model = h.make_model(g, opset_imports=[h.make_opsetid("", 17)],
                     producer_name="seqk-tiny")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, os.path.join(HERE, "fuse_layout.onnx"))
for kind, d in (("inputs", {"x": x, "u": u, "xt": xt, "h0": h0, "c0": c0}),
                ("outputs", {k: want[k] for k in outs})):
    folder = os.path.join(HERE, "fuse_layout", kind)
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        os.remove(os.path.join(folder, f))
    for k, v in d.items():
        np.save(os.path.join(folder, k + ".npy"),
                np.asarray(v, dtype=np.float32))
print("wrote fuse_layout")
