#!/usr/bin/env bash
# pkcs11-grep11.so registered with p11-kit the way a system installs it,
# not named on a command line: `cmake --install` into a temporary prefix
# writes share/p11-kit/modules/grep11.module naming the installed library;
# that registration (plus `enable-in: p11tool, p11-kit`, so that no other
# program on the machine loads it) is placed where p11-kit reads it — as
# root /etc/pkcs11/modules/ (p11-kit reads only the system directories for
# root), otherwise $XDG_CONFIG_HOME/pkcs11/modules with a private
# XDG_CONFIG_HOME. Then `p11-kit list-modules` shows the module and its
# token, GnuTLS `p11tool --list-tokens` (no --provider) lists the token, a
# program of another name does not load it, and `p11tool --login
# --test-sign` signs with an EC and an RSA token key, the PIN given in
# GNUTLS_PIN. The registration file is removed when the test ends, also on
# failure.
# Usage: p11kit_test.sh GREP11D MODULE GREP11CTL BUILD_DIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"
g11_need p11tool gnutls-bin
g11_need p11-kit p11-kit
g11_need pkcs11-tool opensc
CMAKE=${CMAKE:-cmake}
BUILD=$(readlink -f "$4")
g11_setup p11kit "$1" "$2" "$3"

# --- the installed registration ---------------------------------------------
PREFIX=$DIR/prefix
out=$("$CMAKE" --install "$BUILD" --prefix "$PREFIX" 2>&1) || fail "cmake --install: $out"
REG=$PREFIX/share/p11-kit/modules/grep11.module
[ -f "$REG" ] || fail "no $REG after cmake --install"
INSTALLED=$PREFIX/lib/pkcs11-grep11.so
[ -f "$INSTALLED" ] || fail "no $INSTALLED after cmake --install"
# Exactly one module line, naming the installed library by its full path.
[ "$(grep -c '^module:' "$REG")" = 1 ] || fail "module lines in $REG: $(cat "$REG")"
[ "$(sed -n 's/^module: *//p' "$REG")" = "$INSTALLED" ] ||
    fail "$REG does not name $INSTALLED: $(cat "$REG")"
cmp -s "$INSTALLED" "$MODULE" || {
    # Installation may strip or relink; it must still be a PKCS #11 module.
    nm -D --defined-only "$INSTALLED" | grep -q ' C_GetFunctionList$' ||
        fail "installed library exports no C_GetFunctionList"
}
ok "cmake --install writes share/p11-kit/modules/grep11.module naming $INSTALLED"

# --- registration where p11-kit looks ---------------------------------------
NAME=grep11-test-$$-$RANDOM
CREATED_DIRS=()
if [ "$(id -u)" = 0 ]; then
    MODDIR=/etc/pkcs11/modules
    for d in /etc/pkcs11 /etc/pkcs11/modules; do
        [ -d "$d" ] || { mkdir "$d" && CREATED_DIRS=("$d" "${CREATED_DIRS[@]}"); }
    done
else
    export XDG_CONFIG_HOME=$DIR/xdg
    MODDIR=$XDG_CONFIG_HOME/pkcs11/modules
    mkdir -p "$MODDIR"
fi
MODFILE=$MODDIR/$NAME.module

unregister() {
    rm -f "$MODFILE"
    local d
    for d in "${CREATED_DIRS[@]}"; do
        rmdir "$d" 2>/dev/null || true # only when still empty
    done
    CREATED_DIRS=()
}
trap 'unregister; g11_cleanup' EXIT
trap 'exit 130' INT TERM HUP

{
    cat "$REG"
    echo "# test registration: loaded only by these programs"
    echo "enable-in: p11tool, p11-kit"
} >"$MODFILE"
echo "registered as $MODFILE"

g11_init_token p11kit
# Token key pairs to sign with (pkcs11-tool names our module directly).
out=$(U --keypairgen --key-type EC:prime256v1 --label kit-ec --id 51 2>&1) || fail "EC pair: $out"
out=$(U --keypairgen --key-type rsa:2048 --label kit-rsa --id 52 2>&1) || fail "RSA pair: $out"

out=$(p11-kit list-modules 2>&1) || fail "p11-kit list-modules: $out"
block=$(awk -v m="$NAME:" '$1 == m {on = 1; print; next} /^[^ ]/ {on = 0} on' <<<"$out")
[ -n "$block" ] || fail "p11-kit list-modules does not show $NAME: $out"
grep -q "token: p11kit" <<<"$block" || fail "no token in: $block"
grep -q "library-description: grep11" <<<"$block" || fail "no grep11 module in: $block"
ok "p11-kit list-modules shows $NAME with the token"

out=$(p11tool --list-tokens 2>&1) || fail "p11tool --list-tokens: $out"
grep -q "Label: p11kit" <<<"$out" || fail "p11tool --list-tokens (registration) lacks the token: $out"
URL=$(grep -o "pkcs11:[^ ]*token=p11kit[^ ]*" <<<"$out" | head -n1)
[ -n "$URL" ] || fail "no token URL in: $out"
ok "p11tool --list-tokens (no --provider) lists the token: $URL"

# enable-in: the same program under another name does not load the module.
out=$(bash -c 'exec -a not-p11tool p11tool --list-tokens' 2>&1) || true
grep -q "Label: p11kit" <<<"$out" && fail "a program not named in enable-in loaded the module: $out"
ok "enable-in keeps the registration out of other programs"

printf 'signed through p11-kit' >"$DIR/msg"
for k in kit-ec kit-rsa; do
    out=$(GNUTLS_PIN="$UPIN" p11tool --login --test-sign \
        "pkcs11:token=p11kit;object=$k;type=private" 2>&1 </dev/null) ||
        fail "p11tool --test-sign $k: $out"
    grep -q "Verifying against public key in the token... ok" <<<"$out" ||
        fail "p11tool --test-sign $k: $out"
    grep -q "Verifying against private key parameters... ok" <<<"$out" ||
        fail "p11tool --test-sign $k: $out"
done
ok "p11tool --login --test-sign through the registration (EC P-256, RSA-2048; PIN from GNUTLS_PIN)"

# Without the PIN the private key is not found (no prompt: stdin is empty).
if out=$(env -u GNUTLS_PIN p11tool --batch --login --test-sign \
    "pkcs11:token=p11kit;object=kit-ec;type=private" 2>&1 </dev/null); then
    fail "signed without a PIN: $out"
fi
ok "without GNUTLS_PIN p11tool cannot sign"

unregister
out=$(p11-kit list-modules 2>&1) || true
grep -q "^$NAME:" <<<"$out" && fail "still registered after removal"
ok "registration removed"

echo "time: $(g11_elapsed) s"
g11_done
