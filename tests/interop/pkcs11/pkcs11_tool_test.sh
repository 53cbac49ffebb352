#!/usr/bin/env bash
# OpenSC pkcs11-tool (and GnuTLS p11tool, when installed) drive
# pkcs11-grep11.so against a real grep11d: slots, mechanisms, random bytes,
# digests, login with an API key as PIN, a wrong PIN; C_InitToken with the
# SO's key, token objects in the keystores (AES key made, listed by a new
# process, deleted), EC and RSA key pairs, sign/verify (checked by OpenSSL),
# pkcs11-tool --test and --test-ec, Ed25519 (keypairgen, EDDSA signature
# verified by OpenSSL), ECDH with an OpenSSL peer (--derive), CKA_UNIQUE_ID,
# p11tool --list-all and --test-sign.
# Usage: pkcs11_tool_test.sh GREP11D MODULE GREP11CTL
set -euo pipefail
. "$(dirname "$0")/lib.sh"
g11_need pkcs11-tool opensc
g11_setup p11tool "$@"

out=$(P11 -L 2>&1) || fail "list slots: $out"
grep -q "token state: *uninitialized" <<<"$out" || fail "keystores absent, yet: $out"
ok "list slots (keystores not created yet: uninitialized)"

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

# --- the token: C_InitToken with the SO's API key as SO PIN ---
if out=$(P11 --init-token --so-pin "$UPIN" --label interop 2>&1); then
    fail "the user's key initialised the token: $out"
fi
grep -q "CKR_PIN_INCORRECT" <<<"$out" || fail "init-token, wrong SO PIN: $out"
out=$(P11 --init-token --so-pin "$SO" --label interop 2>&1) || fail "init-token: $out"
out=$(P11 -L 2>&1) || fail "list slots: $out"
grep -q "token label *: interop" <<<"$out" || fail "no new token label in: $out"
grep -q "token initialized" <<<"$out" || fail "not initialized: $out"
ok "init-token with the SO's API key (a wrong one: CKR_PIN_INCORRECT); label from the keystore"

out=$(U --list-objects 2>&1) || fail "login: $out"
ok "login with the API key as PIN"

if out=$(P11 --login --pin "g11k_AAAAAAAAAAAAAAAA.wrong" --list-objects 2>&1); then
    fail "a wrong PIN logged in: $out"
fi
grep -q "CKR_PIN_INCORRECT" <<<"$out" || fail "wrong PIN: $out"
ok "wrong PIN refused"

# --- token objects: made, seen by another process, deleted ---
out=$(U --keygen --key-type AES:32 --label aes1 2>&1) || fail "AES token key: $out"
out=$(U --list-objects --type secrkey 2>&1) || fail "list: $out"
grep -q "label: *aes1" <<<"$out" || fail "aes1 not listed: $out"
out=$(U --delete-object --type secrkey --label aes1 2>&1) || fail "delete: $out"
out=$(U --list-objects --type secrkey 2>&1) || fail "list: $out"
grep -q "aes1" <<<"$out" && fail "aes1 still listed: $out"
ok "AES-256 token key: keygen, list-objects (new process), delete-object"

# --- key pairs ---
out=$(U --keypairgen --key-type EC:prime256v1 --label ec1 --id 01 2>&1) || fail "EC pair: $out"
U --sign -m ECDSA-SHA256 --id 01 -i "$DIR/msg" -o "$DIR/sig" >/dev/null 2>&1 || fail "sign"
out=$(U --verify -m ECDSA-SHA256 --id 01 -i "$DIR/msg" --signature-file "$DIR/sig" 2>&1) ||
    fail "verify: $out"
grep -q "Signature is valid" <<<"$out" || fail "verify: $out"
U --sign -m ECDSA-SHA256 --id 01 -i "$DIR/msg" -o "$DIR/sig.der" --signature-format openssl \
    >/dev/null 2>&1 || fail "sign (DER)"
P11 --read-object --type pubkey --id 01 -o "$DIR/ec.der" >/dev/null 2>&1 || fail "read pubkey"
openssl pkey -pubin -inform DER -in "$DIR/ec.der" -out "$DIR/ec.pem" 2>/dev/null ||
    fail "public key is no SPKI"
openssl dgst -sha256 -verify "$DIR/ec.pem" -signature "$DIR/sig.der" "$DIR/msg" >/dev/null ||
    fail "OpenSSL rejects the signature"
ok "EC P-256 token key pair: keypairgen, sign, verify (and OpenSSL verifies)"

# Field $2 of the object labelled $1 in `pkcs11-tool --list-objects` output
# on stdin (OpenSC 0.23 lists every object of a type; --id does not filter).
field() {
    awk -v l="$1" -v f="$2" '
        function flush() { if (lab == l && !done) { print val; done = 1 } lab = val = "" }
        /Object;/ { flush() }
        $1 == "label:" { lab = $2 }
        $1 == f ":" { val = $2 }
        f == "Unique" && $1 == "Unique" && $2 == "ID:" { val = $3 }
        END { flush() }'
}

# Ed25519: OpenSC asks for CKA_DERIVE=TRUE on Edwards keys (stored, inert).
out=$(U --keypairgen --key-type EC:edwards25519 --label ed1 --id 05 2>&1) || fail "Ed25519 pair: $out"
grep -q "EC_EDWARDS" <<<"$out" || fail "Ed25519 pair: $out"
U --sign -m EDDSA --id 05 -i "$DIR/msg" -o "$DIR/ed.sig" >/dev/null 2>&1 || fail "EdDSA sign"
[ "$(wc -c <"$DIR/ed.sig")" = 64 ] || fail "EdDSA signature of $(wc -c <"$DIR/ed.sig") bytes"
# The public key read back from the token: OpenSC 0.23 exports no Edwards
# SPKI (--read-object writes nothing), so it is built from the CKA_EC_POINT
# it lists (DER OCTET STRING 04 20 || 32 bytes) under the RFC 8410 prefix.
out=$(P11 --list-objects --type pubkey 2>&1) || fail "list public keys: $out"
point=$(field ed1 EC_POINT <<<"$out")
[[ "$point" =~ ^0420[0-9a-f]{64}$ ]] || fail "no 32-byte Ed25519 EC_POINT in: $out"
hex=302a300506032b6570032100${point#0420}
printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")" >"$DIR/ed.der"
openssl pkey -pubin -inform DER -in "$DIR/ed.der" -out "$DIR/ed.pem" 2>/dev/null || fail "Ed25519 SPKI"
openssl pkeyutl -verify -pubin -inkey "$DIR/ed.pem" -rawin -in "$DIR/msg" -sigfile "$DIR/ed.sig" \
    >/dev/null 2>&1 || fail "OpenSSL rejects the Ed25519 signature"
printf 'grep11 interop!' >"$DIR/msg2"
openssl pkeyutl -verify -pubin -inkey "$DIR/ed.pem" -rawin -in "$DIR/msg2" -sigfile "$DIR/ed.sig" \
    >/dev/null 2>&1 && fail "OpenSSL accepts the Ed25519 signature for another message"
if command -v p11tool >/dev/null; then
    # GnuTLS exports the SPKI itself: the same key.
    p11tool --provider "$MODULE" --export "pkcs11:token=interop;object=ed1;type=public" \
        >"$DIR/ed.gnutls.pem" 2>/dev/null || fail "p11tool --export Ed25519"
    openssl pkey -pubin -in "$DIR/ed.gnutls.pem" -outform DER -out "$DIR/ed.gnutls.der" 2>/dev/null ||
        fail "p11tool exported no Ed25519 SPKI: $(cat "$DIR/ed.gnutls.pem")"
    cmp -s "$DIR/ed.der" "$DIR/ed.gnutls.der" || fail "Ed25519 public keys differ (OpenSC, GnuTLS)"
fi
ok "Ed25519 token key pair (keypairgen EC:edwards25519), EDDSA sign; OpenSSL verifies (-rawin)"

# ECDH: a token P-256 key and an OpenSSL peer agree on one secret.
out=$(U --keypairgen --key-type EC:prime256v1 --label dh1 --id 06 2>&1) || fail "ECDH pair: $out"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DIR/peer.pem" 2>/dev/null
openssl pkey -in "$DIR/peer.pem" -pubout -outform DER -out "$DIR/peer.der"
out=$(U --derive -m ECDH1-DERIVE --id 06 --input-file "$DIR/peer.der" -o "$DIR/dh.got" 2>&1) ||
    fail "pkcs11-tool --derive: $out"
P11 --read-object --type pubkey --id 06 -o "$DIR/dh1.der" >/dev/null 2>&1 || fail "read ECDH pubkey"
openssl pkeyutl -derive -inkey "$DIR/peer.pem" -peerkey "$DIR/dh1.der" -peerform DER \
    -out "$DIR/dh.want" 2>/dev/null || fail "OpenSSL derive"
[ "$(wc -c <"$DIR/dh.want")" = 32 ] || fail "OpenSSL secret size"
cmp -s "$DIR/dh.got" "$DIR/dh.want" || fail "ECDH secrets differ (token vs OpenSSL)"
ok "pkcs11-tool --derive -m ECDH1-DERIVE with an OpenSSL peer: the secret OpenSSL derives"

# CKA_UNIQUE_ID: listed, and the same in every process (the keystore UUID).
uid() {
    U --list-objects --type privkey 2>/dev/null | field dh1 Unique
}
u1=$(uid)
[[ "$u1" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] ||
    fail "Unique ID: '$u1'"
[ "$(uid)" = "$u1" ] || fail "Unique ID changed between processes"
ok "pkcs11-tool shows the token key's Unique ID, stable across processes"

out=$(U --keypairgen --key-type rsa:2048 --label rsa1 --id 02 2>&1) || fail "RSA pair: $out"
# An OpenSSL key written to the token (C_CreateObject through a transport key).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform DER -out "$DIR/k.der" \
    2>/dev/null
openssl pkey -inform DER -in "$DIR/k.der" -pubout -outform DER -out "$DIR/kpub.der"
openssl pkey -inform DER -in "$DIR/k.der" -pubout -out "$DIR/kpub.pem"
out=$(U --write-object "$DIR/k.der" --type privkey --id 04 --label imported 2>&1) ||
    fail "write privkey: $out"
out=$(U --write-object "$DIR/kpub.der" --type pubkey --id 04 --label imported 2>&1) ||
    fail "write pubkey: $out"
U --sign -m ECDSA-SHA256 --id 04 -i "$DIR/msg" -o "$DIR/isig" --signature-format openssl \
    >/dev/null 2>&1 || fail "sign with the imported key"
openssl dgst -sha256 -verify "$DIR/kpub.pem" -signature "$DIR/isig" "$DIR/msg" >/dev/null ||
    fail "OpenSSL rejects the imported key's signature"
ok "OpenSSL EC key written to the token (write-object privkey/pubkey), signs"

P11 --read-object --type pubkey --id 02 -o "$DIR/rsa.der" >/dev/null 2>&1 || fail "read RSA pubkey"
openssl pkey -pubin -inform DER -in "$DIR/rsa.der" -out "$DIR/rsa.pem" 2>/dev/null || fail "RSA SPKI"
printf 'for the token only' >"$DIR/pt"
openssl pkeyutl -encrypt -pubin -inkey "$DIR/rsa.pem" -in "$DIR/pt" -out "$DIR/ct" 2>/dev/null
got=$(U --decrypt -m RSA-PKCS --id 02 -i "$DIR/ct" 2>/dev/null) || fail "RSA-PKCS decrypt"
[ "$got" = "for the token only" ] || fail "RSA-PKCS decrypt: $got"
openssl pkeyutl -encrypt -pubin -inkey "$DIR/rsa.pem" -in "$DIR/pt" -out "$DIR/ct" \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
got=$(U --decrypt -m RSA-PKCS-OAEP --hash-algorithm SHA256 --mgf MGF1-SHA256 --id 02 \
    -i "$DIR/ct" 2>/dev/null) || fail "RSA-OAEP decrypt"
[ "$got" = "for the token only" ] || fail "RSA-OAEP decrypt: $got"
ok "RSA-2048 token key pair: OpenSSL's PKCS #1 v1.5 and OAEP ciphertexts decrypted"

out=$(timeout 240 pkcs11-tool --module "$MODULE" --login --pin "$UPIN" --test 2>&1) ||
    fail "--test: $out"
grep -q "No errors" <<<"$out" || fail "--test: $out"
grep -q "SHA256-RSA-PKCS: OK" <<<"$out" || fail "--test skipped RSA: $out"
ok "pkcs11-tool --test (RSA-2048 sign, verify, decrypt)"

out=$(timeout 240 pkcs11-tool --module "$MODULE" --login --pin "$UPIN" --session-rw --test-ec \
    --id 03 --key-type EC:secp256r1 2>&1) || fail "--test-ec: $out"
grep -q "==> OK" <<<"$out" || fail "--test-ec: $out"
ok "pkcs11-tool --test-ec"

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

    out=$(p11tool --provider "$MODULE" --list-all "pkcs11:token=interop" 2>&1 </dev/null) ||
        fail "p11tool --list-all: $out"
    grep -q "Public key (EC/ECDSA-SECP256R1)" <<<"$out" || fail "p11tool --list-all: $out"
    grep -q "type=private" <<<"$out" && fail "private keys listed without login: $out"
    out=$(GNUTLS_PIN="$UPIN" p11tool --provider "$MODULE" --login --list-all \
        "pkcs11:token=interop" 2>&1 </dev/null) || fail "p11tool --login --list-all: $out"
    grep -q "Private key (EC/ECDSA-SECP256R1)" <<<"$out" || fail "p11tool --list-all: $out"
    grep -q "Private key (RSA-2048)" <<<"$out" || fail "p11tool --list-all: $out"
    ok "GnuTLS p11tool --list-all (public objects; private ones after login)"

    for k in ec1 rsa1; do
        out=$(GNUTLS_PIN="$UPIN" p11tool --provider "$MODULE" --login --test-sign \
            "pkcs11:token=interop;object=$k;type=private" 2>&1 </dev/null) ||
            fail "p11tool --test-sign $k: $out"
        grep -q "Verifying against public key in the token... ok" <<<"$out" ||
            fail "p11tool --test-sign $k: $out"
    done
    ok "GnuTLS p11tool --test-sign (EC, RSA)"
fi

g11_done
