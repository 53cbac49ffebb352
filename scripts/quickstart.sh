#!/usr/bin/env bash
# Installs what is missing, builds grep11 and starts grep11d in development
# mode: data in ./grep11-data (development master key, CA and server
# certificate created on first start), listening on 127.0.0.1:9876.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target grep11d grep11ctl
echo
echo "grep11ctl is at build/src/tools/grep11ctl; stop the server with Ctrl-C."
exec build/src/server/grep11d --dev --data-dir "${GREP11_DATA_DIR:-grep11-data}" \
     --listen "${GREP11_LISTEN:-127.0.0.1:9876}"
