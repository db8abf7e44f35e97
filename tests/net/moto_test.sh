#!/usr/bin/env bash
# kinagg-cat and kinagg-tail against moto, a second Kinesis written apart
# from kinesalite and kinesis-mock (Python's AWS mock, run as a server). After
# resharding, moto stores a record on the closed parent shard listed first
# with its hash key, not on the open child: an aggregate there keeps every
# record under the KCL's rule (the parent's range holds the child's), so it is
# delivered, not sent again for ever. moto speaks JSON only.
# Prints "moto: N passed, N failed"; without moto (python3 -c 'import moto'),
# says so and counts nothing.
set -uo pipefail
cd "$(dirname "$0")/../.."
B=build
. tests/net/checks.sh
if ! python3 -c 'import moto, boto3' 2>/dev/null; then
  echo "moto (Python) is not installed: not run"
  echo "moto: 0 passed, 0 failed"
  exit 0
fi
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
tmp=$(mktemp -d)
mkfifo "$tmp/in"
python3 tests/net/moto_server.py < "$tmp/in" > "$tmp/port" 2> "$tmp/moto.err" &
moto_pid=$!
exec 8> "$tmp/in"
trap 'exec 8>&-; wait $moto_pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
E=http://127.0.0.1:$(cat "$tmp/port")
kin() { # kin PYTHON: runs it with k, a boto3 Kinesis client of moto
  python3 -c "import boto3; k = boto3.client('kinesis', endpoint_url='$E'); $1"
}

seq -f 'before %g' 1 5000 > "$tmp/a"
seq -f 'after %g' 1 5000 > "$tmp/b"
timeout 60 ./$B/kinagg-cat --stream m --create 2 --endpoint $E "$tmp/a" 2> "$tmp/cat-a.err"
check "kinagg-cat to moto: every line delivered" "[ $? -eq 0 ]"
cat "$tmp/cat-a.err" >&2
kin "k.update_shard_count(StreamName='m', TargetShardCount=4, ScalingType='UNIFORM_SCALING')"
open=$(kin "print(k.describe_stream_summary(StreamName='m')['StreamDescriptionSummary']['OpenShardCount'])")
check "moto reshards the stream to 4 open shards" "[ '$open' = 4 ]"
timeout 60 ./$B/kinagg-cat --stream m --endpoint $E "$tmp/b" 2> "$tmp/cat-b.err"
check "kinagg-cat to moto after resharding: every line delivered, in time" "[ $? -eq 0 ]"
cat "$tmp/cat-b.err" >&2
check "after resharding: aggregates stored on the closed parents are delivered, not sent again (at most 8 Kinesis records)" \
  "grep -Eq 'delivered in [1-8] Kinesis records' $tmp/cat-b.err"
timeout 60 ./$B/kinagg-tail --stream m --endpoint $E 2> "$tmp/tail.err" | sort > "$tmp/got"
sort "$tmp/a" "$tmp/b" > "$tmp/want"
check "kinagg-tail reads back from moto each line once, across the resharding" cmp -s "$tmp/got" "$tmp/want"
cat "$tmp/tail.err" >&2
echo "moto: $pass passed, $fail failed"
[ $fail -eq 0 ]
