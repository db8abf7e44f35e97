#!/usr/bin/env bash
# Makes the test PKI in DIR: a CA, a server certificate for DNS:localhost
# signed by it, an expired one (valid only in 2020), and an unrelated CA.
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
[ -f done ] && exit 0
sub() { openssl req -new -nodes -newkey rsa:2048 -keyout "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null; }
openssl req -x509 -nodes -newkey rsa:2048 -keyout ca.key -subj "/CN=kinagg test CA" -days 3650 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt 2>/dev/null
openssl req -x509 -nodes -newkey rsa:2048 -keyout other-ca.key -subj "/CN=some other CA" -days 3650 \
  -addext "basicConstraints=critical,CA:TRUE" -out other-ca.crt 2>/dev/null
printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext.cnf
sub server localhost
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -extfile ext.cnf -out server.crt 2>/dev/null
# expired: openssl ca can set both dates
sub expired localhost
mkdir -p ca-db && : > ca-db/index.txt && echo 01 > ca-db/serial
cat > ca.cnf <<CNF
[ca]
default_ca = test
[test]
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
[ext]
subjectAltName = DNS:localhost
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
CNF
openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -extensions ext -in expired.csr \
  -startdate 20200101000000Z -enddate 20200201000000Z -out expired.crt 2>/dev/null
touch done
