/* The whole producer path, as fast as it goes: records of a bench.c record
 * file are put into kinagg's producer (4 MiB region, the defaults otherwise:
 * 51,200-byte aggregates per shard, 500 entries per PutRecords), which is
 * polled until every record has completed, against a Kinesis endpoint on
 * 127.0.0.1 (tests/bench/sink.js). Prints one line of name=value pairs:
 * client CPU seconds (getrusage, user + system, of the whole run), wall
 * seconds, peak RSS (ru_maxrss), records per CPU-second, and how long each
 * kinagg_producer_poll took (CLOCK_MONOTONIC around the call: median, p99,
 * max, in microseconds; and the same in the thread's CPU time, which leaves
 * out the time the thread was not running on a shared machine). Exits 1 unless every record was delivered exactly
 * once.
 *
 *   producer_bench --port PORT --file FILE [--stream NAME] [--protocol json|cbor]
 *                  [--records N] [--region-kib N] [--connections N]
 *                  [--tls CA_FILE]      (https://localhost:PORT, mbedTLS)
 *                  [--slow N]           print the N (up to 8) slowest polls
 *                  [--poll-work BYTES]  poll_work_bytes (default: the producer's)
 *
 * Records are read from the file as they are put, through a 64 KiB buffer,
 * so that the process holds only the producer's region and its own code. */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#define KINAGG_POSIX_IMPLEMENTATION
#include "../../port/kinagg_posix.h"
#ifdef BENCH_TLS
#define KINAGG_MBEDTLS_IMPLEMENTATION
#include "../../port/kinagg_mbedtls.h"
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_CONN 8
#define MAX_RECORDS (16ul << 20)
#define HIST_US 20000 /* poll times in 1 us buckets up to 20 ms */

static unsigned char region_mem[64u << 20]; /* only the --region-kib used is touched */
static unsigned char delivered[MAX_RECORDS / 8];
static uint32_t hist[HIST_US + 1], hist_cpu[HIST_US + 1];
static unsigned long ok_count, dup_count, fail_count;

/* The slowest polls (thread CPU time), with what the producer had done by
 * then, for --slow: which work makes a poll long. */
typedef struct slow_poll {
    double cpu_us, wall_us;
    unsigned long index, put, delivered_before, delivered_after;
    uint64_t requests, map_loads, map_loads_before;
    size_t buffered;
} slow_poll;
static slow_poll slow[8];
static kinagg_status first_failure;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_s(long *maxrss_kb) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (maxrss_kb) *maxrss_kb = ru.ru_maxrss;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static void on_complete(void *ctx, const kinagg_completion *c) {
    size_t i = (size_t)(uintptr_t)c->user - 1;
    (void)ctx;
    if (c->status != KINAGG_OK) {
        if (!fail_count++) first_failure = c->status;
        return;
    }
    if (delivered[i / 8] & (1u << (i % 8))) dup_count++;
    delivered[i / 8] |= (unsigned char)(1u << (i % 8));
    ok_count++;
}

/* The record file: per record, u16 key length, key, u32 data length, data (little-endian). */
static FILE *in;
static char key[1024];
static unsigned char data[1u << 20];
static size_t key_len, data_len;
static int next_record(void) {
    unsigned char h[4];
    if (fread(h, 1, 2, in) != 2) return 0;
    key_len = (size_t)h[0] | (size_t)h[1] << 8;
    if (key_len > sizeof key || fread(key, 1, key_len, in) != key_len || fread(h, 1, 4, in) != 4) return 0;
    data_len = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16 | (size_t)h[3] << 24;
    return data_len <= sizeof data && fread(data, 1, data_len, in) == data_len;
}

static double thread_cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double hist_pct(const uint32_t *h, unsigned long n, double q) {
    unsigned long want = (unsigned long)((double)n * q), seen = 0;
    size_t b;
    for (b = 0; b <= HIST_US; b++) {
        seen += h[b];
        if (seen > want) return (double)b;
    }
    return HIST_US;
}

int main(int argc, char **argv) {
    static kinagg_producer p;
    static char inbuf[65536];
    static kinagg_posix_socket sock[MAX_CONN];
#ifdef BENCH_TLS
    static kinagg_mbedtls tls[MAX_CONN];
#endif
    kinagg_transport tcp[MAX_CONN], tp[MAX_CONN];
    kinagg_platform pf;
    kinagg_endpoint ep;
    kinagg_credentials cr;
    kinagg_producer_config cfg;
    kinagg_producer_stats s;
    kinagg_status st;
    const char *file = NULL, *stream = "bench", *ca = NULL, *proto = "json";
    unsigned long records = MAX_RECORDS, put = 0, polls = 0;
    size_t region_kib = 4096, i;
    unsigned conns = 2;
    int port = 0, a, have = 0, full = 0, show_slow = 0;
    double t0, c0, t1, c1, max_us = 0, max_cpu_us = 0;
    long rss_kb = 0;
    char url[96];
    unsigned long poll_work = (unsigned long)-1; /* the default */
    for (a = 1; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--port")) port = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--file")) file = argv[a + 1];
        else if (!strcmp(argv[a], "--stream")) stream = argv[a + 1];
        else if (!strcmp(argv[a], "--protocol")) proto = argv[a + 1];
        else if (!strcmp(argv[a], "--records")) records = strtoul(argv[a + 1], NULL, 10);
        else if (!strcmp(argv[a], "--region-kib")) region_kib = strtoul(argv[a + 1], NULL, 10);
        else if (!strcmp(argv[a], "--connections")) conns = (unsigned)atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--tls")) ca = argv[a + 1];
        else if (!strcmp(argv[a], "--slow")) show_slow = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--poll-work")) poll_work = strtoul(argv[a + 1], NULL, 10);
        else break;
    }
    if (a < argc || !port || !file || conns < 1 || conns > MAX_CONN || region_kib * 1024 > sizeof region_mem ||
        records > MAX_RECORDS || (strcmp(proto, "json") && strcmp(proto, "cbor"))) {
        fprintf(stderr, "usage: producer_bench --port PORT --file FILE [--stream NAME] [--protocol json|cbor]\n"
                        "  [--records N] [--region-kib N] [--connections N] [--tls CA_FILE] [--poll-work BYTES]\n");
        return 2;
    }
#ifndef BENCH_TLS
    if (ca) {
        fprintf(stderr, "producer_bench: built without TLS (-DBENCH_TLS)\n");
        return 2;
    }
#endif
    in = fopen(file, "rb");
    if (!in) {
        perror(file);
        return 2;
    }
    setvbuf(in, inbuf, _IOFBF, sizeof inbuf);
    memset(region_mem, 0, region_kib * 1024); /* resident from the start, as a long-running program's is */

    c0 = cpu_s(NULL);
    t0 = now_s();
    snprintf(url, sizeof url, "%s://%s:%d", ca ? "https" : "http", ca ? "localhost" : "127.0.0.1", port);
    kinagg_endpoint_from_url(&ep, kinagg_str_c(url));
    cr.access_key_id = kinagg_str_c("AKIDKINAGGBENCH");
    cr.secret_access_key = kinagg_str_c("kinagg/bench/secret");
    cr.session_token = kinagg_str_c("");
    kinagg_posix_platform(&pf);
    for (i = 0; i < conns; i++) {
        kinagg_posix_socket_init(&sock[i], &tcp[i]);
        tp[i] = tcp[i];
#ifdef BENCH_TLS
        if (ca) {
            if (kinagg_mbedtls_init(&tls[i], &tcp[i], &tp[i]) != KINAGG_OK || kinagg_mbedtls_ca_file(&tls[i], ca) != KINAGG_OK) {
                fprintf(stderr, "producer_bench: TLS set-up failed\n");
                return 2;
            }
            kinagg_mbedtls_server_name(&tls[i], "localhost");
        }
#endif
    }
    kinagg_producer_config_defaults(&cfg);
    cfg.stream.name = kinagg_str_c(stream);
    cfg.stream.arn = kinagg_str_c("");
    cfg.on_complete = on_complete;
    cfg.connections = conns;
    cfg.rate_limit_percent = 100000; /* a local sink: no shard limits to keep under */
    cfg.record_ttl_ms = 0;
    if (poll_work != (unsigned long)-1) cfg.poll_work_bytes = poll_work;
    st = kinagg_producer_init(&p, region_mem, region_kib * 1024, &cfg, &ep, kinagg_str_c("us-east-1"), &cr,
                              !strcmp(proto, "cbor") ? KINAGG_PROTOCOL_CBOR : KINAGG_PROTOCOL_JSON, tp, &pf);
    if (st != KINAGG_OK) {
        fprintf(stderr, "producer_bench: init: %s\n", kinagg_strerror(st));
        return 2;
    }
    for (;;) {
        uint64_t next;
        double w0, p0, us, cus;
        unsigned long before = ok_count;
        size_t buffered = p.stats.buffered_records;
        uint64_t maps = p.stats.shard_map_loads;
        while (put < records) { /* put until the producer is full */
            if (!have && !(have = next_record())) {
                records = put;
                break;
            }
            st = kinagg_producer_put(&p, key, key_len, NULL, 0, data, data_len, (void *)(uintptr_t)(put + 1));
            if (st == KINAGG_ERR_FULL) {
                full = 1;
                break;
            }
            if (st != KINAGG_OK) {
                fprintf(stderr, "producer_bench: put: %s\n", kinagg_strerror(st));
                return 2;
            }
            have = 0;
            put++;
        }
        if (put >= records && p.stats.buffered_records == 0) break;
        if (now_s() - t0 > 300) { /* the sink is gone, or stuck: give up */
            fprintf(stderr, "producer_bench: not done after 300 s (%s)\n", kinagg_producer_last_error(&p));
            kinagg_producer_abandon(&p);
            break;
        }
        p0 = thread_cpu_s();
        w0 = now_s();
        kinagg_producer_poll(&p, &next);
        us = (now_s() - w0) * 1e6;
        cus = (thread_cpu_s() - p0) * 1e6;
        hist[us < HIST_US ? (size_t)us : HIST_US]++;
        hist_cpu[cus < HIST_US ? (size_t)cus : HIST_US]++;
        if (us > max_us) max_us = us;
        if (cus > max_cpu_us) max_cpu_us = cus;
        if (cus > slow[7].cpu_us) { /* keep the 8 slowest, slowest first */
            size_t j = 7;
            for (; j > 0 && slow[j - 1].cpu_us < cus; j--) slow[j] = slow[j - 1];
            slow[j].cpu_us = cus;
            slow[j].wall_us = us;
            slow[j].index = polls;
            slow[j].put = put;
            slow[j].buffered = buffered;
            slow[j].delivered_before = before;
            slow[j].delivered_after = ok_count;
            slow[j].requests = p.stats.requests;
            slow[j].map_loads = p.stats.shard_map_loads;
            slow[j].map_loads_before = maps;
        }
        polls++;
        if (full || put >= records) kinagg_producer_wait(&p, next, 10); /* nothing to put: let the socket wake us */
        full = 0;
    }
    c1 = cpu_s(&rss_kb);
    t1 = now_s();
    kinagg_producer_get_stats(&p, &s);
    printf("records=%lu delivered=%lu cpu_s=%.3f wall_s=%.3f rss_kb=%ld rate=%.0f poll_p50_us=%.0f "
           "poll_p99_us=%.0f poll_max_us=%.0f poll_cpu_p50_us=%.0f poll_cpu_p99_us=%.0f poll_cpu_max_us=%.0f polls=%lu requests=%llu kinesis_records=%llu retried=%llu "
           "errors=%llu map_loads=%llu\n",
           records, ok_count, c1 - c0, t1 - t0, rss_kb, (double)ok_count / (c1 - c0), hist_pct(hist, polls, 0.5),
           hist_pct(hist, polls, 0.99), max_us, hist_pct(hist_cpu, polls, 0.5), hist_pct(hist_cpu, polls, 0.99),
           max_cpu_us, polls, (unsigned long long)s.requests,
           (unsigned long long)s.kinesis_records, (unsigned long long)s.records_retried,
           (unsigned long long)s.errors, (unsigned long long)s.shard_map_loads);
    for (i = 0; i < (size_t)show_slow && i < 8; i++)
        fprintf(stderr, "slow poll %lu: cpu %.0f us, wall %.0f us; %lu put, %lu buffered before, %lu completed in it, "
                        "%llu requests by its end%s\n",
                slow[i].index, slow[i].cpu_us, slow[i].wall_us, slow[i].put, (unsigned long)slow[i].buffered,
                slow[i].delivered_after - slow[i].delivered_before, (unsigned long long)slow[i].requests,
                slow[i].map_loads > slow[i].map_loads_before ? "; the shard map arrived in it" : "");
    if (s.errors) fprintf(stderr, "producer_bench: last error: %s\n", kinagg_producer_last_error(&p));
    kinagg_producer_close(&p);
    for (i = 0; i < conns; i++) {
#ifdef BENCH_TLS
        if (ca) kinagg_mbedtls_free(&tls[i]);
#endif
        kinagg_posix_socket_release(&sock[i]);
    }
    fclose(in);
    if (ok_count != records || dup_count || fail_count) {
        fprintf(stderr, "producer_bench: %lu of %lu delivered, %lu twice, %lu failed (first: %s)\n", ok_count, records,
                dup_count, fail_count, fail_count ? kinagg_strerror(first_failure) : "-");
        return 1;
    }
    return 0;
}
