/* kinagg_lwip.h - kinagg port for lwIP sockets (lwIP 2.1, NO_SYS=0 with
 * LWIP_SOCKET): TCP through lwip_socket, lwip_connect, lwip_send,
 * lwip_recv and lwip_poll, non-blocking.
 *
 * In one file:  #define KINAGG_LWIP_IMPLEMENTATION  before including it.
 *
 *   kinagg_lwip_socket sock;  kinagg_transport tp;  kinagg_platform pf;
 *   kinagg_lwip_socket_init(&sock, &tp);
 *   kinagg_lwip_platform(&pf, my_rtc_unix_ms, NULL);  // wall clock from you
 *
 * Host names are resolved with lwip_getaddrinfo when LWIP_DNS is on, which
 * blocks the calling task until DNS answers (or times out); otherwise, or
 * where that matters, give the endpoint as a numeric IPv4 or IPv6 address. Wrap the
 * transport with port/kinagg_mbedtls.h for TLS. Needs lwipopts.h with
 * LWIP_SOCKET and LWIP_POLL (or LWIP_SOCKET_POLL), and kinagg.h.
 */
#ifndef KINAGG_LWIP_H
#define KINAGG_LWIP_H

#include "../kinagg.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kinagg_lwip_socket {
    int fd;
    int connecting;
    char error[128];
} kinagg_lwip_socket;

KINAGG_API void kinagg_lwip_socket_init(kinagg_lwip_socket *sock, kinagg_transport *transport);

/* now_ms from sys_now(); unix_ms from the caller (an RTC or SNTP time):
 * SigV4 needs the real date. random from LWIP_RAND when defined. */
KINAGG_API void kinagg_lwip_platform(kinagg_platform *platform, uint64_t (*unix_ms)(void *ctx), void *ctx);

#ifdef __cplusplus
}
#endif
#endif /* KINAGG_LWIP_H */

#if defined(KINAGG_LWIP_IMPLEMENTATION) && !defined(KINAGG_LWIP_IMPLEMENTATION_DONE)
#define KINAGG_LWIP_IMPLEMENTATION_DONE

#include "lwip/opt.h"
#include "lwip/ip_addr.h" /* (lwip/sockets.h leaves it out with LWIP_SOCKET_EXTERNAL_HEADERS) */
#include "lwip/sockets.h"
#include "lwip/sys.h"
#include "lwip/errno.h"
#if LWIP_DNS
#include "lwip/netdb.h"
#endif
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

static void kinagg__lwip_err(kinagg_lwip_socket *s, const char *what, int err) {
    snprintf(s->error, sizeof s->error, "%s: lwIP error %d", what, err);
}

static void kinagg__lwip_close(void *ctx) {
    kinagg_lwip_socket *s = (kinagg_lwip_socket *)ctx;
    if (s->fd >= 0) lwip_close(s->fd);
    s->fd = -1;
    s->connecting = 0;
}

/* The address of host: numeric, or through lwIP's DNS when it has one. */
static int kinagg__lwip_addr(kinagg_lwip_socket *s, const char *host, uint16_t port, struct sockaddr_storage *ss,
                             socklen_t *len) {
    ip_addr_t ip;
    memset(ss, 0, sizeof *ss);
    if (!ipaddr_aton(host, &ip)) {
#if LWIP_DNS
        struct addrinfo hints, *res = NULL;
        char service[8];
        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_STREAM;
        snprintf(service, sizeof service, "%u", (unsigned)port);
        if (lwip_getaddrinfo(host, service, &hints, &res) != 0 || !res) {
            snprintf(s->error, sizeof s->error, "cannot resolve %s", host);
            return 0;
        }
        memcpy(ss, res->ai_addr, res->ai_addrlen);
        *len = (socklen_t)res->ai_addrlen;
        lwip_freeaddrinfo(res);
        return 1;
#else
        snprintf(s->error, sizeof s->error, "%s is not a numeric address (lwIP built without DNS)", host);
        return 0;
#endif
    }
#if LWIP_IPV6
    if (IP_IS_V6(&ip)) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)(void *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = lwip_htons(port);
        memcpy(&a->sin6_addr, ip_2_ip6(&ip)->addr, 16); /* both in network order */
        *len = sizeof *a;
        return 1;
    }
#endif
    {
        struct sockaddr_in *a = (struct sockaddr_in *)(void *)ss;
        a->sin_family = AF_INET;
        a->sin_port = lwip_htons(port);
        inet_addr_from_ip4addr(&a->sin_addr, ip_2_ip4(&ip));
        *len = sizeof *a;
        return 1;
    }
}

static kinagg_io kinagg__lwip_connect(void *ctx, const char *host, uint16_t port) {
    kinagg_lwip_socket *s = (kinagg_lwip_socket *)ctx;
    struct sockaddr_storage ss;
    socklen_t len = 0;
    if (s->connecting) {
        struct pollfd p;
        int err = 0;
        socklen_t elen = sizeof err;
        p.fd = s->fd;
        p.events = POLLOUT;
        p.revents = 0;
        if (lwip_poll(&p, 1, 0) == 0) return KINAGG_IO_AGAIN;
        if (lwip_getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) err = errno;
        if (err == 0) {
            s->connecting = 0;
            return KINAGG_IO_OK;
        }
        kinagg__lwip_err(s, "connect", err);
        kinagg__lwip_close(s);
        return KINAGG_IO_ERROR;
    }
    if (s->fd >= 0) return KINAGG_IO_OK;
    if (!kinagg__lwip_addr(s, host, port, &ss, &len)) return KINAGG_IO_ERROR;
    s->fd = lwip_socket(((struct sockaddr *)(void *)&ss)->sa_family, SOCK_STREAM, 0);
    if (s->fd < 0) {
        kinagg__lwip_err(s, "socket", errno);
        return KINAGG_IO_ERROR;
    }
    {
        int one = 1;
        lwip_fcntl(s->fd, F_SETFL, lwip_fcntl(s->fd, F_GETFL, 0) | O_NONBLOCK);
        lwip_setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (lwip_connect(s->fd, (struct sockaddr *)(void *)&ss, len) == 0) return KINAGG_IO_OK;
    if (errno == EINPROGRESS || errno == EWOULDBLOCK || errno == EAGAIN) {
        s->connecting = 1;
        return KINAGG_IO_AGAIN;
    }
    kinagg__lwip_err(s, "connect", errno);
    kinagg__lwip_close(s);
    return KINAGG_IO_ERROR;
}

static kinagg_io kinagg__lwip_send(void *ctx, const unsigned char *data, size_t len, size_t *sent) {
    kinagg_lwip_socket *s = (kinagg_lwip_socket *)ctx;
    ssize_t n = lwip_send(s->fd, data, len, 0);
    if (n > 0) {
        *sent = (size_t)n;
        return KINAGG_IO_OK;
    }
    if (n < 0 && (errno == EWOULDBLOCK || errno == EAGAIN || errno == EINTR)) return KINAGG_IO_AGAIN;
    kinagg__lwip_err(s, "send", errno);
    return errno == ECONNRESET || errno == ENOTCONN || errno == EPIPE ? KINAGG_IO_CLOSED : KINAGG_IO_ERROR;
}

static kinagg_io kinagg__lwip_recv(void *ctx, unsigned char *buf, size_t cap, size_t *received) {
    kinagg_lwip_socket *s = (kinagg_lwip_socket *)ctx;
    ssize_t n = lwip_recv(s->fd, buf, cap, 0);
    if (n > 0) {
        *received = (size_t)n;
        return KINAGG_IO_OK;
    }
    if (n == 0) {
        snprintf(s->error, sizeof s->error, "connection closed by the server");
        return KINAGG_IO_CLOSED;
    }
    if (errno == EWOULDBLOCK || errno == EAGAIN || errno == EINTR) return KINAGG_IO_AGAIN;
    kinagg__lwip_err(s, "recv", errno);
    return errno == ECONNRESET || errno == ENOTCONN ? KINAGG_IO_CLOSED : KINAGG_IO_ERROR;
}

static kinagg_io kinagg__lwip_wait(void *ctx, unsigned events, uint32_t timeout_ms) {
    kinagg_lwip_socket *s = (kinagg_lwip_socket *)ctx;
    struct pollfd p;
    int rc;
    p.fd = s->fd;
    p.events = (short)(((events & KINAGG_WAIT_READ) ? POLLIN : 0) | ((events & KINAGG_WAIT_WRITE) ? POLLOUT : 0));
    p.revents = 0;
    rc = lwip_poll(&p, 1, (int)timeout_ms);
    return rc > 0 ? KINAGG_IO_OK : rc == 0 ? KINAGG_IO_AGAIN : KINAGG_IO_ERROR;
}

static const char *kinagg__lwip_error(void *ctx) { return ((kinagg_lwip_socket *)ctx)->error; }

KINAGG_API void kinagg_lwip_socket_init(kinagg_lwip_socket *sock, kinagg_transport *t) {
    memset(sock, 0, sizeof *sock);
    sock->fd = -1;
    t->ctx = sock;
    t->connect = kinagg__lwip_connect;
    t->send = kinagg__lwip_send;
    t->recv = kinagg__lwip_recv;
    t->close = kinagg__lwip_close;
    t->wait = kinagg__lwip_wait;
    t->error = kinagg__lwip_error;
}

static uint64_t kinagg__lwip_now(void *ctx) {
    /* sys_now() is 32-bit milliseconds: widened by adding each call's step
     * since the last tick seen, taken modulo 2^32 (so a wrap is a step like
     * any other). Tasks share the count: a task preempted after reading
     * sys_now() comes back with a tick older than another task's last one,
     * a "step" of almost 2^32 backwards: it gets the newest time instead,
     * so the clock neither goes back nor jumps 49.7 days ahead. (So calls
     * must come less than 24.8 days apart, as a producer's polls do.) */
    static uint64_t now64;
    static uint32_t last;
    static int started;
    uint32_t t = sys_now(), step;
    uint64_t now;
    SYS_ARCH_DECL_PROTECT(lev);
    (void)ctx;
    SYS_ARCH_PROTECT(lev);
    if (!started) {
        started = 1;
        last = t;
        now64 = t;
    }
    step = t - last;
    if (step < 0x80000000u) {
        now64 += step;
        last = t;
    }
    now = now64;
    SYS_ARCH_UNPROTECT(lev);
    return now;
}
static uint32_t kinagg__lwip_random(void *ctx) {
    (void)ctx;
#ifdef LWIP_RAND
    return (uint32_t)LWIP_RAND();
#else
    static uint32_t x = 2463534242u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x ^ sys_now();
#endif
}

static void kinagg__lwip_sleep(void *ctx, uint32_t ms) {
    (void)ctx;
    sys_msleep(ms);
}

KINAGG_API void kinagg_lwip_platform(kinagg_platform *p, uint64_t (*unix_ms)(void *ctx), void *ctx) {
    p->ctx = ctx;
    p->sleep_ms = kinagg__lwip_sleep;
    p->now_ms = kinagg__lwip_now;
    p->unix_ms = unix_ms;
    p->random = kinagg__lwip_random;
}

#ifdef __cplusplus
}
#endif
#endif /* KINAGG_LWIP_IMPLEMENTATION */
