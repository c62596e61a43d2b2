#!/usr/bin/python3
"""PyTorch CPU peers for `seqk bench` problems.

Prints one JSON line per (problem, variant) in the shape of
`seqk bench --format json` (problem, op, device, threads, flops, runs,
ms_median, ms_min, gflops, ...), timed the same way: one untimed warm-up
call, then calls timed alone until both --repeat calls and --min-time
milliseconds are reached; median and minimum.  FLOPs use seqk's formulas
(bench/README.md), whatever PyTorch actually computes.

  lstm / gru / rnn   torch.nn.LSTM / GRU / RNN, batch_first=False, input
                     [T, B, I], zero initial state, eval() + no_grad().
                     PyTorch's GRU is the linear_before_reset=1 form, so
                     gru:...,lbr=0 is reported as unsupported.
  attention          device "pytorch": softmax(Q K^T / sqrt(D) [+ mask]) V
                     with torch.matmul and torch.softmax on [B, NH, S, D];
                     device "pytorch-sdpa":
                     torch.nn.functional.scaled_dot_product_attention when
                     this PyTorch has it (2.0 and later), else an error line.
  gemm               device "pytorch": torch.matmul (with transposed views).

Threads: torch.set_num_threads(--threads); run it with OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS set to the same number (bench/compare.py does), since
Debian's PyTorch calls OpenBLAS for its matmuls.

Use Debian's /usr/bin/python3 (python3-torch, python3-numpy).
"""

import argparse
import json
import math
import sys
import time
import zlib


def parse_problem(text):
    """The descriptor grammar of tune/bench_problems.c, for the kinds the
    peers run.  Returns a dict with 'kind' and the sizes."""
    kind, _, rest = text.partition(":")
    keys = {
        "gemm": {"m": 1, "n": 1, "k": 1, "transa": 0, "transb": 0},
        "lstm": {"hidden": 1, "batch": 1, "seq": 1, "input": 0, "dir": 0,
                 "layers": 0},
        "attention": {"batch": 1, "heads": 1, "seq": 1, "dim": 1, "kvseq": 0,
                      "causal": 0},
    }
    keys["gru"] = dict(keys["lstm"], lbr=0)
    keys["rnn"] = dict(keys["lstm"], act=0)
    if kind not in keys:
        raise ValueError('unknown or unsupported kind "%s"' % kind)
    p = {"kind": kind, "layers": 1, "dir": "fwd", "lbr": 1, "act": "tanh",
         "transa": 0, "transb": 0, "causal": 0}
    for item in rest.split(",") if rest else []:
        name, eq, value = item.partition("=")
        if not eq or name not in keys[kind] or name in p.get("_seen", ()):
            raise ValueError('bad item "%s"' % item)
        p.setdefault("_seen", set()).add(name)
        if name == "dir":
            if value not in ("fwd", "bi"):
                raise ValueError("dir=%s: expected fwd or bi" % value)
            p[name] = value
        elif name == "act":
            if value not in ("tanh", "relu"):
                raise ValueError("act=%s: expected tanh or relu" % value)
            p[name] = value
        else:
            if not value.isdigit() or int(value) < (0 if name in (
                    "transa", "transb", "causal", "lbr") else 1):
                raise ValueError("%s=%s: bad value" % (name, value))
            p[name] = int(value)
    for name, required in keys[kind].items():
        if required and name not in p.get("_seen", ()):
            raise ValueError("missing key %s" % name)
    p.pop("_seen", None)
    p.setdefault("input", p.get("hidden"))
    p.setdefault("kvseq", p.get("seq"))
    return p


GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def flops(p):
    """seqk bench's FLOP count (bench/README.md)."""
    k = p["kind"]
    if k == "gemm":
        return 2.0 * p["m"] * p["n"] * p["k"]
    if k in GATES:
        d = 2 if p["dir"] == "bi" else 1
        h, total = p["hidden"], 0.0
        for layer in range(p["layers"]):
            inp = p["input"] if layer == 0 else d * h
            total += d * 2.0 * p["seq"] * p["batch"] * GATES[k] * h * (inp + h)
        return total
    s, s2 = p["seq"], p["kvseq"]
    pairs = s * s2
    if p["causal"]:
        pairs = (s * (s + 1) / 2 if s <= s2
                 else s2 * (s2 + 1) / 2 + (s - s2) * s2)
    return 4.0 * p["batch"] * p["heads"] * p["dim"] * pairs


def time_call(fn, repeat, min_time_ms):
    """Warm-up, then timed calls; returns (runs, median_ms, min_ms)."""
    fn()
    times, total = [], 0.0
    cap = max(repeat, 10000)
    while len(times) < cap and (len(times) < repeat or total < min_time_ms):
        t0 = time.perf_counter()
        fn()
        t = (time.perf_counter() - t0) * 1e3
        times.append(t)
        total += t
    times.sort()
    n = len(times)
    med = times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2])
    return n, med, times[0]


def make_cases(torch, p, text):
    """[(device, backend, callable)] for one problem; a callable of None
    means unsupported, with the reason as backend."""
    gen = torch.Generator().manual_seed(zlib.crc32(text.encode()))

    def uniform(shape, lo, hi):
        return torch.rand(shape, generator=gen) * (hi - lo) + lo

    k = p["kind"]
    if k == "gemm":
        a = uniform((p["k"], p["m"]) if p["transa"] else (p["m"], p["k"]),
                    -1, 1)
        b = uniform((p["n"], p["k"]) if p["transb"] else (p["k"], p["n"]),
                    -1, 1)
        a_ = a.t() if p["transa"] else a
        b_ = b.t() if p["transb"] else b
        return [("pytorch", "torch.matmul", lambda: torch.matmul(a_, b_))]

    if k in GATES:
        if k == "gru" and not p["lbr"]:
            return [("pytorch", None, "PyTorch's GRU is linear_before_reset=1"
                     " only")]
        h, bidir = p["hidden"], p["dir"] == "bi"
        if k == "lstm":
            mod = torch.nn.LSTM(p["input"], h, p["layers"],
                                bidirectional=bidir)
        elif k == "gru":
            mod = torch.nn.GRU(p["input"], h, p["layers"], bidirectional=bidir)
        else:
            mod = torch.nn.RNN(p["input"], h, p["layers"],
                               nonlinearity=p["act"], bidirectional=bidir)
        mod.eval()
        scale = 1.0 / math.sqrt(h)
        with torch.no_grad():
            for w in mod.parameters():
                w.copy_(uniform(w.shape, -scale, scale))
        x = uniform((p["seq"], p["batch"], p["input"]), -1, 1)
        name = "torch.nn." + {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}[k]
        return [("pytorch", name, lambda: mod(x))]

    # attention
    shape_q = (p["batch"], p["heads"], p["seq"], p["dim"])
    shape_kv = (p["batch"], p["heads"], p["kvseq"], p["dim"])
    q, kk, v = (uniform(shape_q, -1, 1), uniform(shape_kv, -1, 1),
                uniform(shape_kv, -1, 1))
    scale = 1.0 / math.sqrt(p["dim"])
    mask = None
    if p["causal"]:  # top-left aligned: key j visible to query i if j <= i
        i = torch.arange(p["seq"]).unsqueeze(1)
        j = torch.arange(p["kvseq"]).unsqueeze(0)
        mask = torch.zeros(p["seq"], p["kvseq"])
        mask = mask.masked_fill(j > i, float("-inf"))

    def matmul_attention():
        s = torch.matmul(q, kk.transpose(-2, -1)) * scale
        if mask is not None:
            s = s + mask
        return torch.matmul(torch.softmax(s, dim=-1), v)

    cases = [("pytorch", "matmul+softmax+matmul", matmul_attention)]
    sdpa = getattr(torch.nn.functional, "scaled_dot_product_attention", None)
    if sdpa is None:
        cases.append(("pytorch-sdpa", None,
                      "torch %s has no scaled_dot_product_attention (added "
                      "in 2.0)" % torch.__version__))
    elif p["causal"] and p["seq"] != p["kvseq"]:
        # is_causal is top-left aligned too; pass the mask to be explicit
        cases.append(("pytorch-sdpa", "scaled_dot_product_attention",
                      lambda: sdpa(q, kk, v, attn_mask=mask)))
    else:
        cases.append(("pytorch-sdpa", "scaled_dot_product_attention",
                      lambda: sdpa(q, kk, v, is_causal=bool(p["causal"]))))
    return cases


def set_threads(torch, n):
    """torch.set_num_threads, and OpenBLAS's own count when Debian's
    OpenBLAS is loaded (PyTorch built with BLAS=generic does not set it)."""
    torch.set_num_threads(n)
    try:
        import ctypes
        ctypes.CDLL("libopenblas.so.0").openblas_set_num_threads(n)
    except (OSError, AttributeError):
        pass


def run_problem(torch, text, threads, repeat, min_time, no_sdpa):
    """The JSON rows (dicts) of one problem."""
    try:
        p = parse_problem(text)
    except ValueError as e:
        return [{"problem": text, "op": "?", "device": "pytorch",
                 "threads": threads, "ms_median": None, "ms_min": None,
                 "gflops": None, "valid": False, "validated": False,
                 "error": str(e)}]
    set_threads(torch, threads)
    rows = []
    with torch.no_grad():
        for device, backend, fn in make_cases(torch, p, text):
            if no_sdpa and device == "pytorch-sdpa":
                continue
            row = {"problem": text, "op": p["kind"], "device": device,
                   "threads": threads}
            if backend is None:
                row.update(ms_median=None, ms_min=None, gflops=None,
                           valid=False, validated=False, error=fn)
            else:
                runs, med, mn = time_call(fn, repeat, min_time)
                f = flops(p)
                row.update(backend="PyTorch %s %s" % (torch.__version__,
                                                      backend),
                           flops=f, runs=runs, ms_median=med, ms_min=mn,
                           gflops=f / (med * 1e6) if med > 0 else 0.0,
                           valid=True, validated=False)
            rows.append(row)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=200.0)
    ap.add_argument("--no-sdpa", action="store_true",
                    help="skip the scaled_dot_product_attention variant")
    ap.add_argument("--serve", action="store_true",
                    help="read 'THREADS PROBLEM' lines from stdin; answer "
                    "each with its JSON rows and a {\"done\": true} line "
                    "(saves importing torch once per problem)")
    ap.add_argument("problems", nargs="*")
    args = ap.parse_args()
    if not args.serve and not args.problems:
        ap.error("no problem given")

    import torch
    failed = False
    if args.serve:
        for line in sys.stdin:
            parts = line.split()
            if len(parts) != 2 or not parts[0].isdigit():
                print(json.dumps({"error": "expected 'THREADS PROBLEM'",
                                  "done": True}), flush=True)
                continue
            for row in run_problem(torch, parts[1], int(parts[0]),
                                   args.repeat, args.min_time, args.no_sdpa):
                print(json.dumps(row), flush=True)
            print(json.dumps({"done": True}), flush=True)
        return 0
    for text in args.problems:
        for row in run_problem(torch, text, args.threads, args.repeat,
                               args.min_time, args.no_sdpa):
            failed |= row["op"] == "?"
            print(json.dumps(row), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
