/* Tests of kinagg's HTTP/1.1 client.
 *
 * Part 1 drives the client through a scripted transport (the public
 * transport interface, answering with fixed bytes): responses split at every
 * byte boundary, chunked bodies, keep-alive and stale connections, a peer
 * closing mid-body, oversize and malformed heads, stalls past the timeout,
 * and a 5 MiB body streamed through a 1 KiB send buffer.
 * Part 2, given the port of tests/net/raw_server.js, does the same kinds of
 * faults over real sockets.
 *   http_test [RAW_SERVER_PORT] */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../kinagg.h"
#define KINAGG_POSIX_IMPLEMENTATION
#include "../port/kinagg_posix.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>
#include <time.h>

/* ---- the scripted peer ----------------------------------------------- */

typedef struct script {
    const char *responses[4]; /* one per connection */
    size_t conn;              /* connections opened */
    size_t pos, split;        /* bytes given of the current response; first piece size */
    int close_after;          /* CLOSED once the response is given (else AGAIN) */
    int stale_second;         /* the 2nd request's first recv on a reused connection: CLOSED; 1: before
                               * it is sent (closed as idle), 3: once it is sent (closed unanswered);
                               * 5: before it is sent, bytes unasked for (a 408 sent as it closed);
                               * 7: once it is sent, an interim answer and then CLOSED */
    int stall;                /* give nothing, ever */
    unsigned long long reset_at; /* sending fails (a reset) once this many bytes are out; 0: never */
    int connect_stall;        /* connect answers AGAIN until the connection is closed */
    size_t closes;
    size_t recv_calls;
    unsigned long long sent, sent_at_answer; /* bytes sent on this connection; when an answer was given whole */
    kinagg_sha256_ctx sent_hash;
} script;

static kinagg_io s_connect(void *ctx, const char *host, uint16_t port) {
    script *s = (script *)ctx;
    (void)host; (void)port;
    if (s->connect_stall) return KINAGG_IO_AGAIN;
    s->conn++;
    s->pos = 0;
    kinagg_sha256_init(&s->sent_hash); /* what each connection carried */
    s->sent = s->sent_at_answer = 0;
    return KINAGG_IO_OK;
}
static kinagg_io s_send(void *ctx, const unsigned char *d, size_t n, size_t *sent) {
    script *s = (script *)ctx;
    size_t take = n > 700 ? 700 : n; /* short writes, as sockets do */
    if (s->reset_at && s->sent >= s->reset_at) return KINAGG_IO_ERROR;
    kinagg_sha256_update(&s->sent_hash, d, take);
    s->sent += take;
    *sent = take;
    return KINAGG_IO_OK;
}
static kinagg_io s_recv(void *ctx, unsigned char *buf, size_t cap, size_t *got) {
    script *s = (script *)ctx;
    const char *r = s->responses[s->conn ? s->conn - 1 : 0];
    size_t len = r ? strlen(r) : 0, n;
    s->recv_calls++;
    if (s->stall) return KINAGG_IO_AGAIN;
    if (s->stale_second == 1 && s->pos == len) { s->stale_second = 2; return KINAGG_IO_CLOSED; }
    if (s->stale_second == 8) return KINAGG_IO_CLOSED;
    if (s->stale_second == 7 && s->sent_at_answer && s->sent > s->sent_at_answer) {
        static const char interim[] = "HTTP/1.1 100 Continue\r\n\r\n";
        n = cap < sizeof interim - 1 ? cap : sizeof interim - 1;
        memcpy(buf, interim, n);
        s->stale_second = 8;
        *got = n;
        return KINAGG_IO_OK;
    }
    if (s->stale_second == 5 && s->pos == len) {
        static const char timeout[] = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n";
        n = cap < sizeof timeout - 1 ? cap : sizeof timeout - 1;
        memcpy(buf, timeout, n);
        s->stale_second = 2;
        *got = n;
        return KINAGG_IO_OK;
    }
    if (s->stale_second == 3 && s->sent_at_answer && s->sent > s->sent_at_answer) {
        s->stale_second = 2;
        return KINAGG_IO_CLOSED;
    }
    if (s->pos >= len) {
        if (s->close_after) return KINAGG_IO_CLOSED;
        s->pos = 0; /* the next request on this connection gets the same answer */
        return KINAGG_IO_AGAIN;
    }
    n = len - s->pos;
    if (s->pos < s->split && s->split - s->pos < n) n = s->split - s->pos;
    if (n > cap) n = cap;
    memcpy(buf, r + s->pos, n);
    s->pos += n;
    if (s->pos == len) s->sent_at_answer = s->sent;
    *got = n;
    return KINAGG_IO_OK;
}
/* (a port abandons a connect under way when closed: the next one is new) */
static void s_close(void *ctx) {
    script *s = (script *)ctx;
    s->closes++;
    s->connect_stall = 0;
}

static const char *s_stale_error(void *ctx) { (void)ctx; return "connect: Connection refused (an old failure)"; }

static unsigned char send_buf[1024], recv_buf[4096];

static void make_client(kinagg_http_client *c, script *s) {
    kinagg_transport t;
    memset(&t, 0, sizeof t);
    t.ctx = s;
    t.connect = s_connect;
    t.send = s_send;
    t.recv = s_recv;
    t.close = s_close;
    kinagg_sha256_init(&s->sent_hash);
    kinagg_http_init(c, &t, send_buf, sizeof send_buf, recv_buf, sizeof recv_buf);
}

/* Runs one GET to completion with a fake clock; returns its status. */
/* Polls a begun request to its end; time jumps to each deadline. */
static kinagg_status run_begun(kinagg_http_client *c) {
    uint64_t now = 1000;
    int spins = 0;
    for (;;) {
        unsigned ev;
        uint64_t wake;
        kinagg_status st = kinagg_http_poll(c, now, &ev, &wake);
        if (st != KINAGG_PENDING) return st;
        if (++spins > 100000) return KINAGG_ERR_STATE;
        now = wake; /* nothing else happens: time jumps to the deadline */
    }
}

static kinagg_status begin_get(kinagg_http_client *c) {
    return kinagg_http_begin(c, "example.com", 80, kinagg_str_c("GET"), kinagg_str_c("/"), NULL, 0, NULL, 0, 1000);
}

static kinagg_status exchange(kinagg_http_client *c, const kinagg_body *body, size_t body_len) {
    kinagg_status st = kinagg_http_begin(c, "example.com", 80, kinagg_str_c(body ? "POST" : "GET"),
                                         kinagg_str_c("/"), NULL, 0, body, body_len, 1000);
    return st != KINAGG_OK ? st : run_begun(c);
}

static int body_is(const kinagg_http_client *c, const char *want) {
    return c->response.body_len == strlen(want) && memcmp(c->response.body, want, c->response.body_len) == 0;
}

static void every_split(const char *resp, const char *want_body, int want_status, const char *what) {
    size_t split, bad = 0;
    for (split = 1; split <= strlen(resp); split++) {
        kinagg_http_client c;
        script s;
        kinagg_status st;
        memset(&s, 0, sizeof s);
        s.responses[0] = resp;
        s.split = split;
        make_client(&c, &s);
        st = exchange(&c, NULL, 0);
        if (st != KINAGG_OK || c.response.status != want_status || !body_is(&c, want_body)) {
            if (!bad) fprintf(stderr, "%s: split at %u: %s\n", what, (unsigned)split, kinagg_strerror(st));
            bad++;
        }
    }
    CHECK(bad == 0, "%s: %u of %u splits wrong", what, (unsigned)bad, (unsigned)strlen(resp));
}

static kinagg_status one(const char *resp, int close_after, kinagg_http_client *c) {
    script *s = (script *)malloc(sizeof(script));
    kinagg_status st;
    memset(s, 0, sizeof *s);
    s->responses[0] = resp;
    s->split = (size_t)-1;
    s->close_after = close_after;
    make_client(c, s);
    st = exchange(c, NULL, 0);
    free(s);
    return st;
}

static void expect(const char *resp, int close_after, kinagg_status want, const char *what) {
    kinagg_http_client c;
    kinagg_status st = one(resp, close_after, &c);
    CHECK(st == want, "%s: got %s, want %s", what, kinagg_strerror(st), kinagg_strerror(want));
}

/* A long body made on the fly: byte i is (i * 7 + i / 1000) & 255. */
typedef struct gen { size_t pos, len; } gen;
static void gen_rewind(void *ctx) { ((gen *)ctx)->pos = 0; }
static size_t gen_read(void *ctx, unsigned char *out, size_t cap) {
    gen *g = (gen *)ctx;
    size_t n = g->len - g->pos < cap ? g->len - g->pos : cap, i;
    for (i = 0; i < n; i++) out[i] = (unsigned char)((g->pos + i) * 7 + (g->pos + i) / 1000);
    g->pos += n;
    return n;
}

/* A body of len generated bytes. */
static kinagg_body gen_body(gen *g, size_t len) {
    kinagg_body b;
    g->pos = 0;
    g->len = len;
    b.ctx = g;
    b.rewind = gen_rewind;
    b.read = gen_read;
    return b;
}

/* The SHA-256 of the POST the client must send for g's body. */
static void expected_post(gen *g, unsigned char want[32]) {
    char head[128];
    unsigned char piece[4096];
    size_t n;
    kinagg_sha256_ctx h;
    int hl = snprintf(head, sizeof head, "POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: %lu\r\n\r\n",
                      (unsigned long)g->len);
    kinagg_sha256_init(&h);
    kinagg_sha256_update(&h, head, (size_t)hl);
    gen_rewind(g);
    while ((n = gen_read(g, piece, sizeof piece)) > 0) kinagg_sha256_update(&h, piece, n);
    kinagg_sha256_final(&h, want);
}

static void test_scripted(void) {
    static char big_head[8192];
    size_t i;
    kinagg_http_client c;
    script s;
    kinagg_status st;

    every_split("HTTP/1.1 200 OK\r\nContent-Type: x\r\nContent-Length: 11\r\n\r\nhello world", "hello world", 200,
                "content-length");
    every_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n \r\n"
                "0005\r\nworld\r\n0\r\nTrailer: x\r\n\r\n",
                "hello world", 200, "chunked with extension and trailer");
    every_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
                "0123456789", 200, "chunked as last coding");
    /* 1*DIGIT and 1*HEXDIG (RFC 9110 8.6, RFC 9112 7.1): leading zeros, however many */
    every_split("HTTP/1.1 200 OK\r\nContent-Length: 00000000000000000000000005\r\n\r\nhello", "hello", 200,
                "Content-Length with leading zeros");
    every_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000000000000005\r\nhello\r\n"
                "000000000000000000000\r\n\r\n",
                "hello", 200, "chunk sizes with leading zeros");
    every_split("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", "ok", 201,
                "100 Continue first");
    every_split("HTTP/1.1 204 No Content\r\n\r\n", "", 204, "204 without body");
    every_split("HTTP/1.1 200 OK\nContent-Length: 3\n\nabc", "abc", 200, "bare LF line ends");

    /* read to close: HTTP/1.0 without length */
    memset(&s, 0, sizeof s);
    s.responses[0] = "HTTP/1.0 200 OK\r\n\r\nuntil the end";
    s.split = 7;
    s.close_after = 1;
    make_client(&c, &s);
    st = exchange(&c, NULL, 0);
    CHECK(st == KINAGG_OK && body_is(&c, "until the end") && !c.response.keep_alive, "read to close: %s",
          kinagg_strerror(st));

    /* keep-alive: a second request reuses the connection */
    memset(&s, 0, sizeof s);
    s.responses[0] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    s.split = (size_t)-1;
    make_client(&c, &s);
    st = exchange(&c, NULL, 0);
    CHECK(st == KINAGG_OK && c.response.keep_alive, "first on keep-alive: %s", kinagg_strerror(st));
    st = exchange(&c, NULL, 0);
    CHECK(st == KINAGG_OK && body_is(&c, "hi") && s.conn == 1 && c.connections == 1, "reused: %s, %u connections",
          kinagg_strerror(st), (unsigned)s.conn);
    /* Connection: close ends it: the next request connects again */
    memset(&s, 0, sizeof s);
    s.responses[0] = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi";
    s.responses[1] = s.responses[0];
    s.split = (size_t)-1;
    make_client(&c, &s);
    exchange(&c, NULL, 0);
    st = exchange(&c, NULL, 0);
    CHECK(st == KINAGG_OK && s.conn == 2, "Connection: close: %s, %u connections", kinagg_strerror(st), (unsigned)s.conn);
    /* a kept-alive connection the server closed: found before the second
     * request is sent, when it was closed as idle (1) or the server sent an
     * answer unasked for as it closed (5: a 408), and sent again, said so,
     * when it closes once the request is out (3: a race with the idle
     * close, or the server applied it and closed). The check before
     * sending leaves the last answer where the caller reads it (a paging
     * token for the next request is read from there) */
    {
        static const int modes[] = {1, 3, 5};
        static const char *const how[] = {"as idle", "once the request was out", "with a 408 as idle"};
        int m;
        for (m = 0; m < 3; m++) {
            memset(&s, 0, sizeof s);
            s.responses[0] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
            s.responses[1] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye";
            s.split = (size_t)-1;
            make_client(&c, &s);
            exchange(&c, NULL, 0);
            CHECK(!c.resent, "a first request: resent %d", c.resent);
            s.stale_second = modes[m];
            if (modes[m] != 3) {
                size_t closes = s.closes;
                const unsigned char *last = c.response.body; /* in the receive buffer */
                st = begin_get(&c);
                CHECK(st == KINAGG_OK && memcmp(last, "hi", 2) == 0 && s.closes == closes + 1,
                      "closed %s: begun (%s), %u closes, the last answer kept", how[m], kinagg_strerror(st),
                      (unsigned)(s.closes - closes));
                if (st == KINAGG_OK) st = run_begun(&c);
            } else {
                st = exchange(&c, NULL, 0);
            }
            CHECK(st == KINAGG_OK && body_is(&c, "bye") && s.conn == 2 && c.resent == (modes[m] == 3),
                  "a kept-alive connection closed %s: %s, %u connections, resent %d", how[m], kinagg_strerror(st),
                  (unsigned)s.conn, c.resent);
        }
    }

    /* ... but not once an answer began: an interim one (100 Continue, 102
     * Processing) says the request arrived, and may be applied */
    memset(&s, 0, sizeof s);
    s.responses[0] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    s.split = (size_t)-1;
    make_client(&c, &s);
    exchange(&c, NULL, 0);
    s.stale_second = 7;
    st = exchange(&c, NULL, 0);
    CHECK(st == KINAGG_ERR_CLOSED && s.conn == 1 && !c.resent,
          "closed after an interim answer: %s, %u connections, resent %d (not sent again)", kinagg_strerror(st),
          (unsigned)s.conn, c.resent);

    /* an answer the server sent before it took the whole body, then reset
     * the connection (a 413 for a body over its limit): read, not lost to
     * the failure of sending; a reset with no answer is still a failure */
    {
        gen g;
        kinagg_body b = gen_body(&g, 100000);
        int answered;
        for (answered = 1; answered >= 0; answered--) {
            memset(&s, 0, sizeof s);
            /* (no Connection: close: the connection ends all the same, its
             * request sent in part) */
            s.responses[0] = answered ? "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 8\r\n\r\ntoo big!"
                                      : "";
            s.split = (size_t)-1;
            s.reset_at = 5000;
            make_client(&c, &s);
            st = exchange(&c, &b, g.len);
            if (answered)
                CHECK(st == KINAGG_OK && c.response.status == 413 && body_is(&c, "too big!") && s.sent < 10000 &&
                          !c.response.keep_alive && !c.connected,
                      "413 before the body was taken: %s, status %d, %llu bytes sent, keep_alive %d, connected %d",
                      kinagg_strerror(st), c.response.status, s.sent, c.response.keep_alive, c.connected);
            else
                CHECK(st == KINAGG_ERR_IO, "a reset while sending, no answer: %s", kinagg_strerror(st));
        }
    }

    /* ... also with a body: the second connection carries the request whole */
    {
        gen g;
        kinagg_body b = gen_body(&g, 3000); /* larger than the 1 KiB send buffer */
        unsigned char want[32], got[32];
        memset(&s, 0, sizeof s);
        s.responses[0] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
        s.responses[1] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye";
        s.split = (size_t)-1;
        make_client(&c, &s);
        exchange(&c, &b, g.len);
        s.stale_second = 3; /* closed once it was out */
        st = exchange(&c, &b, g.len);
        kinagg_sha256_final(&s.sent_hash, got);
        expected_post(&g, want);
        CHECK(st == KINAGG_OK && body_is(&c, "bye") && s.conn == 2 && c.resent && memcmp(want, got, 32) == 0,
              "request with a body sent again whole: %s, %u connections, resent %d", kinagg_strerror(st),
              (unsigned)s.conn, c.resent);
    }

    /* the peer closes mid-body, mid-head, mid-chunk */
    expect("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part", 1, KINAGG_ERR_CLOSED, "closed mid-body");
    expect("HTTP/1.1 200 OK\r\nContent-Le", 1, KINAGG_ERR_CLOSED, "closed mid-head");
    expect("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", 1, KINAGG_ERR_CLOSED, "closed mid-chunk");
    expect("", 1, KINAGG_ERR_CLOSED, "closed before any byte");

    /* obsolete line folding (RFC 9112 5.2: a recipient reads it as a space):
     * the value stretches over the fold, and the fields kinagg reads are
     * read through it */
    {
        static const char head[] = "HTTP/1.1 200 OK\r\nX-Long: a\r\n  b\r\n\tc \r\nX-Next: d\r\n\r\n";
        kinagg_http_response r;
        const kinagg_str *v, *w;
        size_t n = kinagg_http_parse_head((const unsigned char *)head, sizeof head - 1, &r);
        v = n == sizeof head - 1 ? kinagg_http_header_get(&r, "x-long") : NULL;
        w = v ? kinagg_http_header_get(&r, "x-next") : NULL;
        CHECK(v && w && v->len == 10 && memcmp(v->ptr, "a\r\n  b\r\n\tc", 10) == 0 && w->len == 1 && w->ptr[0] == 'd' &&
                  r.header_count == 2,
              "a folded value: head %ld, %u fields, value \"%.*s\"", (long)n, (unsigned)r.header_count,
              v ? (int)v->len : 0, v ? v->ptr : "");
    }
    every_split("HTTP/1.1 200 OK\r\nX-Folded: one,\r\n two\r\nContent-Length: 2\r\n\r\nok", "ok", 200, "a folded field");
    every_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "ok", 200,
                "Transfer-Encoding folded before chunked");
    every_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n\tchunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "ok", 200,
                "Transfer-Encoding folded with a tab before chunked");
    {
        /* a response's folded values read as one line (the error type is
         * compared and printed); a value that starts on the next line */
        kinagg_http_client c;
        const kinagg_str *v, *w;
        st = one("HTTP/1.1 400 Bad Request\r\nX-Amzn-ErrorType:\r\n AccessDeniedException\r\n"
                 "X-Note: one\r\n\ttwo\r\nContent-Length: 2\r\n\r\nok", 0, &c);
        v = kinagg_http_header_get(&c.response, "x-amzn-errortype");
        w = kinagg_http_header_get(&c.response, "x-note");
        CHECK(st == KINAGG_OK && v && v->len == 21 && !memcmp(v->ptr, "AccessDeniedException", 21) && w && w->len == 9 &&
                  !memcmp(w->ptr, "one   two", 9),
              "folded values in a response: %s, \"%.*s\", \"%.*s\"", kinagg_strerror(st), v ? (int)v->len : 0,
              v ? v->ptr : "", w ? (int)w->len : 0, w ? w->ptr : "");
    }
    {
        kinagg_http_client c;
        st = one("HTTP/1.1 200 OK\r\nConnection: keep-alive,\r\n close\r\nContent-Length: 2\r\n\r\nok", 0, &c);
        CHECK(st == KINAGG_OK && !c.response.keep_alive && body_is(&c, "ok"),
              "Connection: close after a fold: %s, keep_alive %d", kinagg_strerror(st), c.response.keep_alive);
    }

    /* faulty framing (RFC 9112 6.1): Transfer-Encoding with Content-Length,
     * or in HTTP/1.0: read as chunked, and the connection closed after */
    {
        static const char *const faulty[] = {
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"};
        int f;
        for (f = 0; f < 2; f++) {
            kinagg_http_client c;
            st = one(faulty[f], 0, &c);
            CHECK(st == KINAGG_OK && body_is(&c, "ok") && !c.response.keep_alive && !c.connected,
                  "faulty framing (%s): %s, keep_alive %d", f ? "HTTP/1.0 chunked" : "both lengths", kinagg_strerror(st),
                  c.response.keep_alive);
        }
    }

    /* a field on several lines is one list (RFC 9110 5.3) */
    every_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                "ok", 200, "Transfer-Encoding on two lines, chunked last");
    {
        kinagg_http_client c;
        st = one("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 0,
                 &c);
        CHECK(st == KINAGG_OK && !c.response.keep_alive, "Connection: close on a second line: %s, keep_alive %d",
              kinagg_strerror(st), c.response.keep_alive);
        st = one("HTTP/1.0 200 OK\r\nConnection: x-other\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok", 0,
                 &c);
        CHECK(st == KINAGG_OK && c.response.keep_alive, "HTTP/1.0, keep-alive on a second line: %s, keep_alive %d",
              kinagg_strerror(st), c.response.keep_alive);
    }

    /* malformed */
    expect("HTTP/2 200 OK\r\n\r\n", 0, KINAGG_ERR_HTTP_PARSE, "HTTP/2 status line");
    expect("HTTP/1.1 2x0 OK\r\n\r\n", 0, KINAGG_ERR_HTTP_PARSE, "bad status code");
    expect("HTTP/1.1 099 Low\r\n\r\n", 0, KINAGG_ERR_HTTP_PARSE, "status below 100");
    expect("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", 0, KINAGG_ERR_HTTP_PARSE, "header without colon");
    expect("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", 0, KINAGG_ERR_HTTP_PARSE, "space in header name");
    expect("HTTP/1.1 200 OK\r\n folded\r\nA: b\r\n\r\n", 0, KINAGG_ERR_HTTP_PARSE, "a fold before any field");
    expect("HTTP/1.1 200 OK\r\nA: b\r\n fol\001ded\r\n\r\n", 0, KINAGG_ERR_HTTP_PARSE, "a control byte in a fold");
    expect("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", 0, KINAGG_ERR_HTTP_PARSE,
           "conflicting lengths");
    expect("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, KINAGG_ERR_HTTP_PARSE, "negative length");
    expect("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", 0, KINAGG_ERR_RESPONSE_TOO_LARGE,
           "huge length");
    expect("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, KINAGG_ERR_HTTP_PARSE, "bad chunk size");
    strcpy(big_head, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFF\r\n");
    for (i = 0; i < 100; i++) strcat(big_head, "0123456789012345678901234567890123456789012345678901234567890123");
    expect(big_head, 0, KINAGG_ERR_RESPONSE_TOO_LARGE, "chunk size past 64 bits, its data over the buffer");
    expect("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX", 0, KINAGG_ERR_HTTP_PARSE,
           "chunk without CRLF");
    expect("HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n", 0, KINAGG_ERR_HTTP_PARSE, "control byte in value");

    /* larger than the receive buffer (4 KiB) */
    expect("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", 0, KINAGG_ERR_RESPONSE_TOO_LARGE, "length over buffer");
    strcpy(big_head, "HTTP/1.1 200 OK\r\n");
    for (i = 0; i < 100; i++) strcat(big_head, "X-Padding: 0123456789012345678901234567890123456789012345678\r\n");
    strcat(big_head, "\r\n");
    expect(big_head, 0, KINAGG_ERR_RESPONSE_TOO_LARGE, "oversize head");
    /* an error page larger than the buffer (a proxy's, a firewall's): its
     * status comes through, with what fits of it, and the connection is
     * closed; by length, in chunks, and to the close */
    {
        static const char *const heads[] = {"HTTP/1.1 403 Forbidden\r\nContent-Length: 6400\r\n\r\n",
                                            "HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n1900\r\n",
                                            "HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n"};
        int h;
        for (h = 0; h < 3; h++) {
            kinagg_http_client c;
            strcpy(big_head, heads[h]);
            for (i = 0; i < 100; i++) strcat(big_head, "<p>Request blocked by the firewall. Reference 0123456789abc</p>\n");
            st = one(big_head, 1, &c);
            CHECK(st == KINAGG_OK && c.response.status == 403 && !c.response.keep_alive && !c.connected &&
                      c.response.body_len > 3000 && memcmp(c.response.body, "<p>Request blocked", 18) == 0,
                  "an error page over the buffer (%s): %s, status %d, %u bytes of it", h == 0 ? "length" : h == 1 ? "chunked" : "to the close",
                  kinagg_strerror(st), c.response.status, (unsigned)c.response.body_len);
        }
    }
    /* more header lines than the table holds (a proxy may add many): the
     * ones kinagg reads are kept, wherever they come */
    strcpy(big_head, "HTTP/1.1 200 OK\r\nX-First: 1\r\nDate: Mon, 07 Dec 2026 18:00:00 GMT\r\n");
    for (i = 0; i < KINAGG_HTTP_MAX_HEADERS + 8; i++) /* (Content-Length's length, a letter of it) */
        sprintf(big_head + strlen(big_head), i % 2 ? "Set-Cookie: y\r\n" : "X-Proxy-Hop-%02u: y\r\n", (unsigned)(i % 100));
    strcat(big_head, "Content-Length: 2\r\nx-amzn-ErrorType: Late\r\nConnection: close\r\nX-Last: 2\r\n\r\nhi");
    {
        kinagg_http_client c;
        kinagg_http_response r;
        const kinagg_str *date, *type, *first;
        size_t head = kinagg_http_parse_head((const unsigned char *)big_head, strlen(big_head), &r);
        st = one(big_head, 0, &c);
        date = kinagg_http_header_get(&c.response, "date");
        type = kinagg_http_header_get(&c.response, "x-amzn-errortype");
        first = kinagg_http_header_get(&c.response, "x-first");
        CHECK(st == KINAGG_OK && body_is(&c, "hi") && !c.response.keep_alive && date && date->len == 29 && type &&
                  type->len == 4 && first && !kinagg_http_header_get(&c.response, "x-last") &&
                  c.response.header_count <= KINAGG_HTTP_MAX_HEADERS,
              "%u header lines: %s, body %s, keep-alive %d, date %d, type %d, first %d, %u kept",
              (unsigned)KINAGG_HTTP_MAX_HEADERS + 14, kinagg_strerror(st), body_is(&c, "hi") ? "right" : "wrong",
              c.response.keep_alive, date != NULL, type != NULL, first != NULL, (unsigned)c.response.header_count);
        CHECK(head == strlen(big_head) - 2 && r.header_count <= KINAGG_HTTP_MAX_HEADERS &&
                  kinagg_http_header_get(&r, "content-length"),
              "kinagg_http_parse_head with %u header lines: %ld, %u kept", (unsigned)KINAGG_HTTP_MAX_HEADERS + 14,
              (long)head, (unsigned)r.header_count);
    }
    /* ... but only as many of those as the table holds */
    strcpy(big_head, "HTTP/1.1 200 OK\r\n");
    for (i = 0; i < KINAGG_HTTP_MAX_HEADERS + 1; i++) strcat(big_head, "Connection: keep-alive\r\n");
    strcat(big_head, "Content-Length: 0\r\n\r\n");
    expect(big_head, 0, KINAGG_ERR_HTTP_PARSE, "more header lines kinagg reads than the table holds");

    /* a stalled peer: the receive time limit ends it */
    memset(&s, 0, sizeof s);
    s.stall = 1;
    make_client(&c, &s);
    c.recv_timeout_ms = 250;
    st = exchange(&c, NULL, 0);
    CHECK(st == KINAGG_ERR_TIMEOUT, "stall: %s", kinagg_strerror(st));
    CHECK(s.recv_calls < 10, "stall polled %u times: it should wait, not spin", (unsigned)s.recv_calls);

    /* a connect that never completes (a TCP or TLS handshake that stalls):
     * the connect time limit ends it, and the transport is closed, so the
     * next request starts a new connection instead of waiting on the same
     * stalled one for ever */
    memset(&s, 0, sizeof s);
    s.responses[0] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    make_client(&c, &s);
    s.connect_stall = 1;
    s.closes = 0; /* (init closes what the transport may hold) */
    c.connect_timeout_ms = 250;
    st = exchange(&c, NULL, 0);
    CHECK(st == KINAGG_ERR_TIMEOUT, "stalled connect: %s", kinagg_strerror(st));
    CHECK(s.closes == 1, "a connect that timed out was closed %u times, not once", (unsigned)s.closes);
    st = exchange(&c, NULL, 0);
    CHECK(st == KINAGG_OK && body_is(&c, "ok"), "the request after a connect that timed out: %s", kinagg_strerror(st));
    CHECK(s.conn == 1, "connections opened after the stalled one: %u, not 1", (unsigned)s.conn);

    /* the transport's error text only for the transport's failures: a port
     * keeps its last text, which named an old failure beside a response
     * too large */
    memset(&s, 0, sizeof s);
    s.responses[0] = big_head;
    strcpy(big_head, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
    make_client(&c, &s);
    c.transport.error = s_stale_error;
    st = exchange(&c, NULL, 0);
    CHECK(st == KINAGG_ERR_RESPONSE_TOO_LARGE && !c.error_detail, "a response too large: %s (%s)", kinagg_strerror(st),
          c.error_detail ? c.error_detail : "no transport text");

    /* a 5 MiB body through a 1 KiB send buffer, in short writes */
    {
        gen g;
        kinagg_body b = gen_body(&g, 5u << 20);
        unsigned char want[32], got[32];
        memset(&s, 0, sizeof s);
        s.responses[0] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        s.split = (size_t)-1;
        make_client(&c, &s);
        st = exchange(&c, &b, g.len);
        CHECK(st == KINAGG_OK && s.sent > g.len, "5 MiB body: %s", kinagg_strerror(st));
        /* what was sent: the head, then exactly the body */
        kinagg_sha256_final(&s.sent_hash, got);
        expected_post(&g, want);
        CHECK(memcmp(want, got, 32) == 0, "the bytes sent are not head + body");
        /* a body that ends early is caught, not sent short */
        g.len = 100;
        st = exchange(&c, &b, 200);
        CHECK(st == KINAGG_ERR_INVALID_ARGUMENT, "short body: %s", kinagg_strerror(st));
    }

    /* bad requests are refused before anything is sent */
    {
        kinagg_http_header h;
        h.name = kinagg_str_c("X-Evil");
        h.value = kinagg_str_c("a\r\nInjected: yes");
        memset(&s, 0, sizeof s);
        make_client(&c, &s);
        st = kinagg_http_begin(&c, "example.com", 80, kinagg_str_c("GET"), kinagg_str_c("/"), &h, 1, NULL, 0, 0);
        CHECK(st == KINAGG_ERR_HEADER, "header injection: %s", kinagg_strerror(st));
        st = kinagg_http_begin(&c, "example.com", 80, kinagg_str_c("GET"), kinagg_str_c("/\r\nX: y"), NULL, 0, NULL,
                               0, 0);
        CHECK(st == KINAGG_ERR_INVALID_ARGUMENT, "target injection: %s", kinagg_strerror(st));
    }
}

/* ---- real sockets against tests/net/raw_server.js ------------------------ */

static kinagg_status real(int port, const char *path, uint32_t recv_timeout, kinagg_http_client *c,
                          kinagg_posix_socket *sock, int keep) {
    kinagg_transport t;
    kinagg_platform pf;
    static unsigned char rb[131072], sb[1024];
    kinagg_status st;
    kinagg_posix_platform(&pf);
    if (!keep) {
        kinagg_posix_socket_init(sock, &t);
        kinagg_http_init(c, &t, sb, sizeof sb, rb, sizeof rb);
    }
    c->recv_timeout_ms = recv_timeout;
    st = kinagg_http_begin(c, "127.0.0.1", (uint16_t)port, kinagg_str_c("GET"), kinagg_str_c(path), NULL, 0, NULL, 0,
                           pf.now_ms(NULL));
    return st == KINAGG_OK ? kinagg_http_run(c, &pf) : st;
}

/* A name with two addresses: first a listener whose backlog is full (it
 * drops the handshake, as a blackholed address does), then the test
 * server. */
static int stall_port, good_port;
static int two_addrs(const char *host, const char *service, const struct addrinfo *hints, struct addrinfo **res) {
    struct addrinfo *a = NULL, *b = NULL;
    char p1[8], p2[8];
    (void)host; (void)service;
    snprintf(p1, sizeof p1, "%d", stall_port);
    snprintf(p2, sizeof p2, "%d", good_port);
    if (getaddrinfo("127.0.0.1", p1, hints, &a) != 0) return EAI_FAIL;
    if (getaddrinfo("127.0.0.1", p2, hints, &b) != 0) { freeaddrinfo(a); return EAI_FAIL; }
    a->ai_next = b; /* (one address each) */
    *res = a;
    return 0;
}

static void test_blackholed_first_address(int port) {
    static unsigned char rb[131072], sb[1024];
    kinagg_http_client c;
    kinagg_posix_socket sock;
    kinagg_transport t;
    kinagg_platform pf;
    kinagg_status st = KINAGG_ERR_STATE;
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int lfd = socket(AF_INET, SOCK_STREAM, 0), filler = socket(AF_INET, SOCK_STREAM, 0), i;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || filler < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 0) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &len) != 0) {
        CHECK(0, "a listener to stall");
        return;
    }
    fcntl(filler, F_SETFL, O_NONBLOCK);
    (void)connect(filler, (struct sockaddr *)&sa, sizeof sa); /* fills the backlog: later handshakes are dropped */
    {
        struct timespec settle = {0, 100000000};
        nanosleep(&settle, NULL);
    }
    stall_port = ntohs(sa.sin_port);
    good_port = port;
    kinagg_posix_platform(&pf);
    kinagg_posix_socket_init(&sock, &t);
    sock.resolve = two_addrs;
    kinagg_http_init(&c, &t, sb, sizeof sb, rb, sizeof rb);
    c.connect_timeout_ms = 300;
    /* the first try waits on the first address until its time is up; the
     * one after goes to the second (it used to wait on the same handshake,
     * then to try the first address again) */
    for (i = 0; i < 2; i++) {
        st = kinagg_http_begin(&c, "two.addresses.invalid", 80, kinagg_str_c("GET"), kinagg_str_c("/chunked"), NULL, 0,
                               NULL, 0, pf.now_ms(NULL));
        if (st == KINAGG_OK) st = kinagg_http_run(&c, &pf);
        if (i == 0) CHECK(st == KINAGG_ERR_TIMEOUT, "the blackholed address: %s", kinagg_strerror(st));
    }
    CHECK(st == KINAGG_OK && c.response.body_len == 100000, "the second address, after the first timed out: %s (%s)",
          kinagg_strerror(st), c.error_detail ? c.error_detail : "");
    kinagg_http_close(&c);
    kinagg_posix_socket_release(&sock);
    close(filler);
    close(lfd);
}

static void test_real(int port) {
    kinagg_http_client c;
    kinagg_posix_socket sock;
    kinagg_platform pf;
    kinagg_status st;
    uint64_t t0;
    kinagg_posix_platform(&pf);
    st = real(port, "/chunked", 2000, &c, &sock, 0);
    CHECK(st == KINAGG_OK && c.response.body_len == 100000 && c.response.body[99999] == 'z', "chunked over TCP: %s",
          kinagg_strerror(st));
    st = real(port, "/chunked", 2000, &c, &sock, 1);
    CHECK(st == KINAGG_OK && c.connections == 1 && c.requests == 2, "keep-alive over TCP: %s, %lu connections",
          kinagg_strerror(st), c.connections);
    st = real(port, "/close-mid-body", 2000, &c, &sock, 0);
    CHECK(st == KINAGG_ERR_CLOSED, "close mid-body over TCP: %s", kinagg_strerror(st));
    st = real(port, "/big-head", 2000, &c, &sock, 0);
    CHECK(st == KINAGG_ERR_RESPONSE_TOO_LARGE, "oversize head over TCP: %s", kinagg_strerror(st));
    st = real(port, "/garbage", 2000, &c, &sock, 0);
    CHECK(st == KINAGG_ERR_HTTP_PARSE, "garbage over TCP: %s", kinagg_strerror(st));
    t0 = pf.now_ms(NULL);
    st = real(port, "/stall", 300, &c, &sock, 0);
    CHECK(st == KINAGG_ERR_TIMEOUT, "stall over TCP: %s", kinagg_strerror(st));
    CHECK(pf.now_ms(NULL) - t0 < 2000, "stall took %lu ms, limit 300", (unsigned long)(pf.now_ms(NULL) - t0));
    t0 = pf.now_ms(NULL);
    st = real(port, "/trickle", 300, &c, &sock, 0); /* a byte at a time: the whole-response limit holds */
    CHECK(st == KINAGG_ERR_TIMEOUT, "trickle over TCP: %s", kinagg_strerror(st));
    CHECK(pf.now_ms(NULL) - t0 < 2000, "trickle took %lu ms", (unsigned long)(pf.now_ms(NULL) - t0));
    /* the server drops idle connections after 200 ms: the next request
     * finds it closed and goes out again on a new one */
    st = real(port, "/short-keepalive", 2000, &c, &sock, 0);
    CHECK(st == KINAGG_OK, "short keep-alive: %s", kinagg_strerror(st));
    {
        struct timespec ts = {0, 400000000};
        nanosleep(&ts, NULL);
    }
    st = real(port, "/short-keepalive", 2000, &c, &sock, 1);
    CHECK(st == KINAGG_OK && c.connections == 2, "after the server closed an idle connection: %s, %lu connections",
          kinagg_strerror(st), c.connections);
    /* nobody listening */
    {
        kinagg_transport t;
        static unsigned char rb[1024], sb[1024];
        kinagg_posix_socket_init(&sock, &t);
        kinagg_http_init(&c, &t, sb, sizeof sb, rb, sizeof rb);
        st = kinagg_http_begin(&c, "127.0.0.1", 1, kinagg_str_c("GET"), kinagg_str_c("/"), NULL, 0, NULL, 0,
                               pf.now_ms(NULL));
        if (st == KINAGG_OK) st = kinagg_http_run(&c, &pf);
        CHECK(st == KINAGG_ERR_CONNECT && c.error_detail && strstr(c.error_detail, "refused"), "refused: %s (%s)",
              kinagg_strerror(st), c.error_detail ? c.error_detail : "");
    }
}

/* A slow link: 300 bytes a second. Sending the body takes 100 s, ten
 * times send_timeout_ms, but never stalls for that long: no timeout (a
 * gateway on a slow uplink must get a large request out). A link that
 * stops for longer than send_timeout_ms still times out. */
static unsigned slow_turn, slow_stop_after;
static kinagg_io slow_send(void *ctx, const unsigned char *d, size_t n, size_t *sent) {
    if (slow_turn++ % 2 == 0 || (slow_stop_after && slow_turn > slow_stop_after)) return KINAGG_IO_AGAIN;
    return s_send(ctx, d, n > 300 ? 300 : n, sent);
}
static void test_slow_link(void) {
    static script s;
    static kinagg_http_client c;
    static gen g;
    int stop;
    for (stop = 0; stop < 2; stop++) {
        kinagg_body b = gen_body(&g, 30000);
        uint64_t now = 1000;
        kinagg_status st;
        memset(&s, 0, sizeof s);
        s.responses[0] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        make_client(&c, &s);
        c.transport.send = slow_send;
        slow_turn = 0;
        slow_stop_after = stop ? 50 : 0; /* 25 pieces, then silence */
        st = kinagg_http_begin(&c, "example.com", 80, kinagg_str_c("POST"), kinagg_str_c("/"), NULL, 0, &b, 30000, now);
        while (st == KINAGG_OK || st == KINAGG_PENDING) {
            unsigned ev;
            uint64_t wake;
            st = kinagg_http_poll(&c, now, &ev, &wake);
            if (st != KINAGG_PENDING || now > 1000000) break;
            now += 1000; /* a second between polls */
        }
        if (!stop)
            CHECK(st == KINAGG_OK && body_is(&c, "ok") && s.sent > 30000 && now - 1000 > 10 * c.send_timeout_ms,
                  "30000 bytes at 300 a second: %s after %lu s, %llu bytes sent", kinagg_strerror(st),
                  (unsigned long)((now - 1000) / 1000), s.sent);
        else
            CHECK(st == KINAGG_ERR_TIMEOUT && now - 1000 <= 25000 + c.send_timeout_ms + 1000,
                  "a link silent after 25 s: %s after %lu s", kinagg_strerror(st), (unsigned long)((now - 1000) / 1000));
    }
}

int main(int argc, char **argv) {
    test_slow_link();
    test_scripted();
    if (argc > 1) test_real(atoi(argv[1]));
    if (argc > 1) test_blackholed_first_address(atoi(argv[1]));
    return check_summary("http");
}
