#!/usr/bin/env bash
# Java 17's SunPKCS11 provider uses keys that live in grep11: EC P-256 and
# RSA-2048 key pairs made on the token by pkcs11-tool, each with a
# certificate object of the same CKA_ID (Java shows a key entry only for a
# private key with a certificate); `keytool -list -storetype PKCS11` lists
# both entries with the certificates' fingerprints, and `keytool -certreq`
# signs a CSR with each token key that `openssl req -verify` verifies and
# that carries the token's public key. Then Java makes a key entry on the
# token itself (`keytool -genkeypair`) and deletes it (`keytool -delete`).
# Usage: java_keytool_test.sh GREP11D MODULE GREP11CTL
set -euo pipefail
. "$(dirname "$0")/lib.sh"
g11_need pkcs11-tool opensc
g11_need keytool openjdk-17-jdk-headless
g11_setup java "$@"
g11_init_token java

# A throw-away CA in $DIR certifies each token public key (-force_pubkey):
# the certificate is what Java needs to see a key entry.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$DIR/ca.key" \
    -subj "/CN=grep11 interop CA" -days 1 -out "$DIR/ca.pem" 2>/dev/null

# $1: label (also the keystore alias), $2: CKA_ID, $3: key type.
make_entry() {
    local out
    g11_token_keypair "$1" "$2" "$3" "$DIR/$1.pub"
    openssl req -new -key "$DIR/ca.key" -subj "/CN=$1" -out "$DIR/$1.tmp.csr"
    openssl x509 -req -in "$DIR/$1.tmp.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" \
        -CAcreateserial -force_pubkey "$DIR/$1.pub.pem" -days 1 -outform DER \
        -out "$DIR/$1.crt.der" 2>/dev/null || fail "$1 certificate"
    out=$(U --write-object "$DIR/$1.crt.der" --type cert --id "$2" --label "$1" 2>&1) ||
        fail "write $1 certificate: $out"
}
make_entry java-ec 51 EC:prime256v1
make_entry java-rsa 52 rsa:2048
ok "EC P-256 and RSA-2048 key pairs on the token, each with its certificate"

cat >"$DIR/sunpkcs11.cfg" <<CFG
name = grep11
library = $MODULE
slot = 0
CFG
# The store password is the PIN (the user's API key): from keytool's
# environment, never on a command line.
KT() {
    G11_PIN=$UPIN timeout 60 keytool "$@" -storetype PKCS11 -providerClass sun.security.pkcs11.SunPKCS11 \
        -providerArg "$DIR/sunpkcs11.cfg" -storepass:env G11_PIN
}

out=$(KT -list 2>&1) || fail "keytool -list: $out"
grep -q "contains 2 entries" <<<"$out" || fail "keytool -list: $out"
for k in java-ec java-rsa; do
    grep -q "^$k, PrivateKeyEntry," <<<"$out" || fail "no key entry $k: $out"
    fp=$(openssl x509 -inform DER -in "$DIR/$k.crt.der" -noout -fingerprint -sha256 | cut -d= -f2)
    grep -A1 "^$k, PrivateKeyEntry," <<<"$out" | grep -qF "(SHA-256): $fp" ||
        fail "$k: certificate fingerprint $fp not listed: $out"
done
ok "keytool -list: both key entries, with their certificates' fingerprints"

for k in java-ec:SHA256withECDSA java-rsa:SHA256withRSA; do
    alg=${k#*:}
    k=${k%%:*}
    out=$(KT -certreq -alias "$k" -sigalg "$alg" -dname "CN=$k csr, O=grep11" \
        -file "$DIR/$k.csr" 2>&1) || fail "keytool -certreq $k: $out"
    out=$(openssl req -in "$DIR/$k.csr" -noout -verify 2>&1) || fail "$k CSR does not verify: $out"
    grep -q "verify OK" <<<"$out" || fail "$k CSR: $out"
    openssl req -in "$DIR/$k.csr" -noout -pubkey >"$DIR/$k.csr.pub.pem"
    cmp -s "$DIR/$k.csr.pub.pem" "$DIR/$k.pub.pem" || fail "$k CSR holds another public key"
    openssl req -in "$DIR/$k.csr" -noout -subject | grep -q "CN = $k csr" || fail "$k CSR subject"
    ok "keytool -certreq $k ($alg, signed in grep11): openssl req -verify OK"
done

# Java makes a key pair on the token itself (its own C_GenerateKeyPair
# template, then the certificate object, then CKA_LABEL/CKA_ID set on the
# keys) and deletes the entry again (C_DestroyObject).
out=$(KT -genkeypair -alias java-gen -keyalg EC -groupname secp256r1 -sigalg SHA256withECDSA \
    -dname "CN=java-gen" -validity 1 2>&1) || fail "keytool -genkeypair: $out"
out=$(KT -exportcert -alias java-gen -rfc -file "$DIR/java-gen.pem" 2>&1) ||
    fail "keytool -exportcert: $out"
out=$(openssl verify -CAfile "$DIR/java-gen.pem" -check_ss_sig "$DIR/java-gen.pem" 2>&1) ||
    fail "java-gen self-signed certificate: $out"
out=$(KT -certreq -alias java-gen -file "$DIR/java-gen.csr" 2>&1) || fail "certreq java-gen: $out"
openssl req -in "$DIR/java-gen.csr" -noout -verify 2>&1 | grep -q "verify OK" ||
    fail "java-gen CSR does not verify"
out=$(KT -list 2>&1) || fail "keytool -list: $out"
grep -q "contains 3 entries" <<<"$out" && grep -q "^java-gen, PrivateKeyEntry," <<<"$out" ||
    fail "keytool -list after -genkeypair: $out"
# Java copies its private key to the token with CKA_ID = the alias (and
# keeps no public key object there).
GENID=$(printf java-gen | od -An -tx1 | tr -d ' \n')
out=$(U --list-objects --type privkey --id "$GENID" 2>&1) || fail "list private keys: $out"
grep -q "^Private Key Object; EC" <<<"$out" || fail "Java's key is not on the token: $out"
ok "keytool -genkeypair on the token: self-signed certificate and CSR verify; another process sees the key"

out=$(KT -delete -alias java-gen 2>&1) || fail "keytool -delete: $out"
out=$(KT -list 2>&1) || fail "keytool -list: $out"
grep -q "contains 2 entries" <<<"$out" || fail "keytool -list after -delete: $out"
out=$(U --list-objects 2>&1) || fail "list objects: $out"
grep -qE "java-gen|ID: *$GENID" <<<"$out" && fail "java-gen objects left on the token: $out"
ok "keytool -delete removes the entry's objects from the token"

echo "time: $(g11_elapsed) s"
g11_done
