#!/usr/bin/env bash
# Sums the Check results of a meson test run (from its testlog.txt) into
# one closing line, "checks: N passed, N failed".
set -euo pipefail
log="$1/meson-logs/testlog.txt"
awk '/[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) {
         if ($i == "Checks:") c += $(i+1);
         if ($i == "Failures:") f += $(i+1);
         if ($i == "Errors:") f += $(i+1) } }
     END { printf "checks: %d passed, %d failed\n", c - f, f }' "$log"
