#!/usr/bin/env python3
"""What a tuning database buys: `seqk bench` with SEQK_TUNING_DB pointing
at the database vs at an empty file, interleaved round by round in one run
(the machine is shared and noisy: ratios within a round, medians over
rounds).  Ratio = untuned ms / tuned ms (> 1: the database helps).

    bench/tuning_gain.py --db PATH [--seqk build/tools/seqk]
        [--device opencl:0.0]... [--rounds 3] [--ops gemm,lstm]
        [--suite deepbench] [PROBLEM ...]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def run_bench(seqk, db, devices, problems, suite, repeat):
    env = dict(os.environ, SEQK_TUNING_DB=db)
    cmd = [seqk, "bench", "--format", "json", "--no-validate",
           "--repeat", str(repeat)]
    for d in devices:
        cmd += ["--device", d]
    if suite:
        cmd += ["--suite", suite]
    cmd += problems
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("seqk bench failed (%d):\n%s" % (out.returncode, out.stderr))
    rows = {}
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            rows[(r["device"], r["problem"])] = r["ms_median"]
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--seqk", default="build/tools/seqk")
    ap.add_argument("--device", action="append", default=[])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--ops", default="gemm,lstm",
                    help="keep suite problems of these kinds")
    ap.add_argument("--suite", default="deepbench")
    ap.add_argument("problems", nargs="*")
    a = ap.parse_args()
    devices = a.device or ["opencl:0.0"]
    problems = a.problems
    if not problems:
        listing = subprocess.run([a.seqk, "bench", "--suite", a.suite,
                                  "--list"], capture_output=True, text=True)
        kinds = a.ops.split(",")
        problems = [l.split()[0] for l in listing.stdout.splitlines()
                    if l.split() and l.split(":")[0] in kinds]
    with tempfile.NamedTemporaryFile("w", suffix=".json") as empty:
        empty.write("")
        empty.flush()
        tuned, untuned = {}, {}
        for r in range(a.rounds):
            order = [(a.db, tuned), (empty.name, untuned)]
            if r % 2:
                order.reverse()
            for db, acc in order:
                for k, ms in run_bench(a.seqk, db, devices, problems, None,
                                       a.repeat).items():
                    acc.setdefault(k, []).append(ms)
            print("round %d/%d done" % (r + 1, a.rounds), file=sys.stderr)
    print("%-12s %-40s %10s %10s %7s  %s" % ("device", "problem",
          "tuned_ms", "untuned_ms", "ratio", "per-round ratios"))
    ratios = []
    for k in sorted(tuned):
        t, u = tuned[k], untuned.get(k, [])
        if not u:
            continue
        per = [uu / tt for tt, uu in zip(t, u)]
        ratio = statistics.median(u) / statistics.median(t)
        ratios.append(ratio)
        print("%-12s %-40s %10.4f %10.4f %6.2fx  %s" % (
            k[0], k[1], statistics.median(t), statistics.median(u), ratio,
            " ".join("%.2f" % x for x in per)))
    if ratios:
        g = 1.0
        for x in ratios:
            g *= x
        print("geomean %.3fx over %d problems" % (g ** (1 / len(ratios)),
                                                   len(ratios)))


if __name__ == "__main__":
    main()
