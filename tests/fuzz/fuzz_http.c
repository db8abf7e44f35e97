/* libFuzzer target for the HTTP response parser and client: the input is
 * what the server sends, delivered in pieces whose sizes the first bytes
 * choose. Checks: no crash or out-of-bounds access (ASan), a result in
 * bounded time, and a body inside the receive buffer when it succeeds. */
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#include <stdlib.h>
#include <string.h>

typedef struct peer {
    const unsigned char *p;
    size_t len, pos;
    unsigned char steps[4];
    unsigned step;
} peer;

static kinagg_io p_connect(void *c, const char *h, uint16_t port) { (void)c; (void)h; (void)port; return KINAGG_IO_OK; }
static kinagg_io p_send(void *c, const unsigned char *d, size_t n, size_t *sent) { (void)c; (void)d; *sent = n; return KINAGG_IO_OK; }
static kinagg_io p_recv(void *c, unsigned char *buf, size_t cap, size_t *got) {
    peer *p = (peer *)c;
    size_t n = (size_t)p->steps[p->step++ & 3] + 1;
    if (p->pos >= p->len) return KINAGG_IO_CLOSED;
    if (n > p->len - p->pos) n = p->len - p->pos;
    if (n > cap) n = cap;
    memcpy(buf, p->p + p->pos, n);
    p->pos += n;
    *got = n;
    return KINAGG_IO_OK;
}
static void p_close(void *c) { (void)c; }

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    static unsigned char sbuf[512], rbuf[2048];
    kinagg_http_client c;
    kinagg_transport t;
    peer p;
    kinagg_status st;
    uint64_t now = 0;
    int spins = 0;
    if (size < 4) return 0;
    memset(&p, 0, sizeof p);
    memcpy(p.steps, data, 4);
    p.p = data + 4;
    p.len = size - 4;
    memset(&t, 0, sizeof t);
    t.ctx = &p;
    t.connect = p_connect;
    t.send = p_send;
    t.recv = p_recv;
    t.close = p_close;
    kinagg_http_init(&c, &t, sbuf, sizeof sbuf, rbuf, sizeof rbuf);
    st = kinagg_http_begin(&c, "h", 80, kinagg_str_c("GET"), kinagg_str_c("/"), NULL, 0, NULL, 0, now);
    if (st != KINAGG_OK) abort();
    do {
        unsigned ev;
        uint64_t wake;
        st = kinagg_http_poll(&c, now, &ev, &wake);
        now = wake;
        if (++spins > 100000) abort(); /* must finish: every recv gives bytes or CLOSED */
    } while (st == KINAGG_PENDING);
    if (st == KINAGG_OK) {
        if (c.response.body < rbuf || c.response.body + c.response.body_len > rbuf + sizeof rbuf) abort();
        if (c.response.status < 200 || c.response.status > 999) abort();
    }
    return 0;
}
