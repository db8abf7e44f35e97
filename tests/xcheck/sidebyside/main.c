/* tests/xcheck/sidebyside: random inputs for both sides; see run.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dx.h"
static uint64_t rs = 88172645463325252ull;
static unsigned rnd(unsigned n) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return n ? (unsigned)(rs % n) : 0; }
static const char *pick(const char *const *a, size_t n) { return a[rnd((unsigned)n)]; }
static unsigned char blob[70000];
static size_t bl;
static void put(const char *s) { size_t n = strlen(s); if (bl + n < sizeof blob) { memcpy(blob + bl, s, n); bl += n; } }
static void putn(const void *s, size_t n) { if (bl + n < sizeof blob) { memcpy(blob + bl, s, n); bl += n; } }
static unsigned char tokbyte(void) {
    static const char cs[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~/";
    unsigned k = rnd(100);
    if (k < 80) return (unsigned char)cs[rnd(sizeof cs - 1)];
    if (k < 90) return (unsigned char)" \t%&=:;,!\r\n"[rnd(11)];
    return (unsigned char)rnd(256);
}
static void gen_response(void) {
    static const char *const ver[] = {"HTTP/1.1 ", "HTTP/1.0 ", "HTTP/1.1 ", "HTTP/1.2 ", "HTTP/2.0 ", "http/1.1 "};
    static const char *const codes[] = {"200", "200", "204", "304", "100", "101", "400", "500", "099", "2x0", "999"};
    static const char *const eol[] = {"\r\n", "\r\n", "\r\n", "\n"};
    int parts = 1 + (rnd(5) == 0), pi;
    for (pi = 0; pi < parts; pi++) {
        int chunked = rnd(3) == 0, clen = rnd(4) != 0, nh = rnd(6), i, bodyn = (int)rnd(rnd(4) ? 60 : 3000);
        char tmp[64];
        const char *e = pick(eol, 4);
        put(pick(ver, 6)); put(rnd(8) ? codes[rnd(4)] : pick(codes, 11));
        put(rnd(4) ? " OK" : rnd(2) ? " " : ""); put(e);
        if (rnd(6) == 0) { put("HTTP/1.1 100 Continue"); put(e); put(e); } /* a stray interim? no: a header line here */
        for (i = 0; i < nh; i++) {
            static const char *const hn[] = {"Content-Type", "X-Amzn-RequestId", "Connection", "connection", "Date", "Server", "Transfer-Encoding", "Content-Length", "Keep-Alive"};
            static const char *const hv[] = {"application/json", "close", "keep-alive", "Keep-Alive, Upgrade", "foo,  close ", "chunked", "gzip, chunked", "chunked, gzip", " x", "\t", "", "5", "0012"};
            put(pick(hn, 9)); put(rnd(8) ? ": " : rnd(2) ? ":" : " : "); put(pick(hv, 13)); put(rnd(10) ? "" : " \t"); put(e);
        }
        if (chunked) { put("Transfer-Encoding: "); put(rnd(4) ? "chunked" : rnd(2) ? "gzip, chunked" : "Chunked"); put(e); }
        if (clen) { sprintf(tmp, "Content-Length: %s%d", rnd(10) ? "" : "00", bodyn + (rnd(10) == 0 ? (int)rnd(5) - 2 : 0)); put(tmp); put(e);
            if (rnd(10) == 0) { put(tmp); put(e); } }
        put(e);
        if (chunked) {
            int left = bodyn;
            while (left > 0) {
                int c = 1 + (int)rnd((unsigned)left < 200 ? (unsigned)left : 200);
                sprintf(tmp, rnd(2) ? "%x" : "%X", c); put(tmp);
                if (rnd(8) == 0) put(rnd(2) ? ";ext=1" : " ;x");
                put(e); { int j; for (j = 0; j < c; j++) { char ch = (char)('a' + rnd(26)); putn(&ch, 1); } } put(e);
                left -= c;
            }
            put(rnd(5) ? "0" : "000"); put(e);
            if (rnd(5) == 0) { put("Trailer: x"); put(e); }
            put(e);
        } else { int j; for (j = 0; j < bodyn; j++) { char ch = (char)('A' + rnd(26)); putn(&ch, 1); } }
    }
    { int m = rnd(3) == 0 ? 1 + (int)rnd(4) : 0; /* mutations */
      while (m-- && bl) { size_t at = rnd((unsigned)bl); unsigned k = rnd(3);
        if (k == 0) blob[at] = (unsigned char)rnd(256);
        else if (k == 1) { memmove(blob + at, blob + at + 1, bl - at - 1); bl--; }
        else if (bl + 1 < sizeof blob) { memmove(blob + at + 1, blob + at, bl - at); blob[at] = tokbyte(); bl++; } } }
}
static dxlog A, B; static unsigned long overflows;
static int cmp(const char *what, unsigned long it) {
    if (A.over || B.over) overflows++;
    if (A.len != B.len || memcmp(A.buf, B.buf, A.len) != 0) {
        size_t i = 0; while (i < A.len && i < B.len && A.buf[i] == B.buf[i]) i++;
        fprintf(stderr, "DIFF %s at iteration %lu (log %zu vs %zu, first difference at %zu)\n", what, it, A.len, B.len, i);
        return 1;
    }
    return 0;
}
extern unsigned long new_cnt[8];
int main(int argc, char **argv) {
    unsigned long n = argc > 1 ? strtoul(argv[1], 0, 10) : 10000, it, bad = 0;
    size_t i;
    if (argc > 2) rs = strtoull(argv[2], 0, 10) * 2654435761u + 1;
    for (it = 0; it < n; it++) {
        /* hash */
        bl = rnd(4) ? rnd(300) : rnd(5000);
        for (i = 0; i < bl; i++) blob[i] = (unsigned char)rnd(256);
        A.len = B.len = 0; A.over = B.over = 0; old_hash(blob, bl, &A); new_hash(blob, bl, &B); bad += cmp("hash", it);
        /* parse and http */
        bl = 0;
        {   unsigned char sc[600]; size_t sl = rnd(600), k; for (k = 0; k < sl; k++) sc[k] = (unsigned char)rnd(256);
            if (rnd(3) == 0) memset(sc, 0xff, sl); /* all OK paths */
            blob[0] = (unsigned char)sl; blob[1] = (unsigned char)(sl >> 8); bl = 2; putn(sc, sl);
            { size_t st = bl; gen_response();
              A.len = B.len = 0; A.over = B.over = 0; old_parse(blob + st, bl - st, &A); new_parse(blob + st, bl - st, &B); bad += cmp("parse", it); } }
        A.len = B.len = 0; A.over = B.over = 0; old_http(blob, bl, &A); new_http(blob, bl, &B); bad += cmp("http", it);
        /* sign: token-ish bytes */
        bl = 200 + rnd(1200);
        for (i = 0; i < bl; i++) blob[i] = rnd(3) ? tokbyte() : (unsigned char)rnd(256);
        A.len = B.len = 0; A.over = B.over = 0; old_sign(blob, bl, &A); new_sign(blob, bl, &B); bad += cmp("sign", it);
        /* agg */
        bl = 300 + rnd(2000);
        for (i = 0; i < bl; i++) blob[i] = (unsigned char)rnd(256);
        A.len = B.len = 0; A.over = B.over = 0; old_agg(blob, bl, &A); new_agg(blob, bl, &B); bad += cmp("agg", it);
        bl = 1000; for (i = 0; i < bl; i++) blob[i] = (unsigned char)rnd(256);
        A.len = B.len = 0; A.over = B.over = 0; old_div(blob, bl, &A); new_div(blob, bl, &B); bad += cmp("div", it);
        if (bad > 5) break;
    }
    printf("signatures %lu (%lu made); http requests %lu (%lu OK, %lu with a body, %lu kept alive)\n", new_cnt[0], new_cnt[1], new_cnt[2], new_cnt[3], new_cnt[4], new_cnt[5]);
    printf("old/new: %lu iterations, %lu differences (%lu logs cut short)\n", it, bad, overflows);
    return bad != 0;
}
