"""examples/seq2seq_decode.py (the Python twin) gives the C example's
tokens for the same weights, on ref, cpu and the first OpenCL device.
Weights are made here with NumPy (no torch needed).  SEQ2SEQ_DECODE names
the C example, SEQK_SOURCE_ROOT the source tree (meson test sets both)."""
import importlib.util
import os
import subprocess

import numpy as np
import pytest

ROOT = os.environ.get("SEQK_SOURCE_ROOT",
                      os.path.join(os.path.dirname(__file__), "..", ".."))
EXE = os.environ.get("SEQ2SEQ_DECODE",
                     os.path.join(ROOT, "build", "examples", "seq2seq_decode"))


def _twin():
    spec = importlib.util.spec_from_file_location(
        "seq2seq_decode", os.path.join(ROOT, "examples", "seq2seq_decode.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    rng = np.random.default_rng(7)
    V, E, He, Hd, A, B, S = 300, 32, 16, 32, 24, 3, 9

    def u(*shape, scale=1.0):
        return (rng.uniform(-1, 1, shape) * scale).astype(np.float32)

    # decode_torch.py's scales: uniform(-1, 1) / sqrt(fan-in)
    w = {"emb": u(V, E), "enc_W": u(2, 4 * He, E, scale=He ** -0.5),
         "enc_R": u(2, 4 * He, He, scale=He ** -0.5),
         "enc_B": u(2, 8 * He, scale=He ** -0.5),
         "dec_W": u(1, 4 * Hd, E + 2 * He, scale=Hd ** -0.5),
         "dec_R": u(1, 4 * Hd, Hd, scale=Hd ** -0.5),
         "dec_B": u(1, 8 * Hd, scale=Hd ** -0.5),
         "att_W1": u(A, Hd, scale=Hd ** -0.5),
         "att_W2": u(A, 2 * He, scale=(2 * He) ** -0.5),
         "att_v": u(A, scale=A ** -0.5),
         "out_W": u(V, Hd + 2 * He, scale=(Hd + 2 * He) ** -0.5),
         "out_b": u(V, scale=(Hd + 2 * He) ** -0.5),
         "src": rng.integers(2, V, (B, S)).astype(np.int64),
         "src_lens": np.array([9, 4, 1], np.int32)}
    d = tmp_path_factory.mktemp("w")
    for k, v in w.items():
        np.save(d / (k + ".npy"), v)
    return str(d)


def _c_tokens(d, dev, batch, steps):
    p = subprocess.run([EXE, "--weights", d, "--device", dev, "--batch",
                        str(batch), "--steps", str(steps), "--repeats", "1"],
                       capture_output=True, text=True)
    if p.returncode:
        pytest.skip(f"{dev}: {p.stderr.strip()}")
    rows = [l.split(":", 1)[1].split() for l in p.stdout.splitlines()
            if l.startswith("tokens[")]
    return np.array(rows, dtype=np.int64)


@pytest.mark.parametrize("dev", ["ref", "cpu", "opencl:0.0"])
def test_twin_matches_c_example(weights, dev):
    import seqk
    if dev.startswith("opencl") and not any(
            d.spec == dev and d.available for d in seqk.devices()):
        pytest.skip("no OpenCL device")
    twin = _twin()
    w = twin.load_weights(weights)
    want = _c_tokens(weights, dev, 3, 12)
    with seqk.Context(dev, threads=1) as ctx:
        got, times = twin.decode(twin.Seq2Seq(ctx, w), w["src"], w["src_lens"],
                                 12)
    assert len(set(want.ravel().tolist())) > 3  # not stuck on one token
    np.testing.assert_array_equal(got, want)
    assert len(times) == 12
