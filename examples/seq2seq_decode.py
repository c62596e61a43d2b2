#!/usr/bin/env python3
"""The Python twin of seq2seq_decode.c: the same encoder-decoder on the
seqk package, greedy decoding, per-step time.

    encoder  bi-LSTM over the source embeddings (layout 1: Y [B,S,2,He]);
             Y viewed as the attention keys [B,S,2He], no copy
    decoder  per step: embedding of the last token (gather), joined with
             the last context (concat), one LSTM step, additive attention
             through keys projected once per sentence (ctx.attention_keys),
             linear([h; context]) -> logits (ctx.linear), argmax
Every tensor stays on the context's device; a step's only read is the
chosen ids.  Weights: a directory of .npy as `bench/decode_torch.py
--weights DIR` writes them (PyTorch layouts), or made here from a seed.

    python3 examples/seq2seq_decode.py [--device cpu] [--batch 8]
        [--threads 1] [--steps 20] [--repeats 5] [--weights DIR] [--bf16]

Runs against the installed package, or the source tree:
    SEQK_LIBRARY=build/src/libseqk.so PYTHONPATH=python \
        python3 examples/seq2seq_decode.py
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

import seqk

BOS = 1  # seq2seq_model.h S2S_BOS


def make_weights(seed=1, V=1000, E=256, He=128, Hd=256, A=256, S=20, B=8):
    """The weights bench/decode_torch.py makes for the same seed."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "bench")
    sys.path.insert(0, here)
    try:
        import decode_torch  # noqa: E402 (needs torch)
        return decode_torch.make_weights(seed, V, E, He, Hd, A, S, B)
    finally:
        sys.path.remove(here)


def load_weights(d):
    names = ("emb", "enc_W", "enc_R", "enc_B", "dec_W", "dec_R", "dec_B",
             "att_W1", "att_W2", "att_v", "out_W", "out_b", "src",
             "src_lens")
    return {n: np.load(os.path.join(d, n + ".npy")) for n in names}


class Seq2Seq:
    """The model's weights and plans on one context."""

    def __init__(self, ctx, w, weights="f32"):
        self.ctx = ctx
        V, E = w["emb"].shape
        He, Hd = w["enc_R"].shape[2], w["dec_R"].shape[2]
        self.V, self.E, self.He, self.Hd = V, E, He, Hd
        self.emb = ctx.tensor(w["emb"])
        self.enc = ctx.rnn("lstm", E, He, direction="bidirectional",
                           layout=1)
        self.enc.set_weights(0, w["enc_W"], w["enc_R"], w["enc_B"],
                             format="pytorch")
        # weights="bf16": the step's two weight streams kept as bf16
        self.dec = ctx.rnn("lstm", E + 2 * He, Hd, layout=1, weights=weights)
        self.dec.set_weights(0, w["dec_W"], w["dec_R"], w["dec_B"],
                             format="pytorch")
        self.out = ctx.linear(w["out_W"], w["out_b"], weights=weights)
        self.att = (w["att_W1"], w["att_W2"], w["att_v"])

    def encode(self, src, lens):
        """Keys plan, decoder state (h, c [B,1,Hd]) for sentences src."""
        ctx, B = self.ctx, src.shape[0]
        x = ctx.gather(self.emb, ctx.tensor(src))          # [B,S,E]
        lens_t = ctx.tensor(lens.astype(np.int32))
        Y, h, c = self.enc.forward(x, lens_t)              # [B,S,2,He]
        keys = Y.reshape_view((B, src.shape[1], 2 * self.He))
        W1, W2, v = self.att
        att = ctx.attention_keys(keys, None, lens_t, score="additive",
                                 W1=W1, W2=W2, v=v)
        # [B,2,He] -> [B,1,2He]: forward final, then backward final
        return (att, h.reshape_view((B, 1, self.Hd)),
                c.reshape_view((B, 1, self.Hd)))

    def step(self, ids, h, c, ctxv, att):
        ctx, B = self.ctx, ids.shape[0]
        e = ctx.gather(self.emb, ids)                      # [B,E]
        x = ctx.concat([e, ctxv], axis=1)                  # [B,E+2He]
        _, h, c = self.dec.forward(x.reshape_view((B, 1, x.shape[1])),
                                   None, h, c, outputs=("Y_h", "Y_c"))
        hq = h.reshape_view((B, self.Hd))
        ctxv = att(hq, return_weights=False)               # [B,2He]
        logits = self.out(ctx.concat([hq, ctxv], axis=1))  # [B,V]
        ids = ctx.argmax(logits, axis=1, keepdims=False)   # [B] int64
        return ids, h, c, ctxv


def decode(model, src, lens, steps):
    """Greedy tokens [B, steps] and each step's time (ms)."""
    ctx, B = model.ctx, src.shape[0]
    att, h, c = model.encode(src, lens)
    ids = ctx.tensor(np.full(B, BOS, np.int64))
    ctxv = ctx.tensor(np.zeros((B, 2 * model.He), np.float32))
    toks, times = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        ids, h, c, ctxv = model.step(ids, h, c, ctxv, att)
        toks.append(ids.numpy().copy())  # the step's one read
        times.append((time.perf_counter() - t0) * 1e3)
    att.close()
    return np.stack(toks, axis=1), times


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--weights", help="directory of .npy weights "
                    "(bench/decode_torch.py --weights DIR); default: made "
                    "from --seed (needs torch's make_weights)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bf16", action="store_true",
                    help="bf16 weights in the decoder LSTM and output layer")
    a = ap.parse_args(argv)
    w = load_weights(a.weights) if a.weights else make_weights(a.seed)
    if not 1 <= a.batch <= w["src"].shape[0]:
        ap.error(f"--batch must be 1..{w['src'].shape[0]}")
    src, lens = w["src"][:a.batch], w["src_lens"][:a.batch]
    with seqk.Context(a.device, threads=a.threads) as ctx:
        model = Seq2Seq(ctx, w, "bf16" if a.bf16 else "f32")
        first, _ = decode(model, src, lens, a.steps)  # warm-up
        times = []
        for _ in range(a.repeats):
            toks, t = decode(model, src, lens, a.steps)
            if not np.array_equal(toks, first):
                sys.exit("seq2seq_decode.py: a repeat gave other tokens")
            times += t
        for b in range(a.batch):
            print(f"tokens[{b}]: " + " ".join(map(str, first[b])))
        print(f"RESULT device={ctx.device} batch={a.batch} "
              f"threads={ctx.threads} step_ms={statistics.median(times):.4f}")


if __name__ == "__main__":
    main()
