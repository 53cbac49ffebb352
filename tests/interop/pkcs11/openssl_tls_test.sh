#!/usr/bin/env bash
# OpenSSL 3 with the libp11 engine (libengine-pkcs11-openssl) uses keys that
# live in grep11: EC P-256 and RSA-2048 key pairs made on the token by
# pkcs11-tool, a self-signed certificate signed through the engine
# (`openssl req -engine pkcs11 -keyform engine`), then real TLS handshakes:
# `openssl s_server` holding the token key, `openssl s_client` verifying the
# certificate and host name, a line sent to the server and its echo received.
# TLS 1.3 (ECDSA, RSA-PSS) and TLS 1.2 (ECDSA, RSA PKCS #1 v1.5
# signatures); RSA decryption through the engine (PKCS #1 v1.5, OAEP); ECDH
# (`openssl pkeyutl -derive`) against an OpenSSL peer key.
# Usage: openssl_tls_test.sh GREP11D MODULE GREP11CTL
set -euo pipefail
. "$(dirname "$0")/lib.sh"
g11_need pkcs11-tool opensc
g11_need openssl openssl
# The engine lives in OpenSSL's engine directory (ENGINESDIR).
ENGINE=$(openssl version -e | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')/pkcs11.so
[ -f "$ENGINE" ] || { echo "SKIP: $ENGINE missing (Debian package libengine-pkcs11-openssl)"; exit 77; }
g11_setup openssl "$@"
g11_init_token tls

# A private configuration: the system one must not decide which engine or
# module is used. The PIN (the user's API key) stays in this file in $DIR.
cat >"$DIR/openssl.cnf" <<CNF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE
MODULE_PATH = $MODULE
PIN = $UPIN
init = 0
CNF
export OPENSSL_CONF=$DIR/openssl.cnf

out=$(openssl engine -t -c pkcs11 2>&1) || fail "engine: $out"
grep -q "\[ available \]" <<<"$out" || fail "engine not available: $out"
ok "libp11 engine loads with our module"

# $1: key name (label and CKA_ID), $2: pkcs11-tool key type.
make_cert() {
    local name=$1 type=$2 id=$3 out
    g11_token_keypair "$name" "$id" "$type" "$DIR/$name.pub"
    out=$(openssl req -new -x509 -engine pkcs11 -keyform engine \
        -key "pkcs11:token=tls;object=$name;type=private" -sha256 -days 1 \
        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" \
        -out "$DIR/$name.pem" 2>&1) || fail "req -x509 with the $name token key: $out"
    # The certificate carries the token's public key and verifies under it.
    openssl x509 -in "$DIR/$name.pem" -noout -pubkey >"$DIR/$name.certpub.pem"
    cmp -s "$DIR/$name.pub.pem" "$DIR/$name.certpub.pem" ||
        fail "$name certificate does not hold the token's public key"
    out=$(openssl verify -CAfile "$DIR/$name.pem" "$DIR/$name.pem" 2>&1) ||
        fail "$name self-signed certificate does not verify: $out"
}

# One TLS connection: s_server with the token key (engine) answers the line
# the client sends with the line reversed (-rev), then closes on "CLOSE".
# $1: key name, $2...: extra s_client options (protocol version, sigalgs).
handshake() {
    local name=$1 pid port out line
    shift
    rm -f "$DIR/srv.out"
    timeout 40 openssl s_server -engine pkcs11 -keyform engine \
        -key "pkcs11:token=tls;object=$name;type=private" -cert "$DIR/$name.pem" \
        -accept 127.0.0.1:0 -naccept 1 -rev </dev/null >"$DIR/srv.out" 2>&1 &
    pid=$!
    g11_track $pid
    # Port 0 again: the server prints the port it was given.
    for _ in $(seq 1 200); do
        grep -q '^ACCEPT' "$DIR/srv.out" 2>/dev/null && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.1
    done
    port=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$DIR/srv.out")
    [ -n "$port" ] || fail "s_server did not start: $(cat "$DIR/srv.out")"

    line="grep11 over TLS $name $RANDOM"
    out=$(printf '%s\nCLOSE\n' "$line" | timeout 20 openssl s_client -connect "127.0.0.1:$port" \
        -CAfile "$DIR/$name.pem" -verify_return_error -verify_hostname localhost -ign_eof \
        "$@" 2>&1) || fail "s_client ($name $*): $out"$'\n'"server: $(cat "$DIR/srv.out")"
    wait $pid || fail "s_server ($name) failed: $(cat "$DIR/srv.out")"
    grep -q "Verify return code: 0 (ok)" <<<"$out" || fail "certificate not verified: $out"
    grep -qxF "$(rev <<<"$line")" <<<"$out" || fail "the server did not get the line: $out"
    PROTO=$(sed -n 's/^ *Protocol *: *//p' <<<"$out" | head -n1)
    SIGALG=$(sed -n 's/^Peer signature type: //p' <<<"$out" | head -n1)
}

make_cert tls-ec EC:prime256v1 31
ok "EC P-256 key pair on the token; self-signed certificate signed through the engine"
handshake tls-ec -tls1_3
[ "$PROTO" = TLSv1.3 ] && [ "$SIGALG" = ECDSA ] || fail "EC handshake: $PROTO $SIGALG"
ok "TLS 1.3 handshake, ECDSA P-256 server key in grep11: verified, data echoed"
handshake tls-ec -tls1_2
[ "$PROTO" = TLSv1.2 ] && [ "$SIGALG" = ECDSA ] || fail "EC handshake: $PROTO $SIGALG"
ok "TLS 1.2 handshake, ECDSA P-256 server key in grep11"

make_cert tls-rsa rsa:2048 32
ok "RSA-2048 key pair on the token; self-signed certificate signed through the engine"
handshake tls-rsa -tls1_3
[ "$PROTO" = TLSv1.3 ] && [ "$SIGALG" = RSA-PSS ] || fail "RSA handshake: $PROTO $SIGALG"
ok "TLS 1.3 handshake, RSA-PSS signature by the RSA-2048 key in grep11"
# Only PKCS #1 v1.5 signatures offered: the server key signs with CKM_RSA_PKCS.
handshake tls-rsa -tls1_2 -sigalgs RSA+SHA256
[ "$PROTO" = TLSv1.2 ] && [ "$SIGALG" = RSA ] || fail "RSA handshake: $PROTO $SIGALG"
ok "TLS 1.2 handshake, RSA PKCS #1 v1.5 signature by the key in grep11"

# TLS 1.2 RSA key exchange is not tested: OpenSSL 3's server asks the key
# for RSA_PKCS1_WITH_TLS_PADDING, which keys of a (legacy) engine cannot do
# ("illegal or unsupported padding mode" before any PKCS #11 call). The
# engine's RSA decryption itself works, PKCS #1 v1.5 and OAEP:
printf 'for the token only' >"$DIR/pt"
for pad in pkcs1 oaep; do
    openssl pkeyutl -encrypt -pubin -inkey "$DIR/tls-rsa.pub.pem" -in "$DIR/pt" -out "$DIR/ct" \
        -pkeyopt rsa_padding_mode:$pad
    got=$(openssl pkeyutl -decrypt -engine pkcs11 -keyform engine -in "$DIR/ct" \
        -inkey "pkcs11:token=tls;object=tls-rsa;type=private" -pkeyopt rsa_padding_mode:$pad \
        2>"$DIR/err") || fail "engine decrypt ($pad): $(cat "$DIR/err")"
    [ "$got" = "for the token only" ] || fail "engine decrypt ($pad): $got"
done
ok "openssl pkeyutl -decrypt through the engine: RSA PKCS #1 v1.5 and OAEP"

# ECDH through the engine: the token's P-256 key and an OpenSSL peer key
# agree on the secret OpenSSL derives with the peer's private key.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DIR/peer.pem" 2>/dev/null
openssl pkey -in "$DIR/peer.pem" -pubout -out "$DIR/peer.pub.pem"
openssl pkeyutl -derive -engine pkcs11 -keyform engine \
    -inkey "pkcs11:token=tls;object=tls-ec;type=private" -peerkey "$DIR/peer.pub.pem" \
    -out "$DIR/dh.got" 2>"$DIR/err" || fail "engine derive: $(cat "$DIR/err")"
openssl pkeyutl -derive -inkey "$DIR/peer.pem" -peerkey "$DIR/tls-ec.pub.pem" -out "$DIR/dh.want"
[ "$(wc -c <"$DIR/dh.want")" = 32 ] || fail "OpenSSL secret size"
cmp -s "$DIR/dh.got" "$DIR/dh.want" || fail "ECDH secrets differ (engine vs OpenSSL)"
ok "openssl pkeyutl -derive through the engine: ECDH P-256 secret equals OpenSSL's"

echo "time: $(g11_elapsed) s"
g11_done
