#!/usr/bin/env bash
# Installs the Debian packages seqk needs that are not installed yet.
# Every dependency comes from Debian 12's archive; README.md says why each
# is there.  Runs apt-get as root, or through sudo when not root.
set -euo pipefail

PACKAGES=(
  gcc g++ meson ninja-build pkg-config   # build
  check                                  # unit tests (Check)
  libcjson-dev                           # JSON: bench output, tuning DB
  libsleef-dev                           # vector math for SIMD kernels
  libcpuinfo-dev                         # CPU features, caches, cores
  ocl-icd-opencl-dev opencl-headers      # OpenCL ICD loader + headers
  pocl-opencl-icd                        # the OpenCL device on this CPU
  libclblast-dev                         # CLBlast, the second GEMM path
  libprotobuf-c-dev protobuf-c-compiler  # ONNX protobufs (tests)
  libonnx-dev                            # onnx.proto (tests)
  libonnx-testdata                       # ONNX backend node tests
  python3-venv                           # Python package: its test venv
  python3-numpy                          # Python package: arrays in and out
  python3-torch                          # Python tests: compare with PyTorch
  python3-onnx                           # test models: export + checker (tests/models)
  python3-matplotlib python3-pytest      # seqk.report charts + its test
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
  --no-install-recommends "${missing[@]}"
