/* kinagg_posix.h - kinagg port for POSIX: TCP over BSD sockets (IPv4 and
 * IPv6, non-blocking connect, poll), monotonic and wall clocks, randomness.
 *
 * In one file:  #define KINAGG_POSIX_IMPLEMENTATION  before including it.
 *
 *   kinagg_posix_socket sock;
 *   kinagg_transport tp;
 *   kinagg_platform pf;
 *   kinagg_posix_socket_init(&sock, &tp);
 *   kinagg_posix_platform(&pf);
 *
 * Calls never block except getaddrinfo, which resolves the host name when a
 * connection starts (a numeric address resolves at once). Needs kinagg.h
 * first. Memory: the context struct only; getaddrinfo's own allocation is
 * freed before connect returns.
 */
#ifndef KINAGG_POSIX_H
#define KINAGG_POSIX_H

#include "../kinagg.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KINAGG_POSIX_MAX_ADDRS 8

typedef struct kinagg_posix_socket {
    int fd;
    int connecting;
    unsigned next_addr, naddrs;
    /* resolved addresses, tried in turn (sockaddr_storage, kept opaque here) */
    unsigned char addrs[KINAGG_POSIX_MAX_ADDRS][128];
    unsigned addr_lens[KINAGG_POSIX_MAX_ADDRS];
    char error[160];
} kinagg_posix_socket;

/* Sets up sock and fills *transport with its callbacks. */
KINAGG_API void kinagg_posix_socket_init(kinagg_posix_socket *sock, kinagg_transport *transport);

/* Fills *platform: CLOCK_MONOTONIC, CLOCK_REALTIME, and random numbers
 * seeded from /dev/urandom (for jitter, not for secrets). */
KINAGG_API void kinagg_posix_platform(kinagg_platform *platform);

#ifdef __cplusplus
}
#endif
#endif /* KINAGG_POSIX_H */

#if defined(KINAGG_POSIX_IMPLEMENTATION) && !defined(KINAGG_POSIX_IMPLEMENTATION_DONE)
#define KINAGG_POSIX_IMPLEMENTATION_DONE

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* platforms without it should ignore SIGPIPE */
#endif

static void kinagg__posix_err(kinagg_posix_socket *s, const char *what, int err) {
    snprintf(s->error, sizeof s->error, "%s: %s", what, strerror(err));
}

static void kinagg__posix_close(void *ctx) {
    kinagg_posix_socket *s = (kinagg_posix_socket *)ctx;
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    s->connecting = 0;
}

/* Starts a non-blocking connect to the next resolved address. */
static kinagg_io kinagg__posix_try_next(kinagg_posix_socket *s) {
    while (s->next_addr < s->naddrs) {
        const struct sockaddr *sa = (const struct sockaddr *)(const void *)s->addrs[s->next_addr];
        socklen_t len = (socklen_t)s->addr_lens[s->next_addr];
        int one = 1;
        s->next_addr++;
        s->fd = socket(sa->sa_family, SOCK_STREAM, 0);
        if (s->fd < 0) {
            kinagg__posix_err(s, "socket", errno);
            continue;
        }
        fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL, 0) | O_NONBLOCK);
        setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(s->fd, sa, len) == 0) return KINAGG_IO_OK;
        if (errno == EINPROGRESS || errno == EINTR) {
            s->connecting = 1;
            return KINAGG_IO_AGAIN;
        }
        kinagg__posix_err(s, "connect", errno);
        kinagg__posix_close(s);
    }
    return KINAGG_IO_ERROR;
}

static kinagg_io kinagg__posix_connect(void *ctx, const char *host, uint16_t port) {
    kinagg_posix_socket *s = (kinagg_posix_socket *)ctx;
    if (s->connecting) { /* is the connect done? */
        struct pollfd p;
        int err = 0;
        socklen_t len = sizeof err;
        p.fd = s->fd;
        p.events = POLLOUT;
        p.revents = 0;
        if (poll(&p, 1, 0) == 0) return KINAGG_IO_AGAIN;
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (err == 0) {
            s->connecting = 0;
            return KINAGG_IO_OK;
        }
        kinagg__posix_err(s, "connect", err);
        kinagg__posix_close(s);
        return kinagg__posix_try_next(s); /* the next address, if any */
    }
    if (s->fd >= 0) return KINAGG_IO_OK;
    {
        struct addrinfo hints, *res = NULL, *ai;
        char service[8];
        int rc;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        snprintf(service, sizeof service, "%u", (unsigned)port);
        rc = getaddrinfo(host, service, &hints, &res);
        if (rc != 0) {
            snprintf(s->error, sizeof s->error, "cannot resolve %s: %s", host, gai_strerror(rc));
            return KINAGG_IO_ERROR;
        }
        s->naddrs = s->next_addr = 0;
        for (ai = res; ai && s->naddrs < KINAGG_POSIX_MAX_ADDRS; ai = ai->ai_next) {
            if (ai->ai_addrlen > sizeof s->addrs[0]) continue;
            memcpy(s->addrs[s->naddrs], ai->ai_addr, ai->ai_addrlen);
            s->addr_lens[s->naddrs++] = (unsigned)ai->ai_addrlen;
        }
        freeaddrinfo(res);
    }
    return kinagg__posix_try_next(s);
}

static kinagg_io kinagg__posix_send(void *ctx, const unsigned char *data, size_t len, size_t *sent) {
    kinagg_posix_socket *s = (kinagg_posix_socket *)ctx;
    ssize_t n;
    if (s->fd < 0) return KINAGG_IO_ERROR;
    n = send(s->fd, data, len, MSG_NOSIGNAL);
    if (n > 0) {
        *sent = (size_t)n;
        return KINAGG_IO_OK;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return KINAGG_IO_AGAIN;
    kinagg__posix_err(s, "send", n < 0 ? errno : EPIPE);
    return n < 0 && (errno == EPIPE || errno == ECONNRESET) ? KINAGG_IO_CLOSED : KINAGG_IO_ERROR;
}

static kinagg_io kinagg__posix_recv(void *ctx, unsigned char *buf, size_t cap, size_t *received) {
    kinagg_posix_socket *s = (kinagg_posix_socket *)ctx;
    ssize_t n;
    if (s->fd < 0) return KINAGG_IO_ERROR;
    n = recv(s->fd, buf, cap, 0);
    if (n > 0) {
        *received = (size_t)n;
        return KINAGG_IO_OK;
    }
    if (n == 0) {
        snprintf(s->error, sizeof s->error, "connection closed by the server");
        return KINAGG_IO_CLOSED;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return KINAGG_IO_AGAIN;
    kinagg__posix_err(s, "recv", errno);
    return errno == ECONNRESET ? KINAGG_IO_CLOSED : KINAGG_IO_ERROR;
}

static kinagg_io kinagg__posix_wait(void *ctx, unsigned events, uint32_t timeout_ms) {
    kinagg_posix_socket *s = (kinagg_posix_socket *)ctx;
    struct pollfd p;
    int rc;
    if (s->fd < 0) return KINAGG_IO_ERROR;
    p.fd = s->fd;
    p.events = (short)(((events & KINAGG_WAIT_READ) ? POLLIN : 0) | ((events & KINAGG_WAIT_WRITE) ? POLLOUT : 0));
    p.revents = 0;
    rc = poll(&p, 1, (int)timeout_ms);
    return rc > 0 ? KINAGG_IO_OK : rc == 0 ? KINAGG_IO_AGAIN : KINAGG_IO_ERROR;
}

static const char *kinagg__posix_error(void *ctx) { return ((kinagg_posix_socket *)ctx)->error; }

KINAGG_API void kinagg_posix_socket_init(kinagg_posix_socket *sock, kinagg_transport *t) {
    memset(sock, 0, sizeof *sock);
    sock->fd = -1;
    t->ctx = sock;
    t->connect = kinagg__posix_connect;
    t->send = kinagg__posix_send;
    t->recv = kinagg__posix_recv;
    t->close = kinagg__posix_close;
    t->wait = kinagg__posix_wait;
    t->error = kinagg__posix_error;
}

static uint64_t kinagg__posix_now(void *ctx) {
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
static uint64_t kinagg__posix_unix(void *ctx) {
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
static uint32_t kinagg__posix_random(void *ctx) {
    static uint64_t state;
    (void)ctx;
    if (!state) {
        int fd = open("/dev/urandom", O_RDONLY);
        if (fd < 0 || read(fd, &state, sizeof state) != (ssize_t)sizeof state) state = kinagg__posix_now(NULL);
        if (fd >= 0) close(fd);
        state |= 1;
    }
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return (uint32_t)((state * 2685821657736338717ull) >> 32);
}

static void kinagg__posix_sleep(void *ctx, uint32_t ms) {
    struct timespec ts;
    (void)ctx;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

KINAGG_API void kinagg_posix_platform(kinagg_platform *p) {
    p->ctx = NULL;
    p->sleep_ms = kinagg__posix_sleep;
    p->now_ms = kinagg__posix_now;
    p->unix_ms = kinagg__posix_unix;
    p->random = kinagg__posix_random;
}

#ifdef __cplusplus
}
#endif
#endif /* KINAGG_POSIX_IMPLEMENTATION */
