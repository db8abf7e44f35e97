#!/usr/bin/env bash
# End-to-end tests of kinagg-cat and kinagg-tail against the test servers.
#   tools_test.sh PROXY_PORT KINESALITE_PORT SEED
# Prints "tools: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
PROXY=$1 KINESALITE=$2 SEED=$3
B=build
. tests/net/checks.sh
export AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:$PROXY
lines=$B/tool-lines.tsv
node -e "
let s = BigInt($SEED) | 1n; const r = (n) => { s = (s * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n); return Number((s >> 33n) % BigInt(n)); };
const out = [];
for (let i = 0; i < 200000; i++) out.push('user-' + r(5000) + '\t' + i + ' GET /item/' + r(1000000) + ' ' + 'é'.repeat(r(3)) + 'x'.repeat(r(60)));
require('fs').writeFileSync('$lines', out.join('\n') + '\n');"

for proto in json cbor; do
  stream=tools-$proto-$SEED
  extra=""; [ $proto = cbor ] && extra="--max-entries 100"  # kinesalite: CBOR answers under 16 KiB
  ./$B/kinagg-cat --stream $stream --create 4 --tab-key --protocol $proto $extra --stats-json $B/cat-$proto.json $lines \
    2> $B/cat-$proto.err
  ok test $? -eq 0
  cat $B/cat-$proto.err >&2
  # kinagg-tail reads back exactly those lines (in JSON: kinesalite cuts CBOR
  # answers at 16 KiB, and GetRecords answers are larger)
  ./$B/kinagg-tail --stream $stream --with-key 2>/dev/null | cut -f2- | sort > $B/tail-$proto.txt
  sort $lines > $B/lines-sorted.txt
  check "kinagg-tail ($proto) reads back exactly the lines sent" cmp -s $B/tail-$proto.txt $B/lines-sorted.txt
  # the independent reader: each line once, on its shard, in order per key;
  # and the Kinesis records it reads are as many as kinagg-cat counted
  kr=$(node -e "process.stdout.write(String(require('./$B/cat-$proto.json').kinesis_records))")
  ok node --no-warnings tests/net/reader.js --endpoint http://127.0.0.1:$KINESALITE --stream $stream --lines $lines \
    --expect-kinesis-records "$kr"
  check "--stats-json ($proto) counts every line" \
    "node -e \"const s=require('./$B/cat-$proto.json'); process.exit(s.user_records===200000 && s.lines===200000 && s.failed===0 && s.kinesis_records>0 && s.kinesis_records<2000 ? 0 : 1)\""
done

# CBOR without aggregation and without --max-entries: kinesalite cuts the
# answers to 500-entry requests at 16 KiB; the producer halves its requests
# until the answers can be read, and every line arrives (some twice: the
# requests whose answers were cut were stored)
seq -f 'cut-%g' 1 3000 > $B/cut-lines.txt
timeout 120 ./$B/kinagg-cat --stream tools-cut-$SEED --create 1 --protocol cbor --no-aggregate \
  --stats-json $B/cat-cut.json $B/cut-lines.txt 2> $B/cat-cut.err
check "CBOR, no aggregation, answers cut at 16 KiB: kinagg-cat exits 0" test $? -eq 0
check "CBOR, answers cut at 16 KiB: --stats-json counts 3000 delivered" \
  "node -e \"const s=require('./$B/cat-cut.json'); process.exit(s.user_records===3000 && s.failed===0 ? 0 : 1)\""
./$B/kinagg-tail --stream tools-cut-$SEED 2>/dev/null | sort -u > $B/tail-cut.txt
check "CBOR, answers cut at 16 KiB: kinagg-tail finds every line" "sort -u $B/cut-lines.txt | cmp -s - $B/tail-cut.txt"
tail -3 $B/cat-cut.err >&2

# refused credentials and a missing stream: non-zero, with the count named
printf 'a\nb\nc\n' > $B/three.txt
AWS_SECRET_ACCESS_KEY=wrong ./$B/kinagg-cat --stream tools-json-$SEED $B/three.txt 2> $B/cat-badcreds.err
check "wrong credentials exit 1" test $? -eq 1
check "wrong credentials name the failed count" "grep -q '3 records failed' $B/cat-badcreds.err"
# the shard map note names the ListShards error (a PutRecords error can be
# the producer's newest by the time the map is seen unavailable)
check "wrong credentials: the shard map note names the ListShards error" \
  "grep -q 'shard map unavailable (ListShards: InvalidSignatureException' $B/cat-badcreds.err"
seq -f 'tls-%g' 1 20000 | timeout 5 ./$B/kinagg-cat --stream tools-json-$SEED --endpoint https://127.0.0.1:$PROXY \
  2> $B/cat-tls.err
check "https to a plain-http port: the shard map note names the ListShards error" \
  "grep -q 'shard map unavailable (ListShards: TLS' $B/cat-tls.err"
./$B/kinagg-cat --stream no-such-stream-$SEED $B/three.txt 2> $B/cat-nostream.err
check "missing stream exits 1" test $? -eq 1
check "missing stream names the failed count" "grep -q '3 records failed' $B/cat-nostream.err"
cat $B/cat-badcreds.err $B/cat-nostream.err >&2

# --failed on a full disk (writes past 8 KiB fail with EFBIG): the file
# holds exactly the whole records counted, and nothing cut short
seq -f 'full-disk-record-%g' 1 2000 > $B/full-in.txt
rm -f $B/full.failed $B/full.json
( ulimit -f 8; trap '' XFSZ; exec ./$B/kinagg-cat --stream no-such-stream-$SEED --failed $B/full.failed \
  --stats-json $B/full.json $B/full-in.txt 2> $B/cat-full.err )
rc=$?
n=$(node -e "process.stdout.write(String(require('./$B/full.json').failed_written))" 2>/dev/null)
check "--failed on a full disk: exit 1 (got $rc), failed_written $n = the whole lines in the file ($(wc -l < $B/full.failed))" \
  "[ $rc -eq 1 ] && [ -n '$n' ] && [ '$n' -gt 0 ] && [ \"\$(wc -l < $B/full.failed)\" -eq '$n' ]"
check "--failed on a full disk: the file ends with a newline and holds only whole input lines" \
  "[ \"\$(tail -c1 $B/full.failed | od -An -tx1 | tr -d ' ')\" = 0a ] && ! grep -qvxFf $B/full-in.txt $B/full.failed"
check "--failed on a full disk: the message counts the same records" \
  "grep -q '^kinagg-cat: $n records written to $B/full.failed; writing it failed: File too large' $B/cat-full.err"
cat $B/cat-full.err >&2

# --failed and --stats-json naming one file (also by another path): refused
# at the start, since the counts would replace the failed records
rm -f $B/same.out
./$B/kinagg-cat --stream tools-json-$SEED --failed $B/same.out --stats-json ./$B/same.out $B/three.txt \
  2> $B/cat-same.err
rc=$?
check "--failed F --stats-json ./F is refused, exit 2 (got $rc), with a message" \
  "[ $rc -eq 2 ] && grep -q 'are the same file' $B/cat-same.err && [ ! -e $B/same.out ]"
ln -sf same.target $B/same.link && : > $B/same.target
./$B/kinagg-cat --stream tools-json-$SEED --failed $B/same.link --stats-json $B/same.target $B/three.txt \
  2> $B/cat-same.err
rc=$?
check "--failed LINK --stats-json its target is refused, exit 2 (got $rc)" \
  "[ $rc -eq 2 ] && grep -q 'are the same file' $B/cat-same.err"

# the AWS CLI's option names: --endpoint-url, --stream-name, --ca-bundle
printf 'cli-name-%s\n' 1 2 3 > $B/cli-names.txt
AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:1 ./$B/kinagg-cat --endpoint-url http://127.0.0.1:$PROXY \
  --stream-name tools-json-$SEED --ca-bundle /dev/null $B/cli-names.txt 2> $B/cat-cli-names.err
check "--endpoint-url, --stream-name and --ca-bundle taken as the AWS CLI takes them" test $? -eq 0
got=$(AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:1 ./$B/kinagg-tail --endpoint-url http://127.0.0.1:$PROXY \
  --stream-name tools-json-$SEED --grep cli-name- 2>/dev/null | wc -l)
check "kinagg-tail --endpoint-url --stream-name reads the 3 lines (got $got)" test "$got" -eq 3

# an endpoint without http:// or https:// is a usage error (it was taken as
# https, and every call to a plain-http port failed and was retried for ever)
for tool in kinagg-cat kinagg-tail; do
  for o in --endpoint --endpoint-url; do
    timeout 10 ./$B/$tool --stream tools-json-$SEED $o 127.0.0.1:$PROXY </dev/null >/dev/null 2> $B/noscheme.err
    rc=$?
    check "$tool $o 127.0.0.1:PORT (no scheme) exits 2 (got $rc), naming the form expected" \
      "[ $rc -eq 2 ] && grep -q 'expected http://host\[:port\] or https://host\[:port\]' $B/noscheme.err"
  done
  AWS_ENDPOINT_URL_KINESIS=127.0.0.1:$PROXY timeout 10 ./$B/$tool --stream tools-json-$SEED </dev/null >/dev/null \
    2> $B/noscheme.err
  rc=$?
  check "$tool with AWS_ENDPOINT_URL_KINESIS=127.0.0.1:PORT exits 2 (got $rc), naming the variable" \
    "[ $rc -eq 2 ] && grep -q 'from AWS_ENDPOINT_URL_KINESIS' $B/noscheme.err"
done
printf '[default]\nendpoint_url = 127.0.0.1:%s\n' $PROXY > $B/noscheme.config
(unset AWS_ENDPOINT_URL_KINESIS; AWS_CONFIG_FILE=$B/noscheme.config timeout 10 ./$B/kinagg-cat \
  --stream tools-json-$SEED </dev/null 2> $B/noscheme.err)
rc=$?
check "kinagg-cat with the profile's endpoint_url = 127.0.0.1:PORT exits 2 (got $rc), naming the setting" \
  "[ $rc -eq 2 ] && grep -q \"from the AWS config file: the profile's endpoint_url\" $B/noscheme.err"

# --grep, --from latest, --follow
want=$(grep -c 'item/12' $lines)
got=$(./$B/kinagg-tail --stream tools-json-$SEED --grep 'item/12' 2>/dev/null | wc -l)
check "--grep finds $want lines (got $got)" test "$want" -eq "$got"
got=$(./$B/kinagg-tail --stream tools-json-$SEED --from latest 2>/dev/null | wc -l)
check "--from latest on a quiet stream prints nothing (got $got)" test "$got" -eq 0
./$B/kinagg-tail --stream tools-json-$SEED --from latest --follow > $B/follow.txt 2>/dev/null &
tailpid=$!
sleep 2
printf 'k\tfollowed line one\nk\tfollowed line two\n' | ./$B/kinagg-cat --stream tools-json-$SEED --tab-key 2>/dev/null
for _ in $(seq 50); do [ "$(wc -l < $B/follow.txt)" -ge 2 ] && break; sleep 0.2; done
kill $tailpid 2>/dev/null
check "--follow prints new records" "grep -q 'followed line two' $B/follow.txt"

# --follow | head -1 on a stream gone quiet: the reader has gone, and
# kinagg-tail notices while it waits (not only at a next write that a quiet
# stream never brings), ending with status 0 and its checkpoint saved
printf 'quiet-%s\n' 1 2 3 | ./$B/kinagg-cat --stream tools-quiet-$SEED --create 1 2>/dev/null
rm -f $B/quiet.ckpt
t0=$(date +%s%N)
first=$(timeout 20 ./$B/kinagg-tail --stream tools-quiet-$SEED --follow --checkpoint $B/quiet.ckpt 2>/dev/null | head -1;
  echo " ${PIPESTATUS[0]}")
first=${first//$'\n'/} # "LINE STATUS"
ms=$((($(date +%s%N) - t0) / 1000000))
check "--follow | head -1 on a quiet stream: kinagg-tail ends with status 0 (got '$first' after $ms ms)" \
  "[ \"\$first\" = 'quiet-1 0' ] && [ $ms -lt 5000 ]"
check "--follow | head -1 on a quiet stream: the checkpoint is saved" "grep -q '^shardId-' $B/quiet.ckpt"

# children after resharding: the producer test split a shard of split-$SEED
if [ -n "${SPLIT_STREAM:-}" ]; then
  n=$(./$B/kinagg-tail --stream "$SPLIT_STREAM" 2>/dev/null | sort -u | wc -l)
  check "kinagg-tail follows the split shard's children ($n distinct records of ${SPLIT_RECORDS:-?})" \
    test "$n" -eq "${SPLIT_RECORDS:-0}"
fi

# --help documents every option the tools take
for tool in kinagg-cat kinagg-tail; do
  help=$(./$B/$tool --help)
  for opt in $(grep -oh '"--[a-z-]*"' examples/$tool.c examples/tool_common.h | tr -d '"' | sort -u); do
    check "$tool --help documents $opt" "grep -q -- '$opt' <<<\"\$help\""
  done
done
# the AWS CLI's --cli-connect-timeout: taken, and out of range a usage error
for tool in kinagg-cat kinagg-tail; do
  ./$B/$tool --stream tools-json-$SEED --cli-connect-timeout 0 </dev/null >/dev/null 2> $B/connto.err; rc=$?
  check "$tool --cli-connect-timeout 0: exit 2 (got $rc), saying the range" \
    "[ $rc -eq 2 ] && grep -q '1-3600\|1 to 3600' $B/connto.err"
done
got=$(./$B/kinagg-tail --stream tools-json-$SEED --cli-connect-timeout 30 --grep cli-name- 2>/dev/null | wc -l)
check "kinagg-tail --cli-connect-timeout 30 reads the 3 lines (got $got)" test "$got" -eq 3
# a region botocore refuses (a space, a comment left in the config, too
# long) is a usage error, not signed for
echo x | ./$B/kinagg-cat --stream tools-json-$SEED --region 'us-west-2 # Oregon' 2> $B/badregion.err; rc=$?
check "a region that is not a region name: exit 2 and says so" \
  "[ $rc -eq 2 ] && grep -q 'is not a region name' $B/badregion.err"

# SIGHUP ignored by the parent (nohup, a closed ssh session) stays ignored,
# as kinagg-cat leaves it; SIGTERM still stops it, with status 0
nohup ./$B/kinagg-tail --stream tools-json-$SEED --follow >/dev/null 2>$B/tail-nohup.err </dev/null &
tp=$!
sleep 1; kill -HUP $tp 2>/dev/null; sleep 1
check "kinagg-tail under nohup: SIGHUP is ignored" "kill -0 $tp 2>/dev/null"
kill -TERM $tp 2>/dev/null; wait $tp; rc=$?
check "kinagg-tail under nohup: SIGTERM stops it with status 0" "[ $rc -eq 0 ]"

# a session token as long as a credentials file may hold (4,090 characters;
# the producer's default room for credentials took about 4,030 with the
# key and secret): straight to kinesalite, which takes any token
token=$(printf 'T%.0s' $(seq 4090))
printf 'one\ntwo\n' | AWS_ACCESS_KEY_ID=ASIALONGTOKEN AWS_SESSION_TOKEN=$token \
  ./$B/kinagg-cat --endpoint http://127.0.0.1:$KINESALITE --stream tools-token-$SEED --create 1 2> $B/token.err; rc=$?
check "a 4,090-character session token: kinagg-cat delivers (got $rc: $(tail -1 $B/token.err))" \
  "[ $rc -eq 0 ] && grep -q '2 delivered' $B/token.err"

echo "tools: $pass passed, $fail failed"
[ $fail -eq 0 ]
