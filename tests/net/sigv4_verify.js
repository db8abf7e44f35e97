// SigV4 verification of a request as AWS does it, with @smithy/signature-v4
// (an implementation independent of kinagg's), for the test proxies.
//   const { verify } = require('./sigv4_verify');
//   const problem = await verify(req, body, lookup);  // null, or [errorType, message]
// lookup(accessKeyId) gives { secretAccessKey, sessionToken } for credentials
// that are good now, { expired: true } for ones that were and are no more,
// or null for unknown ones.
'use strict';
const path = require('path');
const modules = path.join(__dirname, '..', 'node_modules');
const { SignatureV4 } = require(path.join(modules, '@smithy/signature-v4'));
const { Hash } = require(path.join(modules, '@smithy/hash-node'));

const INVALID_TOKEN = ['UnrecognizedClientException', 'The security token included in the request is invalid.'];

async function verify(req, body, lookup) {
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return ['IncompleteSignatureException', 'Authorization header is missing or malformed'];
  const [, akid, day, region, service, signedHeaders, signature] = m;
  const cred = lookup(akid);
  if (!cred) return INVALID_TOKEN;
  if (cred.expired) return ['ExpiredTokenException', 'The security token included in the request is expired'];
  const amzDate = req.headers['x-amz-date'] || '';
  const t = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!t || t[1] + t[2] + t[3] !== day) return ['IncompleteSignatureException', 'X-Amz-Date missing or not matching the scope'];
  const when = Date.UTC(+t[1], +t[2] - 1, +t[3], +t[4], +t[5], +t[6]);
  // Kinesis's words: a request time more than 5 minutes behind or ahead
  const stamp = (ms) => new Date(ms).toISOString().replace(/[-:]|\.\d+/g, '');
  if (when < Date.now() - 5 * 60 * 1000)
    return ['InvalidSignatureException',
      `Signature expired: ${amzDate} is now earlier than ${stamp(Date.now() - 5 * 60 * 1000)} (${stamp(Date.now())} - 5 min.)`];
  if (when > Date.now() + 5 * 60 * 1000)
    return ['InvalidSignatureException',
      `Signature not yet current: ${amzDate} is still later than ${stamp(Date.now() + 5 * 60 * 1000)} (${stamp(Date.now())} + 5 min.)`];
  if (cred.sessionToken && req.headers['x-amz-security-token'] !== cred.sessionToken) return INVALID_TOKEN;
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return ['InvalidSignatureException', 'host and x-amz-date must be signed'];
  const headers = {};
  for (const n of names) {
    if (req.headers[n] === undefined) return ['InvalidSignatureException', `signed header ${n} is missing`];
    headers[n] = req.headers[n];
  }
  const q = req.url.indexOf('?');
  const query = {};
  if (q >= 0) for (const [k, v] of new URLSearchParams(req.url.slice(q + 1))) query[k] = v;
  const signer = new SignatureV4({ service, region, sha256: Hash.bind(null, 'sha256'), uriEscapePath: true, applyChecksum: false,
    credentials: { accessKeyId: akid, secretAccessKey: cred.secretAccessKey, sessionToken: cred.sessionToken } });
  const signed = await signer.sign({ method: req.method, protocol: 'http:', hostname: req.headers.host,
    path: q >= 0 ? req.url.slice(0, q) : req.url, query, headers, body },
    { signingDate: new Date(when), signableHeaders: new Set(names) });
  const got = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization)[1];
  const gotNames = /SignedHeaders=([^,]+)/.exec(signed.headers.authorization)[1];
  if (got !== signature || gotNames !== signedHeaders)
    return ['InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.'];
  return null;
}

module.exports = { verify };
