#!/usr/bin/env bash
# OpenSSH uses keys that live in grep11: EC P-256 and RSA-2048 key pairs made
# on the token by pkcs11-tool; `ssh-keygen -D MODULE` lists them (checked
# against the public keys pkcs11-tool reads); a private ssh-agent loads the
# module (`ssh-add -s`, PIN through SSH_ASKPASS) in its ssh-pkcs11-helper;
# `ssh-keygen -Y sign` signs through the agent and `ssh-keygen -Y verify`
# accepts the signature with an allowed_signers file (and refuses it for
# other data). OpenSSH 9.2 (Debian 12) has no Ed25519 PKCS #11 keys (that
# came with 9.4), so none are tested.
# Usage: openssh_test.sh GREP11D MODULE GREP11CTL
set -euo pipefail
. "$(dirname "$0")/lib.sh"
g11_need pkcs11-tool opensc
g11_need ssh-keygen openssh-client
g11_need ssh-agent openssh-client
g11_need ssh-add openssh-client
g11_setup openssh "$@"
g11_init_token ssh

# Key pairs on the token, and each public key in OpenSSH's format as
# pkcs11-tool reads it (the reference ssh-keygen -D and the agent must match).
# $1: label, $2: CKA_ID, $3: key type.
make_key() {
    g11_token_keypair "$1" "$2" "$3" "$DIR/$1"
    ssh-keygen -i -m PKCS8 -f "$DIR/$1.pem" >"$DIR/$1.pub" || fail "$1: no OpenSSH public key"
}
make_key ssh-ec 41 EC:prime256v1
make_key ssh-rsa 42 rsa:2048
ok "EC P-256 and RSA-2048 key pairs on the token"

# "type base64" of a public key line, without any comment.
blob() {
    cut -d' ' -f1,2
}

# ssh-keygen -D logs nothing in (no PIN): public key objects are public.
out=$(ssh-keygen -D "$MODULE" 2>&1) || fail "ssh-keygen -D: $out"
listed=$(grep -E '^(ecdsa|ssh-rsa)' <<<"$out" | blob | sort)
want=$(cat "$DIR/ssh-ec.pub" "$DIR/ssh-rsa.pub" | blob | sort)
[ "$listed" = "$want" ] || fail "ssh-keygen -D lists"$'\n'"$out"$'\n'"expected"$'\n'"$want"
ok "ssh-keygen -D lists exactly the token's two public keys"

# A private agent on a socket in $DIR. -P: only our module may be loaded
# (ssh-add sends the path resolved, as MODULE is). The agent and its helper
# inherit GREP11_CLIENT_CONFIG.
export SSH_AUTH_SOCK=$DIR/agent.sock
ssh-agent -D -a "$SSH_AUTH_SOCK" -P "$MODULE" >"$DIR/agent.log" 2>&1 &
g11_track $!
for _ in $(seq 1 100); do [ -S "$SSH_AUTH_SOCK" ] && break; sleep 0.1; done
[ -S "$SSH_AUTH_SOCK" ] || fail "ssh-agent did not start: $(cat "$DIR/agent.log")"

# The PIN through an askpass program (no terminal here); it reads the key
# from a file in $DIR so that it never appears on a command line.
printf '%s\n' "$UPIN" >"$DIR/pin"
printf '#!/bin/sh\ncat "%s"\n' "$DIR/pin" >"$DIR/askpass"
chmod 700 "$DIR/askpass"
export SSH_ASKPASS=$DIR/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=${DISPLAY:-:0}

out=$(timeout 30 ssh-add -s "$MODULE" </dev/null 2>&1) || fail "ssh-add -s: $out"
out=$(ssh-add -L 2>&1) || fail "ssh-add -L: $out"
[ "$(blob <<<"$out" | sort)" = "$want" ] || fail "agent holds"$'\n'"$out"$'\n'"expected"$'\n'"$want"
ok "ssh-add -s loads the module into ssh-agent (PIN by SSH_ASKPASS): the agent holds both keys"

printf 'signed by a key in grep11\n' >"$DIR/msg"
printf 'not what was signed\n' >"$DIR/other"
for k in ssh-ec ssh-rsa; do
    rm -f "$DIR/msg.sig"
    # -f names the public key: ssh-keygen asks the agent to sign.
    out=$(timeout 30 ssh-keygen -Y sign -f "$DIR/$k.pub" -n file "$DIR/msg" 2>&1) ||
        fail "$k: ssh-keygen -Y sign: $out"
    [ -s "$DIR/msg.sig" ] || fail "$k: no signature: $out"
    printf 'grep11@interop %s\n' "$(blob <"$DIR/$k.pub")" >"$DIR/allowed_signers"
    out=$(ssh-keygen -Y verify -f "$DIR/allowed_signers" -I grep11@interop -n file \
        -s "$DIR/msg.sig" <"$DIR/msg" 2>&1) || fail "$k: ssh-keygen -Y verify: $out"
    grep -q '^Good "file" signature for grep11@interop' <<<"$out" || fail "$k: verify: $out"
    if out=$(ssh-keygen -Y verify -f "$DIR/allowed_signers" -I grep11@interop -n file \
        -s "$DIR/msg.sig" <"$DIR/other" 2>&1); then
        fail "$k: the signature verifies for other data: $out"
    fi
    ok "$k: ssh-keygen -Y sign through the agent; -Y verify accepts it (and refuses other data)"
done

out=$(ssh-add -e "$MODULE" 2>&1) || fail "ssh-add -e: $out"
out=$(ssh-add -L 2>&1) && fail "keys left in the agent: $out"
ok "ssh-add -e unloads the module"

echo "time: $(g11_elapsed) s"
g11_done
