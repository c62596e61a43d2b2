"""python/seqk/report.py on two real `seqk bench --format json` samples
(tests/python/data: the same problems on avx512 and on opencl:0.0, PoCL):
the page holds every problem and device, the numbers of the inputs, the
speedups computed from them, and no external resource."""
import json
import os
import re
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))

from seqk import report  # noqa: E402

DATA = os.path.join(HERE, "data")
FILES = [os.path.join(DATA, "bench-avx512.json"),
         os.path.join(DATA, "bench-opencl00.json")]


def lines(path):
    with open(path) as f:
        return [json.loads(x) for x in f if x.strip()]


def test_report_content(tmp_path):
    out, png = tmp_path / "r.html", tmp_path / "r.png"
    assert report.main([*FILES, "-o", str(out), "--png", str(png)]) == 0
    page = out.read_text()
    cpu, cl = lines(FILES[0]), lines(FILES[1])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # self-contained: the chart is a data: URI, nothing is fetched
    assert "data:image/svg+xml;base64," in page
    assert not re.search(r"""(src|href)=['"]?https?:""", page)
    for r in cpu + cl:
        assert f"<h3>{r['problem']}</h3>" in page
        assert f"{r['ms_median']:.4g}" in page
        assert r["device_name"] in page
        assert r["device_driver"] in page
    assert "avx512" in page and "opencl:0.0" in page
    # the baseline is the first file's device: opencl speedup = cpu/cl
    for a, b in zip(cpu, cl):
        assert a["problem"] == b["problem"]
        want = a["ms_median"] / b["ms_median"]
        row = page.split(f"<h3>{a['problem']}</h3>", 1)[1].split(
            "</table>", 1)[0]
        assert f"{want:.2f}x" in row
        assert "1.00x" in row


def test_baseline_choice_and_errors(tmp_path):
    page, fig, table, labels, base = report.build(FILES, baseline="opencl")
    assert base == "opencl:0.0" and labels == ["avx512", "opencl:0.0"]
    gemm = next(p for p in table if p.startswith("gemm"))
    sp = report.speedup(table[gemm], "avx512", base)
    assert sp == pytest.approx(table[gemm]["opencl:0.0"]["ms_median"] /
                               table[gemm]["avx512"]["ms_median"])
    with pytest.raises(report.ReportError):
        report.build(FILES, baseline="vulkan")
    bad = tmp_path / "bad.json"
    bad.write_text("not json\n")
    assert report.main([str(bad), "-o", str(tmp_path / "x.html")]) == 2


def test_two_machines_are_told_apart(tmp_path):
    # the same device spec on another machine gets the CPU in its label
    other = [dict(r, cpu="Other CPU", ms_median=r["ms_median"] * 2)
             for r in lines(FILES[0])]
    p = tmp_path / "other.json"
    p.write_text("\n".join(json.dumps(r) for r in other) + "\n")
    page, _, table, labels, base = report.build([FILES[0], str(p)])
    assert len(labels) == 2 and all(" @ " in lab for lab in labels)
    for row in table.values():
        assert report.speedup(row, labels[1], base) == pytest.approx(0.5)
