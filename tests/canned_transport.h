/* A transport for tests that answers every request with one canned HTTP
 * response: the bytes the test puts in answer[0, answer_len). Each request
 * (or connection) starts the answer again; once it is read, the peer
 * closes. The clock stands still. Include after kinagg.h; define
 * CANNED_ON_SEND(bytes, n) first to see what is sent. */
#ifndef KINAGG_TESTS_CANNED_TRANSPORT_H
#define KINAGG_TESTS_CANNED_TRANSPORT_H
#include <string.h>

static unsigned char answer[1 << 17];
static size_t answer_len, answer_pos;
static kinagg_io t_connect(void *c, const char *h, uint16_t p) { (void)c; (void)h; (void)p; answer_pos = 0; return KINAGG_IO_OK; }
static kinagg_io t_send(void *c, const unsigned char *d, size_t n, size_t *sent) {
    (void)c;
    (void)d;
#ifdef CANNED_ON_SEND
    CANNED_ON_SEND(d, n);
#endif
    *sent = n;
    answer_pos = 0; /* a request: the answer starts again */
    return KINAGG_IO_OK;
}
static kinagg_io t_recv(void *c, unsigned char *buf, size_t cap, size_t *got) {
    size_t n = answer_pos < answer_len ? answer_len - answer_pos : 0; /* (the test may have set a shorter answer since) */
    (void)c;
    if (n == 0) return KINAGG_IO_CLOSED;
    if (n > cap) n = cap;
    memcpy(buf, answer + answer_pos, n);
    answer_pos += n;
    *got = n;
    return KINAGG_IO_OK;
}
static void t_close(void *c) { (void)c; }
static uint64_t t_ms(void *c) { (void)c; return 1700000000000ull; }

/* k as a Kinesis client over this transport, for endpoint, with test keys;
 * what kinagg_kinesis_init returned. */
static kinagg_status canned_client(kinagg_kinesis *k, const char *endpoint, int cbor, unsigned char *sbuf, size_t sbuf_size,
                                   unsigned char *rbuf, size_t rbuf_size) {
    static kinagg_transport t;
    static kinagg_platform pf;
    static kinagg_endpoint ep;
    static kinagg_credentials cr;
    t.connect = t_connect; t.send = t_send; t.recv = t_recv; t.close = t_close;
    pf.now_ms = t_ms; pf.unix_ms = t_ms;
    kinagg_endpoint_from_url(&ep, kinagg_str_c(endpoint));
    cr.access_key_id = kinagg_str_c("AKID");
    cr.secret_access_key = kinagg_str_c("secret");
    cr.session_token = kinagg_str_c("");
    return kinagg_kinesis_init(k, &ep, kinagg_str_c("us-east-1"), &cr, cbor ? KINAGG_PROTOCOL_CBOR : KINAGG_PROTOCOL_JSON,
                               &t, &pf, sbuf, sbuf_size, rbuf, rbuf_size);
}
#endif
