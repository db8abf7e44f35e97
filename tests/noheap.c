/* Proves kinagg.h allocates nothing: malloc, calloc, realloc, free and the
 * aligned allocators are wrapped at link time (-Wl,--wrap=...) and counted
 * while every part of the library runs. The test first shows the counter
 * works by allocating once itself. */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../kinagg.h"
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile unsigned long heap_calls; /* volatile: gcc assumes malloc keeps globals */
void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
void __real_free(void *);
void *__real_aligned_alloc(size_t, size_t);
int __real_posix_memalign(void **, size_t, size_t);
void *__wrap_malloc(size_t n) { heap_calls++; return __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { heap_calls++; return __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { heap_calls++; return __real_realloc(p, n); }
void __wrap_free(void *p) { heap_calls++; __real_free(p); }
void *__wrap_aligned_alloc(size_t a, size_t n) { heap_calls++; return __real_aligned_alloc(a, n); }
int __wrap_posix_memalign(void **p, size_t a, size_t n) { heap_calls++; return __real_posix_memalign(p, a, n); }

static unsigned char buf[256 * 1024];
static uint32_t scratch[4096];

/* Runs every public part of the library; returns records deaggregated. */
static size_t exercise(void) {
    kinagg_agg agg;
    kinagg_deagg it;
    kinagg_user_record u;
    kinagg_hash_key k;
    kinagg_sigv4_signer s;
    kinagg_credentials c;
    kinagg_sigv4_request r;
    kinagg_http_header h[3];
    kinagg_agg_limits lim;
    char key[32], date[17], auth[512], dec[40], canon[2048], sts[512];
    const unsigned char *out;
    size_t out_len, n = 0, i;
    unsigned char d[32];
    kinagg_sigv4_trace tr;
    lim.max_record_size = sizeof buf;
    lim.outer_key_len = 1;
    kinagg_agg_init(&agg, buf, sizeof buf, &lim);
    for (i = 0; i < 5000; i++) {
        int len = 0;
        unsigned v = (unsigned)i % 97;
        key[len++] = 'k';
        do { key[len++] = (char)('0' + v % 10); v /= 10; } while (v);
        if (kinagg_agg_add(&agg, key, (size_t)len, i % 3 ? NULL : "12345", 5, "payload", 7) != KINAGG_OK) break;
    }
    kinagg_agg_finish(&agg, &out, &out_len);
    kinagg_deagg_init(&it, out, out_len);
    kinagg_deagg_set_index(&it, scratch, 4096);
    while (kinagg_deagg_next(&it, &u)) n++;
    kinagg_deagg_init(&it, out, out_len - 1); /* plain-record path */
    while (kinagg_deagg_next(&it, &u)) n++;
    kinagg_hash_key_of_partition_key("key", 3, &k);
    kinagg_hash_key_format(&k, dec);
    kinagg_hash_key_parse(dec, strlen(dec), &k);
    kinagg_hmac_sha256("k", 1, "m", 1, d);
    c.access_key_id = kinagg_str_c("AKIDEXAMPLE");
    c.secret_access_key = kinagg_str_c("secret");
    c.session_token = kinagg_str_c("token");
    kinagg_sigv4_init(&s, &c);
    kinagg_sigv4_amz_date(1700000000, date);
    memset(&r, 0, sizeof r);
    r.method = kinagg_str_c("POST");
    r.path = kinagg_str_c("/a/./b/../c");
    r.query = kinagg_str_c("b=2&a=1&a=1&%41=x");
    h[0].name = kinagg_str_c("Host");
    h[0].value = kinagg_str_c("kinesis.us-east-1.amazonaws.com");
    h[1].name = kinagg_str_c("X-Amz-Date");
    h[1].value = kinagg_str_c(date);
    h[2].name = kinagg_str_c("X-Amz-Security-Token");
    h[2].value = kinagg_str_c("token");
    r.headers = h;
    r.header_count = 3;
    r.payload = out;
    r.payload_len = out_len;
    r.region = kinagg_str_c("us-east-1");
    r.service = kinagg_str_c("kinesis");
    r.amz_date = kinagg_str_c(date);
    r.normalize_path = 1;
    memset(&tr, 0, sizeof tr);
    tr.canonical_request = canon;
    tr.canonical_request_cap = sizeof canon;
    tr.string_to_sign = sts;
    tr.string_to_sign_cap = sizeof sts;
    kinagg_sigv4_sign(&s, &r, auth, sizeof auth, NULL, &tr);
    kinagg_sigv4_sign(&s, &r, auth, sizeof auth, NULL, NULL); /* cached key */
    return n;
}

/* ---- the HTTP client and Kinesis calls, over a scripted transport ----- */

static const char *answer;
static size_t answer_pos, answer_len;
static kinagg_io t_connect(void *c, const char *h, uint16_t p) { (void)c; (void)h; (void)p; answer_pos = 0; return KINAGG_IO_OK; }
static kinagg_io t_send(void *c, const unsigned char *d, size_t n, size_t *sent) {
    (void)c; (void)d;
    *sent = n;
    answer_pos = 0; /* a new request: the answer starts again */
    return KINAGG_IO_OK;
}
static kinagg_io t_recv(void *c, unsigned char *buf, size_t cap, size_t *got) {
    size_t n = answer_len - answer_pos;
    (void)c;
    if (n == 0) return KINAGG_IO_AGAIN;
    if (n > cap) n = cap;
    memcpy(buf, answer + answer_pos, n);
    answer_pos += n;
    *got = n;
    return KINAGG_IO_OK;
}
static void t_close(void *c) { (void)c; }
static uint64_t t_ms(void *c) { /* moves on at every read: a stall times out */
    static uint64_t t = 1700000000000ull;
    (void)c;
    return t += 10;
}
/* "HTTP/1.1 200 OK" with a body of len bytes (which may hold NULs) */
static char answer_buf[1024];
static const char *respond(const char *body, size_t len) {
    int n = snprintf(answer_buf, sizeof answer_buf, "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n", (unsigned)len);
    memcpy(answer_buf + n, body, len);
    answer_buf[n + (int)len] = '\0';
    answer_len = (size_t)n + len;
    return answer_buf;
}

/* The scripted peer as a transport, with a fixed clock and credentials. */
static void fake_setup(kinagg_transport *t, kinagg_platform *pf, kinagg_endpoint *ep, kinagg_credentials *c,
                       const char *token) {
    memset(t, 0, sizeof *t);
    t->connect = t_connect; t->send = t_send; t->recv = t_recv; t->close = t_close;
    pf->ctx = NULL; pf->now_ms = t_ms; pf->unix_ms = t_ms; pf->random = NULL; pf->sleep_ms = NULL;
    kinagg_endpoint_from_url(ep, kinagg_str_c("http://127.0.0.1:4567"));
    c->access_key_id = kinagg_str_c("AKID");
    c->secret_access_key = kinagg_str_c("secret");
    c->session_token = kinagg_str_c(token);
}

static size_t exercise_network(void) {
    static kinagg_kinesis k;
    static unsigned char sbuf[2048], rbuf[8192];
    static kinagg_shard shards[4];
    static kinagg_record recs[4];
    kinagg_transport t;
    kinagg_platform pf;
    kinagg_endpoint ep;
    kinagg_credentials c;
    kinagg_stream_ref s;
    kinagg_put_entry e[2];
    kinagg_put_result res[2];
    char iter[64];
    size_t failed = 9, n = 0, ok = 0;
    fake_setup(&t, &pf, &ep, &c, "token");
    kinagg_kinesis_init(&k, &ep, kinagg_str_c("us-east-1"), &c, KINAGG_PROTOCOL_JSON, &t, &pf, sbuf, sizeof sbuf,
                        rbuf, sizeof rbuf);
    s.name = kinagg_str_c("stream");
    s.arn = kinagg_str_c("");
    e[0].data = (const unsigned char *)"one"; e[0].data_len = 3;
    e[0].partition_key = kinagg_str_c("a"); e[0].explicit_hash_key = kinagg_str_c("");
    e[1].data = (const unsigned char *)"two"; e[1].data_len = 3;
    e[1].partition_key = kinagg_str_c("b"); e[1].explicit_hash_key = kinagg_str_c("12345");
    {
        static const char put_json[] = "{\"FailedRecordCount\":0,\"Records\":[{\"SequenceNumber\":\"1\",\"ShardId\":"
                                       "\"shardId-0\"},{\"SequenceNumber\":\"2\",\"ShardId\":\"shardId-1\"}]}";
        static const char shards_json[] = "{\"Shards\":[{\"ShardId\":\"shardId-0\",\"HashKeyRange\":{\"StartingHashKey\":"
                                          "\"0\",\"EndingHashKey\":\"340282366920938463463374607431768211455\"}}]}";
        static const char get_json[] = "{\"Records\":[{\"SequenceNumber\":\"1\",\"Data\":\"aGk=\",\"PartitionKey\":\"k\"}],"
                                       "\"NextShardIterator\":\"next\"}";
        /* {"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"0"},{...}]} in CBOR */
        static const char put_cbor[] = "\xa2\x71" "FailedRecordCount" "\x00\x67" "Records" "\x82"
                                       "\xa2\x6e" "SequenceNumber" "\x61" "1" "\x67" "ShardId" "\x61" "0"
                                       "\xa2\x6e" "SequenceNumber" "\x61" "2" "\x67" "ShardId" "\x61" "1";
        answer = respond(put_json, sizeof put_json - 1);
        ok += kinagg_put_records(&k, s, e, 2, res, &failed) == KINAGG_OK && failed == 0;
        answer = respond(shards_json, sizeof shards_json - 1);
        ok += kinagg_list_shards(&k, s, shards, 4, &n, 0) == KINAGG_OK && n == 1;
        answer = respond(get_json, sizeof get_json - 1);
        ok += kinagg_get_records(&k, "it", recs, 4, &n, iter, sizeof iter, NULL) == KINAGG_OK && n == 1 &&
              recs[0].data_len == 2;
        k.protocol = KINAGG_PROTOCOL_CBOR;
        answer = respond(put_cbor, sizeof put_cbor - 1);
        ok += kinagg_put_records(&k, s, e, 2, res, &failed) == KINAGG_OK;
    }
    return ok;
}

/* ---- a whole producer run: put, poll, aggregate, complete, flush ------ */

static unsigned long producer_done;
static void on_done(void *ctx, const kinagg_completion *c) {
    (void)ctx;
    if (c->status == KINAGG_OK) producer_done++;
}

static unsigned long exercise_producer(void) {
    static kinagg_producer prod;
    static unsigned char region[1 << 20];
    static const char one_ok[] = "{\"FailedRecordCount\":0,\"Records\":[{\"SequenceNumber\":\"7\",\"ShardId\":\"shardId-0\"}]}";
    kinagg_producer_config cfg;
    kinagg_transport t;
    kinagg_platform pf;
    kinagg_endpoint ep;
    kinagg_credentials c;
    unsigned i;
    fake_setup(&t, &pf, &ep, &c, "");
    kinagg_producer_config_defaults(&cfg);
    cfg.stream.name = kinagg_str_c("stream");
    cfg.stream.arn = kinagg_str_c("");
    cfg.no_shard_map = 1;           /* the scripted peer answers PutRecords only */
    cfg.collection_max_count = 1;   /* so every answer names one entry */
    cfg.aggregation_max_size = 4096;
    cfg.max_record_size = 65536;    /* the ring must hold one record this large */
    cfg.on_complete = on_done;
    answer = respond(one_ok, sizeof one_ok - 1);
    if (kinagg_producer_init(&prod, region, sizeof region, &cfg, &ep, kinagg_str_c("us-east-1"), &c,
                             KINAGG_PROTOCOL_JSON, &t, &pf) != KINAGG_OK)
        return 0;
    for (i = 0; i < 2000; i++) {
        char data[40];
        uint64_t next;
        int n = snprintf(data, sizeof data, "event %u", i);
        while (kinagg_producer_put(&prod, "player-1", 8, NULL, 0, data, (size_t)n, NULL) == KINAGG_ERR_FULL)
            kinagg_producer_poll(&prod, &next);
        if (i % 100 == 0) kinagg_producer_poll(&prod, &next);
    }
    kinagg_producer_flush(&prod, 60000);
    return producer_done;
}

int main(void) {
    void *volatile p; /* volatile: the compiler may not drop the pair */
    size_t n;
    heap_calls = 0;
    p = malloc(16); /* the wrapper must see this, or the test proves nothing */
    free(p);
    CHECK(heap_calls == 2, "the wrapper counted %lu calls of 2", (unsigned long)heap_calls);
    heap_calls = 0;
    n = exercise();
    CHECK(heap_calls == 0, "kinagg.h made %lu heap calls", (unsigned long)heap_calls);
    CHECK(n > 1000, "only %lu records went through", (unsigned long)n);
    heap_calls = 0;
    n = exercise_network();
    CHECK(heap_calls == 0, "the HTTP and Kinesis layers made %lu heap calls", (unsigned long)heap_calls);
    CHECK(n == 4, "only %lu of 4 Kinesis calls succeeded", (unsigned long)n);
    heap_calls = 0;
    n = exercise_producer();
    CHECK(heap_calls == 0, "the producer made %lu heap calls", (unsigned long)heap_calls);
    CHECK(n == 2000, "the producer delivered %lu of 2000 records", (unsigned long)n);
    return check_summary("noheap");
}
