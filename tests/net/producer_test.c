/* End-to-end tests of the producer against kinesalite, through the
 * SigV4-verifying proxy (or the fault-injecting one).
 *
 *   producer_test MODE --port PORT --stream NAME [--manifest FILE]
 *                 [--random N] [--shared N] [--split-at N] [--protocol json|cbor]
 *   MODE delivery     N random keys + N with one shared key; optional shard
 *                     split after --split-at completions
 *   MODE faults       the same through the fault proxy: retries everywhere
 *   MODE ttl          a stream that never accepts: every record expires
 *   MODE backpressure a small region: put reports FULL, poll drains it
 *   --min-per-record N  fail unless aggregation reached N user records per
 *                       Kinesis record with the shard map loaded
 *
 * Every mode checks that each record put gets exactly one completion. The
 * manifest lists delivered user records for tests/net/reader.js. */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#define KINAGG_POSIX_IMPLEMENTATION
#include "../../port/kinagg_posix.h"
#include "../check.h"
#include "net_util.h"
#include <stdlib.h>
#include <string.h>

typedef struct outcome {
    unsigned completions;
    kinagg_status status;
    unsigned attempts;
} outcome;

static outcome *outcomes;
static unsigned long completed, delivered, expired, other_failures;
static kinagg_producer prod;
static kinagg_platform pf;

static void on_complete(void *ctx, const kinagg_completion *c) {
    size_t id = (size_t)(uintptr_t)c->user;
    outcome *o = &outcomes[id];
    (void)ctx;
    o->completions++;
    o->status = c->status;
    o->attempts = c->attempts;
    completed++;
    if (c->status == KINAGG_OK) {
        delivered++;
        if (!c->shard_id.len || !c->sequence_number.len) other_failures++;
    } else if (c->status == KINAGG_ERR_EXPIRED) {
        expired++;
    } else {
        if (other_failures++ < 5)
            fprintf(stderr, "record %u failed: %s %.*s %.*s\n", (unsigned)id, kinagg_strerror(c->status),
                    (int)c->error_code.len, c->error_code.ptr, (int)c->error_message.len, c->error_message.ptr);
    }
}

/* SplitShard through kinagg's own request machinery (a test-only call). */
static kinagg_status split_shard(kinagg_kinesis *k, const char *stream, const char *shard, const char *at) {
    kinagg__field f[3];
    memset(f, 0, sizeof f);
    f[0].key = "StreamName"; f[0].str = kinagg_str_c(stream);
    f[1].key = "ShardToSplit"; f[1].str = kinagg_str_c(shard);
    f[2].key = "NewStartingHashKey"; f[2].str = kinagg_str_c(at);
    return kinagg__small_call(k, "SplitShard", f, 3);
}

static void hex(FILE *f, const void *p, size_t n) {
    const unsigned char *c = (const unsigned char *)p;
    size_t i;
    if (!n) fputc('-', f);
    for (i = 0; i < n; i++) fprintf(f, "%02x", c[i]);
}


int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "", *stream = "producer", *manifest = NULL, *proto = "json";
    unsigned long nrandom = 100000, nshared = 20000, split_at = 0, total, i;
    double min_per_record = 0;
    int port = 0, a;
    size_t region_size = 64u << 20;
    unsigned char *region;
    kinagg_posix_socket socks[2];
    kinagg_transport tps[2];
    kinagg_endpoint ep;
    kinagg_credentials cr;
    kinagg_producer_config cfg;
    kinagg_status st;
    char url[64], key[64];
    static unsigned char data[400];
    static kinagg_kinesis admin;
    static unsigned char asend[4096], arecv[65536];
    kinagg_transport atp;
    kinagg_posix_socket asock;
    FILE *man = NULL;
    unsigned long full_seen = 0;
    for (a = 2; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--port")) port = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--stream")) stream = argv[a + 1];
        else if (!strcmp(argv[a], "--manifest")) manifest = argv[a + 1];
        else if (!strcmp(argv[a], "--random")) nrandom = strtoul(argv[a + 1], NULL, 10);
        else if (!strcmp(argv[a], "--shared")) nshared = strtoul(argv[a + 1], NULL, 10);
        else if (!strcmp(argv[a], "--split-at")) split_at = strtoul(argv[a + 1], NULL, 10);
        else if (!strcmp(argv[a], "--protocol")) proto = argv[a + 1];
        else if (!strcmp(argv[a], "--min-per-record")) min_per_record = atof(argv[a + 1]);
    }
    if (!port) { fprintf(stderr, "usage: producer_test MODE --port PORT --stream NAME ...\n"); return 2; }
    if (!strcmp(mode, "ttl")) { nrandom = 300; nshared = 0; }
    if (!strcmp(mode, "backpressure")) region_size = 512u << 10;
    total = nrandom + nshared;
    outcomes = (outcome *)calloc(total + 1, sizeof *outcomes);
    /* guard bytes around the region: the producer must stay inside it */
    region = (unsigned char *)malloc(region_size + 2 * 4096);
    memset(region, 0xA5, region_size + 2 * 4096);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    kinagg_endpoint_from_url(&ep, kinagg_str_c(url));
    cr.access_key_id = kinagg_str_c("AKIDKINAGGTEST");
    cr.secret_access_key = kinagg_str_c("kinagg/test/secret+KEY");
    cr.session_token = kinagg_str_c("");
    kinagg_posix_platform(&pf);
    for (a = 0; a < 2; a++) kinagg_posix_socket_init(&socks[a], &tps[a]);

    /* the stream, created with a plain client */
    kinagg_posix_socket_init(&asock, &atp);
    kinagg_kinesis_init(&admin, &ep, kinagg_str_c("us-east-1"), &cr, KINAGG_PROTOCOL_JSON, &atp, &pf, asend,
                        sizeof asend, arecv, sizeof arecv);
    st = kinagg_create_stream(&admin, kinagg_str_c(stream), 4);
    CHECK(st == KINAGG_OK, "CreateStream: %s %s", kinagg_strerror(st), admin.error_type);
    {
        kinagg_stream_ref sr;
        sr.name = kinagg_str_c(stream);
        sr.arn = kinagg_str_c("");
        CHECK(wait_active(&admin, sr, &pf, 30), "stream %s not ACTIVE", stream);
    }

    kinagg_producer_config_defaults(&cfg);
    cfg.stream.name = kinagg_str_c(stream);
    cfg.stream.arn = kinagg_str_c("");
    cfg.on_complete = on_complete;
    cfg.connections = 2;
    cfg.rate_limit_percent = 1000; /* kinesalite does not throttle: let it go */
    if (!strcmp(mode, "faults")) {
        cfg.request_timeout_ms = 3000; /* the proxy stalls some requests for 8 s */
        cfg.min_backoff_ms = 20;
        cfg.max_backoff_ms = 200;
        cfg.record_ttl_ms = 120000;
    }
    if (!strcmp(mode, "ttl")) {
        cfg.record_ttl_ms = 1500;
        cfg.min_backoff_ms = 50;
        cfg.max_backoff_ms = 200;
    }
    if (!strcmp(proto, "cbor")) cfg.collection_max_count = 100; /* kinesalite: CBOR answers under 16 KiB */
    if (!strcmp(mode, "backpressure")) {
        cfg.connections = 1;
        cfg.recv_buffer_size = 65536;
        cfg.collection_max_size = 1u << 20;
        cfg.max_record_size = 65536; /* the records here are small */
    }
    st = kinagg_producer_init(&prod, region + 4096, region_size, &cfg, &ep, kinagg_str_c("us-east-1"), &cr,
                              strcmp(proto, "cbor") ? KINAGG_PROTOCOL_JSON : KINAGG_PROTOCOL_CBOR, tps, &pf);
    CHECK(st == KINAGG_OK, "producer init: %s", kinagg_strerror(st));
    if (st != KINAGG_OK) return check_summary("producer");
    if (manifest) man = fopen(manifest, "w");

    for (i = 0; i < total; i++) {
        size_t len = 20 + check_below(300), b;
        int shared = i >= nrandom;
        int n = snprintf((char *)data, sizeof data, "rec-%lu-", i);
        for (b = (size_t)n; b < len; b++) data[b] = (unsigned char)('a' + check_below(26));
        if (shared) strcpy(key, "shared-key");
        else snprintf(key, sizeof key, "key-%llu", check_rand() % 1000000000ull);
        for (;;) {
            uint64_t next;
            st = kinagg_producer_put(&prod, key, strlen(key), NULL, 0, data, len, (void *)(uintptr_t)i);
            if (st != KINAGG_ERR_FULL) break;
            full_seen++;
            kinagg_producer_poll(&prod, &next);
            kinagg_producer_wait(&prod, next, 50);
        }
        CHECK(st == KINAGG_OK, "put %lu: %s", i, kinagg_strerror(st));
        if (man) { /* a record whose shard is any that owns its hash key */
            fputs("rec * ", man);
            hex(man, key, strlen(key));
            fputc(' ', man);
            hex(man, data, len);
            fputc('\n', man);
        }
        if ((i & 255) == 0) {
            uint64_t next;
            kinagg_producer_poll(&prod, &next);
        }
        if (split_at && i == split_at) { /* reshard mid-run: split the shard of the first key */
            kinagg_shard sh[8];
            size_t ns = 0;
            char mid[40];
            kinagg_hash_key m;
            if (kinagg_list_shards(&admin, cfg.stream, sh, 8, &ns, 0) == KINAGG_OK && ns) {
                /* the midpoint of shard 0's range: start + (end - start) / 2 */
                unsigned carry = 0;
                int j;
                for (j = 15; j >= 0; j--) {
                    unsigned v = (unsigned)sh[0].start.be[j] + sh[0].end.be[j] + carry;
                    m.be[j] = (unsigned char)v;
                    carry = v >> 8;
                }
                for (j = 0; j < 16; j++) { /* halve, with the carry on top */
                    unsigned v = (carry << 8) | m.be[j];
                    m.be[j] = (unsigned char)(v >> 1);
                    carry = v & 1;
                }
                kinagg_hash_key_format(&m, mid);
                st = split_shard(&admin, stream, sh[0].shard_id, mid);
                CHECK(st == KINAGG_OK, "SplitShard: %s %s %s", kinagg_strerror(st), admin.error_type,
                      admin.error_message);
                printf("split %s at %s after %lu records\n", sh[0].shard_id, mid, i);
            }
        }
    }
    st = kinagg_producer_flush(&prod, 120000);
    CHECK(st == KINAGG_OK, "flush: %s, %lu records still buffered", kinagg_strerror(st),
          (unsigned long)prod.stats.buffered_records);
    if (man) fclose(man);

    /* exactly one completion per record */
    {
        unsigned long missing = 0, twice = 0;
        for (i = 0; i < total; i++) {
            if (outcomes[i].completions == 0) missing++;
            if (outcomes[i].completions > 1) twice++;
        }
        CHECK(missing == 0 && twice == 0, "%lu records without completion, %lu with more than one", missing, twice);
        CHECK(completed == total, "%lu completions for %lu records", completed, total);
    }
    /* The records whose order docs/producer.md does not promise: those sent
     * again, after a partial failure or because their aggregate landed on
     * another shard than the map said (resharding). The reader checks the
     * order of all the others (--unordered). */
    if (manifest) {
        char path[4096];
        FILE *u;
        unsigned long n = 0;
        snprintf(path, sizeof path, "%s.unordered", manifest);
        u = fopen(path, "w");
        CHECK(u != NULL, "cannot write %s", path);
        for (i = 0; u && i < total; i++)
            if (outcomes[i].attempts > 1) {
                fprintf(u, "%lu\n", i);
                n++;
            }
        if (u) fclose(u);
        printf("%s: %lu of %lu records sent again (their order is not checked)\n", mode, n, total);
    }
    if (!strcmp(mode, "ttl")) {
        CHECK(expired == total, "%lu of %lu records expired", expired, total);
        for (i = 0; i < total; i++)
            if (outcomes[i].status == KINAGG_ERR_EXPIRED && outcomes[i].attempts < 1) {
                CHECK(0, "record %lu expired without an attempt", i);
                break;
            }
    } else {
        CHECK(delivered == total && other_failures == 0, "%lu of %lu delivered, %lu failed", delivered, total,
              other_failures);
    }
    if (!strcmp(mode, "backpressure")) CHECK(full_seen > 0, "put never reported KINAGG_ERR_FULL");
    {
        size_t g;
        unsigned long bad = 0;
        for (g = 0; g < 4096; g++) bad += region[g] != 0xA5 || region[4096 + region_size + g] != 0xA5;
        CHECK(bad == 0, "%lu guard bytes outside the region changed", bad);
    }
    {
        kinagg_producer_stats s;
        kinagg_producer_get_stats(&prod, &s);
        printf("%s: %llu user records in %llu Kinesis records (%.1f per record), %llu requests (%llu failed), "
               "%llu retries, %llu expired, shard map loaded %llu times, put said FULL %lu times\n",
               mode, (unsigned long long)s.records_delivered, (unsigned long long)s.kinesis_records,
               s.kinesis_records ? (double)s.records_delivered / (double)s.kinesis_records : 0.0,
               (unsigned long long)s.requests, (unsigned long long)s.requests_failed,
               (unsigned long long)s.records_retried, (unsigned long long)expired,
               (unsigned long long)s.shard_map_loads, full_seen);
        CHECK(!min_per_record || (s.kinesis_records &&
                                  (double)s.records_delivered / (double)s.kinesis_records >= min_per_record),
              "%.1f user records per Kinesis record, fewer than %.0f: aggregation fell back (last error: %s)",
              s.kinesis_records ? (double)s.records_delivered / (double)s.kinesis_records : 0.0, min_per_record,
              kinagg_producer_last_error(&prod));
        CHECK(!min_per_record || s.shard_map == KINAGG_SHARD_MAP_LOADED, "the shard map was not loaded: %s",
              kinagg_producer_last_error(&prod));
    }
    kinagg_producer_close(&prod);
    free(region);
    free(outcomes);
    return check_summary("producer");
}
