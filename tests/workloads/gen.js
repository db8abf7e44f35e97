// Test inputs, reproducible from a seed.
//   node gen.js binary SEED BYTES FILE   records of every byte value (NUL, 0x80-0xFF, CR mid-record and
//                                        before the newline, empty records), ending with a newline
//   node gen.js lines SEED COUNT FILE    KEY<TAB>DATA lines of about 170 bytes, 5000 keys
'use strict';
const fs = require('fs');
const [mode, seedArg, nArg, file] = process.argv.slice(2);
let s = BigInt(seedArg) | 1n;
const rand = (n) => {
  s = (s * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
  return Number((s >> 33n) % BigInt(n));
};

if (mode === 'binary') {
  const out = Buffer.alloc(Number(nArg));
  for (let i = 0; i < out.length; i++) {
    const k = rand(100);
    // mostly any byte; some runs of NULs, CRs and high bytes; newlines now and then
    out[i] = k < 60 ? rand(256) : k < 70 ? 0 : k < 78 ? 13 : k < 90 ? 0x80 + rand(128) : k < 99 ? 0x20 + rand(95) : 10;
  }
  for (let i = 0; i < 256; i++) out[1000 + i] = i; // every value once, in a row
  out.write('\r\n\n\r\n', 3000, 'latin1');         // CRLF ends and an empty record
  out[out.length - 1] = 10;
  fs.writeFileSync(file, out);
} else if (mode === 'lines') {
  const out = [];
  for (let i = 0; i < Number(nArg); i++) {
    const head = `user-${rand(5000)}\t${i} GET /item/${rand(1000000)} `;
    out.push(head + 'y'.repeat(150 - head.length + rand(40)));
  }
  fs.writeFileSync(file, out.join('\n') + '\n');
} else {
  console.error('usage: gen.js binary|lines SEED N FILE');
  process.exit(2);
}
