#!/usr/bin/env bash
# Makes the device PKI for the AWS IoT credentials provider tests in DIR: a
# device CA, a device certificate (CN kinagg-test-thing, clientAuth) signed
# by it, and a rogue device certificate with the same name signed by a CA
# the server does not trust.
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
[ -f done ] && exit 0
ca() { openssl req -x509 -nodes -newkey rsa:2048 -keyout "$1.key" -subj "/CN=$2" -days 3650 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$1.crt" 2>/dev/null; }
device() { # NAME CA
  openssl req -new -nodes -newkey rsa:2048 -keyout "$1.key" -subj "/CN=kinagg-test-thing" -out "$1.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' > "$1.cnf"
  openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days 825 -extfile "$1.cnf" \
    -out "$1.crt" 2>/dev/null
}
ca device-ca "kinagg test device CA"
ca rogue-ca "not the device CA"
device device device-ca
device rogue rogue-ca
touch done
