#!/usr/bin/python3
"""Prints what each test model contains, as the Markdown of README.md.

For every tests/models/*.onnx: opset imports, node count per op type,
inputs and outputs (name, dtype, shape with symbolic dims), initializers
(count, dtypes, bytes, external data) and, when onnxruntime imports, the
max abs difference between ONNX Runtime's outputs and PyTorch's expected
outputs over both input sets (b1, b3):

    /usr/bin/python3 tests/models/inspect_models.py              # onnx only
    build-ort/venv/bin/python tests/models/inspect_models.py     # + ORT errors
"""

import argparse
import collections
import glob
import os
import sys

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))


def dtype_name(elem_type):
    return onnx.TensorProto.DataType.Name(elem_type).lower()


def shape_str(vi):
    dims = []
    for d in vi.type.tensor_type.shape.dim:
        dims.append(d.dim_param if d.dim_param else str(d.dim_value))
    return "[" + ", ".join(dims) + "]"


def load_sets(folder):
    """{label: (inputs dict, outputs dict)} from <folder>/<label>/..."""
    sets = {}
    for label in sorted(os.listdir(folder)):
        io = []
        for kind in ("inputs", "outputs"):
            d = os.path.join(folder, label, kind)
            io.append({f[:-4]: np.load(os.path.join(d, f))
                       for f in sorted(os.listdir(d))})
        sets[label] = tuple(io)
    return sets


def ort_max_err(path, folder, threads=1):
    """Max abs difference ORT vs the expected outputs, per output name,
    over all input sets; None when onnxruntime is missing."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    err = collections.OrderedDict()
    for _, (ins, outs) in load_sets(folder).items():
        got = sess.run(list(outs), ins)
        for name, g in zip(outs, got):
            e = float(np.max(np.abs(g.astype(np.float64) - outs[name])))
            err[name] = max(err.get(name, 0.0), e)
    return err


def describe(path):
    m = onnx.load(path, load_external_data=False)
    g = m.graph
    name = os.path.basename(path)[:-5]
    lines = ["### " + name, ""]
    ops = ", ".join("%s %s" % (o.domain or "ai.onnx", o.version)
                    for o in m.opset_import)
    lines.append("opset: %s; producer: %s %s" % (ops, m.producer_name,
                                                  m.producer_version))
    lines.append("")
    counts = collections.Counter(n.op_type for n in g.node)
    lines.append("nodes (%d): " % len(g.node) + ", ".join(
        "%s %d" % (k, v) for k, v in sorted(counts.items())))
    lines.append("")
    inits = collections.Counter(dtype_name(t.data_type)
                                for t in g.initializer)
    ext = sum(1 for t in g.initializer
              if t.data_location == onnx.TensorProto.EXTERNAL)
    lines.append("initializers: %d (%s)%s; file %d bytes" % (
        len(g.initializer), ", ".join("%s %d" % kv for kv in
                                      sorted(inits.items())),
        ", %d in external data" % ext if ext else "",
        os.path.getsize(path)))
    lines.append("")
    init_names = {t.name for t in g.initializer}
    lines.append("| | name | dtype | shape |")
    lines.append("|---|---|---|---|")
    for kind, vis in (("in", g.input), ("out", g.output)):
        for vi in vis:
            if vi.name in init_names:
                continue
            lines.append("| %s | %s | %s | %s |" % (
                kind, vi.name, dtype_name(vi.type.tensor_type.elem_type),
                shape_str(vi)))
    lines.append("")
    folder = path[:-5]
    if os.path.isdir(folder):
        err = ort_max_err(path, folder)
        if err is not None:
            lines.append("ONNX Runtime vs PyTorch, max abs error: " +
                         ", ".join("%s %.2g" % kv for kv in err.items()))
            lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*",
                    help="model files (default: tests/models/*.onnx)")
    args = ap.parse_args()
    paths = args.models or sorted(glob.glob(os.path.join(HERE, "*.onnx")))
    for p in paths:
        print(describe(p))
    return 0


if __name__ == "__main__":
    sys.exit(main())
