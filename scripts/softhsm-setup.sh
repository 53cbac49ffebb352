#!/usr/bin/env bash
# Sets up a private SoftHSMv2 token for side-by-side benchmarks:
#   eval "$(scripts/softhsm-setup.sh DIR)"   # exports SOFTHSM2_CONF
# Token label "bench", user PIN 1234, SO PIN 12345678, in slot index 0.
set -euo pipefail
dir=${1:-/tmp/grep11-softhsm}
if ! dpkg-query -W -f='${Status}' softhsm2 2>/dev/null | grep -q 'install ok installed'; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get install -y -qq softhsm2 >/dev/null
fi
mkdir -p "$dir/tokens"
cat > "$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
CONF
export SOFTHSM2_CONF="$dir/softhsm2.conf"
if ! softhsm2-util --show-slots 2>/dev/null | grep -q 'Label:.*bench'; then
  softhsm2-util --init-token --free --label bench --so-pin 12345678 --pin 1234 >/dev/null
fi
slot=$(softhsm2-util --show-slots | awk '/^Slot [0-9]+/{s=$2} /Label: *bench/{print s; exit}')
echo "export SOFTHSM2_CONF=$dir/softhsm2.conf"
echo "export SOFTHSM_SLOT=$slot"
echo "# grep11-bench --target pkcs11=/usr/lib/softhsm/libsofthsm2.so,slot=\$SOFTHSM_SLOT,pin=1234,label=softhsm ..." 
