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
 * No call blocks. A host name is looked up on a thread of the port's own
 * (one short-lived thread per lookup), so connect says "again" until the
 * answer is in: a slow resolver delays the first request, never a poll. A
 * numeric address needs no lookup. Names are looked up when a connection
 * first starts and again after every address failed to connect. Memory: the
 * context struct, plus a small block per lookup on the heap (the port's,
 * not kinagg.h's), freed when the lookup is done.
 *
 * Builds with -std=c99: the implementation asks for POSIX.1-2008 itself
 * when it is the first include (define _POSIX_C_SOURCE or _GNU_SOURCE
 * yourself when other system headers come first). On glibc before 2.34,
 * link with -pthread.
 */
#ifndef KINAGG_POSIX_H
#define KINAGG_POSIX_H

#if defined(KINAGG_POSIX_IMPLEMENTATION) && !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE) && \
    !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE) && !defined(_BSD_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "../kinagg.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KINAGG_POSIX_MAX_ADDRS 8

struct addrinfo;
struct kinagg__posix_lookup;

/* A name lookup with getaddrinfo's signature (the default is getaddrinfo);
 * its answer is released with freeaddrinfo. It runs on the lookup thread. */
typedef int (*kinagg_posix_resolve_fn)(const char *host, const char *service, const struct addrinfo *hints,
                                       struct addrinfo **result);

typedef struct kinagg_posix_socket {
    int fd;
    int connecting;
    unsigned next_addr, naddrs;
    unsigned resume_addr; /* a connect cut short (timed out): where the next one starts */
    /* resolved addresses, tried in turn (sockaddr_storage, kept opaque here) */
    unsigned char addrs[KINAGG_POSIX_MAX_ADDRS][128];
    unsigned addr_lens[KINAGG_POSIX_MAX_ADDRS];
    char addrs_for[264];                 /* "host port" the addresses are for */
    struct kinagg__posix_lookup *lookup; /* a lookup under way */
    kinagg_posix_resolve_fn resolve;     /* may be replaced after init */
    char error[160];
} kinagg_posix_socket;

/* Sets up sock and fills *transport with its callbacks. */
KINAGG_API void kinagg_posix_socket_init(kinagg_posix_socket *sock, kinagg_transport *transport);

/* Closes the connection and lets a lookup under way finish on its own, so
 * sock's memory may be reused. */
KINAGG_API void kinagg_posix_socket_release(kinagg_posix_socket *sock);

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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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
    /* closed while connecting (its time ran out: an address that drops
     * the handshake): the next connect goes on with the next address, not
     * with that one again */
    s->resume_addr = s->connecting ? s->next_addr : 0;
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
#ifdef SOCK_CLOEXEC /* (at once: a fork in another thread meanwhile does not inherit it) */
        s->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
#else
        s->fd = socket(sa->sa_family, SOCK_STREAM, 0);
#endif
        if (s->fd < 0) {
            kinagg__posix_err(s, "socket", errno);
            continue;
        }
        fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL, 0) | O_NONBLOCK);
        /* not inherited by programs the application runs (a credential_process):
         * a connection closed here stays open while such a child lives */
        fcntl(s->fd, F_SETFD, FD_CLOEXEC);
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

/* A lookup on its own thread: the thread fills it, connect takes the
 * answer. Whoever is last (the thread, or a socket that gave it up) frees it. */
struct kinagg__posix_lookup {
    pthread_mutex_t lock;
    int done, orphaned, rc;
    char host[256], service[8];
    kinagg_posix_resolve_fn resolve;
    unsigned naddrs;
    unsigned char addrs[KINAGG_POSIX_MAX_ADDRS][128];
    unsigned addr_lens[KINAGG_POSIX_MAX_ADDRS];
};

/* Copies getaddrinfo's answer into addrs; returns how many. */
static unsigned kinagg__posix_take_addrs(const struct addrinfo *res, unsigned char (*addrs)[128], unsigned *lens) {
    unsigned n = 0;
    for (; res && n < KINAGG_POSIX_MAX_ADDRS; res = res->ai_next) {
        if (res->ai_addrlen > 128) continue;
        memcpy(addrs[n], res->ai_addr, res->ai_addrlen);
        lens[n++] = (unsigned)res->ai_addrlen;
    }
    return n;
}

static void kinagg__posix_hints(struct addrinfo *hints, int flags) {
    memset(hints, 0, sizeof *hints);
    hints->ai_family = AF_UNSPEC;
    hints->ai_socktype = SOCK_STREAM;
    hints->ai_flags = flags;
}

static void kinagg__posix_lookup_free(struct kinagg__posix_lookup *l) {
    pthread_mutex_destroy(&l->lock);
    free(l);
}

static void *kinagg__posix_lookup_run(void *arg) {
    struct kinagg__posix_lookup *l = (struct kinagg__posix_lookup *)arg;
    struct addrinfo hints, *res = NULL;
    int rc, orphaned;
    kinagg__posix_hints(&hints, 0);
    rc = l->resolve(l->host, l->service, &hints, &res);
    if (rc == 0) l->naddrs = kinagg__posix_take_addrs(res, l->addrs, l->addr_lens);
    if (res) freeaddrinfo(res);
    pthread_mutex_lock(&l->lock);
    l->rc = rc;
    l->done = 1;
    orphaned = l->orphaned;
    pthread_mutex_unlock(&l->lock);
    if (orphaned) kinagg__posix_lookup_free(l);
    return NULL;
}

/* Lets the lookup under way finish without us. */
static void kinagg__posix_lookup_drop(kinagg_posix_socket *s) {
    struct kinagg__posix_lookup *l = s->lookup;
    int done;
    if (!l) return;
    s->lookup = NULL;
    pthread_mutex_lock(&l->lock);
    done = l->done;
    l->orphaned = 1;
    pthread_mutex_unlock(&l->lock);
    if (done) kinagg__posix_lookup_free(l);
}

/* Addresses for host:port: at once for a numeric host or when known, else
 * from a lookup thread (AGAIN until it answers). */
static kinagg_io kinagg__posix_resolve(kinagg_posix_socket *s, const char *host, uint16_t port) {
    struct addrinfo hints, *res = NULL;
    char service[8], key[sizeof s->addrs_for];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    snprintf(key, sizeof key, "%s %s", host, service);
    if (s->naddrs && strcmp(key, s->addrs_for) == 0) return KINAGG_IO_OK;
    s->naddrs = s->next_addr = 0;
    kinagg__posix_hints(&hints, AI_NUMERICHOST | AI_NUMERICSERV);
    if (getaddrinfo(host, service, &hints, &res) == 0) { /* an address already: no lookup */
        s->naddrs = kinagg__posix_take_addrs(res, s->addrs, s->addr_lens);
        freeaddrinfo(res);
    } else {
        struct kinagg__posix_lookup *l = s->lookup;
        int done = 0;
        if (l && (strcmp(l->host, host) != 0 || strcmp(l->service, service) != 0)) {
            kinagg__posix_lookup_drop(s); /* for another host */
            l = NULL;
        }
        if (!l) {
            pthread_t t;
            pthread_attr_t attr;
            int started;
            if (strlen(host) >= sizeof l->host) {
                snprintf(s->error, sizeof s->error, "host name too long");
                return KINAGG_IO_ERROR;
            }
            l = (struct kinagg__posix_lookup *)calloc(1, sizeof *l);
            if (!l) {
                snprintf(s->error, sizeof s->error, "cannot resolve %.100s: out of memory", host);
                return KINAGG_IO_ERROR;
            }
            pthread_mutex_init(&l->lock, NULL);
            strcpy(l->host, host);
            strcpy(l->service, service);
            l->resolve = s->resolve ? s->resolve : getaddrinfo;
            pthread_attr_init(&attr);
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            started = pthread_create(&t, &attr, kinagg__posix_lookup_run, l) == 0;
            pthread_attr_destroy(&attr);
            if (!started) {
                kinagg__posix_lookup_free(l);
                snprintf(s->error, sizeof s->error, "cannot resolve %.100s: no thread for the lookup", host);
                return KINAGG_IO_ERROR;
            }
            s->lookup = l;
        }
        pthread_mutex_lock(&l->lock);
        done = l->done;
        pthread_mutex_unlock(&l->lock);
        if (!done) {
            snprintf(s->error, sizeof s->error, "looking up %.100s", host);
            return KINAGG_IO_AGAIN;
        }
        s->lookup = NULL;
        if (l->rc != 0) {
            snprintf(s->error, sizeof s->error, "cannot resolve %.100s: %s", host, gai_strerror(l->rc));
            kinagg__posix_lookup_free(l);
            return KINAGG_IO_ERROR;
        }
        memcpy(s->addrs, l->addrs, sizeof s->addrs);
        memcpy(s->addr_lens, l->addr_lens, sizeof s->addr_lens);
        s->naddrs = l->naddrs;
        kinagg__posix_lookup_free(l);
    }
    if (!s->naddrs) {
        snprintf(s->error, sizeof s->error, "cannot resolve %.100s: no address", host);
        return KINAGG_IO_ERROR;
    }
    memcpy(s->addrs_for, key, sizeof key);
    return KINAGG_IO_OK;
}

static kinagg_io kinagg__posix_connect(void *ctx, const char *host, uint16_t port) {
    kinagg_posix_socket *s = (kinagg_posix_socket *)ctx;
    kinagg_io io;
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
        s->resume_addr = 0; /* (refused, not cut short: try_next goes on from here) */
        io = kinagg__posix_try_next(s); /* the next address, if any */
        if (io == KINAGG_IO_ERROR) s->naddrs = 0; /* none answered: look the name up again next time */
        return io;
    }
    if (s->fd >= 0) return KINAGG_IO_OK;
    io = kinagg__posix_resolve(s, host, port);
    if (io != KINAGG_IO_OK) return io;
    s->next_addr = s->resume_addr < s->naddrs ? s->resume_addr : 0;
    s->resume_addr = 0;
    io = kinagg__posix_try_next(s);
    if (io == KINAGG_IO_ERROR) s->naddrs = 0;
    return io;
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
    if (s->fd < 0 && s->lookup) { /* a lookup is under way: nap, then look again */
        struct timespec ts;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)(timeout_ms < 5 ? timeout_ms : 5) * 1000000L;
        nanosleep(&ts, NULL);
        return KINAGG_IO_AGAIN;
    }
    if (s->fd < 0) return KINAGG_IO_ERROR;
    p.fd = s->fd;
    p.events = (short)(((events & KINAGG_WAIT_READ) ? POLLIN : 0) | ((events & KINAGG_WAIT_WRITE) ? POLLOUT : 0));
    p.revents = 0;
    rc = poll(&p, 1, (int)timeout_ms);
    return rc > 0 ? KINAGG_IO_OK : rc == 0 ? KINAGG_IO_AGAIN : KINAGG_IO_ERROR;
}

static const char *kinagg__posix_error(void *ctx) { return ((kinagg_posix_socket *)ctx)->error; }

KINAGG_API void kinagg_posix_socket_release(kinagg_posix_socket *sock) {
    kinagg__posix_close(sock);
    kinagg__posix_lookup_drop(sock);
}

KINAGG_API void kinagg_posix_socket_init(kinagg_posix_socket *sock, kinagg_transport *t) {
    memset(sock, 0, sizeof *sock);
    sock->fd = -1;
    sock->resolve = getaddrinfo;
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
    /* a 32-bit time_t fails from 2038 (EOVERFLOW): 0 then, and the first
     * request refused as skewed teaches the client the time (the Date it
     * answers with), rather than a date made of whatever ts held */
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
/* Retry jitter: xorshift64*, seeded from /dev/urandom. The state is the
 * thread's own where the compiler has thread-local storage (gcc, clang), so
 * producers on several threads neither race on it nor draw the same
 * jitter; elsewhere one static state (define KINAGG_POSIX_THREAD_LOCAL as
 * your compiler's keyword for storage of each thread). */
#ifndef KINAGG_POSIX_THREAD_LOCAL
#if defined(__GNUC__) || defined(__clang__)
#define KINAGG_POSIX_THREAD_LOCAL __thread
#else
#define KINAGG_POSIX_THREAD_LOCAL
#endif
#endif
static uint32_t kinagg__posix_random(void *ctx) {
    static KINAGG_POSIX_THREAD_LOCAL uint64_t state;
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
