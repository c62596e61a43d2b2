"""Contexts, tensors, devices, errors, and the ctypes structs' sizes."""
import ctypes
import threading

import numpy as np
import pytest

import seqk
from seqk import _lib


def test_version_and_devices():
    assert seqk.version() == seqk.__version__
    assert seqk.version().count(".") == 2
    devs = seqk.devices()
    assert devs[0].spec == "ref" and devs[0].available
    assert all(isinstance(d, seqk.Device) for d in devs)


@pytest.mark.parametrize("struct, init", [
    (_lib.Options, "seqk_options_init"),
    (_lib.GemmParams, "seqk_gemm_params_init"),
    (_lib.AttentionParams, "seqk_attention_params_init"),
    (_lib.SeqAttentionParams, "seqk_seq_attention_params_init"),
])
def test_struct_sizes_match_the_library(struct, init):
    # The *_init functions write sizeof(the C struct) into struct_size:
    # the ctypes mirror must be exactly as large.
    buf = (ctypes.c_char * 4096)()
    getattr(_lib.lib, init)(ctypes.cast(buf, ctypes.POINTER(struct)))
    assert ctypes.cast(buf, ctypes.POINTER(struct))[0].struct_size == \
        ctypes.sizeof(struct)


def test_rnn_desc_size_matches_the_library():
    buf = (ctypes.c_char * 4096)()
    _lib.lib.seqk_rnn_desc_init(ctypes.cast(buf, ctypes.POINTER(_lib.RnnDesc)),
                                1, 3, 4)
    d = ctypes.cast(buf, ctypes.POINTER(_lib.RnnDesc))[0]
    assert d.struct_size == ctypes.sizeof(_lib.RnnDesc)
    assert (d.cell, d.input_size, d.hidden_size, d.num_layers) == (1, 3, 4, 1)


def test_context_manager_and_close():
    with seqk.Context("ref", threads=1) as ctx:
        assert ctx.device == "ref"
        assert ctx.threads == 1
        t = ctx.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    with pytest.raises(seqk.InvalidArgumentError, match="closed"):
        ctx.device
    # Tensors outlive their context (they hold it alive in C).
    np.testing.assert_array_equal(t.numpy(), np.arange(6).reshape(2, 3))


def test_bad_device_raises_with_the_library_message():
    with pytest.raises(seqk.InvalidArgumentError) as e:
        seqk.Context("no-such-device")
    assert "no-such-device" in str(e.value) and e.value.status == 1
    assert isinstance(e.value, seqk.Error) and isinstance(e.value, ValueError)
    missing = [d for d in seqk.devices() if not d.available]
    if missing:
        with pytest.raises(seqk.NoDeviceError) as e:
            seqk.Context(missing[0].spec)
        assert e.value.status == 5 and missing[0].spec in str(e.value)


def test_tensor_round_trip_and_dtypes(ctx):
    for a in (np.arange(12, dtype=np.float32).reshape(3, 4),
              np.arange(5, dtype=np.int32),
              np.array([[True, False]]),
              np.float32(2.5).reshape(()),
              np.zeros((0, 3), np.float32)):
        t = ctx.tensor(a)
        assert t.shape == a.shape and t.dtype == a.dtype
        np.testing.assert_array_equal(t.numpy(), a)
    # float64 and Python lists convert to float32 / int32
    assert ctx.tensor([[1.0, 2.0]]).dtype == np.float32
    assert ctx.tensor([1, 2, 3]).dtype == np.int32
    with pytest.raises(seqk.DtypeError):
        ctx.tensor(np.array(["a"]))


def test_tensor_write_checks_shape(ctx):
    t = ctx.empty((2, 2))
    with pytest.raises(seqk.ShapeError, match=r"\[3\]"):
        t.write(np.zeros(3))
    t.write(np.ones((2, 2)))
    np.testing.assert_array_equal(t.numpy(), np.ones((2, 2)))


def test_zero_copy_on_host_contexts():
    a = np.arange(8, dtype=np.float32).reshape(2, 4)
    with seqk.Context("cpu") as ctx:
        t = ctx.tensor(a)
        if _lib.lib.seqk_tensor_wrap is None:
            assert not t.is_wrapped   # this library copies
            pytest.skip("libseqk has no seqk_tensor_wrap")
        assert t.is_wrapped and t.numpy() is a
        # an op writing into a wrapped output writes the array itself
        y = np.zeros((2, 4), np.float32)
        ctx.softmax(t, out=ctx.tensor(y))
        np.testing.assert_allclose(y.sum(-1), 1, rtol=1e-5)
        # a non-contiguous array is copied first: the tensor never
        # aliases it
        assert not np.shares_memory(ctx.tensor(a.T).numpy(), a)


def test_ops_keep_tensors_on_the_device(ctx, rng):
    a = ctx.tensor(rng.standard_normal((3, 4)).astype(np.float32))
    b = ctx.tensor(rng.standard_normal((4, 2)).astype(np.float32))
    y = seqk.matmul(a, b)
    assert isinstance(y, seqk.Tensor) and y.context is ctx
    np.testing.assert_allclose(y.numpy(), a.numpy() @ b.numpy(), rtol=1e-4,
                               atol=1e-5)


def test_tensors_of_two_contexts_are_refused():
    with seqk.Context("ref") as c1, seqk.Context("ref") as c2:
        a = c1.tensor(np.ones((2, 2), np.float32))
        b = c2.tensor(np.ones((2, 2), np.float32))
        with pytest.raises(seqk.InvalidArgumentError, match="different"):
            seqk.matmul(a, b)


def test_calls_from_threads_one_context_each(rng):
    a = rng.standard_normal((64, 64)).astype(np.float32)
    results, errors = {}, []

    def work(i):
        try:
            with seqk.Context("cpu", threads=1) as ctx:
                results[i] = ctx.matmul(a, a)
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for r in results.values():
        np.testing.assert_allclose(r, a @ a, rtol=1e-4, atol=1e-4)
