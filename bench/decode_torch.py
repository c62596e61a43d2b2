#!/usr/bin/env python3
"""Greedy seq2seq decoding: PyTorch vs seqk's examples/seq2seq_decode.

Builds the example's model in PyTorch (bi-LSTM encoder, LSTMCell decoder
with input feeding, Bahdanau additive attention over the encoder outputs
with source lengths masked, linear output layer, greedy argmax), writes
its weights as .npy for `seq2seq_decode --weights DIR`, and times one
decode step on both sides.  The machine is shared and noisy, so the two
sides run interleaved, round by round: in each round every configuration
(batch, threads) is timed on PyTorch and then on each seqk device (the
example as a subprocess, which reports its own median step time), and
the table gives medians over rounds and the median of the per-round
ratios.  Tokens of every seqk run are compared with PyTorch's.

--bf16 also times each device with `seq2seq_decode --bf16` (the decoder
LSTM's W, R and the output weight kept as bfloat16) in the same rounds,
as two more columns.  Its tokens are compared with PyTorch running the
same model with those weights rounded to bf16 (what a bf16 plan means);
how far that model is from the f32 one (max |logit| difference along the
f32 greedy path, tokens equal or not) goes in the table's heading.

    /usr/bin/python3 bench/decode_torch.py [--build build] [--rounds 5]
        [--batches 1,8] [--threads 1,2] [--devices avx512,avx2,opencl:0.0]
        [--bf16] [--md bench/decode-vs-torch.md]

Needs python3-torch and python3-numpy (Debian: /usr/bin/python3).
PyTorch's OpenMP workers wait passively (OMP_WAIT_POLICY=PASSIVE, set
before torch is imported unless the environment sets it): spinning
workers fight the other processes of a shared machine (20-36 ms per step
at batch 8 on 2 threads here, against 0.7 ms passive).
"""
import argparse
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch  # noqa: E402 (after OMP_WAIT_POLICY)
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

BOS = 1  # examples/seq2seq_model.h S2S_BOS
SIZES = dict(V=1000, E=256, He=128, Hd=256, A=256, S=20, B=8)


def make_weights(seed=1, V=1000, E=256, He=128, Hd=256, A=256, S=20, B=8):
    """Host weights in the layouts the example reads (PyTorch's)."""
    assert Hd == 2 * He, "the encoder's final states are the decoder's h0"
    rng = np.random.default_rng(seed)

    def u(shape, scale):
        return (rng.uniform(-1, 1, size=shape) * scale).astype(np.float32)

    I, O = E + 2 * He, Hd + 2 * He
    w = {
        "emb": u((V, E), 1.0),
        "enc_W": u((2, 4 * He, E), He ** -0.5),
        "enc_R": u((2, 4 * He, He), He ** -0.5),
        "enc_B": u((2, 8 * He), He ** -0.5),
        "dec_W": u((1, 4 * Hd, I), Hd ** -0.5),
        "dec_R": u((1, 4 * Hd, Hd), Hd ** -0.5),
        "dec_B": u((1, 8 * Hd), Hd ** -0.5),
        "att_W1": u((A, Hd), Hd ** -0.5),
        "att_W2": u((A, 2 * He), (2 * He) ** -0.5),
        "att_v": u((A,), A ** -0.5),
        "out_W": u((V, O), O ** -0.5),
        "out_b": u((V,), O ** -0.5),
        "src": rng.integers(2, V, size=(B, S)).astype(np.int64),
        # S, S-3, S-6, ... as the example's seeded mode
        "src_lens": np.array([max(1, S - (3 * b) % min(S, 10))
                              for b in range(B)], dtype=np.int32),
    }
    return w


def save_weights(w, d):
    os.makedirs(d, exist_ok=True)
    for k, v in w.items():
        np.save(os.path.join(d, k + ".npy"), np.ascontiguousarray(v))


class Seq2Seq(nn.Module):
    def __init__(self, w):
        super().__init__()
        V, E = w["emb"].shape
        He = w["enc_R"].shape[2]
        Hd = w["dec_R"].shape[2]
        A = w["att_W1"].shape[0]
        t = torch.from_numpy
        self.emb = nn.Embedding(V, E)
        self.enc = nn.LSTM(E, He, batch_first=True, bidirectional=True)
        self.dec = nn.LSTMCell(E + 2 * He, Hd)
        self.W1 = nn.Linear(Hd, A, bias=False)
        self.W2 = nn.Linear(2 * He, A, bias=False)
        self.v = nn.Parameter(t(w["att_v"]).clone())
        self.out = nn.Linear(Hd + 2 * He, V)
        with torch.no_grad():
            self.emb.weight.copy_(t(w["emb"]))
            for d, sfx in ((0, ""), (1, "_reverse")):
                getattr(self.enc, "weight_ih_l0" + sfx).copy_(t(w["enc_W"][d]))
                getattr(self.enc, "weight_hh_l0" + sfx).copy_(t(w["enc_R"][d]))
                getattr(self.enc, "bias_ih_l0" + sfx).copy_(t(w["enc_B"][d, :4 * He]))
                getattr(self.enc, "bias_hh_l0" + sfx).copy_(t(w["enc_B"][d, 4 * He:]))
            self.dec.weight_ih.copy_(t(w["dec_W"][0]))
            self.dec.weight_hh.copy_(t(w["dec_R"][0]))
            self.dec.bias_ih.copy_(t(w["dec_B"][0, :4 * Hd]))
            self.dec.bias_hh.copy_(t(w["dec_B"][0, 4 * Hd:]))
            self.W1.weight.copy_(t(w["att_W1"]))
            self.W2.weight.copy_(t(w["att_W2"]))
            self.out.weight.copy_(t(w["out_W"]))
            self.out.bias.copy_(t(w["out_b"]))

    def encode(self, src, lens):
        B, S = src.shape
        x = self.emb(src)
        packed = pack_padded_sequence(x, lens, batch_first=True,
                                      enforce_sorted=False)
        y, (h, c) = self.enc(packed)
        keys, _ = pad_packed_sequence(y, batch_first=True, total_length=S)
        # [2,B,He] -> [B,2He]: forward final then backward final
        h0 = h.permute(1, 0, 2).reshape(B, -1)
        c0 = c.permute(1, 0, 2).reshape(B, -1)
        wk = self.W2(keys)  # once per sentence, as seqk's keyed plan
        mask = torch.arange(S)[None, :] >= lens[:, None]
        ctx = keys.new_zeros(B, keys.shape[2])
        return keys, wk, mask, h0, c0, ctx

    def step(self, ids, h, c, ctx, keys, wk, mask):
        e = self.emb(ids)
        h, c = self.dec(torch.cat([e, ctx], 1), (h, c))
        score = torch.tanh(self.W1(h)[:, None, :] + wk) @ self.v  # [B,S]
        a = torch.softmax(score.masked_fill(mask, float("-inf")), 1)
        ctx = torch.bmm(a[:, None, :], keys)[:, 0]
        logits = self.out(torch.cat([h, ctx], 1))
        return logits.argmax(1), h, c, ctx


BF16_WEIGHTS = ("dec_W", "dec_R", "out_W")  # what seq2seq_decode --bf16 rounds


def bf16_rounded(w):
    """w with the --bf16 weights rounded to bfloat16 (torch: nearest even)."""
    r = dict(w)
    for k in BF16_WEIGHTS:
        r[k] = torch.from_numpy(w[k]).to(torch.bfloat16).float().numpy()
    return r


def bf16_error(model, model_bf, w, batch, steps):
    """Max |logit| difference between the f32 model and the bf16-rounded
    one along the f32 model's greedy path (teacher forced), and the
    largest logit magnitude, for the heading."""
    src = torch.from_numpy(w["src"][:batch])
    lens = torch.from_numpy(w["src_lens"][:batch].astype(np.int64))
    diff = mag = 0.0
    with torch.inference_mode():
        st = [list(m.encode(src, lens)) for m in (model, model_bf)]
        ids = torch.full((batch,), BOS, dtype=torch.int64)
        for _ in range(steps):
            out = []
            for m, (keys, wk, mask, h, c, ctx) in zip((model, model_bf), st):
                e = m.emb(ids)
                h, c = m.dec(torch.cat([e, ctx], 1), (h, c))
                score = torch.tanh(m.W1(h)[:, None, :] + wk) @ m.v
                a = torch.softmax(score.masked_fill(mask, float("-inf")), 1)
                ctx = torch.bmm(a[:, None, :], keys)[:, 0]
                out.append((m.out(torch.cat([h, ctx], 1)), h, c, ctx))
            for i in range(2):
                st[i][3:6] = out[i][1:4]
            diff = max(diff, (out[0][0] - out[1][0]).abs().max().item())
            mag = max(mag, out[0][0].abs().max().item())
            ids = out[0][0].argmax(1)
    return diff, mag


def torch_decode(model, w, batch, steps, repeats=1):
    """Greedy tokens [batch, steps] and the per-step times (ms) of
    `repeats` timed decodes after one warm-up."""
    src = torch.from_numpy(w["src"][:batch])
    lens = torch.from_numpy(w["src_lens"][:batch].astype(np.int64))
    times, toks = [], None
    with torch.inference_mode():
        for rep in range(repeats + 1):
            keys, wk, mask, h, c, ctx = model.encode(src, lens)
            ids = torch.full((batch,), BOS, dtype=torch.int64)
            out = []
            for _ in range(steps):
                t0 = time.perf_counter()
                ids, h, c, ctx = model.step(ids, h, c, ctx, keys, wk, mask)
                got = ids.tolist()  # the host has the tokens
                t1 = time.perf_counter()
                out.append(got)
                if rep:
                    times.append((t1 - t0) * 1e3)
            toks = np.array(out, dtype=np.int64).T
    return toks, times


def set_threads(n):
    """torch.set_num_threads, and OpenBLAS's own count: Debian's PyTorch is
    built with BLAS=generic and calls libblas.so.3, which is OpenBLAS when
    libopenblas0 is installed (bench/peers/torch_peers.py does the same)."""
    torch.set_num_threads(n)
    try:
        import ctypes
        ctypes.CDLL("libopenblas.so.0").openblas_set_num_threads(n)
    except (OSError, AttributeError):
        pass


def blas_name():
    """The BLAS library PyTorch's matmuls run on (from the process maps)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {ln.split()[-1] for ln in f if "blas" in ln}
    except OSError:
        return "unknown"
    real = {os.path.realpath(x) for x in libs}
    if any("openblas" in x for x in real):
        return "OpenBLAS"
    return "reference BLAS (slow: install libopenblas0)" if real else "unknown"


def run_seqk(exe, wdir, device, batch, threads, steps, repeats, beam=1,
             bf16=False):
    cmd = [exe, "--weights", wdir, "--device", device, "--batch", str(batch),
           "--threads", str(threads), "--steps", str(steps),
           "--repeats", str(repeats), "--beam", str(beam)]
    if bf16:
        cmd.append("--bf16")
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError("%s failed:\n%s%s" % (" ".join(cmd), p.stdout,
                                                   p.stderr))
    toks = [None] * batch
    for line in p.stdout.splitlines():
        m = re.match(r"tokens\[(\d+)\]:(.*)", line)
        if m:
            toks[int(m.group(1))] = [int(x) for x in m.group(2).split()]
    m = re.search(r"RESULT .*step_ms=([0-9.]+)", p.stdout)
    return np.array(toks, dtype=np.int64), float(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--weights", help="directory for the .npy weights "
                    "(default: a temporary one)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=10,
                    help="timed decodes per side and round")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--devices", default="avx512,avx2,opencl:0.0")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--md", help="also write the table (markdown) here")
    ap.add_argument("--bf16", action="store_true",
                    help="also time seqk with bf16 weights (seq2seq_decode "
                    "--bf16), two more columns")
    a = ap.parse_args()
    exe = os.path.join(a.build, "examples", "seq2seq_decode")
    batches = [int(x) for x in a.batches.split(",")]
    threads = [int(x) for x in a.threads.split(",")]
    devices = a.devices.split(",")
    w = make_weights(a.seed, **dict(SIZES, B=max(max(batches), 8)))
    tmp = None
    wdir = a.weights
    if not wdir:
        tmp = tempfile.TemporaryDirectory()
        wdir = tmp.name
    save_weights(w, wdir)
    model = Seq2Seq(w).eval()
    model_bf = Seq2Seq(bf16_rounded(w)).eval() if a.bf16 else None

    configs = [(b, t) for b in batches for t in threads]
    # per config: torch step medians per round; per device: seqk medians,
    # per-round ratios, token agreement
    tt = {cfg: [] for cfg in configs}
    st = {(cfg, d): [] for cfg in configs for d in devices}
    ratio = {(cfg, d): [] for cfg in configs for d in devices}
    match = {(cfg, d): True for cfg in configs for d in devices}
    sb = {(cfg, d): [] for cfg in configs for d in devices}
    ratio_b = {(cfg, d): [] for cfg in configs for d in devices}
    match_b = {(cfg, d): True for cfg in configs for d in devices}
    bf_toks, bf_same = {}, {}
    if a.bf16:
        for cfg in configs:
            bf_toks[cfg], _ = torch_decode(model_bf, w, cfg[0], a.steps, 0)
    ref_toks = {}
    for r in range(a.rounds):
        for cfg in configs:
            b, t = cfg
            set_threads(t)
            toks, times = torch_decode(model, w, b, a.steps, a.repeats)
            ref_toks[cfg] = toks
            tm = statistics.median(times)
            tt[cfg].append(tm)
            for d in devices:
                stoks, sm = run_seqk(exe, wdir, d, b, t, a.steps, a.repeats)
                st[(cfg, d)].append(sm)
                ratio[(cfg, d)].append(tm / sm)
                if not np.array_equal(stoks, toks):
                    match[(cfg, d)] = False
                if a.bf16:
                    btoks, bm = run_seqk(exe, wdir, d, b, t, a.steps,
                                         a.repeats, bf16=True)
                    sb[(cfg, d)].append(bm)
                    ratio_b[(cfg, d)].append(tm / bm)
                    if not np.array_equal(btoks, bf_toks[cfg]):
                        match_b[(cfg, d)] = False
            bf_same[cfg] = a.bf16 and np.array_equal(bf_toks[cfg], toks)
            print("round %d batch %d threads %d: torch %.4f ms; %s" % (
                r + 1, b, t, tm, ", ".join(
                    "%s %.4f%s" % (d, st[(cfg, d)][-1],
                                   " bf16 %.4f" % sb[(cfg, d)][-1]
                                   if a.bf16 else "") for d in devices)),
                file=sys.stderr, flush=True)

    med = statistics.median
    lines = [
        "| batch | threads | torch ms/step | device | seqk ms/step | "
        "torch / seqk (min-max over rounds) | tokens equal |" +
        (" seqk bf16 ms/step | torch / seqk bf16 (min-max) | bf16 tokens "
         "equal |" if a.bf16 else ""),
        "|---|---|---|---|---|---|---|" + ("---|---|---|" if a.bf16 else "")]
    for cfg in configs:
        b, t = cfg
        for d in devices:
            rs = ratio[(cfg, d)]
            row = ("| %d | %d | %.4f | %s | %.4f | **%.2fx** (%.2f-%.2f) "
                   "| %s |" % (b, t, med(tt[cfg]), d, med(st[(cfg, d)]),
                               med(rs), min(rs), max(rs),
                               "yes" if match[(cfg, d)] else "NO"))
            if a.bf16:
                rb = ratio_b[(cfg, d)]
                row += " %.4f | **%.2fx** (%.2f-%.2f) | %s |" % (
                    med(sb[(cfg, d)]), med(rb), min(rb), max(rb),
                    "yes" if match_b[(cfg, d)] else "NO")
            lines.append(row)
    head = ("PyTorch %s on %s (torch.set_num_threads = threads, "
            "torch.inference_mode, LSTMCell step, OMP_WAIT_POLICY=%s) vs seqk "
            "examples/seq2seq_decode; V=%d Emb=%d He=%d Hd=%d A=%d S=%d, "
            "%d greedy steps; medians over %d interleaved rounds of %d "
            "decodes per side (each round's value: the median step of its "
            "decodes).  OpenCL (PoCL) uses its own threads whatever "
            "--threads says." % (torch.__version__, blas_name(),
                                 os.environ["OMP_WAIT_POLICY"], SIZES["V"], SIZES["E"],
                                 SIZES["He"], SIZES["Hd"], SIZES["A"],
                                 SIZES["S"], a.steps, a.rounds, a.repeats))
    if a.bf16:
        errs = ["batch %d: max |logit diff| %.2g (logits up to %.2g), "
                "greedy tokens %s" % ((b,) + bf16_error(model, model_bf, w, b,
                                                         a.steps) +
                                      ("equal" if bf_same[(b, threads[0])]
                                       else "NOT equal",))
                for b in batches]
        head += ("\n\nbf16 columns: `seq2seq_decode --bf16` (decoder LSTM W, "
                 "R and the output weight as bfloat16); their tokens are "
                 "compared with PyTorch running those weights rounded to "
                 "bf16 (`.to(torch.bfloat16).float()`, nearest even).  That "
                 "model against the f32 one (PyTorch, f32 greedy path): " +
                 "; ".join(errs) + ".")
    table = "\n".join(lines)
    print(head + "\n\n" + table)
    if a.md:
        with open(a.md, "w") as f:
            f.write("# Greedy decode step: seqk vs PyTorch\n\n")
            f.write("Command: `/usr/bin/python3 bench/decode_torch.py %s`\n\n"
                    % " ".join(sys.argv[1:]))
            f.write(head + "\n\n" + table + "\n")
    if tmp:
        tmp.cleanup()
    return 0 if all(match.values()) and all(match_b.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
