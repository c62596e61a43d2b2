#!/usr/bin/env bash
# The decode-step figures (issue 11 item 3) as ratios from one run:
# keyed vs per-call SeqAttention, the linear plan at batch 1 vs the
# per-call GEMM and vs the read bandwidth of the same bytes on the same
# threads (bench/decode.c).  Run on avx512 and, masked, on avx2:
#   bash bench/decode.sh [BUILD_DIR]      (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
exe="$build/bench-decode"
"${CC:-cc}" -O2 -std=c11 -Wall -Wextra -Werror -pthread -Iinclude \
  bench/decode.c -o "$exe" -L"$build/src" -Wl,-rpath,"$PWD/$build/src" -lseqk
for mask in "" avx512; do
  echo "== SEQK_DISABLE_CPU_FEATURES=${mask:-(none)}"
  SEQK_DISABLE_CPU_FEATURES="$mask" nice "$exe" cpu
done
