#!/usr/bin/env bash
# Checks that a built libseqk.so exports exactly the functions the public
# headers mark SEQK_API: no internal symbol (seqk__*, kernels, drivers)
# leaks into the ABI, and no public function is missing.
#   bash scripts/check-exports.sh build/src/libseqk.so [include/]
set -euo pipefail
so=${1:?usage: check-exports.sh path/to/libseqk.so [include-dir]}
inc=${2:-$(dirname "$0")/../include}
# readelf reads any architecture's ELF (the NEON cross build runs this too)
exports=$(readelf --dyn-syms -W "$so" |
          awk '$7 != "UND" && ($5 == "GLOBAL" || $5 == "WEAK") &&
               ($4 == "FUNC" || $4 == "OBJECT") {sub(/@.*/, "", $8); print $8}' |
          sort -u)
api=$(grep -ho 'SEQK_API [^(]*(' "$inc"/seqk*.h | grep -o 'seqk_[a-z_0-9]*(' |
      tr -d '(' | sort -u)
# seqk_opencl.h's functions exist only in builds with OpenCL.
if ! grep -q '^seqk_opencl_' <<<"$exports"; then
  api=$(grep -v '^seqk_opencl_' <<<"$api")
fi
extra=$(comm -23 <(echo "$exports") <(echo "$api"))
missing=$(comm -13 <(echo "$exports") <(echo "$api"))
status=0
if [ -n "$extra" ]; then
  echo "check-exports: $so exports symbols that are not SEQK_API:" >&2
  echo "$extra" >&2
  status=1
fi
if [ -n "$missing" ]; then
  echo "check-exports: SEQK_API functions missing from $so:" >&2
  echo "$missing" >&2
  status=1
fi
[ "$status" -eq 0 ] && echo "check-exports: $(wc -l <<<"$exports") symbols, all SEQK_API"
exit "$status"
