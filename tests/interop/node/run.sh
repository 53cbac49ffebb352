#!/usr/bin/env bash
# Interop runner: installs the pinned npm packages (npm ci, once per
# package-lock.json), starts `grep11d --dev` in a temporary directory with a
# gRPC and an HTTPS listener, runs grep11_node_test.js against it, then
# stops grep11d with SIGTERM and checks that it exited 0.
#
# Usage: run.sh GREP11D
# Exit: 0 all passed; 77 skipped (no `node` on PATH); anything else failed.
set -euo pipefail

GREP11D=${1:?usage: run.sh GREP11D}
HERE=$(cd "$(dirname "$0")" && pwd)

if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: node is not installed (scripts/install-deps.sh installs Debian's nodejs and npm)"
  exit 77
fi
echo "node $(node --version)"

# ---- npm packages, exactly as package-lock.json pins them ----------------
install_modules() {
  local stamp="$HERE/node_modules/.grep11-lock-stamp"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$HERE/package-lock.json"; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "FAIL: npm is not installed and $HERE/node_modules is not up to date"
    return 1
  fi
  echo "npm ci in $HERE"
  (cd "$HERE" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  cp "$HERE/package-lock.json" "$stamp"
}
# Two build trees may run this at once: one npm ci at a time.
exec 9>"$HERE/.npm-install.lock"
flock 9
install_modules
flock -u 9

# ---- grep11d ---------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/grep11-node-interop.XXXXXX")
DATA="$TMP/data"
mkdir "$DATA"
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

show_log() {
  echo "---- grep11d log (last 40 lines) ----"
  tail -n 40 "$TMP/server.log" || true
  echo "-------------------------------------"
}

"$GREP11D" --dev -d "$DATA" --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 >"$TMP/server.log" 2>&1 &
PID=$!

for _ in $(seq 1 600); do
  if [ -s "$DATA/grep11d.addr" ] && [ -s "$DATA/grep11d.http-addr" ]; then
    break
  fi
  if ! kill -0 "$PID" 2>/dev/null; then
    wait "$PID" && rc=0 || rc=$?
    PID=""
    echo "FAIL: grep11d exited early (status $rc)"
    show_log
    exit 1
  fi
  sleep 0.05
done
if ! [ -s "$DATA/grep11d.addr" ] || ! [ -s "$DATA/grep11d.http-addr" ]; then
  echo "FAIL: grep11d did not write grep11d.addr and grep11d.http-addr within 30 s"
  show_log
  exit 1
fi
echo "grep11d pid $PID: gRPC $(cat "$DATA/grep11d.addr"), HTTPS $(cat "$DATA/grep11d.http-addr")"

test_rc=0
node "$HERE/grep11_node_test.js" "$DATA" || test_rc=$?

kill -TERM "$PID" 2>/dev/null || true
server_rc=0
for _ in $(seq 1 600); do
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.05
done
if kill -0 "$PID" 2>/dev/null; then
  echo "FAIL: grep11d still running 30 s after SIGTERM"
  server_rc=1
else
  wait "$PID" || server_rc=$?
  PID=""
  [ "$server_rc" -eq 0 ] || echo "FAIL: grep11d exited with status $server_rc after SIGTERM"
fi

if [ "$test_rc" -ne 0 ] || [ "$server_rc" -ne 0 ]; then
  show_log
  exit 1
fi
exit 0
