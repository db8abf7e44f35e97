// make size: the linked size of each combination of kinagg's layers, read
// from the link maps of tests/embedded/layers.c (built once per
// combination). Counted: the allocated input sections (code, constants,
// data, bss) that come from kinagg's object and from the libc and libgcc
// members linked in; the test program's own sections and alignment fill are
// left out.
// With --header kinagg.h, the last combination is also broken down by the
// header's implementation sections (Crypto, SigV4, HTTP, ...).
//   node size_report.js [--header kinagg.h] [--title TEXT] NAME=MAP[:TARGET] ...
'use strict';
const fs = require('fs');

const KEEP = new Set(['.text', '.rodata', '.data', '.bss', '.ARM.exidx', '.ARM.extab']);

// Input sections of a map: { out, name, size, file }.
function inputSections(map) {
  const lines = fs.readFileSync(map, 'utf8').split('\n');
  const at = lines.findIndex((l) => l.startsWith('Linker script and memory map'));
  const out = [];
  let section = null, pendingName = null;
  for (const l of lines.slice(at + 1)) {
    let m = /^(\.[^\s]+)(\s+0x[0-9a-f]+\s+0x[0-9a-f]+)?/.exec(l);
    if (m) { section = m[1]; pendingName = null; continue; }
    if (/^\S/.test(l)) { section = null; continue; }
    m = /^ (\.[^\s]+|COMMON)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(.+)$/.exec(l);
    if (m) { out.push({ out: section, name: m[1], size: parseInt(m[3], 16), file: m[4].trim() }); pendingName = null; continue; }
    m = /^ (\.[^\s]+|COMMON)$/.exec(l);
    if (m) { pendingName = m[1]; continue; }
    m = /^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$/.exec(l);
    if (m && pendingName) { out.push({ out: section, name: pendingName, size: parseInt(m[2], 16), file: m[3].trim() }); }
    pendingName = null;
  }
  return out.filter((s) => KEEP.has(s.out) && s.size > 0);
}

const kind = (file) => (/libc[_a-z]*\.a\(/.test(file) ? 'libc' : /libgcc\.a\(/.test(file) ? 'libgcc'
  : /kinagg[^/]*\.o$/.test(file) ? 'kinagg' : 'program');
const member = (file) => (/\(([^)]+)\)$/.exec(file) || [, file])[1].replace(/^lib_a-|^libc_a-/, '').replace(/\.o$/, '');
const fmt = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const pad = (s, n) => String(s).padStart(n);

const rows = [];
let header = null;
const argv = process.argv.slice(2);
let title = null;
for (;;) {
  if (argv[0] === '--header') { header = argv[1]; argv.splice(0, 2); }
  else if (argv[0] === '--title') { title = argv[1]; argv.splice(0, 2); }
  else break;
}
for (const arg of argv) {
  const [name, spec] = arg.split('=');
  const [map, target] = spec.split(':');
  const secs = inputSections(map);
  const sum = (f) => secs.filter(f).reduce((a, s) => a + s.size, 0);
  const lib = (s) => kind(s.file) !== 'program';
  rows.push({
    name, target: target ? Number(target) : 0, secs,
    kinagg: sum((s) => kind(s.file) === 'kinagg' && s.out !== '.bss'),
    libc: sum((s) => kind(s.file) === 'libc' && s.out !== '.bss'),
    libgcc: sum((s) => kind(s.file) === 'libgcc' && s.out !== '.bss'),
    data: sum((s) => lib(s) && s.out === '.data'),
    bss: sum((s) => lib(s) && s.out === '.bss'),
    members: [...new Set(secs.filter((s) => kind(s.file) === 'libc' || kind(s.file) === 'libgcc').map((s) => member(s.file)))],
  });
}

console.log('linked size on the Cortex-M4 (arm-none-eabi-gcc -Os -ffunction-sections -fdata-sections, --gc-sections,');
console.log(`newlib-nano), bytes of flash: kinagg.o plus the libc and libgcc members it pulls in${title ? `; ${title}` : ''}`);
console.log(`  ${'layers'.padEnd(42)}${pad('kinagg', 8)}${pad('libc', 7)}${pad('libgcc', 8)}${pad('total', 8)}  target`);
for (const r of rows) {
  const total = r.kinagg + r.libc + r.libgcc;
  const t = r.target ? `${fmt(r.target)} (${total <= r.target ? 'met' : `over by ${fmt(total - r.target)}`})` : '';
  console.log(`  ${r.name.padEnd(42)}${pad(fmt(r.kinagg), 8)}${pad(fmt(r.libc), 7)}${pad(fmt(r.libgcc), 8)}${pad(fmt(total), 8)}  ${t}`);
}
const ram = rows.filter((r) => r.data || r.bss);
console.log(ram.length ? `  static RAM: ${ram.map((r) => `${r.name} .data ${r.data} .bss ${r.bss}`).join('; ')}`
  : '  static RAM of every combination: .data 0, .bss 0');
const last = rows[rows.length - 1];
console.log(`  ${last.name}: libc/libgcc members: ${last.members.join(' ')}`);

// What the largest combination spends on things a one-protocol firmware
// could leave out: the CBOR code (functions named so; CBOR branches inside
// shared functions are not counted) and double-precision soft float.
const cbor = last.secs.filter((s) => kind(s.file) === 'kinagg' && /cbor/i.test(s.name));
const softfloat = last.secs.filter((s) => kind(s.file) === 'libgcc' && /df|fix|float/.test(member(s.file)));
const size = (a) => a.reduce((x, s) => x + s.size, 0);
console.log(`  ${last.name}: functions for CBOR alone ${fmt(size(cbor))} (${cbor.length ? `${cbor.map((s) => s.name.replace(/^\.text\./, '')).join(', ')}; ` : ''}` +
            'CBOR branches inside functions shared with JSON are not counted)');
console.log(`  ${last.name}: double-precision soft float ${fmt(size(softfloat))} (${[...new Set(softfloat.map((s) => member(s.file)))].join(', ')})`);
if (header) { // by section of the header: where each function is defined
  const lines = fs.readFileSync(header, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith('#if defined(KINAGG_IMPLEMENTATION)'));
  const where = new Map();
  let title = 'other';
  for (const l of lines.slice(start)) {
    const t = /^\/\* ---- \d+\. ([^-]+?) -/.exec(l);
    if (t) { title = t[1].replace(/:.*/, ''); continue; }
    const f = /^(?:KINAGG_API |static )[^;=]*?\b(kinagg_\w+)\(/.exec(l);
    if (f && !where.has(f[1])) where.set(f[1], title);
  }
  const groups = new Map();
  for (const sec of last.secs.filter((x) => kind(x.file) === 'kinagg')) {
    const fn = (/^\.(?:text|rodata)\.(kinagg_\w+)/.exec(sec.name) || [])[1];
    const g = (fn && where.get(fn)) || 'unnamed constants';
    groups.set(g, (groups.get(g) || 0) + sec.size);
  }
  console.log(`  ${last.name}, kinagg.o by section of the header: ` +
              [...groups].sort((a, b) => b[1] - a[1]).map(([g, n]) => `${g} ${fmt(n)}`).join(', '));
}
const largest = last.secs.filter((s) => kind(s.file) === 'kinagg').sort((a, b) => b.size - a.size).slice(0, 8);
console.log(`  ${last.name}: largest: ${largest.map((s) => `${s.name.replace(/^\.(text|rodata)\./, '').replace(/^str1\.1$/, 'strings')} ${fmt(s.size)}`).join(', ')}`);
