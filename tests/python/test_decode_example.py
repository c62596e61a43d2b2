"""examples/seq2seq_decode gives PyTorch's greedy tokens for the same
weights (bench/decode_torch.py builds the model in PyTorch and writes the
weights); skipped without torch.  SEQ2SEQ_DECODE names the example,
SEQK_SOURCE_ROOT the source tree (meson test sets both)."""
import importlib.util
import os
import subprocess

import pytest

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")

ROOT = os.environ.get("SEQK_SOURCE_ROOT",
                      os.path.join(os.path.dirname(__file__), "..", ".."))
EXE = os.environ.get("SEQ2SEQ_DECODE",
                     os.path.join(ROOT, "build", "examples", "seq2seq_decode"))


def _decode_torch():
    spec = importlib.util.spec_from_file_location(
        "decode_torch", os.path.join(ROOT, "bench", "decode_torch.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _devices():
    """ref, and the best CPU backend and OpenCL device when present."""
    out = ["ref", "cpu"]
    probe = subprocess.run([EXE, "--device", "opencl:0.0", "--steps", "1",
                            "--repeats", "1", "--src-len", "2"],
                           capture_output=True, text=True)
    if probe.returncode == 0:
        out.append("opencl:0.0")
    return out


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    dt = _decode_torch()
    d = str(tmp_path_factory.mktemp("weights"))
    # the benchmark's sizes (V 1000, hidden 256) with 4 sentences of 12
    w = dt.make_weights(seed=3, **dict(dt.SIZES, B=4, S=12))
    dt.save_weights(w, d)
    return dt, w, d, dt.Seq2Seq(w).eval()


@pytest.mark.parametrize("batch", [1, 4])
def test_tokens_match_torch(model, batch):
    dt, w, d, net = model
    torch.set_num_threads(1)
    want, _ = dt.torch_decode(net, w, batch, steps=15)
    # not stuck on one token: the comparison means something
    assert len(set(want.ravel().tolist())) > 3
    for dev in _devices():
        got, _ = dt.run_seqk(EXE, d, dev, batch, 1, 15, 1)
        assert got.tolist() == want.tolist(), dev


def test_bad_weights_dir(tmp_path):
    p = subprocess.run([EXE, "--weights", str(tmp_path)], capture_output=True,
                       text=True)
    assert p.returncode != 0
    assert "emb.npy" in p.stderr
