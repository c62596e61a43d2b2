#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz/ (README.md there).
#
#   bash scripts/fuzz.sh replay          every target over its seed corpus
#   bash scripts/fuzz.sh run SECONDS     every target fuzzed for SECONDS
#   bash scripts/fuzz.sh run SECONDS fuzz_npy ...   only those targets
#
# Builds build-fuzz/ (or $FUZZ_BUILD) with clang: ASan + UBSan everywhere,
# libFuzzer coverage in the library too (-fsanitize=fuzzer-no-link), so
# the fuzzers see the parsers' branches.  Inputs found in `run` go to
# $FUZZ_BUILD/corpus/<target>/ (the committed seeds stay as they are);
# crashes go to $FUZZ_BUILD/findings/<target>/ and the script fails.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
case "$mode" in
  replay) shift ;;
  run)
    secs=${2:-}
    [[ "$secs" =~ ^[0-9]+$ ]] || { echo "usage: $0 run SECONDS [target...]" >&2; exit 2; }
    shift 2 ;;
  *) echo "usage: $0 replay | run SECONDS [target...]" >&2; exit 2 ;;
esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_npy fuzz_tune_db fuzz_bench_desc fuzz_run fuzz_kernel_cache fuzz_onnx_load)

build=${FUZZ_BUILD:-build-fuzz}
cc=${FUZZ_CC:-}
if [ -z "$cc" ]; then
  # Debian's libclang-rt-N-dev holds libFuzzer; use a clang that has it.
  for c in clang clang-16 clang-15 clang-14; do
    command -v "$c" > /dev/null || continue
    if echo 'int LLVMFuzzerTestOneInput(const char *d, long n){(void)d;(void)n;return 0;}' |
         "$c" -x c -fsanitize=fuzzer -o /dev/null - 2> /dev/null; then
      cc=$c; break
    fi
  done
fi
[ -n "$cc" ] || { echo "fuzz.sh: no clang with libFuzzer (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

if [ ! -f "$build/build.ninja" ]; then
  # OpenCL and the ONNX tests are off: nothing fuzzed here needs them, and
  # PoCL under ASan is slow and leaky.
  CC=$cc nice meson setup "$build" --buildtype=debugoptimized \
    -Dfuzz=enabled -Dopencl=disabled -Donnx_tests=disabled \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fsanitize=fuzzer-no-link
fi
nice meson compile -C "$build" "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
status=0
for t in "${targets[@]}"; do
  exe=$build/tests/fuzz/$t
  # fuzz_run's command prints a line per failed run: silence the target's
  # stdout and stderr (libFuzzer and the sanitizers keep their own copy).
  quiet=()
  [ "$t" = fuzz_run ] && quiet=(-close_fd_mask=3)
  seeds=tests/fuzz/corpus/$t
  if [ "$mode" = replay ]; then
    echo "== $t: replay $(ls "$seeds" | wc -l) seeds"
    # -runs=0: run every seed once, no mutation.
    rc=0
    "$exe" "${quiet[@]}" -runs=0 "$seeds" > "$build/replay-$t.log" 2>&1 || rc=$?
    grep -E 'INITED|DONE|ERROR|SUMMARY' "$build/replay-$t.log" || true
    [ $rc -eq 0 ] || { echo "== $t: FAILED (exit $rc)" >&2; status=1; }
  else
    echo "== $t: fuzzing for $secs s"
    mkdir -p "$build/corpus/$t" "$build/findings/$t"
    # -rss_limit_mb: a reader must not need much memory for any input.
    # -max_len: the seeds are small; 64 KiB leaves room for big headers.
    set +e
    "$exe" "${quiet[@]}" -max_total_time="$secs" -print_final_stats=1 \
      -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
      -artifact_prefix="$build/findings/$t/" \
      "$build/corpus/$t" "$seeds" > "$build/fuzz-$t.log" 2>&1
    rc=$?
    set -e
    grep -E '^#[0-9]+[[:space:]]+DONE' "$build/fuzz-$t.log" | tail -1 || true
    grep -E 'stat::(number_of_executed_units|peak_rss_mb|new_units_added)' \
      "$build/fuzz-$t.log" || true
    # Slow units (>= 10 s, -report_slow_units) do not fail the run but
    # are findings too: list whatever the target left.
    if [ -n "$(ls -A "$build/findings/$t")" ]; then
      echo "== $t: artifacts in $build/findings/$t/:" \
           $(ls "$build/findings/$t") >&2
    fi
    if [ $rc -ne 0 ]; then
      echo "== $t: FINDING (exit $rc); log $build/fuzz-$t.log," \
           "reproducer in $build/findings/$t/" >&2
      grep -E 'ERROR|SUMMARY|Test unit written' "$build/fuzz-$t.log" >&2 || true
      status=1
    fi
  fi
done
exit $status
