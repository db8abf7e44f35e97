/* Rotation that loses no record: a producer sends records for 70 s while its
 * credentials come from a container endpoint that hands out new ones every
 * 20 s (and revokes one generation early), through a proxy that takes only
 * the current ones and answers ExpiredTokenException for older ones
 * (tests/creds/rotating_proxy.js). Every record must be delivered once and
 * none fail; the manifest lists them for tests/net/reader.js.
 *
 *   rotation_test --proxy PORT --creds PORT --kinesalite PORT --stream NAME
 *                 --manifest FILE [--seconds 70] [--rate 100]
 */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#define KINAGG_POSIX_IMPLEMENTATION
#include "../../port/kinagg_posix.h"
#define KINAGG_MBEDTLS_IMPLEMENTATION
#include "../../port/kinagg_mbedtls.h"
#define KINAGG_AWS_CONFIG_IMPLEMENTATION
#include "../../port/kinagg_aws_config.h"
#define KINAGG_AWS_CREDENTIALS_IMPLEMENTATION
#include "../../port/kinagg_aws_credentials.h"
#include "../check.h"
#include "../net/net_util.h"
#include <stdlib.h>
#include <string.h>

static unsigned char *completions; /* per record: how many times it completed */
static unsigned long delivered, failed;
static FILE *manifest;
static char tag[32];

static void hex(FILE *f, const void *p, size_t n) {
    const unsigned char *c = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++) fprintf(f, "%02x", c[i]);
}

static void on_complete(void *ctx, const kinagg_completion *c) {
    size_t id = (size_t)(uintptr_t)c->user;
    char key[32], data[64];
    (void)ctx;
    if (completions[id] < 255) completions[id]++;
    if (c->status != KINAGG_OK) {
        if (failed++ < 5)
            fprintf(stderr, "record %lu failed: %s %.*s %.*s\n", (unsigned long)id, kinagg_strerror(c->status),
                    (int)c->error_code.len, c->error_code.ptr, (int)c->error_message.len, c->error_message.ptr);
        return;
    }
    delivered++;
    snprintf(key, sizeof key, "rot-%lu", (unsigned long)id);
    snprintf(data, sizeof data, "record %lu of %s", (unsigned long)id, tag);
    fprintf(manifest, "rot %.*s ", (int)c->shard_id.len, c->shard_id.ptr);
    hex(manifest, key, strlen(key));
    fputc(' ', manifest);
    hex(manifest, data, strlen(data));
    fputc('\n', manifest);
}

/* GET path on 127.0.0.1:port into out (the body, NUL-terminated). */
static int http_get(int port, const char *path, char *out, size_t cap, const kinagg_platform *pf) {
    static unsigned char sb[1024], rb[8192];
    kinagg_http_client c;
    kinagg_posix_socket sock;
    kinagg_transport tp;
    int ok;
    kinagg_posix_socket_init(&sock, &tp);
    kinagg_http_init(&c, &tp, sb, sizeof sb, rb, sizeof rb);
    ok = kinagg_http_begin(&c, "127.0.0.1", (uint16_t)port, kinagg_str_c("GET"), kinagg_str_c(path), NULL, 0, NULL, 0,
                           pf->now_ms(NULL)) == KINAGG_OK &&
         kinagg_http_run(&c, pf) == KINAGG_OK && c.response.body_len < cap;
    if (ok) {
        memcpy(out, c.response.body, c.response.body_len);
        out[c.response.body_len] = '\0';
    }
    kinagg_posix_socket_release(&sock);
    return ok;
}

static long json_number(const char *text, const char *key) {
    char k[64];
    const char *at;
    snprintf(k, sizeof k, "\"%s\":", key);
    at = strstr(text, k);
    return at ? strtol(at + strlen(k), NULL, 10) : 0;
}

int main(int argc, char **argv) {
    static kinagg_aws_provider prov;
    static kinagg_producer p;
    static kinagg_kinesis admin;
    static unsigned char asend[4096], arecv[65536];
    static char stats[4096];
    const char *stream = NULL, *manifest_path = NULL;
    int proxy = 0, creds = 0, kinesalite = 0, a;
    unsigned long seconds = 70, rate = 100, put = 0, full = 0, total, i, once = 0;
    kinagg_platform pf;
    kinagg_posix_socket socks[2], asock;
    kinagg_transport tps[2], atp;
    kinagg_endpoint ep;
    kinagg_credentials admin_cred;
    kinagg_producer_config cfg;
    kinagg_stream_ref sref;
    size_t region_size;
    unsigned char *region;
    char url[96];
    uint64_t start, now, next, last_report = 0;
    kinagg_status st;
    for (a = 1; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--proxy")) proxy = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--creds")) creds = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--kinesalite")) kinesalite = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--stream")) stream = argv[a + 1];
        else if (!strcmp(argv[a], "--manifest")) manifest_path = argv[a + 1];
        else if (!strcmp(argv[a], "--seconds")) seconds = strtoul(argv[a + 1], NULL, 10);
        else if (!strcmp(argv[a], "--rate")) rate = strtoul(argv[a + 1], NULL, 10);
    }
    if (!proxy || !creds || !kinesalite || !stream || !manifest_path) {
        fprintf(stderr, "usage: rotation_test --proxy PORT --creds PORT --kinesalite PORT --stream NAME --manifest FILE\n");
        return 2;
    }
    snprintf(tag, sizeof tag, "%s", stream);
    kinagg_posix_platform(&pf);
    total = seconds * rate + rate;
    completions = (unsigned char *)calloc(total, 1);
    manifest = fopen(manifest_path, "w");

    /* the stream, made on kinesalite itself (it checks no signature) */
    snprintf(url, sizeof url, "http://127.0.0.1:%d", kinesalite);
    kinagg_endpoint_from_url(&ep, kinagg_str_c(url));
    admin_cred.access_key_id = kinagg_str_c("AKIDKINAGGTEST");
    admin_cred.secret_access_key = kinagg_str_c("kinagg/test/secret+KEY");
    admin_cred.session_token = kinagg_str_c("");
    kinagg_posix_socket_init(&asock, &atp);
    kinagg_kinesis_init(&admin, &ep, kinagg_str_c("us-east-1"), &admin_cred, KINAGG_PROTOCOL_JSON, &atp, &pf, asend,
                        sizeof asend, arecv, sizeof arecv);
    sref.name = kinagg_str_c(stream);
    sref.arn = kinagg_str_c("");
    st = kinagg_create_stream(&admin, kinagg_str_c(stream), 2);
    CHECK(st == KINAGG_OK && wait_active(&admin, sref, &pf, 20), "create %s: %s", stream, kinagg_strerror(st));

    /* the credentials: only from the container endpoint */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/creds", creds);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "kinagg-rotation-token", 1);
    unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    st = kinagg_aws_provider_container(&prov);
    CHECK(st == KINAGG_OK, "provider: %s", prov.error);

    kinagg_producer_config_defaults(&cfg);
    cfg.stream = sref;
    cfg.on_complete = on_complete;
    cfg.connections = 2;
    cfg.credentials_source = kinagg_aws_provider_source(&prov);
    cfg.credentials_refresh_ms = 5000;
    region_size = 16u << 20;
    region = (unsigned char *)malloc(region_size);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", proxy);
    kinagg_endpoint_from_url(&ep, kinagg_str_c(url));
    for (a = 0; a < 2; a++) kinagg_posix_socket_init(&socks[a], &tps[a]);
    st = kinagg_producer_init(&p, region, region_size, &cfg, &ep, kinagg_str_c("us-east-1"), NULL, KINAGG_PROTOCOL_JSON,
                              tps, &pf);
    CHECK(st == KINAGG_OK, "producer: %s", kinagg_strerror(st));
    if (st != KINAGG_OK) return check_summary("rotation");

    start = pf.now_ms(NULL);
    for (;;) {
        now = pf.now_ms(NULL);
        if (now - start >= seconds * 1000u) break;
        while (put < (now - start) * rate / 1000u && put < total) {
            char key[32], data[64];
            snprintf(key, sizeof key, "rot-%lu", put);
            snprintf(data, sizeof data, "record %lu of %s", put, tag);
            st = kinagg_producer_put(&p, key, strlen(key), NULL, 0, data, strlen(data), (void *)(uintptr_t)put);
            if (st == KINAGG_ERR_FULL) {
                full++;
                break;
            }
            if (st != KINAGG_OK && !once++) CHECK(0, "put: %s", kinagg_strerror(st));
            put++;
        }
        kinagg_producer_poll(&p, &next);
        kinagg_producer_wait(&p, next, 10);
        if (now - last_report >= 10000) {
            last_report = now;
            fprintf(stderr, "t=%2lus put %lu delivered %lu, credentials fetched %lu (%lu new), requests refused %lu\n",
                    (unsigned long)((now - start) / 1000), put, delivered, prov.fetches, prov.changes,
                    (unsigned long)p.stats.requests_failed);
        }
    }
    st = kinagg_producer_flush(&p, 40000);
    CHECK(st == KINAGG_OK, "flush: %s (%lu of %lu completed)", kinagg_strerror(st), delivered + failed, put);
    fclose(manifest);

    for (i = 0; i < put; i++)
        if (completions[i] != 1) break;
    CHECK(i == put, "record %lu completed %u times", i, i < put ? completions[i] : 0);
    CHECK(delivered == put && failed == 0, "%lu put, %lu delivered, %lu failed", put, delivered, failed);
    CHECK(put >= seconds * rate * 9 / 10, "only %lu records put in %lu s", put, seconds);
    /* three new generations in 70 s (at 20, 40 and 50 s), one found by a refusal */
    CHECK(prov.changes >= 3, "the credentials changed %lu times", prov.changes);
    stats[0] = '\0';
    CHECK(http_get(creds, "/stats", stats, sizeof stats, &pf), "proxy statistics");
    CHECK(json_number(stats, "ExpiredTokenException") >= 1 && p.stats.requests_failed >= 1,
          "no request was refused as expired (%s)", stats);
    printf("rotation: %lu records over %lu s, %lu delivered, %lu failed; credentials fetched %lu times, %lu new sets, "
           "%lu fetch failures; %lu PutRecords requests, %lu refused as expired by the proxy (%lu seen by the producer); "
           "proxy: %s\n",
           put, seconds, delivered, failed, prov.fetches, prov.changes, prov.failures, (unsigned long)p.stats.requests,
           json_number(stats, "ExpiredTokenException"), (unsigned long)p.stats.requests_failed, stats);
    kinagg_producer_abandon(&p);
    for (a = 0; a < 2; a++) kinagg_posix_socket_release(&socks[a]);
    kinagg_aws_provider_free(&prov);
    free(region);
    free(completions);
    return check_summary("rotation");
}
