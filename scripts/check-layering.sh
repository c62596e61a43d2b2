#!/usr/bin/env bash
# Checks that core/ and tune/ know no backend (core/device.h): none of
# their files includes an OpenCL header (CL/*.h, seqk_opencl.h) or a
# backend-private header (anything under opencl/, cpu_simd/ or ref/), and
# none names the OpenCL build macro, the CL headers or seqk_cl_*
# functions.  Device backends reach core through their device table,
# listed in the generated seqk_devices.def.  Exit 1 with the offending
# lines otherwise.
#   bash scripts/check-layering.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dirs=(src/core src/tune)
# Headers under a backend's folder that core may include: the one ISA
# list (src/cpu_simd/isa.def) and isa.h, which says which of its entries
# this build compiled.  Both are data, no kernel contract.
allowed='[<"]cpu_simd/isa\.(def|h)[">]'
status=0

includes=$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' \
             "${dirs[@]}" || true)
bad=$(printf '%s\n' "$includes" |
      grep -E '[<"](CL/[^">]*|seqk_opencl\.h|(\.\./)*(opencl|cpu_simd|ref)/[^">]*)[">]' |
      grep -vE "$allowed" || true)
if [ -n "$bad" ]; then
  echo "check-layering: core/ and tune/ include OpenCL or backend-private" \
       "headers (use the device table, src/core/device.h):" >&2
  printf '%s\n' "$bad" >&2
  status=1
fi

names=$(grep -rn 'SEQK_HAVE_OPENCL\|CL/cl\|seqk_cl_' "${dirs[@]}" || true)
if [ -n "$names" ]; then
  echo "check-layering: core/ and tune/ name OpenCL code (only" \
       "src/opencl/ may):" >&2
  printf '%s\n' "$names" >&2
  status=1
fi

[ "$status" -eq 0 ] && echo "check-layering: core/ and tune/ know no backend"
exit "$status"
