#!/usr/bin/env bash
# make demo: a local Kinesis (kinesalite on 127.0.0.1), a web access log sent
# with kinagg-cat aggregated and not, and read back with kinagg-tail.
set -euo pipefail
cd "$(dirname "$0")/.."
B=build
log=examples/sample-access.log
mkdir -p $B
make -s $B/kinagg-cat $B/kinagg-tail

echo "== starting kinesalite on 127.0.0.1 (behind a SigV4-checking proxy)"
fifo=$B/demo.stdin
rm -f "$fifo" $B/demo-ports.json
mkfifo "$fifo"
node tests/net/server.js <"$fifo" >$B/demo-ports.json 2>$B/demo-server.err &
server=$!
exec 7>"$fifo"
trap 'exec 7>&-; kill $server 2>/dev/null; rm -f "$fifo"' EXIT
for _ in $(seq 100); do [ -s $B/demo-ports.json ] && break; sleep 0.1; done
port=$(node -e "process.stdout.write(String(require('./$B/demo-ports.json').proxy))")

# the local server knows these keys; a real stream takes yours
export AWS_ACCESS_KEY_ID=AKIDKINAGGTEST AWS_SECRET_ACCESS_KEY=kinagg/test/secret+KEY AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:$port
unset AWS_PROFILE AWS_SESSION_TOKEN

lines=$(wc -l < $log)
echo "== sending $log ($lines lines) to two 4-shard streams; partition key: the client address"
# KEY<TAB>LINE, the key being the client address, so one client's lines stay in order
awk '{ print $1 "\t" $0 }' $log > $B/demo-lines.tsv
./$B/kinagg-cat --stream demo-aggregated --create 4 --tab-key --stats-json $B/demo-agg.json $B/demo-lines.tsv
./$B/kinagg-cat --stream demo-plain --create 4 --tab-key --no-aggregate --stats-json $B/demo-plain.json $B/demo-lines.tsv
# what one shard can carry either way: it takes 1000 records/s and 1 MiB/s
# (data + partition keys); aggregation lifts the record limit, so the byte
# limit bounds the gain
node -e "
const a = require('./$B/demo-agg.json'), p = require('./$B/demo-plain.json'), n = $lines;
const MiB = 1048576, f = (x) => Math.round(x).toLocaleString('en-US');
const carry = (s) => { const perRec = n / s.kinesis_records, perLine = s.wire_bytes / n;
  return { perRec, perLine, byRecords: 1000 * perRec, byBytes: MiB / perLine }; };
const pa = carry(p), ag = carry(a), lim = (c) => Math.min(c.byRecords, c.byBytes);
console.log('');
console.log('   not aggregated: ' + n + ' log lines -> ' + p.kinesis_records + ' Kinesis records');
console.log('   aggregated:     ' + n + ' log lines -> ' + a.kinesis_records + ' Kinesis records (' + ag.perRec.toFixed(0) + ' lines per record)');
console.log('');
console.log('   a shard takes 1000 records/s and 1 MiB/s (data + partition keys); per shard:');
const row = (name, c) => console.log('   ' + name + f(c.byRecords).padStart(9) + ' lines/s by records, ' +
  f(c.byBytes).padStart(6) + ' by bytes (' + c.perLine.toFixed(0) + ' bytes a line): ' + f(lim(c)) + ' lines/s, ' +
  (c.byRecords < c.byBytes ? 'the record limit binds' : 'the byte limit binds'));
row('not aggregated:', pa);
row('aggregated:    ', ag);
console.log('   aggregation lets one shard carry ' + (lim(ag) / lim(pa)).toFixed(1) + 'x as many of these lines' +
            ' (not ' + ag.perRec.toFixed(0) + 'x: the byte limit is reached first)');
"
echo
echo "== reading demo-aggregated back with kinagg-tail"
./$B/kinagg-tail --stream demo-aggregated > $B/demo-tail.txt
echo "   $(wc -l < $B/demo-tail.txt) lines read back; the first three:"
head -3 $B/demo-tail.txt | cut -c1-110 | sed 's/^/   /'
echo "   and the 5xx errors, with --grep:"
./$B/kinagg-tail --stream demo-aggregated --grep '" 5[0-9][0-9] ' 2>/dev/null > $B/demo-5xx.txt
head -3 $B/demo-5xx.txt | cut -c1-110 | sed 's/^/   /'
echo
echo "== stopping kinesalite"
