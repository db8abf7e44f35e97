// A misbehaving HTTP server on 127.0.0.1 for tests/http_test.c: each path
// answers with raw bytes that test one thing. Prints its port when ready.
'use strict';
const net = require('net');

const responses = {
  '/chunked': (s) => {
    let out = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    for (let i = 0; i < 100; i++) out += `3e8\r\n${(i === 99 ? 'y'.repeat(999) + 'z' : 'x'.repeat(1000))}\r\n`;
    s.write(out + '0\r\n\r\n');
  },
  '/close-mid-body': (s) => { s.end('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly some of it'); },
  '/big-head': (s) => { s.write('HTTP/1.1 200 OK\r\nX-Pad: ' + 'p'.repeat(200000) + '\r\n\r\n'); },
  '/garbage': (s) => { s.write('SMTP ready\r\n\r\n'); },
  '/stall': () => {},
  '/trickle': (s) => {
    const text = 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789';
    let i = 0;
    const t = setInterval(() => { if (s.destroyed || i >= text.length) return clearInterval(t); s.write(text[i++]); }, 100);
  },
  '/short-keepalive': (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    clearTimeout(s.idle);
    s.idle = setTimeout(() => s.destroy(), 200);
  },
};

const server = net.createServer((s) => {
  let buf = '';
  s.on('error', () => {});
  s.on('data', (d) => {
    buf += d.toString('latin1');
    let end;
    while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
      const path = buf.split(' ')[1];
      buf = buf.slice(end + 4);
      (responses[path] || ((x) => x.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')))(s);
    }
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
