#!/usr/bin/env bash
# OpenSC pkcs11-tool (and GnuTLS p11tool, when installed) drive
# pkcs11-grep11.so against a real grep11d: slots, mechanisms, random bytes,
# digests, login with an API key as PIN, a wrong PIN, token objects pending.
# Usage: pkcs11_tool_test.sh GREP11D MODULE
set -euo pipefail
GREP11D=$1
MODULE=$2
command -v pkcs11-tool >/dev/null || { echo "pkcs11-tool missing (Debian package opensc)"; exit 77; }

DIR=$(mktemp -d /tmp/grep11-p11tool-XXXXXX)
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT

"$GREP11D" --dev --data-dir "$DIR" --listen 127.0.0.1:0 >"$DIR/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do [ -s "$DIR/grep11d.addr" ] && break; sleep 0.1; done
ADDR=$(cat "$DIR/grep11d.addr")
KEY=$(cat "$DIR/dev-apikey")

cat >"$DIR/grep11client.yaml" <<YAML
iam: &iam {enabled: true}
tokens:
  0:
    label: "interop"
    grep11connection:
      address: "127.0.0.1"
      port: ${ADDR##*:}
      tls: {enabled: true, cacert: "$DIR/tls/ca.pem"}
    users:
      1: {name: user, iamauth: *iam}
      2: {name: anonymous, iamauth: {<<: *iam, apikey: "$KEY"}}
logging: {loglevel: error, logpath: "$DIR/module.log"}
YAML
export GREP11_CLIENT_CONFIG=$DIR/grep11client.yaml
P11() { pkcs11-tool --module "$MODULE" "$@"; }
fail() { echo "FAIL: $*"; cat "$DIR/module.log" 2>/dev/null || true; exit 1; }
passed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }

out=$(P11 -L 2>&1) || fail "list slots: $out"
grep -q "token label *: interop" <<<"$out" || fail "no token label in: $out"
ok "list slots"

out=$(P11 -I 2>&1) || fail "module info: $out"
grep -q "Cryptoki version 3.0" <<<"$out" || fail "no version in: $out"
ok "module info"

out=$(P11 -M 2>&1) || fail "list mechanisms: $out"
for m in AES-KEY-GEN AES-CBC-PAD SHA256 SHA256-HMAC; do
    grep -q "$m" <<<"$out" || fail "mechanism $m not listed: $out"
done
ok "list mechanisms"

n=$(P11 --generate-random 64 2>/dev/null | wc -c)
[ "$n" = 64 ] || fail "random: $n bytes"
ok "generate random"

printf 'grep11 interop' >"$DIR/msg"
got=$(P11 --hash -m SHA256 -i "$DIR/msg" 2>/dev/null | od -An -tx1 | tr -d ' \n')
want=$(sha256sum "$DIR/msg" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "digest $got != $want"
got=$(P11 --hash -m SHA512 -i "$DIR/msg" 2>/dev/null | od -An -tx1 | tr -d ' \n')
want=$(sha512sum "$DIR/msg" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "SHA-512 digest"
ok "digest SHA-256, SHA-512"

out=$(P11 --login --pin "$KEY" --list-objects 2>&1) || fail "login: $out"
ok "login with the API key as PIN"

if out=$(P11 --login --pin "g11k_AAAAAAAAAAAAAAAA.wrong" --list-objects 2>&1); then
    fail "a wrong PIN logged in: $out"
fi
grep -q "CKR_PIN_INCORRECT" <<<"$out" || fail "wrong PIN: $out"
ok "wrong PIN refused"

# pkcs11-tool makes token objects only; they wait for grep11.Store.
if out=$(P11 --keygen --key-type AES:32 --label k 2>&1); then
    fail "token key generation unexpectedly worked: $out"
fi
grep -q "CKR_FUNCTION_NOT_SUPPORTED" <<<"$out" || fail "token keygen: $out"
ok "token objects answer CKR_FUNCTION_NOT_SUPPORTED (grep11.Store pending)"

# GnuTLS p11tool through p11-kit (--provider: no system registration needed).
if command -v p11tool >/dev/null; then
    out=$(p11tool --provider "$MODULE" --list-tokens 2>&1) || fail "p11tool tokens: $out"
    grep -q "Label: interop" <<<"$out" || fail "p11tool: no token in: $out"
    n=$(p11tool --provider "$MODULE" --generate-random 48 "pkcs11:token=interop" 2>/dev/null | wc -c)
    [ "$n" = 48 ] || fail "p11tool random: $n bytes"
    out=$(p11tool --provider "$MODULE" --list-mechanisms "pkcs11:token=interop" 2>&1) ||
        fail "p11tool mechanisms: $out"
    grep -q "CKM_AES_CBC_PAD" <<<"$out" || fail "p11tool mechanisms: $out"
    ok "GnuTLS p11tool: tokens, random, mechanisms"
fi

echo "$passed passed, 0 failed"
