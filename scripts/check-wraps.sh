#!/usr/bin/env bash
# Checks the wraps in subprojects/ on a machine that has Debian's packages
# and cannot download (subprojects/README.md says why):
#  1. a --wrap-mode=nodownload build configures and compiles with -Werror
#     and uses no subproject, so the wraps change nothing where the
#     packages are installed;
#  2. every wrap parses;
#  3. forcing each fallback fails cleanly on "downloading is disabled":
#     an error for the required dependencies, a disabled subproject for
#     the optional ones (and configure goes on).
#
#   bash scripts/check-wraps.sh [builddir]     (default: build-wraps)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-wraps}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
disabled="Automatic wrap-based subproject downloading is disabled"

echo "== wraps: nodownload build with the system packages"
rm -rf "$build"
meson setup "$build" -Dwerror=true --wrap-mode=nodownload
meson compile -C "$build"
used=$(meson introspect --projectinfo "$build" | python3 -c \
  'import json, sys; print(" ".join(s["name"] for s in json.load(sys.stdin)["subprojects"]))')
if [ -n "$used" ]; then
  echo "wraps: FAIL: the build used subprojects: $used" >&2
  exit 1
fi

echo "== wraps: every wrap parses"
wraps=$(ls subprojects/*.wrap | wc -l)
seen=$(meson subprojects foreach --types file,git true 2>&1 |
       grep -c "Executing command in" || true)
if [ "$seen" -ne "$wraps" ]; then
  echo "wraps: FAIL: meson read $seen of $wraps wraps" >&2
  exit 1
fi

echo "== wraps: forced fallbacks fail on the disabled download"
# dependency name : the wrap that provides it
required="libcjson:cjson sleef:sleef check:check"
optional="OpenCL:opencl-icd-loader clblast:clblast libcpuinfo:cpuinfo
          libprotobuf-c:protobuf-c"
for pair in $required; do
  dep=${pair%%:*}
  log="$tmp/$dep.log"
  if meson setup "$tmp/$dep" --wrap-mode=nodownload \
       --force-fallback-for="$dep" > "$log" 2>&1; then
    echo "wraps: FAIL: forced fallback for $dep configured" >&2
    exit 1
  fi
  if ! grep -q "fallback subproject for the dependency $dep" "$log" ||
     ! grep -q "ERROR: $disabled" "$log"; then
    echo "wraps: FAIL: $dep did not stop on the disabled download:" >&2
    cat "$log" >&2
    exit 1
  fi
  echo "$dep: $(grep "ERROR: $disabled" "$log")"
done
for pair in $optional; do
  dep=${pair%%:*}
  wrap=${pair#*:}
  log="$tmp/$dep.log"
  if ! meson setup "$tmp/$dep" --wrap-mode=nodownload \
         --force-fallback-for="$dep" > "$log" 2>&1 ||
     ! grep -q "^$disabled" "$log" ||
     ! grep -q "Subproject  *$wrap is buildable: NO" "$log"; then
    echo "wraps: FAIL: $dep did not fall back to a disabled $wrap:" >&2
    cat "$log" >&2
    exit 1
  fi
  echo "$dep: $(grep "Subproject  *$wrap is buildable" "$log")"
done
echo "wraps: OK ($wraps wraps; the nodownload build used none)"
