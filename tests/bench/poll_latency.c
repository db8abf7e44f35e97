/* How long one kinagg_producer_poll takes with the producer at full speed:
 * records are put as fast as the producer takes them (put until FULL, then
 * poll), and every poll is timed, in CPU time of the calling thread and in
 * wall time. Prints the median, p90, p99 and maximum, for poll_work_bytes
 * at its default and with no bound, side by side.
 *
 *   poll_latency --port PORT [--records N] [--stream NAME]
 *
 * PORT is a Kinesis endpoint on 127.0.0.1 (the tests' proxy or any sink that
 * answers ListShards and PutRecords); the stream is created with 4 shards. */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#define KINAGG_POSIX_IMPLEMENTATION
#include "../../port/kinagg_posix.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_ms(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static unsigned long done_ok, done_failed;
static void on_complete(void *ctx, const kinagg_completion *c) {
    (void)ctx;
    if (c->status == KINAGG_OK) done_ok++;
    else done_failed++;
}

typedef struct run_result {
    double cpu_p50, cpu_p90, cpu_p99, cpu_max, wall_p99, wall_max, seconds;
    unsigned long polls;
} run_result;

static void pct(double *v, size_t n, double *p50, double *p90, double *p99, double *max) {
    qsort(v, n, sizeof *v, cmp_double);
    *p50 = v[n / 2];
    *p90 = v[n * 9 / 10];
    *p99 = v[n * 99 / 100];
    *max = v[n - 1];
}

static int run(int port, const char *stream, unsigned long records, size_t work, run_result *out) {
    static kinagg_producer p;
    static unsigned char region[16u << 20];
    kinagg_posix_socket sock;
    kinagg_transport tp;
    kinagg_platform pf;
    kinagg_endpoint ep;
    kinagg_credentials cr;
    kinagg_producer_config cfg;
    char url[64], key[32], data[100];
    unsigned long i, cap = 4000000, n = 0;
    double *cpu = (double *)malloc(cap * sizeof *cpu), *wall = (double *)malloc(cap * sizeof *wall), dummy, t0;
    kinagg_status st;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    kinagg_endpoint_from_url(&ep, kinagg_str_c(url));
    cr.access_key_id = kinagg_str_c("AKIDKINAGGTEST");
    cr.secret_access_key = kinagg_str_c("kinagg/test/secret+KEY");
    cr.session_token = kinagg_str_c("");
    kinagg_posix_platform(&pf);
    kinagg_posix_socket_init(&sock, &tp);
    kinagg_producer_config_defaults(&cfg);
    cfg.stream.name = kinagg_str_c(stream);
    cfg.on_complete = on_complete;
    cfg.rate_limit_percent = 100000; /* a local sink: no shard limits */
    cfg.poll_work_bytes = work;
    memset(region, 0, sizeof region); /* in memory already, as a long-running program's region is */
    st = kinagg_producer_init(&p, region, sizeof region, &cfg, &ep, kinagg_str_c("us-east-1"), &cr,
                              KINAGG_PROTOCOL_JSON, &tp, &pf);
    if (st != KINAGG_OK) { fprintf(stderr, "init: %s\n", kinagg_strerror(st)); return 0; }
    memset(data, 'x', sizeof data);
    done_ok = done_failed = 0;
    t0 = clock_ms(CLOCK_MONOTONIC);
    for (i = 0; i < records || p.stats.buffered_records;) {
        uint64_t next;
        double c0, w0;
        while (i < records) {
            snprintf(key, sizeof key, "user-%lu", i % 1000);
            snprintf(data, sizeof data, "%lu", i);
            data[strlen(data)] = 'x';
            if (kinagg_producer_put(&p, key, strlen(key), NULL, 0, data, sizeof data, NULL) != KINAGG_OK) break;
            i++;
        }
        c0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
        w0 = clock_ms(CLOCK_MONOTONIC);
        kinagg_producer_poll(&p, &next);
        if (n < cap) {
            cpu[n] = clock_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
            wall[n] = clock_ms(CLOCK_MONOTONIC) - w0;
            n++;
        }
        if (i >= records) kinagg_producer_wait(&p, next, 5);
    }
    out->seconds = (clock_ms(CLOCK_MONOTONIC) - t0) / 1000.0;
    out->polls = n;
    pct(cpu, n, &out->cpu_p50, &out->cpu_p90, &out->cpu_p99, &out->cpu_max);
    pct(wall, n, &dummy, &dummy, &out->wall_p99, &out->wall_max);
    kinagg_producer_close(&p);
    kinagg_posix_socket_release(&sock);
    free(cpu);
    free(wall);
    if (done_ok != records) fprintf(stderr, "%lu of %lu delivered, %lu failed\n", done_ok, records, done_failed);
    return done_ok == records;
}

int main(int argc, char **argv) {
    int port = 0, a, ok = 1;
    unsigned long records = 300000;
    const char *stream = "poll-latency";
    run_result bounded, unbounded;
    char name[96];
    for (a = 1; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--port")) port = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--records")) records = strtoul(argv[a + 1], NULL, 10);
        else if (!strcmp(argv[a], "--stream")) stream = argv[a + 1];
    }
    if (!port) { fprintf(stderr, "usage: poll_latency --port PORT [--records N] [--stream NAME]\n"); return 2; }
    {   /* the stream */
        static kinagg_kinesis k;
        static unsigned char sb[4096], rb[65536];
        kinagg_posix_socket s;
        kinagg_transport t;
        kinagg_platform pf;
        kinagg_endpoint ep;
        kinagg_credentials cr;
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
        kinagg_endpoint_from_url(&ep, kinagg_str_c(url));
        cr.access_key_id = kinagg_str_c("AKIDKINAGGTEST");
        cr.secret_access_key = kinagg_str_c("kinagg/test/secret+KEY");
        cr.session_token = kinagg_str_c("");
        kinagg_posix_platform(&pf);
        kinagg_posix_socket_init(&s, &t);
        kinagg_kinesis_init(&k, &ep, kinagg_str_c("us-east-1"), &cr, KINAGG_PROTOCOL_JSON, &t, &pf, sb, sizeof sb, rb,
                            sizeof rb);
        snprintf(name, sizeof name, "%s", stream);
        (void)kinagg_create_stream(&k, kinagg_str_c(name), 4);
        pf.sleep_ms(NULL, 300);
        kinagg_posix_socket_release(&s);
    }
    ok &= run(port, name, records, 65536, &bounded);
    ok &= run(port, name, records, 0, &unbounded);
    printf("producer poll at full speed: %lu records of 100 bytes, 1000 keys, 4 shards, JSON\n", records);
    printf("  %-28s %8s %8s %8s %8s %10s %10s %7s %8s\n", "poll_work_bytes", "cpu p50", "p90", "p99", "max",
           "wall p99", "wall max", "polls", "seconds");
    printf("  %-28s %8.3f %8.3f %8.3f %8.3f %10.3f %10.3f %7lu %8.2f   (ms)\n", "65536 (default)", bounded.cpu_p50,
           bounded.cpu_p90, bounded.cpu_p99, bounded.cpu_max, bounded.wall_p99, bounded.wall_max, bounded.polls,
           bounded.seconds);
    printf("  %-28s %8.3f %8.3f %8.3f %8.3f %10.3f %10.3f %7lu %8.2f   (ms)\n", "0 (no bound)", unbounded.cpu_p50,
           unbounded.cpu_p90, unbounded.cpu_p99, unbounded.cpu_max, unbounded.wall_p99, unbounded.wall_max,
           unbounded.polls, unbounded.seconds);
    return ok ? 0 : 1;
}
