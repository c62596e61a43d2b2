"""seqk.report: merge `seqk bench --format json` results from several
machines and devices into one self-contained HTML page.

    python3 -m seqk.report a.json b.json ... -o report.html \\
        [--png chart.png] [--baseline LABEL] [--title TEXT]

Without installing the package: PYTHONPATH=python python3 -m seqk.report.

Each input file holds JSON lines (one result per line, as `seqk bench`
writes them) or a JSON list of such objects.  A result is labelled by its
device spec, plus the CPU model when the inputs come from more than one
machine.  The page has a table of machines and devices (with the
provenance bench stamps on each result: driver, seqk version and git
revision, date, tuning database), then per problem a table of ms and
GFLOP/s per device with the speedup over the baseline (the first label,
or --baseline), and two charts (GFLOP/s, speedup) drawn by matplotlib and
embedded as data: URIs, so the page needs nothing else.  --png writes the
same charts as one PNG.

This module uses only the standard library and matplotlib; it does not
load libseqk (the package's bindings are not imported).
"""

import argparse
import base64
import html
import io
import json
import math
import sys

PROVENANCE = ("cpu", "os", "device_name", "device_vendor", "device_driver",
              "seqk_version", "seqk_git", "date", "tuning_db")


class ReportError(Exception):
    """A problem with the inputs, reported as one line."""


def load_results(paths):
    """Results of every file, in order; each gets its source file."""
    results = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise ReportError(f"{path}: {e.strerror}") from e
        stripped = text.strip()
        if stripped.startswith("["):
            try:
                items = json.loads(stripped)
            except json.JSONDecodeError as e:
                raise ReportError(f"{path}: not JSON: {e}") from e
        else:
            items = []
            for no, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    items.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise ReportError(
                        f"{path}:{no}: not a JSON line: {e}") from e
        for item in items:
            if not isinstance(item, dict) or "problem" not in item or \
                    "device" not in item:
                raise ReportError(f"{path}: not a seqk bench result: "
                                  f"{str(item)[:80]}")
            item = dict(item)
            item["_file"] = path
            results.append(item)
    if not results:
        raise ReportError("no results in " + ", ".join(paths))
    return results


def assign_labels(results):
    """Labels results: the device spec, plus the CPU when the results come
    from several machines.  Returns the labels in first-seen order."""
    machines = {(r.get("cpu", "unknown"), r.get("os", "unknown"))
                for r in results}
    labels = []
    for r in results:
        label = r["device"]
        if len(machines) > 1:
            label = f"{r['device']} @ {r.get('cpu', 'unknown')}"
        r["_label"] = label
        if label not in labels:
            labels.append(label)
    return labels


def pick_baseline(labels, wanted):
    if wanted is None:
        return labels[0]
    if wanted in labels:
        return wanted
    hits = [lab for lab in labels if wanted in lab]
    if len(hits) == 1:
        return hits[0]
    raise ReportError(f"--baseline {wanted!r} matches "
                      f"{'no label' if not hits else 'several labels'}; "
                      f"labels: {', '.join(labels)}")


def ok(r):
    return isinstance(r.get("ms_median"), (int, float)) and \
        r.get("ms_median", 0) > 0 and r.get("valid", False)


def tabulate(results, labels):
    """{problem: {label: result}} with problems in first-seen order; of
    repeated (problem, label) results the fastest valid one is kept."""
    table = {}
    for r in results:
        row = table.setdefault(r["problem"], {})
        old = row.get(r["_label"])
        if old is None or (ok(r) and (not ok(old) or
                                      r["ms_median"] < old["ms_median"])):
            row[r["_label"]] = r
    return table


def speedup(row, label, baseline):
    """baseline time / this time for one problem, or None."""
    r, b = row.get(label), row.get(baseline)
    if r is None or b is None or not ok(r) or not ok(b):
        return None
    return b["ms_median"] / r["ms_median"]


# ------------------------------------------------------------------ charts

def make_figure(table, labels, baseline):
    """Two panels: GFLOP/s per problem and device (log scale), and the
    speedup over the baseline."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problems = list(table)
    n, k = len(problems), len(labels)
    height = max(3.0, 0.42 * n * max(k, 2) / 2 + 1.5)
    fig, axes = plt.subplots(1, 2, figsize=(13, height), sharey=True)
    bar = 0.8 / k
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for li, label in enumerate(labels):
        ys = [i + (li - (k - 1) / 2) * bar for i in range(n)]
        gf = [table[p][label]["gflops"] if label in table[p] and
              ok(table[p][label]) else 0.0 for p in problems]
        sp = [speedup(table[p], label, baseline) or float("nan")
              for p in problems]
        color = colors[li % len(colors)]
        axes[0].barh(ys, gf, height=bar, label=label, color=color)
        axes[1].barh(ys, sp, height=bar, label=label, color=color)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("GFLOP/s (log scale, higher is better)")
    axes[1].set_xscale("log")
    axes[1].set_xlabel(f"speedup over {baseline} (log scale, higher is "
                       "better)")
    axes[1].axvline(1.0, color="black", linewidth=0.8)
    axes[0].set_yticks(range(n))
    axes[0].set_yticklabels([wrap_problem(p) for p in problems],
                            fontsize=8)
    axes[0].invert_yaxis()
    for ax in axes:
        ax.grid(axis="x", alpha=0.3)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="upper center", ncol=min(k, 4),
               fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / height))
    return fig


def wrap_problem(p, width=30):
    """'kind:k=v,k=v,...' over lines of about width characters."""
    if len(p) <= width or ":" not in p:
        return p
    kind, rest = p.split(":", 1)
    lines, line = [kind + ":"], ""
    for item in rest.split(","):
        if line and len(line) + 1 + len(item) > width:
            lines.append(line + ",")
            line = item
        else:
            line = f"{line},{item}" if line else item
    lines.append(line)
    return "\n".join(lines)


def figure_data_uri(fig, fmt):
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=110)
    mime = "image/svg+xml" if fmt == "svg" else "image/png"
    return f"data:{mime};base64," + base64.b64encode(buf.getvalue()).decode()


# -------------------------------------------------------------------- HTML

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; }
th { background: #f2f2f2; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.baseline td { background: #fbf8e6; }
.bad { color: #b00; } .muted { color: #777; font-size: .85em; }
img { max-width: 100%; }
"""


def esc(x):
    return html.escape(str(x), quote=True)


def fmt_num(x, digits=3):
    if not isinstance(x, (int, float)) or math.isnan(x):
        return "&mdash;"
    return f"{x:.{digits}g}" if abs(x) < 1e4 else f"{x:,.0f}"


def render_html(results, labels, baseline, table, title, chart_uri):
    first = {}
    for r in results:
        first.setdefault(r["_label"], r)
    out = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'>",
           f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
           f"<h1>{esc(title)}</h1>",
           f"<p class='muted'>{len(results)} results, {len(table)} problems, "
           f"{len(labels)} devices; speedup = baseline ms / ms "
           f"(baseline: <b>{esc(baseline)}</b>).  Machines are shared and "
           f"noisy: compare ratios within one run.</p>",
           "<h2>Devices</h2><table><tr><th>label</th><th>device</th>"
           "<th>vendor</th><th>driver</th><th>CPU</th><th>OS</th>"
           "<th>threads</th><th>seqk</th><th>date (UTC)</th>"
           "<th>tuning DB</th></tr>"]
    for label in labels:
        r = first[label]
        out.append(
            f"<tr{' class=baseline' if label == baseline else ''}>"
            f"<td>{esc(label)}</td><td>{esc(r.get('device_name', '?'))}</td>"
            f"<td>{esc(r.get('device_vendor', '?'))}</td>"
            f"<td>{esc(r.get('device_driver', '?'))}</td>"
            f"<td>{esc(r.get('cpu', '?'))}</td><td>{esc(r.get('os', '?'))}"
            f"</td><td class=num>{esc(r.get('threads', '?'))}</td>"
            f"<td>{esc(r.get('seqk_version', '?'))} "
            f"({esc(r.get('seqk_git', '?'))})</td>"
            f"<td>{esc(r.get('date', '?'))}</td>"
            f"<td>{esc(r.get('tuning_db', '?'))}</td></tr>")
    out.append("</table>")
    if chart_uri:
        out.append(f"<h2>Overview</h2><img alt='GFLOP/s and speedup per "
                   f"problem and device' src='{chart_uri}'>")
    out.append("<h2>Problems</h2>")
    for problem, row in table.items():
        out.append(f"<h3>{esc(problem)}</h3><table><tr><th>device</th>"
                   "<th>ms median</th><th>ms min</th><th>GFLOP/s</th>"
                   f"<th>speedup vs {esc(baseline)}</th><th>valid</th></tr>")
        for label in labels:
            r = row.get(label)
            if r is None:
                continue
            cls = " class=baseline" if label == baseline else ""
            sp = speedup(row, label, baseline)
            valid = "yes" if r.get("valid") else \
                f"<span class=bad>no: {esc(r.get('error', 'failed'))}</span>"
            out.append(
                f"<tr{cls}><td>{esc(label)}</td>"
                f"<td class=num>{fmt_num(r.get('ms_median'), 4)}</td>"
                f"<td class=num>{fmt_num(r.get('ms_min'), 4)}</td>"
                f"<td class=num>{fmt_num(r.get('gflops'))}</td>"
                f"<td class=num>{f'{sp:.2f}x' if sp else '&mdash;'}"
                f"</td><td>{valid}</td></tr>")
        out.append("</table>")
    out.append("<p class='muted'>Made by python3 -m seqk.report from "
               + esc(", ".join(dict.fromkeys(r["_file"] for r in results)))
               + ".</p></body></html>")
    return "\n".join(out) + "\n"


def build(paths, baseline=None, title="seqk cross-vendor report"):
    """(html, figure, table, labels, baseline) for the inputs."""
    results = load_results(paths)
    labels = assign_labels(results)
    base = pick_baseline(labels, baseline)
    table = tabulate(results, labels)
    fig = make_figure(table, labels, base)
    page = render_html(results, labels, base, table, title,
                       figure_data_uri(fig, "svg"))
    return page, fig, table, labels, base


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python3 -m seqk.report",
        description="Merge seqk bench --format json results into one "
                    "self-contained HTML report.")
    ap.add_argument("inputs", nargs="+", help="seqk bench JSON files")
    ap.add_argument("-o", "--output", required=True, help="HTML to write")
    ap.add_argument("--png", help="also write the charts as this PNG")
    ap.add_argument("--baseline", help="label (or a unique part of one) "
                    "speedups are relative to (default: the first)")
    ap.add_argument("--title", default="seqk cross-vendor report")
    a = ap.parse_args(argv)
    try:
        page, fig, table, labels, base = build(a.inputs, a.baseline, a.title)
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(page)
        if a.png:
            fig.savefig(a.png, format="png", dpi=110)
    except ReportError as e:
        print(f"seqk.report: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"seqk.report: {e.filename}: {e.strerror}", file=sys.stderr)
        return 1
    print(f"seqk.report: {len(table)} problems x {len(labels)} devices "
          f"(baseline {base}) -> {a.output}"
          + (f", {a.png}" if a.png else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
