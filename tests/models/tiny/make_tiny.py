#!/usr/bin/python3
"""Small ONNX models for tests/test_model.c and the fuzz seed corpus.

Only the onnx package (Debian python3-onnx) is needed; the models are
committed, so the tests do not run this.  Regenerate with
    /usr/bin/python3 tests/models/tiny/make_tiny.py
Each model is deterministic (fixed seeds)."""
import os
import numpy as np
import onnx
from onnx import TensorProto as TP, helper as h, numpy_helper as nh

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)


def model(name, nodes, inputs, outputs, inits=(), opset=17):
    g = h.make_graph(nodes, name, inputs, outputs, list(inits))
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)],
                     producer_name="seqk-tiny")
    m.ir_version = 8
    onnx.save(m, os.path.join(HERE, name + ".onnx"))
    return m


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def vi(name, t, shape):
    return h.make_tensor_value_info(name, t, shape)


# MatMul + Add (-> linear), Relu, Softmax: a 2-layer MLP with symbolic batch
W1, b1, W2, b2 = f32(6, 8), f32(8), f32(8, 5), f32(5)
model("mlp", [
    h.make_node("MatMul", ["x", "W1"], ["h0"], name="mm1"),
    h.make_node("Add", ["h0", "b1"], ["h1"], name="add1"),
    h.make_node("Relu", ["h1"], ["h2"], name="relu"),
    h.make_node("Gemm", ["h2", "W2", "b2"], ["h3"], name="gemm"),
    h.make_node("Softmax", ["h3"], ["y"], name="softmax", axis=-1),
], [vi("x", TP.FLOAT, ["batch", 6])], [vi("y", TP.FLOAT, ["batch", 5])],
    [nh.from_array(W1, "W1"), nh.from_array(b1, "b1"),
     nh.from_array(W2, "W2"), nh.from_array(b2, "b2")])

# Embedding + LSTM + shape chain + Reshape + linear + ArgMax
V, E, H = 11, 4, 3
emb = f32(V, E)
W, R, B = f32(1, 4 * H, E), f32(1, 4 * H, H), f32(1, 8 * H)
Wo = f32(H, V)
model("lstm_tagger", [
    h.make_node("Gather", ["emb", "ids"], ["e"], name="embed", axis=0),
    h.make_node("Transpose", ["e"], ["et"], name="tr", perm=[1, 0, 2])
    if False else h.make_node("Identity", ["e"], ["et"], name="ident"),
    h.make_node("LSTM", ["et", "W", "R", "B"], ["Y", "Yh"], name="lstm",
                hidden_size=H),
    h.make_node("Shape", ["Y"], ["ys"], name="shape"),
    h.make_node("Gather", ["ys", "i0"], ["t"], name="g_t", axis=0),
    h.make_node("Unsqueeze", ["t", "ax0"], ["t1"], name="unsq"),
    h.make_node("Concat", ["t1", "m1"], ["shp"], name="cat", axis=0),
    h.make_node("Reshape", ["Y", "shp"], ["y2"], name="reshape"),
    h.make_node("MatMul", ["y2", "Wo"], ["logits"], name="proj"),
    h.make_node("ArgMax", ["logits"], ["tags"], name="argmax", axis=-1,
                keepdims=0),
], [vi("ids", TP.INT64, ["T", 1])],
    [vi("logits", TP.FLOAT, ["T", V]), vi("tags", TP.INT64, ["T"]),
     vi("Yh", TP.FLOAT, [1, 1, H])],
    [nh.from_array(emb, "emb"), nh.from_array(W, "W"), nh.from_array(R, "R"),
     nh.from_array(B, "B"), nh.from_array(Wo, "Wo"),
     nh.from_array(np.array(0, np.int64), "i0"),
     nh.from_array(np.array([0], np.int64), "ax0"),
     nh.from_array(np.array([-1], np.int64), "m1")], opset=13)

# Elementwise, Concat, TopK, Constant, fp16 and double initializers
model("misc", [
    h.make_node("Constant", [], ["c"], name="const",
                value=nh.from_array(np.array([0.5, -1, 2], np.float32))),
    h.make_node("Mul", ["x", "c"], ["a"], name="mul"),
    h.make_node("Add", ["a", "h16"], ["b"], name="add16"),
    h.make_node("Sub", ["b", "d64"], ["c2"], name="sub64"),
    h.make_node("Tanh", ["c2"], ["d"], name="tanh"),
    h.make_node("Sigmoid", ["d"], ["e"], name="sig"),
    h.make_node("Exp", ["e"], ["f"], name="exp"),
    h.make_node("Neg", ["f"], ["g"], name="neg"),
    h.make_node("Div", ["g", "x"], ["q"], name="div"),
    h.make_node("Concat", ["q", "x"], ["cat"], name="cat", axis=1),
    h.make_node("TopK", ["cat", "k"], ["vals", "idx"], name="topk", axis=1),
], [vi("x", TP.FLOAT, [2, 3])],
    [vi("cat", TP.FLOAT, [2, 6]), vi("vals", TP.FLOAT, [2, 2]),
     vi("idx", TP.INT64, [2, 2])],
    [nh.from_array(np.array([1, 2, -3], np.float16), "h16"),
     nh.from_array(np.array([0.25, 0.5, 1e-3], np.float64), "d64"),
     nh.from_array(np.array([2], np.int64), "k")])

# If: folded (condition from a shape) and chosen at run time (an input)
then_g = h.make_graph([h.make_node("Relu", ["x"], ["yt"], name="t_relu")],
                      "then", [], [vi("yt", TP.FLOAT, [2, 3])])
else_g = h.make_graph([h.make_node("Neg", ["x"], ["ye"], name="e_neg")],
                      "else", [], [vi("ye", TP.FLOAT, [2, 3])])
model("if_shape", [
    h.make_node("Shape", ["x"], ["s"], name="shape"),
    h.make_node("Gather", ["s", "i0"], ["d0"], name="g0", axis=0),
    h.make_node("Equal", ["d0", "two"], ["cond"], name="eq"),
    h.make_node("If", ["cond"], ["y"], name="if",
                then_branch=then_g, else_branch=else_g),
], [vi("x", TP.FLOAT, ["n", 3])], [vi("y", TP.FLOAT, ["n", 3])],
    [nh.from_array(np.array(0, np.int64), "i0"),
     nh.from_array(np.array(2, np.int64), "two")])
model("if_runtime", [
    h.make_node("If", ["cond"], ["y"], name="if",
                then_branch=then_g, else_branch=else_g),
], [vi("cond", TP.BOOL, []), vi("x", TP.FLOAT, [2, 3])],
    [vi("y", TP.FLOAT, [2, 3])])

# External data next to the model, and one escaping the folder
Wx = f32(3, 4)
m = model("external", [h.make_node("MatMul", ["x", "Wx"], ["y"], name="mm")],
          [vi("x", TP.FLOAT, [2, 3])], [vi("y", TP.FLOAT, [2, 4])],
          [nh.from_array(Wx, "Wx")])
t = m.graph.initializer[0]
raw = t.raw_data
with open(os.path.join(HERE, "external.bin"), "wb") as f:
    f.write(b"\0" * 16 + raw)
t.ClearField("raw_data")
t.data_location = TP.EXTERNAL
for k, v in (("location", "external.bin"), ("offset", "16"),
             ("length", str(len(raw)))):
    e = t.external_data.add()
    e.key, e.value = k, v
onnx.save(m, os.path.join(HERE, "external.onnx"))
t.external_data[0].value = "../external.bin"
onnx.save(m, os.path.join(HERE, "external_escape.onnx"))
t.external_data[0].value = "/etc/passwd"
onnx.save(m, os.path.join(HERE, "external_absolute.onnx"))

# Error cases
model("unsupported_op", [h.make_node("LpNormalization", ["x"], ["y"],
                                     name="lpn")],
      [vi("x", TP.FLOAT, [2, 3])], [vi("y", TP.FLOAT, [2, 3])])
cyc = h.make_graph([h.make_node("Relu", ["b"], ["a"], name="r1"),
                    h.make_node("Relu", ["a"], ["b"], name="r2")], "cyc",
                   [vi("x", TP.FLOAT, [2])], [vi("b", TP.FLOAT, [2])])
mc = h.make_model(cyc, opset_imports=[h.make_opsetid("", 17)])
onnx.save(mc, os.path.join(HERE, "cycle.onnx"))
model("missing_init", [h.make_node("MatMul", ["x", "Wmissing"], ["y"],
                                   name="mm")],
      [vi("x", TP.FLOAT, [2, 3])], [vi("y", TP.FLOAT, [2, 4])])
model("loop", [h.make_node("Loop", ["n", "c"], ["y"], name="loop",
                           body=then_g)],
      [vi("n", TP.INT64, []), vi("c", TP.BOOL, [])],
      [vi("y", TP.FLOAT, [2, 3])])
big = TP(name="big", data_type=TP.FLOAT, dims=[1 << 40, 1 << 40])
model("overflow", [h.make_node("Add", ["x", "big"], ["y"], name="add")],
      [vi("x", TP.FLOAT, [1])], [vi("y", TP.FLOAT, [1])], [big])
model("old_opset", [h.make_node("Relu", ["x"], ["y"], name="r")],
      [vi("x", TP.FLOAT, [2])], [vi("y", TP.FLOAT, [2])], opset=6)
with open(os.path.join(HERE, "mlp.onnx"), "rb") as f:
    data = f.read()
with open(os.path.join(HERE, "truncated.onnx"), "wb") as f:
    f.write(data[:len(data) // 2])
print("ok")
