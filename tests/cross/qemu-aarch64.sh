#!/bin/sh
# qemu-aarch64.sh SYSROOT PROGRAM [ARGS...]
#
# Meson's exe_wrapper for the aarch64 cross build (aarch64-linux-gnu.ini):
# runs PROGRAM under qemu-user, with the dynamic loader and libraries of
# SYSROOT (Debian arm64 packages unpacked by scripts/cross-neon.sh).
#
# Some tests start the seqk binary themselves ($SEQK_EXE: test_run,
# test_bench).  qemu-user hands a guest's execve to the host kernel, which
# runs an aarch64 binary only if binfmt_misc knows qemu — often not the case
# (containers, fresh CI machines) — so SEQK_EXE is pointed at seqk-qemu.sh,
# a host script that starts the real one under qemu again.
#
# Check's fork mode hangs under qemu-user, so CK_FORK defaults to "no" here
# (plain `meson test -C build-neon` is then safe too).
set -eu
sysroot=$1
shift
CK_FORK=${CK_FORK:-no}
export CK_FORK
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${SEQK_EXE:-}" ] && [ "$SEQK_EXE" != "$here/seqk-qemu.sh" ]; then
    SEQK_QEMU_SYSROOT=$sysroot
    SEQK_QEMU_TARGET=$SEQK_EXE
    SEQK_EXE=$here/seqk-qemu.sh
    # `seqk tune` starts its worker processes the same way
    SEQK_TUNE_WORKER=$here/seqk-qemu.sh
    export SEQK_QEMU_SYSROOT SEQK_QEMU_TARGET SEQK_EXE SEQK_TUNE_WORKER
fi
exec qemu-aarch64 -L "$sysroot" "$@"
