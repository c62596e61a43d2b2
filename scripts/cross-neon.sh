#!/usr/bin/env bash
# The NEON build: cross-compiles seqk for aarch64 (meson cross file
# tests/cross/aarch64-linux-gnu.ini) and runs the whole test suite under
# qemu-user.
#
#   bash scripts/cross-neon.sh [BUILDDIR [meson test args...]]
#
# 1. installs the host tools that are missing (the cross compiler, qemu-user
#    and what the native build needs to generate the ONNX test reader);
# 2. unpacks the arm64 libraries into a sysroot (.cross-sysroot/, or
#    $SEQK_CROSS_CACHE) with `apt-get download` + `dpkg -x` rather than
#    installing them: the amd64 and arm64 libcpuinfo-dev cannot be installed
#    side by side, and this way the host's package set stays as it was.  The
#    sysroot is rebuilt only when the package versions change;
# 3. configures BUILDDIR (default build-neon) without OpenCL, builds, and
#    runs `meson test` with CK_FORK=no (Check's fork mode hangs under
#    qemu-user); that includes kernels_neon, the per-kernel harness.
# Runs apt-get as root, or through sudo when not root.  Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
builddir=${1:-build-neon}
shift || true
cache=${SEQK_CROSS_CACHE:-$src/.cross-sysroot}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

HOST_PACKAGES=(
  meson ninja-build pkg-config          # build
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross  # the cross compiler + libc
  qemu-user                             # runs the aarch64 tests
  protobuf-c-compiler libonnx-dev       # ONNX test reader (generated on host)
  libonnx-testdata                      # ONNX node tests (arch-independent)
)
# What the library, the seqk tool and the tests link, with their runtime
# dependencies (the C runtime too: qemu runs with the sysroot as its root;
# libstdc++6 for test_header.cpp, built when g++-aarch64-linux-gnu is
# installed — optional, that test checks the header, not the architecture).
ARM64_PACKAGES=(
  libc6 libgcc-s1 libstdc++6
  libsleef3 libsleef-dev
  check libsubunit0 libsubunit-dev
  libcjson1 libcjson-dev
  libprotobuf-c1 libprotobuf-c-dev
  libcpuinfo0 libcpuinfo-dev
)

echo "== cross-neon: host packages"
missing=()
for p in "${HOST_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "cross-neon: adding the arm64 architecture to apt"
  $SUDO dpkg --add-architecture arm64
  need_update=1
fi
if [ "${need_update:-0}" = 1 ] || [ "${#missing[@]}" -gt 0 ] ||
   ! apt-cache show --no-all-versions libc6:arm64 >/dev/null 2>&1; then
  $SUDO apt-get update -q
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "cross-neon: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
    --no-install-recommends "${missing[@]}"
fi

echo "== cross-neon: arm64 sysroot in $cache"
# The exact versions apt would fetch now; the sysroot is current if its
# manifest lists the same.
manifest=""
specs=()
for p in "${ARM64_PACKAGES[@]}"; do
  v=$(apt-cache show --no-all-versions "$p:arm64" | sed -n 's/^Version: //p')
  [ -n "$v" ] || { echo "cross-neon: no arm64 package $p" >&2; exit 1; }
  manifest+="$p:arm64=$v"$'\n'
  specs+=("$p:arm64=$v")
done
if [ -f "$cache/manifest" ] && [ "$(cat "$cache/manifest")" = "${manifest%$'\n'}" ]; then
  echo "cross-neon: sysroot is current"
else
  rm -rf "$cache/root" "$cache/debs" "$cache/manifest"
  mkdir -p "$cache/debs" "$cache/root"
  (cd "$cache/debs" &&
   apt-get download -q -o APT::Sandbox::User=root "${specs[@]}")
  for deb in "$cache"/debs/*.deb; do
    dpkg -x "$deb" "$cache/root"
  done
  # Absolute symlinks (e.g. /lib/ld-linux-aarch64.so.1) would point into
  # the host's tree: make them relative to the sysroot.
  find "$cache/root" -type l | while read -r link; do
    target=$(readlink "$link")
    case "$target" in
      /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" \
                     "$cache/root$target")" "$link" ;;
    esac
  done
  rm -rf "$cache/debs"
  printf '%s' "${manifest%$'\n'}" > "$cache/manifest"
fi
# The machine file that tells the cross file where things are (rewritten
# only when it changes: meson reconfigures when it is touched).
paths="[constants]
sysroot = '$cache/root'
cross_dir = '$src/tests/cross'"
if [ ! -f "$cache/paths.ini" ] || [ "$(cat "$cache/paths.ini")" != "$paths" ]; then
  printf '%s\n' "$paths" > "$cache/paths.ini"
fi

echo "== cross-neon: configure + build $builddir"
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" --buildtype=debugoptimized -Dwerror=true \
    -Dopencl=disabled \
    --cross-file "$cache/paths.ini" \
    --cross-file tests/cross/aarch64-linux-gnu.ini
fi
meson compile -C "$builddir"

echo "== cross-neon: seqk info under qemu"
info=$("$src/tests/cross/qemu-aarch64.sh" "$cache/root" \
       "$builddir/tools/seqk" info)
printf '%s\n' "$info" | sed -n '1,/^devices:/p'
# qemu reports ASIMD in HWCAP, so the neon device must be usable
printf '%s\n' "$info" | grep -E '^  neon .* available$' ||
  { echo "cross-neon: the neon device is not available" >&2; exit 1; }

echo "== cross-neon: tests under qemu-aarch64"
start=$(date +%s)
rc=0
CK_FORK=no meson test -C "$builddir" --print-errorlogs --num-processes 2 \
  "$@" || rc=$?
echo "cross-neon: tests took $(( $(date +%s) - start )) s"
exit "$rc"
