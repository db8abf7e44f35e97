// Cross-checks kinagg's hash keys with Node's crypto and BigInt: the MD5 of
// thousands of random partition keys as 128-bit numbers, decimal round trips
// (0, 2^128-1, random values), rejection of 2^128 and malformed decimals, and
// inclusive range tests.   usage: node hashkeys.js ./hashkey_tool [COUNT]
'use strict';
const { execFileSync } = require('child_process');
const crypto = require('crypto');

const tool = process.argv[2];
const count = Number(process.argv[3] || 5000);
const MAX = (1n << 128n) - 1n;
const randBig = () => BigInt('0x' + crypto.randomBytes(16).toString('hex')) >> BigInt(crypto.randomInt(0, 128));
const chars = ['a', 'Z', '0', '-', '_', ' ', 'é', 'Ж', 'λ', '中', '€', 'あ', '😀', '🚀', '\u{10FFFF}'];

const questions = [], expected = [];
function ask(q, want) { questions.push(q); expected.push(want); }

for (let i = 0; i < count; i++) {
  let pk = '';
  const len = 1 + crypto.randomInt(0, i % 10 === 0 ? 256 : 40);
  for (let j = 0; j < len; j++) pk += chars[crypto.randomInt(0, chars.length)];
  const utf8 = Buffer.from(pk, 'utf8');
  ask(`pk ${utf8.toString('hex')}`, BigInt('0x' + crypto.createHash('md5').update(utf8).digest('hex')).toString());
}
for (const v of [0n, 1n, 9n, 10n, MAX, MAX - 1n, 1n << 127n, 10n ** 38n]) ask(`dec ${v}`, v.toString());
for (let i = 0; i < count; i++) { const v = randBig(); ask(`dec ${v}`, v.toString()); }
for (const bad of [(MAX + 1n).toString(), (MAX + 12345n).toString(), (10n ** 39n).toString(), '-1', '01', '1e5', '0x1F', ''])
  ask(`dec ${bad}`, 'ERR');
for (let i = 0; i < count; i++) {
  let a = randBig(), b = randBig();
  if (a > b) [a, b] = [b, a];
  const k = [a, b, a - 1n, b + 1n, randBig()][i % 5];
  if (k < 0n || k > MAX) continue;
  ask(`range ${a} ${b} ${k}`, a <= k && k <= b ? '1' : '0');
}

const answers = execFileSync(tool, { input: questions.join('\n') + '\n', maxBuffer: 1 << 28 }).toString().split('\n');
let passed = 0, failed = 0;
questions.forEach((q, i) => {
  if (answers[i] === expected[i]) passed++;
  else { failed++; if (failed < 10) console.error(`FAIL ${q.slice(0, 80)}: got ${answers[i]}, want ${expected[i]}`); }
});
console.log(`hashkeys: ${passed} passed, ${failed} failed`);
process.exit(failed || !passed ? 1 : 0);
