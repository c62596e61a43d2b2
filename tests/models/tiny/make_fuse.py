#!/usr/bin/python3
"""Models for the plan fusions (tests/test_model_fuse.c, src/model/fuse.c).

Each model holds patterns the runner fuses (attention, decomposed Gelu,
decomposed LayerNorm) and near-patterns it must not fuse, with inputs and
expected outputs (PyTorch's, or NumPy's for the hand-built graphs):

    fuse_<name>.onnx
    fuse_<name>/inputs/<input>.npy, fuse_<name>/outputs/<output>.npy

In every model one value inside a fused group is named "mid" and is also
a graph output: asking for it keeps it, so that group must not fuse (the
test compares that unfused run with the fused one).

Needs Debian 12's python3-torch (1.13) and python3-onnx (1.12):
    /usr/bin/python3 tests/models/tiny/make_fuse.py
Deterministic (fixed seeds, one torch thread)."""
import io
import math
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto as TP, helper as h, numpy_helper as nh

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(11)
torch.set_num_threads(1)
rng = np.random.default_rng(11)


def rename(model, old, new):
    for n in model.graph.node:
        n.input[:] = [new if x == old else x for x in n.input]
        n.output[:] = [new if x == old else x for x in n.output]
    for o in model.graph.output:
        if o.name == old:
            o.name = new


def expose_mid(model, op_type, nth=0):
    """Renames the output of the nth op_type node "mid" and adds it to the
    graph outputs (last)."""
    nodes = [n for n in model.graph.node if n.op_type == op_type]
    rename(model, nodes[nth].output[0], "mid")


def save(name, model, inputs, outputs):
    """inputs, outputs: dicts name -> array (outputs without "mid")."""
    # "mid" joins the outputs; outputs declared without a shape get the
    # one shape inference gives
    known = {v.name: v for v in
             onnx.shape_inference.infer_shapes(model).graph.value_info}
    for o in model.graph.output:
        if not o.type.tensor_type.HasField("shape"):
            o.CopyFrom(h.make_tensor_value_info(o.name, TP.FLOAT,
                                                outputs[o.name].shape))
    model.graph.output.append(known["mid"])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, name + ".onnx"))
    for kind, d in (("inputs", inputs), ("outputs", outputs)):
        folder = os.path.join(HERE, name, kind)
        os.makedirs(folder, exist_ok=True)
        for f in os.listdir(folder):
            os.remove(os.path.join(folder, f))
        for k, v in d.items():
            np.save(os.path.join(folder, k + ".npy"), np.asarray(v))
    print("wrote", name)


def export(module, args, ins, outs, opset=17):
    buf = io.BytesIO()
    torch.onnx.export(module, args, buf, opset_version=opset,
                      input_names=ins, output_names=outs,
                      do_constant_folding=True)
    return onnx.load_from_string(buf.getvalue())


def run_torch(module, args, outs):
    with torch.no_grad():
        res = module(*args)
    if not isinstance(res, tuple):
        res = (res,)
    return {n: r.numpy() for n, r in zip(outs, res)}


# ------------------------------------------------------------ attention

class Attn4d(nn.Module):
    """Multi-head self-attention written out: [B,H,S,D] heads, scores
    divided by sqrt(D) after the matmul, an additive float mask input.
    Second output: the same without a mask, Q scaled before the matmul
    (q * 0.25) and K^T given by a Transpose over K's last two axes."""

    def __init__(self, e=16, heads=2):
        super().__init__()
        self.h = heads
        self.qkv = nn.Linear(e, 3 * e)
        self.out = nn.Linear(e, e)

    def forward(self, x, mask):
        b, s, e = x.shape
        d = e // self.h
        q, k, v = self.qkv(x).split(e, dim=-1)
        q, k, v = (t.reshape(b, s, self.h, d).transpose(1, 2)
                   for t in (q, k, v))
        p = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d) + mask, -1)
        y1 = self.out((p @ v).transpose(1, 2).reshape(b, s, e))
        p2 = torch.softmax((q * 0.25) @ k.transpose(-2, -1), dim=-1)
        y2 = (p2 @ v).transpose(1, 2).reshape(b, s, e)
        return y1, y2


def make_attention():
    m = Attn4d().eval()
    x = torch.randn(2, 5, 16)
    # key padding: batch 1 has 3 valid keys; and a causal-ish -1e4 entry
    mask = torch.zeros(2, 1, 1, 5)
    mask[1, :, :, 3:] = float("-inf")
    mask[0, :, :, 4] = -1e4
    model = export(m, (x, mask), ["x", "mask"], ["y1", "y2"])
    expose_mid(model, "Softmax", 0)
    save("fuse_attn", model, {"x": x.numpy(), "mask": mask.numpy()},
         run_torch(m, (x, mask), ["y1", "y2"]))


def make_attention_3d():
    """Hand-built [N,S,D] attention: K^T is an input (no Transpose: the
    runner transposes K into a scratch tensor); scale Mul after the
    matmul; a [N,1,Skv] mask.  Near-patterns that must not fuse: a
    Softmax over axis -2; a mask whose last dim is 1 (broadcast over keys,
    which seqk_attention would read as padding)."""
    n, sq, skv, d = 3, 4, 6, 8
    q = rng.standard_normal((n, sq, d)).astype(np.float32)
    kt = rng.standard_normal((n, d, skv)).astype(np.float32)
    v = rng.standard_normal((n, skv, d)).astype(np.float32)
    mk = np.where(rng.random((n, 1, skv)) < 0.3, -1e9, 0).astype(np.float32)
    mk1 = rng.standard_normal((n, sq, 1)).astype(np.float32)
    s = np.array(0.3, np.float32)
    nodes = [
        h.make_node("MatMul", ["q", "kt"], ["a_s"], name="a_qk"),
        h.make_node("Mul", ["a_s", "s"], ["a_ss"], name="a_scale"),
        h.make_node("Add", ["mk", "a_ss"], ["a_m"], name="a_mask"),
        h.make_node("Softmax", ["a_m"], ["a_p"], name="a_softmax", axis=-1),
        h.make_node("MatMul", ["a_p", "v"], ["y"], name="a_pv"),
        # softmax over queries: not attention
        h.make_node("MatMul", ["q", "kt"], ["b_s"], name="b_qk"),
        h.make_node("Softmax", ["b_s"], ["b_p"], name="b_softmax", axis=1),
        h.make_node("MatMul", ["b_p", "v"], ["y_axis"], name="b_pv"),
        # mask broadcast over the keys
        h.make_node("MatMul", ["q", "kt"], ["c_s"], name="c_qk"),
        h.make_node("Add", ["c_s", "mk1"], ["c_m"], name="c_mask"),
        h.make_node("Softmax", ["c_m"], ["c_p"], name="c_softmax", axis=-1),
        h.make_node("MatMul", ["c_p", "v"], ["y_mask1"], name="c_pv"),
    ]
    ins = [h.make_tensor_value_info(k, TP.FLOAT, a.shape)
           for k, a in (("q", q), ("kt", kt), ("v", v), ("mk", mk),
                        ("mk1", mk1))]
    outs = [h.make_tensor_value_info(k, TP.FLOAT, None)
            for k in ("y", "y_axis", "y_mask1")]
    g = h.make_graph(nodes, "attn3d", ins, outs, [nh.from_array(s, "s")])
    model = h.make_model(g, opset_imports=[h.make_opsetid("", 17)],
                         producer_name="seqk-tiny")
    model.ir_version = 8
    rename(model, "a_ss", "mid")

    def softmax(z, axis):
        z = z - z.max(axis=axis, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=axis, keepdims=True)
    qk = (q.astype(np.float64) @ kt)
    y = softmax(qk * float(s) + mk, -1) @ v
    y_axis = softmax(qk, 1) @ v
    y_mask1 = softmax(qk + mk1, -1) @ v
    save("fuse_attn3d", model,
         {"q": q, "kt": kt, "v": v, "mk": mk, "mk1": mk1},
         {"y": y.astype(np.float32), "y_axis": y_axis.astype(np.float32),
          "y_mask1": y_mask1.astype(np.float32)})


# ---------------------------------------------------------------- Gelu

class Gelus(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(8, 12)

    def forward(self, x):
        z = self.a(x)
        return F.gelu(z), F.gelu(z * 0.5, approximate="tanh")


def make_gelu_torch():
    m = Gelus().eval()
    x = torch.randn(3, 8) * 2
    model = export(m, (x,), ["x"], ["y_erf", "y_tanh"])
    expose_mid(model, "Erf")
    save("fuse_gelu", model, {"x": x.numpy()},
         run_torch(m, (x,), ["y_erf", "y_tanh"]))


def make_gelu_forms():
    """Orders of the products other exporters write, and near-patterns:
    0.6 instead of 0.5, 1.5 instead of sqrt(2), the Erf read twice."""
    x = (rng.standard_normal((4, 10)) * 2).astype(np.float32)
    c = {"half": 0.5, "r2": math.sqrt(2), "ir2": math.sqrt(0.5), "one": 1.0,
         "two": 2.0, "bad_half": 0.6, "bad_r2": 1.5}
    inits = [nh.from_array(np.array(v, np.float32), k) for k, v in c.items()]
    nodes = [
        # a: (x * 0.5) * (1 + erf(x * 1/sqrt2))
        h.make_node("Mul", ["x", "ir2"], ["a0"], name="a_scale"),
        h.make_node("Erf", ["a0"], ["a1"], name="a_erf"),
        h.make_node("Add", ["one", "a1"], ["a2"], name="a_add"),
        h.make_node("Mul", ["x", "half"], ["a3"], name="a_half"),
        h.make_node("Mul", ["a3", "a2"], ["y_a"], name="a_mul"),
        # b: x * ((erf(x / sqrt2) + 1) * 0.5)
        h.make_node("Div", ["x", "r2"], ["b0"], name="b_scale"),
        h.make_node("Erf", ["b0"], ["b1"], name="b_erf"),
        h.make_node("Add", ["b1", "one"], ["b2"], name="b_add"),
        h.make_node("Mul", ["half", "b2"], ["b3"], name="b_half"),
        h.make_node("Mul", ["b3", "x"], ["y_b"], name="b_mul"),
        # c: (x * (erf(x / sqrt2) + 1)) / 2
        h.make_node("Div", ["x", "r2"], ["c0"], name="c_scale"),
        h.make_node("Erf", ["c0"], ["c1"], name="c_erf"),
        h.make_node("Add", ["c1", "one"], ["c2"], name="c_add"),
        h.make_node("Mul", ["c2", "x"], ["c3"], name="c_mul"),
        h.make_node("Div", ["c3", "two"], ["y_c"], name="c_half"),
        # d: 0.6 instead of 0.5
        h.make_node("Div", ["x", "r2"], ["d0"], name="d_scale"),
        h.make_node("Erf", ["d0"], ["d1"], name="d_erf"),
        h.make_node("Add", ["d1", "one"], ["d2"], name="d_add"),
        h.make_node("Mul", ["x", "d2"], ["d3"], name="d_mul"),
        h.make_node("Mul", ["d3", "bad_half"], ["y_d"], name="d_half"),
        # e: 1.5 instead of sqrt(2)
        h.make_node("Div", ["x", "bad_r2"], ["e0"], name="e_scale"),
        h.make_node("Erf", ["e0"], ["e1"], name="e_erf"),
        h.make_node("Add", ["e1", "one"], ["e2"], name="e_add"),
        h.make_node("Mul", ["x", "e2"], ["e3"], name="e_mul"),
        h.make_node("Mul", ["e3", "half"], ["y_e"], name="e_half"),
        # f: the Erf also read by an output's Neg
        h.make_node("Div", ["x", "r2"], ["f0"], name="f_scale"),
        h.make_node("Erf", ["f0"], ["f1"], name="f_erf"),
        h.make_node("Add", ["f1", "one"], ["f2"], name="f_add"),
        h.make_node("Mul", ["x", "f2"], ["f3"], name="f_mul"),
        h.make_node("Mul", ["f3", "half"], ["y_f"], name="f_half"),
        h.make_node("Neg", ["f1"], ["y_f2"], name="f_neg"),
    ]
    names = ["y_a", "y_b", "y_c", "y_d", "y_e", "y_f", "y_f2"]
    g = h.make_graph(nodes, "gelu_forms",
                     [h.make_tensor_value_info("x", TP.FLOAT, x.shape)],
                     [h.make_tensor_value_info(k, TP.FLOAT, None)
                      for k in names], inits)
    model = h.make_model(g, opset_imports=[h.make_opsetid("", 17)],
                         producer_name="seqk-tiny")
    model.ir_version = 8
    rename(model, "b2", "mid")
    erf = np.vectorize(math.erf)
    xd = x.astype(np.float64)
    gelu = 0.5 * xd * (1 + erf(xd / math.sqrt(2)))
    want = {"y_a": gelu, "y_b": gelu, "y_c": gelu,
            "y_d": 0.6 * xd * (1 + erf(xd / math.sqrt(2))),
            "y_e": 0.5 * xd * (1 + erf(xd / 1.5)), "y_f": gelu,
            "y_f2": -erf(xd / math.sqrt(2))}
    save("fuse_gelu_forms", model, {"x": x},
         {k: v.astype(np.float32) for k, v in want.items()})


# ----------------------------------------------------------- LayerNorm

class Norms(nn.Module):
    """LayerNorm exported at opset 15 (decomposed): over the last axis,
    over the last two (gamma [3,8]), and without gamma/beta."""

    def __init__(self):
        super().__init__()
        self.n1 = nn.LayerNorm(8)
        self.n2 = nn.LayerNorm([3, 8], eps=1e-3)
        self.n3 = nn.LayerNorm(8, elementwise_affine=False)
        with torch.no_grad():
            for p in list(self.n1.parameters()) + list(self.n2.parameters()):
                p.copy_(torch.randn(p.shape))

    def forward(self, x):
        return self.n1(x), self.n2(x * 2), self.n3(x + 1)


def make_ln_torch():
    m = Norms().eval()
    x = torch.randn(2, 3, 8) * 3 + 1
    model = export(m, (x,), ["x"], ["y1", "y2", "y3"], opset=15)
    expose_mid(model, "Sqrt", 1)
    save("fuse_ln", model, {"x": x.numpy()},
         run_torch(m, (x,), ["y1", "y2", "y3"]))


def make_ln_forms():
    """d*d for Pow, no beta; near-patterns: Pow 4, a per-feature epsilon,
    the mean over a non-trailing axis."""
    x = (rng.standard_normal((2, 3, 8)) * 2).astype(np.float32)
    gamma = rng.standard_normal(8).astype(np.float32)
    inits = [nh.from_array(np.array(2.0, np.float32), "two"),
             nh.from_array(np.array(4.0, np.float32), "four"),
             nh.from_array(np.array(1e-5, np.float32), "eps"),
             nh.from_array(np.full(8, 1e-5, np.float32), "eps_vec"),
             nh.from_array(gamma, "gamma")]

    def ln(p, pw, eps, axes=(-1,), pw_node=None):
        return [
            h.make_node("ReduceMean", ["x"], [p + "m"], name=p + "mean",
                        axes=list(axes)),
            h.make_node("Sub", ["x", p + "m"], [p + "d"], name=p + "sub"),
            pw_node or h.make_node("Pow", [p + "d", pw], [p + "p"],
                                   name=p + "pow"),
            h.make_node("ReduceMean", [p + "p"], [p + "v"], name=p + "var",
                        axes=list(axes)),
            h.make_node("Add", [p + "v", eps], [p + "ve"], name=p + "eps"),
            h.make_node("Sqrt", [p + "ve"], [p + "sd"], name=p + "sqrt"),
            h.make_node("Div", [p + "d", p + "sd"], [p + "n"],
                        name=p + "div"),
            h.make_node("Mul", ["gamma", p + "n"], ["y_" + p[0]],
                        name=p + "gamma")]
    nodes = (ln("a_", None, "eps", pw_node=h.make_node(
                "Mul", ["a_d", "a_d"], ["a_p"], name="a_sq")) +
             ln("b_", "four", "eps") + ln("c_", "two", "eps_vec") +
             [n for n in ln("d_", "two", "eps", axes=(1,))
              if n.op_type != "Mul"] +
             [h.make_node("Mul", ["d_n", "two"], ["y_d"], name="d_two")])
    names = ["y_a", "y_b", "y_c", "y_d"]
    g = h.make_graph(nodes, "ln_forms",
                     [h.make_tensor_value_info("x", TP.FLOAT, x.shape)],
                     [h.make_tensor_value_info(k, TP.FLOAT, None)
                      for k in names], inits)
    model = h.make_model(g, opset_imports=[h.make_opsetid("", 17)],
                         producer_name="seqk-tiny")
    model.ir_version = 8
    rename(model, "a_v", "mid")
    xd = x.astype(np.float64)

    def norm(axis, p=2):
        d = xd - xd.mean(axis=axis, keepdims=True)
        return d / np.sqrt((d ** p).mean(axis=axis, keepdims=True) + 1e-5)
    want = {"y_a": gamma * norm(-1), "y_b": gamma * norm(-1, 4),
            "y_c": gamma * norm(-1), "y_d": 2 * norm(1)}
    save("fuse_ln_forms", model, {"x": x},
         {k: v.astype(np.float32) for k, v in want.items()})


if __name__ == "__main__":
    make_attention()
    make_attention_3d()
    make_gelu_torch()
    make_gelu_forms()
    make_ln_torch()
    make_ln_forms()
