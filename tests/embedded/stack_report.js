// Worst-case stack depth over the call graph, for make size (every public
// function of kinagg.h) and for the firmware test (its whole program).
//
// Frames and calls of compiled code come from gcc's -fcallgraph-info=su
// (.ci files); functions gcc did not compile here (libc, libgcc) are read
// from the disassembly of a linked image: the most their prologue and
// body push or reserve at once, and their calls. A function's worst case is
// its frame plus the deepest of its callees. Indirect calls: gcc marks each
// as a call to __indirect_call. It may reach any function whose address
// the code takes (found from the objects' relocations outside call
// instructions, vector tables and debug or unwind data), so it counts as
// the deepest of those; a callback of a port or of the user (transport,
// platform, completion) is not in the graph and counts as a leaf of 0
// bytes. Recursion or a dynamic frame is reported as unbounded.
//   node stack_report.js --ci F.ci ... --obj F.o ... --elf IMAGE
//        (--api kinagg.h | --root NAME ... [--isr NAME ...]) [--target N] [--paths]
'use strict';
const fs = require('fs');
const { execFileSync } = require('child_process');

const opt = { ci: [], obj: [], root: [], isr: [], target: 0 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i].replace(/^--/, '');
  if (a === 'paths') opt.paths = true;
  else if (Array.isArray(opt[a])) opt[a].push(process.argv[++i]);
  else opt[a] = process.argv[++i];
}
const run = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });

// ---- the call graph from the .ci files ----
const nodes = new Map(); // id -> { name, frame, dynamic, calls: [id], external }
const byName = new Map(); // name -> [id]
const unq = (s) => s.replace(/\\(.)/g, '$1');
for (const file of opt.ci) {
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    let m = /^node: \{ title: "((?:[^"\\]|\\.)*)" label: "((?:[^"\\]|\\.)*)"(.*)\}$/.exec(line);
    if (m) {
      const id = unq(m[1]), parts = m[2].split('\\n');
      const st = /(\d+) bytes \(([a-z,]+)\)/.exec(m[2]);
      const name = st ? parts[0] : id; // an external's label may say __builtin_memcpy for memcpy
      const old = nodes.get(id);
      if (old && !old.external) continue; // a global seen from another file as external
      const n = { name, frame: st ? Number(st[1]) : 0, dynamic: st ? st[2] !== 'static' : false,
                  calls: old ? old.calls : [], external: !st };
      nodes.set(id, n);
      if (!byName.has(name)) byName.set(name, []);
      if (!byName.get(name).includes(id)) byName.get(name).push(id);
      continue;
    }
    m = /^edge: \{ sourcename: "((?:[^"\\]|\\.)*)" targetname: "((?:[^"\\]|\\.)*)"/.exec(line);
    if (m) {
      const s = unq(m[1]), t = unq(m[2]);
      if (!nodes.has(s)) nodes.set(s, { name: s, frame: 0, calls: [], external: true });
      if (!nodes.get(s).calls.includes(t)) nodes.get(s).calls.push(t);
    }
  }
}
// a global function defined in one file and called from another appears
// there as an external node of the same name: point it at the definition
for (const [id, n] of nodes) {
  if (!n.external) continue;
  const def = (byName.get(n.name) || []).find((x) => x !== id && !nodes.get(x).external);
  if (def) { n.alias = def; }
}

// ---- address-taken functions: relocations outside calls ----
const CALLS = /R_ARM_(THM_CALL|THM_JUMP24|THM_JUMP19|THM_JUMP11|THM_JUMP8|CALL|JUMP24|PC24|NONE|V4BX)/;
const taken = new Set();
for (const obj of opt.obj) {
  let section = '';
  for (const line of run('arm-none-eabi-readelf', ['-rW', obj]).split('\n')) {
    const s = /^Relocation section '([^']+)'/.exec(line);
    if (s) { section = s[1]; continue; }
    if (!/^\.rel\.(text|rodata|data)/.test(section)) continue; // not vectors, unwind or debug data
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || CALLS.test(f[2])) continue;
    if (f[4] === section.replace(/^\.rel/, '')) continue; // a function's own jump table
    const sym = f[4].replace(/^\.text\./, '');
    for (const id of byName.get(sym) || []) if (!nodes.get(id).external) taken.add(id);
  }
}
const INDIRECT = '__indirect_call';
if (nodes.has(INDIRECT)) Object.assign(nodes.get(INDIRECT), { external: false, frame: 0, calls: [...taken], indirect: true });

// ---- functions gcc did not compile here: from the linked image ----
const disasm = new Map(); // name -> { frame, calls: [name] }
if (opt.elf) {
  let cur = null, depth = 0;
  const names = new Map(); // address -> the symbols there (__aeabi_dadd is __adddf3)
  for (const line of run('arm-none-eabi-nm', [opt.elf]).split('\n')) {
    const m = /^([0-9a-f]+) [TtWw] (\S+)$/.exec(line);
    if (m) { if (!names.has(m[1])) names.set(m[1], []); names.get(m[1]).push(m[2]); }
  }
  const regs = (list) => list.split(',').reduce((n, r) => {
    const m = /([rsd])(\d+)\s*-\s*[rsd](\d+)/.exec(r);
    const each = /d\d/.test(r) ? 8 : 4;
    return n + (m ? (Number(m[3]) - Number(m[2]) + 1) * each : r.trim() ? each : 0);
  }, 0);
  for (const line of run('arm-none-eabi-objdump', ['-d', '--no-show-raw-insn', opt.elf]).split('\n')) {
    let m = /^([0-9a-f]+) <([^>]+)>:$/.exec(line);
    if (m) {
      cur = { frame: 0, calls: [] };
      for (const n of [m[2], ...(names.get(m[1]) || [])]) disasm.set(n, cur);
      depth = 0;
      continue;
    }
    m = /^\s+[0-9a-f]+:\s+(\S+)\s*(.*)$/.exec(line);
    if (!m || !cur) continue;
    const [, op, args] = m;
    let d = 0;
    if (/^(push|stmdb|stmfd)/.test(op) && /^(sp!,\s*)?\{/.test(args)) d = regs(args.replace(/.*\{|\}.*/g, ''));
    else if (/^vpush/.test(op)) d = regs(args.replace(/.*\{|\}.*/g, ''));
    else if (/^(pop|ldmia|ldmfd)/.test(op) && /^(sp!,\s*)?\{/.test(args)) d = -regs(args.replace(/.*\{|\}.*/g, ''));
    else if (/^vpop/.test(op)) d = -regs(args.replace(/.*\{|\}.*/g, ''));
    else if (/^subw?(\.w)?$/.test(op) && /^sp,\s*(sp,\s*)?#(\d+)/.test(args)) d = Number(/#(\d+)/.exec(args)[1]);
    else if (/^addw?(\.w)?$/.test(op) && /^sp,\s*(sp,\s*)?#(\d+)/.test(args)) d = -Number(/#(\d+)/.exec(args)[1]);
    else if (/^str[a-z]*(\.w)?$/.test(op) && /\[sp,\s*#-(\d+)\]!/.test(args)) d = Number(/#-(\d+)/.exec(args)[1]);
    depth += d;
    if (depth > cur.frame) cur.frame = depth;
    const call = /^(bl|blx|b|b\.w|b\.n)$/.test(op) && /<([^>+]+)(\+0x[0-9a-f]+)?>/.exec(args);
    if (call && (op.startsWith('bl') || !call[2])) cur.calls.push(call[1]);
  }
}

// ---- worst case, memoised; a cycle is unbounded ----
const memo = new Map(), onPath = new Set(), problems = new Set();
function resolve(id) {
  const n = nodes.get(id);
  return n && n.alias ? n.alias : id;
}
function worst(id) {
  id = resolve(id);
  if (memo.has(id)) return memo.get(id);
  if (onPath.has(id)) { problems.add(`recursion through ${id}`); return { bytes: Infinity, path: [{ text: id, ids: id, bytes: Infinity }] }; }
  onPath.add(id);
  let n = nodes.get(id), frame, calls, label;
  if (!n || n.external) {
    const d = disasm.get(n ? n.name : id);
    if (d) { frame = d.frame; calls = d.calls.filter((c) => c !== (n ? n.name : id)); label = `${n ? n.name : id} (disassembly)`; }
    else { frame = 0; calls = []; label = `${n ? n.name : id} (unknown: 0)`; if (!/^__indirect_call$/.test(id)) problems.add(`no frame for ${id}`); }
  } else {
    frame = n.frame; calls = n.calls; label = n.indirect ? 'indirect call' : n.name;
    if (n.dynamic) problems.add(`dynamic frame in ${n.name}`);
  }
  let best = { bytes: 0, path: [] };
  for (const c of calls) {
    const w = worst(c);
    if (w.bytes > best.bytes) best = w;
  }
  const r = { bytes: frame + best.bytes, path: [{ text: `${label} ${frame}`, ids: id, bytes: frame + best.bytes }, ...best.path] };
  onPath.delete(id);
  memo.set(id, r);
  return r;
}

const findRoot = (name) => {
  const ids = (byName.get(name) || []).filter((x) => !nodes.get(x).external);
  if (!ids.length) { problems.add(`no function ${name}`); return null; }
  return ids[0];
};
const fmt = (n) => (n === Infinity ? 'unbounded' : String(n));

if (opt.api) { // every public function of the header
  const text = fs.readFileSync(opt.api, 'utf8');
  const api = text.slice(0, text.indexOf('#if defined(KINAGG_IMPLEMENTATION)'));
  const names = [...api.matchAll(/^KINAGG_API[^;{]*?\b(kinagg_[a-z0-9_]+)\s*\(/gm)].map((m) => m[1]);
  const res = [...new Set(names)].map((name) => {
    const id = findRoot(name);
    return { name, ...(id ? worst(id) : { bytes: 0, path: [] }), missing: !id };
  }).sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
  const over = opt.target ? res.filter((r) => r.bytes > opt.target) : res;
  const under = opt.target ? res.filter((r) => r.bytes <= opt.target) : [];
  console.log(`worst-case stack of every public function (${res.length}), bytes, over the call graph` +
              (opt.target ? `; ${over.length} over the ${opt.target}-byte target:` : ':'));
  const shown = new Set(); // a path's tail printed once, then named
  for (const r of over) {
    console.log(`${fmt(r.bytes).padStart(8)}  ${r.name}`);
    if (!opt.paths) continue;
    const cut = r.path.findIndex((step, i) => i > 0 && shown.has(step.ids));
    const steps = cut < 0 ? r.path : r.path.slice(0, cut + 1);
    console.log(`          ${steps.map((x) => x.text).join(' > ')}${cut < 0 ? '' : ` ... (${fmt(r.path[cut].bytes)}, as above)`}`);
    for (const x of steps) shown.add(x.ids);
  }
  if (under.length) {
    console.log(`  at or under ${opt.target}:`);
    for (let i = 0; i < under.length; i += 3)
      console.log(under.slice(i, i + 3).map((r) => `${fmt(r.bytes).padStart(8)}  ${r.name.padEnd(34)}`).join('').trimEnd());
  }
  console.log(`  indirect calls may reach: ${[...taken].map((id) => nodes.get(id).name).join(', ') || 'nothing in the library'};` +
              ' port and user callbacks count as leaves (0)');
} else { // a program: its roots, plus the deepest interrupt with its exception frame
  let total = 0;
  for (const name of opt.root) {
    const id = findRoot(name);
    if (!id) continue;
    const w = worst(id);
    console.log(`stack: ${fmt(w.bytes)} bytes at most from ${name}: ${w.path.map((x) => x.text).join(' > ')}`);
    total = Math.max(total, w.bytes);
  }
  let isr = { bytes: 0, name: '' };
  for (const name of opt.isr) {
    const id = findRoot(name);
    if (!id) continue;
    const w = worst(id);
    if (w.bytes >= isr.bytes) isr = { bytes: w.bytes, name };
  }
  // exception entry on a Cortex-M4F: 8 words, 26 with the FPU context, + 4 for 8-byte alignment
  const entry = opt.isr.length ? 104 + 4 : 0;
  const all = total + isr.bytes + entry;
  // the stack the image has, when its linker script marks it
  const sym = {};
  if (opt.elf) for (const l of run('arm-none-eabi-nm', [opt.elf]).split('\n')) {
    const m = /^([0-9a-f]+) \S (__stack_limit|__stack_top)$/.exec(l);
    if (m) sym[m[2]] = parseInt(m[1], 16);
  }
  const have = sym.__stack_top - sym.__stack_limit;
  console.log(`stack: worst case ${fmt(all)} bytes (program ${fmt(total)}` +
              (opt.isr.length ? ` + interrupt ${isr.name} ${fmt(isr.bytes)} + exception frame ${entry}` : '') + ')' +
              (have ? `; the image has ${have}` : ''));
  if (have && !(all <= have)) problems.add(`the worst case needs more than the ${have} bytes of stack`);
}
for (const p of problems) console.log(`stack: error: ${p}`);
process.exitCode = problems.size ? 1 : 0;
