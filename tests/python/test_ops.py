"""Every op against a NumPy reference, on ref, cpu and OpenCL."""
import numpy as np
import pytest

import seqk
from conftest import close


def f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("ta, tb", [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_gemm(ctx, rng, ta, tb):
    M, N, K = 7, 5, 9
    A = f32(rng, K, M) if ta else f32(rng, M, K)
    B = f32(rng, N, K) if tb else f32(rng, K, N)
    for C in (None, f32(rng, N), f32(rng, M, 1), f32(rng, M, N)):
        y = ctx.gemm(A, B, C, trans_a=ta, trans_b=tb, alpha=0.5, beta=2.0)
        want = 0.5 * (A.T if ta else A) @ (B.T if tb else B)
        if C is not None:
            want = want + 2.0 * C
        close(y, want)


@pytest.mark.parametrize("sa, sb", [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)),
                                    ((4,), (2, 4, 3)), ((2, 1, 3, 4), (5, 4, 2)),
                                    ((6,), (6,))])
def test_matmul(ctx, rng, sa, sb):
    A, B = f32(rng, *sa), f32(rng, *sb)
    y = ctx.matmul(A, B)
    want = np.matmul(A, B)
    assert np.shape(y) == want.shape
    close(y, want)


@pytest.mark.parametrize("axis", [-1, 0, 1, -2])
def test_softmax(ctx, rng, axis):
    X = f32(rng, 3, 4, 5) * 3
    e = np.exp(X - X.max(axis=axis, keepdims=True))
    close(ctx.softmax(X, axis), e / e.sum(axis=axis, keepdims=True))


def attention_ref(Q, K, V, mask=None, causal=False, scale=None):
    # 4-D [B,H,S,D]; K/V heads repeated for grouped-query attention
    rep = Q.shape[1] // K.shape[1]
    K, V = np.repeat(K, rep, axis=1), np.repeat(V, rep, axis=1)
    scale = 1 / np.sqrt(Q.shape[-1]) if scale is None else scale
    s = Q @ K.transpose(0, 1, 3, 2) * scale
    if causal:
        s = np.where(np.tril(np.ones(s.shape[-2:], bool)), s, -np.inf)
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    e = np.exp(s - s.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)) @ V


@pytest.mark.parametrize("causal", [False, True])
def test_attention_4d_grouped_query(ctx, rng, causal):
    Q, K, V = f32(rng, 2, 4, 5, 8), f32(rng, 2, 2, 5, 8), f32(rng, 2, 2, 5, 6)
    y = ctx.attention(Q, K, V, is_causal=causal)
    close(y, attention_ref(Q, K, V, causal=causal))


def test_attention_3d_with_mask(ctx, rng):
    B, S, Hq, Hkv, D = 2, 4, 2, 1, 3
    Q, K, V = f32(rng, B, S, Hq * D), f32(rng, B, 6, Hkv * D), \
        f32(rng, B, 6, Hkv * D)
    mask = rng.random((S, 6)) > 0.3
    mask[:, 0] = True
    y = ctx.attention(Q, K, V, mask, q_num_heads=Hq, kv_num_heads=Hkv,
                      scale=0.5)
    q4 = Q.reshape(B, S, Hq, D).transpose(0, 2, 1, 3)
    k4 = K.reshape(B, 6, Hkv, D).transpose(0, 2, 1, 3)
    v4 = V.reshape(B, 6, Hkv, D).transpose(0, 2, 1, 3)
    want = attention_ref(q4, k4, v4, mask=mask, scale=0.5)
    close(y, want.transpose(0, 2, 1, 3).reshape(B, S, Hq * D))


@pytest.mark.parametrize("score", ["dot", "scaled_dot", "general", "additive",
                                   "cosine", "location"])
def test_seq_attention(ctx, rng, score):
    B, S, D, A = 3, 5, 4, 6
    q, k, v = f32(rng, B, D), f32(rng, B, S, D), f32(rng, B, S, 2)
    lens = np.array([5, 2, 0], np.int32)
    extra = {}
    if score in ("dot", "scaled_dot", "cosine"):
        s = np.einsum("bd,bsd->bs", q, k)
        if score == "scaled_dot":
            s = s / np.sqrt(D)
        if score == "cosine":
            s = s / (np.linalg.norm(q, axis=1)[:, None] *
                     np.linalg.norm(k, axis=2))
    elif score == "general":
        extra["W"] = W = f32(rng, D, D)
        s = np.einsum("bd,de,bse->bs", q, W, k)
    elif score == "additive":
        extra.update(W1=f32(rng, A, D), W2=f32(rng, A, D), v=f32(rng, A))
        h = np.tanh((q @ extra["W1"].T)[:, None, :] + k @ extra["W2"].T)
        s = h @ extra["v"]
    else:
        extra["Wloc"] = Wl = f32(rng, S, D)
        s = q @ Wl.T
    valid = np.arange(S)[None, :] < lens[:, None]
    s = np.where(valid, s, -np.inf)
    with np.errstate(invalid="ignore"):
        e = np.exp(s - s.max(1, keepdims=True))
        w = np.nan_to_num(e / e.sum(1, keepdims=True))
    c, wt = ctx.seq_attention(q, k, v, lens, score=score, **extra)
    close(wt, w)
    close(c, np.einsum("bs,bsd->bd", w, v))


def test_op_errors_carry_the_library_message(ctx, rng):
    with pytest.raises(seqk.ShapeError) as e:
        ctx.gemm(f32(rng, 3, 4), f32(rng, 5, 6))
    assert str(e.value).startswith("seqk.gemm: ")
    assert "4" in str(e.value) and "5" in str(e.value)
    with pytest.raises(seqk.InvalidArgumentError, match="axis"):
        ctx.softmax(f32(rng, 2, 3), axis=5)
    with pytest.raises(seqk.InvalidArgumentError, match="score"):
        ctx.seq_attention(f32(rng, 2, 3), f32(rng, 2, 4, 3), score="bad")
