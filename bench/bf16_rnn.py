#!/usr/bin/env python3
"""Batch-1 LSTM and GRU layers with bf16 weights against the same plan in
f32 (`seqk bench ...,weights=bf16`), interleaved round by round.

    /usr/bin/python3 bench/bf16_rnn.py [--build build-rel] [--rounds 7]
        [--devices avx512,avx2] [--md bench/bf16-rnn.md]

Each round times every problem on every device in f32 then bf16 (one
thread, `seqk bench --repeat 9 --min-time 100`, validated against ref in
the first round); the table gives medians over rounds and the median of
the per-round f32 / bf16 ratios with their range.
"""
import argparse
import collections
import json
import os
import statistics
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build-rel")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--devices", default="avx512,avx2")
    ap.add_argument("--hidden", default="1024,1536")
    ap.add_argument("--seq", default="1,16")
    ap.add_argument("--md", help="also write the table (markdown) here")
    a = ap.parse_args()
    exe = os.path.join(a.build, "tools", "seqk")
    probs = ["%s:hidden=%s,batch=1,seq=%s" % (c, h, t)
             for c in ("lstm", "gru") for h in a.hidden.split(",")
             for t in a.seq.split(",")]
    devs = a.devices.split(",")
    t = collections.defaultdict(list)
    for r in range(a.rounds):
        for d in devs:
            for p in probs:
                for w in ("", ",weights=bf16"):
                    cmd = [exe, "bench", "--device", d, "--threads", "1",
                           "--format", "json", "--repeat", "9",
                           "--min-time", "100"]
                    if r:
                        cmd.append("--no-validate")
                    out = subprocess.run(cmd + [p + w], capture_output=True,
                                         text=True)
                    if out.returncode:
                        sys.exit("%s failed:\n%s%s" % (" ".join(cmd + [p + w]),
                                                       out.stdout, out.stderr))
                    j = json.loads(out.stdout.strip().splitlines()[-1])
                    t[(d, p, w)].append(j["ms_median"])
        print("round %d done" % (r + 1), file=sys.stderr, flush=True)
    med = statistics.median
    lines = ["| problem | device | f32 ms | bf16 ms | f32 / bf16 "
             "(min-max over rounds) |", "|---|---|---|---|---|"]
    for d in devs:
        for p in probs:
            f, b = t[(d, p, "")], t[(d, p, ",weights=bf16")]
            rs = [x / y for x, y in zip(f, b)]
            lines.append("| %s | %s | %.3f | %.3f | **%.2fx** (%.2f-%.2f) |"
                         % (p, d, med(f), med(b), med(rs), min(rs), max(rs)))
    table = "\n".join(lines)
    print(table)
    if a.md:
        with open(a.md, "w") as f:
            f.write("# Batch-1 RNN layers: bf16 weights vs f32\n\n")
            f.write("Command: `/usr/bin/python3 bench/bf16_rnn.py %s`\n\n"
                    % " ".join(sys.argv[1:]))
            f.write("One thread; medians over %d interleaved rounds; this "
                    "shared 2-core AVX-512 machine (AMD EPYC, 1 MB L2 per "
                    "core, 32 MB L3) under other jobs' load.\n\n"
                    % a.rounds + table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
