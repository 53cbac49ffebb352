#!/usr/bin/env bash
# Installs what is missing, builds grep11 twice (an optimised Release build
# with Debian's hardening flags, and with AddressSanitizer +
# UndefinedBehaviorSanitizer + libFuzzer targets under clang) and runs the
# whole test suite in both. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)

echo "== release build (Debian hardening flags) =="
# The flags a Debian package build adds (-O2 -D_FORTIFY_SOURCE=2
# -fstack-protector-strong -Wformat -Werror=format-security, -z relro) bring
# warnings of their own, which -Werror turns into failures: build with them
# so a packager meets none. Release's -O3 comes after -O2 and wins. CMake
# does not read CPPFLAGS, so the preprocessor flags join the compiler flags,
# as debhelper does; passing them with -D also updates an existing cache.
flag() { dpkg-buildflags --get "$1"; }
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_FLAGS="$(flag CFLAGS) $(flag CPPFLAGS)" \
  -DCMAKE_CXX_FLAGS="$(flag CXXFLAGS) $(flag CPPFLAGS)" \
  -DCMAKE_EXE_LINKER_FLAGS="$(flag LDFLAGS)" \
  -DCMAKE_SHARED_LINKER_FLAGS="$(flag LDFLAGS)" \
  -DCMAKE_MODULE_LINKER_FLAGS="$(flag LDFLAGS)"
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs" -LE fuzz)

echo "== sanitizer build (ASan + UBSan, libFuzzer targets) =="
CC=clang CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DGREP11_SANITIZE=ON -DGREP11_FUZZ=ON
cmake --build build-asan -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j"$jobs")
