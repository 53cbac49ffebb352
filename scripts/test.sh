#!/usr/bin/env bash
# Installs what is missing, builds grep11 twice (normal, and with
# AddressSanitizer + UndefinedBehaviorSanitizer + libFuzzer targets under
# clang) and runs the whole test suite in both. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)

echo "== normal build =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs" -LE fuzz)

echo "== sanitizer build (ASan + UBSan, libFuzzer targets) =="
CC=clang CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DGREP11_SANITIZE=ON -DGREP11_FUZZ=ON
cmake --build build-asan -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j"$jobs")
