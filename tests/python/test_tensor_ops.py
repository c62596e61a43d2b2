"""The tensor ops, views and decode-step plans from Python, against NumPy,
on ref, cpu and the first OpenCL device."""
import numpy as np
import pytest

from conftest import close


def test_gather_embedding(ctx, rng):
    E = rng.standard_normal((10, 6)).astype(np.float32)
    ids = np.array([[3, 1, -1], [0, 9, 2]], np.int64)
    close(ctx.gather(E, ids), E[ids])
    ids32 = ids.astype(np.int32)
    close(ctx.gather(E, ids32, axis=0), E[ids32])
    close(ctx.gather(E, np.array([5, 0]), axis=1), E[:, [5, 0]])


def test_gather_out_of_range(ctx):
    import seqk
    E = np.zeros((4, 2), np.float32)
    with pytest.raises(seqk.InvalidArgumentError, match="index 7"):
        ctx.gather(E, np.array([1, 7], np.int64))


@pytest.mark.parametrize("keepdims", [True, False])
def test_argmax(ctx, rng, keepdims):
    x = rng.standard_normal((3, 17)).astype(np.float32)
    got = ctx.argmax(x, axis=-1, keepdims=keepdims)
    want = np.argmax(x, axis=-1)
    if keepdims:
        want = want[:, None]
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


def test_topk(ctx, rng):
    x = rng.standard_normal((2, 50)).astype(np.float32)
    vals, idx = ctx.topk(x, 5)
    want_idx = np.argsort(-x, axis=-1, kind="stable")[:, :5]
    np.testing.assert_array_equal(idx, want_idx)
    close(vals, np.take_along_axis(x, want_idx, -1))
    vals, idx = ctx.topk(x, 3, largest=False)
    np.testing.assert_array_equal(idx, np.argsort(x, -1, kind="stable")[:, :3])


def test_elementwise(ctx, rng):
    a = rng.standard_normal((4, 1, 5)).astype(np.float32)
    b = rng.standard_normal((3, 1)).astype(np.float32)
    close(ctx.add(a, b), a + b)
    close(ctx.sub(a, b), a - b)
    close(ctx.mul(a, b), a * b)
    close(ctx.div(a, b + 3.0), a / (b + 3.0))
    close(ctx.tanh(a), np.tanh(a))
    close(ctx.sigmoid(a), 1 / (1 + np.exp(-a)))
    close(ctx.relu(a), np.maximum(a, 0))
    close(ctx.exp(a), np.exp(a))
    close(ctx.neg(a), -a)


def test_elementwise_bad_broadcast(ctx):
    import seqk
    with pytest.raises(seqk.Error):
        ctx.add(np.ones((2, 3), np.float32), np.ones((4,), np.float32))


def test_concat(ctx, rng):
    xs = [rng.standard_normal((2, n, 3)).astype(np.float32) for n in (1, 4, 2)]
    close(ctx.concat(xs, axis=1), np.concatenate(xs, axis=1))
    close(ctx.concat(xs[:1], axis=-1), xs[0])


def test_views_keep_memory_and_shape(ctx, rng):
    Y = rng.standard_normal((5, 2, 2, 3)).astype(np.float32)  # [T,B,D,H]
    t = ctx.tensor(Y)
    keys = t.reshape_view((5, 2, 6))
    assert keys.shape == (5, 2, 6)
    close(keys.numpy(), Y.reshape(5, 2, 6))
    first = t.slice_view(0, 1, 2)
    close(first.numpy(), Y[1:3])
    # a view feeds an op like any tensor
    close(ctx.tanh(keys).numpy(), np.tanh(Y.reshape(5, 2, 6)))
    del t  # the view keeps the memory
    close(keys.numpy(), Y.reshape(5, 2, 6))


def test_wrapped_on_host(rng):
    import seqk
    with seqk.Context("cpu") as ctx:
        a = rng.standard_normal((3, 4)).astype(np.float32)
        t = ctx.tensor(a)
        assert t.is_wrapped
        v = t.reshape_view((12,))
        assert v.is_wrapped and np.shares_memory(v.numpy(), a)


def test_linear_plan(ctx, rng):
    W = rng.standard_normal((7, 5)).astype(np.float32)
    b = rng.standard_normal((7,)).astype(np.float32)
    lin = ctx.linear(W, b)
    for m in (1, 2, 4, 9):
        x = rng.standard_normal((m, 5)).astype(np.float32)
        close(lin(x), x @ W.T + b)
    x3 = rng.standard_normal((2, 3, 5)).astype(np.float32)
    close(lin(x3), x3 @ W.T + b)
    kn = ctx.linear(W.T.copy(), layout="kn")
    close(kn(x3), x3 @ W.T)
    lin.close()


def test_linear_from_torch(ctx):
    torch = pytest.importorskip("torch")
    import seqk
    torch.manual_seed(0)
    m = torch.nn.Linear(6, 4)
    lin = seqk.Linear.from_torch(ctx, m)
    x = torch.randn(3, 6)
    close(lin(x.numpy()), m(x).detach().numpy())


def test_linear_bad_shape(ctx):
    import seqk
    lin = ctx.linear(np.ones((3, 4), np.float32))
    with pytest.raises(seqk.Error):
        lin(np.ones((2, 5), np.float32))


@pytest.mark.parametrize("score", ["dot", "general", "additive"])
def test_attention_keys_match_per_call(ctx, rng, score):
    B, S, D, A = 2, 6, 4, 5
    q = rng.standard_normal((B, D)).astype(np.float32)
    k = rng.standard_normal((B, S, D)).astype(np.float32)
    lens = np.array([6, 3], np.int32)
    kw = {}
    if score == "general":
        kw = {"W": rng.standard_normal((D, D)).astype(np.float32)}
    if score == "additive":
        kw = {"W1": rng.standard_normal((A, D)).astype(np.float32),
              "W2": rng.standard_normal((A, D)).astype(np.float32),
              "v": rng.standard_normal((A,)).astype(np.float32)}
    want_c, want_w = ctx.seq_attention(q, k, None, lens, score=score, **kw)
    keys = ctx.attention_keys(k, None, lens, score=score, **kw)
    for _ in range(2):  # the plan serves every step
        got_c, got_w = keys(q)
        close(got_c, want_c, 1e-3)
        close(got_w, want_w, 1e-3)
    keys.close()
