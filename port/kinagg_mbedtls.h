/* kinagg_mbedtls.h - TLS for kinagg with mbedTLS, on top of any kinagg
 * transport (the POSIX port, the lwIP port, your own).
 *
 * In one file:  #define KINAGG_MBEDTLS_IMPLEMENTATION  before including it.
 *
 *   kinagg_posix_socket sock;  kinagg_transport tcp, tls_tp;
 *   static kinagg_mbedtls tls;
 *   kinagg_posix_socket_init(&sock, &tcp);
 *   kinagg_mbedtls_init(&tls, &tcp, &tls_tp);    // tls_tp goes to kinagg
 *   kinagg_mbedtls_ca_file(&tls, "/etc/ssl/certs/ca-certificates.crt");
 *   kinagg_mbedtls_client_cert_file(&tls, "device.crt", "device.key"); // mutual TLS, if asked
 *
 * Certificates are always verified against the CAs given (there is no
 * switch to turn that off), and the host name is checked against the
 * certificate's DNS names and sent as SNI. TLS 1.2 (mbedTLS 2.28 has no
 * TLS 1.3 client). Tested with mbedTLS 2.28 (Debian 12); the 3.x API is
 * followed where it differs. mbedTLS 4 (PSA only) is not supported.
 *
 * mbedTLS allocates through its own calloc/free (or a static buffer when
 * built with MBEDTLS_MEMORY_BUFFER_ALLOC_C); kinagg itself allocates
 * nothing. docs/porting.md gives the measured peak. Entropy comes from
 * mbedtls_entropy_func's sources, gathered once in kinagg_mbedtls_init: a
 * firmware without an operating system's source builds mbedTLS with
 * MBEDTLS_ENTROPY_HARDWARE_ALT (its mbedtls_hardware_poll reads the
 * chip's random number generator) or MBEDTLS_ENTROPY_NV_SEED.
 *
 * PSA is set up (psa_crypto_init) when the build uses it
 * (MBEDTLS_USE_PSA_CRYPTO) or, in 3.x, TLS 1.3. With mbedTLS 3.x (not
 * run by this project's tests), a TLS 1.3 session ticket arriving during
 * a read or write is taken and the call goes on (3.6.0 returns it as an
 * error).
 */
#ifndef KINAGG_MBEDTLS_H
#define KINAGG_MBEDTLS_H

#include "../kinagg.h"
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#if defined(MBEDTLS_USE_PSA_CRYPTO) || (MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_SSL_PROTO_TLS1_3))
#include <psa/crypto.h>
#define KINAGG__TLS_PSA 1
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kinagg_mbedtls {
    kinagg_transport inner;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    int ready;           /* mbedtls_ssl_setup done */
    int tcp_up;          /* the inner connection is up */
    int handshake_done;
    int ca_count;
    char server_name[256]; /* "" : the host connected to */
    char error[640];
    uint32_t cert_refused; /* mbedTLS's verify flags for the server certificate the last
                            * handshake refused (MBEDTLS_X509_BADCERT_...); 0 once one
                            * succeeds. A name mismatch or an unknown CA is not mended
                            * by retrying; dates may be (a clock set after boot) */
    mbedtls_x509_crt own_cert;  /* the client certificate for mutual TLS, if set */
    mbedtls_pk_context own_key;
    int own_cert_set;
    unsigned want;       /* what the last call that could not go on waits for
                          * (KINAGG_WAIT_READ or _WRITE, as mbedTLS said); 0 once one goes on */
} kinagg_mbedtls;

/* Sets up TLS over inner and fills *out with the TLS transport. */
KINAGG_API kinagg_status kinagg_mbedtls_init(kinagg_mbedtls *t, const kinagg_transport *inner, kinagg_transport *out);
/* Trusted CAs, PEM or DER; may be called several times. */
KINAGG_API kinagg_status kinagg_mbedtls_ca_file(kinagg_mbedtls *t, const char *path);
KINAGG_API kinagg_status kinagg_mbedtls_ca_pem(kinagg_mbedtls *t, const unsigned char *buf, size_t len);
/* A client certificate (with its chain, PEM or DER) and its private key
 * (unencrypted), for servers that ask for one: mutual TLS, as the AWS IoT
 * credentials provider does. The key must match the certificate. Call
 * before connecting; a second call replaces the first. The _pem form, like
 * kinagg_mbedtls_ca_pem, counts the terminating NUL of PEM text in len. */
KINAGG_API kinagg_status kinagg_mbedtls_client_cert_file(kinagg_mbedtls *t, const char *cert_path,
                                                         const char *key_path);
KINAGG_API kinagg_status kinagg_mbedtls_client_cert_pem(kinagg_mbedtls *t, const unsigned char *cert,
                                                        size_t cert_len, const unsigned char *key, size_t key_len);
/* The name to verify and send as SNI when it differs from the host
 * connected to (e.g. connecting to an address). */
KINAGG_API void kinagg_mbedtls_server_name(kinagg_mbedtls *t, const char *name);
/* Frees everything mbedTLS allocated. */
KINAGG_API void kinagg_mbedtls_free(kinagg_mbedtls *t);

#ifdef __cplusplus
}
#endif
#endif /* KINAGG_MBEDTLS_H */

#if defined(KINAGG_MBEDTLS_IMPLEMENTATION) && !defined(KINAGG_MBEDTLS_IMPLEMENTATION_DONE)
#define KINAGG_MBEDTLS_IMPLEMENTATION_DONE

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

static void kinagg__tls_err(kinagg_mbedtls *t, const char *what, int rc) {
    char buf[160];
    mbedtls_strerror(rc, buf, sizeof buf);
    snprintf(t->error, sizeof t->error, "%.400s: %s", what, buf);
}

/* mbedTLS's I/O callbacks on the inner transport */
static int kinagg__tls_bio_send(void *ctx, const unsigned char *buf, size_t len) {
    kinagg_mbedtls *t = (kinagg_mbedtls *)ctx;
    size_t sent = 0;
    kinagg_io io = t->inner.send(t->inner.ctx, buf, len, &sent);
    if (io == KINAGG_IO_OK) return (int)sent;
    if (io == KINAGG_IO_AGAIN) return MBEDTLS_ERR_SSL_WANT_WRITE;
    return io == KINAGG_IO_CLOSED ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
}
static int kinagg__tls_bio_recv(void *ctx, unsigned char *buf, size_t len) {
    kinagg_mbedtls *t = (kinagg_mbedtls *)ctx;
    size_t got = 0;
    kinagg_io io = t->inner.recv(t->inner.ctx, buf, len, &got);
    if (io == KINAGG_IO_OK) return (int)got;
    if (io == KINAGG_IO_AGAIN) return MBEDTLS_ERR_SSL_WANT_READ;
    return io == KINAGG_IO_CLOSED ? 0 : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* mbedTLS cannot go on until the connection can be read (WANT_READ) or
 * written (WANT_WRITE): remembered for wait, which must wait for that
 * direction alone (a connected socket is always writable: waiting for
 * both would return at once, for the whole handshake). 1 if so. */
static int kinagg__tls_again(kinagg_mbedtls *t, int rc) {
    if (rc == MBEDTLS_ERR_SSL_WANT_READ) t->want = KINAGG_WAIT_READ;
    else if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) t->want = KINAGG_WAIT_WRITE;
    else return 0;
    return 1;
}

static void kinagg__tls_close(void *ctx) {
    kinagg_mbedtls *t = (kinagg_mbedtls *)ctx;
    if (t->handshake_done) (void)mbedtls_ssl_close_notify(&t->ssl); /* best effort */
    if (t->tcp_up || t->inner.close) t->inner.close(t->inner.ctx);
    t->tcp_up = 0;
    t->handshake_done = 0;
    t->want = 0;
    if (t->ready) mbedtls_ssl_session_reset(&t->ssl);
}

static kinagg_io kinagg__tls_connect(void *ctx, const char *host, uint16_t port) {
    kinagg_mbedtls *t = (kinagg_mbedtls *)ctx;
    int rc;
    if (!t->tcp_up) {
        kinagg_io io = t->inner.connect(t->inner.ctx, host, port);
        if (io != KINAGG_IO_OK) {
            if (io != KINAGG_IO_AGAIN && t->inner.error)
                snprintf(t->error, sizeof t->error, "%s", t->inner.error(t->inner.ctx));
            return io;
        }
        t->tcp_up = 1;
        if (!t->ca_count) {
            snprintf(t->error, sizeof t->error, "no trusted CA certificates configured");
            return KINAGG_IO_TLS_ERROR;
        }
        mbedtls_ssl_session_reset(&t->ssl);
        rc = mbedtls_ssl_set_hostname(&t->ssl, t->server_name[0] ? t->server_name : host);
        if (rc != 0) {
            kinagg__tls_err(t, "server name", rc);
            return KINAGG_IO_TLS_ERROR;
        }
        mbedtls_ssl_set_bio(&t->ssl, t, kinagg__tls_bio_send, kinagg__tls_bio_recv, NULL);
    }
    if (t->handshake_done) return KINAGG_IO_OK;
    t->want = 0;
    rc = mbedtls_ssl_handshake(&t->ssl);
    if (rc == 0) {
        t->handshake_done = 1;
        t->cert_refused = 0;
        return KINAGG_IO_OK;
    }
    if (kinagg__tls_again(t, rc)) return KINAGG_IO_AGAIN;
    if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        char info[200];
        uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
        size_t n;
        int w = mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
        t->cert_refused = flags;
        n = w > 0 ? (size_t)w : 0;
        while (n && (info[n - 1] == '\n' || info[n - 1] == ' ')) info[--n] = '\0';
        for (w = 0; info[w]; w++)
            if (info[w] == '\n') info[w] = ';';
        snprintf(t->error, sizeof t->error, "certificate of %.255s refused%s%s%s: %s",
                 t->server_name[0] ? t->server_name : host,
                 (flags & MBEDTLS_X509_BADCERT_EXPIRED) ? " [expired]" : "",
                 (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) ? " [host name mismatch]" : "",
                 (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) ? " [not signed by a trusted CA]" : "", info);
    } else {
        kinagg__tls_err(t, "TLS handshake", rc);
    }
    return KINAGG_IO_TLS_ERROR;
}

static kinagg_io kinagg__tls_send(void *ctx, const unsigned char *data, size_t len, size_t *sent) {
    kinagg_mbedtls *t = (kinagg_mbedtls *)ctx;
    int rc;
    t->want = 0;
    do
        rc = mbedtls_ssl_write(&t->ssl, data, len);
#ifdef MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET
    while (rc == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET);
#else
    while (0);
#endif
    if (rc > 0) {
        *sent = (size_t)rc;
        return KINAGG_IO_OK;
    }
    if (kinagg__tls_again(t, rc)) return KINAGG_IO_AGAIN;
    kinagg__tls_err(t, "TLS write", rc);
    return rc == MBEDTLS_ERR_NET_CONN_RESET ? KINAGG_IO_CLOSED : KINAGG_IO_ERROR;
}

static kinagg_io kinagg__tls_recv(void *ctx, unsigned char *buf, size_t cap, size_t *received) {
    kinagg_mbedtls *t = (kinagg_mbedtls *)ctx;
    int rc;
    t->want = 0;
    do
        rc = mbedtls_ssl_read(&t->ssl, buf, cap);
#ifdef MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET
    while (rc == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET);
#else
    while (0);
#endif
    if (rc > 0) {
        *received = (size_t)rc;
        return KINAGG_IO_OK;
    }
    if (kinagg__tls_again(t, rc)) return KINAGG_IO_AGAIN;
    if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || rc == MBEDTLS_ERR_NET_CONN_RESET) {
        snprintf(t->error, sizeof t->error, "connection closed by the server");
        return KINAGG_IO_CLOSED;
    }
    kinagg__tls_err(t, "TLS read", rc);
    return KINAGG_IO_ERROR;
}

static kinagg_io kinagg__tls_wait(void *ctx, unsigned events, uint32_t timeout_ms) {
    kinagg_mbedtls *t = (kinagg_mbedtls *)ctx;
    if ((events & KINAGG_WAIT_READ) && mbedtls_ssl_get_bytes_avail(&t->ssl) > 0) return KINAGG_IO_OK;
    /* what mbedTLS waits for, whichever direction the caller's next call
     * is (a handshake reads, a write may have to read first); before the
     * TCP connection is up, the inner transport's own wait */
    if (t->tcp_up && t->want) events = t->want;
    return t->inner.wait ? t->inner.wait(t->inner.ctx, events, timeout_ms) : KINAGG_IO_OK;
}

static const char *kinagg__tls_error(void *ctx) { return ((kinagg_mbedtls *)ctx)->error; }

KINAGG_API kinagg_status kinagg_mbedtls_init(kinagg_mbedtls *t, const kinagg_transport *inner, kinagg_transport *out) {
    static const char pers[] = "kinagg";
    int rc;
    memset(t, 0, sizeof *t);
    t->inner = *inner;
    mbedtls_ssl_init(&t->ssl);
    mbedtls_ssl_config_init(&t->conf);
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_entropy_init(&t->entropy);
    mbedtls_ctr_drbg_init(&t->drbg);
    mbedtls_x509_crt_init(&t->own_cert);
    mbedtls_pk_init(&t->own_key);
#ifdef KINAGG__TLS_PSA
    if (psa_crypto_init() != PSA_SUCCESS) {
        snprintf(t->error, sizeof t->error, "TLS setup: psa_crypto_init failed");
        return KINAGG_ERR_TLS;
    }
#endif
    rc = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy, (const unsigned char *)pers,
                               sizeof pers - 1);
    if (rc == 0)
        rc = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                         MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc != 0) {
        kinagg__tls_err(t, "TLS setup", rc);
        return KINAGG_ERR_TLS;
    }
    mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
    mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
    rc = mbedtls_ssl_setup(&t->ssl, &t->conf);
    if (rc != 0) {
        kinagg__tls_err(t, "TLS setup", rc);
        return KINAGG_ERR_TLS;
    }
    t->ready = 1;
    out->ctx = t;
    out->connect = kinagg__tls_connect;
    out->send = kinagg__tls_send;
    out->recv = kinagg__tls_recv;
    out->close = kinagg__tls_close;
    out->wait = kinagg__tls_wait;
    out->error = kinagg__tls_error;
    return KINAGG_OK;
}

KINAGG_API kinagg_status kinagg_mbedtls_ca_file(kinagg_mbedtls *t, const char *path) {
#if defined(MBEDTLS_FS_IO)
    int rc = mbedtls_x509_crt_parse_file(&t->ca, path);
    if (rc < 0) {
        kinagg__tls_err(t, path, rc);
        return KINAGG_ERR_TLS;
    }
    t->ca_count++;
    return KINAGG_OK;
#else
    (void)path;
    snprintf(t->error, sizeof t->error, "mbedTLS built without file access: use kinagg_mbedtls_ca_pem");
    return KINAGG_ERR_TLS;
#endif
}

KINAGG_API kinagg_status kinagg_mbedtls_ca_pem(kinagg_mbedtls *t, const unsigned char *buf, size_t len) {
    int rc = mbedtls_x509_crt_parse(&t->ca, buf, len); /* PEM needs the terminating NUL in len */
    if (rc < 0) {
        kinagg__tls_err(t, "CA certificate", rc);
        return KINAGG_ERR_TLS;
    }
    t->ca_count++;
    return KINAGG_OK;
}

/* The certificate and key parsed: check they belong together and offer
 * them. mbedTLS 3 wants a random generator for the key operations. */
static kinagg_status kinagg__tls_own_cert_done(kinagg_mbedtls *t, int rc_cert, int rc_key, const char *cert_what,
                                               const char *key_what) {
    int rc;
    if (rc_cert < 0) {
        kinagg__tls_err(t, cert_what, rc_cert);
        return KINAGG_ERR_TLS;
    }
    if (rc_key != 0) {
        kinagg__tls_err(t, key_what, rc_key);
        return KINAGG_ERR_TLS;
    }
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    rc = mbedtls_pk_check_pair(&t->own_cert.pk, &t->own_key, mbedtls_ctr_drbg_random, &t->drbg);
#else
    rc = mbedtls_pk_check_pair(&t->own_cert.pk, &t->own_key);
#endif
    if (rc != 0) {
        snprintf(t->error, sizeof t->error, "the private key %.200s does not belong to the certificate %.200s",
                 key_what, cert_what);
        return KINAGG_ERR_TLS;
    }
    rc = mbedtls_ssl_conf_own_cert(&t->conf, &t->own_cert, &t->own_key);
    if (rc != 0) {
        kinagg__tls_err(t, "client certificate", rc);
        return KINAGG_ERR_TLS;
    }
    t->own_cert_set = 1;
    return KINAGG_OK;
}

static void kinagg__tls_own_cert_reset(kinagg_mbedtls *t) {
    mbedtls_x509_crt_free(&t->own_cert);
    mbedtls_pk_free(&t->own_key);
    mbedtls_x509_crt_init(&t->own_cert);
    mbedtls_pk_init(&t->own_key);
    t->own_cert_set = 0;
}

KINAGG_API kinagg_status kinagg_mbedtls_client_cert_file(kinagg_mbedtls *t, const char *cert_path,
                                                         const char *key_path) {
#if defined(MBEDTLS_FS_IO)
    int rc_cert, rc_key;
    kinagg__tls_own_cert_reset(t);
    rc_cert = mbedtls_x509_crt_parse_file(&t->own_cert, cert_path);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    rc_key = mbedtls_pk_parse_keyfile(&t->own_key, key_path, NULL, mbedtls_ctr_drbg_random, &t->drbg);
#else
    rc_key = mbedtls_pk_parse_keyfile(&t->own_key, key_path, NULL);
#endif
    return kinagg__tls_own_cert_done(t, rc_cert, rc_key, cert_path, key_path);
#else
    (void)cert_path;
    (void)key_path;
    snprintf(t->error, sizeof t->error, "mbedTLS built without file access: use kinagg_mbedtls_client_cert_pem");
    return KINAGG_ERR_TLS;
#endif
}

KINAGG_API kinagg_status kinagg_mbedtls_client_cert_pem(kinagg_mbedtls *t, const unsigned char *cert,
                                                        size_t cert_len, const unsigned char *key, size_t key_len) {
    int rc_cert, rc_key;
    kinagg__tls_own_cert_reset(t);
    rc_cert = mbedtls_x509_crt_parse(&t->own_cert, cert, cert_len);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    rc_key = mbedtls_pk_parse_key(&t->own_key, key, key_len, NULL, 0, mbedtls_ctr_drbg_random, &t->drbg);
#else
    rc_key = mbedtls_pk_parse_key(&t->own_key, key, key_len, NULL, 0);
#endif
    return kinagg__tls_own_cert_done(t, rc_cert, rc_key, "client certificate", "client private key");
}

KINAGG_API void kinagg_mbedtls_server_name(kinagg_mbedtls *t, const char *name) {
    snprintf(t->server_name, sizeof t->server_name, "%s", name ? name : "");
}

KINAGG_API void kinagg_mbedtls_free(kinagg_mbedtls *t) {
    if (t->tcp_up) t->inner.close(t->inner.ctx);
    mbedtls_ssl_free(&t->ssl);
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_x509_crt_free(&t->own_cert);
    mbedtls_pk_free(&t->own_key);
    t->own_cert_set = 0;
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
    t->ready = t->tcp_up = t->handshake_done = 0;
}

#ifdef __cplusplus
}
#endif
#endif /* KINAGG_MBEDTLS_IMPLEMENTATION */
