/* libFuzzer target for the Kinesis response parsers: every call is answered
 * "200 OK" with the fuzz input as its body, in JSON (default) or CBOR
 * (built with -DFUZZ_CBOR). Runs PutRecords, ListShards, GetRecords,
 * GetShardIterator, DescribeStreamSummary and CreateStream on it, and an
 * error response.
 * Checks: no crash or out-of-bounds access, and results that point inside
 * the receive buffer. */
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef FUZZ_CBOR
#define PROTOCOL KINAGG_PROTOCOL_CBOR
#else
#define PROTOCOL KINAGG_PROTOCOL_JSON
#endif

static const unsigned char *body;
static size_t body_len, pos;
static unsigned char head[128];
static size_t head_len;
static int status = 200;
static unsigned char sbuf[4096], rbuf[65536];

static kinagg_io f_connect(void *c, const char *h, uint16_t p) { (void)c; (void)h; (void)p; pos = 0; return KINAGG_IO_OK; }
static kinagg_io f_send(void *c, const unsigned char *d, size_t n, size_t *sent) { (void)c; (void)d; *sent = n; return KINAGG_IO_OK; }
static kinagg_io f_recv(void *c, unsigned char *buf, size_t cap, size_t *got) {
    size_t total = head_len + body_len, n;
    (void)c;
    if (pos >= total) return KINAGG_IO_CLOSED;
    n = total - pos < cap ? total - pos : cap;
    if (pos < head_len) {
        if (n > head_len - pos) n = head_len - pos;
        memcpy(buf, head + pos, n);
    } else {
        memcpy(buf, body + (pos - head_len), n);
    }
    pos += n;
    *got = n;
    return KINAGG_IO_OK;
}
static void f_close(void *c) { (void)c; }
static uint64_t f_now(void *c) { (void)c; return 1; }
static uint64_t f_unix(void *c) { (void)c; return 1700000000000ull; }

static void in_buf(const void *p, size_t n) {
    const unsigned char *c = (const unsigned char *)p;
    if (n && (c < rbuf || c + n > rbuf + sizeof rbuf)) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    static kinagg_kinesis k;
    static kinagg_shard shards[8];
    static kinagg_record recs[16];
    kinagg_transport t;
    kinagg_platform pf;
    kinagg_endpoint ep;
    kinagg_credentials cr;
    kinagg_stream_ref s;
    kinagg_put_entry e[3];
    kinagg_put_result res[3];
    char token[256], iter[256], st_text[32];
    size_t n, failed, i;
    unsigned open;
    uint64_t behind;
    if (size > sizeof rbuf - 200) return 0;
    body = data;
    body_len = size;
    memset(&t, 0, sizeof t);
    t.connect = f_connect; t.send = f_send; t.recv = f_recv; t.close = f_close;
    pf.ctx = NULL; pf.now_ms = f_now; pf.unix_ms = f_unix; pf.random = NULL; pf.sleep_ms = NULL;
    kinagg_endpoint_from_url(&ep, kinagg_str_c("http://localhost:4567"));
    cr.access_key_id = kinagg_str_c("AKID");
    cr.secret_access_key = kinagg_str_c("secret");
    cr.session_token = kinagg_str_c("");
    kinagg_kinesis_init(&k, &ep, kinagg_str_c("us-east-1"), &cr, PROTOCOL, &t, &pf, sbuf, sizeof sbuf, rbuf,
                        sizeof rbuf);
    s.name = kinagg_str_c("s");
    s.arn = kinagg_str_c("");
    for (i = 0; i < 3; i++) {
        e[i].data = (const unsigned char *)"xyz";
        e[i].data_len = 3;
        e[i].partition_key = kinagg_str_c("pk");
        e[i].explicit_hash_key = kinagg_str_c("");
    }
    for (status = 200; status <= 400; status += 200) {
        head_len = (size_t)snprintf((char *)head, sizeof head,
                                    "HTTP/1.1 %d X\r\nDate: Tue, 14 Nov 2023 22:13:20 GMT\r\nContent-Length: %u\r\n\r\n",
                                    status, (unsigned)size);
        if (kinagg_put_records(&k, s, e, 3, res, &failed) == KINAGG_OK)
            for (i = 0; i < 3; i++) {
                in_buf(res[i].shard_id.ptr, res[i].shard_id.len);
                in_buf(res[i].sequence_number.ptr, res[i].sequence_number.len);
                in_buf(res[i].error_code.ptr, res[i].error_code.len);
                in_buf(res[i].error_message.ptr, res[i].error_message.len);
            }
        token[0] = '\0';
        (void)kinagg_list_shards_page(&k, s, token, sizeof token, shards, 8, &n, 0);
        if (kinagg_get_records(&k, "it", recs, 16, &n, iter, sizeof iter, &behind) == KINAGG_OK)
            for (i = 0; i < n; i++) {
                in_buf(recs[i].data, recs[i].data_len);
                in_buf(recs[i].partition_key.ptr, recs[i].partition_key.len);
            }
        (void)kinagg_get_shard_iterator(&k, s, kinagg_str_c("shardId-0"), kinagg_str_c("LATEST"), kinagg_str_c(""),
                                        iter, sizeof iter);
        (void)kinagg_describe_stream_summary(&k, s, st_text, sizeof st_text, &open);
        (void)kinagg_create_stream(&k, kinagg_str_c("s"), 1);
        if (k.error_type[sizeof k.error_type - 1] || k.error_message[sizeof k.error_message - 1]) abort();
    }
    return 0;
}
