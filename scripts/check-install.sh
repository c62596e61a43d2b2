#!/usr/bin/env bash
# Checks that seqk is usable from outside its build, the three ways the
# README ("Use seqk in your project") gives:
#   1. pkg-config: installs BUILD_DIR into a DESTDIR (meson install
#      --destdir) and builds tests/consumer/consumer.c with
#      `pkg-config --cflags --libs seqk`, linked against libseqk.so and
#      (--static) against libseqk.a; then with CMake's pkg_check_modules
#      when cmake is installed;
#   2. a meson parent project whose subprojects/seqk is this tree
#      (dependency('seqk') finds meson.override_dependency's seqk);
# and runs every program it built.
#   bash scripts/check-install.sh [BUILD_DIR]     (default build-test)
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=${1:-build-test}
dest=$PWD/$build/install-check
rm -rf "$dest"
meson install -C "$build" --destdir "$dest" --quiet

option() {
  meson introspect "$build" --buildoptions | /usr/bin/python3 -c \
    'import json, sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}[sys.argv[1]])' "$1"
}
prefix=$(option prefix)
libdir=$dest$prefix/$(option libdir)
[ -f "$dest$prefix/$(option includedir)/seqk.h" ] ||
  { echo "check-install: seqk.h not installed" >&2; exit 1; }

# seqk.pc names the real prefix: point it into DESTDIR.  (A
# PKG_CONFIG_SYSROOT_DIR would also move the system -I/-L paths that other
# packages' .pc files spell out.)
sed -i "s|^prefix=.*|prefix=$dest$prefix|" "$libdir/pkgconfig/seqk.pc"
export PKG_CONFIG_PATH=$libdir/pkgconfig
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
echo "check-install: seqk $(pkg-config --modversion seqk);" \
     "pkg-config --static --libs: $(pkg-config --static --libs seqk)"

out=$dest/consumer
mkdir -p "$out"
echo "-- pkg-config, shared and static"
make -s -C tests/consumer OUT="$out" shared static
# The static build must not need libseqk.so at run time.
if ldd "$out/consumer-static" | grep -q libseqk; then
  echo "check-install: consumer-static links libseqk.so" >&2
  exit 1
fi
"$out/consumer-shared"
"$out/consumer-static"

if command -v cmake > /dev/null; then
  echo "-- CMake pkg_check_modules"
  cmake -S tests/consumer -B "$out/cmake" -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$out/cmake" > /dev/null
  "$out/cmake/consumer-cmake"
else
  echo "check-install: cmake not installed, CMake build skipped"
fi

echo "-- meson subproject"
unset PKG_CONFIG_PATH   # dependency('seqk') must come from the subproject
parent=$out/parent
mkdir -p "$parent/subprojects"
cp tests/consumer/subproject/meson.build tests/consumer/consumer.c "$parent/"
ln -s "$src" "$parent/subprojects/seqk"
(cd "$parent" &&
 meson setup build --wrap-mode=nodownload > setup.log &&
 grep -q 'Executing subproject seqk' setup.log &&
 meson compile -C build > compile.log) ||
  { echo "check-install: the subproject build failed, see $parent" >&2; exit 1; }
"$parent/build/consumer-subproject"
echo "check-install: OK"
