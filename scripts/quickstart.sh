#!/usr/bin/env bash
# The main job: install what is missing, build, and run the quick
# benchmark on every device seqk finds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
[ -f build/build.ninja ] || meson setup build --buildtype=release
meson compile -C build
./build/tools/seqk info
./build/tools/seqk bench --suite quick --device all
