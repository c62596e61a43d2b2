#!/usr/bin/env bash
# Install what is missing, build with warnings as errors, run every suite;
# then build the Python package with meson-python (pip install . into the
# venv build-py/venv, which sees Debian's NumPy, pytest and PyTorch) and
# run its tests, tests/python/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
[ -f build-test/build.ninja ] || meson setup build-test --buildtype=debugoptimized -Dwerror=true
meson compile -C build-test
meson test -C build-test --print-errorlogs --num-processes 2

echo "== Python package: pip install . (build-py/venv), pytest tests/python"
[ -x build-py/venv/bin/python ] ||
  /usr/bin/python3 -m venv --system-site-packages build-py/venv
# A build directory that stays, so that reinstalling rebuilds incrementally.
build-py/venv/bin/pip install --quiet . \
  --config-settings=build-dir="$PWD/build-py/build"
# (test_report.py runs in meson test's python suite above.)  The decode
# example's tests compare with the C example this build made.
SEQ2SEQ_DECODE="$PWD/build-test/examples/seq2seq_decode" \
  build-py/venv/bin/python -m pytest -p no:cacheprovider -q tests/python \
  --ignore=tests/python/test_report.py
