#!/usr/bin/python3
"""seqk against the libraries a user would otherwise pick, in one run.

For every problem and thread count, runs `seqk bench --format json` on each
seqk device, then each peer (OpenBLAS and oneDNN sgemm; oneDNN's RNN
primitives; oneDNN matmul+softmax+matmul; PyTorch's nn.LSTM/GRU/RNN and
attention) on the same problem and thread count, interleaved so that
machine noise hits all of them alike, and prints per thread count a table
of median milliseconds, the ratios peer_ms / seqk_ms (above 1: seqk is
faster) with their geometric means, the batch-1 bandwidth bound of every
recurrent layer, the 1 -> N thread scaling, and the issue-3 targets.

The peers live in bench/peers/ and are built apart from the library:
    meson setup build-peers bench/peers && meson compile -C build-peers
Run with Debian's Python (numpy, python3-torch):
    /usr/bin/python3 bench/compare.py [--quick] [--threads 1,2] ...
See bench/PERFORMANCE.md.
"""

import argparse
import json
import math
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The issue-3 target shapes.  Recurrent GEMMs: M = 4*hidden (LSTM gates),
# N = batch, K = hidden.
DEFAULT_PROBLEMS = (
    ["gemm:m=1024,n=1024,k=1024", "gemm:m=2048,n=2048,k=2048"]
    + ["gemm:m=%d,n=%d,k=%d" % (4 * h, b, h) for h in (512, 1024)
       for b in (16, 64)]
    + ["%s:hidden=%d,batch=%d,seq=25" % (kind, h, b)
       for kind in ("lstm", "gru", "rnn") for h in (512, 1024)
       for b in (1, 16, 64)]
    + ["attention:batch=1,heads=8,seq=%d,dim=64" % s for s in (512, 1024)]
)

QUICK_PROBLEMS = [
    "gemm:m=1024,n=1024,k=1024",
    "gemm:m=4096,n=16,k=1024",
    "lstm:hidden=1024,batch=1,seq=25",
    "lstm:hidden=512,batch=16,seq=25",
    "gru:hidden=1024,batch=1,seq=25",
    "rnn:hidden=1024,batch=1,seq=25",
    "attention:batch=1,heads=8,seq=512,dim=64",
]

ALL_PEERS = ("openblas", "onednn", "pytorch", "pytorch-sdpa")
PEERS_OF_KIND = {
    "gemm": ("openblas", "onednn"),
    "lstm": ("onednn", "pytorch"),
    "gru": ("onednn", "pytorch"),
    "rnn": ("onednn", "pytorch"),
    "attention": ("onednn", "pytorch", "pytorch-sdpa"),
}
ONEDNN_PROGRAM = {"gemm": "onednn_sgemm", "lstm": "onednn_rnn",
                  "gru": "onednn_rnn", "rnn": "onednn_rnn",
                  "attention": "onednn_attention"}
GATES = {"lstm": 4, "gru": 3, "rnn": 1}
GROUPS = (("gemm", ("gemm",)), ("rnn", ("lstm", "gru", "rnn")),
          ("attention", ("attention",)))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def parse_problem(text):
    """kind and integer keys of a descriptor (enough for bounds and
    grouping; the programs validate the descriptor themselves)."""
    kind, _, rest = text.partition(":")
    p = {"kind": kind, "layers": 1, "dir": "fwd"}
    for item in rest.split(",") if rest else []:
        k, _, v = item.partition("=")
        p[k] = int(v) if v.isdigit() else v
    return p


# ---------------------------------------------------------------- running

def run_json(cmd, env, timeout=None):
    """Runs cmd; returns (JSON rows of stdout, stderr text, exit status)."""
    try:
        res = subprocess.run(cmd, env=env, capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        return [], "timed out after %s s" % timeout, -1
    rows = []
    for line in res.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except ValueError:
                pass
    return rows, res.stderr, res.returncode


def first_error(rows, stderr, rc):
    for r in rows:
        if r.get("error"):
            return r["error"]
    tail = stderr.strip().splitlines()
    return tail[-1] if tail else "exit status %d" % rc


class Runner:
    def __init__(self, args):
        self.args = args
        self.seqk = args.seqk
        self.peers_dir = args.peers_dir
        base = dict(os.environ)
        for k in ("SEQK_VERBOSE", "SEQK_NUM_THREADS", "SEQK_DEVICE"):
            base.pop(k, None)
        self.seqk_env = base
        peer_env = dict(base)
        if not args.keep_openblas_env:
            # Set for older OpenBLAS builds that misdetect this CPU; Debian's
            # 0.3.21 picks a good kernel by itself (recorded in the output).
            peer_env.pop("OPENBLAS_CORETYPE", None)
            peer_env.pop("OPENBLAS_L2_SIZE", None)
        if args.omp_passive:
            # OpenMP workers sleep instead of spinning at barriers: slower on
            # a quiet machine, far faster when other processes hold cores.
            peer_env["OMP_WAIT_POLICY"] = "PASSIVE"
        self.peer_env = peer_env
        self.torch = None  # the torch_peers.py --serve process
        self.torch_error = None

    def timing_args(self):
        return ["--repeat", str(self.args.repeat),
                "--min-time", str(self.args.min_time)]

    def seqk_row(self, problem, device, threads):
        """Probe once (dispatch logged, 1 timed call): which kernels ran
        and about how long a call takes; then time it properly unless a
        call is slower than --max-call-ms."""
        base = [self.seqk, "bench", "--format", "json", "--threads",
                str(threads), "--device", device]
        env = dict(self.seqk_env, SEQK_VERBOSE="dispatch")
        rows, err, rc = run_json(base + ["--repeat", "1", "--min-time", "0",
                                         "--no-validate", problem], env)
        kernels = sorted(set(re.findall(r"running (\S+) on \S+", err)))
        if not rows or rows[0].get("ms_median") is None:
            return {"error": first_error(rows, err, rc), "kernels": kernels}
        row = rows[0]
        if row["ms_median"] <= self.args.max_call_ms:
            val = [] if self.args.validate else ["--no-validate"]
            rows, err, rc = run_json(base + self.timing_args() + val
                                     + [problem], self.seqk_env)
            if not rows or rows[0].get("ms_median") is None:
                return {"error": first_error(rows, err, rc),
                        "kernels": kernels}
            row = rows[0]
        row["kernels"] = kernels
        row["ref_fallback"] = any(k.endswith("__ref") for k in kernels)
        return row

    def peer_rows(self, problem, kind, peer, threads):
        """{device: row} from one peer program (pytorch gives both
        'pytorch' and 'pytorch-sdpa' rows for attention)."""
        env = dict(self.peer_env, OMP_NUM_THREADS=str(threads),
                   OPENBLAS_NUM_THREADS=str(threads))
        if peer in ("openblas", "onednn"):
            prog = "openblas_sgemm" if peer == "openblas" else \
                ONEDNN_PROGRAM[kind]
            path = os.path.join(self.peers_dir, prog)
            if not os.access(path, os.X_OK):
                return {peer: {"error": "%s not built" % path}}
            rows, err, rc = run_json([path, "--threads", str(threads)]
                                     + self.timing_args() + [problem], env)
            if not rows:
                return {peer: {"error": first_error(rows, err, rc)}}
            return {peer: rows[0]}
        return {r["device"]: r for r in self.torch_rows(problem, threads)}

    def torch_rows(self, problem, threads):
        if self.torch is None and self.torch_error is None:
            env = dict(self.peer_env,
                       OMP_NUM_THREADS=str(max(self.args.threads)),
                       OPENBLAS_NUM_THREADS=str(max(self.args.threads)))
            cmd = [self.args.torch_python,
                   os.path.join(HERE, "peers", "torch_peers.py"), "--serve"]
            cmd += self.timing_args()
            try:
                self.torch = subprocess.Popen(
                    cmd, env=env, stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, text=True, bufsize=1)
            except OSError as e:
                self.torch_error = str(e)
        if self.torch_error:
            return [{"device": "pytorch", "error": self.torch_error}]
        rows = []
        try:
            self.torch.stdin.write("%d %s\n" % (threads, problem))
            self.torch.stdin.flush()
            for line in self.torch.stdout:
                row = json.loads(line)
                if row.get("done"):
                    return rows
                rows.append(row)
        except (OSError, ValueError) as e:
            self.torch_error = "torch_peers.py: %s" % e
        if self.torch_error is None:
            self.torch_error = "torch_peers.py exited (import torch failed?)"
        return rows + [{"device": "pytorch", "error": self.torch_error}]

    def close(self):
        if self.torch is not None:
            self.torch.stdin.close()
            self.torch.wait()

    def peak(self, threads, stream_bytes=()):
        path = os.path.join(self.peers_dir, "peak")
        if not os.access(path, os.X_OK):
            return {}
        cmd = [path, "--threads", str(threads),
               "--repeat", "3" if self.args.quick else "5"]
        for b in stream_bytes:
            cmd += ["--stream-bytes", str(b)]
        rows, _, _ = run_json(cmd, self.seqk_env)
        if stream_bytes:
            return {int(r["bytes"]): r for r in rows if r.get("gbs")}
        return {r["probe"]: r for r in rows}


# ---------------------------------------------------------------- bounds

def recurrent_bytes(p):
    """Bytes of R one step of one layer streams (all directions), the
    size the batch-1 bound reads once per step."""
    dirs = 2 if p.get("dir") == "bi" else 1
    return dirs * GATES[p["kind"]] * p["hidden"] * p["hidden"] * 4


def is_batch1_rnn(p):
    return p["kind"] in GATES and p.get("batch") == 1


def bound_ms(p, gbs):
    """Time to stream R once per step, every layer, at gbs GB/s."""
    total = recurrent_bytes(p) * p["seq"] * p["layers"]
    return total / (gbs * 1e9) * 1e3


# ---------------------------------------------------------------- output

def fmt_ms(row, mark=True):
    if not row or row.get("ms_median") is None:
        return "n/a" if not row or "not built" in str(row.get("error")) \
            else "err"
    ms = row["ms_median"]
    digits = 4 if ms < 0.1 else 3 if ms < 10 else 2 if ms < 100 else \
        1 if ms < 1000 else 0
    s = "%.*f" % (digits, ms)
    if mark:
        if row.get("ref_fallback"):
            s += "*"
        if row.get("runs") == 1:
            s += "~"
    return s


def fmt_ratio(x):
    return "%.2f" % x if x >= 0.1 else "%.2g" % x


def ms_of(row):
    return row.get("ms_median") if row else None


def progress(i, n, t, prob, who, row, mark):
    return "[%d/%d] t=%d %-40s %-13s %s%s" % (
        i, n, t, prob, who, fmt_ms(row, mark),
        "" if row.get("ms_median") else "  " + str(row.get("error")))


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def print_table(headers, rows, out):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows))
              for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(widths[0]) if i == 0 else h.rjust(widths[i])
                     for i, h in enumerate(headers))
    print(line, file=out)
    for r in rows:
        print("  ".join(str(c).ljust(widths[0]) if i == 0 else
                        str(c).rjust(widths[i]) for i, c in enumerate(r)),
              file=out)


def report(args, problems, devices, peers_used, res, peaks, streams, meta,
           out):
    primary = devices[0]
    print("# seqk vs peers  (%s)" % meta["date"], file=out)
    print("# machine: %s, %d CPUs; load average before %s, after %s"
          % (meta["cpu"], meta["ncpu"], meta["load_before"],
             meta["load_after"]), file=out)
    for k in ("seqk", "openblas", "onednn", "pytorch"):
        if meta.get(k):
            print("# %s: %s" % (k, meta[k]), file=out)
    print("# timing: median of >= %d calls and >= %g ms after a warm-up "
          "(seqk calls slower than %g ms: 1 call)"
          % (args.repeat, args.min_time, args.max_call_ms), file=out)
    print("# ratio = peer ms / seqk-%s ms: above 1 means seqk is faster"
          % primary, file=out)

    for t in args.threads:
        pk = peaks.get(t, {})
        print("", file=out)
        if pk:
            def g(name, key):
                r = pk.get(name)
                return "%.0f" % r[key] if r and r.get(key) else "n/a"
            print("## %d thread%s: peak FMA AVX-512 %s GFLOP/s, AVX2 %s; "
                  "triad L2 %s, L3 %s, DRAM %s GB/s; read L3 %s, DRAM %s GB/s"
                  % (t, "" if t == 1 else "s", g("fma_avx512", "gflops"),
                     g("fma_avx2", "gflops"), g("triad_l2", "gbs"),
                     g("triad_l3", "gbs"), g("triad_dram", "gbs"),
                     g("read_l3", "gbs"), g("read_dram", "gbs")), file=out)
        else:
            print("## %d thread%s" % (t, "" if t == 1 else "s"), file=out)
        headers = ["problem"] + ["seqk-%s" % d for d in devices] + \
            list(peers_used) + ["%s/seqk" % p for p in peers_used] + \
            ["seqk GF/s", "bound", "seqk%bnd", "dnnl%bnd"]
        rows = []
        ratios = {}  # (group, peer) -> [ratio]
        for prob in problems:
            p = parse_problem(prob)
            seqk = res.get((prob, t, primary))
            r = [prob] + [fmt_ms(res.get((prob, t, d))) for d in devices]
            r += [fmt_ms(res.get((prob, t, peer)), False)
                  if peer in PEERS_OF_KIND.get(p["kind"], ()) else ""
                  for peer in peers_used]
            for peer in peers_used:
                a, b = ms_of(res.get((prob, t, peer))), ms_of(seqk)
                if a and b:
                    r.append(fmt_ratio(a / b))
                    grp = next(g for g, kinds in GROUPS if p["kind"] in kinds)
                    ratios.setdefault((grp, peer), []).append(a / b)
                else:
                    r.append("")
            r.append("%.1f" % seqk["gflops"] if seqk and seqk.get("gflops")
                     else "")
            bnd = None
            if is_batch1_rnn(p) and (t, recurrent_bytes(p)) in streams:
                bnd = bound_ms(p, streams[(t, recurrent_bytes(p))])
            r.append("%.3f" % bnd if bnd else "")
            for who in (seqk, res.get((prob, t, "onednn"))):
                r.append("%.0f%%" % (100 * bnd / who["ms_median"])
                         if bnd and who and who.get("ms_median") else "")
            rows.append(r)
        # drop empty columns
        keep = [i for i in range(len(headers))
                if i == 0 or any(str(r[i]) for r in rows)]
        print_table([headers[i] for i in keep],
                    [[r[i] for i in keep] for r in rows], out)
        gm = []
        for grp, _ in GROUPS:
            parts = []
            for peer in peers_used:
                xs = ratios.get((grp, peer))
                if xs:
                    parts.append("%s %s (min %s, n=%d)"
                                 % (peer, fmt_ratio(geomean(xs)),
                                    fmt_ratio(min(xs)), len(xs)))
            if parts:
                gm.append("  %-9s %s" % (grp + ":", "; ".join(parts)))
        if gm:
            print("geometric mean of peer/seqk-%s:" % primary, file=out)
            print("\n".join(gm), file=out)

    if len(args.threads) > 1:
        t0, t1 = args.threads[0], args.threads[-1]
        print("", file=out)
        print("## scaling: ms at %d thread / ms at %d threads"
              % (t0, t1), file=out)
        cols = ["seqk-%s" % primary] + list(peers_used)
        keys = [primary] + list(peers_used)
        rows = []
        for prob in problems:
            r = [prob]
            for k in keys:
                a = ms_of(res.get((prob, t0, k)))
                b = ms_of(res.get((prob, t1, k)))
                r.append(fmt_ratio(a / b) if a and b else "")
            rows.append(r)
        print_table(["problem"] + cols, rows, out)

    print("", file=out)
    print("* seqk ran a reference kernel (no SIMD kernel for this op/shape "
          "yet)\n~ one timed call only (slower than --max-call-ms)",
          file=out)
    if peaks:
        print("peaks: best of the probes before and after the problems",
              file=out)
    if streams:
        print("bound: streaming R once per step (G*H*H*4 bytes per layer "
              "and direction) at the\n  read bandwidth `peak --stream-bytes`"
              " measured for an array of that size\n  with the same thread "
              "count (best of before and after); %bnd = bound / ms",
              file=out)
    for (t, size), gbs in sorted(streams.items()):
        print("  %d thread%s: R %.1f MiB streams at %.1f GB/s"
              % (t, "" if t == 1 else "s", size / 1048576, gbs), file=out)
    for note in meta.get("notes", []):
        print("note: " + note, file=out)
    targets(args, problems, primary, res, peaks, streams, out)


def targets(args, problems, primary, res, peaks, streams, out):
    """The issue-3 targets, for the problems of this run."""
    lines = []

    def seqk(prob, t):
        return res.get((prob, t, primary))

    def ref_note(rows):
        return " (seqk ran ref kernels)" if any(
            r and r.get("ref_fallback") for r in rows) else ""

    for t in args.threads:
        gemms = [p for p in problems if p.startswith("gemm:")]
        rs = [(p, ms_of(res.get((p, t, "openblas"))), ms_of(seqk(p, t)))
              for p in gemms]
        rs = [(p, a / b) for p, a, b in rs if a and b]
        if rs:
            worst = min(rs, key=lambda x: x[1])
            lines.append("t=%d SGEMM >= OpenBLAS on every shape: worst "
                         "%.2fx (%s) %s%s" % (
                             t, worst[1], worst[0],
                             "PASS" if worst[1] >= 1 else "FAIL",
                             ref_note([seqk(p, t) for p in gemms])))
        big = "gemm:m=2048,n=2048,k=2048"
        pk = peaks.get(t, {}).get("fma_avx512", {}).get("gflops")
        s = seqk(big, t)
        if s and s.get("gflops") and pk:
            frac = s["gflops"] / pk
            lines.append("t=%d SGEMM 2048^3 >= 78%% of AVX-512 peak "
                         "(%.0f GFLOP/s): %.0f%% %s%s" % (
                             t, pk, 100 * frac,
                             "PASS" if frac >= 0.78 else "FAIL",
                             ref_note([s])))
        rnns = [p for p in problems if parse_problem(p)["kind"] in GATES]
        rs = [(p, ms_of(res.get((p, t, "onednn"))), ms_of(seqk(p, t)))
              for p in rnns]
        rs = [(p, a / b) for p, a, b in rs if a and b]
        if rs:
            gm = geomean([x for _, x in rs])
            worst = min(rs, key=lambda x: x[1])
            lines.append("t=%d RNN layers vs oneDNN: geomean %.2fx (>= 1.5), "
                         "worst %.2fx %s (>= 1.1) %s%s" % (
                             t, gm, worst[1], worst[0],
                             "PASS" if gm >= 1.5 and worst[1] >= 1.1
                             else "FAIL",
                             ref_note([seqk(p, t) for p in rnns])))
        b1 = []
        for prob in rnns:
            p = parse_problem(prob)
            s = seqk(prob, t)
            key = (t, recurrent_bytes(p)) if is_batch1_rnn(p) else None
            if key in streams and s and s.get("ms_median"):
                b1.append((prob, bound_ms(p, streams[key]) / s["ms_median"]))
        if b1:
            worst = min(b1, key=lambda x: x[1])
            lines.append("t=%d batch-1 layers >= 85%% of the R-streaming "
                         "bound: worst %.0f%% (%s) %s%s" % (
                             t, 100 * worst[1], worst[0],
                             "PASS" if worst[1] >= 0.85 else "FAIL",
                             ref_note([seqk(p, t) for p, _ in b1])))
        atts = [p for p in problems if p.startswith("attention:")]
        for peer, want in (("onednn", 1.3), ("pytorch", 3.0)):
            rs = [(p, ms_of(res.get((p, t, peer))), ms_of(seqk(p, t)))
                  for p in atts]
            rs = [(p, a / b) for p, a, b in rs if a and b]
            if rs:
                worst = min(rs, key=lambda x: x[1])
                lines.append("t=%d attention vs %s: worst %.2fx (>= %.1f) "
                             "%s%s" % (t, peer, worst[1], want,
                                       "PASS" if worst[1] >= want else "FAIL",
                                       ref_note([seqk(p, t) for p in atts])))
    if len(args.threads) > 1:
        t0, t1 = args.threads[0], args.threads[-1]
        for prob in ("gemm:m=2048,n=2048,k=2048",
                     "lstm:hidden=512,batch=64,seq=25"):
            a, b = ms_of(seqk(prob, t0)), ms_of(seqk(prob, t1))
            if a and b:
                lines.append("scaling %s %d->%d threads: %.2fx (>= 1.7) %s%s"
                             % (prob, t0, t1, a / b,
                                "PASS" if a / b >= 1.7 else "FAIL",
                                ref_note([seqk(prob, t0), seqk(prob, t1)])))
    if lines:
        print("\n## issue-3 targets (seqk-%s)" % primary, file=out)
        for line in lines:
            print(line, file=out)


# ---------------------------------------------------------------- main

def available_devices(seqk):
    try:
        info = subprocess.run([seqk, "info"], capture_output=True,
                              text=True).stdout
    except OSError:
        return []
    return re.findall(r"^  (\S+)\s.*\savailable\s*$", info, re.M)


def machine_meta(args, runner):
    meta = {"date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "ncpu": os.cpu_count() or 0, "cpu": "?", "notes": []}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            meta["cpu"] = m.group(1).strip() if m else "?"
    except OSError:
        pass
    try:
        meta["seqk"] = subprocess.run(
            [args.seqk, "--version"], capture_output=True,
            text=True).stdout.strip() + " (" + args.seqk + ")"
    except OSError:
        pass
    return meta


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Default problems (the issue-3 targets):\n  "
        + "\n  ".join(DEFAULT_PROBLEMS))
    ap.add_argument("problems", nargs="*",
                    help="seqk bench descriptors (default: the targets)")
    ap.add_argument("--quick", action="store_true",
                    help="7 problems, one seqk device, fewer runs (about a "
                    "minute once seqk has SIMD kernels)")
    ap.add_argument("--threads", default="1,2",
                    help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--device", action="append", dest="devices",
                    help="seqk device (repeatable; default: avx512 and "
                    "avx2 where available); the first is the one ratios use")
    ap.add_argument("--peers", default=",".join(ALL_PEERS),
                    help="subset of %s" % ",".join(ALL_PEERS))
    ap.add_argument("--seqk", default=os.path.join(ROOT, "build", "tools",
                                                   "seqk"))
    ap.add_argument("--peers-dir", default=os.path.join(ROOT, "build-peers"),
                    help="where bench/peers was built (default build-peers)")
    ap.add_argument("--build", action="store_true",
                    help="meson setup + compile bench/peers into --peers-dir "
                    "first")
    ap.add_argument("--torch-python", default="/usr/bin/python3",
                    help="python with torch for the PyTorch peers")
    ap.add_argument("--repeat", type=int, default=None,
                    help="timed calls at least (default 5, quick 3)")
    ap.add_argument("--min-time", type=float, default=None,
                    help="ms of timed calls at least (default 200, quick 50)")
    ap.add_argument("--max-call-ms", type=float, default=None,
                    help="a seqk call slower than this is timed once "
                    "(default 1000, quick 300)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure everything N times, interleaved, and keep "
                    "each row's fastest median (a noisy machine; default 1)")
    ap.add_argument("--validate", action="store_true",
                    help="let seqk bench check results against ref (costs a "
                    "reference run per problem)")
    ap.add_argument("--no-peak", action="store_true",
                    help="skip the peak/bandwidth probes and the bounds")
    ap.add_argument("--keep-openblas-env", action="store_true",
                    help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for the "
                    "peers (default: unset, OpenBLAS picks its kernel)")
    ap.add_argument("--omp-passive", action="store_true",
                    help="OMP_WAIT_POLICY=PASSIVE for the peers (oneDNN and "
                    "PyTorch use OpenMP), for a machine other work keeps busy")
    ap.add_argument("--json", metavar="FILE",
                    help="also write every row and probe to FILE")
    ap.add_argument("--output", metavar="FILE",
                    help="also write the report to FILE")
    args = ap.parse_args()

    args.threads = [int(x) for x in args.threads.split(",") if x]
    if not args.threads or min(args.threads) < 1:
        ap.error("--threads: expected e.g. 1,2")
    if args.repeat is None:
        args.repeat = 3 if args.quick else 5
    if args.min_time is None:
        args.min_time = 50.0 if args.quick else 200.0
    if args.max_call_ms is None:
        args.max_call_ms = 300.0 if args.quick else 1000.0
    problems = args.problems or (QUICK_PROBLEMS if args.quick
                                 else DEFAULT_PROBLEMS)
    peers = [p for p in args.peers.split(",") if p]
    for p in peers:
        if p not in ALL_PEERS:
            ap.error("--peers: unknown peer %s" % p)

    if args.build:
        if not os.path.exists(os.path.join(args.peers_dir, "build.ninja")):
            subprocess.run(["meson", "setup", args.peers_dir,
                            os.path.join(HERE, "peers")], check=True)
        subprocess.run(["meson", "compile", "-C", args.peers_dir],
                       check=True)
    if not os.access(args.seqk, os.X_OK):
        ap.error("no seqk at %s (build it, or pass --seqk)" % args.seqk)
    avail = available_devices(args.seqk)
    if args.devices:
        devices = args.devices
    else:
        devices = [d for d in ("avx512", "avx2") if d in avail] or \
            [d for d in ("cpu", "ref") if d in avail][:1] or ["ref"]
        if args.quick:
            devices = devices[:1]
    kinds = {parse_problem(p)["kind"] for p in problems}
    bad = [p for p in problems if parse_problem(p)["kind"] not in
           PEERS_OF_KIND]
    if bad:
        ap.error("no peers for %s (kinds: %s)"
                 % (bad[0], ", ".join(PEERS_OF_KIND)))
    peers_used = [p for p in peers
                  if any(p in PEERS_OF_KIND[k] for k in kinds)]

    runner = Runner(args)
    meta = machine_meta(args, runner)
    meta["load_before"] = "%.2f %.2f %.2f" % os.getloadavg()
    meta["command"] = " ".join(sys.argv)
    t_start = time.time()

    peaks, streams = {}, {}
    sizes = sorted({recurrent_bytes(parse_problem(p)) for p in problems
                    if is_batch1_rnn(parse_problem(p))})

    def probe_peaks(when):
        """Peak and bandwidth probes; run before and after the problems,
        keeping each probe's best (a busy machine only lowers them)."""
        for t in args.threads:
            log("peak probes (%s), %d thread(s) ..." % (when, t))
            for name, row in runner.peak(t).items():
                old = peaks.setdefault(t, {}).get(name)
                key = "gflops" if "gflops" in row else "gbs"
                if row.get(key) and (not old or row[key] > old[key]):
                    peaks[t][name] = row
            if sizes:
                for size, row in runner.peak(t, sizes).items():
                    streams[(t, size)] = max(row["gbs"],
                                             streams.get((t, size), 0.0))

    if not args.no_peak:
        probe_peaks("before")
        if not peaks.get(args.threads[0]):
            meta["notes"].append("no peak program in %s: no bounds"
                                 % args.peers_dir)

    res = {}

    def keep(key, row):
        """The row with the fastest median over the rounds."""
        old = res.get(key)
        if old is None or (row.get("ms_median") is not None and (
                old.get("ms_median") is None
                or row["ms_median"] < old["ms_median"])):
            res[key] = row

    order = [(p, t) for _ in range(args.rounds) for p in problems
             for t in args.threads]
    for i, (prob, t) in enumerate(order, 1):
        kind = parse_problem(prob)["kind"]
        for d in devices:
            row = runner.seqk_row(prob, d, t)
            keep((prob, t, d), row)
            log(progress(i, len(order), t, prob, "seqk-" + d, row, True))
        done = set()
        for peer in PEERS_OF_KIND[kind]:
            if peer not in peers or peer in done:
                continue
            # one torch_peers.py request answers pytorch and pytorch-sdpa
            prog = "pytorch" if peer.startswith("pytorch") else peer
            for dev, row in runner.peer_rows(prob, kind, prog, t).items():
                if dev in peers:
                    keep((prob, t, dev), row)
                    done.add(dev)
                    log(progress(i, len(order), t, prob, dev, row, False))
            done.add(peer)
    if not args.no_peak and peaks.get(args.threads[0]):
        probe_peaks("after")
    runner.close()
    meta["load_after"] = "%.2f %.2f %.2f" % os.getloadavg()
    meta["seconds"] = time.time() - t_start

    # versions and notes from the peers' own rows
    for (prob, t, dev), row in sorted(res.items()):
        be = row.get("backend") or ""
        if dev == "openblas" and be and "openblas" not in meta:
            meta["openblas"] = be
        if dev == "onednn" and be.startswith("oneDNN") and \
                "onednn" not in meta:
            meta["onednn"] = be.split(" ")[1]
        if dev == "pytorch" and be and "pytorch" not in meta:
            meta["pytorch"] = be.split(" ")[1]
    errors = {}
    for (prob, t, dev), row in res.items():
        if row.get("error"):
            errors.setdefault((dev, row["error"]), []).append(prob)
    for (dev, err), probs in sorted(errors.items()):
        meta["notes"].append("%s: %s (%d row%s, e.g. %s)" % (
            dev, err, len(probs), "" if len(probs) == 1 else "s", probs[0]))
    # a peer column with no valid row at all is left out of the table
    peers_used = [p for p in peers_used
                  if any(r.get("ms_median") for (_, _, d), r in res.items()
                         if d == p)]

    outs = [sys.stdout]
    if args.output:
        outs.append(open(args.output, "w"))
    for out in outs:
        report(args, problems, devices, peers_used, res, peaks, streams,
               meta, out)
        print("# %.0f s; command: %s" % (meta["seconds"], meta["command"]),
              file=out)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "peaks": {str(k): v for k, v in
                                               peaks.items()},
                       "streams": [{"threads": t, "bytes": b, "gbs": g}
                                   for (t, b), g in streams.items()],
                       "rows": [dict(r, problem=p, threads=t, device=d)
                                for (p, t, d), r in res.items()]},
                      f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
