/* kinagg_aws_credentials.h - AWS credentials where programs run, as the
 * producer's credentials source: the environment, profiles (static keys,
 * credential_process, web identity), STS AssumeRoleWithWebIdentity,
 * containers (ECS, EKS Pod Identity), EC2 instance metadata (IMDSv2), the
 * AWS IoT credentials provider, and the AWS SDKs' default chain. For POSIX
 * systems, with TLS from mbedTLS.
 *
 * In one file, with the implementations of kinagg.h, kinagg_posix.h,
 * kinagg_mbedtls.h and kinagg_aws_config.h:
 *     #define KINAGG_AWS_CREDENTIALS_IMPLEMENTATION
 *     #include "port/kinagg_aws_credentials.h"
 *
 *   static kinagg_aws_provider creds;    // about 116 KiB: static or heap, not a small stack
 *   if (kinagg_aws_provider_chain(&creds, NULL) != KINAGG_OK) puts(creds.error);
 *   cfg.credentials_source = kinagg_aws_provider_source(&creds);
 *   kinagg_producer_init(&p, region, size, &cfg, &ep, sign_region, NULL, ...);
 *
 * Poll-driven: get never blocks. A fetch (an HTTP exchange, a
 * credential_process run) starts when get is called and moves on at each
 * later call; until it ends get returns KINAGG_PENDING. The producer calls
 * get before its credentials expire and when the service refuses them, and
 * again on later polls while the answer is PENDING.
 *
 * Each provider owns its connection (a POSIX socket, TLS when the URL is
 * https) and its buffers, inside the struct. Only mbedTLS allocates (its
 * own heap use); the process provider forks. Nothing else uses the heap.
 *
 * Security: secrets never appear in error texts; credentials replaced or
 * given up are wiped; credentials travel over plain HTTP only from the
 * loopback, container and instance metadata addresses the AWS SDKs allow
 * (checked on the connected socket's address, so a host name cannot
 * sneak past), otherwise over TLS with the certificate verified. Every
 * document is parsed strictly and within fixed bounds: a malformed,
 * expired or incomplete one is an error naming the provider and the
 * reason, and the credentials fetched before stay in use.
 * See docs/credentials.md.
 */
#ifndef KINAGG_AWS_CREDENTIALS_H
#define KINAGG_AWS_CREDENTIALS_H

#if defined(KINAGG_AWS_CREDENTIALS_IMPLEMENTATION) && !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE) && \
    !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE) && !defined(_BSD_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "../kinagg.h"
#include "kinagg_aws_config.h"
#include "kinagg_mbedtls.h"
#include "kinagg_posix.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Room for a session token (STS, containers and AWS IoT issue about 1 KB
 * today; the producer keeps KINAGG_PRODUCER_CREDENTIALS_MAX for all three). */
#ifndef KINAGG_AWS_TOKEN_MAX
#define KINAGG_AWS_TOKEN_MAX 4096
#endif
/* Room for one whole answer (an STS answer is about 3 KB). */
#ifndef KINAGG_AWS_ANSWER_MAX
#define KINAGG_AWS_ANSWER_MAX 16384
#endif
/* Room for a request: the STS form with a web identity token (STS takes
 * tokens of up to 20000 characters), a container's Authorization. */
#ifndef KINAGG_AWS_REQUEST_MAX
#define KINAGG_AWS_REQUEST_MAX 24576
#endif

/* One set of credentials, NUL-terminated strings. */
typedef struct kinagg_aws_credential_set {
    char access_key_id[132];
    char secret_access_key[132];
    char session_token[KINAGG_AWS_TOKEN_MAX]; /* "" for long-term keys */
    uint64_t expires_unix_ms;                 /* 0: they do not expire */
} kinagg_aws_credential_set;

typedef enum kinagg_aws_provider_kind {
    KINAGG_AWS_PROVIDER_NONE = 0,     /* nothing found (the chain), or init failed */
    KINAGG_AWS_PROVIDER_STATIC,       /* keys from the environment or a profile */
    KINAGG_AWS_PROVIDER_PROCESS,      /* credential_process */
    KINAGG_AWS_PROVIDER_WEB_IDENTITY, /* STS AssumeRoleWithWebIdentity */
    KINAGG_AWS_PROVIDER_CONTAINER,    /* ECS task role, EKS Pod Identity */
    KINAGG_AWS_PROVIDER_IMDS,         /* EC2 instance metadata, IMDSv2 */
    KINAGG_AWS_PROVIDER_IOT           /* AWS IoT credentials provider, mutual TLS */
} kinagg_aws_provider_kind;

typedef struct kinagg_aws_provider {
    kinagg_aws_provider_kind kind;
    char name[320];   /* what and where, for messages, e.g. "container (http://169.254.170.2/v2/...)" */
    char error[1536]; /* the last failure, starting with the name; never a secret */

    /* Settings: init sets them; change them before the first get. */
    uint32_t timeout_ms;         /* a whole fetch or process run; default 10000 (process 30000) */
    uint32_t connect_timeout_ms; /* default 3000; IMDS 1000 */
    unsigned attempts;           /* tries of an unanswered request; default 1, IMDS 2 */
    uint32_t min_refresh_ms;     /* serve the last credentials, unforced, this long after a
                                  * fetch; default 1000 */
    uint32_t imds_token_ttl_s;   /* default 21600; the token is renewed before it ends */
    char ca_file[512];           /* for https: AWS_CA_BUNDLE, else the system's bundle */

    /* Counters. */
    unsigned long fetches;  /* fetches started */
    unsigned long failures; /* fetches that ended in an error */
    unsigned long changes;  /* fetches that brought other credentials than before */

    /* Internal state. */
    kinagg_aws_credential_set cur, next;
    int have, ever_ok, state, attempt, renewed, killed, allow, tls_used, tls_ready;
    kinagg_platform platform;
    int64_t clock_offset_ms; /* added to platform.unix_ms: the services' Date less it,
                              * when that is a minute or more (a clock not set right) */
    uint64_t deadline, last_ok_ms, imds_token_until;
    char host[256], host_header[272], target[1024];
    uint16_t port;
    char looked[768];        /* the chain: the places that had nothing */
    char profile[128], region[64];
    char role_arn[2048], session_name[72], token_file[1024];
    char command[2048];      /* credential_process */
    char thing_name[136], role_alias[136];
    char cert_file[512], key_file[512];
    char imds_token[160], imds_role[136];
    char guard_error[256];
    long pid;
    int fd, eof, exited, exit_status;
    size_t out_len, body_len, body_pos;
    kinagg_posix_socket sock;
    kinagg_transport tcp, guard, tls_tp;
    kinagg_mbedtls tls;
    kinagg_http_client http;
    kinagg_body body_src;
    unsigned char send_buf[KINAGG_AWS_REQUEST_MAX / 2];
    unsigned char recv_buf[KINAGG_AWS_ANSWER_MAX];
    char body[KINAGG_AWS_REQUEST_MAX];
} kinagg_aws_provider;

/* Each init sets up all of *p (which must not hold a provider in use: free
 * that first) and returns KINAGG_OK, or an error with p->error saying what
 * is missing (nothing to free then). None waits for the network; they
 * read the environment and files. Strings are copied. */

/* AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. */
KINAGG_API kinagg_status kinagg_aws_provider_environment(kinagg_aws_provider *p);

/* A profile of ~/.aws/credentials and ~/.aws/config (AWS_SHARED_CREDENTIALS_FILE,
 * AWS_CONFIG_FILE): profile, else AWS_DEFAULT_PROFILE, else AWS_PROFILE, else
 * "default" (a profile named must exist). In the AWS CLI's order: role_arn without
 * web_identity_token_file (AssumeRole: refused), role_arn with
 * web_identity_token_file (and role_session_name), sso_account_id or
 * sso_role_name (refused), the credentials file's keys, credential_process,
 * the config file's keys. */
KINAGG_API kinagg_status kinagg_aws_provider_profile(kinagg_aws_provider *p, const char *profile);

/* Runs command with /bin/sh -c (standard input from /dev/null, standard
 * error the program's own) and reads its standard output: {"Version": 1,
 * "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}. */
KINAGG_API kinagg_status kinagg_aws_provider_process(kinagg_aws_provider *p, const char *command);

/* STS AssumeRoleWithWebIdentity with the token read from token_file (on
 * every fetch: the file is rotated), for role_arn, as session_name. NULLs
 * take AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME
 * (else "kinagg-" and the time). The endpoint: AWS_ENDPOINT_URL_STS,
 * AWS_ENDPOINT_URL, else https://sts.REGION.amazonaws.com (the partition's
 * DNS suffix; FIPS and dual-stack as the environment or the profile says),
 * the region from AWS_REGION, AWS_DEFAULT_REGION or the profile (none:
 * sts.amazonaws.com). */
KINAGG_API kinagg_status kinagg_aws_provider_web_identity(kinagg_aws_provider *p, const char *token_file,
                                                          const char *role_arn, const char *session_name);

/* AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2), else
 * AWS_CONTAINER_CREDENTIALS_FULL_URI; Authorization from the file named by
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read on every fetch), else
 * AWS_CONTAINER_AUTHORIZATION_TOKEN. Plain http only to loopback,
 * 169.254.170.2, 169.254.170.23 and fd00:ec2::23. */
KINAGG_API kinagg_status kinagg_aws_provider_container(kinagg_aws_provider *p);

/* EC2 instance metadata, IMDSv2 (a session token first; no IMDSv1):
 * http://169.254.169.254, or AWS_EC2_METADATA_SERVICE_ENDPOINT, or
 * [fd00:ec2::254] with AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6.
 * AWS_EC2_METADATA_DISABLED=true refuses. Short time limits (1 s to
 * connect, 2 attempts), so a machine off EC2 gives up in about 2 s. */
KINAGG_API kinagg_status kinagg_aws_provider_imds(kinagg_aws_provider *p);

/* The AWS IoT credentials provider: GET https://ENDPOINT/role-aliases/ALIAS/credentials
 * over mutual TLS with the device's certificate and key (PEM or DER files);
 * endpoint is "host[:port]" or "https://host[:port]" (the account's
 * credentials endpoint, from `aws iot describe-endpoint --endpoint-type
 * iot:CredentialProvider`); thing_name (may be NULL) goes in the
 * x-amzn-iot-thingname header; ca_file NULL: AWS_CA_BUNDLE or the system's. */
KINAGG_API kinagg_status kinagg_aws_provider_iot(kinagg_aws_provider *p, const char *endpoint, const char *role_alias,
                                                 const char *thing_name, const char *cert_file,
                                                 const char *key_file, const char *ca_file);

/* The AWS CLI's default chain (botocore's order): the environment; the
 * profile (AssumeRole refused; web identity, the environment's settings
 * first; sso refused; the credentials file's keys; credential_process; the
 * config file's keys); the container endpoint; instance metadata. The
 * first place configured is the one used (its kind in p->kind). profile:
 * as for kinagg_aws_provider_profile; naming one skips the environment's
 * keys and web identity settings. What the AWS CLI refuses is an error,
 * never a reason to use other credentials: a profile named (here or by
 * AWS_PROFILE) that no file has, a file with a section or a key twice,
 * AWS_ACCESS_KEY_ID without AWS_SECRET_ACCESS_KEY. When nothing is
 * configured, init still succeeds with IMDS, and if that fails too the
 * error names every place looked at. AWS IoT is never chosen by the
 * chain: it is explicit. */
KINAGG_API kinagg_status kinagg_aws_provider_chain(kinagg_aws_provider *p, const char *profile);

/* The producer's credentials source over p (p must outlive it). */
KINAGG_API kinagg_credentials_source kinagg_aws_provider_source(kinagg_aws_provider *p);

/* The credentials source's get: KINAGG_OK with *out pointing into p (valid
 * until the next get or free) and *expires_unix_ms (0: never);
 * KINAGG_PENDING while fetching; or an error (p->error says why; the last
 * credentials stay in p and in the producer). A call with force 0 within
 * min_refresh_ms of the last fetch returns the same credentials; any
 * other call fetches anew. Never blocks. */
KINAGG_API kinagg_status kinagg_aws_provider_get(kinagg_aws_provider *p, int force, kinagg_credentials *out,
                                                 uint64_t *expires_unix_ms);

/* get until it is not PENDING or timeout_ms passes (KINAGG_ERR_TIMEOUT),
 * sleeping between calls: for programs that want credentials before they
 * start (and a clear error at once). */
KINAGG_API kinagg_status kinagg_aws_provider_wait(kinagg_aws_provider *p, uint32_t timeout_ms, kinagg_credentials *out,
                                                  uint64_t *expires_unix_ms);

/* Stops a fetch under way (kills a credential_process), closes the
 * connection, frees what mbedTLS allocated and wipes the secrets. */
KINAGG_API void kinagg_aws_provider_free(kinagg_aws_provider *p);

/* The documents, for those who fetch them their own way. */
typedef enum kinagg_aws_document {
    KINAGG_AWS_DOC_PROCESS = 0, /* credential_process: Version 1, SessionToken and Expiration optional */
    KINAGG_AWS_DOC_CONTAINER,   /* {AccessKeyId, SecretAccessKey, Token, Expiration} */
    KINAGG_AWS_DOC_IMDS,        /* the same with "Code": "Success" */
    KINAGG_AWS_DOC_IOT,         /* {"credentials": {accessKeyId, secretAccessKey, sessionToken, expiration}} */
    KINAGG_AWS_DOC_STS          /* AssumeRoleWithWebIdentityResponse (XML), or an ErrorResponse */
} kinagg_aws_document;

/* Parses doc[0, len) strictly into *out; credentials that expire at or
 * before now_unix_ms are refused. Errors: KINAGG_ERR_JSON (malformed JSON,
 * a member missing, of the wrong type or with characters credentials never
 * have), KINAGG_ERR_HTTP_PARSE (malformed XML), KINAGG_ERR_EXPIRED,
 * KINAGG_ERR_SERVICE (an STS ErrorResponse, an IMDS Code other than
 * Success); why (may be NULL) gets the reason, never a secret. On error
 * *out is wiped. */
KINAGG_API kinagg_status kinagg_aws_parse_credentials(kinagg_aws_document kind, const char *doc, size_t len,
                                                      uint64_t now_unix_ms, kinagg_aws_credential_set *out, char *why,
                                                      size_t why_cap);

/* ISO 8601 UTC as the AWS services write it: YYYY-MM-DDTHH:MM:SS, optional
 * fraction, then Z or +HH:MM / -HH:MM. Integer arithmetic only. */
KINAGG_API kinagg_status kinagg_aws_parse_time(kinagg_str text, uint64_t *unix_ms);

#ifdef __cplusplus
}
#endif
#endif /* KINAGG_AWS_CREDENTIALS_H */

#if defined(KINAGG_AWS_CREDENTIALS_IMPLEMENTATION) && !defined(KINAGG_AWS_CREDENTIALS_IMPLEMENTATION_DONE)
#define KINAGG_AWS_CREDENTIALS_IMPLEMENTATION_DONE

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

extern char **environ;

/* ---- small helpers ------------------------------------------------------ */

#if defined(__GNUC__) || defined(__clang__)
#define KINAGG__AC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define KINAGG__AC_NOINLINE __attribute__((noinline))
#else
#define KINAGG__AC_PRINTF(a, b)
#define KINAGG__AC_NOINLINE
#endif

/* Not optimised away: secrets go for good. */
static void kinagg__ac_wipe(void *ptr, size_t n) {
    volatile unsigned char *v = (volatile unsigned char *)ptr;
    while (n--) *v++ = 0;
}

static const char *kinagg__ac_env(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* Copies src whole into dst, or returns 0 (dst emptied) when it does not fit. */
static int kinagg__ac_set(char *dst, size_t cap, const char *src) {
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) {
        dst[0] = '\0';
        return 0;
    }
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
    return 1;
}

static int kinagg__ac_ieq(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a, y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
        if (x != y) return 0;
    }
    return *a == *b;
}

/* Text from elsewhere (a server's message) made safe to print, at most n bytes of it. */
static void kinagg__ac_clean(char *dst, size_t cap, const char *src, size_t n) {
    size_t i, o = 0;
    if (!cap) return;
    for (i = 0; i < n && src[i] && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : (c == '\n' || c == '\r' || c == '\t') ? ' ' : '?';
    }
    dst[o] = '\0';
}

/* 1 if every byte is visible ASCII (0x21-0x7e): what keys, secrets and
 * tokens consist of, and all a header value may safely carry. */
static int kinagg__ac_visible(const char *s, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e) return 0;
    return 1;
}

static kinagg_status kinagg__ac_fail(kinagg_aws_provider *p, kinagg_status st, const char *fmt, ...)
    KINAGG__AC_PRINTF(3, 4);
/* p->error = "NAME: message"; returns st. */
static kinagg_status kinagg__ac_fail(kinagg_aws_provider *p, kinagg_status st, const char *fmt, ...) {
    va_list ap;
    int n = snprintf(p->error, sizeof p->error, "%s: ", p->name);
    if (n < 0 || (size_t)n >= sizeof p->error) n = 0;
    va_start(ap, fmt);
    vsnprintf(p->error + n, sizeof p->error - (size_t)n, fmt, ap);
    va_end(ap);
    return st;
}

static void kinagg__ac_why(char *why, size_t cap, const char *fmt, ...) KINAGG__AC_PRINTF(3, 4);
/* A reason into the caller's buffer, cut to fit. */
static void kinagg__ac_why(char *why, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
}

static uint64_t kinagg__ac_now(const kinagg_aws_provider *p) { return p->platform.now_ms(p->platform.ctx); }
static uint64_t kinagg__ac_unix(const kinagg_aws_provider *p) {
    return p->platform.unix_ms(p->platform.ctx) + (uint64_t)p->clock_offset_ms;
}

/* ---- ISO 8601 times ------------------------------------------------------ */

static int kinagg__ac_num(const char *s, size_t n, unsigned *out) {
    unsigned v = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static int64_t kinagg__ac_days(int64_t y, unsigned m, unsigned d) {
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (int64_t)d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

KINAGG_API kinagg_status kinagg_aws_parse_time(kinagg_str text, uint64_t *unix_ms) {
    static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *s = text.ptr;
    size_t n = text.len, i = 19;
    unsigned y, mo, d, h, mi, sec, ms = 0, oh = 0, om = 0;
    int64_t secs, sign = 0;
    if (!unix_ms || !s || n < 20) return KINAGG_ERR_INVALID_ARGUMENT;
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return KINAGG_ERR_INVALID_ARGUMENT;
    if (!kinagg__ac_num(s, 4, &y) || !kinagg__ac_num(s + 5, 2, &mo) || !kinagg__ac_num(s + 8, 2, &d) ||
        !kinagg__ac_num(s + 11, 2, &h) || !kinagg__ac_num(s + 14, 2, &mi) || !kinagg__ac_num(s + 17, 2, &sec))
        return KINAGG_ERR_INVALID_ARGUMENT;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60) return KINAGG_ERR_INVALID_ARGUMENT;
    if (d > mdays[mo - 1] + (unsigned)(mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return KINAGG_ERR_INVALID_ARGUMENT;
    if (s[i] == '.') { /* a fraction: milliseconds kept, the rest dropped */
        size_t k = 0;
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++)
            if (k < 3) ms = ms * 10 + (unsigned)(s[i] - '0');
        if (k == 0 || k > 9) return KINAGG_ERR_INVALID_ARGUMENT;
        for (; k < 3; k++) ms *= 10;
    }
    if (i < n && s[i] == 'Z') {
        i++;
    } else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' && kinagg__ac_num(s + i + 1, 2, &oh) &&
               kinagg__ac_num(s + i + 4, 2, &om) && oh <= 23 && om <= 59) {
        sign = s[i] == '+' ? 1 : -1;
        i += 6;
    } else {
        return KINAGG_ERR_INVALID_ARGUMENT;
    }
    if (i != n) return KINAGG_ERR_INVALID_ARGUMENT;
    secs = kinagg__ac_days((int64_t)y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + (int64_t)sec -
           sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
    if (secs < 0) return KINAGG_ERR_INVALID_ARGUMENT;
    *unix_ms = (uint64_t)secs * 1000u + ms;
    return KINAGG_OK;
}

/* ---- JSON: a strict, bounded scanner ------------------------------------ */
/* Walks a whole document without recursion (an explicit stack of 16
 * levels), checks every byte of it against RFC 8259 (UTF-8 included), and
 * copies the string (or number) members it is asked for, by key and the
 * key of the object holding them. A member asked for must appear at most
 * once and have the type asked for; null counts as absent. */

#define KINAGG__AC_DEPTH 16
#define KINAGG__AC_KEY 40

typedef struct kinagg__ac_slot {
    const char *parent; /* NULL: a member of the top-level object; else of the object under this key */
    const char *key;
    int number;         /* a JSON number, kept as its text; else a string */
    char *dst;
    size_t cap;
    int found;
} kinagg__ac_slot;

static int kinagg__ac_hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The length of the valid UTF-8 sequence at s[0, n), or 0. */
static size_t kinagg__ac_utf8(const unsigned char *s, size_t n) {
    unsigned c = s[0], cp;
    size_t len, k;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
    else return 0;
    if (n < len) return 0;
    for (k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[k] & 0x3Fu);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

static size_t kinagg__ac_put_utf8(char *out, unsigned cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int kinagg__ac_hex4(const char *s, size_t n, size_t at, unsigned *cp) {
    size_t k;
    unsigned v = 0;
    if (at + 4 > n) return 0;
    for (k = 0; k < 4; k++) {
        int h = kinagg__ac_hex(s[at + k]);
        if (h < 0) return 0;
        v = v * 16 + (unsigned)h;
    }
    *cp = v;
    return 1;
}

/* The JSON string at s[*i] (its opening quote), checked; decoded into
 * dst[0, cap), NUL-terminated, when dst is given (*overflow when it does
 * not fit). *dlen is the decoded length. 0 when malformed. */
static int kinagg__ac_jstr(const char *s, size_t n, size_t *i, char *dst, size_t cap, int *overflow, size_t *dlen) {
    size_t at = *i + 1, o = 0;
    *overflow = 0;
    for (;;) {
        char enc[4];
        size_t elen;
        unsigned char c;
        if (at >= n) return 0;
        c = (unsigned char)s[at];
        if (c == '"') break;
        if (c < 0x20) return 0;
        if (c == '\\') {
            unsigned cp;
            if (at + 1 >= n) return 0;
            c = (unsigned char)s[at + 1];
            at += 2;
            elen = 1;
            switch (c) {
            case '"': case '\\': case '/': enc[0] = (char)c; break;
            case 'b': enc[0] = '\b'; break;
            case 'f': enc[0] = '\f'; break;
            case 'n': enc[0] = '\n'; break;
            case 'r': enc[0] = '\r'; break;
            case 't': enc[0] = '\t'; break;
            case 'u':
                if (!kinagg__ac_hex4(s, n, at, &cp)) return 0;
                at += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) { /* a pair, or nothing */
                    unsigned lo;
                    if (at + 2 > n || s[at] != '\\' || s[at + 1] != 'u' || !kinagg__ac_hex4(s, n, at + 2, &lo) ||
                        lo < 0xDC00 || lo > 0xDFFF)
                        return 0;
                    at += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return 0;
                }
                elen = kinagg__ac_put_utf8(enc, cp);
                break;
            default:
                return 0;
            }
        } else {
            elen = kinagg__ac_utf8((const unsigned char *)s + at, n - at);
            if (!elen) return 0;
            memcpy(enc, s + at, elen);
            at += elen;
        }
        if (dst) {
            if (o + elen < cap) memcpy(dst + o, enc, elen);
            else *overflow = 1;
        }
        o += elen;
    }
    if (dst && cap) dst[*overflow ? 0 : o] = '\0';
    *dlen = o;
    *i = at + 1;
    return 1;
}

static int kinagg__ac_digit(const char *s, size_t n, size_t at) { return at < n && s[at] >= '0' && s[at] <= '9'; }

static int kinagg__ac_jnum(const char *s, size_t n, size_t *i) {
    size_t at = *i;
    if (at < n && s[at] == '-') at++;
    if (!kinagg__ac_digit(s, n, at)) return 0;
    if (s[at] == '0') at++;
    else while (kinagg__ac_digit(s, n, at)) at++;
    if (at < n && s[at] == '.') {
        at++;
        if (!kinagg__ac_digit(s, n, at)) return 0;
        while (kinagg__ac_digit(s, n, at)) at++;
    }
    if (at < n && (s[at] == 'e' || s[at] == 'E')) {
        at++;
        if (at < n && (s[at] == '+' || s[at] == '-')) at++;
        if (!kinagg__ac_digit(s, n, at)) return 0;
        while (kinagg__ac_digit(s, n, at)) at++;
    }
    *i = at;
    return 1;
}

/* Scans s[0, n), a JSON object, filling the slots. 1 on success; else 0
 * with why filled (never with text of the document). */
static int kinagg__ac_json(const char *s, size_t n, kinagg__ac_slot *slots, size_t nslots, char *why, size_t why_cap) {
    char kind[KINAGG__AC_DEPTH + 1];
    char lkey[KINAGG__AC_DEPTH + 1][KINAGG__AC_KEY]; /* the key a level was entered by */
    char ckey[KINAGG__AC_DEPTH + 1][KINAGG__AC_KEY]; /* the member being read in an object level */
    enum { VALUE, VALUE_OR_CLOSE, KEY, KEY_OR_CLOSE, AFTER } expect = VALUE;
    int depth = 0, over;
    size_t i = 0, k, dl;
    const char *bad = "not valid JSON";
    kind[0] = 0;
    lkey[0][0] = ckey[0][0] = '\0';
    for (;;) {
        char c;
        kinagg__ac_slot *slot = NULL;
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
        if (i >= n) {
            if (expect == AFTER && depth == 0) return 1;
            bad = "not valid JSON (it ends early)";
            goto fail;
        }
        c = s[i];
        if (expect == AFTER) {
            if (depth == 0) {
                bad = "not valid JSON (more after the document)";
                goto fail;
            }
            if (c == ',') {
                i++;
                expect = kind[depth] == 'o' ? KEY : VALUE;
                continue;
            }
            if ((c == '}' && kind[depth] == 'o') || (c == ']' && kind[depth] == 'a')) {
                i++;
                depth--;
                continue;
            }
            goto fail;
        }
        if (expect == KEY || expect == KEY_OR_CLOSE) {
            if (c == '}' && expect == KEY_OR_CLOSE) {
                i++;
                depth--;
                expect = AFTER;
                continue;
            }
            if (c != '"' || !kinagg__ac_jstr(s, n, &i, ckey[depth], KINAGG__AC_KEY, &over, &dl)) goto fail;
            if (over || strlen(ckey[depth]) != dl) strcpy(ckey[depth], "\x01"); /* a key that matches nothing */
            while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
            if (i >= n || s[i] != ':') goto fail;
            i++;
            expect = VALUE;
            continue;
        }
        /* a value */
        if (c == ']' && expect == VALUE_OR_CLOSE) {
            i++;
            depth--;
            expect = AFTER;
            continue;
        }
        if (depth == 0 && c != '{') {
            bad = "not a JSON object";
            goto fail;
        }
        if (depth > 0 && kind[depth] == 'o')
            for (k = 0; k < nslots && !slot; k++) {
                kinagg__ac_slot *t = &slots[k];
                if (strcmp(t->key, ckey[depth]) != 0) continue;
                if (t->parent ? depth == 2 && kind[1] == 'o' && strcmp(t->parent, lkey[2]) == 0 : depth == 1) slot = t;
            }
        if (slot && slot->found) {
            kinagg__ac_why(why, why_cap, "%s appears twice", slot->key);
            return 0;
        }
        if (c == '{' || c == '[') {
            if (slot) {
                kinagg__ac_why(why, why_cap, "%s is not a %s", slot->key, slot->number ? "number" : "string");
                return 0;
            }
            if (depth == KINAGG__AC_DEPTH) {
                bad = "JSON nested too deeply";
                goto fail;
            }
            depth++;
            kind[depth] = c == '{' ? 'o' : 'a';
            strcpy(lkey[depth], depth > 1 && kind[depth - 1] == 'o' ? ckey[depth - 1] : "");
            ckey[depth][0] = '\0';
            i++;
            expect = c == '{' ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
            continue;
        }
        expect = AFTER;
        if (c == '"') {
            if (slot && !slot->number) {
                if (!kinagg__ac_jstr(s, n, &i, slot->dst, slot->cap, &over, &dl)) goto fail;
                if (over) {
                    kinagg__ac_why(why, why_cap, "%s is too long (%lu bytes; room for %lu)", slot->key, (unsigned long)dl,
                             (unsigned long)(slot->cap - 1));
                    return 0;
                }
                if (strlen(slot->dst) != dl) {
                    kinagg__ac_why(why, why_cap, "%s holds a NUL character", slot->key);
                    return 0;
                }
                slot->found = 1;
                continue;
            }
            if (!kinagg__ac_jstr(s, n, &i, NULL, 0, &over, &dl)) goto fail;
            if (slot) {
                kinagg__ac_why(why, why_cap, "%s is not a number", slot->key);
                return 0;
            }
            continue;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            size_t start = i;
            if (!kinagg__ac_jnum(s, n, &i)) goto fail;
            if (slot && slot->number && i - start < slot->cap) {
                memcpy(slot->dst, s + start, i - start);
                slot->dst[i - start] = '\0';
                slot->found = 1;
            } else if (slot) {
                kinagg__ac_why(why, why_cap, "%s is not a %s", slot->key, slot->number ? "small number" : "string");
                return 0;
            }
            continue;
        }
        if (n - i >= 4 && memcmp(s + i, "null", 4) == 0) { /* as good as absent */
            i += 4;
            continue;
        }
        if ((n - i >= 4 && memcmp(s + i, "true", 4) == 0) || (n - i >= 5 && memcmp(s + i, "false", 5) == 0)) {
            i += s[i] == 't' ? 4 : 5;
            if (slot) {
                kinagg__ac_why(why, why_cap, "%s is not a %s", slot->key, slot->number ? "number" : "string");
                return 0;
            }
            continue;
        }
        goto fail;
    }
fail:
    kinagg__ac_why(why, why_cap, "%s (at byte %lu)", bad, (unsigned long)i);
    return 0;
}

/* ---- XML: a strict, bounded scanner for the STS answers ----------------- */
/* Well-formed XML 1.0 without a DOCTYPE (so no entity of its own, nothing
 * fetched from elsewhere): elements, attributes, the five predefined
 * entities and character references, comments, processing instructions,
 * CDATA. The text of the elements asked for (by the local names of their
 * path from the root) is copied, decoded. No recursion: a stack of 16. */

typedef struct kinagg__ac_xslot {
    const char *path[6]; /* local names from the root, NULL-terminated */
    char *dst;
    size_t cap;
    int found;
} kinagg__ac_xslot;

static int kinagg__ac_xname_start(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c >= 0x80;
}
static int kinagg__ac_xname_char(unsigned char c) {
    return kinagg__ac_xname_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}
static int kinagg__ac_xspace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* A name at s[*i]; its length, or 0. */
static size_t kinagg__ac_xname(const char *s, size_t n, size_t *i) {
    size_t at = *i, start = *i;
    if (at >= n || !kinagg__ac_xname_start((unsigned char)s[at])) return 0;
    while (at < n && kinagg__ac_xname_char((unsigned char)s[at])) at++;
    *i = at;
    return at - start;
}

/* The reference at s[*i] ('&'), decoded into out[4]; its length, or 0 when malformed. */
static size_t kinagg__ac_xref(const char *s, size_t n, size_t *i, char *out) {
    size_t at = *i + 1, start = at, len;
    const char *r;
    while (at < n && s[at] != ';' && at - start < 12) at++;
    if (at >= n || s[at] != ';') return 0;
    r = s + start;
    len = at - start;
    *i = at + 1;
    if (len == 2 && memcmp(r, "lt", 2) == 0) return out[0] = '<', 1;
    if (len == 2 && memcmp(r, "gt", 2) == 0) return out[0] = '>', 1;
    if (len == 3 && memcmp(r, "amp", 3) == 0) return out[0] = '&', 1;
    if (len == 4 && memcmp(r, "quot", 4) == 0) return out[0] = '"', 1;
    if (len == 4 && memcmp(r, "apos", 4) == 0) return out[0] = '\'', 1;
    if (len >= 2 && r[0] == '#') {
        unsigned long cp = 0;
        size_t k = 1;
        int hex = r[1] == 'x';
        if (hex) k = 2;
        if (k >= len) return 0;
        for (; k < len; k++) {
            int d = hex ? kinagg__ac_hex(r[k]) : (r[k] >= '0' && r[k] <= '9' ? r[k] - '0' : -1);
            if (d < 0 || cp > 0x10FFFF) return 0;
            cp = cp * (hex ? 16u : 10u) + (unsigned long)d;
        }
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
            (cp < 0x20 && cp != 0x9 && cp != 0xA && cp != 0xD))
            return 0;
        return kinagg__ac_put_utf8(out, (unsigned)cp);
    }
    return 0;
}

/* Where pat starts in s[from, n), or (size_t)-1. */
static size_t kinagg__ac_find(const char *s, size_t n, size_t from, const char *pat) {
    size_t m = strlen(pat), k;
    for (k = from; k + m <= n; k++)
        if (memcmp(s + k, pat, m) == 0) return k;
    return (size_t)-1;
}

/* Character data of s[from, to): 1 if it is all valid (UTF-8, no control
 * characters but tab and line ends). */
static int kinagg__ac_xchars(const char *s, size_t from, size_t to) {
    while (from < to) {
        unsigned char c = (unsigned char)s[from];
        size_t l = kinagg__ac_utf8((const unsigned char *)s + from, to - from);
        if (!l || (c < 0x20 && c != '\t' && c != '\n' && c != '\r')) return 0;
        from += l;
    }
    return 1;
}

static void kinagg__ac_xlocal(const char **name, size_t *len) {
    size_t k;
    for (k = *len; k > 0; k--)
        if ((*name)[k - 1] == ':') {
            *name += k;
            *len -= k;
            return;
        }
}

/* Scans s[0, n), an XML document, filling the slots; root gets the root
 * element's local name. 1 on success; else 0 with why filled. */
static int kinagg__ac_xml(const char *s, size_t n, kinagg__ac_xslot *slots, size_t nslots, char *root,
                          size_t root_cap, char *why, size_t why_cap) {
    const char *name[KINAGG__AC_DEPTH];
    size_t nlen[KINAGG__AC_DEPTH];
    int depth = 0, roots = 0, active_depth = 0;
    kinagg__ac_xslot *active = NULL;
    size_t i = 0, olen = 0, k;
    const char *bad = "not well-formed XML";
    if (root_cap) root[0] = '\0';
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) i = 3; /* a byte order mark */
    while (i < n) {
        size_t e;
        if (s[i] != '<') { /* character data */
            char enc[4];
            size_t elen;
            if (s[i] == '&') {
                elen = kinagg__ac_xref(s, n, &i, enc);
                if (!elen) {
                    bad = "a malformed or unknown entity reference";
                    goto fail;
                }
                if (depth == 0) goto fail;
            } else {
                unsigned char u = (unsigned char)s[i];
                elen = kinagg__ac_utf8((const unsigned char *)s + i, n - i);
                if (!elen || (u < 0x20 && !kinagg__ac_xspace(s[i]))) goto fail;
                if (depth == 0 && !kinagg__ac_xspace(s[i])) {
                    bad = "text outside the root element";
                    goto fail;
                }
                memcpy(enc, s + i, elen);
                i += elen;
            }
            if (active) {
                if (olen + elen >= active->cap) goto too_long;
                memcpy(active->dst + olen, enc, elen);
                olen += elen;
            }
            continue;
        }
        if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
            if ((e = kinagg__ac_find(s, n, i + 4, "-->")) == (size_t)-1) goto fail;
            i = e + 3;
            continue;
        }
        if (n - i >= 9 && memcmp(s + i, "<![CDATA[", 9) == 0) {
            if (depth == 0 || (e = kinagg__ac_find(s, n, i + 9, "]]>")) == (size_t)-1 ||
                !kinagg__ac_xchars(s, i + 9, e))
                goto fail;
            if (active) {
                if (olen + (e - i - 9) >= active->cap) goto too_long;
                memcpy(active->dst + olen, s + i + 9, e - i - 9);
                olen += e - i - 9;
            }
            i = e + 3;
            continue;
        }
        if (n - i >= 2 && s[i + 1] == '!') {
            bad = "a DOCTYPE or other declaration (not allowed)";
            goto fail;
        }
        if (n - i >= 2 && s[i + 1] == '?') { /* the XML declaration, a processing instruction */
            if ((e = kinagg__ac_find(s, n, i + 2, "?>")) == (size_t)-1 || !kinagg__ac_xchars(s, i + 2, e)) goto fail;
            i = e + 2;
            continue;
        }
        if (n - i >= 2 && s[i + 1] == '/') { /* an end tag */
            size_t at = i + 2, len = kinagg__ac_xname(s, n, &at);
            if (!len || depth == 0 || len != nlen[depth - 1] || memcmp(s + i + 2, name[depth - 1], len) != 0) {
                bad = "an end tag that does not match its start tag";
                goto fail;
            }
            while (at < n && kinagg__ac_xspace(s[at])) at++;
            if (at >= n || s[at] != '>') goto fail;
            i = at + 1;
            if (active && active_depth == depth) {
                active->dst[olen] = '\0';
                active->found = 1;
                active = NULL;
            }
            depth--;
            continue;
        }
        { /* a start tag, with its attributes */
            size_t at = i + 1, len = kinagg__ac_xname(s, n, &at);
            int empty = 0;
            if (!len) goto fail;
            if (depth == 0 && roots) {
                bad = "more than one root element";
                goto fail;
            }
            if (active) {
                kinagg__ac_why(why, why_cap, "an element inside %s", active->path[active_depth - 1]);
                return 0;
            }
            if (depth == KINAGG__AC_DEPTH) {
                bad = "XML nested too deeply";
                goto fail;
            }
            for (;;) {
                size_t before = at;
                char q;
                while (at < n && kinagg__ac_xspace(s[at])) at++;
                if (at >= n) goto fail;
                if (s[at] == '>') {
                    at++;
                    break;
                }
                if (s[at] == '/') {
                    if (at + 1 >= n || s[at + 1] != '>') goto fail;
                    at += 2;
                    empty = 1;
                    break;
                }
                if (at == before || !kinagg__ac_xname(s, n, &at)) goto fail;
                while (at < n && kinagg__ac_xspace(s[at])) at++;
                if (at >= n || s[at] != '=') goto fail;
                at++;
                while (at < n && kinagg__ac_xspace(s[at])) at++;
                if (at >= n || (s[at] != '"' && s[at] != '\'')) goto fail;
                q = s[at++];
                while (at < n && s[at] != q) {
                    char ref[4];
                    if (s[at] == '<') goto fail;
                    if (s[at] == '&') {
                        if (!kinagg__ac_xref(s, n, &at, ref)) goto fail;
                    } else {
                        size_t l = kinagg__ac_utf8((const unsigned char *)s + at, n - at);
                        if (!l || ((unsigned char)s[at] < 0x20 && !kinagg__ac_xspace(s[at]))) goto fail;
                        at += l;
                    }
                }
                if (at >= n) goto fail;
                at++;
            }
            name[depth] = s + i + 1;
            nlen[depth] = len;
            depth++;
            if (depth == 1) {
                const char *l = s + i + 1;
                size_t ll = len;
                kinagg__ac_xlocal(&l, &ll);
                roots = 1;
                if (root_cap) kinagg__ac_clean(root, root_cap, l, ll < root_cap ? ll : root_cap - 1);
            }
            for (k = 0; k < nslots && !active; k++) {
                int m = 0, ok = 1;
                while (m < 6 && slots[k].path[m]) m++;
                if (m != depth) continue;
                for (m = 0; m < depth && ok; m++) {
                    const char *l = name[m];
                    size_t ll = nlen[m];
                    kinagg__ac_xlocal(&l, &ll);
                    ok = strlen(slots[k].path[m]) == ll && memcmp(slots[k].path[m], l, ll) == 0;
                }
                if (!ok) continue;
                if (slots[k].found) {
                    kinagg__ac_why(why, why_cap, "%s appears twice", slots[k].path[depth - 1]);
                    return 0;
                }
                active = &slots[k];
                active_depth = depth;
                olen = 0;
            }
            i = at;
            if (empty) {
                if (active) {
                    active->dst[0] = '\0';
                    active->found = 1;
                    active = NULL;
                }
                depth--;
            }
        }
    }
    if (!roots || depth) {
        bad = roots ? "XML ends early" : "no XML element";
        goto fail;
    }
    return 1;
too_long:
    kinagg__ac_why(why, why_cap, "%s is too long", active->path[active_depth - 1]);
    return 0;
fail:
    kinagg__ac_why(why, why_cap, "%s (at byte %lu)", bad, (unsigned long)i);
    return 0;
}

/* ---- credential documents ----------------------------------------------- */

static void kinagg__ac_xpath(kinagg__ac_xslot *x, const char *a, const char *b, const char *c, const char *d,
                             char *dst, size_t cap) {
    memset(x, 0, sizeof *x);
    x->path[0] = a;
    x->path[1] = b;
    x->path[2] = c;
    x->path[3] = d;
    x->dst = dst;
    x->cap = cap;
    dst[0] = '\0';
}

static void kinagg__ac_jslot(kinagg__ac_slot *j, const char *parent, const char *key, int number, char *dst,
                             size_t cap) {
    memset(j, 0, sizeof *j);
    j->parent = parent;
    j->key = key;
    j->number = number;
    j->dst = dst;
    j->cap = cap;
    dst[0] = '\0';
}

KINAGG_API kinagg_status kinagg_aws_parse_credentials(kinagg_aws_document kind, const char *doc, size_t len,
                                                      uint64_t now_unix_ms, kinagg_aws_credential_set *out, char *why,
                                                      size_t why_cap) {
    /* the members' names: key id, secret, token, expiration */
    static const char *const names[5][4] = {
        {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"},
        {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"},
        {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"},
        {"accessKeyId", "secretAccessKey", "sessionToken", "expiration"},
        {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}};
    char scratch[256], extra[64], expiration[64], err_code[128], err_msg[512], root[64], shown[80];
    const char *const *nm;
    kinagg_status st = KINAGG_ERR_JSON;
    size_t k;
    uint64_t expires = 0;
    if (!why || !why_cap) {
        why = scratch;
        why_cap = sizeof scratch;
    }
    why[0] = '\0';
    if (!out || (!doc && len) || (int)kind < 0 || kind > KINAGG_AWS_DOC_STS) {
        kinagg__ac_why(why, why_cap, "bad arguments");
        return KINAGG_ERR_INVALID_ARGUMENT;
    }
    kinagg__ac_wipe(out, sizeof *out);
    if (!doc) doc = "";
    nm = names[kind];
    if (kind == KINAGG_AWS_DOC_STS) {
        kinagg__ac_xslot x[6];
        static const char *const r = "AssumeRoleWithWebIdentityResponse", *const res = "AssumeRoleWithWebIdentityResult";
        kinagg__ac_xpath(&x[0], r, res, "Credentials", "AccessKeyId", out->access_key_id, sizeof out->access_key_id);
        kinagg__ac_xpath(&x[1], r, res, "Credentials", "SecretAccessKey", out->secret_access_key,
                         sizeof out->secret_access_key);
        kinagg__ac_xpath(&x[2], r, res, "Credentials", "SessionToken", out->session_token, sizeof out->session_token);
        kinagg__ac_xpath(&x[3], r, res, "Credentials", "Expiration", expiration, sizeof expiration);
        kinagg__ac_xpath(&x[4], "ErrorResponse", "Error", "Code", NULL, err_code, sizeof err_code);
        kinagg__ac_xpath(&x[5], "ErrorResponse", "Error", "Message", NULL, err_msg, sizeof err_msg);
        st = KINAGG_ERR_HTTP_PARSE;
        if (!kinagg__ac_xml(doc, len, x, 6, root, sizeof root, why, why_cap)) goto fail;
        if (strcmp(root, "ErrorResponse") == 0) {
            char c[100], m[300];
            kinagg__ac_clean(c, sizeof c, err_code, sizeof err_code);
            kinagg__ac_clean(m, sizeof m, err_msg, sizeof err_msg);
            kinagg__ac_why(why, why_cap, "%s: %s", c[0] ? c : "(no Code)", m[0] ? m : "(no Message)");
            st = KINAGG_ERR_SERVICE;
            goto fail;
        }
        if (strcmp(root, "AssumeRoleWithWebIdentityResponse") != 0) {
            kinagg__ac_why(why, why_cap, "the root element is <%s>, not <AssumeRoleWithWebIdentityResponse>", root);
            goto fail;
        }
    } else {
        kinagg__ac_slot j[5];
        const char *parent = kind == KINAGG_AWS_DOC_IOT ? "credentials" : NULL;
        size_t nj = 4;
        kinagg__ac_jslot(&j[0], parent, nm[0], 0, out->access_key_id, sizeof out->access_key_id);
        kinagg__ac_jslot(&j[1], parent, nm[1], 0, out->secret_access_key, sizeof out->secret_access_key);
        kinagg__ac_jslot(&j[2], parent, nm[2], 0, out->session_token, sizeof out->session_token);
        kinagg__ac_jslot(&j[3], parent, nm[3], 0, expiration, sizeof expiration);
        if (kind == KINAGG_AWS_DOC_PROCESS) kinagg__ac_jslot(&j[nj++], NULL, "Version", 1, extra, sizeof extra);
        if (kind == KINAGG_AWS_DOC_IMDS) kinagg__ac_jslot(&j[nj++], NULL, "Code", 0, extra, sizeof extra);
        if (!kinagg__ac_json(doc, len, j, nj, why, why_cap)) goto fail;
        if (kind == KINAGG_AWS_DOC_PROCESS && strcmp(extra, "1") != 0) {
            kinagg__ac_clean(shown, 24, extra, sizeof extra);
            if (extra[0]) kinagg__ac_why(why, why_cap, "Version is %s, not 1", shown);
            else kinagg__ac_why(why, why_cap, "missing Version (1)");
            goto fail;
        }
        if (kind == KINAGG_AWS_DOC_IMDS && strcmp(extra, "Success") != 0) {
            kinagg__ac_clean(shown, 40, extra, sizeof extra);
            if (extra[0]) kinagg__ac_why(why, why_cap, "Code is \"%s\", not \"Success\"", shown);
            else kinagg__ac_why(why, why_cap, "missing Code");
            st = extra[0] ? KINAGG_ERR_SERVICE : KINAGG_ERR_JSON;
            goto fail;
        }
    }
    /* present, and made of what credentials are made of */
    for (k = 0; k < 4; k++) {
        const char *v = k == 0 ? out->access_key_id : k == 1 ? out->secret_access_key : k == 2 ? out->session_token
                                                                                             : expiration;
        if (!v[0] && (k < 2 || kind != KINAGG_AWS_DOC_PROCESS)) {
            kinagg__ac_why(why, why_cap, "missing %s", nm[k]);
            goto fail;
        }
        if (k < 3 && !kinagg__ac_visible(v, strlen(v))) {
            kinagg__ac_why(why, why_cap, "%s has characters other than visible ASCII", nm[k]);
            goto fail;
        }
    }
    for (k = 0; out->access_key_id[k]; k++) {
        char c = out->access_key_id[k];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
            kinagg__ac_why(why, why_cap, "%s has characters other than A-Z, a-z and 0-9", nm[0]);
            goto fail;
        }
    }
    if (strlen(out->access_key_id) > 128 || strlen(out->secret_access_key) > 128) {
        kinagg__ac_why(why, why_cap, "%s or %s is longer than 128 characters", nm[0], nm[1]);
        goto fail;
    }
    if (expiration[0]) {
        kinagg__ac_clean(shown, 48, expiration, sizeof expiration);
        if (kinagg_aws_parse_time(kinagg_str_c(expiration), &expires) != KINAGG_OK) {
            kinagg__ac_why(why, why_cap, "%s \"%s\" is not an ISO 8601 UTC time", nm[3], shown);
            goto fail;
        }
        if (expires <= now_unix_ms) {
            kinagg__ac_why(why, why_cap, "the credentials expired at %s", shown);
            st = KINAGG_ERR_EXPIRED;
            goto fail;
        }
    }
    out->expires_unix_ms = expires;
    kinagg__ac_wipe(scratch, sizeof scratch);
    return KINAGG_OK;
fail:
    kinagg__ac_wipe(out, sizeof *out);
    if (!why[0]) kinagg__ac_why(why, why_cap, "malformed document");
    return st;
}

/* ---- profiles: what kinagg_aws_config does not read ---------------------- */

typedef struct kinagg__ac_prof {
    char credential_process[2048];
    char role_arn[2048];
    char web_identity_token_file[1024];
    char role_session_name[72];
    char source_profile[128];
    char credential_source[64];
    char region[64];
    int sso;
    int found;               /* the profile's section exists in a file */
    const char *too_long;    /* a value that did not fit */
} kinagg__ac_prof;

/* A setting of the profile's section (not a sub-setting), into the fields
 * still empty: the credentials file is read first, and wins. */
static void kinagg__ac_setting(void *ctx, const char *parent, const char *key, const char *val) {
    kinagg__ac_prof *pr = (kinagg__ac_prof *)ctx;
    if (parent) return;
#define KINAGG__AC_FIELD(name)                                                     \
    if (strcmp(key, #name) == 0) {                                                 \
        if (!pr->name[0] && !kinagg__ac_set(pr->name, sizeof pr->name, val)) pr->too_long = #name; \
        return;                                                                    \
    }
    KINAGG__AC_FIELD(credential_process)
    KINAGG__AC_FIELD(role_arn)
    KINAGG__AC_FIELD(web_identity_token_file)
    KINAGG__AC_FIELD(role_session_name)
    KINAGG__AC_FIELD(source_profile)
    KINAGG__AC_FIELD(credential_source)
    KINAGG__AC_FIELD(region)
#undef KINAGG__AC_FIELD
    /* what makes botocore's SSO provider take the profile */
    if (strcmp(key, "sso_role_name") == 0 || strcmp(key, "sso_account_id") == 0) pr->sso = 1;
}

/* Reads section of the INI file at path (read as kinagg_aws_config reads
 * it, [DEFAULT]'s settings after the section's own) into the fields still
 * empty. */
static void kinagg__ac_ini(const char *path, const char *section, kinagg__ac_prof *pr) {
    char why[512];
    if (kinagg__cfg_scan_layered(path, section, kinagg__ac_setting, pr, why, sizeof why) > 0) pr->found = 1;
}

/* ---- URLs, and where plain http may go ----------------------------------- */

enum { KINAGG__AC_ALLOW_LOOPBACK = 1, KINAGG__AC_ALLOW_CONTAINER, KINAGG__AC_ALLOW_IMDS };

/* 1 if s starts with the lowercase prefix, in any case. */
static int kinagg__ac_prefix(const char *s, const char *prefix) {
    for (; *prefix; s++, prefix++)
        if (*s != *prefix && !(*s >= 'A' && *s <= 'Z' && *s + 32 == *prefix)) return 0;
    return 1;
}

/* Parses http(s)://host[:port][/path][?query] into p->host, port, tls_used,
 * target (path and query, "/" when none) and host_header. A URL without a
 * scheme is taken as https when bare_https, else refused. */
static int kinagg__ac_url(kinagg_aws_provider *p, const char *url, int bare_https) {
    const char *s = url, *end, *h, *he, *after;
    size_t hl;
    unsigned long port = 0;
    int tls, v6 = 0;
    if (!url) return 0;
    if (kinagg__ac_prefix(s, "https://")) tls = 1, s += 8;
    else if (kinagg__ac_prefix(s, "http://")) tls = 0, s += 7;
    else if (bare_https && !strstr(s, "://")) tls = 1;
    else return 0;
    end = s + strcspn(s, "/?#");
    if (memchr(s, '@', (size_t)(end - s))) return 0; /* user:password@ is not for us */
    if (*s == '[') {
        h = s + 1;
        he = (const char *)memchr(s, ']', (size_t)(end - s));
        if (!he) return 0;
        after = he + 1;
        v6 = 1;
    } else {
        const char *colon = (const char *)memchr(s, ':', (size_t)(end - s));
        h = s;
        he = colon ? colon : end;
        after = he;
    }
    hl = (size_t)(he - h);
    if (hl == 0 || hl >= sizeof p->host) return 0;
    if (after < end) {
        if (*after != ':' || after + 1 == end) return 0;
        for (after++; after < end; after++) {
            if (*after < '0' || *after > '9' || port > 65535) return 0;
            port = port * 10 + (unsigned long)(*after - '0');
        }
        if (port == 0 || port > 65535) return 0;
    }
    memcpy(p->host, h, hl);
    p->host[hl] = '\0';
    {
        size_t k;
        for (k = 0; k < hl; k++) {
            char c = p->host[k];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '-' || c == '_' || (v6 && c == ':')))
                return 0;
        }
    }
    p->tls_used = tls;
    p->port = (uint16_t)(port ? port : tls ? 443 : 80);
    snprintf(p->host_header, sizeof p->host_header, "%s%s%s", v6 ? "[" : "", p->host, v6 ? "]" : "");
    if (port && p->port != (tls ? 443 : 80)) {
        size_t l = strlen(p->host_header);
        snprintf(p->host_header + l, sizeof p->host_header - l, ":%u", (unsigned)p->port);
    }
    {
        size_t tl = strcspn(end, "#");
        if (tl + 2 > sizeof p->target || !kinagg__ac_visible(end, tl)) return 0;
        snprintf(p->target, sizeof p->target, "%s%.*s", *end == '/' ? "" : "/", (int)tl, end);
    }
    return 1;
}

static int kinagg__ac_v4_allowed(int allow, const unsigned char *a) {
    if (a[0] == 127) return 1;
    if (allow == KINAGG__AC_ALLOW_CONTAINER) return a[0] == 169 && a[1] == 254 && a[2] == 170 && (a[3] == 2 || a[3] == 23);
    if (allow == KINAGG__AC_ALLOW_IMDS) return a[0] == 169 && a[1] == 254 && a[2] == 169 && a[3] == 254;
    return 0;
}

static int kinagg__ac_v6_allowed(int allow, const unsigned char *a) {
    static const unsigned char loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char ec2[14] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}; /* fd00:ec2:: */
    if (memcmp(a, loop, 16) == 0) return 1;
    if (memcmp(a, mapped, 12) == 0) return kinagg__ac_v4_allowed(allow, a + 12);
    if (memcmp(a, ec2, 14) != 0) return 0;
    if (allow == KINAGG__AC_ALLOW_CONTAINER) return a[14] == 0x00 && a[15] == 0x23; /* fd00:ec2::23 */
    if (allow == KINAGG__AC_ALLOW_IMDS) return a[14] == 0x02 && a[15] == 0x54;      /* fd00:ec2::254 */
    return 0;
}

static int kinagg__ac_addr_allowed(int allow, const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET) {
        unsigned char a[4];
        memcpy(a, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return kinagg__ac_v4_allowed(allow, a);
    }
    if (sa->sa_family == AF_INET6) {
        unsigned char a[16];
        memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        return kinagg__ac_v6_allowed(allow, a);
    }
    return 0;
}

/* For a host that is an address: 1 if plain http may go to it, 0 if not;
 * -1 for a name (checked once connected). */
static int kinagg__ac_literal_allowed(int allow, const char *host) {
    unsigned char a[16];
    if (inet_pton(AF_INET, host, a) == 1) return kinagg__ac_v4_allowed(allow, a);
    if (inet_pton(AF_INET6, host, a) == 1) return kinagg__ac_v6_allowed(allow, a);
    return -1;
}

static const char *kinagg__ac_allowed_list(int allow) {
    return allow == KINAGG__AC_ALLOW_CONTAINER ? "loopback, 169.254.170.2, 169.254.170.23 and fd00:ec2::23"
           : allow == KINAGG__AC_ALLOW_IMDS    ? "loopback, 169.254.169.254 and fd00:ec2::254"
                                               : "loopback";
}

/* ---- the guard: plain http only to the allowed addresses ---------------- */
/* A transport over the TCP one that looks at the address it actually
 * connected to (after any name lookup) before a byte is sent. */

static kinagg_io kinagg__ac_guard_connect(void *ctx, const char *host, uint16_t port) {
    kinagg_aws_provider *p = (kinagg_aws_provider *)ctx;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    kinagg_io io = p->tcp.connect(p->tcp.ctx, host, port);
    if (io != KINAGG_IO_OK) return io;
    memset(&ss, 0, sizeof ss);
    if (getpeername(p->sock.fd, (struct sockaddr *)&ss, &len) != 0 ||
        !kinagg__ac_addr_allowed(p->allow, (const struct sockaddr *)&ss)) {
        p->tcp.close(p->tcp.ctx);
        snprintf(p->guard_error, sizeof p->guard_error,
                 "%.100s is not at a %s address: credentials come over plain http only from those (use https)",
                 host, kinagg__ac_allowed_list(p->allow));
        return KINAGG_IO_ERROR;
    }
    return KINAGG_IO_OK;
}
static kinagg_io kinagg__ac_guard_send(void *ctx, const unsigned char *d, size_t n, size_t *sent) {
    kinagg_aws_provider *p = (kinagg_aws_provider *)ctx;
    return p->tcp.send(p->tcp.ctx, d, n, sent);
}
static kinagg_io kinagg__ac_guard_recv(void *ctx, unsigned char *b, size_t cap, size_t *got) {
    kinagg_aws_provider *p = (kinagg_aws_provider *)ctx;
    return p->tcp.recv(p->tcp.ctx, b, cap, got);
}
static void kinagg__ac_guard_close(void *ctx) {
    kinagg_aws_provider *p = (kinagg_aws_provider *)ctx;
    p->tcp.close(p->tcp.ctx);
}
static kinagg_io kinagg__ac_guard_wait(void *ctx, unsigned events, uint32_t ms) {
    kinagg_aws_provider *p = (kinagg_aws_provider *)ctx;
    return p->tcp.wait(p->tcp.ctx, events, ms);
}
static const char *kinagg__ac_guard_error(void *ctx) {
    kinagg_aws_provider *p = (kinagg_aws_provider *)ctx;
    return p->guard_error[0] ? p->guard_error : p->tcp.error(p->tcp.ctx);
}

/* ---- connections and requests ------------------------------------------- */

static void kinagg__ac_body_rewind(void *ctx) { ((kinagg_aws_provider *)ctx)->body_pos = 0; }
static size_t kinagg__ac_body_read(void *ctx, unsigned char *out, size_t cap) {
    kinagg_aws_provider *p = (kinagg_aws_provider *)ctx;
    size_t n = p->body_len - p->body_pos;
    if (n > cap) n = cap;
    memcpy(out, p->body + p->body_pos, n);
    p->body_pos += n;
    return n;
}

/* The connection for p->host: TLS when the URL is https, else the guard
 * over TCP (allow says which addresses it lets through). */
static kinagg_status kinagg__ac_conn(kinagg_aws_provider *p, int allow) {
    kinagg_transport t;
    kinagg_posix_socket_init(&p->sock, &p->tcp);
    p->allow = allow;
    if (p->tls_used) {
        if (kinagg_mbedtls_init(&p->tls, &p->tcp, &p->tls_tp) != KINAGG_OK) {
            p->tls_ready = 1;
            return kinagg__ac_fail(p, KINAGG_ERR_TLS, "TLS setup: %s", p->tls.error);
        }
        p->tls_ready = 1;
        t = p->tls_tp;
    } else {
        int lit = kinagg__ac_literal_allowed(allow, p->host);
        if (lit == 0)
            return kinagg__ac_fail(p, KINAGG_ERR_ENDPOINT,
                                   "plain http to %s would carry credentials in the clear: it is allowed only to %s; "
                                   "use https",
                                   p->host, kinagg__ac_allowed_list(allow));
        p->guard.ctx = p;
        p->guard.connect = kinagg__ac_guard_connect;
        p->guard.send = kinagg__ac_guard_send;
        p->guard.recv = kinagg__ac_guard_recv;
        p->guard.close = kinagg__ac_guard_close;
        p->guard.wait = kinagg__ac_guard_wait;
        p->guard.error = kinagg__ac_guard_error;
        t = p->guard;
    }
    kinagg_http_init(&p->http, &t, p->send_buf, sizeof p->send_buf, p->recv_buf, sizeof p->recv_buf);
    return KINAGG_OK;
}

/* Trusts the CA file once, before the first TLS connection. */
static kinagg_status kinagg__ac_tls_ca(kinagg_aws_provider *p) {
    if (!p->tls_used || p->tls.ca_count) return KINAGG_OK;
    if (kinagg_mbedtls_ca_file(&p->tls, p->ca_file) != KINAGG_OK)
        return kinagg__ac_fail(p, KINAGG_ERR_TLS, "cannot read the CA certificates: %s", p->tls.error);
    return KINAGG_OK;
}

/* Begins a request on p's connection. Host and User-Agent are added. */
static kinagg_status kinagg__ac_request(kinagg_aws_provider *p, const char *method, const char *target,
                                        const kinagg_http_header *extra, size_t nextra, size_t body_len) {
    kinagg_http_header h[6];
    size_t n = 0, k;
    kinagg_status st = kinagg__ac_tls_ca(p);
    if (st != KINAGG_OK) return st;
    h[n].name = kinagg_str_c("Host");
    h[n++].value = kinagg_str_c(p->host_header);
    h[n].name = kinagg_str_c("User-Agent");
    h[n++].value = kinagg_str_c("kinagg/" KINAGG_VERSION_STRING);
    for (k = 0; k < nextra && n < 6; k++) h[n++] = extra[k];
    p->http.connect_timeout_ms = p->connect_timeout_ms;
    p->http.send_timeout_ms = p->timeout_ms;
    p->http.recv_timeout_ms = p->timeout_ms;
    p->guard_error[0] = '\0';
    p->body_pos = 0;
    st = kinagg_http_begin(&p->http, p->host, p->port, kinagg_str_c(method), kinagg_str_c(target), h, n,
                           body_len ? &p->body_src : NULL, body_len, kinagg__ac_now(p));
    if (st != KINAGG_OK) return kinagg__ac_fail(p, st, "the request cannot be sent: %s", kinagg_strerror(st));
    return KINAGG_PENDING;
}

static int kinagg__ac_retryable(kinagg_status st) {
    return st == KINAGG_ERR_CONNECT || st == KINAGG_ERR_TIMEOUT || st == KINAGG_ERR_CLOSED || st == KINAGG_ERR_IO;
}

/* The request failed on the way. */
static kinagg_status kinagg__ac_http_failed(kinagg_aws_provider *p, kinagg_status st, const char *what) {
    const char *d = p->http.error_detail;
    return kinagg__ac_fail(p, st, "%s: %s%s%.300s%s", what, kinagg_strerror(st), d && *d ? " (" : "", d ? d : "",
                           d && *d ? ")" : "");
}

/* An answer other than 200: its status and the service's message, if any. */
static kinagg_status kinagg__ac_status_failed(kinagg_aws_provider *p, const char *what) {
    const kinagg_http_response *r = &p->http.response;
    char msg[320] = "", code[96] = "", shown[420] = "";
    const char *b = (const char *)r->body;
    size_t n = r->body_len;
    if (n && b[0] == '<') { /* XML: STS's ErrorResponse */
        kinagg__ac_xslot x[2];
        char root[64], why[64];
        kinagg__ac_xpath(&x[0], "ErrorResponse", "Error", "Code", NULL, code, sizeof code);
        kinagg__ac_xpath(&x[1], "ErrorResponse", "Error", "Message", NULL, msg, sizeof msg);
        if (!kinagg__ac_xml(b, n, x, 2, root, sizeof root, why, sizeof why)) code[0] = msg[0] = '\0';
    } else if (n && b[0] == '{') { /* JSON: {"code", "message"} in any capitalisation the services use */
        kinagg__ac_slot j[4];
        char m2[320], c2[96], why[64];
        kinagg__ac_jslot(&j[0], NULL, "message", 0, msg, sizeof msg);
        kinagg__ac_jslot(&j[1], NULL, "Message", 0, m2, sizeof m2);
        kinagg__ac_jslot(&j[2], NULL, "code", 0, code, sizeof code);
        kinagg__ac_jslot(&j[3], NULL, "Code", 0, c2, sizeof c2);
        if (!kinagg__ac_json(b, n, j, 4, why, sizeof why)) msg[0] = m2[0] = code[0] = c2[0] = '\0';
        if (!msg[0]) memcpy(msg, m2, sizeof msg);
        if (!code[0]) memcpy(code, c2, sizeof code);
    }
    if (code[0] || msg[0]) {
        char c[100], m[300];
        kinagg__ac_clean(c, sizeof c, code, sizeof code);
        kinagg__ac_clean(m, sizeof m, msg, sizeof msg);
        snprintf(shown, sizeof shown, ": %s%s%s", c, c[0] && m[0] ? ": " : "", m);
    }
    return kinagg__ac_fail(p, KINAGG_ERR_SERVICE, "%s: HTTP %d%s", what, r->status, shown);
}

/* ---- providers ----------------------------------------------------------- */

enum {
    KINAGG__AC_IDLE = 0,
    KINAGG__AC_HTTP,        /* container, IoT, STS: one request */
    KINAGG__AC_IMDS_TOKEN,  /* PUT /latest/api/token */
    KINAGG__AC_IMDS_ROLE,   /* GET .../security-credentials/ */
    KINAGG__AC_IMDS_CREDS,  /* GET .../security-credentials/ROLE */
    KINAGG__AC_PROC,        /* credential_process running */
    KINAGG__AC_PROC_KILL    /* killed, being reaped */
};

static void kinagg__ac_init(kinagg_aws_provider *p, kinagg_aws_provider_kind kind, const char *name) {
    const char *ca = kinagg__ac_env("AWS_CA_BUNDLE");
    memset(p, 0, sizeof *p);
    p->kind = kind;
    snprintf(p->name, sizeof p->name, "%s", name);
    p->timeout_ms = 10000;
    p->connect_timeout_ms = 3000;
    p->attempts = 1;
    p->min_refresh_ms = 1000;
    p->imds_token_ttl_s = 21600;
    snprintf(p->ca_file, sizeof p->ca_file, "%s", ca ? ca : "/etc/ssl/certs/ca-certificates.crt");
    kinagg_posix_platform(&p->platform);
    p->fd = -1;
    p->body_src.ctx = p;
    p->body_src.rewind = kinagg__ac_body_rewind;
    p->body_src.read = kinagg__ac_body_read;
}

/* Ends a fetch: the connection closed, the buffers (requests with tokens,
 * answers with secrets) wiped. */
static void kinagg__ac_end_fetch(kinagg_aws_provider *p) {
    if (p->tcp.connect) kinagg_http_close(&p->http);
    kinagg__ac_wipe(p->send_buf, sizeof p->send_buf);
    kinagg__ac_wipe(p->recv_buf, sizeof p->recv_buf);
    kinagg__ac_wipe(p->body, sizeof p->body);
    p->body_len = p->out_len = 0;
    p->state = KINAGG__AC_IDLE;
}

/* Stops whatever is under way (may wait for a killed process to end). */
static void kinagg__ac_abort(kinagg_aws_provider *p) {
    if (p->pid > 0 && !p->exited) {
        kill((pid_t)p->pid, SIGKILL);
        waitpid((pid_t)p->pid, NULL, 0);
    }
    p->pid = 0;
    if (p->fd >= 0) close(p->fd);
    p->fd = -1;
    kinagg__ac_end_fetch(p);
}

/* Everything given back: TLS, the socket, the secrets. */
static void kinagg__ac_release(kinagg_aws_provider *p) {
    kinagg__ac_abort(p);
    if (p->tls_ready) kinagg_mbedtls_free(&p->tls);
    p->tls_ready = 0;
    if (p->tcp.connect) kinagg_posix_socket_release(&p->sock);
    memset(&p->tcp, 0, sizeof p->tcp);
    kinagg__ac_wipe(&p->cur, sizeof p->cur);
    kinagg__ac_wipe(&p->next, sizeof p->next);
    kinagg__ac_wipe(p->imds_token, sizeof p->imds_token);
    p->have = 0;
}

/* An init that failed: nothing kept but the name and the error. */
static kinagg_status kinagg__ac_init_failed(kinagg_aws_provider *p, kinagg_status st) {
    kinagg__ac_release(p);
    p->kind = KINAGG_AWS_PROVIDER_NONE;
    return st;
}

/* Static keys, checked. */
static kinagg_status kinagg__ac_static(kinagg_aws_provider *p, const char *akid, const char *secret, const char *token) {
    if (!token) token = "";
    if (!kinagg__ac_set(p->cur.access_key_id, sizeof p->cur.access_key_id, akid) ||
        !kinagg__ac_set(p->cur.secret_access_key, sizeof p->cur.secret_access_key, secret) ||
        !kinagg__ac_set(p->cur.session_token, sizeof p->cur.session_token, token)) {
        kinagg__ac_wipe(&p->cur, sizeof p->cur);
        return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT, "the key id, secret or session token is too long");
    }
    if (!kinagg__ac_visible(akid, strlen(akid)) || !kinagg__ac_visible(secret, strlen(secret)) ||
        !kinagg__ac_visible(token, strlen(token))) {
        kinagg__ac_wipe(&p->cur, sizeof p->cur);
        return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT,
                               "the key id, secret or session token has characters other than visible ASCII");
    }
    p->have = p->ever_ok = 1;
    return KINAGG_OK;
}

KINAGG_API kinagg_status kinagg_aws_provider_environment(kinagg_aws_provider *p) {
    const char *a = kinagg__ac_env("AWS_ACCESS_KEY_ID"), *s = kinagg__ac_env("AWS_SECRET_ACCESS_KEY");
    kinagg_status st;
    if (!p) return KINAGG_ERR_INVALID_ARGUMENT;
    kinagg__ac_init(p, KINAGG_AWS_PROVIDER_STATIC, "environment variables");
    if (!a || !s)
        return kinagg__ac_init_failed(p, kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT,
                                                         "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set"));
    st = kinagg__ac_static(p, a, s, kinagg__cfg_env_token());
    return st == KINAGG_OK ? st : kinagg__ac_init_failed(p, st);
}

static kinagg_status kinagg__ac_process(kinagg_aws_provider *p, const char *command, const char *profile) {
    kinagg__ac_init(p, KINAGG_AWS_PROVIDER_PROCESS, "credential_process");
    if (profile) snprintf(p->name, sizeof p->name, "credential_process of profile [%.100s]", profile);
    if (!command || !*command) return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT, "no command");
    if (!kinagg__ac_set(p->command, sizeof p->command, command))
        return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT, "the command is too long");
    p->timeout_ms = 30000;
    return KINAGG_OK;
}

KINAGG_API kinagg_status kinagg_aws_provider_process(kinagg_aws_provider *p, const char *command) {
    kinagg_status st;
    if (!p) return KINAGG_ERR_INVALID_ARGUMENT;
    st = kinagg__ac_process(p, command, NULL);
    return st == KINAGG_OK ? st : kinagg__ac_init_failed(p, st);
}

static int kinagg__ac_region_ok(const char *r) {
    size_t k;
    for (k = 0; r[k]; k++)
        if (!((r[k] >= 'a' && r[k] <= 'z') || (r[k] >= '0' && r[k] <= '9') || r[k] == '-')) return 0;
    return k > 0 && k < 64;
}

/* The settings of the environment or the profile that find STS, as the
 * tools find them: region, FIPS, dual-stack. */
typedef struct kinagg__ac_where {
    char region[64];
    int use_fips, use_dualstack;
} kinagg__ac_where;

static void kinagg__ac_config_where(kinagg__ac_where *w, const char *profile) {
    kinagg_aws_config cfg; /* holds keys too: wiped after use */
    (void)kinagg_aws_config_load(&cfg, profile);
    snprintf(w->region, sizeof w->region, "%s", cfg.region);
    w->use_fips = cfg.use_fips;
    w->use_dualstack = cfg.use_dualstack;
    if (cfg.broken) { /* (a file the AWS CLI refuses: the environment's alone) */
        w->use_fips = kinagg__cfg_is_true(getenv("AWS_USE_FIPS_ENDPOINT") ? getenv("AWS_USE_FIPS_ENDPOINT") : "");
        w->use_dualstack = kinagg__cfg_is_true(getenv("AWS_USE_DUALSTACK_ENDPOINT") ? getenv("AWS_USE_DUALSTACK_ENDPOINT") : "");
    }
    kinagg__ac_wipe(&cfg, sizeof cfg);
}

static kinagg_status kinagg__ac_web_identity(kinagg_aws_provider *p, const char *token_file, const char *role_arn,
                                             const char *session_name, const kinagg__ac_where *w) {
    char url[600], signing[64];
    kinagg_endpoint regional;
    kinagg_aws_config fc; /* only its FIPS and dual-stack settings */
    const char *region = w->region;
    const char *ep = kinagg__ac_env("AWS_ENDPOINT_URL_STS");
    size_t k;
    if (!ep) ep = kinagg__ac_env("AWS_ENDPOINT_URL");
    if (kinagg__cfg_is_true(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") ? getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") : ""))
        ep = NULL; /* as botocore: the region's public STS endpoint */
    kinagg__ac_init(p, KINAGG_AWS_PROVIDER_WEB_IDENTITY, "web identity");
    if (!token_file || !*token_file || !role_arn || !*role_arn)
        return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT,
                               "needs a token file (AWS_WEB_IDENTITY_TOKEN_FILE) and a role (AWS_ROLE_ARN)");
    if (!kinagg__ac_set(p->token_file, sizeof p->token_file, token_file) ||
        !kinagg__ac_set(p->role_arn, sizeof p->role_arn, role_arn) || strlen(role_arn) < 20 ||
        !kinagg__ac_visible(role_arn, strlen(role_arn)))
        return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT, "the token file's name or the role ARN is not usable");
    if (session_name && *session_name) {
        if (!kinagg__ac_set(p->session_name, sizeof p->session_name, session_name) || strlen(session_name) < 2 ||
            strlen(session_name) > 64)
            return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT, "the role session name must have 2 to 64 characters");
        for (k = 0; session_name[k]; k++) {
            char c = session_name[k];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("+=,.@_-", c)))
                return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT,
                                       "the role session name may only have letters, digits and +=,.@_-");
        }
    } else {
        snprintf(p->session_name, sizeof p->session_name, "kinagg-%llu", (unsigned long long)kinagg__ac_unix(p));
    }
    if (region && *region) {
        if (!kinagg__ac_region_ok(region)) return kinagg__ac_fail(p, KINAGG_ERR_ENDPOINT, "the region is not usable");
        snprintf(p->region, sizeof p->region, "%s", region);
    }
    if (ep) snprintf(url, sizeof url, "%s", ep);
    else if (p->region[0] && (memset(&fc, 0, sizeof fc), fc.use_fips = w->use_fips, fc.use_dualstack = w->use_dualstack,
                              kinagg_aws_config_endpoint(&fc, p->region, &regional, signing) == KINAGG_OK))
        /* Kinesis's endpoint with "kinesis" off: the partition's suffix, FIPS
         * and dual-stack as the environment or the profile asks (and the
         * fips pseudo-regions) */
        snprintf(url, sizeof url, "https://sts%s", regional.host + 7);
    else snprintf(url, sizeof url, "https://sts.amazonaws.com");
    snprintf(p->name, sizeof p->name, "web identity (STS %.250s)", url);
    if (!kinagg__ac_url(p, url, 0)) return kinagg__ac_fail(p, KINAGG_ERR_ENDPOINT, "the STS endpoint is not a usable URL");
    return kinagg__ac_conn(p, KINAGG__AC_ALLOW_LOOPBACK);
}

KINAGG_API kinagg_status kinagg_aws_provider_web_identity(kinagg_aws_provider *p, const char *token_file,
                                                          const char *role_arn, const char *session_name) {
    kinagg__ac_where w;
    kinagg_status st;
    if (!p) return KINAGG_ERR_INVALID_ARGUMENT;
    kinagg__ac_config_where(&w, NULL);
    st = kinagg__ac_web_identity(p, token_file ? token_file : kinagg__ac_env("AWS_WEB_IDENTITY_TOKEN_FILE"),
                                 role_arn ? role_arn : kinagg__ac_env("AWS_ROLE_ARN"),
                                 session_name ? session_name : kinagg__ac_env("AWS_ROLE_SESSION_NAME"), &w);
    return st == KINAGG_OK ? st : kinagg__ac_init_failed(p, st);
}

/* The profile, in the AWS CLI's order (botocore's chain): role_arn without
 * web_identity_token_file (AssumeRole: not supported, said so);
 * web identity (web_identity_token_file with role_arn; with env_ok, the
 * AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN and AWS_ROLE_SESSION_NAME
 * variables before the profile's settings); sso_account_id or
 * sso_role_name (not supported); the
 * keys in the credentials file; credential_process; the keys in the config
 * file. *nothing is set when it has none of them (the chain then looks
 * further). */
static kinagg_status kinagg__ac_profile(kinagg_aws_provider *p, const char *profile, int env_ok, int *nothing) {
    kinagg__ac_prof pr; /* 5 KiB each: the stack of an init may hold them */
    kinagg_aws_config cfg;
    char cpath[512], fpath[512], section[160], name[128];
    const char *e = kinagg__cfg_env_profile(), *v = profile && *profile ? profile : e && *e ? e : NULL;
    const char *token_file, *role_arn, *session;
    kinagg__ac_where w;
    int is_named = v != NULL;
    kinagg_status st;
    *nothing = 0;
    snprintf(name, sizeof name, "%s", v ? v : "default");
    /* found as kinagg_aws_config finds them (the home directory, never the working directory) */
    kinagg__cfg_path(cpath, sizeof cpath, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
    kinagg__cfg_path(fpath, sizeof fpath, "AWS_CONFIG_FILE", "config");
    memset(&pr, 0, sizeof pr);
    kinagg__ac_ini(cpath, name, &pr);
    if (strcmp(name, "default") == 0) snprintf(section, sizeof section, "%s", kinagg__cfg_default_section(fpath));
    else snprintf(section, sizeof section, "profile %s", name);
    kinagg__ac_ini(fpath, section, &pr);
    kinagg__ac_init(p, KINAGG_AWS_PROVIDER_STATIC, "");
    snprintf(p->name, sizeof p->name, "profile [%.100s]", name);
    if (pr.too_long) return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT, "%s is too long", pr.too_long);
    st = kinagg_aws_config_load(&cfg, name); /* a profile named: the environment's keys are not looked at */
    if (cfg.broken && (pr.found || is_named)) { /* (only the default profile may be missing) */
        st = kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT, "%s", cfg.error);
        kinagg__ac_wipe(&cfg, sizeof cfg);
        return st;
    }
    /* role_arn without a token file of the profile's: botocore's AssumeRole,
     * which this port does not implement (and which fails without
     * source_profile or credential_source anyway) */
    if (pr.role_arn[0] && !pr.web_identity_token_file[0]) {
        kinagg__ac_wipe(&cfg, sizeof cfg);
        return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT, "%s",
                               pr.source_profile[0] || pr.credential_source[0]
                                   ? "role_arn with source_profile or credential_source (STS AssumeRole) is not "
                                     "supported: use credential_process, or web_identity_token_file"
                                   : "role_arn without source_profile, credential_source or web_identity_token_file");
    }
    /* web identity: each setting from the environment first, as botocore
     * takes them (a variable set but empty counts as set) */
    token_file = env_ok && getenv("AWS_WEB_IDENTITY_TOKEN_FILE") ? getenv("AWS_WEB_IDENTITY_TOKEN_FILE")
                 : pr.web_identity_token_file[0]                  ? pr.web_identity_token_file
                                                                  : NULL;
    role_arn = env_ok && kinagg__ac_env("AWS_ROLE_ARN") ? kinagg__ac_env("AWS_ROLE_ARN")
               : pr.role_arn[0]                         ? pr.role_arn
                                                        : NULL;
    session = env_ok && kinagg__ac_env("AWS_ROLE_SESSION_NAME") ? kinagg__ac_env("AWS_ROLE_SESSION_NAME")
              : pr.role_session_name[0]                         ? pr.role_session_name
                                                                : NULL;
    if (token_file && token_file[0]) {
        kinagg__ac_wipe(&cfg, sizeof cfg);
        if (!role_arn)
            return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT,
                                   "web identity: a token file (web_identity_token_file or "
                                   "AWS_WEB_IDENTITY_TOKEN_FILE) but no role_arn or AWS_ROLE_ARN");
        kinagg__ac_config_where(&w, is_named ? name : NULL); /* (the default may be missing) */
        if (pr.region[0] && !kinagg__ac_env("AWS_REGION") && !kinagg__ac_env("AWS_DEFAULT_REGION"))
            snprintf(w.region, sizeof w.region, "%s", pr.region);
        st = kinagg__ac_web_identity(p, token_file, role_arn, session, &w);
        if (st == KINAGG_OK && pr.web_identity_token_file[0]) {
            size_t l = strlen(p->name);
            snprintf(p->name + l, sizeof p->name - l, " of profile [%.100s]", name);
        }
        return st;
    }
    if (pr.sso) {
        kinagg__ac_wipe(&cfg, sizeof cfg);
        return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT,
                               "IAM Identity Center (sso_*) profiles are not supported: use credential_process = "
                               "aws configure export-credentials --profile %s --format process",
                               name);
    }
    if (st != KINAGG_OK && (cfg.access_key_id[0] || cfg.secret_access_key[0])) {
        kinagg__ac_wipe(&cfg, sizeof cfg);
        return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT,
                               "has only one of aws_access_key_id and aws_secret_access_key");
    }
    /* the credentials file's keys, then credential_process, then the config file's keys */
    if (st == KINAGG_OK && (cfg.keys_from != KINAGG_AWS_KEYS_FROM_CONFIG_FILE || !pr.credential_process[0])) {
        snprintf(p->name, sizeof p->name, "profile [%.100s] (%.160s)", name, cfg.source);
        st = kinagg__ac_static(p, cfg.access_key_id, cfg.secret_access_key, cfg.session_token);
        kinagg__ac_wipe(&cfg, sizeof cfg);
        return st;
    }
    kinagg__ac_wipe(&cfg, sizeof cfg);
    if (pr.credential_process[0]) return kinagg__ac_process(p, pr.credential_process, name);
    *nothing = 1;
    return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT, "%s in %.150s or %.150s",
                           pr.found ? "no aws_access_key_id, credential_process or web_identity_token_file"
                                    : "no such profile",
                           cpath[0] ? cpath : "~/.aws/credentials (no home directory)",
                           fpath[0] ? fpath : "~/.aws/config (no home directory)");
}

KINAGG_API kinagg_status kinagg_aws_provider_profile(kinagg_aws_provider *p, const char *profile) {
    int nothing;
    kinagg_status st;
    if (!p) return KINAGG_ERR_INVALID_ARGUMENT;
    st = kinagg__ac_profile(p, profile, 0, &nothing);
    return st == KINAGG_OK ? st : kinagg__ac_init_failed(p, st);
}

KINAGG_API kinagg_status kinagg_aws_provider_container(kinagg_aws_provider *p) {
    const char *rel = kinagg__ac_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = kinagg__ac_env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    char url[1100];
    kinagg_status st;
    if (!p) return KINAGG_ERR_INVALID_ARGUMENT;
    kinagg__ac_init(p, KINAGG_AWS_PROVIDER_CONTAINER, "container credentials");
    if (rel) {
        if (rel[0] != '/' || strlen(rel) > 1000)
            return kinagg__ac_init_failed(p, kinagg__ac_fail(p, KINAGG_ERR_ENDPOINT,
                                                             "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path"));
        snprintf(url, sizeof url, "http://169.254.170.2%s", rel);
    } else if (full) {
        if (!kinagg__ac_set(url, sizeof url, full))
            return kinagg__ac_init_failed(p, kinagg__ac_fail(p, KINAGG_ERR_ENDPOINT,
                                                             "AWS_CONTAINER_CREDENTIALS_FULL_URI is too long"));
    } else {
        return kinagg__ac_init_failed(
            p, kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT,
                               "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI "
                               "is set"));
    }
    snprintf(p->name, sizeof p->name, "container credentials (%.*s)", (int)strcspn(url, "?#"), url);
    if (!kinagg__ac_url(p, url, 0))
        return kinagg__ac_init_failed(p, kinagg__ac_fail(p, KINAGG_ERR_ENDPOINT, "not a usable http(s) URL"));
    st = kinagg__ac_conn(p, KINAGG__AC_ALLOW_CONTAINER);
    return st == KINAGG_OK ? st : kinagg__ac_init_failed(p, st);
}

KINAGG_API kinagg_status kinagg_aws_provider_imds(kinagg_aws_provider *p) {
    const char *off = kinagg__ac_env("AWS_EC2_METADATA_DISABLED");
    const char *ep = kinagg__ac_env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = kinagg__ac_env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    size_t l;
    kinagg_status st;
    if (!p) return KINAGG_ERR_INVALID_ARGUMENT;
    if (!ep) ep = mode && kinagg__ac_ieq(mode, "IPv6") ? "http://[fd00:ec2::254]" : "http://169.254.169.254";
    kinagg__ac_init(p, KINAGG_AWS_PROVIDER_IMDS, "");
    snprintf(p->name, sizeof p->name, "EC2 instance metadata (%.250s)", ep);
    if (off && kinagg__ac_ieq(off, "true"))
        return kinagg__ac_init_failed(p, kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT,
                                                         "disabled by AWS_EC2_METADATA_DISABLED"));
    if (!kinagg__ac_url(p, ep, 0) || strchr(p->target, '?'))
        return kinagg__ac_init_failed(p, kinagg__ac_fail(p, KINAGG_ERR_ENDPOINT, "not a usable http(s) URL"));
    l = strlen(p->target); /* a base path: requests go below it */
    while (l && p->target[l - 1] == '/') p->target[--l] = '\0';
    p->connect_timeout_ms = 1000;
    p->timeout_ms = 1000;
    p->attempts = 2;
    st = kinagg__ac_conn(p, KINAGG__AC_ALLOW_IMDS);
    return st == KINAGG_OK ? st : kinagg__ac_init_failed(p, st);
}

static int kinagg__ac_name_ok(const char *s, const char *extra, size_t max) {
    size_t k;
    for (k = 0; s[k]; k++)
        if (!((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') || (s[k] >= '0' && s[k] <= '9') ||
              strchr(extra, s[k])))
            return 0;
    return k > 0 && k <= max;
}

KINAGG_API kinagg_status kinagg_aws_provider_iot(kinagg_aws_provider *p, const char *endpoint, const char *role_alias,
                                                 const char *thing_name, const char *cert_file,
                                                 const char *key_file, const char *ca_file) {
    kinagg_status st;
    if (!p) return KINAGG_ERR_INVALID_ARGUMENT;
    kinagg__ac_init(p, KINAGG_AWS_PROVIDER_IOT, "AWS IoT credentials provider");
    if (!endpoint || !*endpoint || !role_alias || !*role_alias || !cert_file || !*cert_file || !key_file || !*key_file)
        return kinagg__ac_init_failed(
            p, kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT,
                               "needs the credentials endpoint, a role alias, the device certificate and its key"));
    if (!kinagg__ac_url(p, endpoint, 1) || !p->tls_used || strcmp(p->target, "/") != 0)
        return kinagg__ac_init_failed(p, kinagg__ac_fail(p, KINAGG_ERR_ENDPOINT,
                                                         "the endpoint must be host[:port] or https://host[:port]"));
    if (!kinagg__ac_name_ok(role_alias, "=,@_-", 128) || (thing_name && *thing_name && !kinagg__ac_name_ok(thing_name, ":_-", 128)))
        return kinagg__ac_init_failed(p, kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT,
                                                         "the role alias or thing name has characters AWS IoT refuses"));
    snprintf(p->role_alias, sizeof p->role_alias, "%s", role_alias);
    snprintf(p->thing_name, sizeof p->thing_name, "%s", thing_name ? thing_name : "");
    snprintf(p->target, sizeof p->target, "/role-aliases/%s/credentials", role_alias);
    if (ca_file && *ca_file) snprintf(p->ca_file, sizeof p->ca_file, "%s", ca_file);
    snprintf(p->name, sizeof p->name, "AWS IoT credentials provider (https://%.256s, role alias %s)", p->host_header,
             role_alias);
    if (!kinagg__ac_set(p->cert_file, sizeof p->cert_file, cert_file) ||
        !kinagg__ac_set(p->key_file, sizeof p->key_file, key_file))
        return kinagg__ac_init_failed(p, kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT, "a file name is too long"));
    st = kinagg__ac_conn(p, 0);
    if (st == KINAGG_OK && kinagg_mbedtls_client_cert_file(&p->tls, cert_file, key_file) != KINAGG_OK)
        st = kinagg__ac_fail(p, KINAGG_ERR_TLS, "the device certificate: %s", p->tls.error);
    if (st == KINAGG_OK) st = kinagg__ac_tls_ca(p);
    return st == KINAGG_OK ? st : kinagg__ac_init_failed(p, st);
}

/* ---- fetching ------------------------------------------------------------ */

/* Reads a small file whole into buf (NUL-terminated), trailing white space
 * dropped. The file may hold a secret: on error buf is wiped. */
static kinagg_status kinagg__ac_read_file(kinagg_aws_provider *p, const char *path, char *buf, size_t cap,
                                          size_t *len, const char *what) {
    FILE *f = fopen(path, "rb");
    size_t n;
    int more;
    if (!f) return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT, "cannot read %s %.300s: %s", what, path, strerror(errno));
    n = fread(buf, 1, cap - 1, f);
    more = n == cap - 1 && fgetc(f) != EOF;
    fclose(f);
    if (more) {
        kinagg__ac_wipe(buf, cap);
        return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT, "%s %.300s is larger than %lu bytes", what, path,
                               (unsigned long)(cap - 1));
    }
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t')) n--;
    buf[n] = '\0';
    if (!n) return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT, "%s %.300s is empty", what, path);
    *len = n;
    return KINAGG_OK;
}

/* Form encoding (RFC 3986 unreserved characters kept) of s[0, n) at
 * out[*w], reading no further than limit allows: the caller may have the
 * input at the end of the same buffer (writing never passes reading). */
static int kinagg__ac_form(char *out, size_t *w, size_t cap, const char *s, size_t n, int in_place) {
    static const char hex[] = "0123456789ABCDEF";
    size_t k;
    for (k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                   c == '_' || c == '.' || c == '~';
        size_t need = keep ? 1 : 3;
        size_t limit = in_place ? (size_t)(s + k + 1 - out) : cap;
        if (*w + need > limit || *w + need > cap) return 0;
        if (keep) {
            out[(*w)++] = (char)c;
        } else {
            out[(*w)++] = '%';
            out[(*w)++] = hex[c >> 4];
            out[(*w)++] = hex[c & 15];
        }
    }
    return 1;
}

/* The STS form, with the web identity token read from its file now. */
static kinagg_status kinagg__ac_sts_body(kinagg_aws_provider *p) {
    static const char head[] = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=";
    size_t w = 0, tlen = 0, cap = sizeof p->body, room = 20001;
    char *tok = p->body + cap - room; /* the token at the end; the form is written before it */
    kinagg_status st = kinagg__ac_read_file(p, p->token_file, tok, room, &tlen, "the web identity token file");
    if (st != KINAGG_OK) return st;
    if (!kinagg__ac_visible(tok, tlen)) {
        kinagg__ac_wipe(p->body, sizeof p->body);
        return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT,
                               "the web identity token in %.300s has characters a token never has", p->token_file);
    }
    memcpy(p->body, head, sizeof head - 1);
    w = sizeof head - 1;
    /* the ARN takes at most 3 x 2047 bytes, the session name 64: all fit before the token */
    kinagg__ac_form(p->body, &w, cap - room, p->role_arn, strlen(p->role_arn), 0);
    memcpy(p->body + w, "&RoleSessionName=", 17);
    w += 17;
    kinagg__ac_form(p->body, &w, cap - room, p->session_name, strlen(p->session_name), 0);
    memcpy(p->body + w, "&WebIdentityToken=", 18);
    w += 18;
    if (!kinagg__ac_form(p->body, &w, cap, tok, tlen, 1)) {
        kinagg__ac_wipe(p->body, sizeof p->body);
        return kinagg__ac_fail(p, KINAGG_ERR_BUFFER_TOO_SMALL, "the web identity token is too long");
    }
    kinagg__ac_wipe(p->body + w, cap - w); /* what is left of the raw token */
    p->body_len = w;
    return KINAGG_OK;
}

/* Sends the request of the current state (again, after a failed attempt). */
static kinagg_status kinagg__ac_send(kinagg_aws_provider *p) {
    kinagg_http_header h[3];
    char target[1240], ttl[16];
    size_t nh = 0;
    kinagg_status st;
    switch (p->state) {
    case KINAGG__AC_HTTP:
        if (p->kind == KINAGG_AWS_PROVIDER_CONTAINER) {
            const char *file = kinagg__ac_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
            const char *tok = kinagg__ac_env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
            size_t n = 0, k;
            if (file) { /* read on every fetch: it is rotated; it wins over the variable */
                st = kinagg__ac_read_file(p, file, p->body, sizeof p->body, &n, "the authorization token file");
                if (st != KINAGG_OK) return st;
                tok = p->body;
            }
            if (tok) {
                for (k = 0; tok[k]; k++)
                    if ((unsigned char)tok[k] < 0x20 || (unsigned char)tok[k] > 0x7e)
                        return kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT,
                                               "the authorization token has a line break or other control character");
                h[nh].name = kinagg_str_c("Authorization");
                h[nh++].value = kinagg_str_c(tok);
            }
            h[nh].name = kinagg_str_c("Accept");
            h[nh++].value = kinagg_str_c("application/json");
            st = kinagg__ac_request(p, "GET", p->target, h, nh, 0);
            kinagg__ac_wipe(p->body, n); /* the head with the token is in the send buffer now */
            return st;
        }
        if (p->kind == KINAGG_AWS_PROVIDER_IOT) {
            if (p->thing_name[0]) {
                h[nh].name = kinagg_str_c("x-amzn-iot-thingname");
                h[nh++].value = kinagg_str_c(p->thing_name);
            }
            return kinagg__ac_request(p, "GET", p->target, h, nh, 0);
        }
        h[nh].name = kinagg_str_c("Content-Type"); /* STS */
        h[nh++].value = kinagg_str_c("application/x-www-form-urlencoded; charset=utf-8");
        return kinagg__ac_request(p, "POST", p->target[0] ? p->target : "/", h, nh, p->body_len);
    case KINAGG__AC_IMDS_TOKEN:
        snprintf(ttl, sizeof ttl, "%u", (unsigned)p->imds_token_ttl_s);
        snprintf(target, sizeof target, "%s/latest/api/token", p->target);
        h[0].name = kinagg_str_c("X-aws-ec2-metadata-token-ttl-seconds");
        h[0].value = kinagg_str_c(ttl);
        return kinagg__ac_request(p, "PUT", target, h, 1, 0);
    case KINAGG__AC_IMDS_ROLE:
    case KINAGG__AC_IMDS_CREDS:
        snprintf(target, sizeof target, "%s/latest/meta-data/iam/security-credentials/%s", p->target,
                 p->state == KINAGG__AC_IMDS_CREDS ? p->imds_role : "");
        h[0].name = kinagg_str_c("X-aws-ec2-metadata-token");
        h[0].value = kinagg_str_c(p->imds_token);
        return kinagg__ac_request(p, "GET", target, h, 1, 0);
    default:
        return kinagg__ac_fail(p, KINAGG_ERR_STATE, "no request to send");
    }
}

/* The clock from an answer's Date (IMF-fixdate, "Sun, 06 Nov 1994
 * 08:49:37 GMT", as the AWS services send it): credentials expire by the
 * service's clock, and a device clock hours ahead (an RTC kept in local
 * time) would take every document as expired, one behind as good for too
 * long. Differences under a minute are left alone. */
static void kinagg__ac_learn_clock(kinagg_aws_provider *p) {
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const kinagg_str *date = kinagg_http_header_get(&p->http.response, "date");
    char iso[24];
    uint64_t server;
    int64_t diff;
    int m;
    if (!date || date->len != 29 || memcmp(date->ptr + 25, " GMT", 4) != 0) return;
    for (m = 0; m < 12 && memcmp(months + 3 * m, date->ptr + 8, 3) != 0; m++) {}
    if (m == 12) return;
    snprintf(iso, sizeof iso, "%.4s-%02d-%.2sT%.8sZ", date->ptr + 12, m + 1, date->ptr + 5, date->ptr + 17);
    if (kinagg_aws_parse_time(kinagg_str_c(iso), &server) != KINAGG_OK) return;
    diff = (int64_t)(server - p->platform.unix_ms(p->platform.ctx));
    p->clock_offset_ms = diff >= 60000 || diff <= -60000 ? diff : 0;
}

/* Parses the answer's document into p->next. */
static kinagg_status kinagg__ac_document(kinagg_aws_provider *p, kinagg_aws_document doc, const char *text, size_t len) {
    char why[400];
    kinagg_status st;
    if (doc != KINAGG_AWS_DOC_PROCESS) kinagg__ac_learn_clock(p);
    st = kinagg_aws_parse_credentials(doc, text, len, kinagg__ac_unix(p), &p->next, why, sizeof why);
    if (st == KINAGG_OK) return st;
    if (st == KINAGG_ERR_SERVICE && doc == KINAGG_AWS_DOC_STS) return kinagg__ac_fail(p, st, "STS refused: %s", why);
    return kinagg__ac_fail(p, st, "the credentials document: %s", why);
}

/* IMDS answered 401: the session token is no longer good. A new one, once. */
static kinagg_status kinagg__ac_imds_renew(kinagg_aws_provider *p, const char *what) {
    if (p->renewed) return kinagg__ac_status_failed(p, what);
    p->renewed = 1;
    kinagg__ac_wipe(p->imds_token, sizeof p->imds_token);
    p->state = KINAGG__AC_IMDS_TOKEN;
    p->attempt = 0;
    return kinagg__ac_send(p);
}

static kinagg_status kinagg__ac_http_step(kinagg_aws_provider *p) {
    const kinagg_http_response *r = &p->http.response;
    const char *what = p->state == KINAGG__AC_IMDS_TOKEN  ? "the session token request (PUT /latest/api/token)"
                       : p->state == KINAGG__AC_IMDS_ROLE ? "the role name request"
                       : p->state == KINAGG__AC_IMDS_CREDS ? "the role credentials request"
                                                           : "the request";
    unsigned ev = 0;
    uint64_t wake = 0, now = kinagg__ac_now(p);
    kinagg_status st = kinagg_http_poll(&p->http, now, &ev, &wake);
    if (st == KINAGG_PENDING) return st;
    if (st != KINAGG_OK) {
        if (kinagg__ac_retryable(st) && ++p->attempt < (int)p->attempts) return kinagg__ac_send(p);
        st = kinagg__ac_http_failed(p, st, what);
        if (p->kind == KINAGG_AWS_PROVIDER_IMDS && p->state == KINAGG__AC_IMDS_TOKEN) {
            size_t l = strlen(p->error);
            snprintf(p->error + l, sizeof p->error - l, " after %u attempts (not an EC2 instance?)", p->attempts);
        } else if (p->kind == KINAGG_AWS_PROVIDER_IOT && st == KINAGG_ERR_TLS) {
            size_t l = strlen(p->error);
            snprintf(p->error + l, sizeof p->error - l, " (is the device certificate registered with AWS IoT and active?)");
        }
        return st;
    }
    if (r->status >= 500 && ++p->attempt < (int)p->attempts) return kinagg__ac_send(p);
    switch (p->state) {
    case KINAGG__AC_HTTP:
        if (r->status != 200) return kinagg__ac_status_failed(p, what);
        return kinagg__ac_document(p,
                                   p->kind == KINAGG_AWS_PROVIDER_CONTAINER ? KINAGG_AWS_DOC_CONTAINER
                                   : p->kind == KINAGG_AWS_PROVIDER_IOT     ? KINAGG_AWS_DOC_IOT
                                                                            : KINAGG_AWS_DOC_STS,
                                   (const char *)r->body, r->body_len);
    case KINAGG__AC_IMDS_TOKEN: {
        size_t n = r->body_len;
        uint64_t ttl_ms = (uint64_t)p->imds_token_ttl_s * 1000u, margin = ttl_ms / 4 < 60000 ? ttl_ms / 4 : 60000;
        if (r->status != 200) return kinagg__ac_status_failed(p, what);
        while (n && (r->body[n - 1] == '\n' || r->body[n - 1] == '\r')) n--;
        if (!n || n >= sizeof p->imds_token || !kinagg__ac_visible((const char *)r->body, n))
            return kinagg__ac_fail(p, KINAGG_ERR_HTTP_PARSE, "%s: the answer is not a token", what);
        memcpy(p->imds_token, r->body, n);
        p->imds_token[n] = '\0';
        p->imds_token_until = now + ttl_ms - margin; /* renewed before it ends */
        p->state = KINAGG__AC_IMDS_ROLE;
        p->attempt = 0;
        return kinagg__ac_send(p);
    }
    case KINAGG__AC_IMDS_ROLE: {
        size_t n = 0;
        if (r->status == 401) return kinagg__ac_imds_renew(p, what);
        if (r->status == 404)
            return kinagg__ac_fail(p, KINAGG_ERR_SERVICE, "no IAM role is attached to this instance (HTTP 404)");
        if (r->status != 200) return kinagg__ac_status_failed(p, what);
        while (n < r->body_len && r->body[n] != '\n' && r->body[n] != '\r') n++;
        if (!n || n >= sizeof p->imds_role) return kinagg__ac_fail(p, KINAGG_ERR_HTTP_PARSE, "%s: no role name", what);
        memcpy(p->imds_role, r->body, n);
        p->imds_role[n] = '\0';
        if (!kinagg__ac_name_ok(p->imds_role, "+=,.@_-", 128))
            return kinagg__ac_fail(p, KINAGG_ERR_HTTP_PARSE, "%s: the answer is not a role name", what);
        p->state = KINAGG__AC_IMDS_CREDS;
        p->attempt = 0;
        return kinagg__ac_send(p);
    }
    case KINAGG__AC_IMDS_CREDS:
        if (r->status == 401) return kinagg__ac_imds_renew(p, what);
        if (r->status == 404)
            return kinagg__ac_fail(p, KINAGG_ERR_SERVICE, "role %s has no credentials (HTTP 404)", p->imds_role);
        if (r->status != 200) return kinagg__ac_status_failed(p, what);
        return kinagg__ac_document(p, KINAGG_AWS_DOC_IMDS, (const char *)r->body, r->body_len);
    default:
        return kinagg__ac_fail(p, KINAGG_ERR_STATE, "no request under way");
    }
}

/* ---- credential_process -------------------------------------------------- */

static void kinagg__ac_proc_reap(kinagg_aws_provider *p) {
    int status = 0;
    pid_t r;
    if (p->exited || p->pid <= 0) return;
    r = waitpid((pid_t)p->pid, &status, WNOHANG);
    if (r == (pid_t)p->pid) {
        p->exited = 1;
        p->exit_status = status;
    } else if (r < 0 && errno == ECHILD) { /* SIGCHLD ignored: reaped already, status unknown */
        p->exited = 1;
        p->exit_status = 0;
    }
}

static kinagg_status kinagg__ac_proc_start(kinagg_aws_provider *p) {
    char sh[] = "sh", dash_c[] = "-c", *argv[4];
    int fds[2];
    pid_t pid;
    kinagg__ac_proc_reap(p); /* the last run, if it was killed and had not ended then */
    argv[0] = sh;
    argv[1] = dash_c;
    argv[2] = p->command;
    argv[3] = NULL;
    if (pipe(fds) != 0) return kinagg__ac_fail(p, KINAGG_ERR_IO, "no pipe: %s", strerror(errno));
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return kinagg__ac_fail(p, KINAGG_ERR_IO, "cannot start it: %s", strerror(e));
    }
    if (pid == 0) { /* the child: async-signal-safe calls only */
        int null;
        if (fds[1] == 1) fcntl(1, F_SETFD, 0);
        else dup2(fds[1], 1);
        null = open("/dev/null", O_RDONLY);
        if (null > 0) dup2(null, 0);
        if (null > 2) close(null); /* (2 when our standard error was closed: it stays the child's) */
        execve("/bin/sh", argv, environ);
        _exit(127);
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL, 0) | O_NONBLOCK);
    p->pid = (long)pid;
    p->fd = fds[0];
    p->out_len = 0;
    p->eof = p->exited = p->exit_status = p->killed = 0;
    p->deadline = kinagg__ac_now(p) + p->timeout_ms;
    p->state = KINAGG__AC_PROC;
    return KINAGG_PENDING;
}

static kinagg_status kinagg__ac_proc_step(kinagg_aws_provider *p) {
    uint64_t now = kinagg__ac_now(p);
    if (p->state == KINAGG__AC_PROC) {
        while (!p->eof) {
            size_t room = sizeof p->recv_buf - 1 - p->out_len;
            ssize_t n;
            if (!room) {
                p->killed = 2;
                break;
            }
            n = read(p->fd, p->recv_buf + p->out_len, room);
            if (n > 0) p->out_len += (size_t)n;
            else if (n == 0) p->eof = 1;
            else if (errno != EINTR) break; /* EAGAIN: nothing more yet */
        }
        kinagg__ac_proc_reap(p);
        if (p->eof && p->exited) {
            int s = p->exit_status;
            close(p->fd);
            p->fd = -1;
            p->pid = 0;
            if (WIFEXITED(s) && WEXITSTATUS(s) != 0)
                return kinagg__ac_fail(p, KINAGG_ERR_SERVICE, "the command exited with status %d%s", WEXITSTATUS(s),
                                       WEXITSTATUS(s) == 127 ? " (not found?)" : "");
            if (WIFSIGNALED(s)) return kinagg__ac_fail(p, KINAGG_ERR_SERVICE, "the command was killed by signal %d", WTERMSIG(s));
            return kinagg__ac_document(p, KINAGG_AWS_DOC_PROCESS, (const char *)p->recv_buf, p->out_len);
        }
        if (!p->killed && now < p->deadline) return KINAGG_PENDING;
        if (!p->killed) p->killed = 1;
        if (!p->exited) kill((pid_t)p->pid, SIGKILL); /* never a pid that may have been reaped and reused */
        p->state = KINAGG__AC_PROC_KILL;
        p->deadline = now + 2000;
    }
    kinagg__ac_proc_reap(p);
    if (!p->exited && now < p->deadline) return KINAGG_PENDING;
    close(p->fd);
    p->fd = -1;
    if (p->exited) p->pid = 0;
    if (p->killed == 2)
        return kinagg__ac_fail(p, KINAGG_ERR_RESPONSE_TOO_LARGE, "the command wrote more than %lu bytes",
                               (unsigned long)(sizeof p->recv_buf - 1));
    return kinagg__ac_fail(p, KINAGG_ERR_TIMEOUT, "the command did not finish within %lu ms%s",
                           (unsigned long)p->timeout_ms, p->exited ? " (something it started keeps its output open)" : "");
}

/* ---- the source ---------------------------------------------------------- */

static kinagg_status kinagg__ac_start(kinagg_aws_provider *p) {
    kinagg_status st;
    p->attempt = 0;
    p->renewed = 0;
    switch (p->kind) {
    case KINAGG_AWS_PROVIDER_PROCESS:
        return kinagg__ac_proc_start(p);
    case KINAGG_AWS_PROVIDER_WEB_IDENTITY:
        st = kinagg__ac_sts_body(p);
        if (st != KINAGG_OK) return st;
        p->state = KINAGG__AC_HTTP;
        return kinagg__ac_send(p);
    case KINAGG_AWS_PROVIDER_CONTAINER:
    case KINAGG_AWS_PROVIDER_IOT:
        p->state = KINAGG__AC_HTTP;
        return kinagg__ac_send(p);
    case KINAGG_AWS_PROVIDER_IMDS:
        p->state = p->imds_token[0] && kinagg__ac_now(p) < p->imds_token_until ? KINAGG__AC_IMDS_ROLE
                                                                                : KINAGG__AC_IMDS_TOKEN;
        return kinagg__ac_send(p);
    default:
        return kinagg__ac_fail(p, KINAGG_ERR_STATE, "nothing to fetch");
    }
}

static void kinagg__ac_give(const kinagg_aws_provider *p, kinagg_credentials *out, uint64_t *expires) {
    out->access_key_id = kinagg_str_c(p->cur.access_key_id);
    out->secret_access_key = kinagg_str_c(p->cur.secret_access_key);
    out->session_token = kinagg_str_c(p->cur.session_token);
    *expires = p->cur.expires_unix_ms;
}

/* A fetch failed: the chain, before anything was ever found, names every
 * place it looked. */
static kinagg_status kinagg__ac_failed(kinagg_aws_provider *p, kinagg_status st) {
    p->failures++;
    kinagg__ac_wipe(&p->next, sizeof p->next);
    if (p->looked[0] && !p->ever_ok) {
        char why[sizeof p->error];
        memcpy(why, p->error, sizeof why);
        snprintf(p->error, sizeof p->error, "no AWS credentials found. Looked at: %.700s; %.790s", p->looked, why);
    }
    return st;
}

KINAGG_API kinagg_status kinagg_aws_provider_get(kinagg_aws_provider *p, int force, kinagg_credentials *out,
                                                 uint64_t *expires_unix_ms) {
    kinagg_status st = KINAGG_PENDING;
    if (!p || !out || !expires_unix_ms) return KINAGG_ERR_INVALID_ARGUMENT;
    if (p->state == KINAGG__AC_IDLE) {
        uint64_t now = kinagg__ac_now(p);
        if (p->kind == KINAGG_AWS_PROVIDER_NONE) {
            if (!p->error[0]) snprintf(p->error, sizeof p->error, "no credentials provider set up");
            return KINAGG_ERR_INVALID_ARGUMENT;
        }
        if (p->kind == KINAGG_AWS_PROVIDER_STATIC ||
            (p->have && !force && now - p->last_ok_ms < p->min_refresh_ms &&
             (!p->cur.expires_unix_ms || p->cur.expires_unix_ms > kinagg__ac_unix(p)))) {
            if (!p->have) return KINAGG_ERR_INVALID_ARGUMENT;
            kinagg__ac_give(p, out, expires_unix_ms);
            return KINAGG_OK;
        }
        p->fetches++;
        st = kinagg__ac_start(p);
    }
    if (st == KINAGG_PENDING)
        st = p->kind == KINAGG_AWS_PROVIDER_PROCESS ? kinagg__ac_proc_step(p) : kinagg__ac_http_step(p);
    if (st == KINAGG_PENDING) return st;
    if (p->fd >= 0) close(p->fd);
    p->fd = -1; /* a killed process not reaped yet is reaped later: get does not wait */
    kinagg__ac_end_fetch(p);
    if (st != KINAGG_OK) return kinagg__ac_failed(p, st);
    if (p->have && (strcmp(p->cur.access_key_id, p->next.access_key_id) != 0 ||
                    strcmp(p->cur.secret_access_key, p->next.secret_access_key) != 0 ||
                    strcmp(p->cur.session_token, p->next.session_token) != 0))
        p->changes++;
    kinagg__ac_wipe(&p->cur, sizeof p->cur);
    memcpy(&p->cur, &p->next, sizeof p->cur);
    kinagg__ac_wipe(&p->next, sizeof p->next);
    p->have = p->ever_ok = 1;
    p->last_ok_ms = kinagg__ac_now(p);
    p->error[0] = '\0';
    kinagg__ac_give(p, out, expires_unix_ms);
    return KINAGG_OK;
}

KINAGG_API kinagg_status kinagg_aws_provider_wait(kinagg_aws_provider *p, uint32_t timeout_ms, kinagg_credentials *out,
                                                  uint64_t *expires_unix_ms) {
    uint64_t until;
    if (!p || !out || !expires_unix_ms) return KINAGG_ERR_INVALID_ARGUMENT;
    until = kinagg__ac_now(p) + timeout_ms;
    for (;;) {
        kinagg_status st = kinagg_aws_provider_get(p, 0, out, expires_unix_ms);
        if (st != KINAGG_PENDING) return st;
        if (kinagg__ac_now(p) >= until) {
            kinagg__ac_abort(p);
            return kinagg__ac_failed(p, kinagg__ac_fail(p, KINAGG_ERR_TIMEOUT, "no credentials within %lu ms",
                                                        (unsigned long)timeout_ms));
        }
        p->platform.sleep_ms(p->platform.ctx, 2);
    }
}

KINAGG_API void kinagg_aws_provider_free(kinagg_aws_provider *p) {
    if (!p) return;
    kinagg__ac_release(p);
    p->kind = KINAGG_AWS_PROVIDER_NONE;
    snprintf(p->error, sizeof p->error, "%s: freed", p->name);
}

static kinagg_status kinagg__ac_source_get(void *ctx, int force, kinagg_credentials *out, uint64_t *expires) {
    return kinagg_aws_provider_get((kinagg_aws_provider *)ctx, force, out, expires);
}

KINAGG_API kinagg_credentials_source kinagg_aws_provider_source(kinagg_aws_provider *p) {
    kinagg_credentials_source s;
    s.ctx = p;
    s.get = kinagg__ac_source_get;
    return s;
}

/* ---- the default chain --------------------------------------------------- */

static void kinagg__ac_append(char *buf, size_t cap, const char *text) {
    size_t l = strlen(buf);
    if (l + 2 < cap) snprintf(buf + l, cap - l, "%s%.*s", l ? "; " : "", (int)(cap - l - 3), text); /* cut when long */
}

/* 1 (with p's error set) when kinagg_aws_config finds the files or the
 * environment in error. On its own: its config struct's frame is gone
 * before the chain goes on. */
static KINAGG__AC_NOINLINE int kinagg__ac_config_broken(kinagg_aws_provider *p, const char *profile) {
    kinagg_aws_config cfg;
    int broken;
    (void)kinagg_aws_config_load(&cfg, profile);
    broken = cfg.broken;
    if (broken) {
        kinagg__ac_init(p, KINAGG_AWS_PROVIDER_STATIC, "AWS configuration");
        (void)kinagg__ac_fail(p, KINAGG_ERR_INVALID_ARGUMENT, "%s", cfg.error);
    }
    kinagg__ac_wipe(&cfg, sizeof cfg);
    return broken;
}

KINAGG_API kinagg_status kinagg_aws_provider_chain(kinagg_aws_provider *p, const char *profile) {
    char looked[sizeof p->looked];
    int named = profile && *profile, nothing = 0;
    kinagg_status st;
    if (!p) return KINAGG_ERR_INVALID_ARGUMENT;
    looked[0] = '\0';
    /* 0. what the AWS CLI stops at: a profile named that does not exist, a
     * file it cannot parse, half of the environment's keys. Never other
     * credentials instead. */
    if (kinagg__ac_config_broken(p, profile)) return kinagg__ac_init_failed(p, KINAGG_ERR_INVALID_ARGUMENT);
    /* 1. the environment */
    if (!named && kinagg__ac_env("AWS_ACCESS_KEY_ID") && kinagg__ac_env("AWS_SECRET_ACCESS_KEY"))
        return kinagg_aws_provider_environment(p);
    kinagg__ac_append(looked, sizeof looked,
                      named ? "environment variables (not used: a profile was named)"
                            : "environment variables (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not both set)");
    /* 2. the profile: AssumeRole (refused), web identity (the environment's
     * too, unless a profile was named by argument), sso (refused), keys,
     * credential_process */
    st = kinagg__ac_profile(p, profile, !named, &nothing);
    if (!nothing) return st == KINAGG_OK ? st : kinagg__ac_init_failed(p, st);
    kinagg__ac_append(looked, sizeof looked, p->error);
    kinagg__ac_append(looked, sizeof looked,
                      named ? "web identity (the environment's not used: a profile was named)"
                            : "web identity (AWS_WEB_IDENTITY_TOKEN_FILE not set)");
    /* 3. the container endpoint */
    if (kinagg__ac_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || kinagg__ac_env("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
        return kinagg_aws_provider_container(p);
    kinagg__ac_append(looked, sizeof looked,
                      "container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI not set)");
    /* 4. instance metadata: its fetch tells */
    st = kinagg_aws_provider_imds(p);
    if (st != KINAGG_OK) {
        char why[sizeof p->error];
        memcpy(why, p->error, sizeof why);
        snprintf(p->error, sizeof p->error, "no AWS credentials found. Looked at: %.700s; %.790s", looked, why);
        return st;
    }
    memcpy(p->looked, looked, sizeof looked);
    return KINAGG_OK;
}

#ifdef __cplusplus
}
#endif
#endif /* KINAGG_AWS_CREDENTIALS_IMPLEMENTATION */
