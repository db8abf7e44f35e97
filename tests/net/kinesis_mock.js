// A second Kinesis implementation for the tests: kinesis-mock (npm
// kinesis-local, a Scala.js build of github.com/etspaceman/kinesis-mock),
// on 127.0.0.1 ports of its own. Unlike kinesalite it does not check
// signatures, and it answers CBOR requests in its own ways (Data as base64
// text, for one), which is why the tests run against it too.
//
//     node tests/net/kinesis_mock.js < FIFO > PORT_FILE
//
// Writes the plain HTTP port, a space and the HTTPS port (kinesis-mock's
// own self-signed certificate, for "Unknown": no host name matches it) once
// the server answers, and runs until stdin closes; then it stops the server.
'use strict';
const net = require('net');
const path = require('path');
const http = require('http');
const { spawn } = require('child_process');

const dir = path.join(__dirname, '..', 'node_modules', 'kinesis-local');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

function answers(port) { // any HTTP answer to a ListStreams call
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', timeout: 300, headers: {
      'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'Kinesis_20131202.ListStreams',
      Authorization: 'AWS4-HMAC-SHA256 Credential=AKIDKINAGGTEST/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0',
    } }, (res) => { res.resume(); res.on('end', () => resolve(true)); });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
    req.end('{}');
  });
}

(async () => {
  const plain = await freePort(), tls = await freePort();
  const child = spawn(process.execPath, ['main.js'], {
    cwd: dir, // it reads its certificate from server.json there
    env: Object.assign({}, process.env, {
      KINESIS_MOCK_PLAIN_PORT: String(plain), KINESIS_MOCK_TLS_PORT: String(tls),
      LOG_LEVEL: 'WARN', ROOT_LOG_LEVEL: 'ERROR', SHOULD_PERSIST_DATA: 'false', LOAD_DATA_IF_EXISTS: 'false',
      CREATE_STREAM_DURATION: '3s', SPLIT_SHARD_DURATION: '100ms', MERGE_SHARDS_DURATION: '100ms',
    }),
    stdio: ['ignore', 2, 2], // its log goes to stderr: stdout carries the port
  });
  let ended = false;
  const stop = (code) => { if (!ended) { ended = true; child.kill('SIGTERM'); } process.exit(code); };
  child.on('exit', (code, sig) => {
    if (ended) return;
    process.stderr.write(`kinesis_mock: kinesis-local ended (${sig || code})\n`);
    process.exit(1);
  });
  process.stdin.on('end', () => stop(0));
  process.stdin.resume();
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(130));
  for (const until = Date.now() + 60000; Date.now() < until;) {
    if (await answers(plain)) { process.stdout.write(`${plain} ${tls}\n`); return; }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stderr.write('kinesis_mock: kinesis-local did not answer within 60 s\n');
  stop(1);
})();
