#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through ctest: once in the
# normal build, once more under AddressSanitizer + UndefinedBehaviorSanitizer.
# SYNOD_SKIP_ASAN=1 skips the sanitizer pass (for quick local runs; CI always runs it).
# Then, with clang, every libFuzzer target of tests/fuzz runs for SYNOD_FUZZ_SECONDS (30) in
# build-fuzz; SYNOD_SKIP_FUZZ=1 skips that.
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

if [[ "${SYNOD_SKIP_FUZZ:-0}" != "1" ]] && command -v clang++ >/dev/null; then
  CC=clang CXX=clang++ synod_build build-fuzz -DSYNOD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSYNOD_FUZZ_SECONDS="${SYNOD_FUZZ_SECONDS:-30}"
  # One target at a time: each is bounded by -max_total_time and uses the whole machine.
  (cd "$SYNOD_ROOT/build-fuzz" && ctest --output-on-failure -L fuzz -j 1)
fi
