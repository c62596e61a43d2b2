#!/bin/sh
# Stands in for $SEQK_EXE in the aarch64 cross build's tests: runs the
# aarch64 seqk binary under qemu-user (see qemu-aarch64.sh for why).
exec qemu-aarch64 -L "$SEQK_QEMU_SYSROOT" "$SEQK_QEMU_TARGET" "$@"
