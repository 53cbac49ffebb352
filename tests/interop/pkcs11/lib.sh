# shellcheck shell=bash
# Shared setup for the PKCS #11 interop tests: sourced, not run.
#
# g11_setup NAME GREP11D MODULE GREP11CTL starts a real `grep11d --dev` on a
# free loopback port in a private temporary directory, makes an API key for
# each PKCS #11 user (SO, normal user, anonymous) with grants on the token's
# two keystores, writes a grep11client.yaml for them and exports
# GREP11_CLIENT_CONFIG. Everything the test makes (keys, logs, databases) stays
# in $DIR, which the EXIT trap removes together with every process the test
# registered with g11_track.
#
# After g11_setup: DIR, ADDR, MODULE, SO, UPIN, ANON (API keys: the SO's, the
# normal user's = the user PIN, the anonymous one's), and the helpers below.
# The caller must have `set -euo pipefail`.

G11_PIDS=()
G11_SERVER_PID=
DIR=

# Exit status 77 makes CTest report the test as skipped: only for a tool that
# is genuinely not installed (scripts/install-deps.sh installs all of them).
g11_need() {
    local tool=$1 package=$2
    command -v "$tool" >/dev/null || { echo "SKIP: $tool missing (Debian package $package)"; exit 77; }
}

# Background processes the test started, stopped (by PID) when it ends.
g11_track() {
    G11_PIDS+=("$1")
}

g11_cleanup() {
    local pid
    for pid in "${G11_PIDS[@]}" $G11_SERVER_PID; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${G11_PIDS[@]}" $G11_SERVER_PID; do
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "$DIR" ] && [ -z "${G11_KEEP:-}" ]; then
        rm -rf "$DIR"
    elif [ -n "$DIR" ]; then
        echo "kept $DIR (G11_KEEP is set)"
    fi
}

# On failure: the reason, then the module's log (it holds no secrets: the
# module never logs API keys, PINs or key values).
fail() {
    echo "FAIL: $*"
    [ -s "$DIR/module.log" ] && { echo "--- module log (tail)"; tail -n 40 "$DIR/module.log"; }
    exit 1
}

passed=0
ok() {
    echo "ok: $*"
    passed=$((passed + 1))
}

g11_done() {
    echo "$passed passed, 0 failed"
}

# Seconds since the test started, for a log line per step.
g11_elapsed() {
    echo $((SECONDS - G11_START))
}

# Waits up to $2 tenths of a second for file $1 to be non-empty.
g11_wait_file() {
    local i
    for ((i = 0; i < $2; i++)); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

g11_setup() {
    local name=$1
    GREP11D=$2
    MODULE=$(readlink -f "$3")
    GREP11CTL=$4
    G11_START=$SECONDS
    DIR=$(mktemp -d "/tmp/grep11-$name-XXXXXX")
    trap g11_cleanup EXIT

    # Port 0: the kernel picks a free port; grep11d writes the one it got.
    "$GREP11D" --dev --data-dir "$DIR" --listen 127.0.0.1:0 >"$DIR/server.log" 2>&1 &
    G11_SERVER_PID=$!
    g11_wait_file "$DIR/grep11d.addr" 300 || {
        cat "$DIR/server.log"
        fail "grep11d did not start"
    }
    ADDR=$(cat "$DIR/grep11d.addr")

    # The token's keystores and an API key for each PKCS #11 user. The keys
    # are kept out of the test's output: only files in $DIR hold them.
    PRIV=5a0c0000-0000-4000-8000-000000000001
    PUB=5a0c0000-0000-4000-8000-000000000002
    SO=$(g11_apikey so --role keystore-so --role crypto --grant $PRIV --grant $PUB)
    UPIN=$(g11_apikey user --role keystore-user --role crypto --grant $PRIV --grant $PUB)
    ANON=$(g11_apikey anonymous --role keystore-anonymous --role crypto --grant $PUB)
    [ -n "$SO" ] && [ -n "$UPIN" ] && [ -n "$ANON" ] || fail "API keys"

    cat >"$DIR/grep11client.yaml" <<YAML
iam: &iam {enabled: true}
tokens:
  0:
    label: "configured"
    grep11connection:
      address: "127.0.0.1"
      port: ${ADDR##*:}
      tls: {enabled: true, cacert: "$DIR/tls/ca.pem"}
    storage: {remotestore: {enabled: true}}
    users:
      0: {name: so, iamauth: *iam}
      1: {name: user, tokenspaceID: "$PRIV", iamauth: *iam}
      2: {name: anonymous, tokenspaceID: "$PUB", iamauth: {<<: *iam, apikey: "$ANON"}}
logging: {loglevel: ${G11_LOGLEVEL:-error}, logpath: "$DIR/module.log"}
YAML
    export GREP11_CLIENT_CONFIG=$DIR/grep11client.yaml
}

# grep11ctl against the test's server, authenticated by the --dev admin key.
CTL() {
    "$GREP11CTL" -a "$ADDR" -d "$DIR" "$@"
}

# Prints a new API key for principal $1 with the given roles and grants.
g11_apikey() {
    CTL apikey create --principal "$1" "${@:2}" 2>/dev/null | grep '^g11k_'
}

# pkcs11-tool on our module, without and with the normal user's login.
P11() {
    pkcs11-tool --module "$MODULE" "$@"
}
U() {
    P11 --login --pin "$UPIN" "$@"
}

# A key pair on the token (as the normal user) and its public key read back
# as DER and PEM: $1: label, $2: CKA_ID, $3: pkcs11-tool key type, $4: file
# prefix ($4.der, $4.pem).
g11_token_keypair() {
    local out
    out=$(U --keypairgen --key-type "$3" --label "$1" --id "$2" 2>&1) || fail "$1 key pair: $out"
    P11 --read-object --type pubkey --id "$2" -o "$4.der" >/dev/null 2>&1 ||
        fail "read $1 public key"
    openssl pkey -pubin -inform DER -in "$4.der" -out "$4.pem"
}

# C_InitToken with the SO's key: creates the keystores, labelled $1.
g11_init_token() {
    local out
    out=$(P11 --init-token --so-pin "$SO" --label "$1" 2>&1) || fail "init-token: $out"
}
