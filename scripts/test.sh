#!/usr/bin/env bash
# Install what is missing, build with warnings as errors, run every suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
[ -f build-test/build.ninja ] || meson setup build-test --buildtype=debugoptimized -Dwerror=true
meson compile -C build-test
meson test -C build-test --print-errorlogs --num-processes 2
