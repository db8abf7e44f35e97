/* What kinagg-cat and kinagg-tail share: the common options, the AWS
 * configuration, credentials where they run, and connections (POSIX
 * sockets, TLS with mbedTLS for https endpoints) that tell which descriptor
 * waits for what, so a tool can wait on its input and its connections in one
 * poll(). Included once by each tool, after the implementations. */
#ifndef KINAGG_TOOL_COMMON_H
#define KINAGG_TOOL_COMMON_H

#define KINAGG_AWS_CREDENTIALS_IMPLEMENTATION
#include "../port/kinagg_aws_credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TOOL_COMMON_HELP                                                                              \
    "  --stream NAME          the stream's name (--stream-name, as the AWS CLI names it, too)\n"         \
    "  --stream-arn ARN       or its ARN\n"                                                             \
    "  --region REGION        region to sign for (else AWS_REGION, AWS_DEFAULT_REGION, the profile)\n"  \
    "  --endpoint URL         http(s)://host[:port] (else AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL,\n" \
    "                         the profile's services section or endpoint_url, or\n"                    \
    "                         kinesis.REGION.amazonaws.com); --endpoint-url too\n"                   \
    "  --ca-file FILE         trusted CA certificates for https (else AWS_CA_BUNDLE, the profile's\n"  \
    "                         ca_bundle, or /etc/ssl/certs/ca-certificates.crt); --ca-bundle too\n"  \
    "  --profile NAME         profile of ~/.aws/credentials and ~/.aws/config (else\n"                  \
    "                         AWS_DEFAULT_PROFILE, AWS_PROFILE, default)\n"                             \
    "  --protocol json|cbor   wire protocol (default json)\n"                                           \
    "  --iot-endpoint HOST    credentials from the AWS IoT credentials provider (the account's\n"      \
    "                         iot:CredentialProvider endpoint) over mutual TLS, with:\n"              \
    "  --iot-role-alias NAME  the role alias\n"                                                         \
    "  --iot-thing-name NAME  the thing name, when the role alias's policy needs it\n"                 \
    "  --cert FILE            the device certificate\n"                                                 \
    "  --key FILE             the device's private key\n"                                               \
    "  --help                 this text\n"                                                              \
    "Credentials, where the AWS SDKs look: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;\n" \
    "the profile (keys, credential_process, role_arn with web_identity_token_file);\n"                \
    "AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN; AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI;\n" \
    "EC2 instance metadata (IMDSv2). Or AWS IoT, with the options above.\n"

typedef struct tool_opts {
    const char *stream, *stream_arn, *region, *endpoint, *ca_file, *profile;
    kinagg_protocol protocol;
    const char *iot_endpoint, *iot_role_alias, *iot_thing_name, *cert, *key;
    uint32_t connect_timeout_ms; /* --cli-connect-timeout, for the credential endpoints too; 0: their own */
} tool_opts;

/* A connection: a socket, its callbacks wrapped to note what the last call
 * waits for (a call that answered AGAIN waits for the socket to become
 * readable or writable; one that made progress, for nothing), and TLS over
 * it for https. */
typedef struct tool_conn {
    kinagg_posix_socket sock;
    kinagg_transport tcp;  /* the socket's own callbacks */
    kinagg_transport tp;   /* tcp, noting what it waits for */
    unsigned want;         /* KINAGG_WAIT_READ / KINAGG_WAIT_WRITE, 0: nothing */
    kinagg_mbedtls tls;
} tool_conn;

static kinagg_io tool_conn_connect(void *ctx, const char *host, uint16_t port) {
    tool_conn *c = (tool_conn *)ctx;
    kinagg_io io = c->tcp.connect(c->tcp.ctx, host, port);
    c->want = io == KINAGG_IO_AGAIN ? KINAGG_WAIT_WRITE : 0;
    return io;
}
static kinagg_io tool_conn_send(void *ctx, const unsigned char *data, size_t len, size_t *sent) {
    tool_conn *c = (tool_conn *)ctx;
    kinagg_io io = c->tcp.send(c->tcp.ctx, data, len, sent);
    c->want = io == KINAGG_IO_AGAIN ? KINAGG_WAIT_WRITE : 0;
    return io;
}
static kinagg_io tool_conn_recv(void *ctx, unsigned char *buf, size_t cap, size_t *received) {
    tool_conn *c = (tool_conn *)ctx;
    kinagg_io io = c->tcp.recv(c->tcp.ctx, buf, cap, received);
    c->want = io == KINAGG_IO_AGAIN ? KINAGG_WAIT_READ : 0;
    return io;
}
static void tool_conn_close(void *ctx) {
    tool_conn *c = (tool_conn *)ctx;
    c->want = 0;
    c->tcp.close(c->tcp.ctx);
}
static kinagg_io tool_conn_wait(void *ctx, unsigned events, uint32_t timeout_ms) {
    tool_conn *c = (tool_conn *)ctx;
    return c->tcp.wait(c->tcp.ctx, events, timeout_ms);
}
static const char *tool_conn_error(void *ctx) {
    tool_conn *c = (tool_conn *)ctx;
    return c->tcp.error(c->tcp.ctx);
}

/* Whether the last TLS handshake of any of the n connections refused the
 * server's certificate for its name or its CA: no retry mends that (dates
 * may be wrong only until the clock is set, and are retried). */
static inline int tool_conns_cert_refused(const tool_conn *conns, unsigned n) {
    unsigned i;
    for (i = 0; i < n; i++)
        if (conns[i].tls.cert_refused & (MBEDTLS_X509_BADCERT_CN_MISMATCH | MBEDTLS_X509_BADCERT_NOT_TRUSTED)) return 1;
    return 0;
}

/* Adds a pollfd for each connection that waits for its socket; returns how
 * many were added (at most n). A connection that waits without a socket
 * (a name lookup in progress) lowers *timeout_ms to a short retry. */
static inline size_t tool_conn_pollfds(const tool_conn *conns, unsigned n, struct pollfd *fds, int *timeout_ms) {
    size_t k = 0;
    unsigned i;
    for (i = 0; i < n; i++) {
        if (!conns[i].want) continue;
        if (conns[i].sock.fd < 0) {
            if (*timeout_ms < 0 || *timeout_ms > 10) *timeout_ms = 10;
            continue;
        }
        fds[k].fd = conns[i].sock.fd;
        fds[k].events = (short)(((conns[i].want & KINAGG_WAIT_READ) ? POLLIN : 0) |
                                ((conns[i].want & KINAGG_WAIT_WRITE) ? POLLOUT : 0));
        fds[k].revents = 0;
        k++;
    }
    return k;
}

/* Descriptors 0, 1 and 2 open before anything else is opened: one left
 * closed by the caller would be given to the next socket or file, and what
 * the tool writes to standard output would go into its network connection.
 * The streams the tool needs (need: 1 << fd) must be open (else 0, with a
 * message); the others are opened on /dev/null. */
static inline int tool_std_fds(const char *tool, unsigned need) {
    static const char *names[3] = {"standard input", "standard output", "standard error"};
    int fd;
    for (fd = 0; fd < 3; fd++) {
        int nul;
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        nul = open("/dev/null", fd ? O_WRONLY : O_RDONLY);
        if (nul != fd) { /* the lowest free descriptor is fd */
            if (nul >= 0) close(nul);
            fprintf(stderr, "%s: %s is closed, and /dev/null cannot stand in: %s\n", tool, names[fd],
                    nul >= 0 ? "another descriptor was given" : strerror(errno));
            return 0;
        }
        if (need & (1u << fd)) {
            fprintf(stderr, "%s: %s is closed\n", tool, names[fd]);
            return 0;
        }
    }
    return 1;
}

/* A whole decimal number from lo to hi (no sign, no spaces, no suffix). */
static inline int tool_number(const char *s, unsigned long lo, unsigned long hi, unsigned long *out) {
    unsigned long v = 0, d;
    if (!s || !*s) return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 0;
        d = (unsigned long)(*s - '0');
        if (v > (ULONG_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    if (v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

/* Takes a common option at argv[*i] (and its value); 1 if it was one,
 * -1 if its value is missing or bad. */
static int tool_common_option(tool_opts *o, int argc, char **argv, int *i) {
    /* the last three: the AWS CLI's names for --stream, --endpoint, --ca-file */
    static const char *const names[] = {"--stream", "--stream-arn", "--region", "--endpoint",
                                        "--ca-file", "--profile",  "--protocol", "--iot-endpoint",
                                        "--iot-role-alias", "--iot-thing-name", "--cert", "--key",
                                        "--stream-name", "--endpoint-url", "--ca-bundle"};
    const char **slots[15];
    size_t k;
    slots[0] = &o->stream; slots[1] = &o->stream_arn; slots[2] = &o->region;
    slots[3] = &o->endpoint; slots[4] = &o->ca_file; slots[5] = &o->profile; slots[6] = NULL;
    slots[7] = &o->iot_endpoint; slots[8] = &o->iot_role_alias; slots[9] = &o->iot_thing_name;
    slots[10] = &o->cert; slots[11] = &o->key;
    slots[12] = &o->stream; slots[13] = &o->endpoint; slots[14] = &o->ca_file;
    for (k = 0; k < sizeof names / sizeof names[0]; k++) {
        if (strcmp(argv[*i], names[k]) != 0) continue;
        if (*i + 1 >= argc) return -1;
        (*i)++;
        if (k == 6) {
            if (!strcmp(argv[*i], "json")) o->protocol = KINAGG_PROTOCOL_JSON;
            else if (!strcmp(argv[*i], "cbor")) o->protocol = KINAGG_PROTOCOL_CBOR;
            else return -1;
        } else {
            *slots[k] = argv[*i];
        }
        return 1;
    }
    return 0;
}

/* The credentials, for the tool's whole run. */
static kinagg_aws_provider tool_creds;
static int tool_creds_found;
static uint64_t tool_creds_expires; /* unix ms; 0: never */
static kinagg_credentials tool_creds_first; /* as tool_credentials fetched them */
static int tool_creds_first_given;

/* A signal while the first credentials are fetched (a credential_process
 * or a metadata endpoint may take up to a minute): nothing has been read
 * yet, so the tool stops at once, as it would later, with status 0 and a
 * word on stderr, and takes the credential_process's shell with it (what
 * that shell started goes on, as under the AWS CLI). Best effort: the
 * provider's pid is read as it is, and may not be set yet. */
static const char *tool_fetching_name;
static void tool__fetch_signal(int sig) {
    static const char said[] = ": stopped by a signal while fetching the credentials, before any record was read\n";
    (void)sig;
    if (tool_creds.pid > 0 && !tool_creds.exited) kill((pid_t)tool_creds.pid, SIGKILL);
    if (write(2, tool_fetching_name, strlen(tool_fetching_name)) >= 0 && write(2, said, sizeof said - 1) >= 0) {}
    _exit(0);
}
/* Puts tool__fetch_signal in place (tool set; old[] keeps what was there,
 * set[] which it replaced), or puts old[] back (tool NULL). */
static void tool__fetch_signals(const char *tool, struct sigaction old[3], int set[3]) {
    static const int sigs[3] = {SIGTERM, SIGINT, SIGHUP};
    struct sigaction sa;
    int k;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = tool__fetch_signal;
    tool_fetching_name = tool ? tool : tool_fetching_name;
    for (k = 0; k < 3; k++) {
        if (!tool) {
            if (set[k]) sigaction(sigs[k], &old[k], NULL);
            continue;
        }
        /* only where nothing is set: SIGINT and SIGHUP ignored by the
         * parent (nohup, a script's background job) stay ignored, and once
         * the tool has its own handlers (a fetch again, to name the cause
         * of a refusal, with records read), a signal is theirs */
        set[k] = sigaction(sigs[k], NULL, &old[k]) == 0 && old[k].sa_handler == SIG_DFL;
        if (set[k]) sigaction(sigs[k], &sa, NULL);
    }
}

/* Finds the credentials (AWS IoT when its options are given, else the AWS
 * SDKs' default chain) once, and fetches them now, so that a problem shows
 * at once. *cred points into tool_creds. ca_file: the CA bundle for their
 * https (NULL: the providers' own default). */
static int tool_credentials(const char *tool, const tool_opts *o, const char *ca_file, kinagg_credentials *cred) {
    kinagg_status st;
    if (tool_creds_found) {
        st = KINAGG_OK; /* a second tool_setup (kinagg-cat --create): the same provider */
    } else if (o->iot_endpoint || o->iot_role_alias || o->iot_thing_name || o->cert || o->key) {
        if (!o->iot_endpoint || !o->iot_role_alias || !o->cert || !o->key) {
            fprintf(stderr, "%s: AWS IoT credentials need --iot-endpoint, --iot-role-alias, --cert and --key\n", tool);
            return 0;
        }
        st = kinagg_aws_provider_iot(&tool_creds, o->iot_endpoint, o->iot_role_alias, o->iot_thing_name, o->cert,
                                     o->key, ca_file);
    } else {
        st = kinagg_aws_provider_chain(&tool_creds, o->profile);
        if (st == KINAGG_OK && ca_file) snprintf(tool_creds.ca_file, sizeof tool_creds.ca_file, "%s", ca_file);
    }
    tool_creds_found = st == KINAGG_OK;
    if (st == KINAGG_OK && o->connect_timeout_ms) tool_creds.connect_timeout_ms = o->connect_timeout_ms;
    if (st == KINAGG_OK) {
        struct sigaction old[3];
        int set[3];
        tool__fetch_signals(tool, old, set);
        st = kinagg_aws_provider_wait(&tool_creds, 60000, cred, &tool_creds_expires);
        tool__fetch_signals(NULL, old, set);
    }
    if (st != KINAGG_OK) {
        fprintf(stderr, "%s: %s\n", tool, tool_creds.error);
        return 0;
    }
    tool_creds_first = *cred;
    tool_creds_first_given = 0;
    return 1;
}

/* The producer's source: first the credentials tool_credentials fetched,
 * with their expiry (so the producer asks for new ones before they expire,
 * not after a refusal), then the provider's. */
static kinagg_status tool__source_get(void *ctx, int force, kinagg_credentials *out, uint64_t *expires) {
    if (!force && !tool_creds_first_given) {
        tool_creds_first_given = 1;
        *out = tool_creds_first;
        *expires = tool_creds_expires;
        return KINAGG_OK;
    }
    return kinagg_aws_provider_get((kinagg_aws_provider *)ctx, force, out, expires);
}

/* For the producer (cfg.credentials_source): the provider, when its credentials
 * can change (static keys cannot: a refusal of them is final). A producer
 * given this source is given no credentials at init: it asks the source
 * first, and learns when they expire. */
static inline kinagg_credentials_source tool_credentials_source(void) {
    kinagg_credentials_source none;
    if (tool_creds.kind != KINAGG_AWS_PROVIDER_STATIC && tool_creds.kind != KINAGG_AWS_PROVIDER_NONE) {
        none.ctx = &tool_creds;
        none.get = tool__source_get;
        return none;
    }
    none.ctx = NULL;
    none.get = NULL;
    return none;
}

/* For a tool that makes its own calls (kinagg-tail): fresh credentials in
 * *cred when they expire within 5 minutes, or at once with force (a call was
 * refused as expired). 1 when *cred changed; 0 when they cannot change or
 * the fetch failed (the old ones stay; the cause is printed once). */
static inline int tool_credentials_refresh(const char *tool, kinagg_credentials *cred, int force) {
    static char last_error[sizeof tool_creds.error];
    kinagg_credentials fresh;
    uint64_t expires = 0;
    kinagg_status st;
    static time_t next_try;
    if (!tool_credentials_source().get) return 0;
    if (!force && (!tool_creds_expires || (uint64_t)time(NULL) * 1000 + 300000 < tool_creds_expires)) return 0;
    /* close to expiry: asked at most once a second, and not waited for (a
     * fetch under way goes on at the next call), so that a loop neither
     * floods the source nor stalls while it is slow */
    if (!force && tool_creds.state == KINAGG__AC_IDLE) { /* (a fetch under way goes on at every call) */
        if (time(NULL) < next_try) return 0;
        next_try = time(NULL) + 1;
    }
    st = kinagg_aws_provider_get(&tool_creds, force, &fresh, &expires);
    while (force && st == KINAGG_PENDING) {
        struct timespec nap = {0, 10000000};
        nanosleep(&nap, NULL);
        st = kinagg_aws_provider_get(&tool_creds, 0, &fresh, &expires);
    }
    if (st == KINAGG_PENDING) return 0;
    if (st != KINAGG_OK) {
        if (strcmp(last_error, tool_creds.error))
            fprintf(stderr, "%s: refreshing the credentials: %s\n", tool, tool_creds.error);
        snprintf(last_error, sizeof last_error, "%s", tool_creds.error);
        return 0;
    }
    last_error[0] = '\0';
    *cred = fresh;
    tool_creds_expires = expires;
    return 1;
}

/* 1 when url starts with http:// or https:// (in any case, as the header
 * reads them). */
static inline int tool_url_has_scheme(const char *url) {
    static const char *const schemes[2] = {"http://", "https://"};
    int k;
    for (k = 0; k < 2; k++) {
        const char *s = schemes[k], *u = url;
        while (*s && (*u == *s || (*s >= 'a' && *s <= 'z' && *u == *s - 'a' + 'A'))) { s++; u++; }
        if (!*s) return 1;
    }
    return 0;
}

/* 1 when the environment variable name is set to value. */
static inline int tool_getenv_is(const char *name, const char *value) {
    const char *v = getenv(name);
    return v && !strcmp(v, value);
}

/* Resolves everything to connect: credentials, region, endpoint, and n
 * transports (TLS when the endpoint is https). Prints the problem and
 * returns 0 when something is missing. */
static int tool_setup(const char *tool, tool_opts *o, kinagg_aws_config *cfg, kinagg_endpoint *ep,
                      kinagg_credentials *cred, char *region, size_t region_cap, tool_conn *conns, unsigned n,
                      kinagg_transport *tps, kinagg_platform *pf) {
    unsigned i;
    const char *url, *ca;
    if (!o->stream && !o->stream_arn) {
        fprintf(stderr, "%s: --stream NAME or --stream-arn ARN is required (see --help)\n", tool);
        return 0;
    }
    {
        /* as the library checks it: an empty name, a long one, control
         * characters, quotes and backslashes never make a request */
        const char *v = o->stream_arn ? o->stream_arn : o->stream;
        size_t n = strlen(v), k;
        int ok = n > 0 && n <= (o->stream_arn ? 2048u : 128u);
        for (k = 0; ok && k < n; k++) ok = (unsigned char)v[k] >= 0x20 && v[k] != '"' && v[k] != '\\';
        if (!ok) {
            fprintf(stderr, "%s: %s \"%.200s\": %s\n", tool, o->stream_arn ? "--stream-arn" : "--stream", v,
                    !n ? "empty" : o->stream_arn ? "not a stream ARN (at most 2048 characters, no control characters)"
                                 : "not a stream name (1 to 128 characters, no control characters, quotes or backslashes)");
            return 0;
        }
    }
    /* the region, endpoint and CA bundle; the keys come from the chain. What
     * the AWS CLI refuses (a profile named that no file has, a file with a
     * section or key twice) stops here, whatever the keys */
    if (kinagg_aws_config_load(cfg, o->profile) != KINAGG_OK && cfg->broken) {
        fprintf(stderr, "%s: %s\n", tool, cfg->error);
        return 0;
    }
    if (!o->endpoint && cfg->services_missing[0]) { /* the configured endpoint is needed: botocore's error */
        fprintf(stderr,
                "%s: the profile is configured to use the services section but the \"%s\" services configuration "
                "does not exist\n",
                tool, cfg->services_missing);
        return 0;
    }
    url = o->endpoint ? o->endpoint : cfg->endpoint_url;
    if (url[0] && !tool_url_has_scheme(url)) {
        /* the header would take it as https, and a plain-http port then
         * fails every call, retried without end: a mistake, said at once */
        const char *from = o->endpoint                                       ? NULL
                           : tool_getenv_is("AWS_ENDPOINT_URL_KINESIS", url) ? "AWS_ENDPOINT_URL_KINESIS"
                           : tool_getenv_is("AWS_ENDPOINT_URL", url)         ? "AWS_ENDPOINT_URL"
                               : "the AWS config file: the profile's endpoint_url or its services section";
        if (from) fprintf(stderr, "%s: endpoint %s (from %s): expected http://host[:port] or https://host[:port]\n",
                          tool, url, from);
        else fprintf(stderr, "%s: --endpoint %s: expected http://host[:port] or https://host[:port] (see --help)\n",
                     tool, url);
        return 0;
    }
    /* the CA bundle, as the AWS CLI picks it: --ca-file, AWS_CA_BUNDLE, the profile's ca_bundle */
    ca = o->ca_file ? o->ca_file : cfg->ca_bundle[0] ? cfg->ca_bundle : NULL;
    if (!tool_credentials(tool, o, ca, cred)) return 0;
    snprintf(region, region_cap, "%s", o->region ? o->region : cfg->region);
    if (!region[0] && o->stream_arn) { /* arn:aws:kinesis:REGION:... */
        const char *r = strchr(o->stream_arn, ':');
        int f;
        for (f = 0; r && f < 2; f++) r = strchr(r + 1, ':');
        if (r) snprintf(region, region_cap, "%.*s", (int)strcspn(r + 1, ":"), r + 1);
    }
    if (!region[0]) {
        fprintf(stderr, "%s: no region: use --region, or set AWS_REGION\n", tool);
        return 0;
    }
    {
        /* a region name: letters, digits and hyphens, at most 63 (what
         * botocore takes), in lower case as AWS signs it (botocore also
         * takes upper case): else it would be signed for, cut, or sent in a
         * URL */
        const char *src = o->region ? o->region : cfg->region[0] ? cfg->region : region;
        size_t n = strlen(src), j;
        int ok = n >= 1 && n <= 63 && src[0] != '-' && src[n - 1] != '-';
        for (j = 0; ok && j < n; j++) ok = (src[j] >= 'a' && src[j] <= 'z') || (src[j] >= '0' && src[j] <= '9') || src[j] == '-';
        if (!ok) {
            fprintf(stderr, "%s: region \"%.80s\"%s is not a region name (lower-case letters, digits and hyphens, at most 63)\n",
                    tool, src, o->region ? "" : " (from AWS_REGION, AWS_DEFAULT_REGION or the profile)");
            return 0;
        }
    }
    {
        /* the region's endpoint, FIPS and dual-stack as configured; the
         * region to sign for (a FIPS pseudo-region's own), whatever the
         * endpoint */
        char signing[64];
        int resolved = kinagg_aws_config_endpoint(cfg, region, ep, signing) == KINAGG_OK;
        if (url[0] && kinagg_endpoint_from_url(ep, kinagg_str_c(url)) != KINAGG_OK) {
            fprintf(stderr, "%s: bad endpoint %s\n", tool, url);
            return 0;
        }
        if (!url[0] && !resolved) {
            fprintf(stderr, "%s: no %sendpoint for region %s\n", tool, cfg->use_dualstack ? "dual-stack " : "", region);
            return 0;
        }
        if (resolved) snprintf(region, region_cap, "%s", signing);
    }
    kinagg_posix_platform(pf);
    for (i = 0; i < n; i++) {
        kinagg_posix_socket_init(&conns[i].sock, &conns[i].tcp);
        conns[i].want = 0;
        conns[i].tp.ctx = &conns[i];
        conns[i].tp.connect = tool_conn_connect;
        conns[i].tp.send = tool_conn_send;
        conns[i].tp.recv = tool_conn_recv;
        conns[i].tp.close = tool_conn_close;
        conns[i].tp.wait = tool_conn_wait;
        conns[i].tp.error = tool_conn_error;
        tps[i] = conns[i].tp;
        if (ep->tls) {
            kinagg_transport tcp = conns[i].tp;
            if (kinagg_mbedtls_init(&conns[i].tls, &tcp, &tps[i]) != KINAGG_OK ||
                kinagg_mbedtls_ca_file(&conns[i].tls, ca ? ca : "/etc/ssl/certs/ca-certificates.crt") != KINAGG_OK) {
                fprintf(stderr, "%s: TLS: %s\n", tool, conns[i].tls.error);
                return 0;
            }
        }
    }
    return 1;
}

static kinagg_stream_ref tool_stream(const tool_opts *o) {
    kinagg_stream_ref s;
    s.name = kinagg_str_c(o->stream_arn ? "" : o->stream);
    s.arn = kinagg_str_c(o->stream_arn ? o->stream_arn : "");
    return s;
}

#endif
