#!/usr/bin/env bash
# The example decodes the same tokens on every device: ref (the oracle)
# against avx512, avx2 and opencl:0.0 with the same seeded weights, greedy
# and beam search.  A device this machine lacks is skipped.
#   check_devices.sh path/to/seq2seq_decode
set -euo pipefail
exe="$1"
common=(--threads 1 --repeats 1 --steps 12 --src-len 20)
tokens() { grep '^tokens\[' <<<"$1"; }
err="$(mktemp)"
trap 'rm -f "$err"' EXIT
status=0
for mode in "--batch 3" "--batch 2 --beam 3"; do
  # shellcheck disable=SC2086
  want="$("$exe" --device ref "${common[@]}" $mode)"
  for dev in avx512 avx2 opencl:0.0; do
    # shellcheck disable=SC2086
    if ! got="$("$exe" --device "$dev" "${common[@]}" $mode 2>"$err")"; then
      if grep -q '^context:' "$err"; then
        echo "skip $dev ($mode): $(cat "$err")"
        continue
      fi
      cat "$err" >&2
      status=1
      continue
    fi
    if [ "$(tokens "$want")" = "$(tokens "$got")" ]; then
      echo "ok   $dev ($mode): $(tokens "$got" | head -1)"
    else
      echo "FAIL $dev ($mode): tokens differ from ref" >&2
      diff <(tokens "$want") <(tokens "$got") >&2 || true
      status=1
    fi
  done
done
exit $status
