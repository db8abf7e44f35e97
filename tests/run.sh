#!/usr/bin/env bash
# Runs every test suite of `make test` in turn. Each suite's output is shown
# indented; its own "N passed, N failed" line is added to the totals (a suite
# without one counts as 1 by its exit status). The last line is the total.
set -uo pipefail
cd "$(dirname "$0")/.."
B=build
SEED=${SEED:-$(date +%s)}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
total_pass=0 total_fail=0 failed_steps=()
start=$(date +%s)

# No step takes more than a few minutes here; one that hangs (a server gone,
# a tool waiting on it) is stopped at STEP_LIMIT seconds and fails, and once
# the whole run is past RUN_LIMIT the remaining steps fail unrun, so a fault
# shows as failures with their output, never as a run that does not end.
STEP_LIMIT=${STEP_LIMIT:-900}
RUN_LIMIT=${RUN_LIMIT:-4500}
server_pid='' server_dead='' step_pid=''
trap 'if [ -n "$step_pid" ]; then kill -INT "$step_pid" 2>/dev/null; fi; exit 130' INT
trap 'if [ -n "$step_pid" ]; then kill -TERM "$step_pid" 2>/dev/null; fi; exit 143' TERM

step() { # step NAME COMMAND... (a program, or a function exported below)
  local name=$1; shift
  local log; log=$(mktemp)
  local t0; t0=$(date +%s)
  printf '== %s\n' "$name"
  local limit=$STEP_LIMIT left=$(( start + RUN_LIMIT - t0 )) rc
  [ "$left" -lt "$limit" ] && limit=$left
  if [ "$limit" -le 0 ]; then
    echo "not run: the whole run is past its ${RUN_LIMIT}s limit (RUN_LIMIT)" >"$log"; rc=1
  else
    # (timeout puts the step in a process group of its own, which a Ctrl-C
    # at the terminal does not reach: the traps above pass it on)
    timeout -k 10 "$limit" bash -c '"$@"' step "$@" </dev/null >"$log" 2>&1 &
    step_pid=$!
    wait "$step_pid"
    rc=$?
    step_pid=
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then echo "stopped: still running after ${limit}s (STEP_LIMIT)" >>"$log"; fi
  fi
  if [ -n "$server_pid" ] && [ -z "$server_dead" ] && ! kill -0 "$server_pid" 2>/dev/null; then
    server_dead=1 rc=1
    { echo "the test servers (tests/net/server.js) exited during this step; every later network step fails:"
      tail -30 "$B/server.err"; } >>"$log"
  fi
  local line; line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  local p=0 f=0
  if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
    [ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
  elif [ $rc -eq 0 ]; then p=1; else f=1; fi
  if [ $rc -ne 0 ] || [ "$f" -ne 0 ]; then
    sed 's/^/   | /' "$log" | tail -60
    failed_steps+=("$name")
  else
    grep -E 'passed, [0-9]+ failed|checked|aggregates|largest|text|RAM:|worst case|requests over|mbedTLS heap|refused|expected|per record|split |PutRecords requests|duplicates|dropped|game_loop:|producer_posix:|kinagg-cat:|measured:' "$log" | sed 's/^/   | /' | tail -8
  fi
  printf '   %s: %d passed, %d failed (%ds)\n' "${name%%:*}" "$p" "$f" $(( $(date +%s) - t0 ))
  total_pass=$((total_pass + p)) total_fail=$((total_fail + f))
  rm -f "$log"
}

sh_all() { bash -o pipefail -c "$1"; }  # a failure anywhere in a pipeline fails the step
mk() { make -s --no-print-directory "$@"; }
export B; export -f sh_all mk

echo "seed $SEED (rerun with: make test SEED=$SEED)"
step "warnings: gcc, clang, g++, clang++ at -O0/-O2, C99/C11/C++11/C++17, mbedTLS, the KINAGG_NO_* switches" mk warnings
step "unit: gcc, ASan+UBSan"       sh_all "make -s $B/unit-gcc && ./$B/unit-gcc"
step "unit: clang, ASan+UBSan"     sh_all "make -s $B/unit-clang && ./$B/unit-clang"
step "unit: crypto from mbedTLS"   sh_all "make -s $B/unit-mbedtls && ./$B/unit-mbedtls"
step "unit: KINAGG_SMALL (compact crypto and base64, no key index)" sh_all "make -s $B/unit-small && ./$B/unit-small"
step "unit: KINAGG_NO_CBOR (JSON only; CBOR refused)" sh_all "make -s $B/unit-no-cbor && ./$B/unit-no-cbor"
step "unit: KINAGG_NO_JSON (CBOR only; JSON refused)" sh_all "make -s $B/unit-no-json && ./$B/unit-no-json"
step "unit: KINAGG_NO_READ (producer-only calls)" sh_all "make -s $B/unit-no-read && ./$B/unit-no-read"
step "unit: KINAGG_SIGV4_SIMPLE_PATH (paths to normalize refused)" sh_all "make -s $B/unit-simple-path && ./$B/unit-simple-path"
step "unit: KINAGG_NO_SHARD_MAP, _NO_CREDENTIALS_SOURCE, _NO_ERROR_TEXT" sh_all "make -s $B/unit-minimal && ./$B/unit-minimal"
if grep -qw sha_ni /proc/cpuinfo; then
  step "unit: SHA-256 on x86 SHA extensions" sh_all "make -s $B/unit-shani && ./$B/unit-shani"
else
  echo "== unit: SHA-256 on x86 SHA extensions: skipped, the CPU has none"
fi
step "unit: compiled as C++ (g++)" sh_all "make -s $B/unit-cxx && ./$B/unit-cxx"
step "cxx: clang++ smoke test"     sh_all "make -s $B/cxx_smoke && ./$B/cxx_smoke"
step "noheap: no heap calls"       sh_all "make -s $B/noheap && ./$B/noheap"
step "producer-memory: region_size agrees with init, 23 configurations" sh_all "make -s $B/producer_memory && ./$B/producer_memory"
step "producer-memory: the same without shard maps, credentials source or error text" sh_all \
  "make -s $B/producer_memory-minimal && ./$B/producer_memory-minimal"
step "responses: JSON and CBOR response variants and malformed ones (tests/responses), ASan+UBSan" sh_all \
  "make -s $B/response_test && node tests/responses/gen.js $B/responses.txt && ./$B/response_test $B/responses.txt"
step "producer-model: a scripted Kinesis, random faults and calls, 120 seeds (ASan+UBSan)" \
  sh_all "make -s $B/producer_model && ./$B/producer_model --from $SEED --seeds 120"
step "producer-model: the same without shard maps, credentials source or error text, 60 seeds" \
  sh_all "make -s $B/producer_model-minimal && ./$B/producer_model-minimal --from $SEED --seeds 60"
step "producer-model: the shard map with one connection, no credentials source or error text, 40 seeds" \
  sh_all "make -s $B/producer_model-firmware && ./$B/producer_model-firmware --from $SEED --seeds 40"
step "aws-config: credentials, region, endpoint from env and ~/.aws" sh_all "make -s $B/aws_config_test && ./$B/aws_config_test"

# kinagg's aggregates through three independent decoders, and back
mk $B/kinagg_write $B/kinagg_read $B/pbc_check $B/nanopb_check $B/hashkey_tool >/dev/null 2>&1
step "write: kinagg writes a corpus" ./$B/kinagg_write $B/corpus-kinagg.txt "$SEED" 60
step "decode: aws-kinesis-agg reads kinagg" node tests/xcheck/node_check.js decode $B/corpus-kinagg.txt
step "decode: protobuf-c reads kinagg"      ./$B/pbc_check decode $B/corpus-kinagg.txt
step "decode: nanopb reads kinagg"          ./$B/nanopb_check $B/corpus-kinagg.txt
step "encode: protobuf-c writes a corpus"   ./$B/pbc_check encode $B/corpus-pbc.txt "$SEED" 60
step "read: kinagg reads protobuf-c"        ./$B/kinagg_read $B/corpus-pbc.txt read
step "encode: aws-kinesis-agg writes a corpus" node tests/xcheck/node_check.js encode $B/corpus-node.txt "$SEED" 60
step "read: kinagg reads aws-kinesis-agg"   ./$B/kinagg_read $B/corpus-node.txt read
step "hashkeys: kinagg vs Node crypto+BigInt" node tests/xcheck/hashkeys.js ./$B/hashkey_tool 5000

# the network: kinesalite on 127.0.0.1 behind the SigV4-verifying proxy
mk $B/kinesis_test $B/kinesis_test_tls $B/tls_test $B/lwip_test $B/http_test $B/producer_test $B/producer_promises $B/pki/done >/dev/null 2>&1
server_fifo=$B/server.stdin
rm -f "$server_fifo"; mkfifo "$server_fifo"
rm -f $B/fault.log
node tests/net/server.js --log $B/proxy.log --fault-log $B/fault.log --tls-cert $B/pki/server.crt --tls-key $B/pki/server.key \
  --tls-expired-cert $B/pki/expired.crt --tls-expired-key $B/pki/expired.key <"$server_fifo" >$B/ports.json 2>$B/server.err &
server_pid=$!
exec 9>"$server_fifo"   # the server runs until this closes
trap 'exec 9>&- 8>&-; kill $server_pid 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s $B/ports.json ] && break; sleep 0.1; done
port() { node -e "process.stdout.write(String(require('./$B/ports.json')['$1']))"; }
PROXY=$(port proxy) KINESALITE=$(port kinesalite) TLS=$(port tls) TLS_EXPIRED=$(port tls_expired) FAULTS=$(port faults)
exec 8> >(exec node tests/net/raw_server.js >$B/raw.port)  # a misbehaving HTTP server, until fd 8 closes
for _ in $(seq 100); do [ -s $B/raw.port ] && break; sleep 0.1; done
step "servers: requests cut mid-head and mid-body end only themselves (kinesalite, proxies, TLS)" \
  node tests/net/cut_check.js $KINESALITE $PROXY $FAULTS $(port variants) --tls $TLS $TLS_EXPIRED
step "http: client on scripted and real sockets (chunked, splits, keep-alive, faults)" \
  sh_all "make -s $B/http_test && ./$B/http_test $(cat $B/raw.port)"
for p in json cbor; do
  stream=e2e-$p-$SEED
  step "kinesis: $p over POSIX sockets through the verifying proxy" \
    ./$B/kinesis_test --endpoint http://127.0.0.1:$PROXY --protocol $p --stream $stream --manifest $B/manifest-$p.txt
  step "reader: @aws-sdk/client-kinesis reads the $p stream back" \
    node --no-warnings tests/net/reader.js --endpoint http://127.0.0.1:$KINESALITE --stream $stream --manifest $B/manifest-$p.txt
done
step "kinesis: json over mbedTLS (test CA, localhost certificate)" \
  ./$B/kinesis_test_tls --endpoint https://localhost:$TLS --ca $B/pki/ca.crt --protocol json --stream e2e-tls-$SEED --manifest $B/manifest-tls.txt
step "reader: the TLS stream read back" \
  node --no-warnings tests/net/reader.js --endpoint http://127.0.0.1:$KINESALITE --stream e2e-tls-$SEED --manifest $B/manifest-tls.txt
step "tls: wrong CA, wrong host name, expired certificate refused" ./$B/tls_test $B/pki $TLS $TLS_EXPIRED
step "lwip: the port alone (its includes, a shared 32-bit clock widened)" sh_all \
  "make -s $B/lwip_port_test && ./$B/lwip_port_test"
step "lwip: Kinesis calls over lwIP sockets, bridged to the proxy" sh_all \
  "make -s $B/lwip_test && ./$B/lwip_test $PROXY e2e-lwip-$SEED $B/manifest-lwip.txt"
step "reader: the lwIP stream read back" \
  node --no-warnings tests/net/reader.js --endpoint http://127.0.0.1:$KINESALITE --stream e2e-lwip-$SEED --manifest $B/manifest-lwip.txt

# the producer: delivery, resharding, faults, expiry, backpressure
read_back() { # STREAM MANIFEST [reader flags]
  local s=$1 m=$2; shift 2
  node --no-warnings tests/net/reader.js --endpoint http://127.0.0.1:$KINESALITE --stream "$s" --manifest "$m" "$@"
}
export KINESALITE; export -f read_back
step "producer: 100,000 random keys + 20,000 on one key, 4 shards, json" \
  ./$B/producer_test delivery --port $PROXY --stream prod-$SEED --manifest $B/manifest-prod.txt
step "reader: every record once, on its shard, in order per key" read_back prod-$SEED $B/manifest-prod.txt
step "producer: 20,000 records in cbor" \
  ./$B/producer_test delivery --port $PROXY --stream prod-cbor-$SEED --manifest $B/manifest-prod-cbor.txt --random 16000 --shared 4000 --protocol cbor
step "reader: the cbor producer stream" read_back prod-cbor-$SEED $B/manifest-prod-cbor.txt
step "producer: a shard split mid-run" \
  ./$B/producer_test delivery --port $PROXY --stream split-$SEED --manifest $B/manifest-split.txt --random 40000 --shared 5000 --split-at 15000
step "reader: nothing lost under the KCL rule after resharding" \
  read_back split-$SEED $B/manifest-split.txt --allow-duplicates 1 --allow-dropped 1 \
    --unordered $B/manifest-split.txt.unordered
step "producer: through the fault proxy (entry and request failures, resets, stalls)" \
  ./$B/producer_test faults --port $FAULTS --stream faults-$SEED --manifest $B/manifest-faults.txt --random 20000 --shared 5000
step "faults: only failed records sent again, delivered ones never" node tests/net/faults_check.js $B/fault.log faults-$SEED
step "reader: the fault stream, no record lost" read_back faults-$SEED $B/manifest-faults.txt --no-order 1 \
  $(grep -q '"outcome":"lost"' $B/fault.log && echo --allow-duplicates 1)
step "producer: records past their time to live fail as expired" \
  ./$B/producer_test ttl --port $FAULTS --stream blackhole-$SEED
step "producer: a 512 KiB region: put says full, poll drains it" \
  ./$B/producer_test backpressure --port $PROXY --stream bp-$SEED --manifest $B/manifest-bp.txt --random 20000 --shared 2000
step "reader: the backpressure stream" read_back bp-$SEED $B/manifest-bp.txt
PORT_VARIANTS=$(port variants)
for p in json cbor; do
  step "producer: answers with nulls, reordered and unknown members ($p): aggregation holds" \
    ./$B/producer_test delivery --port $PORT_VARIANTS --stream variants-$p-$SEED --manifest $B/manifest-variants-$p.txt \
      --random 16000 --shared 4000 --protocol $p --min-per-record 100
  step "reader: the $p variants stream" read_back variants-$p-$SEED $B/manifest-variants-$p.txt
done
step "promises: strings freed after init, then a whole session (ASan)" \
  ./$B/producer_promises freed --port $PROXY --stream freed-$SEED --manifest $B/manifest-freed.txt
step "reader: the freed-strings stream" read_back freed-$SEED $B/manifest-freed.txt
step "promises: a 2 s name lookup never stalls a poll" \
  ./$B/producer_promises slowdns --port $PROXY --stream slowdns-$SEED --manifest $B/manifest-slowdns.txt
step "reader: the slow-lookup stream" read_back slowdns-$SEED $B/manifest-slowdns.txt
step "promises: abandon returns every user pointer once" \
  ./$B/producer_promises abandon --port $FAULTS --stream blackhole-abandon-$SEED
step "examples: game_loop.cpp (C++, poll per frame) against the proxy" sh_all \
  "make -s $B/game_loop $B/kinagg-cat && export AWS_ACCESS_KEY_ID=AKIDKINAGGTEST AWS_SECRET_ACCESS_KEY=kinagg/test/secret+KEY AWS_REGION=us-east-1 && ./$B/kinagg-cat --endpoint http://127.0.0.1:$PROXY --stream game-$SEED --create 4 </dev/null 2>/dev/null && ./$B/game_loop http://127.0.0.1:$PROXY game-$SEED 300"
step "examples: producer_posix.c ships the sample log" sh_all \
  "make -s $B/producer_posix && AWS_ACCESS_KEY_ID=AKIDKINAGGTEST AWS_SECRET_ACCESS_KEY=kinagg/test/secret+KEY ./$B/producer_posix http://127.0.0.1:$PROXY game-$SEED < examples/sample-access.log"

# firmware: the producer on a Cortex-M4 (QEMU mps2-an386) in 64 KB of RAM,
# its connections over UART0 and a bridge to the proxy
step "firmware: Cortex-M4 image in 64 KB of RAM, its worst-case stack from the call graph" \
  sh_all "make -s $B/m4/fw/producer.elf && make -s --no-print-directory fw-stack"
fw_stack=$(mk fw-stack 2>/dev/null | sed -n 's/^stack: worst case \([0-9]*\).*/\1/p')
step "firmware: 10,000 records from QEMU over the UART bridge, bad records refused" \
  node --no-warnings tests/firmware/bridge.js --elf $B/m4/fw/producer.elf --proxy $PROXY --kinesalite $KINESALITE \
  --stream fw-$SEED --manifest $B/manifest-fw.txt --seed $SEED --records 10000 --max-stack "${fw_stack:-0}"
step "reader: the firmware's stream" read_back fw-$SEED $B/manifest-fw.txt
step "firmware: the smallest producer build (no shard map, credentials source or error text), 10,000 records on 3 keys" sh_all \
  "make -s $B/m4/fw/min/producer.elf && fw_min_stack=\$(make -s --no-print-directory fw-stack-min | sed -n 's/^stack: worst case \\([0-9]*\\).*/\\1/p') && node --no-warnings tests/firmware/bridge.js --elf $B/m4/fw/min/producer.elf --proxy $PROXY --kinesalite $KINESALITE --stream fw-min-$SEED --manifest $B/manifest-fw-min.txt --seed $SEED --records 10000 --max-stack \$fw_min_stack"
step "reader: the smallest firmware's stream" read_back fw-min-$SEED $B/manifest-fw-min.txt

# the tools: kinagg-cat and kinagg-tail
step "tools: kinagg-cat 200,000 lines (json, cbor), kinagg-tail and a reader read them back" sh_all \
  "make -s $B/kinagg-cat $B/kinagg-tail && SPLIT_STREAM=split-$SEED SPLIT_RECORDS=45000 bash tests/net/tools_test.sh $PROXY $KINESALITE $SEED"
step "workloads: kinagg-cat with binary input, a quiet FIFO, signals, an unreachable endpoint, a 40 s outage, a shard at its limits" sh_all \
  "make -s $B/kinagg-cat $B/kinagg-tail && bash tests/workloads/run.sh $PROXY $KINESALITE $SEED"

# a second Kinesis implementation: kinesis-mock (npm kinesis-local), which
# checks no signatures and answers CBOR in its own ways
km_fifo=$B/kinesis-mock.stdin
rm -f "$km_fifo" $B/kinesis-mock.port; mkfifo "$km_fifo"
node tests/net/kinesis_mock.js <"$km_fifo" >$B/kinesis-mock.port 2>$B/kinesis-mock.err &
exec 6>"$km_fifo"   # it serves until this closes
for _ in $(seq 650); do [ -s $B/kinesis-mock.port ] && break; sleep 0.1; done
{ read -r KM KM_TLS < $B/kinesis-mock.port; } 2>/dev/null || true
step "kinesis-mock: started (npm kinesis-local)" sh_all "test -n '$KM' || { cat $B/kinesis-mock.err >&2; false; }"
for p in json cbor; do
  step "kinesis-mock: $p calls (its shards, paging, records read back)" \
    ./$B/kinesis_test --endpoint http://127.0.0.1:$KM --protocol $p --stream km-$p-$SEED --manifest $B/manifest-km-$p.txt \
      --signature-checks 0
  step "reader: the kinesis-mock $p stream" \
    node --no-warnings tests/net/reader.js --endpoint http://127.0.0.1:$KM --stream km-$p-$SEED --manifest $B/manifest-km-$p.txt
done
step "kinesis-mock: the producer, 25,000 records in cbor, a shard split mid-run" \
  ./$B/producer_test delivery --port $KM --stream km-split-$SEED --manifest $B/manifest-km-split.txt --random 20000 \
    --shared 5000 --split-at 10000 --protocol cbor
step "reader: the kinesis-mock producer stream under the KCL rule" \
  node --no-warnings tests/net/reader.js --endpoint http://127.0.0.1:$KM --stream km-split-$SEED \
    --manifest $B/manifest-km-split.txt --allow-duplicates 1 --allow-dropped 1 --unordered $B/manifest-km-split.txt.unordered
step "kinesis-mock: kinagg-cat and kinagg-tail, binary lines, json and cbor" sh_all \
  "make -s $B/kinagg-cat $B/kinagg-tail && bash tests/net/kinesis_mock_tools.sh $KM $KM_TLS $SEED"
exec 6>&-
# a third: moto (Python's AWS mock, when installed), across a resharding
step "moto: kinagg-cat and kinagg-tail across a resharding" sh_all \
  "make -s $B/kinagg-cat $B/kinagg-tail && bash tests/net/moto_test.sh"

# other CPUs under qemu-user: 64-bit ARM, 32-bit ARM, big-endian s390x
for arch in aarch64 arm s390x; do
  step "qemu-$arch: unit tests" sh_all "make -s $B/unit-$arch-cross && qemu-$arch ./$B/unit-$arch-cross"
  step "qemu-$arch: HTTP, Kinesis responses and a producer session (the no-heap run)" \
    sh_all "make -s $B/noheap-$arch-cross && qemu-$arch ./$B/noheap-$arch-cross"
done
step "qemu-arm: producer region sizes on a 32-bit target" sh_all \
  "make -s $B/producer_memory-arm-cross && qemu-arm ./$B/producer_memory-arm-cross"
step "qemu-aarch64: unit tests, SHA-256 on ARMv8 crypto instructions" sh_all \
  "make -s $B/unit-armv8-crypto && qemu-aarch64 -cpu max ./$B/unit-armv8-crypto"
step "qemu-s390x: big-endian kinagg writes, protobuf-c reads" sh_all \
  "make -s $B/kinagg_write-s390x-cross && qemu-s390x ./$B/kinagg_write-s390x-cross $B/corpus-be.txt $SEED 20 && ./$B/pbc_check decode $B/corpus-be.txt"
step "qemu-s390x: big-endian kinagg reads aws-kinesis-agg" sh_all \
  "make -s $B/kinagg_read-s390x-cross && qemu-s390x ./$B/kinagg_read-s390x-cross $B/corpus-node.txt read"
step "cortex-m4: arm-none-eabi build" mk size
step "examples: quick start and offline demo" sh_all \
  "make -s $B/quickstart $B/agg_demo && ./$B/quickstart && ./$B/agg_demo examples/sample-access.log"

# two fuzzers at a time, one per core (each is single-threaded)
fuzz_pair() { # fuzz_pair A B: both built, then run side by side; each one's last lines
  make -s -j2 $B/fuzz_$1 $B/fuzz_$2 || return 1
  local f pids=() rc=0 n=0
  for f in "$1" "$2"; do
    mkdir -p $B/fuzz-corpus/$f
    ./$B/fuzz_$f -max_total_time=$FUZZ_SECONDS -max_len=4096 $B/fuzz-corpus/$f \
      $( [ -d tests/fuzz/seeds/$f ] && echo tests/fuzz/seeds/$f ) >$B/fuzz_$f.log 2>&1 &
    pids+=($!)
  done
  for f in "$1" "$2"; do
    if wait "${pids[0]}"; then n=$((n + 1)); else rc=1; echo "fuzz_$f failed:"; fi
    pids=("${pids[@]:1}")
    tail -3 $B/fuzz_$f.log
  done
  echo "fuzz: $n passed, $(( 2 - n )) failed"
  return $rc
}
export FUZZ_SECONDS; export -f fuzz_pair
step "fuzz: deagg and http, ${FUZZ_SECONDS}s each side by side, ASan+UBSan" fuzz_pair deagg http
step "fuzz: json and cbor, ${FUZZ_SECONDS}s each side by side, ASan+UBSan" fuzz_pair json cbor

# credentials where programs run (port/kinagg_aws_credentials.h): the local
# credential services, every provider and the chain against them, a producer
# whose credentials rotate under it for 70 s (in the background meanwhile),
# the tools, and the document parsers fuzzed
mk $B/rotation_test $B/pki-creds/done >/dev/null 2>&1
creds_fifo=$B/creds.stdin
rm -f "$creds_fifo" $B/creds-ports.txt $B/rotation-ports.json; mkfifo "$creds_fifo"
node tests/creds/servers.js --pki $B/pki --device-pki $B/pki-creds --ports $B/creds-ports.txt <"$creds_fifo" >/dev/null 2>$B/creds-servers.err &
node tests/creds/rotating_proxy.js --kinesalite $KINESALITE <"$creds_fifo" >$B/rotation-ports.json 2>$B/rotation-proxy.err &
exec 7>"$creds_fifo"   # both serve until this closes
for _ in $(seq 100); do [ -s $B/creds-ports.txt ] && [ -s $B/rotation-ports.json ] && break; sleep 0.1; done
rport() { node -e "process.stdout.write(String(require('./$B/rotation-ports.json')['$1']))"; }
rm -f $B/rotation.rc
( ./$B/rotation_test --proxy "$(rport proxy)" --creds "$(rport creds)" --kinesalite $KINESALITE --stream rotation-$SEED \
  --manifest $B/manifest-rotation.txt --seconds 70 >$B/rotation.log 2>&1; echo $? >$B/rotation.rc ) &
step "creds: the local services refuse what IMDS, containers, STS and AWS IoT refuse" \
  node tests/creds/servers_check.js $B/creds-ports.txt $B/pki $B/pki-creds
step "creds: documents, times, every provider and the chain against the local services (ASan+UBSan)" sh_all \
  "make -s $B/creds_test && ./$B/creds_test $B/creds-ports.txt $B/pki $B/pki-creds $PROXY"
step "creds: the port under gcc, clang, g++, clang++" mk creds-warnings
step "creds: kinagg-cat with only a container endpoint, only IMDS, only AWS IoT over mutual TLS" sh_all \
  "make -s $B/kinagg-cat $B/kinagg-tail && bash tests/creds/tools_creds_test.sh $PROXY $KINESALITE $B/creds-ports.txt $B/pki $B/pki-creds $SEED"
for f in creds_json creds_xml creds_process; do
  step "fuzz: $f, 10s, ASan+UBSan" sh_all \
    "make -s $B/fuzz_$f && mkdir -p $B/fuzz-corpus/$f && ./$B/fuzz_$f -max_total_time=10 -max_len=4096 $B/fuzz-corpus/$f tests/fuzz/seeds/$f 2>&1 | tail -3"
done
rotation_result() { while [ ! -s $B/rotation.rc ]; do sleep 1; done; cat $B/rotation.log; return "$(cat $B/rotation.rc)"; }
export -f rotation_result
step "creds: 70 s of records while the credentials rotate every 20 s (expired ones refused)" rotation_result
step "reader: every record of the rotation delivered once" read_back rotation-$SEED $B/manifest-rotation.txt
exec 7>&-

echo
echo "$(( $(date +%s) - start ))s; seed $SEED"
[ ${#failed_steps[@]} -eq 0 ] || printf 'failed: %s\n' "${failed_steps[@]}"
echo "tests: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
