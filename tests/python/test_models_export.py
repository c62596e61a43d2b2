"""The committed whole-model test files (tests/models/) stay honest.

Every model passes the onnx checker, its input sets name the model's
inputs with the declared dtypes, and ONNX Runtime reproduces the committed
PyTorch outputs within the tolerance tests/models/README.md states.
Skipped without onnx (Debian python3-onnx) or onnxruntime (PyPI, in
build-ort/venv):

    build-ort/venv/bin/python -m pytest -q tests/python/test_models_export.py
"""
import glob
import os

import numpy as np
import pytest

MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      os.pardir, "models")
PATHS = sorted(glob.glob(os.path.join(MODELS, "*.onnx")))
NAMES = [os.path.basename(p)[:-5] for p in PATHS]
# tests/models/README.md: ORT vs PyTorch is within 5e-7 on every model.
ATOL = 1e-5
RTOL = 1e-5

ONNX_DTYPES = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_}


def model_path(name):
    return os.path.join(MODELS, name + ".onnx")


def input_sets(name):
    """[(label, inputs, outputs)], inputs/outputs as {name: array}."""
    base = os.path.join(MODELS, name)
    sets = []
    for label in sorted(os.listdir(base)):
        io = []
        for kind in ("inputs", "outputs"):
            d = os.path.join(base, label, kind)
            io.append({f[:-4]: np.load(os.path.join(d, f))
                       for f in sorted(os.listdir(d)) if f.endswith(".npy")})
        sets.append((label, io[0], io[1]))
    return sets


def test_models_present():
    assert len(NAMES) >= 9, NAMES
    total = 0
    for p in PATHS:
        size = os.path.getsize(p)
        data = p + ".data"
        if os.path.exists(data):
            size += os.path.getsize(data)
        assert size < 300 * 1024, (p, size)   # keep the repository small
        total += size
    assert total < 2 * 1024 * 1024


@pytest.mark.parametrize("name", NAMES)
def test_checker_and_io(name):
    onnx = pytest.importorskip("onnx")
    import onnx.checker
    path = model_path(name)
    onnx.checker.check_model(path)          # path form: external data too
    m = onnx.load(path)
    assert any(o.domain in ("", "ai.onnx") and o.version == 17
               for o in m.opset_import)
    inits = {t.name for t in m.graph.initializer}
    ins = {vi.name: vi for vi in m.graph.input if vi.name not in inits}
    outs = [vi.name for vi in m.graph.output]
    sets = input_sets(name)
    assert [s[0] for s in sets] == ["b1", "b3"]
    for label, xs, ys in sets:
        assert sorted(xs) == sorted(ins), label
        assert sorted(ys) == sorted(outs), label
        for n, x in xs.items():
            tt = ins[n].type.tensor_type
            assert x.dtype == ONNX_DTYPES[tt.elem_type], (label, n)
            assert x.ndim == len(tt.shape.dim), (label, n)
            for got, d in zip(x.shape, tt.shape.dim):
                if not d.dim_param:
                    assert got == d.dim_value, (label, n, x.shape)
        batch = 1 if label == "b1" else 3
        assert all(y.dtype == np.float32 for y in ys.values())
        assert any(batch in y.shape for y in ys.values())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("threads", [1, 2])
def test_ort_matches_expected(name, threads):
    ort = pytest.importorskip("onnxruntime")
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(model_path(name), so,
                                providers=["CPUExecutionProvider"])
    for label, xs, ys in input_sets(name):
        got = sess.run(list(ys), xs)
        for (n, want), g in zip(ys.items(), got):
            assert g.shape == want.shape, (label, n)
            np.testing.assert_allclose(g, want, atol=ATOL, rtol=RTOL,
                                       err_msg="%s %s %s" % (name, label, n))
