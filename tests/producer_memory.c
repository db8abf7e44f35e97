/* The producer's memory can be computed: kinagg_producer_region_size agrees
 * with kinagg_producer_init for many configurations (the size it names is
 * enough at any alignment, 16 bytes less is not), the region is never
 * overrun, and the defaults hold many small records.
 * No network: the transport is never called before the first poll. */
#define KINAGG_IMPLEMENTATION
#include "../kinagg.h"
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fake_now(void *ctx) { (void)ctx; return 1000; }
static kinagg_io fake_connect(void *ctx, const char *h, uint16_t p) { (void)ctx; (void)h; (void)p; return KINAGG_IO_ERROR; }
static kinagg_io fake_send(void *ctx, const unsigned char *d, size_t n, size_t *s) { (void)ctx; (void)d; (void)n; (void)s; return KINAGG_IO_ERROR; }
static kinagg_io fake_recv(void *ctx, unsigned char *b, size_t n, size_t *r) { (void)ctx; (void)b; (void)n; (void)r; return KINAGG_IO_ERROR; }
static void fake_close(void *ctx) { (void)ctx; }

static kinagg_transport tps[KINAGG_PRODUCER_MAX_CONNECTIONS];
static kinagg_platform pf;
static kinagg_endpoint ep;
static kinagg_credentials cr;
static kinagg_producer prod;

#ifdef KINAGG_NO_SHARD_MAP
#define BUILD_NO_MAP 1
#else
#define BUILD_NO_MAP 0
#endif
#ifdef KINAGG_NO_CREDENTIALS_SOURCE
#define BUILD_NO_SOURCE 1
#else
#define BUILD_NO_SOURCE 0
#endif
#ifdef KINAGG_NO_ERROR_TEXT
#define BUILD_NO_TEXT 1
#else
#define BUILD_NO_TEXT 0
#endif
static kinagg_status cred_none(void *ctx, int force, kinagg_credentials *out, uint64_t *expires) {
    (void)ctx, (void)force, (void)out, (void)expires;
    return KINAGG_PENDING;
}

static kinagg_status try_init(const kinagg_producer_config *cfg, unsigned char *mem, size_t size) {
    return kinagg_producer_init(&prod, mem, size, cfg, &ep, kinagg_str_c("us-east-1"), &cr, KINAGG_PROTOCOL_JSON,
                                tps, &pf);
}

/* sizes must agree with init; the producer must stay inside its region */
static void check_config(const char *what, const kinagg_producer_config *cfg) {
    size_t need = kinagg_producer_region_size(cfg), off;
    unsigned char *mem;
    kinagg_status st;
    CHECK(need > 0, "%s: region_size is 0", what);
    if (!need) return;
    mem = (unsigned char *)malloc(need + 1100);
    { /* any region larger than region_size() works too */
        size_t extra, refused = 0, first = 0;
        for (extra = 1; extra <= 1024; extra += need > 1000000 ? 37 : 1)
            if (try_init(cfg, mem, need + extra) != KINAGG_OK && !refused++) first = extra;
        CHECK(refused == 0, "%s: init refuses %lu regions of region_size() + 1..1024 bytes (the first + %lu)", what,
              (unsigned long)refused, (unsigned long)first);
    }
    for (off = 0; off < 16; off += 5) { /* at several alignments */
        size_t g, bad = 0;
        memset(mem, 0xA5, need + 64);
        st = try_init(cfg, mem + off, need);
        CHECK(st == KINAGG_OK, "%s: init with region_size() = %lu at offset %lu: %s", what, (unsigned long)need,
              (unsigned long)off, kinagg_strerror(st));
        if (st == KINAGG_OK) { /* fill it: records up to the largest the config allows */
            static unsigned char data[1u << 16];
            size_t len = cfg->max_record_size - 8 < sizeof data ? cfg->max_record_size - 8 : sizeof data;
            unsigned n = 0;
            st = kinagg_producer_put(&prod, "key-1", 5, NULL, 0, data, len, NULL);
            CHECK(st == KINAGG_OK, "%s: a record of %lu bytes (near max_record_size) fits: %s", what,
                  (unsigned long)len, kinagg_strerror(st));
            while (kinagg_producer_put(&prod, "key-2", 5, "12345", 5, data, 100, NULL) == KINAGG_OK && n < 1000000) n++;
        }
        for (g = 0; g < off; g++) bad += mem[g] != 0xA5;
        for (g = off + need; g < need + 64; g++) bad += mem[g] != 0xA5;
        CHECK(bad == 0, "%s: %lu bytes outside the region changed", what, (unsigned long)bad);
    }
    /* 16 bytes less, aligned: not enough */
    st = try_init(cfg, mem + (16 - ((uintptr_t)mem & 15)) % 16, need - 16);
    CHECK(st == KINAGG_ERR_BUFFER_TOO_SMALL, "%s: init with %lu bytes (16 less than region_size): %s", what,
          (unsigned long)(need - 16), kinagg_strerror(st));
    printf("  %-44s %9lu bytes\n", what, (unsigned long)need);
    free(mem);
}

int main(void) {
    kinagg_producer_config cfg, base;
    size_t i;
    static char arn[2049];
    for (i = 0; i < KINAGG_PRODUCER_MAX_CONNECTIONS; i++) {
        memset(&tps[i], 0, sizeof tps[i]);
        tps[i].connect = fake_connect;
        tps[i].send = fake_send;
        tps[i].recv = fake_recv;
        tps[i].close = fake_close;
    }
    memset(&pf, 0, sizeof pf);
    pf.now_ms = fake_now;
    pf.unix_ms = fake_now;
    kinagg_endpoint_from_url(&ep, kinagg_str_c("http://127.0.0.1:4567"));
    cr.access_key_id = kinagg_str_c("AKIDKINAGGTEST");
    cr.secret_access_key = kinagg_str_c("kinagg/test/secret+KEY");
    cr.session_token = kinagg_str_c("");
    kinagg_producer_config_defaults(&base);
    base.stream.name = kinagg_str_c("memory");

    printf("smallest regions (kinagg_producer_region_size):\n");
/* (a build that allows fewer connections checks the case with as many as it allows) */
#define CASE(what, body)                                                                                          \
    do {                                                                                                          \
        cfg = base;                                                                                               \
        body;                                                                                                     \
        if (cfg.connections > KINAGG_PRODUCER_MAX_CONNECTIONS) cfg.connections = KINAGG_PRODUCER_MAX_CONNECTIONS; \
        check_config(what, &cfg);                                                                                 \
    } while (0)
    CASE("defaults", (void)0);
    CASE("defaults, 2 connections", cfg.connections = 2);
    CASE("defaults, 8 connections", cfg.connections = 8);
    CASE("firmware: 1 conn, 4 shards, 16 entries, 1 KiB", (cfg.max_shards = 4, cfg.collection_max_count = 16,
         cfg.max_record_size = 1024, cfg.aggregation_max_size = 1024, cfg.collection_max_size = 16384,
         cfg.recv_buffer_size = 4096, cfg.send_buffer_size = 2048));
    CASE("firmware, no aggregation", (cfg.max_shards = 4, cfg.collection_max_count = 16, cfg.max_record_size = 1024,
         cfg.aggregation_max_size = 1024, cfg.collection_max_size = 16384, cfg.recv_buffer_size = 4096,
         cfg.send_buffer_size = 2048, cfg.aggregation = KINAGG_AGGREGATE_NONE));
    CASE("gateway: 2 conns, 16 shards, 64 KiB records", (cfg.connections = 2, cfg.max_shards = 16,
         cfg.max_record_size = 65536, cfg.record_buffer_size = 4u << 20));
    CASE("server: 4 conns, 256 shards, 1 MiB records", (cfg.connections = 4, cfg.max_shards = 256,
         cfg.record_buffer_size = 32u << 20));
    CASE("10 MiB records", (cfg.max_record_size = 10u << 20, cfg.collection_max_size = 10u << 20));
    CASE("1 shard", cfg.max_shards = 1);
    CASE("1000 shards", cfg.max_shards = 1000);
    CASE("1 entry per request", cfg.collection_max_count = 1);
    CASE("64-byte records", (cfg.max_record_size = 64, cfg.aggregation_max_size = 64));
    CASE("record buffer 100 KiB, 64 KiB records", (cfg.record_buffer_size = 100000, cfg.max_record_size = 65536));
    CASE("record buffer 2 MiB, 100 slots", (cfg.record_buffer_size = 2u << 20, cfg.max_records = 100));
    CASE("5000 slots", cfg.max_records = 5000);
    CASE("request buffer 200 KiB", cfg.request_buffer_size = 200000);
    CASE("request buffer 5 MiB, 2 conns", (cfg.request_buffer_size = 5u << 20, cfg.connections = 2));
    CASE("receive buffer 4 KiB", cfg.recv_buffer_size = 4096);
    CASE("receive buffer 1 MiB", cfg.recv_buffer_size = 1u << 20);
    CASE("send buffer 1 KiB", cfg.send_buffer_size = 1024);
    CASE("no aggregation", cfg.aggregation = KINAGG_AGGREGATE_NONE);
    CASE("an odd record buffer (12345)", (cfg.record_buffer_size = 12345, cfg.max_record_size = 4096,
         cfg.aggregation_max_size = 4096));
    memset(arn, 'a', 2048);
    memcpy(arn, "arn:aws:kinesis:us-east-1:123456789012:stream/", 46);
    CASE("a 2048-character stream ARN", (cfg.stream.name = kinagg_str_c(""), cfg.stream.arn = kinagg_str_c(arn)));
#undef CASE

    /* what init refuses, region_size calls 0 */
    cfg = base; cfg.connections = 0;
    CHECK(kinagg_producer_region_size(&cfg) == 0, "0 connections: region_size 0");
    cfg = base; cfg.connections = KINAGG_PRODUCER_MAX_CONNECTIONS + 1;
    CHECK(kinagg_producer_region_size(&cfg) == 0, "more connections than KINAGG_PRODUCER_MAX_CONNECTIONS: region_size 0");
    cfg = base; cfg.stream.name = kinagg_str_c("");
    CHECK(kinagg_producer_region_size(&cfg) == 0, "no stream: region_size 0");
    cfg = base; cfg.aggregation_max_size = cfg.max_record_size + 1;
    CHECK(kinagg_producer_region_size(&cfg) == 0, "aggregates larger than records: region_size 0");
    CHECK(kinagg_producer_region_size(NULL) == 0, "NULL: region_size 0");
    cfg = base; cfg.request_timeout_ms = 0; /* every call would time out at once */
    CHECK(kinagg_producer_region_size(&cfg) == 0 && try_init(&cfg, (unsigned char *)arn, 1) == KINAGG_ERR_INVALID_ARGUMENT,
          "request_timeout_ms 0: refused");
    cfg = base; cfg.rate_limit_percent = 100001;
    CHECK(kinagg_producer_region_size(&cfg) == 0, "rate_limit_percent over 100000: region_size 0");
    cfg = base; cfg.record_buffer_size = 100000; /* smaller than one 1 MiB record */
    CHECK(kinagg_producer_region_size(&cfg) == 0 && try_init(&cfg, (unsigned char *)arn, 1) == KINAGG_ERR_INVALID_ARGUMENT,
          "a record buffer that cannot hold one record: refused");
    /* sizes whose layout would overflow size_t (on a 32-bit target, 2^27
     * record slots of 64 bytes are 8 GiB): refused, never a region too small */
    {
        size_t big[3];
        const char *what[3] = {"a receive buffer of SIZE_MAX - 8", "a send buffer of SIZE_MAX - 1000",
                               "2^27 record slots"};
        big[0] = (size_t)-8;
        big[1] = (size_t)-1000;
        big[2] = 0x08000000u;
        for (i = 0; i < 3; i++) {
            size_t need;
            cfg = base;
            if (i == 0) cfg.recv_buffer_size = big[0];
            if (i == 1) cfg.send_buffer_size = big[1];
            if (i == 2) cfg.max_records = big[2];
            need = kinagg_producer_region_size(&cfg);
            CHECK(need == 0 || (uint64_t)need >= (i < 2 ? (uint64_t)big[i] : (uint64_t)big[2] * 64),
                  "%s: region_size %lu is smaller than that", what[i], (unsigned long)need);
            if (need == 0)
                CHECK(try_init(&cfg, (unsigned char *)arn, sizeof arn) != KINAGG_OK, "%s: init refuses it", what[i]);
        }
    }

    {   /* the defaults in 8 MiB: how many 60-byte events fit before FULL */
        size_t size = 8u << 20;
        unsigned char *mem = (unsigned char *)malloc(size);
        unsigned long n = 0;
        char key[16], data[60];
        kinagg_status st;
        memset(data, 'e', sizeof data);
        cfg = base;
        st = try_init(&cfg, mem, size);
        CHECK(st == KINAGG_OK, "defaults in 8 MiB: %s", kinagg_strerror(st));
        for (;;) {
            snprintf(key, sizeof key, "player-%lu", n % 1000);
            st = kinagg_producer_put(&prod, key, strlen(key), NULL, 0, data, sizeof data, NULL);
            if (st != KINAGG_OK) break;
            n++;
        }
        CHECK(st == KINAGG_ERR_FULL, "the put that did not fit says FULL: %s", kinagg_strerror(st));
        CHECK(n >= 50000, "8 MiB with the defaults holds %lu 60-byte events, fewer than 50,000", n);
        printf("8 MiB region, defaults: %lu events of 60 bytes (keys player-0..999) before FULL\n", n);
        free(mem);
    }
    { /* the room for credentials: the smaller of KINAGG_PRODUCER_CREDENTIALS_MAX and the send buffer */
        static char token[4096];
        kinagg_credentials big;
        unsigned char *mem;
        size_t need;
        kinagg_status st;
        cfg = base;
        cfg.max_shards = 4, cfg.collection_max_count = 16, cfg.max_record_size = 1024;
        cfg.aggregation_max_size = 1024, cfg.collection_max_size = 16384, cfg.send_buffer_size = 1024;
        cfg.recv_buffer_size = 4096;
        need = kinagg_producer_region_size(&cfg);
        mem = (unsigned char *)malloc(need);
        st = try_init(&cfg, mem, need);
        CHECK(st == KINAGG_OK, "1 KiB send buffer: %s", kinagg_strerror(st));
        memset(token, 't', sizeof token);
        big = cr;
        big.session_token.ptr = token;
        big.session_token.len = 1024 - cr.access_key_id.len - cr.secret_access_key.len;
        st = kinagg_producer_set_credentials(&prod, &big);
        CHECK(st == KINAGG_OK, "credentials of 1024 bytes with a 1 KiB send buffer: %s", kinagg_strerror(st));
        big.session_token.len++;
        st = kinagg_producer_set_credentials(&prod, &big);
        CHECK(st == KINAGG_ERR_BUFFER_TOO_SMALL, "credentials of 1025 bytes with a 1 KiB send buffer: %s",
              kinagg_strerror(st));
        CHECK(prod.credentials.session_token.len == 1024 - cr.access_key_id.len - cr.secret_access_key.len,
              "refused credentials leave the old ones");
        st = try_init(&cfg, mem, need);
        CHECK(st == KINAGG_OK, "init again: %s", kinagg_strerror(st));
        st = kinagg_producer_init(&prod, mem, need, &cfg, &ep, kinagg_str_c("us-east-1"), &big, KINAGG_PROTOCOL_JSON,
                                  tps, &pf);
        CHECK(st == KINAGG_ERR_BUFFER_TOO_SMALL, "init with credentials larger than the send buffer: %s",
              kinagg_strerror(st));
        free(mem);
    }
    { /* the parts a build may leave out (KINAGG_NO_SHARD_MAP, _NO_CREDENTIALS_SOURCE, _NO_ERROR_TEXT) */
        kinagg_producer_stats stats;
        unsigned char *mem;
        size_t few, many;
        char num[16];
        int i;
        cfg = base;
        cfg.max_shards = 1;
        few = kinagg_producer_region_size(&cfg);
        cfg.max_shards = 1000;
        many = kinagg_producer_region_size(&cfg);
#ifdef KINAGG_NO_SHARD_MAP
        CHECK(few == many, "without shard maps, max_shards takes no memory: %lu with 1, %lu with 1000",
              (unsigned long)few, (unsigned long)many);
#else
        CHECK(many > few + 999 * 2 * 64, "1000 shards take two tables: %lu with 1, %lu with 1000", (unsigned long)few,
              (unsigned long)many);
#endif
        mem = (unsigned char *)malloc(many);
        cfg.no_shard_map = 0;
        CHECK(try_init(&cfg, mem, many) == KINAGG_OK, "init with 1000 shards");
        kinagg_producer_get_stats(&prod, &stats);
        CHECK(stats.shard_map == (KINAGG_SHARD_MAP_NONE + (kinagg_shard_map_state)(BUILD_NO_MAP * 3)),
              "the shard map's state after init: %d", (int)stats.shard_map);
        cfg.credentials_source.get = cred_none;
        CHECK(try_init(&cfg, mem, many) == (BUILD_NO_SOURCE ? KINAGG_ERR_INVALID_ARGUMENT : KINAGG_OK),
              "init with a credentials source");
        CHECK((kinagg_producer_region_size(&cfg) == 0) == BUILD_NO_SOURCE,
              "region_size with a credentials source: %lu (0 where init refuses it)",
              (unsigned long)kinagg_producer_region_size(&cfg));
        free(mem);
        for (i = 0; i < KINAGG_STATUS_COUNT_; i++) {
            snprintf(num, sizeof num, "%d", i);
            if (BUILD_NO_TEXT) CHECK(strcmp(kinagg_strerror((kinagg_status)i), num) == 0, "strerror(%d) is %s", i, kinagg_strerror((kinagg_status)i));
            else CHECK((kinagg_strerror((kinagg_status)i)[0] < '0' || kinagg_strerror((kinagg_status)i)[0] > '9'), "strerror(%d) is %s", i, kinagg_strerror((kinagg_status)i));
        }
        CHECK(strcmp(kinagg_strerror(KINAGG_STATUS_COUNT_), BUILD_NO_TEXT ? "?" : "unknown status") == 0,
              "strerror of a value that is no status: %s", kinagg_strerror(KINAGG_STATUS_COUNT_));
        CHECK(sizeof prod.last_error == (BUILD_NO_TEXT ? 1 : 256) && sizeof prod.map_token == (BUILD_NO_MAP ? 1 : 1024),
              "the producer's last error line %lu bytes, paging token %lu bytes", (unsigned long)sizeof prod.last_error,
              (unsigned long)sizeof prod.map_token);
    }
    return check_summary("producer-memory");
}
