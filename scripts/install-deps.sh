#!/usr/bin/env bash
# Installs every Debian package grep11 needs to build, test and fuzz.
# Idempotent: packages already present are skipped, so a second run is quick.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  dpkg-dev  # dpkg-buildflags: scripts/test.sh builds with Debian's hardening flags
  libgrpc-dev libabsl-dev protobuf-c-compiler libprotobuf-c-dev
  libssl-dev openssl libyaml-dev libsqlite3-dev libpq-dev libp11-kit-dev
  libcmocka-dev libcjson-dev libargon2-dev
  clang libclang-rt-14-dev valgrind
  python3 python3-grpcio python3-grpc-tools
  postgresql
  opensc gnutls-bin softhsm2 gnuplot-nox
  # tests/interop/pkcs11: applications that load the PKCS #11 module
  libengine-pkcs11-openssl openssh-client openjdk-17-jdk-headless libnss3-tools
)

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
