#!/usr/bin/env bash
# Runs the OpenCL kernel suites (tests/test_opencl*.c in their small-shape
# mode, SEQK_OCL_SMALL=1) and a subset of the whole-model tests (below)
# under Oclgrind, the OpenCL device simulator that
# checks what PoCL on a CPU forgives and GPUs do not: out-of-bounds and
# uninitialized accesses, data races in local/global memory, barrier
# divergence, API misuse.  Fails if a suite fails or Oclgrind reports
# anything.
#   bash scripts/oclgrind.sh [BUILD_DIR]   (default build-test)
# -cl-opt-disable: Oclgrind 21.10's uninitialized-value checker does not
# know LLVM's `freeze` instruction, which optimized builds emit.
# The suites run with scripts/oclgrind-shadow.c preloaded in front of
# Oclgrind's runtime: Oclgrind 21.10 shrinks a buffer's uninitialized-
# value shadow to the last host store that did not cover the whole buffer
# from offset 0 (every clEnqueueFillBuffer, any write at an offset), after
# which kernel stores past it are lost and reads past it are reported.
# The shim rewrites such a buffer whole after the command (see its
# header comment and src/opencl/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-test}"
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac
command -v oclgrind >/dev/null || { echo "oclgrind: not installed" >&2; exit 1; }
export CK_FORK=no SEQK_TEST_DEVICES=opencl:0.0 SEQK_OCL_SMALL=1
export XDG_CACHE_HOME="$build/oclgrind-cache"
rm -rf "$XDG_CACHE_HOME"
shim="$build/oclgrind-shadow.so"
"${CC:-cc}" -shared -fPIC -O1 -Wall -Wextra -Werror -o "$shim" \
  scripts/oclgrind-shadow.c -ldl
status=0
# run_one LABEL EXE [VAR=VALUE...]: EXE under Oclgrind with the shim, the
# variables added to its environment
run_one() {
  local label=$1 exe=$2 rc=0 start=$SECONDS
  shift 2
  local log="$build/meson-logs/oclgrind-$label.log"
  checks_on=(--data-races --check-api --uninitialized)
  # The launcher puts its runtime first in LD_PRELOAD; the shim goes in
  # front of it so the test's cl* calls reach the shim first.
  env "$@" oclgrind "${checks_on[@]}" --build-options -cl-opt-disable \
    sh -c 'LD_PRELOAD="$0${LD_PRELOAD:+:$LD_PRELOAD}" exec "$@"' \
    "$shim" "$exe" > "$log" 2>&1 || rc=$?
  reports=$(grep -cE 'Oclgrind - |^\s*Kernel: |Invalid (read|write)|data race|Uninitialized|uninitialized|divergence|oclgrind-shadow' "$log" || true)
  checks=$(grep -oE 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -1 || true)
  echo "oclgrind ${checks_on[*]} $label: ${checks:-no result}, exit $rc, $reports report line(s), $((SECONDS - start)) s"
  grep -E '^model_node: [0-9]+ of' "$log" | grep opencl || true
  if [ "$rc" -ne 0 ] || [ "$reports" -ne 0 ] || [ -z "$checks" ]; then
    cat "$log"
    status=1
  fi
}
for exe in "$build"/tests/test_opencl*; do
  [ -f "$exe" ] && [ -x "$exe" ] || continue
  run_one "$(basename "$exe")" "$exe"
done
# Whole models on the simulated device (each also runs on ref, which
# Oclgrind does not see): the tiny models, every selected ONNX node test
# (test_model_node) and five of the exported PyTorch models (LSTM, GRU,
# decoder step, transformer layer, speech: every kernel family the runner
# uses).  Absent without the ONNX reader.
if [ -x "$build/tests/test_model" ]; then
  run_one test_model "$build/tests/test_model" \
    SEQK_MODEL_DIR="$PWD/tests/models/tiny"
  run_one test_model_node "$build/tests/test_model_node"
  run_one test_models "$build/tests/test_models" \
    SEQK_MODELS_DIR="$PWD/tests/models" \
    SEQK_MODELS_ONLY=lstm_classifier,gru_tagger,seq2seq_decoder_step,transformer_layer,speech
fi
exit $status
