// Writes the corpus of Kinesis responses that tests/response_test.c feeds to
// kinagg's parsers: for every call kinagg parses, AWS-shaped responses, and
// variants of each that the AWS SDKs read the same way (explicit nulls,
// members reordered, unknown members of every type, white space, numbers
// and strings spelt differently; in CBOR indefinite lengths, tags, wider
// integer heads, half, single and double floats), plus malformed ones.
//
//     node tests/responses/gen.js CORPUS [--seeds DIR]
//
// Corpus lines (bodies in hex, "-" for empty):
//     B <call> <http status> <entries> <name>   a base response
//     E <name>=<hex value> ...                  what kinagg must report for it,
//                                               worked out here from the base
//     V <j|c> <variant> <hex body>              must give what the base gives
//     M <j|c> <what> <hex body>                 must be refused as malformed
// With --seeds, some variants are also written to DIR/json and DIR/cbor as
// seeds for the fuzzers.
//
// The CBOR variants come from the `cbor` package's encoder (the one
// kinesalite answers with) and from a small writer below for the forms it
// cannot make (wide heads, chosen float widths); every variant, JSON and
// CBOR, is decoded again by JSON.parse or the `cbor` package's decoder and
// must mean what it was made from.
'use strict'
const fs = require('fs')
const path = require('path')
const cbor = require('cbor') // tests/node_modules, a dependency of kinesalite

// ---- values in a response form ----------------------------------------------
// A form is a response as plain JS values, with null where a member is
// absent; Buffers are blobs (Data). Raw carries bytes to write as they are
// (malformed parts); NumStr is a number written as a string.
class Raw { constructor(json, cborBytes) { this.json = json; this.cbor = Buffer.from(cborBytes || []) } }
class NumStr { constructor(n) { this.n = n } }
class IntKeyMap { constructor(entries) { this.entries = entries } } // CBOR map with non-string keys

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v) &&
  !(v instanceof Raw) && !(v instanceof NumStr) && !(v instanceof IntKeyMap)

function mapForm(v, f) { // rebuilds a form bottom-up; f(obj) may return a new object
  if (Array.isArray(v)) return v.map((x) => mapForm(x, f))
  if (isObj(v)) {
    const o = {}
    for (const k of Object.keys(v)) o[k] = mapForm(v[k], f)
    return f(o)
  }
  return v
}
const stripNulls = (form) => mapForm(form, (o) => {
  const r = {}
  for (const k of Object.keys(o)) if (o[k] !== null) r[k] = o[k]
  return r
})
const reverseKeys = (form) => mapForm(form, (o) => {
  const r = {}
  for (const k of Object.keys(o).reverse()) r[k] = o[k]
  return r
})
// inserts extra members into every object: where = 'first', 'last', 'middle'
const withMembers = (form, extra, where) => mapForm(form, (o) => {
  const keys = Object.keys(o), r = {}
  const at = where === 'first' ? 0 : where === 'last' ? keys.length : keys.length >> 1
  keys.forEach((k, i) => {
    if (i === at) for (const [ek, ev] of extra) r[ek] = ev
    r[k] = o[k]
  })
  if (at === keys.length) for (const [ek, ev] of extra) r[ek] = ev
  return r
})
const TIMESTAMPS = new Set(['ApproximateArrivalTimestamp', 'StreamCreationTimestamp'])
const timestampsAsStrings = (form) => mapForm(form, (o) => {
  for (const k of Object.keys(o)) if (TIMESTAMPS.has(k) && typeof o[k] === 'number') o[k] = new NumStr(o[k])
  return o
})
// kinesis-mock's CBOR answers carry Data as base64 in a text string
const dataAsText = (form) => mapForm(form, (o) => {
  if (Buffer.isBuffer(o.Data)) o.Data = o.Data.toString('base64')
  return o
})
const kinesaliteBuffers = (form) => mapForm(form, (o) => {
  if (Buffer.isBuffer(o.Data)) o.Data = { type: 'Buffer', data: [...o.Data] }
  return o
})

// unknown members of every type, with names close to real ones
const deep = (n, leaf) => { let v = leaf; for (let i = 0; i < n; i++) v = i % 2 ? [v] : { d: v }; return v }
const UNKNOWN_JSON = [
  ['ShardIdX', { a: [1, { b: null, c: [true, false, [], {}] }], d: 'x', e: {} }],
  ['shardid', [1, 'two', [], {}, null, -3.25e-2, [[[]]]]],
  ['Record', -12.5e-3],
  ['SequenceNumbers', new Raw('1e400')],
  ['Zero', new Raw('-0.0E-0')],
  ['Shard', true],
  ['S', false],
  ['Nothing', null],
  ['', 'empty name'],
  ['Text\u00e9', 'str "quoted" \\ / \n\t\u00e9 \ud83d\ude00'],
  ['Deep', deep(24, 'bottom')]
]
const UNKNOWN_CBOR = UNKNOWN_JSON.filter(([k]) => k !== 'SequenceNumbers' && k !== 'Zero').concat([
  ['Blob', Buffer.from([0, 1, 2, 255])],
  ['Negative', -1000000],
  ['Float', new Raw(null, [0xf9, 0x3e, 0x00])], // half 1.5
  ['NaN', new Raw(null, [0xf9, 0x7e, 0x00])],
  ['Infinity', new Raw(null, [0xfb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0])],
  ['Simple', new Raw(null, [0xf8, 0xff])],
  ['Undefined', new Raw(null, [0xf7])],
  ['Tagged', new Raw(null, [0xc2, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0])], // a bignum, 2^64
  ['IntKeys', new IntKeyMap([[1, 'one'], [-2, [2]], [Buffer.from('k'), { a: 1 }]])],
  [7, 'an integer key']
])

// ---- JSON --------------------------------------------------------------------
// numbers: the same decimal value spelt in several ways
function decimalParts(x) {
  const s = String(x)
  if (/e/i.test(s) || x < 0) throw new Error('unsupported number in a form: ' + s)
  const [i, f = ''] = s.split('.')
  const digits = (i + f).replace(/^0+/, '')
  return { s, i, f, digits, exp: -f.length }
}
const NUMBER_STYLES = [
  (p) => p.s,
  (p) => p.digits ? `${p.digits}e${p.exp}` : '0e0',
  (p) => p.digits ? `${p.digits[0]}.${p.digits.slice(1) || '0'}E+${p.exp + p.digits.length - 1}` : '0.0E+0',
  (p) => p.digits ? `0.${p.digits}e${p.exp + p.digits.length}` : '-0.0',
  (p) => p.digits ? `${p.digits}000e${p.exp - 3}` : '-0',
  (p) => p.s + (p.f ? '00' : '.00')
]
function jsonString(s, esc) {
  if (esc === 'all') { // every UTF-16 unit escaped, keys too
    let o = '"'
    for (let i = 0; i < s.length; i++) o += '\\u' + s.charCodeAt(i).toString(16).padStart(4, '0')
    return o + '"'
  }
  if (esc === 'some') { // non-ASCII escaped, '/' as '\/', short escapes
    let o = '"'
    for (const ch of s) {
      const c = ch.codePointAt(0)
      if (ch === '"' || ch === '\\') o += '\\' + ch
      else if (ch === '/') o += '\\/'
      else if (ch === '\n') o += '\\n'
      else if (ch === '\t') o += '\\t'
      else if (c < 0x20 || c > 0x7e) for (let i = 0; i < ch.length; i++) o += '\\u' + ch.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')
      else o += ch
    }
    return o + '"'
  }
  return JSON.stringify(s)
}
// o: { ws: white space around tokens, num: number style (or 'rotate'), esc }
function writeJson(v, o = {}) {
  const ws = o.ws || ''
  let n = 0
  const num = (x) => {
    const style = o.num === 'rotate' ? n++ % NUMBER_STYLES.length : (o.num || 0)
    return NUMBER_STYLES[style](decimalParts(x))
  }
  const w = (v) => {
    if (v === null) return 'null'
    if (v instanceof Raw) return v.json
    if (v instanceof NumStr) return '"' + num(v.n) + '"'
    if (Buffer.isBuffer(v)) return jsonString(v.toString('base64'), o.esc)
    if (typeof v === 'string') return jsonString(v, o.esc)
    if (typeof v === 'number') return Object.is(v, -0) || v < 0 || !Number.isInteger(v) && /e/.test(String(v)) ? JSON.stringify(v) : num(v)
    if (typeof v === 'boolean') return String(v)
    if (Array.isArray(v)) return '[' + ws + v.map(w).join(ws + ',' + ws) + ws + ']'
    if (v instanceof IntKeyMap) throw new Error('no JSON for integer keys')
    return '{' + ws + Object.keys(v).map((k) => jsonString(k, o.esc) + ws + ':' + ws + w(v[k])).join(ws + ',' + ws) + ws + '}'
  }
  return Buffer.from(ws + w(v) + ws, 'utf8')
}

// ---- CBOR --------------------------------------------------------------------
function halfBits(x) { // IEEE half of x when exact, else null
  if (Math.fround(x) !== x || !isFinite(x)) return null
  const b = Buffer.alloc(4)
  b.writeFloatBE(x, 0)
  const bits = b.readUInt32BE(0), sign = bits >>> 31, e = (bits >>> 23) & 0xff, m = bits & 0x7fffff
  if (x === 0) return sign << 15
  if (m & 0x1fff || e < 127 - 14 || e > 127 + 15) return null
  return (sign << 15) | ((e - 127 + 15) << 10) | (m >>> 13)
}
// o: { width: minimum head argument bytes (0, 1, 2, 4, 8), indef: true,
//      chunk: bytes per string chunk, tags: true, floats: 'min'|'single'|'double',
//      undef: true (undefined for null) }
function writeCbor(v, o = {}) {
  const out = []
  const push = (...b) => out.push(Buffer.from(b))
  const head = (major, n, width) => {
    n = BigInt(n)
    const need = n < 24n ? 0 : n < 0x100n ? 1 : n < 0x10000n ? 2 : n < 0x100000000n ? 4 : 8
    const bytes = Math.max(need, width || o.width || 0)
    if (bytes === 0) return push((major << 5) | Number(n))
    const b = Buffer.alloc(bytes)
    for (let i = bytes - 1; i >= 0; i--, n >>= 8n) b[i] = Number(n & 0xffn)
    push((major << 5) | { 1: 24, 2: 25, 4: 26, 8: 27 }[bytes])
    out.push(b)
  }
  // tag numbers of every head size (the cbor package decodes none past 2^32)
  const TAGS = [[6], [100], [1000], [100000], [7, 8], [55799]]
  let tagN = 0
  const float = (x, wide) => {
    const h = halfBits(x)
    if (h !== null && !wide) { push(0xf9, h >> 8, h & 0xff); return }
    if (Math.fround(x) === x && wide !== 'double') { const b = Buffer.alloc(5); b[0] = 0xfa; b.writeFloatBE(x, 1); out.push(b); return }
    const b = Buffer.alloc(9); b[0] = 0xfb; b.writeDoubleBE(x, 1); out.push(b)
  }
  const str = (major, bytes) => {
    if (!o.indef) { head(major, bytes.length); out.push(bytes); return }
    push((major << 5) | 31)
    let i = 0
    while (i < bytes.length) { // chunks end on UTF-8 character boundaries
      let e = Math.min(bytes.length, i + (o.chunk || 3))
      if (major === 3) while (e < bytes.length && (bytes[e] & 0xc0) === 0x80) e++
      head(major, e - i)
      out.push(bytes.slice(i, e))
      i = e
    }
    push(0xff)
  }
  const w = (v, key, isKey) => {
    if (o.tags && !(v instanceof Raw)) { // one tag on keys, one or two on values
      if (TIMESTAMPS.has(key) && typeof v === 'number') head(6, 1)
      else { head(6, ...TAGS[tagN++ % TAGS.length]); if (tagN % 3 === 0 && !isKey) head(6, ...TAGS[tagN++ % TAGS.length]) }
    }
    if (v === null) return push(o.undef ? 0xf7 : 0xf6)
    if (v instanceof Raw) return out.push(v.cbor)
    if (v instanceof NumStr) return str(3, Buffer.from(String(v.n)))
    if (typeof v === 'boolean') return push(v ? 0xf5 : 0xf4)
    if (typeof v === 'number') {
      if (Number.isInteger(v) && !Object.is(v, -0) && !o.floats) return v < 0 ? head(1, -v - 1) : head(0, v)
      return float(v, o.floats === 'double' ? 'double' : o.floats === 'single' ? 'single' : null)
    }
    if (typeof v === 'string') return str(3, Buffer.from(v, 'utf8'))
    if (Buffer.isBuffer(v)) return str(2, v)
    const entries = Array.isArray(v) ? null : v instanceof IntKeyMap ? v.entries : Object.keys(v).map((k) => [k, v[k]])
    const items = entries || v
    if (o.indef) push(((entries ? 5 : 4) << 5) | 31)
    else head(entries ? 5 : 4, items.length)
    for (const it of items) {
      if (entries) { w(typeof it[0] === 'string' && /^\d+$/.test(it[0]) ? Number(it[0]) : it[0], null, true); w(it[1], it[0]) } else w(it)
    }
    if (o.indef) push(0xff)
  }
  w(v)
  return Buffer.concat(out)
}
// the cbor package's own encoder: definite, canonical, or all indefinite
function packageCbor(v, how) {
  const conv = (v) => {
    if (Array.isArray(v)) { const a = v.map(conv); if (how === 'indefinite') a.encodeCBOR = cbor.Encoder.encodeIndefinite; return a }
    if (v instanceof IntKeyMap) return new Map(v.entries.map(([k, x]) => [k, conv(x)]))
    if (v instanceof NumStr) return String(v.n)
    if (v instanceof Raw) return { encodeCBOR: (gen) => gen.push(v.cbor) }
    if (isObj(v)) {
      const keys = Object.keys(v)
      if (keys.some((k) => /^\d+$/.test(k))) return new Map(keys.map((k) => [/^\d+$/.test(k) ? Number(k) : k, conv(v[k])]))
      const o = {}
      for (const k of keys) o[k] = conv(v[k])
      if (how === 'indefinite') Object.defineProperty(o, 'encodeCBOR', { value: cbor.Encoder.encodeIndefinite })
      return o
    }
    if (how === 'indefinite' && (typeof v === 'string' || Buffer.isBuffer(v)) && v.length > 1) // (it would split surrogate pairs)
      return { encodeCBOR: (gen) => cbor.Encoder.encodeIndefinite(gen, v, { chunkSize: /[\ud800-\udfff]/.test(v) ? v.length : 2 }) }
    return v
  }
  return new cbor.Encoder({ canonical: how === 'canonical' })._encodeAll([conv(v)])
}

// ---- checking a variant means what it was made from --------------------------
// norm: JSON-able, nulls and tags gone; Raw parts (checked by hand) match
// anything; a number written as a string matches a string of that value
const RAW = { raw: true }
function norm(v, json) {
  if (v instanceof cbor.Tagged) return norm(v.value, json)
  if (v === null || v === undefined) return null
  if (v instanceof NumStr) return { numstr: v.n }
  if (v instanceof Raw) return RAW
  if (v instanceof cbor.Simple) return { simple: v.value }
  if (Buffer.isBuffer(v)) return json ? v.toString('base64') : { bytes: v.toString('hex') }
  if (typeof v === 'bigint') return { big: v.toString() }
  if (typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'number') return isNaN(v) ? 'NaN' : Object.is(v, -0) ? 0 : v
  if (Array.isArray(v)) return v.map((x) => norm(x, json))
  const entries = v instanceof IntKeyMap ? v.entries : v instanceof Map ? [...v.entries()] : Object.entries(v)
  const o = {}
  for (let [k, x] of entries) {
    if (k instanceof cbor.Tagged) k = k.value
    // the decoder turns a tagged key inside a map into the text 'tag("key")'
    if (typeof k === 'string' && /^\d+\(".*"\)$/.test(k)) k = JSON.parse(k.slice(k.indexOf('(') + 1, -1))
    k = Buffer.isBuffer(k) ? 'h:' + k.toString('hex') : String(k)
    const n = norm(x, json)
    if (n !== null) o[k] = n
  }
  return o
}
function match(a, b) {
  if (a === RAW) return true
  if (a && a.numstr !== undefined) return typeof b === 'string' && Number(b) === a.numstr
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => match(x, b[i]))
  if (a && typeof a === 'object') {
    if (!b || typeof b !== 'object' || Array.isArray(b)) return false
    for (const k of Object.keys(a)) if (a[k] !== RAW && !(k in b && match(a[k], b[k]))) return false
    return Object.keys(b).every((k) => k in a)
  }
  return a === b
}
function same(what, made, decoded, json) {
  const a = norm(made, json), b = norm(decoded, json)
  if (!match(a, b)) throw new Error(`${what}: decodes to something else\n  made    ${JSON.stringify(a)}\n  decoded ${JSON.stringify(b)}`)
}
function checkJson(what, form, body) {
  if (body.toString('utf8').trim()) same(what, form, JSON.parse(body.toString('utf8')), true)
}
function checkCbor(what, form, body) { // tag 1 kept a number: a Date would lose sub-millisecond digits
  if (body.length) same(what, form, cbor.decodeFirstSync(body, { tags: { 1: (v) => v } }), false)
}

// ---- what kinagg must report, from the base -----------------------------------
const hex = (b) => Buffer.from(b).toString('hex')
function msOf(x) { // epoch seconds to milliseconds, half up, in decimal
  const [i, f = ''] = String(x).split('.')
  const ms = BigInt(i + (f + '000').slice(0, 3))
  return String(f.length > 3 && f[3] >= '5' ? ms + 1n : ms)
}
function expected(c, base) {
  const f = []
  const add = (name, v) => f.push([name, v === undefined || v === null ? '' : v])
  if (c.call === 'error') {
    const clean = (t) => {
      t = String(t).split(',')[0].split(':')[0]
      return t.includes('#') ? t.split('#')[1] : t
    }
    const type = base.__type !== undefined ? base.__type : base.code
    add('result', 'ERR_SERVICE')
    add('http_status', String(c.status))
    add('error_type', type !== undefined && clean(type) ? clean(type) : `HTTP ${c.status}`)
    add('error_message', base.message !== undefined ? base.message : base.Message)
  } else add('result', 'OK')
  if (c.call === 'put') {
    add('failed', String(base.FailedRecordCount || 0))
    add('count', String(base.Records.length))
    base.Records.forEach((r, i) => {
      add(`records[${i}].shard_id`, r.ShardId)
      add(`records[${i}].sequence_number`, r.SequenceNumber)
      add(`records[${i}].error_code`, r.ErrorCode)
      add(`records[${i}].error_message`, r.ErrorMessage)
    })
  } else if (c.call === 'list') {
    add('next_token', base.NextToken)
    add('count', String(base.Shards.length))
    base.Shards.forEach((s, i) => {
      add(`shards[${i}].shard_id`, s.ShardId)
      add(`shards[${i}].parent_shard_id`, s.ParentShardId)
      add(`shards[${i}].adjacent_parent_shard_id`, s.AdjacentParentShardId)
      add(`shards[${i}].start`, BigInt(s.HashKeyRange.StartingHashKey).toString())
      add(`shards[${i}].end`, BigInt(s.HashKeyRange.EndingHashKey).toString())
      add(`shards[${i}].open`, s.SequenceNumberRange && s.SequenceNumberRange.EndingSequenceNumber !== undefined ? '0' : '1')
    })
  } else if (c.call === 'iter') {
    add('iterator', base.ShardIterator)
  } else if (c.call === 'get') {
    add('next_iterator', base.NextShardIterator)
    add('millis_behind', String(base.MillisBehindLatest || 0))
    add('count', String(base.Records.length))
    base.Records.forEach((r, i) => {
      add(`records[${i}].sequence_number`, r.SequenceNumber)
      add(`records[${i}].partition_key`, r.PartitionKey)
      add(`records[${i}].data`, r.Data)
      add(`records[${i}].arrival_ms`, r.ApproximateArrivalTimestamp === undefined ? '0' : msOf(r.ApproximateArrivalTimestamp))
    })
  } else if (c.call === 'summary') {
    const s = base.StreamDescriptionSummary
    add('status', s.StreamStatus)
    add('open_shards', String(s.OpenShardCount || 0))
  }
  return f.map(([k, v]) => `${k}=${hex(Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8'))}`)
}

// ---- the base responses --------------------------------------------------------
const SEQ = '4954698668313554428650745793632167567570019247115678515'
const HALF = '170141183460469231731687303715884105727', HALF1 = '170141183460469231731687303715884105728'
const MAX = '340282366920938463463374607431768211455'
const ok = (i, shard) => ({ SequenceNumber: SEQ + i, ShardId: `shardId-00000000000${shard}`, ErrorCode: null, ErrorMessage: null })
const CASES = [
  { call: 'put', name: 'put-all-ok', form: { FailedRecordCount: 0, Records: [ok(0, 0), ok(1, 1)], EncryptionType: 'NONE' } },
  { call: 'put', name: 'put-some-failed', form: { FailedRecordCount: 2, Records: [
    ok(2, 1),
    { SequenceNumber: null, ShardId: null, ErrorCode: 'ProvisionedThroughputExceededException',
      ErrorMessage: 'Rate exceeded for shard shardId-000000000001 in stream s under account 123456789012.' },
    { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure: \u00e9\u20ac \ud83d\ude00 "q" \\ /', SequenceNumber: null, ShardId: null },
    ok(3, 0)], EncryptionType: null } },
  { call: 'put', name: 'put-many', form: { Records: Array.from({ length: 30 }, (_, i) => i % 7 === 3
    ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded', SequenceNumber: null, ShardId: null }
    : ok(10 + i, i % 4)), FailedRecordCount: 4, EncryptionType: 'KMS' } },
  { call: 'list', name: 'list-open', form: { Shards: [
    { ShardId: 'shardId-000000000000', ParentShardId: null, AdjacentParentShardId: null,
      HashKeyRange: { StartingHashKey: '0', EndingHashKey: HALF },
      SequenceNumberRange: { StartingSequenceNumber: SEQ + '0', EndingSequenceNumber: null } },
    { ShardId: 'shardId-000000000001', ParentShardId: null, AdjacentParentShardId: null,
      HashKeyRange: { StartingHashKey: HALF1, EndingHashKey: MAX },
      SequenceNumberRange: { StartingSequenceNumber: SEQ + '1', EndingSequenceNumber: null } }], NextToken: null } },
  { call: 'list', name: 'list-resharded', form: { NextToken: 'AAAAAAAAAAGK9EEG0sJqVX/tokentoken+ZTQ2MDg0NjM=', Shards: [
    { ShardId: 'shardId-000000000000', HashKeyRange: { StartingHashKey: '0', EndingHashKey: MAX },
      SequenceNumberRange: { StartingSequenceNumber: SEQ + '0', EndingSequenceNumber: SEQ + '9' } },
    { ShardId: 'shardId-000000000001', ParentShardId: 'shardId-000000000000', AdjacentParentShardId: null,
      HashKeyRange: { StartingHashKey: '0', EndingHashKey: HALF },
      SequenceNumberRange: { StartingSequenceNumber: SEQ + '1', EndingSequenceNumber: SEQ + '8' } },
    { ShardId: 'shardId-000000000002', ParentShardId: 'shardId-000000000000', AdjacentParentShardId: null,
      HashKeyRange: { StartingHashKey: HALF1, EndingHashKey: MAX },
      SequenceNumberRange: { StartingSequenceNumber: SEQ + '2', EndingSequenceNumber: SEQ + '7' } },
    { ShardId: 'shardId-000000000003', ParentShardId: 'shardId-000000000001', AdjacentParentShardId: 'shardId-000000000002',
      HashKeyRange: { StartingHashKey: '0', EndingHashKey: MAX },
      SequenceNumberRange: { StartingSequenceNumber: SEQ + '3', EndingSequenceNumber: null } }] } },
  { call: 'list', name: 'list-empty-page', form: { Shards: [], NextToken: 'more' } },
  { call: 'iter', name: 'iterator', form: { ShardIterator: 'AAAAAAAAAAETYyAYzd665+8e0X7JTsASDM/Hr2rSwc0X2qz93iuA3udrjTH+ikQvpQk/1ZcMMLzRdAesqwBGPnsthzU0/CBlM/U8/8oEqGwX3pKw0XyeDNRAAZyXBo3MqkQtCpXhr942BRTjvWKhFz7OmCb2Ncfr8Tl2cBktooi6kJhr+djN5WYkB38Rr3akRgCl9qaU4dY=' } },
  { call: 'get', name: 'get-records', form: { Records: [
    { SequenceNumber: SEQ + '0', ApproximateArrivalTimestamp: 1700000000.123, Data: Buffer.from('hello'), PartitionKey: 'k1', EncryptionType: null },
    { SequenceNumber: SEQ + '1', ApproximateArrivalTimestamp: 1700000000, Data: Buffer.from([0, 1, 0xfe, 0xff, 0x80]), PartitionKey: 'k2' },
    { SequenceNumber: SEQ + '2', ApproximateArrivalTimestamp: 1.5, Data: Buffer.alloc(0), PartitionKey: 'k3', EncryptionType: 'NONE' },
    { SequenceNumber: SEQ + '3', ApproximateArrivalTimestamp: 1699999999.999, Data: Buffer.from('x'.repeat(40)), PartitionKey: 'k4' }],
    NextShardIterator: 'AAAAAAAAAAHnext/iterator+', MillisBehindLatest: 0, ChildShards: null } },
  { call: 'get', name: 'get-shard-end', form: { Records: [], NextShardIterator: null, MillisBehindLatest: 0, ChildShards: [
    { ShardId: 'shardId-000000000002', ParentShards: ['shardId-000000000000'], HashKeyRange: { StartingHashKey: '0', EndingHashKey: HALF } },
    { ShardId: 'shardId-000000000003', ParentShards: ['shardId-000000000000', 'shardId-000000000001'], HashKeyRange: { StartingHashKey: HALF1, EndingHashKey: MAX } }] } },
  { call: 'get', name: 'get-behind', form: { MillisBehindLatest: 86400000, NextShardIterator: 'it', Records: [
    { PartitionKey: '\u043a\u043b\u044e\u0447-\ud83d\ude00', Data: Buffer.from('d\u00e9j\u00e0 vu'), SequenceNumber: SEQ + '5', ApproximateArrivalTimestamp: 1234.5 }] } },
  { call: 'summary', name: 'summary-active', form: { StreamDescriptionSummary: {
    StreamName: 's', StreamARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/s', StreamStatus: 'ACTIVE',
    StreamModeDetails: { StreamMode: 'PROVISIONED' }, RetentionPeriodHours: 24, StreamCreationTimestamp: 1699999999.5,
    EnhancedMonitoring: [{ ShardLevelMetrics: ['IncomingBytes', 'OutgoingRecords', 'IteratorAgeMilliseconds'] }],
    EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis', OpenShardCount: 300, ConsumerCount: 2, MaxRecordSizeInKiB: 10240 } } },
  { call: 'summary', name: 'summary-creating', form: { StreamDescriptionSummary: {
    StreamName: 'new', StreamARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/new', StreamStatus: 'CREATING',
    StreamModeDetails: null, RetentionPeriodHours: 24, StreamCreationTimestamp: 1700000000,
    EnhancedMonitoring: [{ ShardLevelMetrics: [] }], EncryptionType: null, KeyId: null, OpenShardCount: 0, ConsumerCount: null } } },
  { call: 'create', name: 'create', form: {} },
  { call: 'error', name: 'error-type-message', status: 400, form: { __type: 'ResourceNotFoundException', message: 'Stream s under account 123456789012 not found.', Message: null } },
  { call: 'error', name: 'error-namespaced', status: 400, form: { __type: 'com.amazonaws.kinesis.v20131202#ResourceNotFoundException', message: 'Stream s not found.' } },
  { call: 'error', name: 'error-Message', status: 400, form: { Message: 'Rate exceeded for stream s', __type: 'LimitExceededException', message: null } },
  { call: 'error', name: 'error-both-messages', status: 400, form: { Message: 'second', __type: 'InvalidArgumentException', message: 'first: \u00e9' } },
  { call: 'error', name: 'error-type-url', status: 400, form: { __type: 'ExpiredIteratorException:http://internal.amazon.com/coral/com.amazonaws.kinesis/', message: 'Iterator expired' } },
  { call: 'error', name: 'error-code', status: 400, form: { code: 'ThrottlingException', message: 'slow down' } },
  { call: 'error', name: 'error-no-type', status: 500, form: { message: 'We encountered an internal error.', __type: null } }
]

// ---- malformed: a part replaced or added, in each format ----------------------
// { calls, name, key (member whose value is replaced; absent: a new member
//   'Zu' in the top-level object), json, cbor }
const MALFORMED = [
  // not JSON or CBOR at all, or one value too many
  { name: 'unknown-nul', json: 'nul' }, { name: 'unknown-tru', json: 'tru' }, { name: 'unknown-True', json: 'True' },
  { name: 'unknown-NULL', json: 'NULL' }, { name: 'unknown-leading-zero', json: '01' }, { name: 'unknown-1.', json: '1.' },
  { name: 'unknown-.5', json: '.5' }, { name: 'unknown-plus', json: '+1' }, { name: 'unknown-1e', json: '1e' },
  { name: 'unknown-1e+', json: '1e+' }, { name: 'unknown--', json: '-' }, { name: 'unknown---1', json: '--1' },
  { name: 'unknown-hex', json: '0x10' }, { name: 'unknown-NaN', json: 'NaN' }, { name: 'unknown-Infinity', json: 'Infinity' },
  { name: 'unknown-trailing-comma-array', json: '[1,]' }, { name: 'unknown-leading-comma-array', json: '[,1]' },
  { name: 'unknown-member-without-value', json: '{"a"}' }, { name: 'unknown-member-empty-value', json: '{"a":}' },
  { name: 'unknown-empty-members', json: '{,}' }, { name: 'unknown-missing-comma', json: '[1 2]' },
  { name: 'unknown-missing-comma-members', json: '{"a":1 "b":2}' }, { name: 'unknown-trailing-comma-members', json: '{"a":1,}' },
  { name: 'unknown-bracket-mismatch', json: '[}' }, { name: 'unknown-brace-mismatch', json: '{]' },
  { name: 'unknown-number-key', json: '{1:2}' }, { name: 'unknown-bad-escape', json: '"\\x"' },
  { name: 'unknown-bad-unicode-escape', json: '"\\u12G4"' }, { name: 'unknown-short-unicode-escape', json: '"\\u12"' },
  { name: 'unknown-control-char', json: '"a\u0001b"' }, { name: 'unknown-single-quotes', json: "'a'" },
  { name: 'unknown-unclosed-string', json: '"abc' },
  { name: 'unknown-too-deep', json: '['.repeat(40) + ']'.repeat(40), cbor: Buffer.concat([Buffer.alloc(40, 0x81), Buffer.from([0])]) },
  { name: 'unknown-reserved-ai-28', cbor: [0x1c] }, { name: 'unknown-reserved-ai-30-bytes', cbor: [0x5e] },
  { name: 'unknown-reserved-simple-29', cbor: [0xfd] }, { name: 'unknown-break-alone', cbor: [0xff] },
  { name: 'unknown-indefinite-int', cbor: [0x1f] }, { name: 'unknown-indefinite-tag', cbor: [0xdf, 0x00] },
  { name: 'unknown-chunk-of-other-type', cbor: [0x7f, 0x41, 0x61, 0xff] },
  { name: 'unknown-indefinite-chunk', cbor: [0x7f, 0x7f, 0xff, 0xff] },
  { name: 'unknown-odd-indefinite-map', cbor: [0xbf, 0x61, 0x61, 0xff] },
  { name: 'unknown-long-string', cbor: [0x5b, 0, 0, 0, 1, 0, 0, 0, 0, 0x61] },
  { name: 'unknown-long-array', cbor: [0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00] },
  { name: 'unknown-long-map', cbor: [0xba, 0x7f, 0xff, 0xff, 0xff] },
  { name: 'unknown-tag-then-break', cbor: [0x9f, 0xc6, 0xff] },
  // wrong types and values for known members
  { calls: ['put'], name: 'count-negative', key: 'FailedRecordCount', json: '-1', cbor: [0x20] },
  { calls: ['put'], name: 'count-fraction', key: 'FailedRecordCount', json: '1.5', cbor: [0xf9, 0x3e, 0x00] },
  { calls: ['put'], name: 'count-too-big', key: 'FailedRecordCount', json: '1e30', cbor: [0xfb, 0x46, 0x29, 0x3e, 0x59, 0x39, 0xa0, 0x8c, 0xea] },
  { calls: ['put'], name: 'count-text', key: 'FailedRecordCount', json: '"abc"', cbor: [0x63, 0x61, 0x62, 0x63] },
  { calls: ['put'], name: 'count-true', key: 'FailedRecordCount', json: 'true', cbor: [0xf5] },
  { calls: ['put'], name: 'count-nan', key: 'FailedRecordCount', cbor: [0xf9, 0x7e, 0x00] },
  { calls: ['put'], name: 'count-array', key: 'FailedRecordCount', json: '[]', cbor: [0x80] },
  { calls: ['put', 'get'], name: 'records-object', key: 'Records', json: '{}', cbor: [0xa0] },
  { calls: ['put', 'get'], name: 'records-string', key: 'Records', json: '"x"', cbor: [0x61, 0x78] },
  { calls: ['put', 'get'], name: 'records-null-entry', key: 'Records', json: '[null]', cbor: [0x81, 0xf6] },
  { calls: ['put'], name: 'shard-id-number', key: 'ShardId', json: '5', cbor: [0x05] },
  { calls: ['put'], name: 'sequence-number-object', key: 'SequenceNumber', json: '{}', cbor: [0xa0] },
  { calls: ['list'], name: 'hash-key-negative', key: 'StartingHashKey', json: '"-1"', cbor: [0x62, 0x2d, 0x31] },
  { calls: ['list'], name: 'hash-key-2^128', key: 'EndingHashKey', json: '"340282366920938463463374607431768211456"', cbor: Buffer.concat([Buffer.from([0x78, 39]), Buffer.from('340282366920938463463374607431768211456')]) },
  { calls: ['list'], name: 'hash-key-number', key: 'StartingHashKey', json: '0', cbor: [0x00] },
  { calls: ['list'], name: 'shards-map', key: 'Shards', json: '{}', cbor: [0xa0] },
  { calls: ['list'], name: 'next-token-number', key: 'NextToken', json: '1', cbor: [0x01] },
  { calls: ['list'], name: 'ending-sequence-number-true', key: 'EndingSequenceNumber', json: 'true', cbor: [0xf5] },
  { calls: ['iter'], name: 'iterator-number', key: 'ShardIterator', json: '1', cbor: [0x01] },
  { calls: ['iter'], name: 'iterator-null', key: 'ShardIterator', json: 'null', cbor: [0xf6] },
  { calls: ['get'], name: 'timestamp-negative', key: 'ApproximateArrivalTimestamp', json: '-1', cbor: [0xf9, 0xbc, 0x00] },
  { calls: ['get'], name: 'timestamp-text', key: 'ApproximateArrivalTimestamp', json: '"soon"', cbor: [0x64, 0x73, 0x6f, 0x6f, 0x6e] },
  { calls: ['get'], name: 'timestamp-too-big', key: 'ApproximateArrivalTimestamp', json: '1e400', cbor: [0xfb, 0x7f, 0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] },
  { calls: ['get'], name: 'timestamp-infinity', key: 'ApproximateArrivalTimestamp', cbor: [0xf9, 0x7c, 0x00] },
  { calls: ['get'], name: 'timestamp-simple', key: 'ApproximateArrivalTimestamp', cbor: [0xf8, 0x20] },
  { calls: ['get'], name: 'data-bad-base64', key: 'Data', json: '"abc"' },
  { calls: ['get'], name: 'data-bad-base64-char', key: 'Data', json: '"ab@="' },
  { calls: ['get'], name: 'data-number', key: 'Data', json: '1', cbor: [0x01] },
  { calls: ['get'], name: 'data-buffer-byte-256', key: 'Data', json: '{"type":"Buffer","data":[1,256]}' },
  { calls: ['get'], name: 'millis-behind-fraction', key: 'MillisBehindLatest', json: '0.5', cbor: [0xf9, 0x38, 0x00] },
  { calls: ['summary'], name: 'open-shards-too-big', key: 'OpenShardCount', json: '4294967296', cbor: [0x1b, 0, 0, 0, 1, 0, 0, 0, 0] },
  { calls: ['summary'], name: 'summary-array', key: 'StreamDescriptionSummary', json: '[]', cbor: [0x80] },
  { calls: ['summary'], name: 'status-number', key: 'StreamStatus', json: '1', cbor: [0x01] }
]
function replaceMember(form, key, raw) { // the first object (depth first) that has key
  let done = false
  const walk = (v) => {
    if (Array.isArray(v)) return v.map(walk)
    if (!isObj(v)) return v
    const o = {}
    for (const k of Object.keys(v)) {
      if (!done && k === key) { o[k] = raw; done = true } else o[k] = walk(v[k])
    }
    return o
  }
  const r = walk(form)
  return done ? r : null
}

// ---- writing it all -----------------------------------------------------------
const argv = process.argv.slice(2)
if (!argv.length) { console.error('usage: gen.js CORPUS [--seeds DIR]'); process.exit(2) }
const seedsAt = argv.indexOf('--seeds') >= 0 ? argv[argv.indexOf('--seeds') + 1] : null
const lines = []
let nVariants = 0, nMalformed = 0
const seeds = []
const variant = (proto, name, body) => { lines.push(`V ${proto} ${name} ${body.length ? hex(body) : '-'}`); nVariants++; return body }
const WS = ' \t\r\n '
for (const c of CASES) {
  c.status = c.status || 200
  const base = stripNulls(c.form)
  const entries = c.call === 'put' ? base.Records.length : 0
  lines.push(`B ${c.call} ${c.status} ${entries} ${c.name}`)
  lines.push('E ' + expected(c, base).join(' '))
  // JSON: made, then parsed again to check it means the form
  const reordered = reverseKeys(c.form)
  const json = [
    ['aws', base, {}],
    ['nulls', c.form, {}],
    ['reordered', reordered, {}],
    ['unknown-first', withMembers(c.form, UNKNOWN_JSON, 'first'), {}],
    ['unknown-middle', withMembers(c.form, UNKNOWN_JSON, 'middle'), {}],
    ['unknown-last', withMembers(base, UNKNOWN_JSON, 'last'), {}],
    ['unknown-nulls', withMembers(base, UNKNOWN_JSON.map(([k]) => [k, null]), 'middle'), {}],
    ['white-space', c.form, { ws: WS }],
    ['escapes-all', c.form, { esc: 'all' }],
    ['escapes-some', c.form, { esc: 'some' }],
    ['timestamps-as-strings', timestampsAsStrings(base), {}],
    ['kinesalite-buffers', kinesaliteBuffers(base), {}],
    ['all', withMembers(timestampsAsStrings(reordered), UNKNOWN_JSON, 'middle'), { ws: WS, num: 'rotate', esc: 'some' }]
  ]
  NUMBER_STYLES.forEach((_, i) => { if (i) json.push([`numbers-${i}`, c.form, { num: i }]) })
  const seen = new Set()
  for (const [name, form, o] of json) {
    const body = writeJson(form, o)
    if (seen.has(body.toString('hex')) && name !== 'aws') continue // the same bytes as another
    seen.add(body.toString('hex'))
    checkJson(`${c.name} json ${name}`, form, body)
    variant('j', name, name === 'aws' && c.call === 'create' ? Buffer.alloc(0) : body)
  }
  if (c.call === 'create') { variant('j', 'empty-object', Buffer.from('{}')); variant('j', 'spaces', Buffer.from(' \r\n')); variant('j', 'null', Buffer.from('null')) }
  // CBOR
  const cbors = [
    ['aws', base, () => packageCbor(base)],
    ['nulls', c.form, () => packageCbor(c.form)],
    ['undefined', c.form, () => writeCbor(c.form, { undef: true })],
    ['reordered', reordered, () => packageCbor(reordered)],
    ['unknown', withMembers(c.form, UNKNOWN_CBOR, 'middle'), (f) => writeCbor(f)],
    ['canonical', c.form, () => packageCbor(c.form, 'canonical')],
    ['indefinite', c.form, () => packageCbor(c.form, 'indefinite')],
    ['indefinite-1-byte-chunks', c.form, (f) => writeCbor(f, { indef: true, chunk: 1 })],
    ['tags', c.form, (f) => writeCbor(f, { tags: true })],
    ['heads-1-byte', c.form, (f) => writeCbor(f, { width: 1 })],
    ['heads-2-byte', c.form, (f) => writeCbor(f, { width: 2 })],
    ['heads-4-byte', c.form, (f) => writeCbor(f, { width: 4 })],
    ['heads-8-byte', c.form, (f) => writeCbor(f, { width: 8 })],
    ['floats-half', c.form, (f) => writeCbor(f, { floats: 'min' })],
    ['floats-single', c.form, (f) => writeCbor(f, { floats: 'single' })],
    ['floats-double', c.form, (f) => writeCbor(f, { floats: 'double' })],
    ['timestamps-as-strings', timestampsAsStrings(base), (f) => writeCbor(f)],
    ['data-as-base64-text', dataAsText(base), () => packageCbor(dataAsText(base))],
    ['all', withMembers(reordered, UNKNOWN_CBOR, 'first'), (f) => writeCbor(f, { indef: true, chunk: 2, tags: true, width: 2, floats: 'min', undef: true })]
  ]
  seen.clear()
  for (const [name, form, make] of cbors) {
    const body = make(form)
    if (seen.has(body.toString('hex')) && name !== 'aws') continue
    seen.add(body.toString('hex'))
    checkCbor(`${c.name} cbor ${name}`, form, body)
    variant('c', name, name === 'aws' && c.call === 'create' ? Buffer.alloc(0) : body)
  }
  if (c.call === 'create') { variant('c', 'empty-map', Buffer.from([0xa0])); variant('c', 'indefinite-map', Buffer.from([0xbf, 0xff])); variant('c', 'null', Buffer.from([0xf6])) }
  // fuzz seeds: most of the forms at once, unknown members at the top only (short)
  const seedJson = Object.assign(Object.fromEntries(UNKNOWN_JSON), timestampsAsStrings(reordered))
  const seedCbor = Object.assign(Object.fromEntries(UNKNOWN_CBOR), reordered)
  checkJson(`${c.name} json seed`, seedJson, writeJson(seedJson, { num: 'rotate', esc: 'some' }))
  checkCbor(`${c.name} cbor seed`, seedCbor, writeCbor(seedCbor, { indef: true, tags: true, floats: 'min', undef: true }))
  seeds.push(['json', `variant-${c.name}.json`, writeJson(seedJson, { num: 'rotate', esc: 'some' })])
  seeds.push(['cbor', `variant-${c.name}.cbor`, writeCbor(seedCbor, { indef: true, tags: true, floats: 'min', undef: true })])
  // malformed
  const bad = (proto, what, body) => { lines.push(`M ${proto} ${what} ${body.length ? hex(body) : '-'}`); nMalformed++ }
  const awsJson = writeJson(base), awsCbor = packageCbor(base)
  bad('j', 'trailing-garbage', Buffer.concat([awsJson, Buffer.from('x')]))
  bad('j', 'second-value', Buffer.concat([awsJson, Buffer.from('{}')]))
  bad('j', 'leading-garbage', Buffer.concat([Buffer.from(','), awsJson]))
  bad('c', 'trailing-byte', Buffer.concat([awsCbor, Buffer.from([0])]))
  bad('c', 'second-value', Buffer.concat([awsCbor, Buffer.from([0xa0])]))
  for (const m of MALFORMED) {
    if (m.calls && !m.calls.includes(c.call)) continue
    const raw = new Raw(m.json, m.cbor)
    const form = m.key ? replaceMember(base, m.key, raw) : Object.assign({ Zu: raw }, base)
    if (!form) continue
    if (m.json !== undefined) bad('j', m.name, writeJson(form))
    if (m.cbor !== undefined) bad('c', m.name, writeCbor(form))
  }
}
fs.writeFileSync(argv[0], '# kinagg response corpus, made by tests/responses/gen.js\n' + lines.join('\n') + '\n')
console.log(`gen: ${CASES.length} base responses, ${nVariants} variants, ${nMalformed} malformed, in ${argv[0]}`)
if (seedsAt) {
  for (const [dir, name, body] of seeds) {
    fs.mkdirSync(path.join(seedsAt, dir), { recursive: true })
    fs.writeFileSync(path.join(seedsAt, dir, name), body)
  }
  console.log(`gen: ${seeds.length} fuzz seeds in ${seedsAt}`)
}
