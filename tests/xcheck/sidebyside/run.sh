#!/bin/bash
# Side by side: kinagg.h as it is against kinagg.h at an earlier commit, in
# one program (each built with KINAGG_STATIC in its own file), over random
# inputs: MD5, SHA-256 and HMAC; SigV4 signatures, traces and dates; HTTP
# heads parsed, and whole requests over a scripted transport (faults, short
# sends and reads, chunked and mutated responses, keep-alive); aggregates
# and hash keys; 64-bit divisions. Then the Kinesis calls (kinesis.c), built
# once with each header, over every body of the response corpus
# (tests/responses/gen.js), prefixes and mutations of them: their outputs
# must be the same. Any difference in what either returns or writes is
# reported.
#   usage: tests/xcheck/sidebyside/run.sh REV [ITERATIONS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/../../.."
rev=${1:?usage: run.sh REV [ITERATIONS] [SEED]} n=${2:-3000} seed=${3:-1}
d=build/sidebyside
mkdir -p $d
git show "$rev:kinagg.h" > $d/old.h
cp kinagg.h $d/new.h
cp tests/xcheck/sidebyside/*.c tests/xcheck/sidebyside/dx.h tests/canned_transport.h $d/
node tests/responses/gen.js $d/responses.txt >/dev/null
cd $d
for v in "O2:-O2" "small:-Os -DKINAGG_SMALL" "small-simple-path:-Os -DKINAGG_SMALL -DKINAGG_SIGV4_SIMPLE_PATH" \
         "compact-crypto:-O2 -DKINAGG_FAST_CRYPTO=0 -DKINAGG_AGG_INDEX=0" "asan:-O1 -g -fsanitize=address,undefined"; do
  name=${v%%:*} flags=${v#*:}
  gcc -std=c99 -w $flags -DHDR='"old.h"' -D'P(x)=old_##x' -c dx_impl.c -o old-$name.o
  gcc -std=c99 -w $flags -DHDR='"new.h"' -D'P(x)=new_##x' -c dx_impl.c -o new-$name.o
  gcc -std=c99 -O1 -c main.c -o main.o
  gcc $flags main.o old-$name.o new-$name.o -o sidebyside-$name
  printf '%-18s ' "$name"; ./sidebyside-$name "$n" "$seed" | tail -1
done
fail=0
for v in "O2:-O2" "Os:-Os" "small:-O2 -DKINAGG_SMALL" "no-cbor:-O2 -DKINAGG_NO_CBOR" "no-json:-O2 -DKINAGG_NO_JSON" \
         "producer-only:-O2 -DKINAGG_NO_READ -DKINAGG_NO_CBOR" "fast:-O2 -DKINAGG_FAST"; do
  name=${v%%:*} flags=${v#*:}
  gcc -std=c99 -w $flags -DKINAGG_HEADER='"old.h"' kinesis.c -o kinesis-old-$name
  gcc -std=c99 -w $flags -DKINAGG_HEADER='"new.h"' kinesis.c -o kinesis-new-$name
  ./kinesis-old-$name responses.txt 2 "$seed" > kinesis-old-$name.txt
  ./kinesis-new-$name responses.txt 2 "$seed" > kinesis-new-$name.txt
  if cmp -s kinesis-old-$name.txt kinesis-new-$name.txt; then r="0 differences"; else r="differ"; fail=1; fi
  printf 'kinesis %-10s %s lines: %s\n' "$name" "$(wc -l < kinesis-new-$name.txt)" "$r"
  [ "$r" = differ ] && diff kinesis-old-$name.txt kinesis-new-$name.txt | head -4 | sed 's/^/  /'
done
exit $fail
