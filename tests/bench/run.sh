#!/usr/bin/env bash
# make bench: kinagg against its peers on the same work, in alternating
# rounds, as tables of medians (min-max over the rounds) and ratios.
#   aggregation  kinagg (with a key index) vs npm aws-kinesis-agg vs the MD5
#                bound: OpenSSL's MD5 over exactly the protobuf bytes that
#                kinagg's aggregates hash (an aggregator that hashed with
#                OpenSSL could not beat it); then kinagg built without each
#                speed-up, to show what each one gives
#   hashes       MD5 and SHA-256 built in (unrolled; KINAGG_SMALL; x86 SHA
#                extensions when the CPU has them) vs mbedTLS vs OpenSSL
#   base64       encode and decode, kinagg vs OpenSSL
#   path         the whole producer path to a local Kinesis sink
#                (tests/bench/sink.js): kinagg's producer (producer_bench.c;
#                built default and, with SHA extensions, -msha -msse4.1),
#                kinagg-cat, and Node (aws-kinesis-agg + @aws-sdk/client-kinesis,
#                node_producer.js), 4 and 64 shards, JSON and CBOR, and over
#                TLS (mbedTLS; Node's own TLS): records per CPU-second, wall
#                time, peak RSS, bytes on the wire, producer poll times
# Settings (environment): ROUNDS (default 5), BENCH_SECONDS per measurement
# (default 1), BASELINE=<git commit> to add a column for kinagg.h as it was
# at that commit (e.g. the one before these speed-ups). BENCH_ONLY=agg or
# path runs one part (agg: aggregation, hashes and base64). PATH_RECORDS
# (default 1000000), PATH_ROUNDS (default 3), PATH_TLS=0 leaves TLS out,
# PATH_PROFILE=1 adds a perf profile of producer_bench (4 shards, JSON).
set -euo pipefail
cd "$(dirname "$0")/../.."
B=build/bench
ROUNDS=${ROUNDS:-5}
SECS=${BENCH_SECONDS:-1}
BASELINE=${BASELINE:-}
ONLY=${BENCH_ONLY:-}
case "$ONLY" in ""|agg|path) ;; *) echo "BENCH_ONLY is agg or path" >&2; exit 2 ;; esac
mkdir -p $B

results=$(mktemp)
trap 'rm -f "$results"' EXIT
put() { echo "$1 $2 $round" >>"$results"; }  # put KEY VALUE, in this round

# "median min max" of a key's values
stat() { grep "^$1 " "$results" | cut -d' ' -f2 | sort -g | awk '{ v[NR] = $1 } END {
  m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%s %s %s\n", m, v[1], v[NR] }'; }
rate() { stat "$1" | awk 'function k(x) { return x >= 1e6 ? sprintf("%.2fM", x / 1e6) : sprintf("%.0fk", x / 1e3) }
  { printf "%s (%s-%s)", k($1), k($2), k($3) }'; }
mbs() { stat "$1" | awk '{ printf "%.0f (%.0f-%.0f)", $1, $2, $3 }'; }
# the median over the rounds of a / b in the same round (a round's
# measurements ran back to back, so they shared whatever else the machine did)
ratio() { awk -v a="$1" -v b="$2" '$1 == a { x[$3] = $2 } $1 == b { y[$3] = $2 }
  END { n = 0; for (r in x) if (r in y) v[++n] = x[r] / y[r]
        for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        printf "%.2fx", n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }' "$results"; }
row() { local s="|"; for c in "$@"; do s="$s $c |"; done; echo "$s"; }
rule() { local s="|"; for _ in $(seq "$1"); do s="$s---|"; done; echo "$s"; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores;" \
  "gcc $(gcc -dumpversion), node $(node --version), $(openssl version | cut -d' ' -f1-2)," \
  "mbedTLS $(dpkg-query -W -f='${Version}' libmbedtls-dev 2>/dev/null || echo '?')"
if [ "$ONLY" != path ]; then # ---- aggregation, hashes, base64 ----------------------------
W="-std=c99 -Wall -Wextra -Wpedantic -Werror -O2"
LIBS="-lmbedcrypto -lcrypto"
echo "building with gcc $W ..."
gcc $W tests/bench/bench.c -o $B/bench $LIBS
gcc $W -DKINAGG_SMALL tests/bench/bench.c -o $B/bench-small $LIBS
gcc $W -DKINAGG_FAST_CRYPTO=0 tests/bench/bench.c -o $B/bench-compact $LIBS
hashes=(fast small)
if grep -qw sha_ni /proc/cpuinfo 2>/dev/null; then
  gcc $W -msha -msse4.1 tests/bench/bench.c -o $B/bench-shani $LIBS
  hashes+=(shani)
fi
if [ -n "$BASELINE" ]; then  # bench.c against the old header, in a tree of its own
  mkdir -p $B/base/tests/bench
  git show "$BASELINE:kinagg.h" >$B/base/kinagg.h
  cp tests/bench/bench.c $B/base/tests/bench/bench.c
  gcc $W $B/base/tests/bench/bench.c -o $B/bench-base $LIBS
  hashes+=(base)
fi
bin() { case $1 in fast) echo $B/bench ;; small) echo $B/bench-small ;; shani) echo $B/bench-shani ;;
  compact) echo $B/bench-compact ;; base) echo $B/bench-base ;; esac; }

[ -s $B/rec100 ] || $B/bench gen $B/rec100 200000 100 1
[ -s $B/rec1k ] || $B/bench gen $B/rec1k 40000 1024 2

echo "$ROUNDS rounds, ${SECS}s per measurement; what each makes of the records:"
aggs=("rec100 51200" "rec100 1048576" "rec1k 51200" "rec1k 1048576")
for a in "${aggs[@]}"; do
  set -- $a
  $B/bench agg $B/$1 $2 0 2>&1 >/dev/null | sed 's/^/  /'
  node tests/bench/npm_agg.js $B/$1 $2 0 2>&1 >/dev/null | sed 's/^/  /'
done
for round in $(seq "$ROUNDS"); do
  echo "round $round/$ROUNDS"
  for a in "${aggs[@]}"; do
    set -- $a
    k="agg:$1:$2"
    put "$k:kinagg" "$($B/bench agg $B/$1 $2 $SECS 2>/dev/null)"
    put "$k:npm" "$(node tests/bench/npm_agg.js $B/$1 $2 $SECS 2>/dev/null)"
    put "$k:bound" "$($B/bench bound $B/$1 $2 $SECS 2>/dev/null)"
    put "$k:noindex" "$($B/bench agg-noindex $B/$1 $2 $SECS 2>/dev/null)"
    put "$k:compact" "$($B/bench-compact agg $B/$1 $2 $SECS 2>/dev/null)"
    put "$k:small" "$($B/bench-small agg $B/$1 $2 $SECS 2>/dev/null)"
    [ -z "$BASELINE" ] || put "$k:base" "$($B/bench-base agg $B/$1 $2 $SECS 2>/dev/null)"
  done
  for h in md5 sha256; do
    for v in "${hashes[@]}"; do put "hash:$h:$v" "$($(bin $v) hash $h-kinagg $SECS)"; done
    put "hash:$h:mbedtls" "$($B/bench hash $h-mbedtls $SECS)"
    put "hash:$h:openssl" "$($B/bench hash $h-openssl $SECS)"
  done
  for op in encode decode; do
    for v in fast small $([ -z "$BASELINE" ] || echo base); do
      put "b64:$op:$v" "$($(bin $v) base64 $op-kinagg $SECS)"
    done
    put "b64:$op:openssl" "$($B/bench base64 $op-openssl $SECS)"
  done
done

work() { echo "$([ "$1" = rec100 ] && echo "100 B" || echo "1 KiB") records, $([ "$2" = 51200 ] && echo "51,200 B" || echo "1 MiB") aggregates"; }

echo
echo "Aggregation, user records/s, median (min-max) of $ROUNDS rounds; partition keys from a pool of 1,000;"
echo "ratios are the median of each round's ratio"
echo
row "work" "kinagg" "npm aws-kinesis-agg" "MD5 bound (OpenSSL)" "kinagg/npm" "kinagg/bound"
rule 6
for a in "${aggs[@]}"; do
  set -- $a
  k="agg:$1:$2"
  row "$(work $1 $2)" "$(rate $k:kinagg)" "$(rate $k:npm)" "$(rate $k:bound)" "$(ratio $k:kinagg $k:npm)" \
    "$(ratio $k:kinagg $k:bound)"
done

echo
echo "What each speed-up gives: kinagg built without it, user records/s"
echo
hdr=("work")
[ -z "$BASELINE" ] || hdr+=("kinagg.h at $BASELINE")
hdr+=("KINAGG_SMALL (compact MD5, no index)" "compact MD5 (KINAGG_FAST_CRYPTO=0), index" "unrolled MD5, no index" "kinagg (all)")
row "${hdr[@]}"
rule ${#hdr[@]}
for a in "${aggs[@]}"; do
  set -- $a
  k="agg:$1:$2"
  cols=("$(work $1 $2)")
  [ -z "$BASELINE" ] || cols+=("$(rate $k:base)")
  cols+=("$(rate $k:small)" "$(rate $k:compact)" "$(rate $k:noindex)" "$(rate $k:kinagg)")
  row "${cols[@]}"
done

name() { case $1 in fast) echo "kinagg built in (unrolled)" ;; small) echo "kinagg built in, KINAGG_SMALL" ;;
  shani) echo "kinagg built in, -msha -msse4.1" ;; base) echo "kinagg.h at $BASELINE" ;;
  mbedtls) echo "mbedTLS" ;; openssl) echo "OpenSSL" ;; esac; }
echo
echo "Hashes, MB/s over 1 MiB, median (min-max)"
echo
row "implementation" "MD5" "SHA-256"
rule 3
for v in "${hashes[@]}" mbedtls openssl; do row "$(name $v)" "$(mbs hash:md5:$v)" "$(mbs hash:sha256:$v)"; done

echo
echo "Base64, MB/s of binary data (768 KiB to 1 MiB of text and back), median (min-max)"
echo
row "implementation" "encode" "decode"
rule 3
for v in fast small $([ -z "$BASELINE" ] || echo base) openssl; do row "$(name $v)" "$(mbs b64:encode:$v)" "$(mbs b64:decode:$v)"; done
fi

if [ "$ONLY" != agg ]; then # ---- the whole producer path --------------------------------
PREC=${PATH_RECORDS:-1000000}
PROUNDS=${PATH_ROUNDS:-3}
PTLS=${PATH_TLS:-1}
W="-std=c99 -Wall -Wextra -Wpedantic -Werror -O2"
MBED="-lmbedtls -lmbedx509 -lmbedcrypto"
echo
echo "whole producer path: building producer_bench with gcc $W, and kinagg-cat ..."
gcc $W tests/bench/producer_bench.c -o $B/producer_bench
kinaggs=(default)
if grep -qw sha_ni /proc/cpuinfo 2>/dev/null; then
  gcc $W -msha -msse4.1 tests/bench/producer_bench.c -o $B/producer_bench-shani
  kinaggs+=(shani)
fi
[ "$PTLS" = 0 ] || gcc $W -DBENCH_TLS tests/bench/producer_bench.c -o $B/producer_bench-tls $MBED
make -s build/kinagg-cat
[ -s $B/rec100x1m ] || { [ -x $B/bench ] || gcc $W tests/bench/bench.c -o $B/bench -lmbedcrypto -lcrypto; $B/bench gen $B/rec100x1m 1000000 100 3; }
if [ ! -s $B/lines1m ]; then # the same keys and 100 bytes of text for kinagg-cat: KEY<TAB>DATA lines
  node -e 'const fs = require("fs"), raw = fs.readFileSync(process.argv[1]), out = fs.openSync(process.argv[2], "w");
    let parts = [];
    for (let p = 0; p < raw.length;) {
      const kl = raw.readUInt16LE(p), dl = raw.readUInt32LE(p + 2 + kl);
      parts.push(raw.toString("utf8", p + 2, p + 2 + kl) + "\t" + raw.subarray(p + 6 + kl, p + 6 + kl + dl).toString("base64").slice(0, dl) + "\n");
      p += 6 + kl + dl;
      if (parts.length === 10000) { fs.writeSync(out, parts.join("")); parts = []; }
    }
    fs.writeSync(out, parts.join("")); fs.closeSync(out);' $B/rec100x1m $B/lines1m.tmp
  mv $B/lines1m.tmp $B/lines1m
fi
[ "$PREC" -le 1000000 ] || { echo "PATH_RECORDS is at most 1000000 (the record file's)" >&2; exit 2; }
head -n "$PREC" $B/lines1m >$B/lines

# The sinks: one plain, one over TLS (a test CA's certificate for localhost).
# Each reads a FIFO that this script holds open: they end when it does.
sink() { # sink NAME [sink.js options]: starts it, sets ${NAME}_port and ${NAME}_ctl
  local name=$1; shift
  rm -f $B/$name.fifo; mkfifo $B/$name.fifo
  node tests/bench/sink.js "$@" <$B/$name.fifo >$B/$name.out 2>$B/$name.err &
  eval "exec {${name}_fd}>$B/$name.fifo"
  for _ in $(seq 100); do [ -s $B/$name.out ] && break; sleep 0.1; done
  eval "${name}_port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' $B/$name.out)"
  eval "${name}_ctl=$(sed -n 's/.*"control":\([0-9]*\).*/\1/p' $B/$name.out)"
}
sink plain
if [ "$PTLS" != 0 ]; then
  bash tests/net/certs.sh $B/pki >/dev/null
  sink tls --tls-cert $B/pki/server.crt --tls-key $B/pki/server.key
fi
ctl() { curl -sf "http://127.0.0.1:$1/__$2"; }
kv() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
export AWS_ACCESS_KEY_ID=AKIDKINAGGBENCH AWS_SECRET_ACCESS_KEY=kinagg/bench/secret AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KINESIS

# one run: prun NAME SHARDS PROTOCOL TRANSPORT; puts path:NAME:SHARDS:PROTOCOL:TRANSPORT:METRIC
prun() {
  local name=$1 shards=$2 proto=$3 tr=$4 port ctlp out stats k="path:$1:$2:$3:$4" stream="bench-$1.$2"
  if [ "$tr" = tls ]; then port=$tls_port; ctlp=$tls_ctl; else port=$plain_port; ctlp=$plain_ctl; fi
  ctl $ctlp reset >/dev/null
  case $name in
    kinagg|shani|big)
      local bin=$B/producer_bench opt=()
      [ $name = shani ] && bin=$B/producer_bench-shani
      [ $name = big ] && opt=(--region-kib 16384)
      [ "$tr" = tls ] && { bin=$B/producer_bench-tls; opt=(--tls $B/pki/ca.crt); }
      out=$($bin --port $port --file $B/rec100x1m --records $PREC --stream $stream --protocol $proto "${opt[@]}" \
        2>$B/last.err) || { cat $B/last.err >&2; echo "$k failed" >&2; exit 1; } ;;
    node)
      local opt=()
      [ "$tr" = tls ] && opt=(--tls $B/pki/ca.crt)
      out=$(NODE_NO_WARNINGS=1 node tests/bench/node_producer.js --port $port --file $B/rec100x1m --records $PREC \
        --stream $stream "${opt[@]}" 2>$B/last.err) || { cat $B/last.err >&2; echo "$k failed" >&2; exit 1; } ;;
    cat)
      timeout 600 /usr/bin/time -f "%U %S %M %e" -o $B/cat.time build/kinagg-cat --stream $stream --endpoint http://127.0.0.1:$port \
        --protocol $proto --tab-key --rate-limit 1000 --buffer-mb 4 $B/lines 2>$B/last.err \
        || { cat $B/last.err >&2; echo "$k failed" >&2; exit 1; }
      out=$(awk -v n="$PREC" '{ printf "records=%d cpu_s=%.3f rss_kb=%d wall_s=%.3f rate=%.0f", n, $1 + $2, $3, $4, n / ($1 + $2) }' \
        $B/cat.time) ;;
  esac
  stats=$(ctl $ctlp stats)
  local users; users=$(echo "$stats" | sed -n 's/.*"userRecords":\([0-9]*\).*/\1/p')
  [ "$users" = "$PREC" ] || { echo "$k: the sink counted $users records, not $PREC" >&2; exit 1; }
  for m in rate cpu_s wall_s rss_kb poll_p50_us poll_p99_us poll_max_us poll_cpu_p99_us poll_cpu_max_us; do
    local v; v=$(kv "$out" $m)
    [ -z "$v" ] || put "$k:$m" "$v"
  done
  put "$k:bytes" "$(echo "$stats" | sed -n 's/.*"bytesIn":\([0-9]*\).*/\1/p')"
  put "$k:requests" "$(echo "$stats" | sed -n 's/.*"putRecords":\([0-9]*\).*/\1/p')"
}
runs=()
for shards in 4 64; do
  for proto in json cbor; do
    for v in "${kinaggs[@]}"; do runs+=("${v/default/kinagg} $shards $proto tcp"); done
    runs+=("cat $shards $proto tcp")
  done
  runs+=("node $shards json tcp")
done
runs+=("big 64 json tcp") # a region four times larger: room for an aggregate's worth per shard
[ "$PTLS" = 0 ] || runs+=("kinagg 4 json tls" "node 4 json tls")
echo "$PROUNDS rounds of $PREC records (100 B of data, partition keys from a pool of 1,000), each client in turn"
for round in $(seq "$PROUNDS"); do
  echo "round $round/$PROUNDS"
  for r in "${runs[@]}"; do prun $r; done
done

pname() { case $1 in kinagg) echo "kinagg producer" ;; shani) echo "kinagg producer, -msha -msse4.1" ;;
  big) echo "kinagg producer, 16 MiB region" ;; cat) echo "kinagg-cat" ;; node) echo "Node: aws-kinesis-agg + AWS SDK v3" ;; esac; }
num() { stat "$1" | awk -v d="$2" -v s="${3:-1}" '{ printf "%.*f (%.*f-%.*f)", d, $1 / s, d, $2 / s, d, $3 / s }'; }
med() { stat "$1" | awk -v d="$2" -v s="${3:-1}" '{ printf "%.*f", d, $1 / s }'; }
echo
echo "Whole producer path, $PREC records to a local sink, median (min-max) of $PROUNDS rounds; records per"
echo "CPU-second of the client (user + system); ratios are the median of each round's ratio to Node on the"
echo "same shards over the same transport; poll times are wall (CLOCK_MONOTONIC) p50 / p99 / max, then"
echo "the thread's CPU time p99 / max, in microseconds"
echo
row "client" "shards" "protocol" "records/CPU-s" "vs Node" "CPU s" "wall s" "peak RSS MiB" "MB on the wire" \
  "requests" "poll p50 / p99 / max us" "poll CPU p99 / max us"
rule 12
for r in "${runs[@]}"; do
  set -- $r
  k="path:$1:$2:$3:$4"
  [ "$4" = tls ] && continue
  poll="-"; pcpu="-"
  ! grep -q "^$k:poll_p99_us " "$results" || {
    poll="$(med $k:poll_p50_us 0) / $(med $k:poll_p99_us 0) / $(med $k:poll_max_us 0) ($(stat $k:poll_max_us | awk '{ printf "%.0f-%.0f", $2, $3 }'))"
    pcpu="$(med $k:poll_cpu_p99_us 0) / $(med $k:poll_cpu_max_us 0) ($(stat $k:poll_cpu_max_us | awk '{ printf "%.0f-%.0f", $2, $3 }'))"; }
  vs="-"; [ "$1" = node ] || vs=$(ratio $k:rate "path:node:$2:json:$4:rate")
  row "$(pname $1)" "$2" "$([ $3 = json ] && echo JSON || echo CBOR)" "$(rate $k:rate)" "$vs" "$(num $k:cpu_s 2)" \
    "$(num $k:wall_s 1)" "$(num $k:rss_kb 1 1024)" "$(med $k:bytes 1 1e6)" "$(med $k:requests 0)" "$poll" "$pcpu"
done
if [ "$PTLS" != 0 ]; then
  echo
  echo "The same over TLS (kinagg: mbedTLS; Node: its own OpenSSL), 4 shards, JSON"
  echo
  row "client" "records/CPU-s" "vs Node" "CPU s" "wall s" "peak RSS MiB" "MB on the wire" "poll p50 / p99 / max us" "poll CPU p99 / max us"
  rule 9
  for c in kinagg node; do
    k="path:$c:4:json:tls"
    poll="-"; pcpu="-"; vs="-"
    [ $c = node ] || { vs=$(ratio $k:rate path:node:4:json:tls:rate)
      poll="$(med $k:poll_p50_us 0) / $(med $k:poll_p99_us 0) / $(med $k:poll_max_us 0)"
      pcpu="$(med $k:poll_cpu_p99_us 0) / $(med $k:poll_cpu_max_us 0)"; }
    row "$(pname $c)" "$(rate $k:rate)" "$vs" "$(num $k:cpu_s 2)" "$(num $k:wall_s 1)" "$(num $k:rss_kb 1 1024)" \
      "$(med $k:bytes 1 1e6)" "$poll" "$pcpu"
  done
fi
# how much the machine itself spreads one fixed piece of work, to read the
# poll maxima against
gcc $W tests/bench/bench.c -o $B/bench-jitter -lmbedcrypto -lcrypto
echo
echo "The machine's own spread: the same work (SHA-256 of 32 KiB) 12,000 times, thread CPU time in us:" \
  "$($B/bench-jitter jitter)"
if [ "${PATH_PROFILE:-0}" = 1 ] && ! command -v perf >/dev/null; then
  echo; echo "PATH_PROFILE=1: no perf here (Debian: linux-perf), so no profile"
elif [ "${PATH_PROFILE:-0}" = 1 ]; then
  echo
  echo "Where the time goes: perf record of producer_bench (built -O2 -g), JSON, $PREC records"
  gcc $W -g tests/bench/producer_bench.c -o $B/producer_bench-g
  [ ! -x $B/producer_bench-shani ] || gcc $W -g -msha -msse4.1 tests/bench/producer_bench.c -o $B/producer_bench-shani-g
  for prof in "4 producer_bench-g" "64 producer_bench-g" "4 producer_bench-shani-g"; do
    set -- $prof
    [ -x $B/$2 ] || continue
    echo
    echo "$1 shards, $2:"
    perf record -q -o $B/perf.data $B/$2 --port $plain_port --file $B/rec100x1m --records $PREC \
      --stream bench-profile.$1 >/dev/null 2>$B/perf.err
    perf report -q -i $B/perf.data --stdio --no-children --sort symbol 2>/dev/null | awk "NF && ++n <= 16"
  done
  echo
  echo "The slowest polls (thread CPU time), 64 shards, JSON, 4 MiB and 16 MiB regions:"
  for kib in 4096 16384; do
    $B/producer_bench --port $plain_port --file $B/rec100x1m --records $PREC --stream bench-slow.64 --region-kib $kib \
      --slow 3 2>&1 | sed "s/^records=/region $kib KiB: records=/"
  done
fi
fi
