#!/usr/bin/env bash
# Go interop: builds tests/interop/go/main.go with Debian's Go toolchain and
# packaged Go sources (offline, GOPATH mode), generating the gRPC stubs from
# our proto files at build time, then runs it against a fresh grep11d.
#
# Usage: run.sh GREP11D PROTO_DIR WORK_DIR
#   GREP11D    the grep11d binary of this build tree
#   PROTO_DIR  the project's proto/ directory (server.proto, errors.proto)
#   WORK_DIR   build-tree directory for the generated code, GOCACHE and binary
#
# Exit status: 0 all passed; 77 (ctest SKIP_RETURN_CODE) only when the Go
# toolchain or Debian's Go packages are missing; anything else is a failure.
set -uo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 GREP11D PROTO_DIR WORK_DIR" >&2
  exit 2
fi
GREP11D=$1
PROTO_DIR=$2
WORK=$3
GOCODE=/usr/share/gocode/src

skip() {
  echo "SKIP: $* (bash scripts/install-deps.sh installs it)"
  exit 77
}
fail() {
  echo "FAIL  $*"
  exit 1
}

# ---- toolchain and packages (missing: skip) --------------------------------
for tool in go protoc protoc-gen-go protoc-gen-go-grpc; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool not found"
done
for dir in google.golang.org/grpc google.golang.org/protobuf \
           google.golang.org/genproto/googleapis/rpc/status \
           github.com/golang/protobuf golang.org/x/net/http2; do
  [ -d "$GOCODE/$dir" ] || skip "Go package $dir not in $GOCODE"
done
# grpc-go needs github.com/golang/protobuf 1.4+ (built on APIv2) alongside
# the APIv2 code protoc-gen-go writes; Debian's 1.3 (golang-goprotobuf-dev)
# cannot serve it.
grep -q 'google.golang.org/protobuf' "$GOCODE/github.com/golang/protobuf/proto/proto.go" 2>/dev/null ||
  skip "github.com/golang/protobuf in $GOCODE is not v1.5 (golang-github-golang-protobuf-1-5-dev)"

SRC_DIR=$(cd "$(dirname "$0")" && pwd)
[ -x "$GREP11D" ] || fail "grep11d not found at $GREP11D"
[ -f "$PROTO_DIR/server.proto" ] || fail "no server.proto in $PROTO_DIR"

mkdir -p "$WORK" && WORK=$(cd "$WORK" && pwd) || fail "cannot create $WORK"

# ---- build: GOPATH mode, no network ------------------------------------------
# Debian ships Go libraries as source under /usr/share/gocode; GOPATH mode
# finds them there with no go.mod, go.sum or module proxy. The generated
# package sits in WORK's own GOPATH entry as grep11interop/pb.
export GO111MODULE=off
export GOPATH="$WORK/gopath:/usr/share/gocode"
export GOCACHE="$WORK/gocache"
export GOFLAGS=
export GOPROXY=off
export GOTOOLCHAIN=local
export CGO_ENABLED=0
GEN="$WORK/gopath/src"
BIN="$WORK/grep11-go-interop"

rm -rf "$GEN/grep11interop"
mkdir -p "$GEN"
# The protos carry no go_package: the M options name the Go import path.
M="Mserver.proto=grep11interop/pb,Merrors.proto=grep11interop/pb"
protoc -I"$PROTO_DIR" \
  --go_out="$GEN" --go_opt="$M" \
  --go-grpc_out="$GEN" --go-grpc_opt="$M" \
  "$PROTO_DIR/server.proto" "$PROTO_DIR/errors.proto" || fail "protoc failed"
echo "build: $(go version), stubs by $(protoc-gen-go --version) and $(protoc-gen-go-grpc --version)"
go build -p 1 -o "$BIN" "$SRC_DIR/main.go" || fail "go build failed"

# ---- grep11d in a temporary directory ----------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/grep11-go-interop.XXXXXX") || fail "mktemp"
DATA="$TMP/data"
PID=
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -KILL "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
show_log() {
  echo "---- grep11d log ----"
  cat "$TMP/grep11d.log" 2>/dev/null
  echo "---------------------"
}

"$GREP11D" --dev -d "$DATA" --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
  >"$TMP/grep11d.log" 2>&1 &
PID=$!

for _ in $(seq 1 600); do
  if [ -s "$DATA/grep11d.addr" ] && [ -s "$DATA/grep11d.http-addr" ]; then
    break
  fi
  kill -0 "$PID" 2>/dev/null || { show_log; fail "grep11d exited before listening"; }
  sleep 0.05
done
[ -s "$DATA/grep11d.addr" ] && [ -s "$DATA/grep11d.http-addr" ] ||
  { show_log; fail "grep11d did not write its address files within 30 s"; }
ADDR=$(head -n1 "$DATA/grep11d.addr")
HTTP_ADDR=$(head -n1 "$DATA/grep11d.http-addr")
APIKEY=$(head -n1 "$DATA/dev-apikey")
[ -n "$APIKEY" ] || { show_log; fail "no API key in $DATA/dev-apikey"; }

# Only the four variables an IBM Go example reads configure the program.
timeout 300 env -i \
  GREP11_ADDRESS="$ADDR" \
  GREP11_APIKEY="$APIKEY" \
  GREP11_IAMENDPOINT="https://$HTTP_ADDR" \
  SSL_CERT_FILE="$DATA/tls/ca.pem" \
  "$BIN"
rc=$?

# ---- stop grep11d: SIGTERM, exit status 0 ------------------------------------
kill -TERM "$PID" 2>/dev/null
for _ in $(seq 1 300); do
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$PID" 2>/dev/null; then
  show_log
  fail "grep11d still running 30 s after SIGTERM"
fi
wait "$PID"
server_rc=$?
PID=
if [ "$rc" -ne 0 ] || [ "$server_rc" -ne 0 ]; then
  show_log
  [ "$server_rc" -eq 0 ] || echo "FAIL  grep11d exited with status $server_rc after SIGTERM"
  [ "$rc" -eq 0 ] || echo "FAIL  grep11-go-interop exited with status $rc"
  exit 1
fi
exit 0
