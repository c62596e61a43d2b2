"""weights="bf16" on seqk.Linear and seqk.RnnPlan (weight_dtype =
SEQK_BF16): the f32 result with the weights rounded to bfloat16."""
import numpy as np
import pytest

import seqk


def bf16(a):
    """a rounded to bfloat16 (nearest, ties to even), as float32."""
    u = np.ascontiguousarray(a, np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16 << 16
    return u.astype(np.uint32).view(np.float32)


@pytest.mark.parametrize("device", ["ref", "cpu"])
def test_linear_bf16_is_the_rounded_product(device):
    rng = np.random.default_rng(3)
    W = rng.uniform(-1, 1, (37, 29)).astype(np.float32)
    b = rng.uniform(-1, 1, 37).astype(np.float32)
    x = rng.uniform(-1, 1, (1, 29)).astype(np.float32)
    with seqk.Context(device) as ctx:
        got = np.asarray(ctx.linear(W, b, weights="bf16")(x))
        same = np.asarray(ctx.linear(bf16(W), b)(x))
        f32 = np.asarray(ctx.linear(W, b)(x))
    np.testing.assert_array_equal(got, same)
    assert np.abs(got - f32).max() > 0  # the rounding shows
    np.testing.assert_allclose(got, x @ bf16(W).T + b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("device", ["ref", "cpu"])
def test_rnn_bf16_is_the_rounded_lstm(device):
    rng = np.random.default_rng(4)
    H, I = 19, 7
    W = rng.uniform(-0.5, 0.5, (1, 4 * H, I)).astype(np.float32)
    R = rng.uniform(-0.5, 0.5, (1, 4 * H, H)).astype(np.float32)
    B = rng.uniform(-0.5, 0.5, (1, 8 * H)).astype(np.float32)
    X = rng.uniform(-1, 1, (3, 1, I)).astype(np.float32)
    with seqk.Context(device) as ctx:
        outs = []
        for w, r, kind in ((W, R, "bf16"), (bf16(W), bf16(R), "f32")):
            plan = ctx.rnn("lstm", I, H, weights=kind)
            plan.set_weights(0, w, r, B)
            outs.append(np.asarray(plan.forward(X)[0]))
    np.testing.assert_array_equal(outs[0], outs[1])


def test_bad_weights_value():
    with seqk.Context("ref") as ctx:
        with pytest.raises(seqk.InvalidArgumentError):
            ctx.linear(np.zeros((2, 3), np.float32), weights="f16")
        with pytest.raises(seqk.InvalidArgumentError):
            ctx.rnn("gru", 3, 4, weights="int8")
