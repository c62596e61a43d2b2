#!/usr/bin/env python3
"""Whole ONNX models: ONNX Runtime vs `seqk bench model.onnx`.

For each model of tests/models/, each batch (1, 16) and each thread count
(1, 2): ONNX Runtime (CPU execution provider, intra_op_num_threads =
threads, one inter-op thread, sequential execution, default graph
optimizations) and `seqk bench MODEL.onnx` on each seqk device.  Every
timed side runs in its own process, so that its peak RSS (os.wait4's
ru_maxrss) is its own, and reports its load-to-first-result time (model
load / session creation + the first run) and the median of its timed
runs.  The machine is shared and noisy, so the sides run interleaved
round by round (ORT first in odd rounds, seqk first in even ones); the
table gives medians over rounds and the median of the per-round ratios
ORT ms / seqk ms (above 1: seqk is faster).

Inputs: batch 1 and 16 built from each model's declared inputs, with the
symbolic dims of SHAPES below (sequence 32, 64 speech frames, one
char-LM step), token ids in the range of the committed input sets, full
lengths and no padding, N(0, 0.25) floats (seeded).

    build-ort/venv/bin/python bench/onnx_vs_ort.py [--build build]
        [--rounds 5] [--batches 1,16] [--threads 1,2] [--devices cpu]
        [--models a,b] [--md bench/onnx-vs-ort.md] [--json FILE]

Needs numpy and onnx (Debian python3-numpy, python3-onnx) and onnxruntime
(PyPI, the build-ort/venv of tests/models/README.md).  When the seqk
binary has no model bench yet (`seqk bench --help` says nothing of
.onnx), only ORT runs.  The seqk side is run as
    seqk bench MODEL.onnx -i NAME=FILE.npy ... --device D --threads T
        --format json --no-validate --repeat R --min-time MS
and its JSON line's ms_median is used, and load_ms + first_run_ms when
present (else the load column says n/a).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(
    os.path.abspath(__file__)), os.pardir))
MODELS_DIR = os.path.join(ROOT, "tests", "models")
MODELS = ["lstm_classifier", "gru_tagger", "seq2seq_encoder",
          "seq2seq_decoder_step", "transformer_layer", "speech",
          "charlm_step"]
# Values of the symbolic dims other than "batch".
SHAPES = {"seq": 32, "src_seq": 32, "frames": 64}
SEQ_OVERRIDE = {"charlm_step": {"seq": 1}}       # one sampling step
ONNX_NP = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_}


# ------------------------------------------------------------ the worker

def ort_worker(args):
    """Child process: one ORT session, timed; prints one JSON line."""
    import resource
    import onnxruntime as ort
    feeds = {f[:-4]: np.load(os.path.join(args.inputs, f))
             for f in sorted(os.listdir(args.inputs))}
    rss_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if not args.ort_spin:
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = ort.InferenceSession(args.ort_worker, so,
                                providers=["CPUExecutionProvider"])
    t1 = time.perf_counter()
    sess.run(None, feeds)
    t2 = time.perf_counter()
    times = []
    start = time.perf_counter()
    while (len(times) < args.repeat or
           (time.perf_counter() - start) * 1e3 < args.min_time):
        a = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - a) * 1e3)
    print(json.dumps({"ms_median": statistics.median(times),
                      "runs": len(times),
                      "load_ms": (t1 - t0) * 1e3,
                      "first_run_ms": (t2 - t1) * 1e3,
                      "rss_import_kb": rss_import}))
    return 0


TIME = "/usr/bin/time"      # GNU time (Debian package `time`)


def run_measured(cmd):
    """Runs cmd in a child; returns (rc, stdout, stderr, peak RSS MB).

    Linux carries a process's peak RSS across exec, so a child forked
    from this Python process (60+ MB) would report at least that much.
    GNU time is a small process that forks the command and reports its
    wait4 ru_maxrss: the command's own peak.  Without it, os.wait4 on the
    direct child gives an upper bound (rss_exact False)."""
    with tempfile.TemporaryDirectory() as d:
        fo = open(os.path.join(d, "out"), "w+")
        fe = open(os.path.join(d, "err"), "w+")
        rssf = os.path.join(d, "rss")
        exact = os.access(TIME, os.X_OK)
        full = [TIME, "-q", "-f", "%M", "-o", rssf] + cmd if exact else cmd
        p = subprocess.Popen(full, stdout=fo, stderr=fe)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        rss = ru.ru_maxrss / 1024.0
        if exact:
            try:
                with open(rssf) as f:
                    rss = int(f.read().split()[-1]) / 1024.0
            except (OSError, ValueError, IndexError):
                exact = False
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read(), fe.read()
        fo.close()
        fe.close()
        return p.returncode, out, err, rss, exact


def last_json(text):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    return None


# ------------------------------------------------------------- inputs

def make_inputs(name, batch, folder, seed):
    """Writes <folder>/<input>.npy for one model and batch size."""
    import onnx
    m = onnx.load(os.path.join(MODELS_DIR, name + ".onnx"),
                  load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    dims = dict(SHAPES, **SEQ_OVERRIDE.get(name, {}))
    dims["batch"] = batch
    seqlen = dims.get("seq", dims.get("src_seq"))
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for vi in m.graph.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        shape = [dims[d.dim_param] if d.dim_param else d.dim_value
                 for d in tt.shape.dim]
        dt = ONNX_NP[tt.elem_type]
        if dt == np.bool_:
            x = np.zeros(shape, dtype=np.bool_)           # no padding
        elif dt in (np.int64, np.int32) and "len" in vi.name:
            x = np.full(shape, seqlen, dtype=dt)         # full lengths
        elif dt in (np.int64, np.int32):
            hi = 1
            for s in ("b1", "b3"):
                f = os.path.join(MODELS_DIR, name, s, "inputs",
                                 vi.name + ".npy")
                hi = max(hi, int(np.load(f).max()))
            x = rng.integers(1, hi + 1, size=shape).astype(dt)
        else:
            x = (0.5 * rng.standard_normal(shape)).astype(dt)
        np.save(os.path.join(folder, vi.name + ".npy"), x)


# -------------------------------------------------------------- sides

def seqk_has_model_bench(exe):
    try:
        out = subprocess.run([exe, "bench", "--help"], capture_output=True,
                             text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return ".onnx" in out.stdout + out.stderr


def run_ort(args, model, inputs, threads):
    cmd = [sys.executable, os.path.abspath(__file__), "--ort-worker", model,
           "--inputs", inputs, "--threads", str(threads),
           "--repeat", str(args.repeat), "--min-time", str(args.min_time),
           "--ort-spin", str(args.ort_spin)]
    rc, out, err, rss, exact = run_measured(cmd)
    r = last_json(out)
    if rc != 0 or r is None:
        raise RuntimeError("ORT worker failed on %s: %s" % (model, err))
    r["rss_mb"] = rss
    r["rss_exact"] = exact
    return r


def run_seqk(args, exe, model, inputs, device, threads):
    cmd = [exe, "bench", model]
    for f in sorted(os.listdir(inputs)):
        cmd += ["-i", "%s=%s" % (f[:-4], os.path.join(inputs, f))]
    cmd += ["--device", device, "--threads", str(threads), "--format",
            "json", "--no-validate", "--repeat", str(args.repeat),
            "--min-time", str(args.min_time)]
    rc, out, err, rss, exact = run_measured(cmd)
    r = last_json(out)
    if rc != 0 or r is None:
        return {"error": (err.strip().splitlines() or ["exit %d" % rc])[-1]}
    r["rss_mb"] = rss
    r["rss_exact"] = exact
    return r


# -------------------------------------------------------------- report

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec="%.3f"):
    return "n/a" if x is None else spec % x


def machine():
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            txt = f.read()
        flags = "AVX-512" if "avx512f" in txt else (
            "AVX2" if "avx2" in txt else "")
    except OSError:
        pass
    return "%s, %d cores visible, %s" % (cpu, os.cpu_count() or 0, flags)


def table(rows, have_seqk, devices):
    cols = ["model", "batch", "threads", "ORT ms", "ORT load→first ms",
            "ORT peak RSS MB (model's share)"]
    if have_seqk:
        cols += ["seqk device", "seqk ms", "ORT / seqk (min-max)",
                 "seqk load→first ms", "seqk peak RSS MB"]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for (model, batch, threads), r in rows.items():
        ort = r["ort"]
        o_ms = med([x["ms_median"] for x in ort])
        o_load = med([x["load_ms"] + x["first_run_ms"] for x in ort])
        o_rss = med([x["rss_mb"] for x in ort])
        o_share = med([x["rss_mb"] - x["rss_import_kb"] / 1024.0
                       for x in ort])
        base = "| %s | %d | %d | %s | %s | %s (%s) |" % (
            model, batch, threads, fmt(o_ms), fmt(o_load, "%.1f"),
            fmt(o_rss, "%.1f"), fmt(o_share, "+%.1f"))
        if not have_seqk:
            out.append(base)
            continue
        for d in devices:
            sk = r["seqk"][d]
            errs = [x["error"] for x in sk if "error" in x]
            if errs:
                out.append(base + " %s | fails: %s | | | |" % (
                    d, errs[0].replace("|", "/")))
                continue
            s_ms = med([x["ms_median"] for x in sk])
            ratios = [o["ms_median"] / s["ms_median"]
                      for o, s in zip(ort, sk)]
            s_load = med([x["load_ms"] + x["first_run_ms"]
                          if "load_ms" in x and "first_run_ms" in x
                          else None for x in sk])
            out.append(base + " %s | %s | **%.2fx** (%.2f-%.2f) | %s | %s |"
                       % (d, fmt(s_ms), statistics.median(ratios),
                          min(ratios), max(ratios), fmt(s_load, "%.1f"),
                          fmt(med([x["rss_mb"] for x in sk]), "%.1f")))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=20,
                    help="timed runs per process, at least")
    ap.add_argument("--min-time", type=float, default=300,
                    help="timed milliseconds per process, at least")
    ap.add_argument("--batches", default="1,16")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--devices", default="cpu",
                    help="seqk devices, comma-separated")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--ort-spin", type=int, default=1, choices=(0, 1),
                    help="ORT's intra-op spinning (1: its default)")
    ap.add_argument("--ort-only", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--md", help="also write the report (markdown) here")
    ap.add_argument("--json", help="also write every sample here")
    ap.add_argument("--ort-worker", help=argparse.SUPPRESS)
    ap.add_argument("--inputs", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ort_worker:
        args.threads = int(args.threads)
        return ort_worker(args)

    import onnxruntime as ort
    exe = os.path.join(args.build, "tools", "seqk")
    why = None
    if args.ort_only:
        why = "--ort-only"
    elif not os.access(exe, os.X_OK):
        why = "no seqk binary at %s" % exe
    elif not seqk_has_model_bench(exe):
        why = "this seqk has no `seqk bench model.onnx` yet"
    have_seqk = why is None
    devices = args.devices.split(",")
    models = args.models.split(",")
    batches = [int(b) for b in args.batches.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    if not have_seqk:
        print("note: %s; ONNX Runtime only" % why, file=sys.stderr)

    tmp = tempfile.mkdtemp(prefix="onnx_vs_ort.")
    configs = []
    for mi, model in enumerate(models):
        for b in batches:
            d = os.path.join(tmp, "%s.b%d" % (model, b))
            make_inputs(model, b, d, args.seed * 1000 + mi)
            for t in threads:
                configs.append((model, b, t, d))
    rows = {(m, b, t): {"ort": [], "seqk": {d: [] for d in devices}}
            for m, b, t, _ in configs}
    for rnd in range(args.rounds):
        for model, b, t, d in configs:
            path = os.path.join(MODELS_DIR, model + ".onnx")
            r = rows[(model, b, t)]
            sides = ["ort"] + (devices if have_seqk else [])
            if rnd % 2:
                sides.reverse()
            for s in sides:
                if s == "ort":
                    r["ort"].append(run_ort(args, path, d, t))
                else:
                    r["seqk"][s].append(run_seqk(args, exe, path, d, s, t))
            print("round %d %s b%d t%d: ORT %.3f ms" % (
                rnd + 1, model, b, t, r["ort"][-1]["ms_median"]),
                file=sys.stderr)

    cmd = "build-ort/venv/bin/python bench/onnx_vs_ort.py " + " ".join(
        a for a in sys.argv[1:])
    head = ["# Whole ONNX models: ONNX Runtime vs seqk", "",
            "Command: `%s`" % cmd.strip(), "",
            "Machine: %s (shared with other jobs: medians over %d "
            "interleaved rounds).  ONNX Runtime %s, CPU execution "
            "provider, intra_op_num_threads = threads, sequential "
            "execution, default graph optimizations, intra-op spinning "
            "%s.  Each side runs in its own process per round: ms is the "
            "median of >= %d timed runs (>= %g ms); load→first is session "
            "creation (model load) + the first run; peak RSS is the "
            "process's own ru_maxrss (%s; for ORT it includes Python, "
            "NumPy and the onnxruntime module: %.0f MB before the session; in "
            "parentheses the peak minus that)."
            % (machine(), args.rounds, ort.__version__,
               "on (ORT's default)" if args.ort_spin else "off",
               args.repeat, args.min_time,
               "through GNU time" if all(
                   x.get("rss_exact", True) for r in rows.values()
                   for x in r["ort"]) else
               "os.wait4 without GNU time: an upper bound, it includes "
               "this script's RSS at fork",
               med([x["rss_import_kb"] / 1024.0 for r in rows.values()
                    for x in r["ort"]])), "",
            "Inputs: batch 1 and 16; sequence 32 (tokens, source), 64 "
            "speech frames (32 after the stride-2 conv), charlm_step one "
            "token; full lengths, no padding.", ""]
    if not have_seqk:
        head += ["seqk: not run (%s): ONNX Runtime alone." % why, ""]
    text = "\n".join(head + [table(rows, have_seqk, devices)]) + "\n"
    print(text)
    if args.md:
        with open(args.md, "w") as f:
            f.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"%s/b%d/t%d" % k: v for k, v in rows.items()}, f,
                      indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
