// Runs the producer firmware under QEMU (mps2-an386, Cortex-M4) and bridges
// its UART to the test proxy: the UART's byte stream carries the firmware's
// connections (framing in uart_link.h), which this process makes on
// 127.0.0.1, to the proxy's port and its own echo server's only. It first creates the stream (4
// shards), passes the firmware its command line by semihosting (proxy port,
// the clock, seed, stream, record count, the port of an echo server for a
// test of the link), writes the firmware's "rec" lines
// to the manifest for reader.js, echoes the rest, and exits with the
// firmware's exit code.
// With --max-stack N (the firmware's worst case from the call graph), it
// checks that the stack high-water mark the firmware measured is within it.
//   node bridge.js --elf FILE --proxy PORT --kinesalite PORT --stream NAME
//                  --manifest FILE [--seed N] [--records N] [--shards N] [--timeout S]
//                  [--max-stack N]
'use strict';
const net = require('net');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const modules = path.join(__dirname, '..', 'node_modules');
const { KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand } =
  require(path.join(modules, '@aws-sdk/client-kinesis'));
const { NodeHttpHandler } = require(path.join(modules, '@smithy/node-http-handler'));

const args = { seed: '1', records: '10000', shards: '4', timeout: '150' };
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const ESC = 0x7e;
const fail = (why) => { console.error(`bridge: ${why}`); console.log('bridge: 0 passed, 1 failed'); process.exit(1); };

async function createStream() {
  const client = new KinesisClient({
    endpoint: `http://127.0.0.1:${args.kinesalite}`, region: 'us-east-1', requestHandler: new NodeHttpHandler(),
    credentials: { accessKeyId: 'AKIDKINAGGTEST', secretAccessKey: 'kinagg/test/secret+KEY' },
  });
  await client.send(new CreateStreamCommand({ StreamName: args.stream, ShardCount: Number(args.shards) }));
  for (let i = 0; i < 100; i++) {
    const r = await client.send(new DescribeStreamSummaryCommand({ StreamName: args.stream }));
    if (r.StreamDescriptionSummary.StreamStatus === 'ACTIVE') return;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error('the stream did not become ACTIVE');
}

// Data bytes to the firmware: 0x7E doubled.
function escape(buf) {
  let n = 0;
  for (const b of buf) if (b === ESC) n++;
  if (!n) return buf;
  const out = Buffer.alloc(buf.length + n);
  let j = 0;
  for (const b of buf) { out[j++] = b; if (b === ESC) out[j++] = ESC; }
  return out;
}

const allowed = [Number(args.proxy)];
const stats = { connections: 0, refused: 0, fromFirmware: 0, toFirmware: 0, escapedIn: 0, escapedOut: 0 };

function bridge(uart) {
  let esc = false, control = null; // control: the text of a connect frame being read
  let upstream = null; // the current connection: { sock, said: whether 'C' was sent }
  const toFirmware = (bytes) => { if (!uart.write(bytes)) upstream && upstream.sock.pause(); };
  uart.on('drain', () => upstream && upstream.sock.resume());
  const closed = (u) => { // exactly one 'C' per connect
    if (u.said) return;
    u.said = true;
    uart.write(Buffer.from([ESC, 0x43]));
  };
  const open = (target) => {
    const m = /^(.*):(\d+)$/.exec(target);
    const u = { sock: null, said: false };
    upstream = u;
    stats.connections++;
    if (!m || m[1] !== '127.0.0.1' || !allowed.includes(Number(m[2]))) { // the proxy and the echo, nothing else
      console.log(`bridge: connect to ${target} refused: only 127.0.0.1:${allowed.join(',')}`);
      stats.refused++;
      closed(u);
      return;
    }
    u.sock = net.connect(Number(m[2]), '127.0.0.1', () => uart.write(Buffer.from([ESC, 0x4f])));
    u.sock.setNoDelay(true);
    u.sock.on('data', (d) => {
      for (const b of d) if (b === ESC) stats.escapedOut++;
      stats.toFirmware += d.length;
      toFirmware(escape(d));
    });
    u.sock.on('error', () => {});
    u.sock.on('close', () => closed(u));
  };
  let pending = []; // data bytes of one UART chunk, in order
  const flush = () => {
    if (!pending.length) return;
    const d = Buffer.from(pending);
    pending = [];
    stats.fromFirmware += d.length;
    if (upstream && upstream.sock && !upstream.said && !upstream.sock.write(d)) {
      uart.pause();
      upstream.sock.once('drain', () => uart.resume());
    }
  };
  uart.on('data', (chunk) => {
    for (const b of chunk) {
      if (control !== null) { // the text of a connect frame, up to '\n'
        if (b === 0x0a) { flush(); open(control); control = null; } else control += String.fromCharCode(b);
      } else if (esc) {
        esc = false;
        if (b === ESC) { pending.push(b); stats.escapedIn++; }
        else if (b === 0x6f) control = ''; // 'o': connect
        else if (b === 0x63) { // 'c': close
          flush();
          if (upstream) {
            if (upstream.sock) upstream.sock.destroy();
            closed(upstream);
            upstream = null;
          }
        }
      } else if (b === ESC) esc = true;
      else pending.push(b);
    }
    flush();
  });
}

(async () => {
  await createStream();
  const server = net.createServer();
  let firmwareExit = null;
  server.on('connection', (uart) => {
    uart.setNoDelay(true);
    uart.on('error', () => {}); // QEMU resets it when it exits with bytes unread
    bridge(uart);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  // an echo server, for the firmware's test of the link itself
  const echo = net.createServer((s) => { s.on('error', () => {}); s.pipe(s); });
  await new Promise((ok) => echo.listen(0, '127.0.0.1', ok));
  allowed.push(echo.address().port);
  const manifest = fs.createWriteStream(args.manifest);
  const t0 = Date.now();
  const qemu = spawn('qemu-system-arm', [
    '-M', 'mps2-an386', '-nodefaults', '-display', 'none',
    '-serial', `tcp:127.0.0.1:${server.address().port},nodelay=on`,
    '-semihosting-config', ['enable=on', 'target=native', 'arg=producer', `arg=${args.proxy}`, `arg=${Date.now()}`,
      `arg=${args.seed}`, `arg=${args.stream}`, `arg=${args.records}`, `arg=${echo.address().port}`].join(','),
    '-kernel', args.elf], { stdio: ['ignore', 'pipe', 'pipe'] });
  qemu.on('error', (e) => fail(`qemu-system-arm: ${e.message}`));
  let errRest = '';
  qemu.stderr.on('data', (d) => { // the board's network card is left unconnected: not worth a warning
    const lines = (errRest + d.toString()).split('\n');
    errRest = lines.pop();
    for (const l of lines) if (!/lan9118.0 has no peer/.test(l)) console.error(l);
  });
  const timer = setTimeout(() => { console.error(`bridge: no exit after ${args.timeout} s`); qemu.kill(); },
    Number(args.timeout) * 1000);
  let rest = '', records = 0, counts = null, highWater = null;
  const line = (l) => {
    let m;
    if (l.startsWith('rec ')) { manifest.write(l + '\n'); records++; return; }
    if ((m = /^firmware: (\d+) passed, (\d+) failed$/.exec(l))) { counts = [Number(m[1]), Number(m[2])]; return; }
    if ((m = /high-water (\d+)/.exec(l))) highWater = Number(m[1]);
    console.log(l);
  };
  qemu.stdout.on('data', (d) => {
    const lines = (rest + d.toString('latin1')).split('\n');
    rest = lines.pop();
    lines.forEach(line);
  });
  qemu.on('exit', (code, signal) => {
    clearTimeout(timer);
    firmwareExit = code === null ? 1 : code;
    if (rest) line(rest);
    manifest.end(() => {
      console.log(`bridge: ${stats.connections} connections (${stats.refused} refused), ${stats.fromFirmware} bytes ` +
                  `from the firmware, ${stats.toFirmware} to it (0x7E: ${stats.escapedIn} from, ${stats.escapedOut} ` +
                  `to), ${records} manifest lines, ${((Date.now() - t0) / 1000).toFixed(1)} s in QEMU`);
      if (signal) console.error(`bridge: QEMU ended by ${signal}`);
      // the firmware's checks, and the bridge's own on what it saw
      const [p, f] = counts || [0, 1];
      let passed = p, failed = f;
      const check = (ok, why) => { if (ok) passed++; else { failed++; console.error(`bridge: FAIL ${why}`); } };
      check(records === Number(args.records), `${records} manifest lines for ${args.records} records`);
      if (args['max-stack']) {
        check(highWater !== null && highWater <= Number(args['max-stack']),
              `stack high-water ${highWater} over the call graph's worst case ${args['max-stack']}`);
        console.log(`bridge: stack high-water ${highWater} within the call graph's worst case ${args['max-stack']}`);
      }
      console.log(`firmware: ${passed} passed, ${failed} failed`);
      process.exit(firmwareExit || (failed ? 1 : 0));
    });
  });
})().catch((e) => fail(e.stack || e));
