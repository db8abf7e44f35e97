/* Side by side: runs kinagg's Kinesis calls on every body of a response
 * corpus (tests/responses/gen.js), on its prefixes and on seeded mutations
 * of it, and prints what each call gave, a line per call. Built once with
 * the header under test and once with an older one
 * (-DKINAGG_HEADER='"old/kinagg.h"'), the two outputs must be the same.
 * Built and run by run.sh here (make sidebyside), with tests/ on the
 * include path. Usage: kinesis CORPUS [MUTATIONS_PER_BODY] [SEED] [ENDPOINT_URL]. Test
 * code: uses the heap freely. */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#ifndef KINAGG_HEADER
#define KINAGG_HEADER "../../../kinagg.h"
#endif
#include KINAGG_HEADER
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long sent_hash; /* of every request's bytes */
static void hash_sent(const unsigned char *d, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) sent_hash = (sent_hash ^ d[i]) * 1099511628211ull;
}
#define CANNED_ON_SEND(d, n) hash_sent(d, n)
#include "canned_transport.h" /* tests/ */

/* ctype: 0 none, 1 json, 2 cbor; date: a Date header (skew) */
static void respond(int status, int ctype, int date, const char *etype, const unsigned char *body, size_t len) {
    int n = snprintf((char *)answer, sizeof answer, "HTTP/1.1 %d X\r\n%s%s%s%s%s%sContent-Length: %u\r\n\r\n", status,
                     ctype == 1 ? "Content-Type: application/x-amz-json-1.1\r\n"
                     : ctype == 2 ? "Content-Type: application/x-amz-cbor-1.1\r\n" : "",
                     date ? "Date: Tue, 14 Nov 2023 22:23:20 GMT\r\n" : "", etype ? "x-amzn-ErrorType: " : "",
                     etype ? etype : "", etype ? "\r\n" : "", "", (unsigned)len);
    if (len > sizeof answer - (size_t)n) { fprintf(stderr, "response too large\n"); exit(2); }
    if (len) memcpy(answer + n, body, len);
    answer_len = (size_t)n + len;
}

static kinagg_kinesis k;
static unsigned char sbuf[8192], rbuf[1 << 17];
#define MAX_ENTRIES 64
static kinagg_put_entry entries[MAX_ENTRIES];
static kinagg_put_result results[MAX_ENTRIES];
static kinagg_shard shards[8];
#ifndef KINAGG_NO_READ
static kinagg_record records[16];
#endif

static const char *endpoint = "http://127.0.0.1:4567";
static int client(int cbor) {
    return canned_client(&k, endpoint, cbor, sbuf, sizeof sbuf, rbuf, sizeof rbuf) == KINAGG_OK;
}

static unsigned long long h64;
static void hs(const void *p, size_t n) {
    const unsigned char *c = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++) h64 = (h64 ^ c[i]) * 1099511628211ull;
    h64 = (h64 ^ n) * 1099511628211ull;
}
static void hstr(kinagg_str s) {
    /* where it points matters too: the same place in the receive buffer */
    long off = s.len ? (long)((const unsigned char *)s.ptr - rbuf) : -1;
    hs(&off, sizeof off);
    hs(s.ptr, s.len);
}

static void after(const char *what, kinagg_status st) {
    printf("%s %d %d %lld %lld |%s|%s| %016llx %016llx\n", what, (int)st, k.http_status, (long long)k.clock_offset_ms,
           (long long)k.last_skew_ms, k.error_type, k.error_message, h64, sent_hash);
}

/* Every call on one answer. */
static void calls(int cbor, int status, int ctype, int date, const char *etype, size_t count, const unsigned char *body,
                  size_t len) {
    kinagg_stream_ref s;
    kinagg_status st;
    size_t i, n, failed;
    char text[512];
    s.name = kinagg_str_c("s");
    s.arn = kinagg_str_c("");
    if (!client(cbor)) { printf("no protocol\n"); return; }
    respond(status, ctype, date, etype, body, len);
    for (i = 0; i < count; i++) {
        entries[i].data = (const unsigned char *)"x";
        entries[i].data_len = 1;
        entries[i].partition_key = kinagg_str_c("k");
        entries[i].explicit_hash_key = kinagg_str_c("");
    }
    h64 = 14695981039346656037ull;
    failed = 777;
    memset(results, 0xa5, sizeof results);
    st = kinagg_put_records(&k, s, entries, count, results, &failed);
    hs(&failed, sizeof failed);
    if (st == KINAGG_OK)
        for (i = 0; i < count; i++) {
            hstr(results[i].shard_id); hstr(results[i].sequence_number);
            hstr(results[i].error_code); hstr(results[i].error_message);
        }
    after("put", st);
    /* results too few and NULL */
    client(cbor);
    h64 = 14695981039346656037ull;
    failed = 777;
    st = kinagg_put_records(&k, s, entries, count ? count - 1 : 0, count > 2 ? results : NULL, &failed);
    hs(&failed, sizeof failed);
    after("put-1", st);
    client(cbor);
    h64 = 14695981039346656037ull;
    strcpy(text, "");
    n = 999;
    memset(shards, 0x5a, sizeof shards);
    st = kinagg_list_shards_page(&k, s, text, sizeof text, shards, 8, &n, 0);
    hs(&n, sizeof n);
    hs(text, strlen(text));
    if (st == KINAGG_OK || st == KINAGG_ERR_BUFFER_TOO_SMALL) hs(shards, sizeof shards);
    after("list", st);
    client(cbor);
    h64 = 14695981039346656037ull;
    strcpy(text, "");
    n = 999;
    st = kinagg_list_shards_page(&k, s, text, 16, shards, 1, &n, 0);
    hs(&n, sizeof n);
    hs(text, strlen(text));
    if (st == KINAGG_OK || st == KINAGG_ERR_BUFFER_TOO_SMALL) hs(shards, sizeof shards[0]);
    after("list1", st);
#ifndef KINAGG_NO_READ
    {
        uint64_t behind = 12345;
        unsigned open = 4321;
        client(cbor);
        h64 = 14695981039346656037ull;
        n = 999;
        strcpy(text, "z");
        st = kinagg_get_records(&k, "iterator", records, 16, &n, text, sizeof text, &behind);
        hs(&n, sizeof n); hs(&behind, sizeof behind); hs(text, strlen(text));
        if (st == KINAGG_OK)
            for (i = 0; i < n; i++) {
                hstr(records[i].sequence_number); hstr(records[i].partition_key);
                hs(records[i].data, records[i].data_len); hs(&records[i].arrival_ms, 8);
            }
        after("get", st);
        client(cbor);
        h64 = 14695981039346656037ull;
        strcpy(text, "z");
        st = kinagg_get_shard_iterator(&k, s, kinagg_str_c("shardId-000000000000"), kinagg_str_c("TRIM_HORIZON"),
                                       kinagg_str_c(""), text, sizeof text);
        hs(text, strlen(text));
        after("iter", st);
        client(cbor);
        h64 = 14695981039346656037ull;
        strcpy(text, "z");
        st = kinagg_describe_stream_summary(&k, s, text, sizeof text, &open);
        hs(text, strlen(text)); hs(&open, sizeof open);
        after("summary", st);
        client(cbor);
        h64 = 14695981039346656037ull;
        st = kinagg_create_stream(&k, kinagg_str_c("s"), 1);
        after("create", st);
    }
#endif
}

static int nib(int c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; }
static unsigned char *unhex(const char *s, size_t *len) {
    size_t n = strcspn(s, " \n"), i;
    unsigned char *out = (unsigned char *)malloc(n / 2 + 64);
    *len = 0;
    if (n == 1 && s[0] == '-') return out;
    for (i = 0; i + 1 < n; i += 2) out[i / 2] = (unsigned char)(nib(s[i]) << 4 | nib(s[i + 1]));
    *len = n / 2;
    return out;
}

static unsigned long long rng;
static unsigned rnd(unsigned n) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return n ? (unsigned)((rng >> 33) % n) : 0;
}

static const char *etypes[] = {NULL, "ProvisionedThroughputExceededException:http://x",
                               "aws.protocoljson#ThrottlingException", "RequestExpired"};

/* One body in the ways it is answered. */
static void answers(const char *what, int cbor, size_t count, int status, const unsigned char *b, size_t len) {
    int v;
    printf("# %s %u\n", what, (unsigned)len);
    calls(cbor, status, cbor ? 2 : 1, 0, NULL, count, b, len);
    for (v = 0; v < 3; v++) { /* an error answer, with and without a Date, the other type, a header type */
        printf("# err %d\n", v);
        calls(cbor, v == 2 ? 500 : 400, v == 1 ? 0 : v == 2 ? (cbor ? 1 : 2) : (cbor ? 2 : 1), v != 1, etypes[rnd(4)],
              count, b, len);
    }
}

static void mutate(unsigned char *m, size_t *len, const unsigned char *b, size_t blen, int cbor) {
    static const char tokens[][12] = {"{", "}", "[", "]", ",", ":", "\"", "null", "0", "-1", "1e3", "\\u00e9",
                                      "\\", "1.5", "\"Code\"", "true", " ", "\xff", "\xf6", "\xa1", "\x9f", "\xc1",
                                      "\x1b", "\x7f", "\xfb", "\xf9"};
    size_t n = blen, i, ops = 1 + rnd(3), at, l;
    memcpy(m, b, blen);
    (void)cbor;
    for (i = 0; i < ops; i++) {
        unsigned op = rnd(6);
        at = n ? rnd((unsigned)n + 1) : 0;
        if (op == 0 && at < n) m[at] = (unsigned char)rnd(256);
        else if (op == 1 && at < n) { l = 1 + rnd(8); if (l > n - at) l = n - at; memmove(m + at, m + at + l, n - at - l); n -= l; }
        else if (op == 2) { const char *t = tokens[rnd(sizeof tokens / sizeof tokens[0])]; l = strlen(t);
            if (n + l < blen + 60) { memmove(m + at + l, m + at, n - at); memcpy(m + at, t, l); n += l; } }
        else if (op == 3 && at < n) m[at] ^= (unsigned char)(1u << rnd(8));
        else if (op == 4 && at < n) { size_t from = rnd((unsigned)n); l = 1 + rnd(12); if (l > n - from) l = n - from;
            if (n + l < blen + 60) { memmove(m + at + l, m + at, n - at); memcpy(m + at, m + from + (from >= at ? l : 0), l); n += l; } }
        else if (op == 5) n = at;
    }
    *len = n;
}

/* Dates as a Date header gives them: well formed over the years, and
 * changed in a byte or two. */
static void dates(unsigned n) {
    static const char *mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Foo"};
    static const char alphabet[] = "0123456789 :,-JanFebDecGMTx\377";
    unsigned i;
    for (i = 0; i < n; i++) {
        char t[40];
        kinagg_str s;
        uint64_t out = 777;
        int r, k2;
        snprintf(t, sizeof t, "%s, %02u %s %04u %02u:%02u:%02u GMT", "Tue", rnd(33), mon[rnd(13)],
                 rnd(4) ? 1960 + rnd(200) : rnd(10000), rnd(26), rnd(62), rnd(63));
        for (k2 = (int)rnd(4) - 1; k2 > 0; k2--) t[rnd(29)] = alphabet[rnd(sizeof alphabet - 1)];
        s.ptr = t;
        s.len = strlen(t);
        if (rnd(20) == 0) s.len = rnd(31);
        r = kinagg__http_date(s, &out);
        printf("date %.*s %d %llu\n", (int)s.len, t, r, r ? (unsigned long long)out : 0ull);
    }
}

int main(int argc, char **argv) {
    FILE *f;
    char *line = NULL, call[16] = "", name[64] = "", what[256], proto, vname[64];
    size_t cap = 0, count = 2;
    int status = 200, muts = argc > 2 ? atoi(argv[2]) : 8;
    rng = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    if (argc > 4) endpoint = argv[4]; /* e.g. http://[::1]:4567 */
    if (argc < 2 || !(f = fopen(argv[1], "r"))) { fprintf(stderr, "usage: kinesis CORPUS [MUTATIONS] [SEED]\n"); return 2; }
    dates(200000);
    while (getline(&line, &cap, f) > 0) {
        if (line[0] == 'B') {
            unsigned st, n;
            if (sscanf(line, "B %15s %u %u %63s", call, &st, &n, name) != 4) return 2;
            status = (int)st;
            count = n > MAX_ENTRIES ? MAX_ENTRIES : n;
        } else if (line[0] == 'V' || line[0] == 'M') {
            unsigned char *body, *m;
            size_t len, mlen, cut;
            int off = 0, i, cbor;
            if (sscanf(line + 2, "%c %63s %n", &proto, vname, &off) != 2 || !off) return 2;
            cbor = proto == 'c';
            body = unhex(line + 2 + off, &len);
            snprintf(what, sizeof what, "%s %c %s", name, proto, vname);
            answers(what, cbor, count, status, body, len);
            if (line[0] == 'V') /* some prefixes */
                for (cut = 0; cut < len; cut += len / 24 + 1) answers("prefix", cbor, count, status, body, cut);
            m = (unsigned char *)malloc(len + 64);
            for (i = 0; i < muts; i++) {
                mutate(m, &mlen, body, len, cbor);
                answers("mut", cbor, count, status, m, mlen);
            }
            free(m);
            free(body);
        }
    }
    fclose(f);
    free(line);
    return 0;
}
