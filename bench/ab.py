#!/usr/bin/python3
"""Two seqk builds against each other: before/after a change.

Runs `seqk bench --format json` of build A and build B problem by
problem, A then B in odd rounds and B then A in even ones, so that machine
noise (this machine is shared; memory bandwidth drifts over seconds) hits
both alike, and prints per problem the median milliseconds of each and the
ratio A/B (above 1: B is faster). Exit status 1 when any problem's ratio
is below --floor (default 0.95).

    bench/ab.py --a /tmp/base/build/tools/seqk --b build/tools/seqk \\
        --device avx2 --device avx512 --suite deepbench --rounds 3
"""

import argparse
import json
import statistics
import subprocess
import sys


def run(exe, suite, device, threads, problems):
    cmd = [exe, "bench", "--device", device, "--format", "json",
           "--no-validate"]
    cmd += problems if problems else ["--suite", suite]
    if threads:
        cmd += ["--threads", str(threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    rows = {}
    for line in out.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            r = json.loads(line)
            rows[r["problem"]] = r["ms_median"]
    return rows


def suite_problems(exe, suite):
    out = subprocess.run([exe, "bench", "--suite", suite, "--list"],
                         check=True, capture_output=True, text=True)
    return [line.split()[0] for line in out.stdout.splitlines()
            if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", required=True, help="seqk binary before")
    ap.add_argument("--b", required=True, help="seqk binary after")
    ap.add_argument("--device", action="append", required=True)
    ap.add_argument("--suite", default="deepbench")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--floor", type=float, default=0.95)
    ap.add_argument("--json", help="also write every sample here")
    ap.add_argument("problem", nargs="*",
                    help="problem descriptors instead of the suite")
    args = ap.parse_args()

    worst = None
    samples = {}
    problems = args.problem or suite_problems(args.a, args.suite)
    for dev in args.device:
        a, b = {}, {}
        for r in range(args.rounds):
            for p in problems:
                order = ((args.a, a), (args.b, b))
                for exe, acc in (order if r % 2 == 0 else order[::-1]):
                    for q, ms in run(exe, args.suite, dev, args.threads,
                                     [p]).items():
                        acc.setdefault(q, []).append(ms)
        samples[dev] = {p: {"a": a.get(p, []), "b": b.get(p, [])}
                        for p in problems}
        print("\n### %s (median of %d rounds, A/B: above 1 = B faster)\n"
              % (dev, args.rounds))
        print("| problem | A ms | B ms | A/B |")
        print("|---|---:|---:|---:|")
        for p in problems:
            if p not in a or p not in b:
                continue
            ma, mb = statistics.median(a[p]), statistics.median(b[p])
            r = ma / mb
            worst = r if worst is None else min(worst, r)
            print("| %s | %.3f | %.3f | %.2f |" % (p, ma, mb, r))
            sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(samples, f, indent=1)
    print("\nworst A/B: %.3f (floor %.2f)" % (worst, args.floor))
    return 0 if worst is not None and worst >= args.floor else 1


if __name__ == "__main__":
    sys.exit(main())
