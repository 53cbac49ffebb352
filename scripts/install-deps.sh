#!/usr/bin/env bash
# Installs every Debian package grep11 needs to build, test and fuzz.
# Idempotent: packages already present are skipped, so a second run is quick.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  dpkg-dev  # dpkg-buildflags: scripts/test.sh builds with Debian's hardening flags
  libgrpc-dev libabsl-dev protobuf-c-compiler libprotobuf-c-dev
  libssl-dev openssl libyaml-dev libsqlite3-dev libpq-dev libp11-kit-dev
  libcmocka-dev libcjson-dev libargon2-dev libmicrohttpd-dev
  libsecp256k1-dev  # tests: an independent verifier of secp256k1 EC-Schnorr signatures
  clang libclang-rt-14-dev valgrind
  python3 python3-grpcio python3-grpc-tools curl
  postgresql
  opensc gnutls-bin softhsm2 gnuplot-nox
  # tests/interop/pkcs11: applications that load the PKCS #11 module
  libengine-pkcs11-openssl openssh-client openjdk-17-jdk-headless libnss3-tools
  # tests/interop/go: a Go GREP11 client built offline from Debian's Go sources
  # (APIv2 protobuf-go; golang-goprotobuf-dev would conflict with these)
  golang-go protobuf-compiler protoc-gen-go protoc-gen-go-grpc
  golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev golang-google-grpc-dev
)
# tests/interop/node: a Node.js gRPC client (its npm packages are installed
# by tests/interop/node/run.sh with npm ci). A node or npm already on PATH,
# from whatever source, is kept.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
