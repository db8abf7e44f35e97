#!/usr/bin/env bash
# kinagg-cat with credentials from where programs run, each time in an
# environment holding nothing else: only AWS_CONTAINER_CREDENTIALS_FULL_URI,
# only the IMDS endpoint override, only the AWS IoT options over mutual TLS.
# The lines shipped are read back by tests/net/reader.js and by kinagg-tail
# (container credentials); no credentials at
# all, or a device certificate of another CA, is a setup error that says why.
#   tools_creds_test.sh PROXY_PORT KINESALITE_PORT CREDS_PORTS_FILE PKI_DIR DEVICE_PKI_DIR SEED
# Prints "tools-creds: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
PROXY=$1 KINESALITE=$2 PORTS=$3 PKI=$4 DPKI=$5 SEED=$6
B=build
pass=0 fail=0
check() { # DESCRIPTION, then a shell condition
  local what=$1; shift
  if eval "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi
}
port() { awk -v n="$1" '$1 == n { print $2 }' "$PORTS"; }
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
# an environment with no credentials in it, the region and the proxy as the endpoint
bare() { env -i PATH="$PATH" HOME="$home" AWS_REGION=us-east-1 AWS_ENDPOINT_URL_KINESIS="http://127.0.0.1:$PROXY" "$@"; }
stream=tools-creds-$SEED

bare AWS_ACCESS_KEY_ID=AKIDKINAGGTEST AWS_SECRET_ACCESS_KEY=kinagg/test/secret+KEY \
  ./$B/kinagg-cat --stream $stream --create 2 </dev/null 2>/dev/null
check "the stream is made" test $? -eq 0

: > $B/tools-creds-all.tsv
ship() { # NAME, then the environment and options that give the credentials
  local name=$1; shift
  local lines=$B/tools-creds-$name.tsv
  for i in $(seq 300); do printf 'key-%s-%d\tline %d shipped with %s credentials\n' "$name" $((i % 17)) $i "$name"; done > $lines
  cat $lines >> $B/tools-creds-all.tsv
  bare "$@" --stream $stream --tab-key $lines 2> $B/tools-creds-$name.err
  local rc=$?
  check "kinagg-cat with $name credentials exits 0 (got $rc: $(tail -1 $B/tools-creds-$name.err))" test $rc -eq 0
  check "kinagg-cat with $name credentials delivered all 300 lines" "grep -q '300 lines, 300 delivered' $B/tools-creds-$name.err"
}
ship container AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:$(port container)/creds/good" \
  AWS_CONTAINER_AUTHORIZATION_TOKEN=kinagg-container-token ./$B/kinagg-cat
ship imds AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$(port imds)" ./$B/kinagg-cat
ship iot ./$B/kinagg-cat --iot-endpoint "localhost:$(port iot)" --iot-role-alias kinagg-test-alias \
  --iot-thing-name kinagg-test-thing --cert $DPKI/device.crt --key $DPKI/device.key --ca-file $PKI/ca.crt
node --no-warnings tests/net/reader.js --endpoint http://127.0.0.1:$KINESALITE --stream $stream \
  --lines $B/tools-creds-all.tsv >&2
check "the reader finds every line once" test $? -eq 0
# kinagg-tail reads them back with only the container endpoint
bare AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:$(port container)/creds/good" \
  AWS_CONTAINER_AUTHORIZATION_TOKEN=kinagg-container-token ./$B/kinagg-tail --stream $stream --with-key \
  > $B/tools-creds-tail.txt 2> $B/tools-creds-tail.err
rc=$?
check "kinagg-tail with container credentials exits 0 (got $rc: $(tail -1 $B/tools-creds-tail.err))" test $rc -eq 0
check "kinagg-tail with container credentials prints all 900 lines" \
  "[ \"\$(cut -f2- $B/tools-creds-tail.txt | sort | md5sum)\" = \"\$(sort $B/tools-creds-all.tsv | md5sum)\" ]"

# nothing anywhere: a setup error naming every place looked at
bare AWS_EC2_METADATA_DISABLED=true ./$B/kinagg-cat --stream $stream $B/tools-creds-iot.tsv 2> $B/tools-creds-none.err
rc=$?
check "no credentials: exit 2 (got $rc)" test $rc -eq 2
for place in "no AWS credentials found" "environment variables" "profile \[default\]" "web identity" "container" \
  "EC2 instance metadata"; do
  check "no credentials: the error names '$place'" "grep -q '$place' $B/tools-creds-none.err"
done
# a device certificate of another CA: the TLS handshake fails, said so
bare ./$B/kinagg-cat --iot-endpoint "localhost:$(port iot)" --iot-role-alias kinagg-test-alias \
  --cert $DPKI/rogue.crt --key $DPKI/rogue.key --ca-file $PKI/ca.crt --stream $stream $B/tools-creds-iot.tsv \
  2> $B/tools-creds-rogue.err
rc=$?
check "a rogue device certificate: exit 2 (got $rc)" test $rc -eq 2
check "a rogue device certificate: the error names AWS IoT" "grep -q 'AWS IoT credentials provider' $B/tools-creds-rogue.err"
bare ./$B/kinagg-cat --iot-endpoint "localhost:$(port iot)" --stream $stream $B/tools-creds-iot.tsv 2> $B/tools-creds-half.err
check "--iot-endpoint alone: exit 2 naming what is missing" "[ $? -eq 2 ] && grep -q -- '--iot-role-alias' $B/tools-creds-half.err"
# what the AWS CLI refuses, the tools refuse, with other credentials at hand
# (here the container's): never those instead
printf '[default]\naws_access_key_id = AKIDKINAGGTEST\naws_secret_access_key = kinagg/test/secret+KEY\n' \
  > "$home/creds-ok"
container=(AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:$(port container)/creds/good"
           AWS_CONTAINER_AUTHORIZATION_TOKEN=kinagg-container-token)
refused() { # DESCRIPTION, MESSAGE, then the environment and options
  local what=$1 msg=$2; shift 2
  bare "${container[@]}" "$@" </dev/null > /dev/null 2> $B/tools-creds-refused.err
  local rc=$?
  check "$what: exit 2 (got $rc: $(tail -1 $B/tools-creds-refused.err))" test $rc -eq 2
  check "$what: the error says '$msg'" "grep -qF -- \"\$msg\" $B/tools-creds-refused.err"
}
refused "--profile naming no profile" "(prdo) could not be found" \
  AWS_SHARED_CREDENTIALS_FILE="$home/creds-ok" ./$B/kinagg-cat --profile prdo --stream $stream $B/tools-creds-iot.tsv
refused "AWS_PROFILE naming no profile, with keys in the environment" "(prdo) could not be found" \
  AWS_SHARED_CREDENTIALS_FILE="$home/creds-ok" AWS_PROFILE=prdo AWS_ACCESS_KEY_ID=AKIDKINAGGTEST \
  AWS_SECRET_ACCESS_KEY=kinagg/test/secret+KEY ./$B/kinagg-tail --stream $stream
printf '[default]\naws_access_key_id = AKIDOLD\naws_secret_access_key = old\n[default]\n' > "$home/creds-twice"
cat "$home/creds-ok" >> "$home/creds-twice"
refused "[default] twice in the credentials file" "[default] appears twice" \
  AWS_SHARED_CREDENTIALS_FILE="$home/creds-twice" ./$B/kinagg-cat --stream $stream $B/tools-creds-iot.tsv
refused "AWS_ACCESS_KEY_ID without its secret" "AWS_SECRET_ACCESS_KEY is not" \
  AWS_ACCESS_KEY_ID=AKIDKINAGGTEST ./$B/kinagg-cat --stream $stream $B/tools-creds-iot.tsv
refused "--stream ''" '--stream "": empty' ./$B/kinagg-cat --stream "" $B/tools-creds-iot.tsv
refused "--stream-arn ''" '--stream-arn "": empty' ./$B/kinagg-tail --stream-arn ""
# no HOME (cron, a service): the password database's home, never the
# working directory's .aws; here the container's credentials are used
mkdir -p "$home/cwd/.aws"
printf '[default]\ncredential_process = touch %s/ran\n' "$home" > "$home/cwd/.aws/config"
printf '[default]\naws_access_key_id = AKIDFROMCWD\naws_secret_access_key = cwd\n' > "$home/cwd/.aws/credentials"
(cd "$home/cwd" && env -i PATH="$PATH" AWS_REGION=us-east-1 AWS_ENDPOINT_URL_KINESIS="http://127.0.0.1:$PROXY" \
  AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent "${container[@]}" \
  "$OLDPWD/$B/kinagg-cat" --stream $stream "$OLDPWD/$B/tools-creds-iot.tsv" 2> "$OLDPWD/$B/tools-creds-nohome.err")
check "no HOME, AWS files named: delivered with the container's credentials" \
  "grep -q '300 lines, 300 delivered' $B/tools-creds-nohome.err"
(cd "$home/cwd" && env -i PATH="$PATH" AWS_REGION=us-east-1 AWS_ENDPOINT_URL_KINESIS="http://127.0.0.1:$PROXY" \
  "${container[@]}" "$OLDPWD/$B/kinagg-cat" --stream $stream "$OLDPWD/$B/tools-creds-iot.tsv" \
  2> "$OLDPWD/$B/tools-creds-nohome.err")
check "no HOME: the working directory's credential_process is not run" test ! -e "$home/ran"
check "no HOME: the container's credentials, not the working directory's keys (which the proxy refuses)" \
  "grep -q '300 lines, 300 delivered' $B/tools-creds-nohome.err"
# credentials that expire (a credential_process whose keys last 305 s):
# kinagg-cat asks for new ones before they expire, by their expiry, from
# the first ones on (it asked only after the service refused them), and a
# signal during the first fetch stops it at once with status 0
mkdir -p "$home/exp/.aws"
cat > "$home/exp/creds.sh" <<EOS
#!/bin/sh
echo ran >> "$home/exp/runs"
node -e 'process.stdout.write(JSON.stringify({Version: 1, AccessKeyId: "AKIDKINAGGTEST",
  SecretAccessKey: "kinagg/test/secret+KEY", Expiration: new Date(Date.now() + 305000).toISOString()}))'
EOS
chmod +x "$home/exp/creds.sh"
printf '[default]\ncredential_process = %s/exp/creds.sh\n' "$home" > "$home/exp/.aws/config"
(for i in $(seq 40); do printf 'expiring line %d\n' $i; sleep 0.25; done) |
  env -i PATH="$PATH" HOME="$home/exp" AWS_REGION=us-east-1 AWS_ENDPOINT_URL_KINESIS="http://127.0.0.1:$PROXY" \
  ./$B/kinagg-cat --stream $stream 2> $B/tools-creds-expiring.err
rc=$?
runs=$(wc -l < "$home/exp/runs")
check "credentials that expire in 305 s: exit 0 (got $rc), all 40 lines delivered" \
  "[ $rc -eq 0 ] && grep -q '40 lines, 40 delivered' $B/tools-creds-expiring.err"
check "credentials that expire in 305 s: asked for again before they expire, within 10 s ($runs runs of credential_process)" \
  "[ $runs -ge 2 ] && ! grep -q Expired $B/tools-creds-expiring.err"
printf '#!/bin/sh\nsleep 30\n' > "$home/exp/slow.sh"; chmod +x "$home/exp/slow.sh"
printf '[default]\ncredential_process = %s/exp/slow.sh\n' "$home" > "$home/exp/.aws/config"
env -i PATH="$PATH" HOME="$home/exp" AWS_REGION=us-east-1 ./$B/kinagg-cat --stream $stream </dev/null \
  2> $B/tools-creds-slow.err & pid=$!
sleep 1; kill -TERM $pid; t0=$(date +%s%N); wait $pid; rc=$?; ms=$((($(date +%s%N) - t0) / 1000000))
check "SIGTERM while a credential_process runs: exit 0 (got $rc) at once (${ms} ms), saying why" \
  "[ $rc -eq 0 ] && [ $ms -lt 2000 ] && grep -q 'while fetching the credentials' $B/tools-creds-slow.err"
# (the shell it was run with, as the AWS CLI leaves what that shell started)
check "SIGTERM while a credential_process runs: its shell is gone too" "! pgrep -f '^sh -c $home/exp/slow.sh' >/dev/null"
pkill -f "$home/exp/slow.sh"
cat $B/tools-creds-none.err $B/tools-creds-rogue.err >&2
echo "tools-creds: $pass passed, $fail failed"
[ $fail -eq 0 ]
