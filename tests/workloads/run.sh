#!/usr/bin/env bash
# Workloads: kinagg-cat as people run it. Each case runs real processes (a
# writer, kinagg-cat, proxies) against kinesalite behind a SigV4-verifying
# proxy, and reads the stream back with an independent reader (kread.js or
# tests/net/reader.js: @aws-sdk/client-kinesis and aws-kinesis-agg).
#   run.sh PROXY_PORT KINESALITE_PORT SEED
# Each case prints "ok - ..." or "FAIL - ..." lines (and "measured: ..."
# figures); the last line is "workloads: N passed, N failed". The two long
# cases (a 40 s outage, a shard held to its write limits) run in the
# background while the others run. tests/workloads/tail.sh, when present,
# runs too, with the same arguments, its ok/FAIL lines counted alike (or,
# without them, its own "N passed, N failed" line); a case that exits
# non-zero without a FAIL line counts as one failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
PROXY=$1 KINESALITE=$2 SEED=$3
B=build W=build/workloads
CAT=./$B/kinagg-cat
NODE="node --no-warnings"
KIN=http://127.0.0.1:$KINESALITE
rm -rf $W && mkdir -p $W
export AWS_ACCESS_KEY_ID=AKIDKINAGGTEST AWS_SECRET_ACCESS_KEY=kinagg/test/secret+KEY AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:$PROXY
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_ENDPOINT_URL
start=$(date +%s)

# ---- helpers ----------------------------------------------------------------
check() { # DESCRIPTION, then a shell condition
  local what=$1; shift
  if eval "$@"; then echo "ok - $what"; else echo "FAIL - $what"; fi
}
now_ms() { date +%s%3N; }
sha() { sha256sum < "$1" | cut -c1-64; }
mkstream() { $CAT --stream "$1" --create "$2" </dev/null 2>>$W/create.err; } # through the verifying proxy
readback() { $NODE tests/workloads/kread.js --endpoint $KIN --stream "$1" --out "$2" ${3:+--sep $3}; }
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close();})"; }
helpers=()   # a case's background processes, stopped when it ends
start_proxy() { # PORTFILE ARGS...: tests/workloads/limits_proxy.js; sets proxy_pid and proxy_port
  local f=$1; shift
  rm -f "$f"
  $NODE tests/workloads/limits_proxy.js --kinesalite $KINESALITE "$@" > "$f" 2>>$W/proxy.err &
  proxy_pid=$!
  helpers+=($proxy_pid)
  for _ in $(seq 100); do [ -s "$f" ] && break; sleep 0.1; done
  proxy_port=$(sed 's/[^0-9]//g' "$f")
}
writer() { exec $NODE tests/workloads/writer.js "$@"; } # lines "w N MS ..." at a rate, logged as "N MS"
# every writer line logged at or before time LIMIT_MS is in the read-back
# output, once or more (at least once); prints what it found
lines_delivered() { # LOG OUT LIMIT_MS
  $NODE -e "
    const fs = require('fs');
    const written = fs.readFileSync('$1', 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split(' ').map(Number));
    const got = new Map();
    for (const l of fs.readFileSync('$2', 'latin1').split('\n')) { const m = /^w (\d+) /.exec(l); if (m) got.set(+m[1], (got.get(+m[1]) || 0) + 1); }
    const due = written.filter(([n, t]) => t <= $3), missing = due.filter(([n]) => !got.has(n));
    let dup = 0; for (const c of got.values()) dup += c - 1;
    console.log('measured: ' + written.length + ' lines written, ' + due.length + ' due, ' + got.size + ' read back, ' + missing.length + ' missing, ' + dup + ' duplicates');
    process.exit(missing.length || !due.length ? 1 : 0);"
}
# kinagg-cat, stopped if it hangs (a failure of its own)
cat_run() { timeout -s KILL 240 $CAT "$@"; }
wait_for() { # PID SECONDS: waits for it, killing it after SECONDS; its exit status
  local i
  for ((i = 0; i < $2 * 10; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$1" 2>/dev/null; then echo "FAIL - kinagg-cat still running after $2 s: killed"; kill -9 "$1"; fi
  wait "$1" 2>/dev/null
}
wait_lines() { # FILE N: until a writer's log holds N lines (20 s at most)
  for _ in $(seq 200); do [ "$(wc -l < "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0; sleep 0.1; done
  return 1
}
json() { node -e "process.stdout.write(String(require('./$1')['$2']))"; } # FILE KEY

# ---- cases ------------------------------------------------------------------

# Records are bytes: what goes in comes out, whatever the bytes.
case_bytes() {
  local bin=$W/binary.bin bin0=$W/binary0.bin prog crlf=$W/crlf.txt rc
  $NODE tests/workloads/gen.js binary "$SEED" 400000 $bin
  { cat $bin; printf '\0'; } > $bin0
  for s in bytes bytes0 prog crlf limit; do mkstream $s-$SEED 2; done
  cat_run --stream bytes-$SEED --partition-key k $bin 2>$W/bytes.err
  check "binary records (NUL, 0x80-0xFF, CR mid-line and before the newline): exit 0" test $? -eq 0
  readback bytes-$SEED $W/bytes.out
  check "binary records: sha256 out $(sha $W/bytes.out | cut -c1-12) = in $(sha $bin | cut -c1-12)" \
    '[ "$(sha $bin)" = "$(sha $W/bytes.out)" ]'
  cat_run --stream bytes0-$SEED -0 --partition-key k $bin0 2>>$W/bytes.err
  check "-0 (NUL-ended records holding newlines): exit 0" test $? -eq 0
  readback bytes0-$SEED $W/bytes0.out nul
  check "-0: sha256 out = in" '[ "$(sha $bin0)" = "$(sha $W/bytes0.out)" ]'
  # a program as input: the bytes after its first NUL used to be cut
  prog=$(command -v ls)
  { cat "$prog"; [ "$(tail -c1 "$prog" | od -An -tx1 | tr -d ' ')" = 0a ] || printf '\n'; } > $W/prog.in
  cat_run --stream prog-$SEED --partition-key k "$prog" 2>>$W/bytes.err
  rc=$?
  readback prog-$SEED $W/prog.out
  check "$prog ($(wc -c < "$prog") bytes) as input: exit $rc, sha256 out = in" \
    '[ $rc -eq 0 ] && [ "$(sha $W/prog.in)" = "$(sha $W/prog.out)" ]'
  # --strip-cr: CRLF text arrives as LF text
  printf 'one\r\ntwo\r\nthree\n' > $crlf
  cat_run --stream crlf-$SEED --partition-key k --strip-cr $crlf 2>>$W/bytes.err
  readback crlf-$SEED $W/crlf.out
  check "--strip-cr drops the CR before each newline" '[ "$(cat $W/crlf.out)" = "$(printf "one\ntwo\nthree")" ]'
  # a record over the limit is refused with its line number, never cut
  { echo small-1; head -c 70000 /dev/zero | tr '\0' z; echo; echo small-3; } > $W/limit.in
  cat_run --stream limit-$SEED --partition-key k --max-record-kib 64 $W/limit.in 2>$W/limit.err
  rc=$?
  readback limit-$SEED $W/limit.out
  check "a 70,000-byte line over --max-record-kib 64: refused with its line number, exit 1, the others sent" \
    '[ $rc -eq 1 ] && grep -q "limit.in:2: .*refused" $W/limit.err && [ "$(cat $W/limit.out)" = "$(printf "small-1\nsmall-3")" ]'
  # option values are checked
  $CAT --stream x --max-buffered-ms abc </dev/null 2>/dev/null
  check "--max-buffered-ms abc is a usage error (exit 2)" test $? -eq 2
  $CAT --stream x --connections 9 </dev/null 2>/dev/null
  check "--connections 9 is a usage error (exit 2)" test $? -eq 2
  # a time to live no longer than the wait before the first send would
  # expire every record of a quiet input unsent
  $CAT --stream x --record-ttl 1000 --max-buffered-ms 1000 </dev/null 2>$W/ttl.err
  rc=$?
  check "--record-ttl 1000 with --max-buffered-ms 1000 is a usage error (exit 2), said so" \
    '[ $rc -eq 2 ] && grep -q "must be longer than --max-buffered-ms" $W/ttl.err'
  $CAT --stream "" </dev/null 2>$W/empty.err
  rc=$?
  check "--stream '' is a usage error (exit 2), said so" '[ $rc -eq 2 ] && grep -q "empty" $W/empty.err'
  check "--help states the exit statuses" "$CAT --help | grep -q 'Exit status: 0'"
}

# A quiet log: each line is sent within --max-buffered-ms and one request,
# while the input stays open.
case_trickle() {
  local s=trickle-$SEED f=$W/trickle.fifo cat rc
  mkstream $s 1
  rm -f $f && mkfifo $f
  $CAT --stream $s --stats-json $W/trickle.json $f 2>$W/trickle.err &
  cat=$!
  $NODE tests/workloads/trickle.js --fifo $f --endpoint $KIN --stream $s --count 12 --rate 2 --max-ms 2000 > $W/trickle.out 2>&1
  rc=$?
  sed 's/^trickle:/measured:/' $W/trickle.out
  check "2 lines/s through a FIFO, no end of input: each line readable within 2 s" test $rc -eq 0
  wait_for $cat 10
  check "kinagg-cat ends with the FIFO, exit 0" test $? -eq 0
}

# SIGTERM or SIGINT to `slow writer | kinagg-cat`: what was read is delivered.
case_signal() { # SIGTERM|SIGINT|SIGHUP
  set -m # a background job takes SIGINT only under job control
  local sig=$1 s=signal-$1-$SEED cat rc t took
  mkstream $s 2
  $CAT --stream $s --stats-json $W/$sig.json 2>$W/$sig.err < <(writer --rate 20 --log $W/$sig.wlog) &
  cat=$!
  wait_lines $W/$sig.wlog 20
  sleep 2
  t=$(now_ms)
  kill -s $sig $cat
  wait_for $cat 60
  rc=$? took=$(( $(now_ms) - t ))
  check "$sig: exit 0 (got $rc) within 5 s ($took ms)" "[ $rc -eq 0 ] && [ $took -lt 5000 ]"
  check "$sig: the summary printed" "grep -q 'delivered in' $W/$sig.err"
  check "$sig: --stats-json written" "grep -q '\"signal\":\"$sig\"' $W/$sig.json"
  readback $s $W/$sig.out
  check "$sig: every line written 1 s before the signal was delivered" lines_delivered $W/$sig.wlog $W/$sig.out $((t - 1000))
  check "$sig: as many delivered as read ($(json $W/$sig.json user_records) of $(json $W/$sig.json lines))" \
    "[ \"$(json $W/$sig.json user_records)\" = \"$(json $W/$sig.json lines)\" ]"
}

# What people get wrong or run into: a stop in the middle of a large file,
# --failed naming the input, closed standard streams, refused lines in the
# counts, a stream with many shards.
case_mistakes() {
  set -m
  local s=mistakes-$SEED cat rc got t
  mkstream $s 2
  # SIGTERM while a 24 MB file is read through a 1 MiB buffer: reads end
  # anywhere, and the line read in part must not be sent cut short (the
  # reads here, 167,939 bytes, are not a multiple of the 75-byte lines)
  seq -f 'line-%09g padding-padding-padding-padding-padding-padding-padding-pad' 1 300000 > $W/big.in
  $CAT --stream $s --partition-key k --buffer-mb 1 --max-record-kib 100 --stats-json $W/big.json $W/big.in 2>$W/big.err &
  cat=$!
  sleep 2
  kill -TERM $cat
  wait_for $cat 60
  rc=$?
  readback $s $W/big.out
  got=$(sort -u $W/big.out | wc -l) # (at least once: a retry may store a line twice)
  check "SIGTERM inside a file: exit 0 (got $rc), $got of 300,000 lines delivered before it" \
    "[ $rc -eq 0 ] && [ $got -gt 0 ] && [ $got -lt 300000 ]"
  check "SIGTERM inside a file: every line delivered is a whole input line ($(comm -23 <(sort $W/big.out) <(sort $W/big.in) | wc -l) are not)" \
    "[ -z \"\$(comm -23 <(sort $W/big.out) <(sort $W/big.in) | head -1)\" ]"
  check "SIGTERM inside a file: they are the first $got lines" "cmp -s <(head -n $got $W/big.in) <(sort -u $W/big.out)"
  check "SIGTERM inside a file: where reading stopped is printed (line $((got + 1)))" \
    "grep -q 'big.in:$((got + 1)): reading stopped inside this record' $W/big.err"
  check "SIGTERM inside a file: lines = delivered in --stats-json" \
    "[ \"$(json $W/big.json lines)\" = \"$got\" ] && [ \"$(json $W/big.json user_records)\" = \"$got\" ]"
  # the same from a pipe: the part of the record read cannot be read again
  # by a rerun, so it is said to be lost, and the status is 1
  $CAT --stream $s --partition-key k 2>$W/cut.err < <(printf 'whole-1\nwhole-2\npart'; sleep 10) &
  cat=$!
  sleep 2
  kill -TERM $cat
  wait_for $cat 30
  rc=$?
  check "SIGTERM inside a record read from a pipe: exit 1 (got $rc), the 2 whole lines delivered, the part said lost" \
    "[ $rc -eq 1 ] && grep -q '2 lines, 2 delivered' $W/cut.err && grep -q 'standard input:3: reading stopped inside this record.*already read is lost' $W/cut.err"
  # the same with nothing reachable, and a second SIGTERM: what was read is
  # given up to --failed, whole lines only
  AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:1 $CAT --stream $s --partition-key k --buffer-mb 1 --max-record-kib 100 \
    --failed $W/gaveup.txt $W/big.in 2>$W/gaveup.err &
  cat=$!
  sleep 2
  kill -TERM $cat
  sleep 1
  kill -TERM $cat
  wait_for $cat 60
  rc=$?
  check "two SIGTERMs, nothing reachable: exit 1 (got $rc), $(wc -l < $W/gaveup.txt) lines in --failed, all whole input lines" \
    "[ $rc -eq 1 ] && [ -s $W/gaveup.txt ] && [ -z \"\$(comm -23 <(sort $W/gaveup.txt) <(sort $W/big.in) | head -1)\" ]"
  check "two SIGTERMs: where reading stopped is printed" "grep -q 'reading stopped inside this record' $W/gaveup.err"
  # the retry of docs/tools.md with the same file named twice
  seq 1 10 > $W/retry.txt
  cat_run --stream $s --failed $W/retry.txt $W/retry.txt 2>$W/retry.err
  rc=$?
  check "--failed naming an input: refused, exit 2 (got $rc), the input untouched" \
    "[ $rc -eq 2 ] && [ \"\$(seq 1 10)\" = \"\$(cat $W/retry.txt)\" ] && grep -q 'also an input' $W/retry.err"
  cat_run --stream $s --failed $W/retry.txt < $W/retry.txt 2>>$W/retry.err
  rc=$?
  check "--failed naming standard input's file: refused, exit 2 (got $rc)" "[ $rc -eq 2 ] && [ \$(wc -l < $W/retry.txt) -eq 10 ]"
  # standard streams closed by the caller
  cat_run --stream $s <&- 2>$W/closed.err
  rc=$?
  check "kinagg-cat with standard input closed: exit 2 (got $rc) and says so" \
    "[ $rc -eq 2 ] && grep -q 'standard input is closed' $W/closed.err"
  timeout 60 ./$B/kinagg-tail --stream $s >&- 2>>$W/closed.err
  rc=$?
  check "kinagg-tail with standard output closed: exit 2 (got $rc) and says so" \
    "[ $rc -eq 2 ] && grep -q 'standard output is closed' $W/closed.err"
  echo x | cat_run --stream $s --stats-json $W/closed.json >&- 2>>$W/closed.err
  rc=$?
  check "kinagg-cat with standard output closed (it needs none: not refused): exit 0 (got $rc)" "[ $rc -eq 0 ]"
  # refused lines counted once
  printf 'a\n%01030d\nb\n' 0 | cat_run --stream $s --partition-key k --max-record-kib 1 --stats-json $W/refused.json 2>/dev/null
  check "3 lines, 1 refused: lines 3 (got $(json $W/refused.json lines)), refused 1, delivered 2" \
    "[ $(json $W/refused.json lines) = 3 ] && [ $(json $W/refused.json refused) = 1 ] && [ $(json $W/refused.json user_records) = 2 ]"
  # more shards than the library's default map holds (64)
  mkstream many-$SEED 80
  seq -f 'm%g' 1 20000 | cat_run --stream many-$SEED --stats-json $W/many.json 2>$W/many.err
  rc=$?
  check "80 shards: exit 0 (got $rc), 20,000 lines aggregated into $(json $W/many.json kinesis_records) Kinesis records" \
    "[ $rc -eq 0 ] && [ $(json $W/many.json kinesis_records) -lt 2000 ] && ! grep -q 'shard map unavailable' $W/many.err"
}

# Nothing reachable: the cause at once; then signals end it.
case_unreachable() {
  set -m
  local port cat rc t t0 seen=0 took n
  port=$(free_port)
  t0=$(now_ms)
  $CAT --endpoint http://127.0.0.1:$port --stream unreachable-$SEED --failed $W/unreach.failed 2>$W/unreach.err \
    < <(writer --rate 20 --log $W/unreach.wlog) &
  cat=$!
  for _ in $(seq 100); do grep -q 'Connection refused' $W/unreach.err && { seen=$(( $(now_ms) - t0 )); break; }; sleep 0.05; done
  head -2 $W/unreach.err
  check "a closed port: 'connect: Connection refused' printed within 5 s, not after 30 ($seen ms)" "[ $seen -gt 0 ] && [ $seen -lt 5000 ]"
  wait_lines $W/unreach.wlog 3
  sleep 1
  t=$(now_ms)
  kill -s TERM $cat
  sleep 1
  kill -s INT $cat
  wait_for $cat 60
  rc=$? took=$(( $(now_ms) - t ))
  n=$(sed -n 's/.*: \([0-9]*\) records given up.*/\1/p' $W/unreach.err)
  check "a second signal 1 s after the first gives up at once: exit 1 (got $rc) $took ms after the first, ${n:-no} records given up" \
    "[ $rc -eq 1 ] && [ $took -lt 4000 ] && [ -n '$n' ] && [ '$n' -gt 0 ]"
  check "--failed holds the $n records given up, as read" \
    "[ \"\$(wc -l < $W/unreach.failed)\" = '$n' ] && awk '\$1 != \"w\" || \$2 != NR - 1 { exit 1 }' $W/unreach.failed"
  # one signal, and --drain-timeout ends the wait
  t=$(now_ms)
  $CAT --endpoint http://127.0.0.1:$port --stream unreachable-$SEED --drain-timeout 1000 2>$W/unreach2.err \
    < <(writer --rate 20 --log $W/unreach2.wlog) &
  cat=$!
  wait_lines $W/unreach2.wlog 3 # something read, to deliver
  sleep 1
  t=$(now_ms)
  kill -s TERM $cat
  wait_for $cat 60
  rc=$? took=$(( $(now_ms) - t ))
  check "--drain-timeout 1000: exit 1 (got $rc) about 1 s after SIGTERM ($took ms)" \
    "[ $rc -eq 1 ] && [ $took -ge 900 ] && [ $took -lt 3000 ] && grep -q 'given up' $W/unreach2.err"
  # a mistyped stream
  t=$(now_ms)
  printf 'a\nb\nc\n' | cat_run --stream mistyped-$SEED 2>$W/mistyped.err
  rc=$? took=$(( $(now_ms) - t ))
  head -1 $W/mistyped.err
  check "a mistyped stream: ResourceNotFoundException printed, exit 1 (got $rc) in $took ms" \
    "[ $rc -eq 1 ] && [ $took -lt 5000 ] && grep -q ResourceNotFoundException $W/mistyped.err"
}

# --failed: with a stream that refuses everything, FILE is the input.
case_failed() {
  local rc
  cat_run --stream refused-$SEED --partition-key k --failed $W/failed.out $W/binary.bin 2>$W/failed.err
  rc=$?
  check "a refused stream: exit 1 (got $rc), --failed holds exactly the input ($(wc -c < $W/binary.bin) bytes)" \
    "[ $rc -eq 1 ] && cmp -s $W/binary.bin $W/failed.out"
  cat_run --stream refused-$SEED -0 --failed $W/failed0.out $W/binary0.bin 2>>$W/failed.err
  check "-0 and --failed: exactly the input" "cmp -s $W/binary0.bin $W/failed0.out"
  grep 'records written to' $W/failed.err | head -1
}

# The endpoint away for 40 s (longer than the 30 s records used to live)
# while 20 lines/s flow: all delivered; reading waits meanwhile.
case_outage() {
  local s=outage-$SEED relay cat rc down up
  mkstream $s 2
  start_proxy $W/relay.port
  relay=$proxy_port
  $CAT --endpoint http://127.0.0.1:$relay --stream $s --stats-json $W/outage.json 2>$W/outage.err \
    < <(writer --rate 20 --size 200 --count 1000 --log $W/outage.wlog) &
  cat=$!
  sleep 4
  kill $proxy_pid && wait $proxy_pid 2>/dev/null
  down=$(now_ms)
  sleep 40
  start_proxy $W/relay.port --port $relay
  up=$(now_ms)
  wait_for $cat 120
  rc=$?
  kill $proxy_pid 2>/dev/null
  check "40 s outage: exit 0 (got $rc)" test $rc -eq 0
  readback $s $W/outage.out
  check "40 s outage: all 1000 lines delivered" lines_delivered $W/outage.wlog $W/outage.out 99999999999999
  check "40 s outage: the cause printed (Connection refused)" "grep -q 'Connection refused' $W/outage.err"
  local during
  during=$(awk -v a=$((down + 2000)) -v b=$up '$2 > a && $2 < b' $W/outage.wlog | wc -l)
  echo "measured: outage of $(( (up - down) / 1000 )) s; the writer got $during lines into the pipe during it (without backpressure: $(( (up - down - 2000) * 20 / 1000 )))"
  check "40 s outage: kinagg-cat stopped reading, so the writer waited ($during lines of 200 bytes taken, < 600)" \
    "[ $during -lt 600 ]"
}

# One shard held to Kinesis's write limits by a proxy: 200,000 lines of
# about 170 bytes (34 MB, over 30 s at 1 MiB/s) all delivered, few throttled.
case_limits() {
  local s=limits-$SEED lines=$W/limits.tsv t took rc
  mkstream $s 1
  $NODE tests/workloads/gen.js lines "$SEED" 200000 $lines
  start_proxy $W/limits.port --limits 1 --stats $W/limits-proxy.json
  t=$(now_ms)
  cat_run --endpoint http://127.0.0.1:$proxy_port --stream $s --tab-key --stats-json $W/limits.json $lines 2>$W/limits.err
  rc=$? took=$(( $(now_ms) - t ))
  kill $proxy_pid && wait $proxy_pid 2>/dev/null
  tail -1 $W/limits.err
  local bytes entries throttled pthrottled
  bytes=$(json $W/limits-proxy.json bytes) entries=$(json $W/limits-proxy.json entries)
  pthrottled=$(json $W/limits-proxy.json throttled) throttled=$(json $W/limits.json throttled)
  echo "measured: 200000 lines, $bytes bytes to one shard in $took ms ($(( bytes * 1000 / took / 1024 )) KiB/s), $throttled of $entries entries throttled, $(json $W/limits.json retries) records retried"
  check "shard limits: exit 0 (got $rc), 200000 delivered" \
    "[ $rc -eq 0 ] && [ \"$(json $W/limits.json user_records)\" = 200000 ]"
  check "shard limits: the proxy held the shard to 1 MiB/s (took $took ms for $bytes bytes)" \
    "[ $took -ge $(( (bytes - 1048576) * 1000 / 1048576 * 95 / 100 )) ]"
  check "shard limits: throttled entries rare ($throttled of $entries, under 5 %), as the proxy counted ($pthrottled)" \
    "[ $throttled -eq $pthrottled ] && [ $(( throttled * 20 )) -le $entries ]"
  $NODE tests/net/reader.js --endpoint $KIN --stream $s --lines $lines --no-order 1 > $W/limits-reader.out 2>&1
  rc=$?
  tail -2 $W/limits-reader.out
  check "shard limits: every line read back once, on its shard" test $rc -eq 0
}

# ---- running them -------------------------------------------------------------
cases=()
run_case() { # NAME FUNCTION [ARGS]: its output in $W/case-NAME.log
  local name=$1; shift
  cases+=("$name")
  ( trap 'for p in "${helpers[@]}"; do kill "$p" 2>/dev/null; done' EXIT; "$@" ) > $W/case-$name.log 2>&1
  echo $? > $W/case-$name.rc
}
bg=()
run_case_bg() { run_case "$@" & bg+=($!); cases+=("$1"); }

run_case_bg outage case_outage
run_case_bg limits case_limits
run_case bytes case_bytes
run_case trickle case_trickle
run_case_bg sigterm case_signal SIGTERM
run_case sigint case_signal SIGINT
run_case sighup case_signal SIGHUP
run_case mistakes case_mistakes
wait "${bg[2]}"
run_case unreachable case_unreachable
run_case failed case_failed
[ -f tests/workloads/tail.sh ] && run_case tail bash tests/workloads/tail.sh "$PROXY" "$KINESALITE" "$SEED"
wait "${bg[@]}"

pass=0 fail=0
for c in "${cases[@]}"; do
  echo "== $c"
  cat $W/case-$c.log
  p=$(grep -c "^ok" $W/case-$c.log) f=$(grep -c "^FAIL" $W/case-$c.log)
  line=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' $W/case-$c.log | tail -1)
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} # a runner with its own count
  fi
  if [ "$f" -eq 0 ] && [ "$(cat $W/case-$c.rc)" != 0 ]; then f=1; echo "FAIL - $c exit $(cat $W/case-$c.rc)"; fi
  pass=$((pass + p)) fail=$((fail + f))
done
for c in "${cases[@]}"; do grep -h '^measured:' $W/case-$c.log; done # the figures, once more at the end
echo "($(( $(date +%s) - start )) s)"
echo "workloads: $pass passed, $fail failed"
[ $fail -eq 0 ]
