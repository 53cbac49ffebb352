#!/usr/bin/env bash
# One command for the side-by-side benchmark (docs/performance.md):
#   scripts/bench.sh [--quick] [--threads 1,2,8,16] [--seconds S] [--rounds R]
#                    [--channels N] [--objects N] [--out DIR] [OP...]
# Builds grep11 (build/ unless BUILD is set), starts a development grep11d on
# a free loopback port (TLS, API keys on), makes a SoftHSMv2 token and a
# pkcs11-grep11.so token, then runs grep11-bench twice per operation:
#   grep11 (libgrep11 -> grep11d)      against SoftHSMv2 in-process
#   pkcs11-grep11.so (-> grep11d)      against SoftHSMv2 in-process
#   FindObjects by label through pkcs11-grep11.so among 10,000 token objects
#                                      against SoftHSMv2, among 100,000 alone
#                                      (SoftHSMv2's file store takes hours to
#                                      hold 100,000 objects)
#   pkcs11-grep11.so                   against libgrep11 (the module's cost)
# and writes DIR/{client,module,overhead}.csv, .png plots and .txt tables.
# PASSES="client module find overhead" (the default) picks the comparisons;
# GREP11D_ARGS adds options to grep11d (e.g. "--workers 4").
# --quick runs every operation for a fraction of a second (what CI does to
# prove the benchmark works; its numbers mean nothing).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$ROOT/bench-results
THREADS=1,2,8,16
OVERHEAD_THREADS=1,2,16
SECONDS_PER=2
ROUNDS=3
OBJECTS=
CHANNELS=2
OPS=()
PASSES=${PASSES:-client module find overhead}
want() { [[ " $PASSES " == *" $1 "* ]]; }
while [ $# -gt 0 ]; do
    case $1 in
    --quick) THREADS=2; OVERHEAD_THREADS=2; SECONDS_PER=0.2; ROUNDS=1; OBJECTS=200 ;;
    --threads) THREADS=$2; shift ;;
    --seconds) SECONDS_PER=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --objects) OBJECTS=$2; shift ;;
    --channels) CHANNELS=$2; shift ;;
    --out) OUT=$2; shift ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
    *) OPS+=("$1") ;;
    esac
    shift
done
if [ ${#OPS[@]} -eq 0 ]; then
    OPS=(ecdsa-p256-sign ecdsa-p256-verify ed25519-sign rsa2048-sign rsa3072-sign
        rsa2048-pss-sign rsa3072-pss-sign mldsa65-sign mldsa65-verify aes-gcm-1k aes-gcm-16k aes-gcm-1m
        aes-cbc-1k sha256-1k hmac-sha256-1k aes-keygen ec-p256-keygen random-32)
    FIND_OPS=1
else
    FIND_OPS=
fi

if [ ! -x "$BUILD/src/tools/grep11-bench" ] || [ -z "${BENCH_NO_BUILD:-}" ]; then
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD" -j"$(nproc)" --target grep11d grep11ctl grep11-bench pkcs11-grep11 \
        >/dev/null
fi
BENCH=$BUILD/src/tools/grep11-bench
MODULE=$BUILD/src/pkcs11/pkcs11-grep11.so
SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
mkdir -p "$OUT"

WORK=$(mktemp -d /tmp/grep11-bench-XXXXXX)
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

"$BUILD/src/server/grep11d" --dev --data-dir "$WORK/d" --listen 127.0.0.1:0 --log-level warn \
    ${GREP11D_ARGS:-} \
    >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do [ -s "$WORK/d/grep11d.addr" ] && break; sleep 0.1; done
ADDR=$(cat "$WORK/d/grep11d.addr")

# pkcs11-grep11.so: one token, its two keystores, a user API key as PIN.
PRIV=b3e4c400-0000-4000-8000-000000000001
PUB=b3e4c400-0000-4000-8000-000000000002
key() {
    "$BUILD/src/tools/grep11ctl" -a "$ADDR" -d "$WORK/d" apikey create --principal "$1" \
        "${@:2}" 2>/dev/null | grep '^g11k_'
}
SO=$(key bench-so --role keystore-so --role crypto --grant $PRIV --grant $PUB)
USER_PIN=$(key bench-user --role keystore-user --role crypto --grant $PRIV --grant $PUB)
ANON=$(key anonymous --role keystore-anonymous --role crypto --grant $PUB)
cat >"$WORK/grep11client.yaml" <<YAML
iam: &iam {enabled: true}
tokens:
  0:
    label: "bench"
    grep11connection:
      address: "127.0.0.1"
      port: ${ADDR##*:}
      channels: $CHANNELS
      tls: {enabled: true, cacert: "$WORK/d/tls/ca.pem"}
    storage: {remotestore: {enabled: true}}
    users:
      0: {name: so, iamauth: *iam}
      1: {name: user, tokenspaceID: "$PRIV", iamauth: *iam}
      2: {name: anonymous, tokenspaceID: "$PUB", iamauth: {<<: *iam, apikey: "$ANON"}}
logging: {loglevel: error, logpath: "$WORK/module.log"}
YAML
export GREP11_CLIENT_CONFIG=$WORK/grep11client.yaml
pkcs11-tool --module "$MODULE" --init-token --so-pin "$SO" --label bench >/dev/null

eval "$(bash "$ROOT/scripts/softhsm-setup.sh" "$WORK/softhsm")"

common=(--threads "$THREADS" --seconds "$SECONDS_PER" --rounds "$ROUNDS" --address "$ADDR"
    --data-dir "$WORK/d")
[ -n "$OBJECTS" ] && common+=(--objects "$OBJECTS")
common+=(--channels "$CHANNELS")
soft="pkcs11=$SOFTHSM,slot=$SOFTHSM_SLOT,pin=1234,label=softhsm"
# The user's API key reaches grep11-bench through its environment, not its
# command line (which every local user can read in the process list).
export GREP11_BENCH_PIN=$USER_PIN
ours="pkcs11=$MODULE,slot=0,pin-env=GREP11_BENCH_PIN,label=pkcs11-grep11"

: >"$OUT/client.txt"
: >"$OUT/module.txt"
: >"$OUT/overhead.txt"
if want client; then
    echo "== libgrep11 -> grep11d vs SoftHSMv2 (threads $THREADS) =="
    "$BENCH" "${common[@]}" --target grep11 --target "$soft" --csv "$OUT/client.csv" \
        --plot "$OUT/client.png" "${OPS[@]}" | tee "$OUT/client.txt"
fi
if want module; then
    echo "== pkcs11-grep11.so -> grep11d vs SoftHSMv2 (threads $THREADS) =="
    "$BENCH" "${common[@]}" --target "$ours" --target "$soft" --csv "$OUT/module.csv" \
        --plot "$OUT/module.png" "${OPS[@]}" | tee "$OUT/module.txt"
fi
: >"$OUT/find.txt"
if want find && [ -n "$FIND_OPS" ]; then
    echo "== FindObjects by label: pkcs11-grep11.so vs SoftHSMv2 (threads $OVERHEAD_THREADS) =="
    "$BENCH" "${common[@]}" --threads "$OVERHEAD_THREADS" --target "$ours" --target "$soft" \
        --csv "$OUT/find10k.csv" find-label-10k | tee "$OUT/find.txt"
    "$BENCH" "${common[@]}" --threads "$OVERHEAD_THREADS" --target "$ours" \
        --csv "$OUT/find100k.csv" find-label-100k | tee -a "$OUT/find.txt"
fi
if want overhead; then
    echo "== pkcs11-grep11.so vs libgrep11: what the module adds (threads $OVERHEAD_THREADS) =="
    "$BENCH" "${common[@]}" --threads "$OVERHEAD_THREADS" --target "$ours" --target grep11 \
        --csv "$OUT/overhead.csv" random-32 ecdsa-p256-sign rsa2048-sign aes-gcm-1k |
        tee "$OUT/overhead.txt"
fi
# grep11-bench exits non-zero when an operation fails while timing; an
# operation a target cannot do says "not available". SoftHSMv2 lacks some
# (ML-DSA); ours must do every one.
if grep -E '^[a-z0-9-]+ +(grep11|pkcs11-grep11) .*(not available|failed)' \
    "$OUT/client.txt" "$OUT/module.txt" "$OUT/find.txt" "$OUT/overhead.txt"; then
    echo "bench.sh: grep11 could not run an operation (above)" >&2
    exit 1
fi
