#!/usr/bin/env bash
# kinagg-cat and kinagg-tail against a second Kinesis implementation,
# kinesis-mock (tests/net/kinesis_mock.js), in both wire protocols: lines
# with binary bytes and large lines in, every line back exactly once from
# kinagg-tail in JSON and in CBOR and from the independent reader.
#   kinesis_mock_tools.sh PORT TLS_PORT SEED
# Prints "kinesis-mock tools: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
PORT=$1 TLS_PORT=$2 SEED=$3
B=build
. tests/net/checks.sh
export AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:$PORT
export LC_ALL=C
lines=$B/km-lines.tsv
# KEY<TAB>DATA: 20,000 lines on 3,000 keys, data of every byte but the
# newline (NUL, \r, invalid UTF-8), three of 100-300 KiB
node -e "
let s = BigInt($SEED) | 1n; const r = (n) => { s = (s * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n); return Number((s >> 33n) % BigInt(n)); };
const parts = [];
for (let i = 0; i < 20000; i++) {
  const big = i % 8000 === 17, n = big ? 100000 + r(200000) : r(200);
  const d = Buffer.alloc(n);
  for (let j = 0; j < n; j++) { let c = r(256); if (c === 10) c = 0; d[j] = c; }
  parts.push(Buffer.from('key-' + r(3000) + '\t' + i + ':'), d, Buffer.from('\n'));
}
require('fs').writeFileSync('$lines', Buffer.concat(parts));"
sort $lines > $B/km-lines-sorted.txt

for proto in json cbor; do
  stream=km-tools-$proto-$SEED
  # (kinesis-mock takes seconds to store a large request on a busy machine)
  timeout 300 ./$B/kinagg-cat --stream $stream --create 4 --tab-key --protocol $proto --cli-read-timeout 120 \
    --stats-json $B/km-cat-$proto.json $lines 2> $B/km-cat-$proto.err
  check "kinagg-cat ($proto) exits 0 (got $?)" test $? -eq 0
  cat $B/km-cat-$proto.err >&2
  check "--stats-json ($proto) counts every line delivered" \
    "node -e \"const s=require('./$B/km-cat-$proto.json'); process.exit(s.user_records===20000 && s.lines===20000 && s.failed===0 && s.kinesis_records>0 && s.kinesis_records<1000 ? 0 : 1)\""
  # the independent reader: each line once, on its shard, in order per key
  kr=$(node -e "process.stdout.write(String(require('./$B/km-cat-$proto.json').kinesis_records))")
  ok timeout 300 node --no-warnings tests/net/reader.js --endpoint http://127.0.0.1:$PORT --stream $stream \
    --lines $lines --expect-kinesis-records "$kr"
  for read in json cbor; do
    timeout 300 ./$B/kinagg-tail --stream $stream --protocol $read --with-key 2>$B/km-tail.err | cut -f2- | sort \
      > $B/km-tail-$proto-$read.txt
    check "kinagg-tail --protocol $read reads back exactly the lines kinagg-cat sent in $proto" \
      cmp -s $B/km-tail-$proto-$read.txt $B/km-lines-sorted.txt
  done
  # the JSON output names a shard, the user record's key and its arrival time
  first=$(timeout 60 ./$B/kinagg-tail --stream $stream --protocol cbor --output json 2>/dev/null |
    grep -m1 '"aggregated":true')
  check "kinagg-tail --protocol cbor --output json: shard, key and arrival time ($first)" \
    "node -e \"const o=JSON.parse(process.argv[1]); process.exit(/^shardId-/.test(o.shard) && /^key-/.test(o.partition_key) && o.aggregated===true && Math.abs(Date.parse(o.arrival_time)-Date.now())<86400000 ? 0 : 1)\" '$first'"
done

# a checkpoint: a second run prints only what came after the first
stream=km-tools-json-$SEED
rm -f $B/km.ckpt
timeout 60 ./$B/kinagg-tail --stream $stream --protocol cbor --checkpoint $B/km.ckpt >/dev/null 2>&1
printf 'key-1\tafter the checkpoint\n' | timeout 60 ./$B/kinagg-cat --stream $stream --tab-key --protocol cbor 2>/dev/null
got=$(timeout 60 ./$B/kinagg-tail --stream $stream --protocol cbor --checkpoint $B/km.ckpt 2>/dev/null)
check "kinagg-tail --checkpoint (cbor) then prints only the new line (got '$got')" test "'$got'" = "'after the checkpoint'"

# eight streams created at once: kinesis-mock, as Kinesis, lets five be
# created at a time and refuses more with LimitExceededException, which
# --create waits out
for i in 1 2 3 4 5 6 7 8; do
  (printf 'x\n' | timeout 120 ./$B/kinagg-cat --stream km-create-$i-$SEED --create 1 2> $B/km-create-$i.err
   echo $? > $B/km-create-$i.rc) &
done
wait
rcs=$(cat $B/km-create-?.rc | tr -d '\n') waited=$(cat $B/km-create-?.err | grep -c 'trying again')
check "eight --create at once all exit 0 (got $rcs), at least one after waiting (got $waited)" \
  "test $rcs = 00000000 && test $waited -ge 1"

# its HTTPS port's certificate names no host: kinagg-cat says so and gives
# the records up at once (exit 1, written to --failed), not retrying for ever
node -e "process.stdout.write(require('./tests/node_modules/kinesis-local/server.json').server.cert)" > $B/km-cert.pem
rm -f $B/km-cert.failed
printf 'one\ntwo\nthree\n' | timeout 60 ./$B/kinagg-cat --stream km-tls-$SEED --endpoint https://localhost:$TLS_PORT \
  --ca-file $B/km-cert.pem --failed $B/km-cert.failed 2> $B/km-cert.err
rc=$?
check "a refused certificate: kinagg-cat exits 1 (got $rc) and says why" \
  "test $rc -eq 1 && grep -q 'host name mismatch' $B/km-cert.err && grep -q 'certificate is refused' $B/km-cert.err"
check "a refused certificate: the 3 lines are written to --failed" "test \"\$(cat $B/km-cert.failed 2>/dev/null)\" = \"\$(printf 'one\ntwo\nthree')\""

echo "kinesis-mock tools: $pass passed, $fail failed"
[ $fail -eq 0 ]
