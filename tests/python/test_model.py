"""seqk.Model: every exported model of tests/models/ against PyTorch's
committed outputs on ref, cpu and the first OpenCL device, and the
errors (bad files, names, dtypes, shapes) with the library's messages."""
import glob
import os
import threading

import numpy as np
import pytest

import seqk

MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      os.pardir, "models")
TINY = os.path.join(MODELS, "tiny")
NAMES = sorted(os.path.basename(p)[:-5]
               for p in glob.glob(os.path.join(MODELS, "*.onnx")))
# tests/models/README.md: seqk's runner is within about 5e-7 of PyTorch.
ATOL = 1e-5


def devices():
    avail = [d.spec for d in seqk.devices() if d.available]
    return ["ref", "cpu"] + [s for s in avail if s.startswith("opencl")][:1]


def path(name):
    return os.path.join(MODELS, name + ".onnx")


def load_set(name, label):
    """(inputs, outputs) of tests/models/<name>/<label>/, {name: array}."""
    io = []
    for kind in ("inputs", "outputs"):
        d = os.path.join(MODELS, name, label, kind)
        io.append({f[:-4]: np.load(os.path.join(d, f))
                   for f in sorted(os.listdir(d)) if f.endswith(".npy")})
    return io


def assert_outputs(got, want):
    assert set(got) == set(want)
    for k, w in want.items():
        assert got[k].dtype == w.dtype, k
        assert got[k].shape == w.shape, k
        np.testing.assert_allclose(got[k], w, rtol=0, atol=ATOL, err_msg=k)


def test_models_found():
    assert len(NAMES) >= 9, NAMES


@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("name", NAMES)
def test_model_matches_pytorch(name, device):
    sets = [load_set(name, label) for label in ("b1", "b3")]
    with seqk.Model(path(name), device=device, threads=0) as m:
        assert set(m.input_names) == set(sets[0][0])
        assert m.output_names == [o.name for o in m.outputs]
        assert set(m.output_names) == set(sets[0][1])
        for io in m.inputs:
            assert io.dtype == sets[0][0][io.name].dtype
            assert len(io.shape) == sets[0][0][io.name].ndim
        # b1, b3, then b1 again: a cached plan re-run with new buffers
        # contents must give the same numbers.
        for inputs, outputs in sets + sets[:1]:
            assert_outputs(m.run(inputs), outputs)
        # Positional inputs, in the model's order; a subset of outputs.
        inputs, outputs = sets[1]
        last = m.output_names[-1]
        got = m.run([inputs[n] for n in m.input_names], outputs=[last])
        assert list(got) == [last]
        np.testing.assert_allclose(got[last], outputs[last], rtol=0,
                                   atol=ATOL)


def test_io_description():
    with seqk.Model(path("speech")) as m:
        assert [tuple(io) for io in m.inputs] == [
            ("feats", np.float32, ("batch", "frames", 20)),
            ("h0", np.float32, (1, "batch", 48)),
            ("c0", np.float32, (1, "batch", 48))]
        assert m.output_names == ["probs", "hn", "cn"]
        assert m.outputs[0].shape == ("batch", "out_frames", 8)
        assert m.device == seqk.Context("cpu").device
        assert "feats" in repr(m) and "ModelIO('h0'" in repr(m.inputs[1])
    with seqk.Model(path("seq2seq_decoder_step"), device="ref") as m:
        dt = {io.name: io.dtype for io in m.inputs}
        assert dt == {"token": np.int64, "hidden": np.float32,
                      "enc_out": np.float32, "src_mask": np.bool_}


def test_load_from_bytes_and_file_object():
    inputs, outputs = load_set("gru_tagger", "b3")
    with open(path("gru_tagger"), "rb") as f:
        data = f.read()
    for src in (data, bytearray(data), memoryview(data)):
        with seqk.Model(src, device="cpu") as m:
            assert_outputs(m.run(inputs), outputs)
    with open(path("gru_tagger"), "rb") as f, seqk.Model(f) as m:
        assert_outputs(m.run(inputs), outputs)


def test_external_data_from_bytes_needs_base_dir():
    name = "charlm_step_extdata"
    with open(path(name), "rb") as f:
        data = f.read()
    with pytest.raises(seqk.UnsupportedError, match="base_dir"):
        seqk.Model(data)
    inputs, outputs = load_set(name, "b1")
    with seqk.Model(data, base_dir=MODELS) as m:
        assert_outputs(m.run(inputs), outputs)


def test_outputs_chosen_at_load():
    inputs, outputs = load_set("charlm_step", "b3")
    with seqk.Model(path("charlm_step"), outputs=["hn"]) as m:
        assert m.output_names == ["hn"]
        got = m.run(inputs)
        assert list(got) == ["hn"]
        np.testing.assert_allclose(got["hn"], outputs["hn"], rtol=0,
                                   atol=ATOL)
        with pytest.raises(seqk.InvalidArgumentError,
                           match="'cn' is not an output the model computes"):
            m.run(inputs, outputs=["cn"])
    with pytest.raises(seqk.Error, match="nope"):
        seqk.Model(path("charlm_step"), outputs=["nope"])


def test_outputs_in_the_order_asked():
    inputs, outputs = load_set("charlm_step", "b1")
    with seqk.Model(path("charlm_step")) as m:
        got = m.run(inputs, outputs=["cn", "logprobs"])
        assert list(got) == ["cn", "logprobs"]
        got = m.run(inputs, outputs="hn")
        assert list(got) == ["hn"]


def test_lossless_conversions():
    # int32 ids into the int64 input, float16 states into float32, Python
    # lists: converted; the results are those of the declared dtypes.
    inputs, outputs = load_set("charlm_step", "b3")
    with seqk.Model(path("charlm_step"), device="ref") as m:
        want = m.run(inputs)
        assert_outputs(want, outputs)
        conv = dict(inputs, tokens=inputs["tokens"].astype(np.int32))
        for k, v in m.run(conv).items():
            np.testing.assert_array_equal(v, want[k])
        conv["tokens"] = inputs["tokens"].tolist()
        for k, v in m.run(conv).items():
            np.testing.assert_array_equal(v, want[k])
        h16 = inputs["h0"].astype(np.float16)
        got = m.run(dict(inputs, h0=h16))
        ref = m.run(dict(inputs, h0=h16.astype(np.float32)))
        for k, v in got.items():
            np.testing.assert_array_equal(v, ref[k])
        # Non-contiguous arrays are copied into place.
        wide = np.zeros(inputs["c0"].shape[:-1] + (128,), np.float32)
        wide[..., ::2] = inputs["c0"]
        for k, v in m.run(dict(inputs, c0=wide[..., ::2])).items():
            np.testing.assert_array_equal(v, want[k])


def test_lossy_or_wrong_dtypes_are_refused():
    inputs, _ = load_set("charlm_step", "b1")
    with seqk.Model(path("charlm_step")) as m:
        for name, bad, have in [
                ("tokens", inputs["tokens"].astype(np.float32), "float32"),
                ("tokens", inputs["tokens"].astype(np.uint64), "uint64"),
                ("h0", inputs["h0"].astype(np.float64), "float64"),
                ("h0", inputs["h0"] > 0, "bool")]:
            with pytest.raises(seqk.DtypeError) as e:
                m.run(dict(inputs, **{name: bad}))
            msg = str(e.value)
            assert f"input '{name}' is {have}" in msg, msg
            assert f"declares {inputs[name].dtype}" in msg, msg
            assert isinstance(e.value, TypeError)
        with pytest.raises(seqk.DtypeError, match="'tokens' holds float64"):
            m.run(dict(inputs, tokens=[[1.5]]))
    with seqk.Model(path("seq2seq_decoder_step")) as m:
        inputs, _ = load_set("seq2seq_decoder_step", "b1")
        with pytest.raises(seqk.DtypeError, match="'src_mask' is int64"):
            m.run(dict(inputs, src_mask=inputs["src_mask"].astype(np.int64)))


def test_names_and_counts():
    inputs, _ = load_set("charlm_step", "b1")
    with seqk.Model(path("charlm_step")) as m:
        with pytest.raises(seqk.InvalidArgumentError,
                           match=r"missing inputs 'h0', 'c0' \(inputs: "
                                 r"tokens, h0, c0\)"):
            m.run({"tokens": inputs["tokens"]})
        with pytest.raises(seqk.InvalidArgumentError,
                           match="'x' is not an input of the model"):
            m.run(dict(inputs, x=inputs["h0"]))
        with pytest.raises(seqk.InvalidArgumentError,
                           match="2 inputs given, the model has 3"):
            m.run([inputs["tokens"], inputs["h0"]])
        with pytest.raises(seqk.InvalidArgumentError,
                           match="'a', 'b' are not outputs"):
            m.run(inputs, outputs=["a", "b"])


def test_library_errors_carry_its_message():
    inputs, _ = load_set("charlm_step", "b1")
    with seqk.Model(path("charlm_step"), device="ref") as m:
        bad = dict(inputs, h0=np.zeros((1, 2, 64), np.float32))
        with pytest.raises(seqk.ShapeError) as e:
            m.run(bad)
        assert "LSTM" in str(e.value) and "[1,2,64]" in str(e.value)
        with pytest.raises(seqk.InvalidArgumentError, match="Gather index 99"):
            m.run(dict(inputs, tokens=np.full((1, 1), 99, np.int64)))
        # The model still runs after a failed run.
        m.run(inputs)


@pytest.mark.parametrize("source, cls, words", [
    ("truncated.onnx", seqk.FormatError, "not an ONNX ModelProto"),
    ("unsupported_op.onnx", seqk.UnsupportedError,
     "node 'lpn' (LpNormalization, opset 17)"),
    ("loop.onnx", seqk.UnsupportedError, "Loop"),
    ("no_such_file.onnx", seqk.IOError, "cannot open"),
])
def test_bad_files(source, cls, words):
    p = os.path.join(TINY, source)
    with pytest.raises(cls) as e:
        seqk.Model(p)
    assert words in str(e.value) and source in str(e.value)
    assert e.value.status == cls.status


def test_bad_bytes_and_arguments():
    with pytest.raises(seqk.FormatError, match="not an ONNX"):
        seqk.Model(b"not a model")
    with pytest.raises(seqk.InvalidArgumentError, match="source must be"):
        seqk.Model(42)
    with pytest.raises(seqk.InvalidArgumentError, match="no-such-device"):
        seqk.Model(path("speech"), device="no-such-device")


def test_float16_graph_inputs_are_refused_at_load():
    # The C API's tensors are float32/int32/int64/bool: a model declaring
    # a float16 input cannot be fed (its float16 weights can, see
    # speech_fp16).
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto as TP, helper as h
    g = h.make_graph(
        [h.make_node("Cast", ["x"], ["y"], to=TP.FLOAT)], "f16",
        [h.make_tensor_value_info("x", TP.FLOAT16, [2])],
        [h.make_tensor_value_info("y", TP.FLOAT, [2])])
    model = h.make_model(g, opset_imports=[h.make_opsetid("", 17)])
    model.ir_version = 8
    with pytest.raises(seqk.UnsupportedError, match="'x' has element type "
                                                    "FLOAT16"):
        seqk.Model(onnx.load_from_string(model.SerializeToString())
                   .SerializeToString())


def test_prepare_and_describe():
    with seqk.Model(path("speech"), device="cpu") as m:
        graph = m.describe()
        assert "input  feats" in graph and "plan" not in graph
        m.prepare({"feats": (3, 9, 20), "h0": (1, 3, 48), "c0": (1, 3, 48)})
        plan = m.describe()
        assert "LSTM" in plan and "[3," in plan and "plan" in plan
        m.prepare(dims={"batch": 2, "frames": 16})
        assert "[2," in m.describe()
        m.prepare([(1, 5, 20), (1, 1, 48), (1, 1, 48)])
        with pytest.raises(seqk.ShapeError):
            m.prepare({"feats": (3, 9, 21), "h0": (1, 3, 48),
                       "c0": (1, 3, 48)})
        with pytest.raises(seqk.InvalidArgumentError, match="missing input"):
            m.prepare({"feats": (3, 9, 20)})
        inputs, outputs = load_set("speech", "b3")
        assert_outputs(m.run(inputs), outputs)


def test_close_and_context_manager():
    m = seqk.Model(path("speech"))
    with m:
        pass
    for call in (lambda: m.run([]), m.describe, lambda: m.prepare([]),
                 lambda: m.device):
        with pytest.raises(seqk.InvalidArgumentError, match="closed"):
            call()
    m.close()  # twice is fine
    assert repr(m) == "<seqk.Model closed>"


def test_on_a_context_of_yours_with_its_tensors():
    inputs, outputs = load_set("speech", "b1")
    ctx = seqk.Context("ref")
    m = seqk.Model(path("speech"), device="cpu", context=ctx)
    assert m.device == "ref"
    feeds = {k: ctx.tensor(v) for k, v in inputs.items()}
    assert_outputs(m.run(feeds), outputs)
    with pytest.raises(seqk.DtypeError, match="'feats' is int32"):
        m.run(dict(feeds, feats=ctx.tensor(np.zeros((1, 16, 20), np.int32))))
    # Tensors of another context are read back and fed as arrays.
    with seqk.Context("cpu") as other:
        feeds = {k: other.tensor(v) for k, v in inputs.items()}
        assert_outputs(m.run(feeds), outputs)
    # The model holds the context alive once the caller's reference goes.
    ctx.close()
    assert_outputs(m.run(inputs), outputs)
    m.close()


def test_models_in_threads():
    # One model per thread; ctypes releases the GIL during each run.
    inputs, outputs = load_set("gru_tagger", "b3")
    errs = []

    def work():
        try:
            with seqk.Model(path("gru_tagger"), threads=1) as m:
                for _ in range(3):
                    assert_outputs(m.run(inputs), outputs)
        except Exception as e:  # reported below, not lost in the thread
            errs.append(e)

    ts = [threading.Thread(target=work) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errs, errs


def test_options_struct_matches_the_library():
    # seqk_model_options_init writes sizeof(the C struct) into
    # struct_size: the ctypes mirror must be exactly as large.
    import ctypes
    from seqk import _lib
    buf = (ctypes.c_char * 4096)()
    opts = ctypes.cast(buf, ctypes.POINTER(_lib.ModelOptions))
    _lib.lib.seqk_model_options_init(opts)
    assert opts[0].struct_size == ctypes.sizeof(_lib.ModelOptions)
