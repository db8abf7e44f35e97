/* One side of tests/xcheck/sidebyside: HDR is the header, P(x) names its wrappers. */
#define KINAGG_STATIC
#define KINAGG_IMPLEMENTATION
#include HDR
#include <string.h>
#include "dx.h"

unsigned long P(cnt)[8];
static void lg(dxlog *l, const void *p, size_t n) {
    if (l->len + n + 4 > sizeof l->buf) { l->over = 1; return; }
    memcpy(l->buf + l->len, &n, 4); /* length-prefixed */
    l->len += 4;
    memcpy(l->buf + l->len, p, n);
    l->len += n;
}
static void lgu(dxlog *l, uint64_t v) { lg(l, &v, 8); }
static void lgs(dxlog *l, kinagg_str s) { lgu(l, s.len); lg(l, s.ptr ? s.ptr : "", s.len); }

/* a cursor over the input blob */
typedef struct rd { const unsigned char *p; size_t n, i; } rd;
static unsigned r8(rd *r) { return r->i < r->n ? r->p[r->i++] : 0; }
static const char *rstr(rd *r, size_t *len, size_t max) { /* len byte, then bytes */
    size_t l = r8(r) % (max + 1);
    const char *s = (const char *)r->p + (r->i < r->n ? r->i : r->n);
    if (l > r->n - (r->i < r->n ? r->i : r->n)) l = r->n - (r->i < r->n ? r->i : r->n);
    r->i += l;
    *len = l;
    return s;
}

void P(hash)(const unsigned char *d, size_t n, dxlog *l) {
    unsigned char o[32];
    size_t cut = n ? d[0] % (n + 1) : 0, k;
    kinagg_md5_ctx m;
    kinagg_sha256_ctx s;
    kinagg_hmac_sha256_ctx h;
    kinagg_md5(d, n, o); lg(l, o, 16);
    kinagg_sha256(d, n, o); lg(l, o, 32);
    kinagg_md5_init(&m); kinagg_md5_update(&m, d, cut); kinagg_md5_update(&m, d + cut, n - cut); kinagg_md5_final(&m, o); lg(l, o, 16);
    kinagg_sha256_init(&s); kinagg_sha256_update(&s, d, cut); kinagg_sha256_update(&s, d + cut, n - cut); kinagg_sha256_final(&s, o); lg(l, o, 32);
    for (k = 0; k < 3; k++) { /* keys: a prefix, the whole (long), empty */
        size_t kl = k == 0 ? cut : k == 1 ? n : 0;
        kinagg_hmac_sha256(d, kl, d + cut, n - cut, o); lg(l, o, 32);
        kinagg_hmac_sha256_init(&h, d, kl); kinagg_hmac_sha256_update(&h, d, cut); kinagg_hmac_sha256_update(&h, d + cut, n - cut);
        kinagg_hmac_sha256_final(&h, o); lg(l, o, 32);
    }
    { char hx[65]; kinagg_hex(o, 32, hx); lg(l, hx, 64); }
}

void P(sign)(const unsigned char *d, size_t n, dxlog *l) {
    rd r; kinagg_sigv4_signer sg; kinagg_credentials cr; kinagg_sigv4_request q; kinagg_sigv4_trace tr;
    kinagg_http_header hs[8]; char out[600], cbuf[700], sbuf[300]; size_t out_len = 12345, i, hc, rounds, t;
    char ph[64];
    r.p = d; r.n = n; r.i = 0;
    memset(&cr, 0, sizeof cr); memset(&q, 0, sizeof q); memset(&tr, 0, sizeof tr);
    cr.access_key_id.ptr = rstr(&r, &cr.access_key_id.len, 30);
    cr.secret_access_key.ptr = rstr(&r, &cr.secret_access_key.len, 80);
    if (r8(&r) & 1) cr.session_token.ptr = rstr(&r, &cr.session_token.len, 40);
    kinagg_sigv4_init(&sg, &cr);
    rounds = 1 + r8(&r) % 3;
    for (t = 0; t < rounds; t++) {
        unsigned f = r8(&r), weird = r8(&r) % 4 == 0;
        static char names[8][12];
        if (!weird) f &= 0x5d; /* valid date, default region/service unless asked */
        memset(&q, 0, sizeof q);
        q.method.ptr = rstr(&r, &q.method.len, 8);
        if (f & 1) q.path.ptr = rstr(&r, &q.path.len, 20); else { q.path.ptr = "/"; q.path.len = 1; }
        if (f & 2) q.query.ptr = rstr(&r, &q.query.len, 20);
        hc = r8(&r) % 9;
        for (i = 0; i < hc; i++) { hs[i].name.ptr = rstr(&r, &hs[i].name.len, 12); hs[i].value.ptr = rstr(&r, &hs[i].value.len, 20);
            if (!weird) { size_t j; for (j = 0; j < hs[i].name.len; j++) names[i][j] = "abcABC-xX"[(unsigned char)hs[i].name.ptr[j] % 9];
                if (!hs[i].name.len) { names[i][0] = 'h'; hs[i].name.len = 1; } hs[i].name.ptr = names[i]; } }
        if (!weird) { q.method.ptr = "POST"; q.method.len = 4 - (f & 1); }
        if (!weird && (f & 1)) { q.path.ptr = "/a/b-c/~d."; q.path.len = r8(&r) % 11; }
        q.headers = hc || (f & 4) ? hs : NULL; q.header_count = hc;
        if (f & 8) { size_t pl; const char *pp = rstr(&r, &pl, 64); memset(ph, 'a', 64); memcpy(ph, pp, pl); q.payload_sha256_hex = ph;
            if (!weird) { size_t j; for (j = 0; j < 64; j++) ph[j] = "0123456789abcdefABCDEF"[(unsigned char)ph[j] % 22]; } }
        else { q.payload = rstr(&r, &q.payload_len, 200); if (f & 16) q.payload = NULL; }
        if (f & 32) q.region.ptr = rstr(&r, &q.region.len, 20); else { q.region.ptr = "us-east-1"; q.region.len = 9; }
        if (f & 64) q.service.ptr = rstr(&r, &q.service.len, 20); else { q.service.ptr = "kinesis"; q.service.len = 7; }
        if (f & 128) q.amz_date.ptr = rstr(&r, &q.amz_date.len, 17); else { q.amz_date.ptr = "20240102T030405Z"; q.amz_date.len = 16; }
        q.normalize_path = r8(&r) & 1;
        tr.canonical_request = (r8(&r) & 3) ? cbuf : NULL; tr.canonical_request_cap = r8(&r) % 4 ? sizeof cbuf : r8(&r) * 3;
        tr.string_to_sign = (r8(&r) & 3) ? sbuf : NULL; tr.string_to_sign_cap = r8(&r) % 4 ? sizeof sbuf : r8(&r);
        memset(cbuf, 1, sizeof cbuf); memset(sbuf, 2, sizeof sbuf); memset(out, 3, sizeof out); memset(tr.signature_hex, 4, 65);
        {
            size_t cap = r8(&r) % 4 ? sizeof out : r8(&r) * 2;
            int use_trace = r8(&r) % 3;
            kinagg_status st = kinagg_sigv4_sign(&sg, &q, out, cap, (r8(&r) & 7) ? &out_len : NULL, use_trace ? &tr : NULL);
            P(cnt)[0]++; if (st == KINAGG_OK) P(cnt)[1]++;
            lgu(l, (uint64_t)st); lgu(l, out_len); lg(l, out, sizeof out);
            if (use_trace) { lg(l, cbuf, sizeof cbuf); lg(l, sbuf, sizeof sbuf); lg(l, tr.signature_hex, 65);
                lgu(l, tr.canonical_request_len); lgu(l, tr.string_to_sign_len); }
        }
        if (r8(&r) % 5 == 0) { cr.secret_access_key.ptr = rstr(&r, &cr.secret_access_key.len, 80); kinagg_sigv4_init(&sg, &cr); }
    }
    { uint64_t tt = 0; char dt[17]; for (i = 0; i < 8; i++) tt = tt << 8 | r8(&r); if (r8(&r) & 1) tt >>= r8(&r) % 64;
      kinagg_sigv4_amz_date(tt, dt); lg(l, dt, 17); }
}

/* scripted peer */
typedef struct peer {
    int faults; rd *r; const unsigned char *resp; size_t resp_len, pos;
    unsigned char sent[4096]; size_t sent_len; int connects, closes; dxlog *l;
} peer;
static kinagg_io p_connect(void *c, const char *h, uint16_t port) {
    peer *p = (peer *)c; unsigned k = r8(p->r) % 16;
    lg(p->l, h, strlen(h)); lgu(p->l, port); p->connects++;
    if (!p->faults && k < 3) k = 3;
    return k == 0 ? KINAGG_IO_AGAIN : k == 1 ? KINAGG_IO_ERROR : k == 2 ? KINAGG_IO_TLS_ERROR : KINAGG_IO_OK;
}
static kinagg_io p_send(void *c, const unsigned char *d, size_t n, size_t *sent) {
    peer *p = (peer *)c; unsigned k = r8(p->r) % 32; size_t m = n;
    if (!p->faults && (k == 1 || k == 2 || k == 10)) k = 11;
    if (k == 0) return KINAGG_IO_AGAIN;
    if (k == 1) return KINAGG_IO_CLOSED;
    if (k == 2) return KINAGG_IO_ERROR;
    if (k < 10) m = 1 + r8(p->r) % n;
    if (k == 10) m = n + 5; /* more than asked */
    { size_t cp = m < n ? m : n; if (p->sent_len + cp <= sizeof p->sent) { memcpy(p->sent + p->sent_len, d, cp); p->sent_len += cp; } }
    *sent = m;
    return KINAGG_IO_OK;
}
static kinagg_io p_recv(void *c, unsigned char *buf, size_t cap, size_t *got) {
    peer *p = (peer *)c; unsigned k = r8(p->r) % 32; size_t m;
    if (!p->faults && (k == 1 || k == 2 || k == 31)) k = 30;
    if (k == 0) return KINAGG_IO_AGAIN;
    if (k == 1) return KINAGG_IO_ERROR;
    if (p->pos >= p->resp_len) return k == 2 ? KINAGG_IO_TLS_ERROR : KINAGG_IO_CLOSED;
    m = k < 12 ? 1 + r8(p->r) % 16 : k < 20 ? 1 + r8(p->r) * 4 : p->resp_len - p->pos;
    if (m > p->resp_len - p->pos) m = p->resp_len - p->pos;
    if (m > cap) m = cap;
    memcpy(buf, p->resp + p->pos, m);
    p->pos += m;
    *got = k == 31 ? m + 3 : m; /* sometimes claims more than fits */
    if (*got > cap) *got = m;
    return KINAGG_IO_OK;
}
static void p_close(void *c) { ((peer *)c)->closes++; }
static const char *p_err(void *c) { (void)c; return "peer error"; }
typedef struct body { rd *r; size_t left, total; int rewinds, faults; } body;
static void b_rewind(void *c) { body *b = (body *)c; b->left = b->total; b->rewinds++; }
static size_t b_read(void *c, unsigned char *out, size_t cap) {
    body *b = (body *)c; unsigned k = r8(b->r) % 64; size_t m = cap < b->left ? cap : b->left;
    if (!b->faults && k < 2) k = 2;
    if (k == 0) return 0; /* broken promise */
    if (k == 1) return b->left + 1;
    if (k < 20 && m > 1) m = 1 + r8(b->r) % m;
    memset(out, 'b', m); b->left -= m; return m;
}

static void log_resp(dxlog *l, const kinagg_http_response *rs, const unsigned char *rbuf) {
    size_t i;
    lgu(l, (uint64_t)rs->status); lgu(l, (uint64_t)rs->version_minor); lgs(l, rs->reason);
    lgu(l, rs->header_count); lgu(l, (uint64_t)rs->keep_alive);
    for (i = 0; i < rs->header_count && i < KINAGG_HTTP_MAX_HEADERS; i++) { lgs(l, rs->headers[i].name); lgs(l, rs->headers[i].value); }
    lgu(l, rs->body ? (uint64_t)(rs->body - rbuf) : 99999); lgu(l, rs->body_len);
    if (rs->body && rs->body_len < 100000) lg(l, rs->body, rs->body_len);
}

void P(parse)(const unsigned char *d, size_t n, dxlog *l) {
    kinagg_http_response rs; size_t k;
    memset(&rs, 0, sizeof rs);
    k = kinagg_http_parse_head(d, n, &rs);
    lgu(l, k);
    if (k && k != (size_t)-1) log_resp(l, &rs, d);
}

/* d: [script bytes len16][script][response] */
void P(http)(const unsigned char *d, size_t n, dxlog *l) {
    static unsigned char sbuf[1024], rbuf[4096];
    kinagg_http_client c; kinagg_transport t; peer p; body b; kinagg_body kb; rd r;
    size_t sl, scap, rcap, i, hc, reqs;
    kinagg_http_header hs[6];
    uint64_t now = 1000;
    if (n < 2) return;
    sl = (size_t)d[0] | (size_t)d[1] << 8;
    if (sl > n - 2) sl = n - 2;
    r.p = d + 2; r.n = sl; r.i = 0;
    memset(&p, 0, sizeof p); p.r = &r; p.faults = r8(&r) % 4 == 0; p.resp = d + 2 + sl; p.resp_len = n - 2 - sl; p.l = l;
    memset(&t, 0, sizeof t); t.ctx = &p; t.connect = p_connect; t.send = p_send; t.recv = p_recv; t.close = p_close;
    if (r8(&r) & 1) t.error = p_err;
    scap = 256 + r8(&r) * 3; rcap = 64 + r8(&r) * 16;
    if (scap > sizeof sbuf) scap = sizeof sbuf;
    if (rcap > sizeof rbuf) rcap = sizeof rbuf;
    memset(sbuf, 0, sizeof sbuf); memset(rbuf, 0, sizeof rbuf);
    kinagg_http_init(&c, &t, sbuf, scap, rbuf, rcap);
    if (r8(&r) & 1) c.send_budget = 1 + r8(&r);
    c.connect_timeout_ms = r8(&r); c.send_timeout_ms = r8(&r) * 3; c.recv_timeout_ms = r8(&r) * 5;
    reqs = 1 + r8(&r) % 3;
    for (; reqs; reqs--) {
        kinagg_status st; unsigned f = r8(&r), weird = r8(&r) % 4 == 0;
        if (!weird) f &= ~7u; size_t ml, tl, hl; const char *m, *tg, *host; uint16_t port;
        int spins = 0;
        char hostbuf[32];
        m = rstr(&r, &ml, 6); if (!(f & 1)) { m = "POST"; ml = 4; }
        tg = rstr(&r, &tl, 10); if (!(f & 2)) { tg = "/"; tl = 1; }
        host = rstr(&r, &hl, 12); if (!(f & 4)) { host = "h.example"; hl = 9; }
        memcpy(hostbuf, host, hl); hostbuf[hl] = 0;
        port = (f & 8) ? (uint16_t)(r8(&r) << 8 | r8(&r)) : (f & 16) ? 443 : 80;
        hc = r8(&r) % 7;
        for (i = 0; i < hc; i++) {
            unsigned g = r8(&r);
            hs[i].name.ptr = rstr(&r, &hs[i].name.len, 16); hs[i].value.ptr = rstr(&r, &hs[i].value.len, 20);
            if (!weird) { hs[i].name.ptr = "X-Custom-Header"; hs[i].name.len = 1 + g % 15; if (hs[i].value.len > 3) hs[i].value.len = 3 + g % 3; }
            if (!weird && hs[i].value.len && (hs[i].value.ptr[0] == '\r' || hs[i].value.ptr[0] == '\n' || !hs[i].value.ptr[0])) hs[i].value.len = 0;
            if (g % 8 == 0) { hs[i].name.ptr = "Host"; hs[i].name.len = 4; }
            if (g % 16 == 1) { hs[i].name.ptr = "content-LENGTH"; hs[i].name.len = 14; }
            if (g % 4 == 2) { hs[i].name.ptr = "X-Amz-Date"; hs[i].name.len = 10; }
        }
        b.faults = p.faults; b.r = &r; b.total = b.left = (f & 32) ? r8(&r) * 7 : 0; b.rewinds = 0;
        kb.ctx = &b; kb.rewind = (f & 64) ? NULL : b_rewind; kb.read = b_read;
        st = kinagg_http_begin(&c, (f & 128) && !(r8(&r) % 8) ? NULL : hostbuf, port, kinagg_str_c(NULL), kinagg_str_c(NULL), hs, hc, NULL, 0, now);
        {   kinagg_str ms, ts; ms.ptr = m; ms.len = ml; ts.ptr = tg; ts.len = tl;
            st = kinagg_http_begin(&c, hostbuf, port, ms, ts, hc ? hs : NULL, hc, b.total || (f & 64) ? &kb : NULL, b.total, now); }
        lgu(l, (uint64_t)st);
        lg(l, sbuf, sizeof sbuf);
        if (st != KINAGG_OK) continue;
        do {
            unsigned ev = 77; uint64_t wake = 77;
            st = kinagg_http_poll(&c, now, (r8(&r) & 7) ? &ev : NULL, (r8(&r) & 7) ? &wake : NULL);
            lgu(l, (uint64_t)st); lgu(l, ev); lgu(l, wake); lgu(l, c.sent_in_poll);
            now += r8(&r) % 4 == 0 ? r8(&r) * 10 : 1;
            if (++spins > 20000) break;
        } while (st == KINAGG_PENDING);
        lgu(l, (uint64_t)st); lgu(l, (uint64_t)c.connected); lgu(l, c.requests); lgu(l, c.connections);
        lgu(l, (uint64_t)c.state); lgu(l, (uint64_t)b.rewinds);
        lg(l, c.error_detail ? c.error_detail : "-", c.error_detail ? strlen(c.error_detail) : 1);
        P(cnt)[2]++; if (st == KINAGG_OK) { P(cnt)[3]++; if (c.response.body_len) P(cnt)[4]++; if (c.response.keep_alive) P(cnt)[5]++; }
        if (st == KINAGG_OK) log_resp(l, &c.response, rbuf);
        {   const kinagg_str *v = kinagg_http_header_get(&c.response, "content-type"); lgu(l, v ? v->len : 999); }
        if (r8(&r) % 4 == 0) kinagg_http_close(&c);
    }
    lg(l, p.sent, p.sent_len); lgu(l, (uint64_t)p.connects); lgu(l, (uint64_t)p.closes);
}

void P(agg)(const unsigned char *d, size_t n, dxlog *l) {
    static unsigned char buf[6000]; static uint32_t idx[64];
    kinagg_agg a; kinagg_agg_limits lim; rd r; size_t ops, i, cap;
    char keys[6][40]; size_t kl[6];
    r.p = d; r.n = n; r.i = 0;
    memset(&lim, 0, sizeof lim);
    lim.max_record_size = (r8(&r) & 1) ? 100 + r8(&r) * 20 : 0;
    lim.outer_key_len = r8(&r) % 4 == 0 ? r8(&r) : 0;
    cap = 20 + (size_t)r8(&r) * 23;
    for (i = 0; i < 6; i++) { /* keys: decimal-ish or text */
        size_t j; kl[i] = r8(&r) % 40;
        for (j = 0; j < kl[i]; j++) { unsigned c = r8(&r); keys[i][j] = (char)((c & 1) ? '0' + c % 10 : (c & 2) ? 'a' + c % 26 : c); }
        if (r8(&r) % 5 == 0) { memcpy(keys[i], "340282366920938463463374607431768211455", 39); kl[i] = 39; if (r8(&r) & 1) keys[i][38] = '6'; }
    }
    memset(buf, 0, sizeof buf); memset(&a, 0, sizeof a);
    { kinagg_status st = kinagg_agg_init(&a, buf, cap, (r8(&r) & 1) ? &lim : NULL); lgu(l, (uint64_t)st); if (st != KINAGG_OK) a.buf = NULL; }
    if (a.buf && (r8(&r) & 1)) kinagg_agg_set_index(&a, idx, r8(&r) % 64);
    ops = r8(&r) % 60;
    for (i = 0; i < ops && a.buf; i++) {
        unsigned op = r8(&r) % 16, pk = r8(&r) % 6, ek = r8(&r) % 7; size_t dl = r8(&r) % 4 ? r8(&r) % 50 : r8(&r) * 9;
        const char *eh = ek < 6 ? keys[ek] : NULL;
        if (op < 11) lgu(l, (uint64_t)kinagg_agg_add(&a, keys[pk], kl[pk], eh, eh ? kl[ek] : 0, buf + 5000 - dl % 900, dl % 900));
        else if (op < 13) lgu(l, kinagg_agg_size_if_added(&a, keys[pk], kl[pk], eh, eh ? kl[ek] : 0, dl));
        else if (op < 15) { const unsigned char *o = NULL; size_t ol = 0; kinagg_status st = kinagg_agg_finish(&a, &o, &ol);
            lgu(l, (uint64_t)st); lgu(l, ol); if (st == KINAGG_OK) lg(l, o, ol); }
        else kinagg_agg_reset(&a);
        lgu(l, kinagg_agg_count(&a)); lgu(l, kinagg_agg_size(&a));
    }
    {   /* hash keys */
        for (i = 0; i < 6; i++) {
            kinagg_hash_key hk, hk2; char dec[41]; kinagg_status st = kinagg_hash_key_parse(keys[i], kl[i], &hk);
            lgu(l, (uint64_t)st); lgu(l, (uint64_t)kinagg_partition_key_check(keys[i], kl[i]));
            kinagg_hash_key_of_partition_key(keys[i], kl[i], &hk2); lg(l, hk2.be, 16);
            if (st == KINAGG_OK) { size_t fl = kinagg_hash_key_format(&hk, dec); lg(l, dec, fl + 1); lgu(l, (uint64_t)kinagg_hash_key_in_range(&hk2, &hk, &hk)); }
            lgu(l, (uint64_t)(kinagg_hash_key_compare(&hk2, &hk2) == 0));
        }
    }
}
void P(div)(const unsigned char *d, size_t n, dxlog *l) {
    size_t i;
    for (i = 0; i + 10 <= n; i += 10) {
        uint64_t v = 0; uint32_t dv; int k;
        for (k = 0; k < 8; k++) v = v << 8 | d[i + k];
        if (d[i] & 1) v >>= d[i + 1] % 64;
        dv = (uint32_t)d[i + 8] << 8 | d[i + 9];
        if (d[i] & 2) dv &= 0xff;
        if (!dv) dv = 1;
        if (d[i] % 16 == 4) dv = 65535;
        { char dt[17]; uint64_t t = v; if (d[i] % 8 == 3) t = ~(uint64_t)0 - d[i + 2]; if (d[i] % 8 == 5) t = d[i + 3] * 86399ull;
          kinagg_sigv4_amz_date(t, dt); lg(l, dt, 17); }
        lgu(l, kinagg__divmod16(&v, dv)); lgu(l, v);
    }
}
