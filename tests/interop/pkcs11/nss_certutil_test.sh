#!/usr/bin/env bash
# NSS uses grep11 as a token: a private NSS database with the module added by
# `modutil -add`; `certutil -S -h TOKEN` generates EC P-256 and RSA-2048 key
# pairs on the token and a self-signed certificate for each (signed there,
# stored there); `certutil -L -h TOKEN` and `certutil -K -h TOKEN` list them,
# pkcs11-tool sees the certificates and keys as token objects of a new
# process, and OpenSSL verifies each certificate's self-signature.
# Usage: nss_certutil_test.sh GREP11D MODULE GREP11CTL
set -euo pipefail
. "$(dirname "$0")/lib.sh"
g11_need pkcs11-tool opensc
g11_need certutil libnss3-tools
g11_need modutil libnss3-tools
g11_setup nss "$@"
TOKEN=nss-token
g11_init_token $TOKEN

DB=sql:$DIR/nssdb
mkdir "$DIR/nssdb"
out=$(certutil -N -d "$DB" --empty-password 2>&1) || fail "certutil -N: $out"
# -force: modutil would otherwise ask for confirmation on the terminal.
out=$(modutil -add grep11 -libfile "$MODULE" -dbdir "$DB" -force 2>&1) || fail "modutil -add: $out"
out=$(modutil -list grep11 -dbdir "$DB" 2>&1) || fail "modutil -list: $out"
grep -q "Token Name: $TOKEN" <<<"$out" || fail "modutil does not show the token: $out"
ok "NSS database with the grep11 module (modutil -add); its token is listed"

# The token's password (the user's API key) in a file NSS reads; noise for
# key generation so that certutil never waits for the keyboard.
printf '%s\n' "$UPIN" >"$DIR/pwfile"
head -c 64 /dev/urandom >"$DIR/noise"
CU() {
    timeout 60 certutil -d "$DB" -f "$DIR/pwfile" "$@"
}

# $1: nickname, $2...: certutil key options.
make_cert() {
    local nick=$1 out
    shift
    out=$(CU -S -h "$TOKEN" -n "$nick" -s "CN=$nick,O=grep11" -x -t "u,u,u" -v 1 \
        -z "$DIR/noise" "$@" 2>&1) || fail "certutil -S $nick: $out"
    # The certificate as NSS returns it, and its self-signature. -h: NSS logs
    # in to the token only then (the certificate is private: made while the
    # user was logged in, DESIGN §5).
    CU -L -h "$TOKEN" -n "$TOKEN:$nick" -a >"$DIR/$nick.pem" 2>"$DIR/err" ||
        fail "certutil -L -n $TOKEN:$nick: $(cat "$DIR/err")"
    out=$(openssl verify -CAfile "$DIR/$nick.pem" -check_ss_sig "$DIR/$nick.pem" 2>&1) ||
        fail "$nick self-signature: $out"
}
make_cert nss-ec -k ec -q nistp256
ok "certutil -S -h $TOKEN: EC P-256 key pair and self-signed certificate made on the token"
make_cert nss-rsa -k rsa -g 2048
ok "certutil -S -h $TOKEN: RSA-2048 key pair and self-signed certificate made on the token"

out=$(CU -L -h "$TOKEN" 2>&1) || fail "certutil -L -h: $out"
for nick in nss-ec nss-rsa; do
    grep -qE "^$TOKEN:$nick +u,u,u" <<<"$out" || fail "certutil -L does not list $nick: $out"
done
out=$(CU -K -h "$TOKEN" 2>&1) || fail "certutil -K -h: $out"
grep -qE "<[ 0-9]+> ec .*$TOKEN:nss-ec" <<<"$out" || fail "certutil -K: no EC key: $out"
grep -qE "<[ 0-9]+> rsa .*$TOKEN:nss-rsa" <<<"$out" || fail "certutil -K: no RSA key: $out"
ok "certutil -L -h $TOKEN lists both certificates; certutil -K both private keys"

# Certificate requests signed on the token: by an existing key (NSS's key ID
# from -K; certutil looks a nickname up before logging in with -f, which a
# private certificate does not survive) and by a key made for the request.
for nick in nss-ec nss-rsa; do
    keyid=$(sed -n "s/^< *[0-9]*> [a-z]* *\([0-9a-f]*\) *$TOKEN:$nick\$/\1/p" <<<"$out")
    [ -n "$keyid" ] || fail "no key ID for $nick: $out"
    o=$(CU -R -h "$TOKEN" -k "$keyid" -s "CN=$nick request" -a -o "$DIR/$nick.csr" 2>&1) ||
        fail "certutil -R -k $nick: $o"
    o=$(openssl req -in "$DIR/$nick.csr" -noout -verify 2>&1) || fail "$nick CSR: $o"
    grep -q "verify OK" <<<"$o" || fail "$nick CSR: $o"
    cmp -s <(openssl req -in "$DIR/$nick.csr" -noout -pubkey) \
        <(openssl x509 -in "$DIR/$nick.pem" -noout -pubkey) || fail "$nick CSR: another key"
done
o=$(CU -R -h "$TOKEN" -k ec -q nistp256 -s "CN=fresh request" -z "$DIR/noise" -a \
    -o "$DIR/fresh.csr" 2>&1) || fail "certutil -R with a new key: $o"
o=$(openssl req -in "$DIR/fresh.csr" -noout -verify 2>&1) || fail "fresh CSR: $o"
grep -q "verify OK" <<<"$o" || fail "fresh CSR: $o"
ok "certutil -R -h $TOKEN: requests signed by both keys and by a new EC key verify (OpenSSL)"

# The objects are in the keystores: another PKCS #11 application finds each
# certificate, and by its CKA_ID (NSS sets it from the public key) the
# private key and the public key, which is the certificate's.
for nick in nss-ec nss-rsa; do
    out=$(U --list-objects --type cert 2>&1) || fail "list certificates: $out"
    # pkcs11-tool lists one block per object; the ID of the block so labelled.
    id=$(awk -v n="$nick" '/^[A-Z]/ { l = "" } $1 == "label:" { l = $2 }
        $1 == "ID:" && l == n { print $2 }' <<<"$out")
    [ -n "$id" ] || fail "no certificate $nick on the token: $out"
    U --read-object --type cert --id "$id" -o "$DIR/$nick.der" >/dev/null 2>&1 ||
        fail "read $nick certificate"
    cmp -s "$DIR/$nick.der" <(openssl x509 -in "$DIR/$nick.pem" -outform DER) ||
        fail "$nick: the token's certificate differs from NSS's"
    out=$(U --list-objects --type privkey --id "$id" 2>&1) || fail "list $nick key: $out"
    grep -q "^Private Key Object" <<<"$out" || fail "$nick: no private key with ID $id: $out"
    U --read-object --type pubkey --id "$id" -o "$DIR/$nick.pub.der" >/dev/null 2>&1 ||
        fail "read $nick public key"
    cmp -s <(openssl pkey -pubin -inform DER -in "$DIR/$nick.pub.der") \
        <(openssl x509 -in "$DIR/$nick.pem" -noout -pubkey) ||
        fail "$nick: the certificate does not hold the token's public key"
done
ok "pkcs11-tool finds each certificate, its private key and its public key on the token"

echo "time: $(g11_elapsed) s"
g11_done
