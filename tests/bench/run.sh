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
# Settings (environment): ROUNDS (default 5), BENCH_SECONDS per measurement
# (default 1), BASELINE=<git commit> to add a column for kinagg.h as it was
# at that commit (e.g. the one before these speed-ups).
set -euo pipefail
cd "$(dirname "$0")/../.."
B=build/bench
ROUNDS=${ROUNDS:-5}
SECS=${BENCH_SECONDS:-1}
BASELINE=${BASELINE:-}
mkdir -p $B

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

results=$(mktemp)
trap 'rm -f "$results"' EXIT
put() { echo "$1 $2 $round" >>"$results"; }  # put KEY VALUE, in this round

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores;" \
  "gcc $(gcc -dumpversion), node $(node --version), $(openssl version | cut -d' ' -f1-2)," \
  "mbedTLS $(dpkg-query -W -f='${Version}' libmbedtls-dev 2>/dev/null || echo '?')"
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
