/* The producer's promises to its caller, each against kinesalite behind the
 * SigV4-verifying proxy (or, for abandon, the fault proxy's stream that
 * never accepts):
 *
 *   producer_promises freed   --port P --stream S --manifest F
 *       every string given to init (stream name, endpoint URL, region,
 *       credentials) is overwritten and freed right after init; the session
 *       still delivers everything (built with ASan: a use after free aborts)
 *   producer_promises slowdns --port P --stream S --manifest F
 *       the endpoint is a host name whose lookup takes 2 s; no poll may
 *       take long, and everything is delivered
 *   producer_promises abandon --port P --stream blackhole-...
 *       records that cannot be delivered are abandoned: each user pointer
 *       (a heap block) comes back exactly once and is freed (LeakSanitizer
 *       reports any that does not)
 */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#define KINAGG_POSIX_IMPLEMENTATION
#include "../../port/kinagg_posix.h"
#include "../check.h"
#include "net_util.h"
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECORDS 3000

static kinagg_producer prod;
static kinagg_platform pf;
static unsigned completions[RECORDS], delivered, abandoned, others;
static FILE *manifest;

typedef struct item { unsigned id; char key[24]; char data[64]; } item;

static void on_complete(void *ctx, const kinagg_completion *c) {
    item *it = (item *)c->user;
    (void)ctx;
    if (it->id < RECORDS) completions[it->id]++;
    if (c->status == KINAGG_OK) {
        delivered++;
        if (manifest) {
            size_t i;
            fputs("rec * ", manifest);
            for (i = 0; it->key[i]; i++) fprintf(manifest, "%02x", (unsigned char)it->key[i]);
            fputc(' ', manifest);
            for (i = 0; it->data[i]; i++) fprintf(manifest, "%02x", (unsigned char)it->data[i]);
            fputc('\n', manifest);
        }
    } else if (c->status == KINAGG_ERR_ABANDONED) {
        abandoned++;
    } else if (others++ < 3) {
        fprintf(stderr, "record %u: %s %.*s\n", it->id, kinagg_strerror(c->status), (int)c->error_code.len,
                c->error_code.ptr);
    }
    free(it);
}

/* getaddrinfo, two seconds late: a resolver that is slow to answer */
static unsigned long slow_lookups;
static int slow_getaddrinfo(const char *host, const char *service, const struct addrinfo *hints,
                            struct addrinfo **res) {
    struct timespec ts;
    ts.tv_sec = 2;
    ts.tv_nsec = 0;
    nanosleep(&ts, NULL);
    slow_lookups++;
    return getaddrinfo(host, service, hints, res);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static char *heap_copy(const char *s) {
    char *d = (char *)malloc(strlen(s) + 1);
    strcpy(d, s);
    return d;
}
static void scrub(char *s) { /* overwritten, then freed: any later read is caught */
    memset(s, 'X', strlen(s));
    free(s);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "", *stream = NULL, *manifest_path = NULL;
    int port = 0, a;
    unsigned i;
    static unsigned char region[8u << 20];
    kinagg_posix_socket sock;
    kinagg_transport tp;
    kinagg_producer_config cfg;
    kinagg_endpoint *ep;
    kinagg_credentials *cr;
    char *url, *sig_region, *akid, *secret, *name;
    kinagg_status st;
    double worst = 0, t0, t_first_ok = 0, started;
    unsigned long polls = 0;
    for (a = 2; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--port")) port = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--stream")) stream = argv[a + 1];
        else if (!strcmp(argv[a], "--manifest")) manifest_path = argv[a + 1];
    }
    if (!port || !stream) {
        fprintf(stderr, "usage: producer_promises freed|slowdns|abandon --port P --stream S [--manifest F]\n");
        return 2;
    }
    kinagg_posix_platform(&pf);
    kinagg_posix_socket_init(&sock, &tp);
    {   /* the stream, made with a plain client through the same proxy */
        static kinagg_kinesis admin;
        static unsigned char as[4096], ar[65536];
        kinagg_posix_socket asock;
        kinagg_transport atp;
        kinagg_endpoint aep;
        kinagg_credentials acr;
        kinagg_stream_ref sr;
        char aurl[64];
        snprintf(aurl, sizeof aurl, "http://127.0.0.1:%d", port);
        kinagg_endpoint_from_url(&aep, kinagg_str_c(aurl));
        acr.access_key_id = kinagg_str_c("AKIDKINAGGTEST");
        acr.secret_access_key = kinagg_str_c("kinagg/test/secret+KEY");
        acr.session_token = kinagg_str_c("");
        kinagg_posix_socket_init(&asock, &atp);
        kinagg_kinesis_init(&admin, &aep, kinagg_str_c("us-east-1"), &acr, KINAGG_PROTOCOL_JSON, &atp, &pf, as,
                            sizeof as, ar, sizeof ar);
        st = kinagg_create_stream(&admin, kinagg_str_c(stream), 2);
        sr.name = kinagg_str_c(stream);
        sr.arn = kinagg_str_c("");
        if (strncmp(stream, "blackhole", 9) != 0) {
            CHECK(st == KINAGG_OK, "CreateStream: %s %s", kinagg_strerror(st), admin.error_type);
            CHECK(wait_active(&admin, sr, &pf, 30), "stream %s not ACTIVE", stream);
        }
        kinagg_posix_socket_release(&asock);
    }

    /* everything init is given lives on the heap, and dies right after it */
    url = (char *)malloc(96);
    snprintf(url, 96, "http://%s:%d", !strcmp(mode, "slowdns") ? "localhost" : "127.0.0.1", port);
    ep = (kinagg_endpoint *)malloc(sizeof *ep);
    CHECK(kinagg_endpoint_from_url(ep, kinagg_str_c(url)) == KINAGG_OK, "endpoint %s", url);
    sig_region = heap_copy("us-east-1");
    akid = heap_copy("AKIDKINAGGTEST");
    secret = heap_copy("kinagg/test/secret+KEY");
    name = heap_copy(stream);
    cr = (kinagg_credentials *)malloc(sizeof *cr);
    cr->access_key_id = kinagg_str_c(akid);
    cr->secret_access_key = kinagg_str_c(secret);
    cr->session_token = kinagg_str_c("");
    if (!strcmp(mode, "slowdns")) sock.resolve = slow_getaddrinfo;
    kinagg_producer_config_defaults(&cfg);
    cfg.stream.name = kinagg_str_c(name);
    cfg.on_complete = on_complete;
    cfg.rate_limit_percent = 1000;
    cfg.request_timeout_ms = 3000;
    if (!strcmp(mode, "abandon")) {
        cfg.record_ttl_ms = 0; /* never expire: only abandon ends them */
        cfg.min_backoff_ms = 20;
        cfg.max_backoff_ms = 100;
    }
    st = kinagg_producer_init(&prod, region, sizeof region, &cfg, ep, kinagg_str_c(sig_region), cr,
                              KINAGG_PROTOCOL_JSON, &tp, &pf);
    CHECK(st == KINAGG_OK, "init: %s", kinagg_strerror(st));
    if (st != KINAGG_OK) return check_summary("promises");
    scrub(url);
    scrub(sig_region);
    scrub(akid);
    scrub(secret);
    scrub(name);
    memset(ep, 0x55, sizeof *ep);
    free(ep);
    memset(cr, 0x55, sizeof *cr);
    free(cr);
    if (manifest_path) manifest = fopen(manifest_path, "w");

    started = now_ms();
    for (i = 0; i < RECORDS; i++) {
        item *it = (item *)malloc(sizeof *it);
        it->id = i;
        snprintf(it->key, sizeof it->key, "user-%u", i % 97);
        snprintf(it->data, sizeof it->data, "event %u of the promises test", i);
        for (;;) {
            uint64_t next;
            st = kinagg_producer_put(&prod, it->key, strlen(it->key), NULL, 0, it->data, strlen(it->data), it);
            if (st != KINAGG_ERR_FULL) break;
            t0 = now_ms();
            kinagg_producer_poll(&prod, &next);
            if (now_ms() - t0 > worst) worst = now_ms() - t0;
            polls++;
        }
        CHECK(st == KINAGG_OK, "put %u: %s", i, kinagg_strerror(st));
        if (st != KINAGG_OK) free(it);
        if (i % 50 == 0) { /* a game loop: a poll per frame */
            uint64_t next;
            t0 = now_ms();
            kinagg_producer_poll(&prod, &next);
            if (now_ms() - t0 > worst) worst = now_ms() - t0;
            polls++;
        }
    }
    if (!strcmp(mode, "abandon")) {
        size_t n;
        double until = now_ms() + 1500; /* let some go out, fail and wait to be retried */
        while (now_ms() < until) {
            uint64_t next;
            kinagg_producer_poll(&prod, &next);
            kinagg_producer_wait(&prod, next, 20);
        }
        CHECK(delivered == 0, "%u records were delivered to a stream that accepts none", delivered);
        n = kinagg_producer_abandon(&prod);
        CHECK(n == RECORDS, "abandon gave up %u records of %u", (unsigned)n, RECORDS);
        CHECK(abandoned == RECORDS, "%u abandoned completions for %u records", abandoned, RECORDS);
        CHECK(kinagg_producer_abandon(&prod) == 0, "a second abandon finds nothing left");
        CHECK(prod.stats.buffered_records == 0, "%u records still buffered", (unsigned)prod.stats.buffered_records);
        {
            kinagg_producer_stats s;
            kinagg_producer_get_stats(&prod, &s);
            CHECK(s.errors > 0 && kinagg_producer_last_error(&prod)[0], "the failures were reported (errors %lu)",
                  (unsigned long)s.errors);
            printf("abandon: %u records abandoned after %lu failed requests; last error: %s\n", abandoned,
                   (unsigned long)s.requests_failed, kinagg_producer_last_error(&prod));
        }
    } else {
        /* drain with poll and wait, timing every poll */
        double deadline = now_ms() + 60000;
        while (prod.stats.buffered_records && now_ms() < deadline) {
            uint64_t next;
            t0 = now_ms();
            kinagg_producer_poll(&prod, &next);
            if (now_ms() - t0 > worst) worst = now_ms() - t0;
            polls++;
            if (!t_first_ok && delivered) t_first_ok = now_ms() - started;
            kinagg_producer_wait(&prod, next, 50);
        }
        CHECK(delivered == RECORDS, "%u of %u delivered (last error: %s)", delivered, RECORDS,
              kinagg_producer_last_error(&prod));
        printf("%s: %u delivered; %lu polls, the longest %.1f ms; first delivery after %.0f ms\n", mode, delivered,
               polls, worst, t_first_ok);
        if (!strcmp(mode, "slowdns")) {
            CHECK(slow_lookups >= 1, "the slow resolver was never asked");
            CHECK(t_first_ok >= 2000, "delivered after %.0f ms: the 2 s lookup was not in the way", t_first_ok);
            /* a blocking lookup would stall one poll for 2000 ms */
            CHECK(worst < 500, "a poll took %.1f ms while the name was looked up", worst);
        }
    }
    for (i = 0; i < RECORDS; i++)
        if (completions[i] != 1) {
            CHECK(0, "record %u completed %u times", i, completions[i]);
            break;
        }
    kinagg_producer_close(&prod);
    kinagg_posix_socket_release(&sock);
    if (manifest) fclose(manifest);
    return check_summary("promises");
}
