/* TLS with the mbedTLS port against the test servers (tests/net/server.js
 * with tests/net/certs.sh's PKI): the right CA and host name work; a wrong
 * CA, a wrong host name and an expired certificate are each refused with
 * KINAGG_ERR_TLS and a message that says which. Also measures what mbedTLS
 * allocates (kinagg itself allocates nothing), by wrapping calloc/free.
 *   tls_test PKI_DIR TLS_PORT EXPIRED_PORT */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#define KINAGG_POSIX_IMPLEMENTATION
#include "../../port/kinagg_posix.h"
#define KINAGG_MBEDTLS_IMPLEMENTATION
#include "../../port/kinagg_mbedtls.h"
#include "../check.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* mbedTLS's heap use: calls, bytes live now, and the peak */
static unsigned long tls_allocs;
static size_t tls_live, tls_peak;
void *__real_calloc(size_t, size_t);
void __real_free(void *);
void *__wrap_calloc(size_t n, size_t size) {
    size_t *p = (size_t *)__real_calloc(1, n * size + 16);
    if (!p) return NULL;
    p[0] = n * size;
    tls_allocs++;
    tls_live += n * size;
    if (tls_live > tls_peak) tls_peak = tls_live;
    return (char *)p + 16;
}
void __wrap_free(void *q) {
    size_t *p;
    if (!q) return;
    p = (size_t *)(void *)((char *)q - 16);
    tls_live -= p[0];
    __real_free(p);
}

static unsigned char send_buf[4096], recv_buf[65536];

/* One DescribeStreamSummary over TLS; returns the status, *detail the
 * transport's message. */
static kinagg_status call(const char *pki, const char *ca, int port, const char *server_name, const char **detail,
                          kinagg_mbedtls *tls) {
    static kinagg_kinesis k;
    kinagg_posix_socket sock;
    kinagg_transport tcp, tp;
    kinagg_platform pf;
    kinagg_endpoint ep;
    kinagg_credentials c;
    kinagg_stream_ref s;
    char url[64], path[512], status[32];
    kinagg_status st;
    kinagg_posix_socket_init(&sock, &tcp);
    kinagg_posix_platform(&pf);
    st = kinagg_mbedtls_init(tls, &tcp, &tp);
    if (st != KINAGG_OK) return st;
    snprintf(path, sizeof path, "%s/%s", pki, ca);
    if (kinagg_mbedtls_ca_file(tls, path) != KINAGG_OK) return KINAGG_ERR_TLS;
    kinagg_mbedtls_server_name(tls, server_name);
    snprintf(url, sizeof url, "https://127.0.0.1:%d", port);
    kinagg_endpoint_from_url(&ep, kinagg_str_c(url));
    c.access_key_id = kinagg_str_c("AKIDKINAGGTEST");
    c.secret_access_key = kinagg_str_c("kinagg/test/secret+KEY");
    c.session_token = kinagg_str_c("");
    kinagg_kinesis_init(&k, &ep, kinagg_str_c("us-east-1"), &c, KINAGG_PROTOCOL_JSON, &tp, &pf, send_buf,
                        sizeof send_buf, recv_buf, sizeof recv_buf);
    s.name = kinagg_str_c("tls-probe");
    s.arn = kinagg_str_c("");
    st = kinagg_describe_stream_summary(&k, s, status, sizeof status, NULL);
    *detail = k.http.error_detail ? k.http.error_detail : k.error_type;
    kinagg_http_close(&k.http);
    return st;
}

/* A handshake the server never answers (a listener that never accepts:
 * the kernel completes TCP, no ServerHello comes): the client must sleep in
 * wait until its connect time limit, not wake again and again (a connected
 * socket is always writable; waiting for either direction spun). Returns
 * the wakes counted in 1 s. */
static unsigned long silent_waits;
static kinagg_transport silent_inner;
static kinagg_io counting_wait(void *ctx, unsigned events, uint32_t timeout_ms) {
    silent_waits++;
    return silent_inner.wait(ctx, events, timeout_ms);
}
static unsigned long silent_handshake(const char *pki, kinagg_status *st) {
    static kinagg_mbedtls tls;
    static unsigned char sbuf[1024], rbuf[1024];
    static kinagg_http_client c;
    kinagg_posix_socket sock;
    kinagg_transport tcp, tp;
    kinagg_platform pf;
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    char path[512];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return ~0ul;
    kinagg_posix_socket_init(&sock, &tcp);
    kinagg_posix_platform(&pf);
    kinagg_mbedtls_init(&tls, &tcp, &tp);
    snprintf(path, sizeof path, "%s/ca.crt", pki);
    kinagg_mbedtls_ca_file(&tls, path);
    silent_inner = tp;
    tp.wait = counting_wait;
    kinagg_http_init(&c, &tp, sbuf, sizeof sbuf, rbuf, sizeof rbuf);
    c.connect_timeout_ms = 1000;
    silent_waits = 0;
    kinagg_http_begin(&c, "127.0.0.1", ntohs(a.sin_port), kinagg_str_c("GET"), kinagg_str_c("/"), NULL, 0, NULL, 0,
                      pf.now_ms(pf.ctx));
    *st = kinagg_http_run(&c, &pf);
    kinagg_http_close(&c);
    kinagg_mbedtls_free(&tls);
    close(fd);
    return silent_waits;
}

int main(int argc, char **argv) {
    static kinagg_mbedtls tls;
    const char *detail = "";
    kinagg_status st;
    int port, expired_port;
    if (argc != 4) { fprintf(stderr, "usage: tls_test PKI_DIR TLS_PORT EXPIRED_PORT\n"); return 2; }
    port = atoi(argv[2]);
    expired_port = atoi(argv[3]);

    /* the right CA and name: the call goes through TLS to the service,
     * which answers that the stream does not exist */
    tls_allocs = 0;
    tls_peak = tls_live = 0;
    st = call(argv[1], "ca.crt", port, "localhost", &detail, &tls);
    CHECK(st == KINAGG_ERR_SERVICE && strcmp(detail, "ResourceNotFoundException") == 0, "good TLS: %s (%s)",
          kinagg_strerror(st), detail);
    kinagg_mbedtls_free(&tls);
    printf("mbedTLS heap for one TLS 1.2 connection: peak %lu bytes, %lu allocations; %lu bytes left after free\n",
           (unsigned long)tls_peak, tls_allocs, (unsigned long)tls_live);
    CHECK(tls_allocs > 0, "the calloc wrapper saw nothing: link mbedTLS statically to measure it");
    CHECK(tls_live == 0, "mbedTLS kept %lu bytes", (unsigned long)tls_live);

    st = call(argv[1], "other-ca.crt", port, "localhost", &detail, &tls);
    CHECK(st == KINAGG_ERR_TLS && strstr(detail, "not signed by a trusted CA"), "wrong CA: %s (%s)",
          kinagg_strerror(st), detail);
    printf("wrong CA:   %s: %s\n", kinagg_strerror(st), detail);
    kinagg_mbedtls_free(&tls);

    st = call(argv[1], "ca.crt", port, "kinesis.example.com", &detail, &tls);
    CHECK(st == KINAGG_ERR_TLS && strstr(detail, "host name mismatch"), "wrong name: %s (%s)", kinagg_strerror(st),
          detail);
    printf("wrong name: %s: %s\n", kinagg_strerror(st), detail);
    kinagg_mbedtls_free(&tls);

    st = call(argv[1], "ca.crt", expired_port, "localhost", &detail, &tls);
    CHECK(st == KINAGG_ERR_TLS && strstr(detail, "expired"), "expired: %s (%s)", kinagg_strerror(st), detail);
    printf("expired:    %s: %s\n", kinagg_strerror(st), detail);
    kinagg_mbedtls_free(&tls);

    {
        unsigned long waits = silent_handshake(argv[1], &st);
        printf("a handshake never answered: %s after %lu waits\n", kinagg_strerror(st), waits);
        CHECK(st == KINAGG_ERR_TIMEOUT && waits <= 20, "a silent server's handshake: %s, %lu wakes in 1 s",
              kinagg_strerror(st), waits);
    }
    return check_summary("tls");
}
