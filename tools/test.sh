#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through ctest: once in the
# normal build, once more under AddressSanitizer + UndefinedBehaviorSanitizer.
# SYNOD_SKIP_ASAN=1 skips the sanitizer pass (for quick local runs; CI always runs it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
synod_install_deps
jobs="$(nproc)"

synod_build build
(cd "$SYNOD_ROOT/build" && ctest --output-on-failure --timeout 900 -j "$jobs")

if [[ "${SYNOD_SKIP_ASAN:-0}" != "1" ]]; then
  synod_build build-asan -DSYNOD_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  # The sanitizer pass runs the same tests; the simulator sweeps fewer seeds there.
  (cd "$SYNOD_ROOT/build-asan" && SYNOD_SIM_SEEDS_SCALE=0.1 \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --output-on-failure --timeout 900 -j "$jobs")
fi
