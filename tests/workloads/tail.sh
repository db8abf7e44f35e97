#!/usr/bin/env bash
# kinagg-tail as a long-running reader, against kinesalite behind the
# verifying proxy: a 17 MB shard, a 5 s outage and injected failures while
# following, restarts from a checkpoint (after SIGKILL, and after SIGTERM
# inside an aggregate), JSON output of binary records, --from timestamp,
# --shard, a closed pipe, bad option values.
#   tail.sh PROXY_PORT KINESALITE_PORT SEED
# Needs build/kinagg-tail and build/kinagg-cat. Prints ok/FAIL lines and
# "workloads-tail: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
PROXY=$1 KINESALITE=$2 SEED=$3
B=build
W=$B/workloads-tail
rm -rf "$W"; mkdir -p "$W"
pass=0 fail=0
check() { # DESCRIPTION, then a shell condition
  local what=$1; shift
  if eval "$@"; then pass=$((pass + 1)); echo "ok: $what"; else fail=$((fail + 1)); echo "FAIL: $what"; fi
}
export AWS_ACCESS_KEY_ID=AKIDKINAGGTEST AWS_SECRET_ACCESS_KEY=kinagg/test/secret+KEY AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:$PROXY
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_ENDPOINT_URL
TAIL=./$B/kinagg-tail CAT=./$B/kinagg-cat
put() { node --no-warnings tests/workloads/tail_put.js --endpoint http://127.0.0.1:$KINESALITE "$@"; }
lines_of() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }
wait_lines() { # FILE N SECONDS: until FILE has N lines
  local i
  for ((i = 0; i < $3 * 10; i++)); do [ "$(lines_of "$1")" -ge "$2" ] && return 0; sleep 0.1; done
  return 1
}
same_sorted() { cmp -s <(sort "$1") <(sort "$2"); }
# N lines "PREFIX-i-..." of seeded random text, lengths LO..HI
gen() {
  node -e "
let s = BigInt($SEED) * 7919n + BigInt('$2'.length) | 1n;
const r = (n) => { s = (s * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n); return Number((s >> 33n) % BigInt(n)); };
const a = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 /.:é';
const out = [];
for (let i = 0; i < $3; i++) { let l = '$2-' + i + '-'; const n = $4 + r($5 - $4 + 1); let x = '';
  for (let j = 0; j < 97; j++) x += a[r(a.length)];
  while (l.length < n) l += x; out.push(l.slice(0, n)); }
require('fs').writeFileSync('$1', out.join('\n') + '\n');"
}

# ---- 0. without --follow, a read that fails for 60 s ends the run ----------
# (in the background meanwhile, through a proxy of its own that fails every
# GetRecords: the ListShards calls that still work are no progress)
printf 'g-%d\n' $(seq 5) > $W/giveup.txt
$CAT --stream tail-giveup-$SEED --create 1 $W/giveup.txt 2>/dev/null
rm -f $W/gproxy.in; mkfifo $W/gproxy.in
node tests/workloads/tail_proxy.js $PROXY $W/gproxy.log < $W/gproxy.in > $W/gproxy.port &
gproxy_pid=$!
exec 6> $W/gproxy.in
for _ in $(seq 50); do [ -s $W/gproxy.port ] && break; sleep 0.1; done
echo "fail GetRecords 500 1000000" >&6
( t0=$(date +%s); timeout 180 $TAIL --stream tail-giveup-$SEED --endpoint http://127.0.0.1:$(tr -dc 0-9 < $W/gproxy.port) \
    > $W/giveup.out 2> $W/giveup.err; echo "$? $(( $(date +%s) - t0 ))" > $W/giveup.rc ) &
giveup_pid=$!

# ---- 1. a shard holding 17 MB: answers larger than the receive buffer -------
gen $W/big.txt big 1700 9000 11000
put --stream tail-big-$SEED --shards 1 --agg-kib 1000 lines $W/big.txt
t0=$(date +%s%N)
$TAIL --stream tail-big-$SEED > $W/big.out 2> $W/big.err
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "17 MB shard: exit 0 (got $rc, ${ms} ms)" test $rc -eq 0
check "17 MB shard: $(wc -c < $W/big.txt) bytes printed exactly, in order" cmp -s $W/big.out $W/big.txt
check "17 MB shard: answers over the receive buffer were asked again with a smaller Limit" \
  "grep -q 'larger than the receive buffer; asking for' $W/big.err"
cat $W/big.err

# ---- 2. --follow through a 5 s outage and injected failures -----------------
gen $W/fa.txt fa 2000 20 120; gen $W/fb.txt fb 2000 20 120; gen $W/fc.txt fc 2000 20 120
$CAT --stream tail-fol-$SEED --create 2 $W/fa.txt 2>/dev/null
rm -f $W/proxy.in; mkfifo $W/proxy.in
node tests/workloads/tail_proxy.js $PROXY $W/proxy.log < $W/proxy.in > $W/proxy.port &
proxy_pid=$!
exec 7> $W/proxy.in
trap 'exec 7>&-; kill $proxy_pid 2>/dev/null' EXIT
for _ in $(seq 50); do [ -s $W/proxy.port ] && break; sleep 0.1; done
TP=$(tr -dc 0-9 < $W/proxy.port)
$TAIL --stream tail-fol-$SEED --follow --endpoint http://127.0.0.1:$TP > $W/fol.out 2> $W/fol.err &
tail_pid=$!
wait_lines $W/fol.out 2000 20
check "--follow: the first 2,000 records printed" test "$(lines_of $W/fol.out)" -eq 2000
echo "down 5000" >&7
sleep 0.3
$CAT --stream tail-fol-$SEED $W/fb.txt 2>/dev/null   # sent while kinagg-tail cannot connect
sleep 2
n_during=$(lines_of $W/fol.out)
wait_lines $W/fol.out 4000 25
check "--follow: the 2,000 records sent during a 5 s outage printed after it ($(lines_of $W/fol.out) lines)" \
  test "$(lines_of $W/fol.out)" -eq 4000 -a "$n_during" -eq 2000
for f in "GetRecords 500 2" "GetRecords 503 1" "GetRecords pte 3" "GetRecords expired 2" "GetRecords cut 1" \
         "GetRecords reset 1" "GetShardIterator 500 1" "GetRecords 408 1" "GetRecords 429 1" \
         "GetRecords throttling 1"; do echo "fail $f" >&7; done
$CAT --stream tail-fol-$SEED $W/fc.txt 2>/dev/null
wait_lines $W/fol.out 6000 30
sleep 1.5   # anything extra would show now
kill -TERM $tail_pid; wait $tail_pid
rc=$?
check "--follow: SIGTERM ends it with status 0 (got $rc)" test $rc -eq 0
cat $W/fa.txt $W/fb.txt $W/fc.txt > $W/fol.want
check "--follow: every record of the three batches printed once ($(lines_of $W/fol.out) lines, $(sort $W/fol.out | uniq -d | wc -l) twice)" \
  same_sorted $W/fol.out $W/fol.want
faults=$(grep -c '"fault"' $W/proxy.log)
check "--follow: all 14 injected failures met (500, 503, 408, 429, throttling, expired iterator, cut and reset answers): $faults" \
  test "$faults" -eq 14
check "--follow: an expired iterator was taken again AFTER_SEQUENCE_NUMBER of the last record" \
  "grep -q '\"type\":\"AFTER_SEQUENCE_NUMBER\"' $W/proxy.log"
check "--follow: the outage reported on stderr as it began, and the recovery" \
  "grep -q 'cannot connect' $W/fol.err && grep -q 'recovered after' $W/fol.err"
check "--follow: repeats summarised, not one line per failed call ($(wc -l < $W/fol.err) lines)" \
  test "$(wc -l < $W/fol.err)" -le 40
sed 's/^/  | /' $W/fol.err

# an expired ListShards token (AWS keeps them 300 s): the listing starts again
echo "fail ListShards expiredtoken 1" >&7
$TAIL --stream tail-fol-$SEED --endpoint http://127.0.0.1:$TP > $W/tok.out 2> $W/tok.err
rc=$?
check "ExpiredNextTokenException from ListShards: listed again, every record read, status 0 (got $rc, $(lines_of $W/tok.out) lines)" \
  "test $rc -eq 0 && same_sorted $W/tok.out $W/fol.want"
check "ExpiredNextTokenException from ListShards: met and reported" \
  "grep -q '\"fault\":\"expiredtoken\"' $W/proxy.log && grep -q ExpiredNextTokenException $W/tok.err"

# --follow across a split: the parent read to its end, then its children
node -e "
const o = []; for (let i = 0; i < 3000; i++) o.push('k' + (i % 50) + '\tsplit-' + i);
require('fs').writeFileSync('$W/sp1.txt', o.slice(0, 1500).join('\n') + '\n');
require('fs').writeFileSync('$W/sp2.txt', o.slice(1500).join('\n') + '\n');"
$CAT --stream tail-tsplit-$SEED --create 1 --tab-key $W/sp1.txt 2>/dev/null
$TAIL --stream tail-tsplit-$SEED --follow --with-key --checkpoint $W/sp.state > $W/sp.out 2> $W/sp.err &
pid=$!
wait_lines $W/sp.out 1500 20
put --stream tail-tsplit-$SEED split shardId-000000000000 > /dev/null
$CAT --stream tail-tsplit-$SEED --tab-key $W/sp2.txt 2>/dev/null
wait_lines $W/sp.out 3000 30
sleep 1
kill -TERM $pid; wait $pid
check "--follow across a split: every record once ($(lines_of $W/sp.out) lines)" \
  "cmp -s <(cut -f2- $W/sp.out | sort) <(cat $W/sp1.txt $W/sp2.txt | sort)"
check "--follow across a split: in order per key, the children read after their parent" \
  "node -e \"
const last = {}; let bad = 0;
for (const l of require('fs').readFileSync('$W/sp.out', 'utf8').trim().split('\\n')) {
  const [, key, data] = l.split('\\t'); const i = +data.split('-')[1];
  if (last[key] !== undefined && i < last[key]) bad++; last[key] = i; }
process.exit(bad ? 1 : 0);\""
check "--follow across a split: both children read, the parent marked read to its end in the checkpoint" \
  "test \$(cut -f1 $W/sp.out | sort -u | wc -l) -eq 3 && grep -q '^shardId-000000000000 end$' $W/sp.state"

# ---- 3. --checkpoint: killed with SIGKILL mid-stream, twice, and restarted ----
gen $W/ck.txt ck 40000 40 200
$CAT --stream tail-ck-$SEED --create 2 $W/ck.txt 2>/dev/null
rm -f $W/ck.state
: > $W/ck.all
killed=0
for run in 1 2; do
  $TAIL --stream tail-ck-$SEED --checkpoint $W/ck.state --buffer-mb 1 > $W/ck.$run 2>> $W/ck.err &
  pid=$!
  wait_lines $W/ck.$run 1 20
  sleep "0.$(( (SEED + run * 37) % 4 ))$(( (SEED / 3 + run) % 10 ))"
  kill -KILL $pid 2>/dev/null && killed=$((killed + 1))
  wait $pid 2>/dev/null
  cat $W/ck.$run >> $W/ck.all
done
$TAIL --stream tail-ck-$SEED --checkpoint $W/ck.state --buffer-mb 1 > $W/ck.3 2>> $W/ck.err
rc=$?
cat $W/ck.3 >> $W/ck.all
check "--checkpoint: SIGKILL landed mid-stream both times ($killed; runs printed $(lines_of $W/ck.1), $(lines_of $W/ck.2), $(lines_of $W/ck.3))" \
  test $killed -eq 2 -a "$(lines_of $W/ck.3)" -gt 0 -a "$(lines_of $W/ck.3)" -lt 40000
check "--checkpoint: the three runs printed every record exactly once ($(lines_of $W/ck.all) lines, $(sort $W/ck.all | uniq -d | wc -l) twice)" \
  "test $rc -eq 0 && same_sorted $W/ck.all $W/ck.txt"
check "--checkpoint: the file names both shards" "test \$(grep -c '^shardId-' $W/ck.state) -eq 2"
check "--checkpoint: left no temporary file" "test ! -e $W/ck.state.tmp"

# SIGTERM while the output is blocked: it stops inside a 1 MB aggregate, and
# the restart goes on with the next user record of that aggregate
gen $W/agg.txt agg 6000 500 1500
put --stream tail-agg-$SEED --shards 1 --agg-kib 1000 lines $W/agg.txt
rm -f $W/agg.state $W/agg.pipe; mkfifo $W/agg.pipe
{ dd bs=65536 count=1 2>/dev/null; sleep 1.5; cat; } < $W/agg.pipe > $W/agg.1 &
reader=$!
$TAIL --stream tail-agg-$SEED --checkpoint $W/agg.state > $W/agg.pipe 2> $W/agg.err &
pid=$!
for _ in $(seq 100); do [ -s $W/agg.1 ] && break; sleep 0.1; done
sleep 0.2   # its output blocked: the reader is not reading
kill -TERM $pid
wait $pid; rc=$?
wait $reader
state=$(grep '^shardId' $W/agg.state)
check "SIGTERM: status 0 ($rc), checkpoint inside an aggregate: '$state'" \
  "test $rc -eq 0 && [[ '$state' =~ ^shardId-[0-9]+\ [0-9]+\ [0-9]+$ ]]"
$TAIL --stream tail-agg-$SEED --checkpoint $W/agg.state > $W/agg.2 2>> $W/agg.err
check "SIGTERM: the restart goes on from the next user record ($(lines_of $W/agg.1) + $(lines_of $W/agg.2) lines)" \
  "cat $W/agg.1 $W/agg.2 | cmp -s - $W/agg.txt"
# a checkpoint written by hand: after user record 2 of an aggregate
$TAIL --stream tail-agg-$SEED --output json > $W/agg.json 2>/dev/null
pick=$(node -e "
const l = require('fs').readFileSync('$W/agg.json', 'utf8').trim().split('\n').map(JSON.parse);
const i = l.findIndex((r, i) => i > 1000 && r.subsequence === 2);
process.stdout.write(l[i].shard + ' ' + l[i].sequence_number + ' 2 ' + (l.length - i - 1));")
read -r pshard pseq psub prest <<< "$pick"
printf 'kinagg-tail checkpoint 1\nstream tail-agg-%s\n%s %s %s\n' "$SEED" "$pshard" "$pseq" "$psub" > $W/agg.hand
$TAIL --stream tail-agg-$SEED --checkpoint $W/agg.hand > $W/agg.3 2>/dev/null
check "a checkpoint inside an aggregate: prints the $prest records after it" \
  "tail -n $prest $W/agg.txt | cmp -s - $W/agg.3"
# --from latest --checkpoint, stopped before a shard had a record: the
# restart prints what came to that shard while it was stopped (it started
# at LATEST again, and skipped it), also with no record at all before the stop
$CAT --stream tail-lat-$SEED --create 2 < /dev/null 2> $W/lat.err
rm -f $W/lat.state
$TAIL --stream tail-lat-$SEED --from latest --follow --with-key --checkpoint $W/lat.state > $W/lat.1 2>> $W/lat.err &
pid=$!
sleep 2
printf 'a\tbefore-a\n' | $CAT --stream tail-lat-$SEED --tab-key 2>> $W/lat.err   # one shard only
wait_lines $W/lat.1 1 20
kill -TERM $pid; wait $pid; rc=$?
for k in a b c d e f g h i j k l; do printf '%s\tstopped-%s\n' $k $k; done | $CAT --stream tail-lat-$SEED --tab-key 2>> $W/lat.err
$TAIL --stream tail-lat-$SEED --from LATEST --follow --with-key --checkpoint $W/lat.state > $W/lat.2 2>> $W/lat.err &
pid=$!
wait_lines $W/lat.2 12 20
sleep 1; kill -TERM $pid; wait $pid
check "--from latest --checkpoint: 1 printed before the stop (status $rc), the 12 sent while stopped, on both shards, after it ($(lines_of $W/lat.1) + $(lines_of $W/lat.2) lines)" \
  "test $rc -eq 0 && test \$(lines_of $W/lat.1) -eq 1 && test \$(cut -f3 $W/lat.2 | grep -c '^stopped-') -eq 12 && test \$(lines_of $W/lat.2) -eq 12 && test \$(cut -f1 $W/lat.2 | sort -u | wc -l) -eq 2"
$CAT --stream tail-lat1-$SEED --create 1 < /dev/null 2>> $W/lat.err
rm -f $W/lat1.state
$TAIL --stream tail-lat1-$SEED --from latest --follow --checkpoint $W/lat1.state > $W/lat1.1 2>> $W/lat.err &
pid=$!
sleep 2; kill -TERM $pid; wait $pid
printf 'one\ntwo\n' | $CAT --stream tail-lat1-$SEED 2>> $W/lat.err
$TAIL --stream tail-lat1-$SEED --from latest --follow --checkpoint $W/lat1.state > $W/lat1.2 2>> $W/lat.err &
pid=$!
wait_lines $W/lat1.2 2 20
kill -TERM $pid; wait $pid
check "--from latest --checkpoint, stopped before any record: the restart prints the 2 sent while stopped ($(lines_of $W/lat1.2) lines)" \
  "printf 'one\ntwo\n' | cmp -s - $W/lat1.2"
# ... and a restart with nothing new: kinesalite never answers AT_TIMESTAMP
# for a shard with nothing after that time, so after 5 s the shard is read
# from LATEST (it held 30 s a shard, and then gave up)
$CAT --stream tail-latq-$SEED --create 1 < /dev/null 2>> $W/lat.err
rm -f $W/latq.state
$TAIL --stream tail-latq-$SEED --from latest --follow --checkpoint $W/latq.state > /dev/null 2>> $W/lat.err &
pid=$!
sleep 2; kill -TERM $pid; wait $pid
t=$(date +%s)
$TAIL --stream tail-latq-$SEED --from latest --checkpoint $W/latq.state > $W/latq.out 2> $W/latq.err
rc=$? took=$(( $(date +%s) - t ))
check "--from latest --checkpoint, a restart with nothing new: status 0 (got $rc) within 20 s (${took} s), nothing printed" \
  "[ $rc -eq 0 ] && [ $took -lt 20 ] && [ ! -s $W/latq.out ] && grep -q '^shardId-000000000000 at ' $W/latq.state"
: > $W/empty.state   # made empty beforehand (touch): no position yet
$TAIL --stream tail-agg-$SEED --checkpoint $W/empty.state > $W/agg.4 2>/dev/null
check "an empty checkpoint file: read from the start (status $?), the checkpoint saved" \
  "cmp -s $W/agg.4 $W/agg.txt && grep -q '^shardId' $W/empty.state"
printf 'kinagg-tail checkpoint 1\nstream other\n' > $W/other.state
$TAIL --stream tail-agg-$SEED --checkpoint $W/other.state > /dev/null 2>&1
check "a checkpoint of another stream is refused (status $?)" test $? -eq 2

# ---- 4. --output json, --from timestamp, --shard ----------------------------
put --stream tail-bin-$SEED --shards 1 binary $W/bin.want
$TAIL --stream tail-bin-$SEED --output json > $W/bin.json 2>/dev/null
check "--output json: binary data in base64, text in UTF-8, keys, subsequences, arrival times" \
  node tests/workloads/tail_put.js check $W/bin.want $W/bin.json

gen $W/t1.txt t1 600 20 80; gen $W/t2.txt t2 600 20 80
$CAT --stream tail-ts-$SEED --create 2 $W/t1.txt 2>/dev/null
sleep 1.2
tms=$(node -e 'process.stdout.write(String(Date.now()))')
sleep 1.2
$CAT --stream tail-ts-$SEED $W/t2.txt 2>/dev/null
read -r iso_z iso_off epoch <<< "$(node -e "
const t = $tms, d = new Date(t), o = new Date(t + 19800000);
process.stdout.write(d.toISOString() + ' ' + o.toISOString().replace('Z', '+05:30') + ' ' + (t / 1000).toFixed(3));")"
for when in "$iso_z" "$iso_off" "$epoch"; do
  $TAIL --stream tail-ts-$SEED --from "timestamp:$when" > $W/ts.out 2>/dev/null
  check "--from timestamp:$when prints the 600 records after it" same_sorted $W/ts.out $W/t2.txt
done
$TAIL --stream tail-ts-$SEED --from "timestamp:$iso_z" --endpoint http://127.0.0.1:$TP > /dev/null 2>&1
timeout 10 $TAIL --stream tail-ts-$SEED --from "timestamp:$iso_z" --protocol cbor --endpoint http://127.0.0.1:$TP > /dev/null 2>&1
check "--from timestamp: Timestamp sent as epoch seconds in JSON and as tag 1 over ms in CBOR" \
  "grep -q '\"timestamp\":$(node -e "process.stdout.write(String($tms / 1000))")}' $W/proxy.log && grep -q '\"timestamp\":{\"tag1\":$tms}' $W/proxy.log"

$TAIL --stream tail-ts-$SEED --with-key > $W/all.tsv 2>/dev/null
for sh in shardId-000000000000 shardId-000000000001; do
  $TAIL --stream tail-ts-$SEED --with-key --shard $sh > $W/one.tsv 2>/dev/null
  check "--shard $sh: its $(grep -c "^$sh" $W/all.tsv) records, no other" \
    "test -s $W/one.tsv && same_sorted $W/one.tsv <(grep '^$sh' $W/all.tsv)"
done
$TAIL --stream tail-ts-$SEED --shard shardId-000000000001 --shard shardId-000000000000 > $W/two.txt 2>/dev/null
check "--shard twice: both shards" same_sorted $W/two.txt <(cat $W/t1.txt $W/t2.txt)
$TAIL --stream tail-ts-$SEED --shard shardId-000000000042 > /dev/null 2>&1
check "--shard of no such shard: status 1 (got $?)" test $? -eq 1

# ---- 4b. aggregates whose key lookups are slow without an index ------------
n_hostile=$(put --stream tail-hostile-$SEED --shards 1 hostile)
timeout 60 $TAIL --stream tail-hostile-$SEED --with-key > $W/hostile.tsv 2> $W/hostile.err
rc=$?
check "three hostile 1 MiB aggregates: exit 0 within 60 s (got $rc; without a key index this takes minutes)" test $rc -eq 0
check "hostile aggregates: all $n_hostile user records, keys right" \
  "[ \"\$(wc -l < $W/hostile.tsv)\" -eq $n_hostile ] && [ \"\$(cut -f2 $W/hostile.tsv | grep -cx b)\" -eq 170000 ] && [ \"\$(cut -f2- $W/hostile.tsv | grep -cx \$'k0\\td0')\" -eq 1 ]"

# ---- 4c. kinagg-cat when its first ListShards fails in a way that passes ---
# (through the failing proxy): the records wait for the map and go
# aggregated, not one Kinesis record each under a "map unavailable" note
for fault in "500 1" "throttling 3"; do
  gen $W/lsf.txt lsf 3000 20 60
  awk '{ print "k" (NR % 50) "\t" $0 }' $W/lsf.txt > $W/lsf.tsv
  $CAT --stream tail-lsf-$SEED --create 2 < /dev/null 2>/dev/null
  echo "fail ListShards $fault" >&7
  $CAT --stream tail-lsf-$SEED --tab-key --endpoint http://127.0.0.1:$TP $W/lsf.tsv 2> $W/lsf.err
  rc=$?
  recs=$(sed -n 's/.* delivered in \([0-9]*\) Kinesis records.*/\1/p' $W/lsf.err | tail -1)
  check "ListShards failing ($fault) at first: exit 0, 3,000 lines in ${recs:-?} Kinesis records (aggregated: under 100)" \
    "[ $rc -eq 0 ] && [ \"${recs:-99999}\" -lt 100 ] && ! grep -q 'shard map unavailable' $W/lsf.err"
done
# ListShards failing for good (more shards than --max-shards): no wait at all
$CAT --stream tail-lsf-$SEED --tab-key --max-shards 1 --endpoint http://127.0.0.1:$TP $W/lsf.tsv 2> $W/lsf.err
rc=$?
secs=$(sed -n 's/.* \([0-9.]*\) s$/\1/p' $W/lsf.err | tail -1)
check "ListShards failing for good (--max-shards 1): exit 0, no wait for a map (${secs:-?} s), said why" \
  "[ $rc -eq 0 ] && grep -q 'shard map unavailable (ListShards: more shards than max_shards.*--max-shards counts' $W/lsf.err && [ \"\${secs%%.*}\" -lt 5 ]"
# ListShards failing all along: the records go unaggregated before their
# time to live, not expired (the wait is at most half of it)
echo "fail ListShards 500 20" >&7
$CAT --stream tail-lsf-$SEED --tab-key --record-ttl 4000 --endpoint http://127.0.0.1:$TP $W/lsf.tsv 2> $W/lsf.err
rc=$?
check "ListShards failing all along, --record-ttl 4000: exit 0, all 3,000 delivered (got $rc: $(tail -1 $W/lsf.err))" \
  "[ $rc -eq 0 ] && grep -q '3000 lines, 3000 delivered' $W/lsf.err"

# ---- 5. a closed pipe, option values, --help --------------------------------
$TAIL --stream tail-ck-$SEED 2> $W/pipe.err | head -1 > /dev/null
check "kinagg-tail | head: status ${PIPESTATUS[0]}, nothing on stderr" \
  "test ${PIPESTATUS[0]} -eq 0 -a ! -s $W/pipe.err"
for bad in "--buffer-mb 0" "--buffer-mb 12x" "--buffer-mb -1" "--buffer-mb 99999999999999999999" "--from yesterday" \
           "--from timestamp:2024-02-30T00:00:00Z" "--from timestamp:2024-01-01T25:00Z" "--output xml" \
           "--shard ''" "--checkpoint" "--no-such-option"; do
  eval "$TAIL --stream tail-ts-$SEED $bad" > /dev/null 2>&1
  check "$bad: usage error (status $?)" test $? -eq 2
done
help=$($TAIL --help)
check "--help states the exit statuses" "grep -q 'Exit status: 0' <<<\"\$help\""

wait $giveup_pid
read -r grc gsecs < $W/giveup.rc
check "every GetRecords failing, no --follow: status 1 after 60 s (got $grc after ${gsecs} s)" \
  "test $grc -eq 1 -a $gsecs -ge 59 -a $gsecs -lt 170"
check "every GetRecords failing: it says it gives up, and never that it recovered" \
  "grep -q 'giving up after 60 s' $W/giveup.err && ! grep -q recovered $W/giveup.err"
exec 6>&-
kill $gproxy_pid 2>/dev/null

echo "workloads-tail: $pass passed, $fail failed"
[ $fail -eq 0 ]
