// Checks that the credential test servers refuse what the real services
// refuse, so that a provider getting credentials from them means something.
//   node servers_check.js PORTS_FILE PKI_DIR DEVICE_PKI_DIR
// Prints "servers: N passed, N failed".
'use strict';
const http = require('http');
const https = require('https');
const fs = require('fs');
const path = require('path');

const [portsFile, pki, dpki] = process.argv.slice(2);
const ports = Object.fromEntries(fs.readFileSync(portsFile, 'utf8').trim().split('\n').map((l) => l.split(' ')));
const ca = fs.readFileSync(path.join(pki, 'ca.crt'));
let passed = 0, failed = 0;
const check = (what, ok, detail) => { if (ok) passed++; else { failed++; console.error(`FAIL ${what}: ${detail}`); } };

// One request: resolves {status, headers, body} or {error}.
function request(port, opts, body) {
  const tls = opts.tls;
  const mod = tls ? https : http;
  return new Promise((resolve) => {
    const req = mod.request(Object.assign({ host: tls ? 'localhost' : '127.0.0.1', port, method: 'GET', path: '/',
      agent: false, ca, servername: 'localhost' }, opts), (res) => {
      const c = [];
      res.on('data', (d) => c.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(c).toString() }));
    });
    req.on('error', (e) => resolve({ error: e.code || e.message }));
    req.setTimeout(3000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
  // IMDSv2
  const imds = ports.imds;
  const creds = '/latest/meta-data/iam/security-credentials/kinagg-test-role';
  let r = await request(imds, { path: creds });
  check('IMDS: no token is 401', r.status === 401, r.status);
  r = await request(imds, { path: creds, headers: { 'X-aws-ec2-metadata-token': 'made-up' } });
  check('IMDS: an unknown token is 401', r.status === 401, r.status);
  r = await request(imds, { method: 'PUT', path: '/latest/api/token' });
  check('IMDS: a token without a TTL is 400', r.status === 400, r.status);
  for (const ttl of ['0', '21601', 'x']) {
    r = await request(imds, { method: 'PUT', path: '/latest/api/token', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': ttl } });
    check(`IMDS: TTL ${ttl} is 400`, r.status === 400, r.status);
  }
  r = await request(imds, { path: '/latest/api/token', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' } });
  check('IMDS: GET for a token is 405', r.status === 405, r.status);
  r = await request(imds, { method: 'PUT', path: '/latest/api/token',
    headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60', 'X-Forwarded-For': '10.0.0.1' } });
  check('IMDS: a forwarded token request is 403', r.status === 403, r.status);
  r = await request(imds, { method: 'PUT', path: '/latest/api/token', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '1' } });
  const short = r.body;
  r = await request(imds, { path: creds, headers: { 'X-aws-ec2-metadata-token': short } });
  check('IMDS: a fresh token is taken', r.status === 200 && JSON.parse(r.body).Code === 'Success', r.status);
  await sleep(1100);
  r = await request(imds, { path: creds, headers: { 'X-aws-ec2-metadata-token': short } });
  check('IMDS: an expired token is 401', r.status === 401, r.status);

  // the container endpoint
  for (const [name, tls] of [['container', false], ['container_tls', true]]) {
    r = await request(ports[name], { tls, path: '/creds/good' });
    check(`${name}: no Authorization is 401`, r.status === 401, r.status);
    r = await request(ports[name], { tls, path: '/creds/good', headers: { Authorization: 'wrong' } });
    check(`${name}: a wrong Authorization is 403`, r.status === 403, r.status);
    r = await request(ports[name], { tls, path: '/creds/good', headers: { Authorization: 'kinagg-container-token' } });
    check(`${name}: the right Authorization is 200`, r.status === 200 && JSON.parse(r.body).AccessKeyId === 'ASIAKINAGGTEST', r.status);
  }

  // STS AssumeRoleWithWebIdentity
  const form = { Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: 'arn:aws:iam::123456789012:role/kinagg-test',
    RoleSessionName: 'check', WebIdentityToken: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJraW5hZ2ctdGVzdCJ9.c2lnbmF0dXJl' };
  const post = (port, fields, tls) => request(port, { tls, method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' } }, new URLSearchParams(fields).toString());
  const code = (body) => (/<Code>([^<]*)<\/Code>/.exec(body) || [])[1];
  for (const [name, tls] of [['sts', false], ['sts_tls', true]]) {
    r = await post(ports[name], form, tls);
    check(`${name}: a complete request gets credentials`, r.status === 200 && /<AccessKeyId>ASIAKINAGGTEST</.test(r.body), r.status);
    for (const p of ['RoleArn', 'RoleSessionName', 'WebIdentityToken']) {
      const f = Object.assign({}, form);
      delete f[p];
      r = await post(ports[name], f, tls);
      check(`${name}: without ${p} is 400 MissingParameter`, r.status === 400 && code(r.body) === 'MissingParameter' &&
        /^<ErrorResponse/.test(r.body), `${r.status} ${code(r.body)}`);
    }
  }
  r = await post(ports.sts, Object.assign({}, form, { Version: '2011-06-14' }));
  check('STS: another Version is 400 InvalidAction', r.status === 400 && code(r.body) === 'InvalidAction', r.status);
  r = await post(ports.sts, Object.assign({}, form, { RoleSessionName: 'has space' }));
  check('STS: a bad session name is 400 ValidationError', r.status === 400 && code(r.body) === 'ValidationError', r.status);
  r = await post(ports.sts, Object.assign({}, form, { WebIdentityToken: 'eyJ.other' }));
  check('STS: another token is 400 InvalidIdentityToken', r.status === 400 && code(r.body) === 'InvalidIdentityToken', r.status);
  r = await post(ports.sts, Object.assign({}, form, { RoleArn: 'arn:aws:iam::123456789012:role/someone-else' }));
  check('STS: another role is 403 AccessDenied', r.status === 403 && code(r.body) === 'AccessDenied', r.status);
  r = await request(ports.sts, { path: '/?' + new URLSearchParams(form).toString() });
  check('STS: GET is refused', r.status === 400, r.status);

  // AWS IoT: mutual TLS with a device certificate signed by the device CA
  const iot = (opts) => request(ports.iot, Object.assign({ tls: true, path: '/role-aliases/kinagg-test-alias/credentials' }, opts));
  const dev = (n) => ({ cert: fs.readFileSync(path.join(dpki, `${n}.crt`)), key: fs.readFileSync(path.join(dpki, `${n}.key`)) });
  r = await iot({});
  check('IoT: no client certificate fails', r.error !== undefined || r.status === 403, JSON.stringify(r));
  r = await iot(dev('rogue'));
  check('IoT: a certificate of another CA fails', r.error !== undefined || r.status === 403, JSON.stringify(r));
  r = await iot(Object.assign(dev('device'), { headers: { 'x-amzn-iot-thingname': 'another-thing' } }));
  check('IoT: another thing name is 403', r.status === 403, JSON.stringify(r));
  r = await iot(Object.assign(dev('device'), { headers: { 'x-amzn-iot-thingname': 'kinagg-test-thing' } }));
  check('IoT: the device gets credentials', r.status === 200 && JSON.parse(r.body).credentials.accessKeyId === 'ASIAKINAGGTEST',
    JSON.stringify(r));
  r = await iot(Object.assign(dev('device'), { path: '/role-aliases/no-such-alias/credentials' }));
  check('IoT: an unknown role alias is 404', r.status === 404, r.status);

  console.log(`servers: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.error(e); console.log('servers: 0 passed, 1 failed'); process.exit(1); });
