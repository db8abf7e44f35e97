// Credential services for the tests, on 127.0.0.1 only, each following the
// documented protocol and refusing what the real service refuses:
//   imds*      EC2 instance metadata, IMDSv2 only: PUT /latest/api/token with
//              X-aws-ec2-metadata-token-ttl-seconds (1-21600) gives a token
//              that expires; every GET without a valid token is 401.
//   container  the ECS/EKS container endpoint (http, and https): GET
//              /creds/SCENARIO with the right Authorization, else 401
//              (missing) or 403 (wrong).
//   sts        STS AssumeRoleWithWebIdentity (http, and https): an unsigned
//              form POST; a missing parameter, wrong Version or Action, bad
//              session name or token is 400 with the XML ErrorResponse; an
//              unknown role is 403 AccessDenied.
//   iot        the AWS IoT credentials provider: mutual TLS, the client
//              certificate must be signed by the device CA (else the
//              handshake fails); x-amzn-iot-thingname must name the
//              certificate's thing (else 403).
//   silent     accepts connections and never answers.
// SCENARIO (the container path, the STS role name, the IoT role alias, the
// IMDS listener) chooses the document: good, alt (other credentials),
// expired, malformed, incomplete, badchars (a token with CR LF), failcode
// (IMDS Code not Success), norole (IMDS without a role), revoke (IMDS
// forgets its tokens after each credentials answer).
// The good credentials are the ones tests/net/server.js accepts.
//   node servers.js --pki DIR --device-pki DIR --ports FILE
// Writes "NAME PORT" lines to FILE when ready; serves until stdin closes.
// GET /kinagg-test/stats on any plain listener answers the counters.
'use strict';
const http = require('http');
const https = require('https');
const net = require('net');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { guard } = require(path.join(__dirname, '..', 'net', 'guard'));

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];

const GOOD = { id: 'ASIAKINAGGTEST', secret: 'kinagg/session/secret', token: 'kinagg-session-token-123' };
const ALT = { id: 'ASIAKINAGGALT', secret: 'kinagg/alternate/secret', token: 'kinagg-alternate-token-456' };
const CONTAINER_TOKEN = 'kinagg-container-token';
const WEB_IDENTITY_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJraW5hZ2ctdGVzdCJ9.c2lnbmF0dXJl';
const ROLE_PREFIX = 'arn:aws:iam::123456789012:role/';
const THING = 'kinagg-test-thing';

const stats = {};
const count = (name, what) => { stats[name] = stats[name] || { requests: 0, refused: 0, tokens: 0 }; stats[name][what]++; };
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function send(res, status, type, body) {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
const json = (res, status, obj) => send(res, status, 'application/json', JSON.stringify(obj));
const text = (res, status, body) => send(res, status, 'text/plain', body);

// The credentials document of a kind ('container', 'imds', 'iot') for a scenario.
function doc(kind, scenario) {
  const c = scenario === 'alt' ? ALT : GOOD;
  const expiration = iso(Date.now() + (scenario === 'expired' ? -60e3 : 3600e3));
  const token = scenario === 'badchars' ? c.token + '\r\nX-Injected: yes' : c.token;
  let d;
  if (kind === 'iot') {
    d = { credentials: { accessKeyId: c.id, secretAccessKey: c.secret, sessionToken: token, expiration } };
    if (scenario === 'incomplete') delete d.credentials.sessionToken;
  } else {
    d = kind === 'imds' ? { Code: scenario === 'failcode' ? 'AssumeRoleUnauthorizedAccess' : 'Success',
      LastUpdated: iso(Date.now()), Type: 'AWS-HMAC' } : {};
    Object.assign(d, { AccessKeyId: c.id, SecretAccessKey: c.secret, Token: token, Expiration: expiration });
    if (kind === 'container') d.RoleArn = ROLE_PREFIX + 'kinagg-test';
    if (scenario === 'incomplete') delete d.Token;
  }
  const out = JSON.stringify(d, null, 2);
  return scenario === 'malformed' ? out.slice(0, out.length - 9) : out;
}

function stat(req, res) {
  if (req.url !== '/kinagg-test/stats') return false;
  json(res, 200, stats);
  return true;
}

// ---- EC2 instance metadata, IMDSv2 ----
function imds(name, mode) {
  const tokens = new Map(); // token -> expiry (ms)
  return (req, res) => {
    if (stat(req, res)) return;
    count(name, 'requests');
    if (req.url === '/latest/api/token') {
      if (req.method !== 'PUT') return text(res, 405, 'Method Not Allowed');
      if (req.headers['x-forwarded-for']) return text(res, 403, 'Forbidden');
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) { count(name, 'refused'); return text(res, 400, 'Bad Request'); }
      const t = crypto.randomBytes(42).toString('base64');
      tokens.set(t, Date.now() + ttl * 1000);
      count(name, 'tokens');
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-aws-ec2-metadata-token-ttl-seconds': String(ttl),
                           'Content-Length': t.length });
      return res.end(t);
    }
    if (req.method !== 'GET') return text(res, 405, 'Method Not Allowed');
    const t = req.headers['x-aws-ec2-metadata-token'];
    if (!t || !tokens.has(t) || tokens.get(t) < Date.now()) { count(name, 'refused'); return text(res, 401, 'Unauthorized'); }
    const base = '/latest/meta-data/iam/security-credentials/';
    if (req.url === base) return mode === 'norole' ? text(res, 404, 'Not Found') : text(res, 200, 'kinagg-test-role');
    if (req.url === base + 'kinagg-test-role' && mode !== 'norole') {
      if (mode === 'revoke') tokens.clear();
      return text(res, 200, doc('imds', mode));
    }
    return text(res, 404, 'Not Found');
  };
}

// ---- the container credentials endpoint ----
function container(name) {
  return (req, res) => {
    if (stat(req, res)) return;
    count(name, 'requests');
    if (req.method !== 'GET') return json(res, 405, { code: 'MethodNotAllowed', message: 'GET only' });
    const m = /^\/creds\/([a-z]+)$/.exec(req.url);
    if (!m) return json(res, 404, { code: 'NotFound', message: 'no such credentials' });
    const auth = req.headers.authorization;
    if (auth === undefined) { count(name, 'refused'); return json(res, 401, { code: 'Unauthorized', message: 'Authorization header missing' }); }
    if (auth !== CONTAINER_TOKEN) { count(name, 'refused'); return json(res, 403, { code: 'AccessDenied', message: 'Authorization token is not valid' }); }
    return send(res, 200, 'application/json', doc('container', m[1]));
  };
}

// ---- STS AssumeRoleWithWebIdentity ----
const xmlEsc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
function stsError(res, status, code, message) {
  const body = '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n  <Error>\n    <Type>Sender</Type>\n' +
    `    <Code>${code}</Code>\n    <Message>${xmlEsc(message)}</Message>\n  </Error>\n` +
    `  <RequestId>${crypto.randomUUID()}</RequestId>\n</ErrorResponse>\n`;
  send(res, status, 'text/xml', body);
}
function sts(name) {
  return async (req, res) => {
    if (stat(req, res)) return;
    const chunks = [];
    for await (const c of req) chunks.push(c);
    count(name, 'requests');
    const refuse = (status, code, message) => { count(name, 'refused'); stsError(res, status, code, message); };
    if (req.method !== 'POST') return refuse(400, 'InvalidAction', 'STS takes POST requests here');
    if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] || ''))
      return refuse(400, 'InvalidAction', 'Could not find operation (no form body)');
    const q = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    if (q.get('Action') !== 'AssumeRoleWithWebIdentity' || q.get('Version') !== '2011-06-15')
      return refuse(400, 'InvalidAction', `Could not find operation ${q.get('Action')} for version ${q.get('Version')}`);
    for (const p of ['RoleArn', 'RoleSessionName', 'WebIdentityToken'])
      if (!q.get(p)) return refuse(400, 'MissingParameter', `The request must contain the parameter ${p}`);
    if (!/^[\w+=,.@-]{2,64}$/.test(q.get('RoleSessionName')))
      return refuse(400, 'ValidationError', "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint");
    if (q.get('WebIdentityToken') !== WEB_IDENTITY_TOKEN)
      return refuse(400, 'InvalidIdentityToken', 'The web identity token that was passed could not be validated by AWS.');
    stats[name].session = q.get('RoleSessionName');
    const arn = q.get('RoleArn');
    const role = arn.startsWith(ROLE_PREFIX) ? arn.slice(ROLE_PREFIX.length) : '';
    const scenario = role === 'kinagg-test' ? 'good' : role;
    if (!['good', 'alt', 'expired', 'malformed', 'incomplete'].includes(scenario))
      return refuse(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    const c = scenario === 'alt' ? ALT : GOOD;
    const exp = iso(Date.now() + (scenario === 'expired' ? -60e3 : 3600e3));
    let body = '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n' +
      '  <AssumeRoleWithWebIdentityResult>\n' +
      '    <SubjectFromWebIdentityToken>kinagg-test</SubjectFromWebIdentityToken>\n' +
      '    <Audience>sts.amazonaws.com</Audience>\n' +
      '    <AssumedRoleUser>\n' +
      `      <Arn>arn:aws:sts::123456789012:assumed-role/${xmlEsc(role)}/${xmlEsc(q.get('RoleSessionName'))}</Arn>\n` +
      `      <AssumedRoleId>AROAKINAGGTEST:${xmlEsc(q.get('RoleSessionName'))}</AssumedRoleId>\n` +
      '    </AssumedRoleUser>\n' +
      '    <Credentials>\n' +
      (scenario === 'incomplete' ? '' : `      <SessionToken>${xmlEsc(c.token)}</SessionToken>\n`) +
      `      <SecretAccessKey>${xmlEsc(c.secret)}</SecretAccessKey>\n` +
      `      <Expiration>${exp}</Expiration>\n` +
      `      <AccessKeyId>${c.id}</AccessKeyId>\n` +
      '    </Credentials>\n' +
      '    <Provider>oidc.kinagg.test</Provider>\n' +
      '  </AssumeRoleWithWebIdentityResult>\n' +
      `  <ResponseMetadata>\n    <RequestId>${crypto.randomUUID()}</RequestId>\n  </ResponseMetadata>\n` +
      '</AssumeRoleWithWebIdentityResponse>\n';
    if (scenario === 'malformed') body = body.replace('</Credentials>', '</Credential>');
    send(res, 200, 'text/xml', body);
  };
}

// ---- the AWS IoT credentials provider ----
function iot(name) {
  return (req, res) => {
    count(name, 'requests');
    const cert = req.socket.getPeerCertificate();
    if (!req.client.authorized || !cert || !cert.subject) { count(name, 'refused'); return json(res, 403, { message: 'Access Denied' }); }
    const m = /^\/role-aliases\/([^/]+)\/credentials$/.exec(req.url);
    if (req.method !== 'GET' || !m) return json(res, 404, { message: 'Not Found' });
    const thing = req.headers['x-amzn-iot-thingname'];
    if (thing !== undefined && thing !== cert.subject.CN) {
      count(name, 'refused');
      return json(res, 403, { message: 'Thing name is not attached to the certificate' });
    }
    const alias = decodeURIComponent(m[1]);
    const scenario = alias === 'kinagg-test-alias' ? 'good' : alias;
    if (!['good', 'alt', 'expired', 'malformed', 'incomplete'].includes(scenario))
      return json(res, 404, { message: 'Role alias does not exist' });
    send(res, 200, 'application/json', doc('iot', scenario));
  };
}

const pki = args.pki, dpki = args['device-pki'];
const tlsOpts = () => ({ cert: fs.readFileSync(path.join(pki, 'server.crt')), key: fs.readFileSync(path.join(pki, 'server.key')) });
const servers = [];
for (const mode of ['good', 'expired', 'malformed', 'incomplete', 'failcode', 'norole', 'revoke']) {
  const name = mode === 'good' ? 'imds' : `imds_${mode}`;
  servers.push([name, http.createServer(imds(name, mode))]);
}
servers.push(['container', http.createServer(container('container'))]);
servers.push(['container_tls', https.createServer(tlsOpts(), container('container_tls'))]);
servers.push(['sts', http.createServer(guard(sts('sts')))]);
servers.push(['sts_tls', https.createServer(tlsOpts(), guard(sts('sts_tls')))]);
servers.push(['iot', https.createServer(Object.assign(tlsOpts(), {
  ca: fs.readFileSync(path.join(dpki, 'device-ca.crt')), requestCert: true, rejectUnauthorized: true,
}), iot('iot'))]);
const held = [];
servers.push(['silent', net.createServer((s) => { held.push(s); s.on('error', () => {}); })]);

let pending = servers.length;
const ports = {};
for (const [name, srv] of servers) {
  srv.listen(0, '127.0.0.1', () => {
    ports[name] = srv.address().port;
    if (--pending) return;
    fs.writeFileSync(args.ports + '.tmp', Object.entries(ports).map(([n, p]) => `${n} ${p}\n`).join(''));
    fs.renameSync(args.ports + '.tmp', args.ports);
    process.stdout.write(JSON.stringify(ports) + '\n');
  });
}
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
