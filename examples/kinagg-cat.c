/* kinagg-cat: ship newline-delimited records from files or standard input
 * to a Kinesis stream, with KPL aggregation.
 *
 *   tail -F access_log | kinagg-cat --stream logs
 *
 * Memory is fixed (--buffer-mb): a fast input waits for the stream rather
 * than growing. A live progress line goes to stderr when it is a terminal,
 * a summary line at the end; the exit status is non-zero when any record
 * failed or was refused. */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../kinagg.h"
#define KINAGG_POSIX_IMPLEMENTATION
#include "../port/kinagg_posix.h"
#define KINAGG_MBEDTLS_IMPLEMENTATION
#include "../port/kinagg_mbedtls.h"
#define KINAGG_AWS_CONFIG_IMPLEMENTATION
#include "../port/kinagg_aws_config.h"
#include "tool_common.h"

static const char usage[] =
    "usage: kinagg-cat --stream NAME [options] [FILE...]\n"
    "Sends each line of the FILEs (or of standard input) to a Kinesis stream as a\n"
    "record, aggregated the way the KPL does.\n\n"
    "Options:\n" TOOL_COMMON_HELP
    "  --partition-key KEY    the same partition key for every record\n"
    "  --random-key           a random partition key per record (the default)\n"
    "  --tab-key              each line is KEY<TAB>DATA\n"
    "  --no-aggregate         send every line as its own Kinesis record\n"
    "  --max-buffered-ms N    longest a record waits to be sent (default 100)\n"
    "  --max-entries N        entries per PutRecords request, 1-500 (default 500)\n"
    "  --connections N        concurrent requests, 1-8 (default 2)\n"
    "  --buffer-mb N          memory for buffered records, MiB (default 64)\n"
    "  --create N             create the stream with N shards first, if it does not exist\n"
    "  --stats-json FILE      write the counts (user records, Kinesis records, requests,\n"
    "                         retries, failed, bytes) as JSON when done\n"
    "Exit status: 0 when every line was delivered, 1 when any failed or was refused,\n"
    "2 for a usage or setup error.\n";

static unsigned long delivered, failed;
static char first_error[200];

static void on_complete(void *ctx, const kinagg_completion *c) {
    (void)ctx;
    if (c->status == KINAGG_OK) {
        delivered++;
        return;
    }
    if (!failed++)
        snprintf(first_error, sizeof first_error, "%s: %.*s %.*s", kinagg_strerror(c->status), (int)c->error_code.len,
                 c->error_code.ptr, (int)c->error_message.len, c->error_message.ptr);
}

int main(int argc, char **argv) {
    tool_opts o;
    kinagg_aws_config cfg;
    kinagg_endpoint ep;
    kinagg_credentials cred;
    static tool_conn conns[KINAGG_PRODUCER_MAX_CONNECTIONS];
    kinagg_transport tps[KINAGG_PRODUCER_MAX_CONNECTIONS];
    kinagg_platform pf;
    kinagg_producer_config pc;
    static kinagg_producer p;
    char region[64], randkey[17];
    const char *fixed_key = NULL, *stats_path = NULL;
    int tab_key = 0, aggregate = 1, nfiles = 0, fi, i, tty = isatty(2);
    unsigned long max_buffered = 100, max_entries = 500, connections = 2, buffer_mb = 64, create = 0;
    unsigned long lines = 0, refused = 0;
    char **files = (char **)calloc((size_t)argc, sizeof(char *));
    static char line[(10u << 20) + 2];
    unsigned char *region_mem;
    uint64_t start, last_progress = 0;
    kinagg_status st;

    memset(&o, 0, sizeof o);
    for (i = 1; i < argc; i++) {
        int r = tool_common_option(&o, argc, argv, &i);
        if (r < 0) { fprintf(stderr, "kinagg-cat: %s needs a value (see --help)\n", argv[i]); return 2; }
        if (r) continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(usage, stdout); return 0; }
        else if (!strcmp(argv[i], "--partition-key") && i + 1 < argc) fixed_key = argv[++i];
        else if (!strcmp(argv[i], "--random-key")) { fixed_key = NULL; tab_key = 0; }
        else if (!strcmp(argv[i], "--tab-key")) tab_key = 1;
        else if (!strcmp(argv[i], "--no-aggregate")) aggregate = 0;
        else if (!strcmp(argv[i], "--max-buffered-ms") && i + 1 < argc) max_buffered = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--max-entries") && i + 1 < argc) max_entries = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--connections") && i + 1 < argc) connections = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--buffer-mb") && i + 1 < argc) buffer_mb = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--create") && i + 1 < argc) create = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--stats-json") && i + 1 < argc) stats_path = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1]) { fprintf(stderr, "kinagg-cat: unknown option %s (see --help)\n", argv[i]); return 2; }
        else files[nfiles++] = argv[i];
    }
    if (max_entries < 1 || max_entries > 500 || connections < 1 || connections > KINAGG_PRODUCER_MAX_CONNECTIONS ||
        buffer_mb < 2) {
        fprintf(stderr, "kinagg-cat: --max-entries 1-500, --connections 1-8, --buffer-mb 2 or more\n");
        return 2;
    }
    if (!tool_setup("kinagg-cat", &o, &cfg, &ep, &cred, region, sizeof region, conns, (unsigned)connections, tps, &pf))
        return 2;

    if (create) { /* a plain client for the one call */
        static kinagg_kinesis k;
        static unsigned char sb[4096], rb[65536];
        static tool_conn cc;
        kinagg_transport ctp;
        if (!tool_setup("kinagg-cat", &o, &cfg, &ep, &cred, region, sizeof region, &cc, 1, &ctp, &pf)) return 2;
        kinagg_kinesis_init(&k, &ep, kinagg_str_c(region), &cred, o.protocol, &ctp, &pf, sb, sizeof sb, rb, sizeof rb);
        st = kinagg_create_stream(&k, kinagg_str_c(o.stream ? o.stream : ""), (unsigned)create);
        if (st != KINAGG_OK && strcmp(k.error_type, "ResourceInUseException") != 0) {
            fprintf(stderr, "kinagg-cat: CreateStream: %s %s %s\n", kinagg_strerror(st), k.error_type, k.error_message);
            return 2;
        }
        { /* a new stream takes a while to become ACTIVE (tens of seconds on AWS) */
            char status[32] = "";
            unsigned waited;
            for (waited = 0; waited < 600; waited++) {
                if (kinagg_describe_stream_summary(&k, tool_stream(&o), status, sizeof status, NULL) == KINAGG_OK &&
                    !strcmp(status, "ACTIVE"))
                    break;
                if (tty && waited % 5 == 4) fprintf(stderr, "\rwaiting for %s to become ACTIVE (%s)...", o.stream, status);
                pf.sleep_ms(NULL, 200);
            }
            if (strcmp(status, "ACTIVE")) {
                fprintf(stderr, "kinagg-cat: stream %s is not ACTIVE after 2 minutes (%s)\n", o.stream, status);
                return 2;
            }
        }
        kinagg_http_close(&k.http);
    }

    kinagg_producer_config_defaults(&pc);
    pc.stream = tool_stream(&o);
    pc.aggregation = aggregate ? KINAGG_AGGREGATE_BY_SHARD : KINAGG_AGGREGATE_NONE;
    pc.max_buffered_ms = (uint32_t)max_buffered;
    pc.collection_max_count = max_entries;
    pc.connections = (unsigned)connections;
    pc.on_complete = on_complete;
    region_mem = (unsigned char *)malloc((size_t)buffer_mb << 20);
    st = kinagg_producer_init(&p, region_mem, (size_t)buffer_mb << 20, &pc, &ep, kinagg_str_c(region), &cred,
                              o.protocol, tps, &pf);
    if (st != KINAGG_OK) {
        fprintf(stderr, "kinagg-cat: cannot start the producer: %s\n", kinagg_strerror(st));
        return 2;
    }
    start = pf.now_ms(NULL);
    for (fi = 0; fi < (nfiles ? nfiles : 1); fi++) {
        FILE *f = nfiles ? fopen(files[fi], "r") : stdin;
        if (!f) { perror(files[fi]); refused++; continue; }
        while (fgets(line, sizeof line, f)) {
            size_t len = strcspn(line, "\n"), klen, doff = 0;
            const char *key;
            uint64_t next;
            if (len == sizeof line - 1) { /* longer than any record can be: skip the rest */
                int ch;
                while ((ch = fgetc(f)) != EOF && ch != '\n') {}
            }
            if (len && line[len - 1] == '\r') len--;
            lines++;
            if (tab_key) {
                char *tab = (char *)memchr(line, '\t', len);
                if (!tab) { refused++; if (refused == 1) fprintf(stderr, "kinagg-cat: line %lu has no TAB\n", lines); continue; }
                key = line;
                klen = (size_t)(tab - line);
                doff = klen + 1;
            } else if (fixed_key) {
                key = fixed_key;
                klen = strlen(fixed_key);
            } else {
                snprintf(randkey, sizeof randkey, "%08x%08x", pf.random(NULL), pf.random(NULL));
                key = randkey;
                klen = 16;
            }
            for (;;) {
                st = kinagg_producer_put(&p, key, klen, NULL, 0, line + doff, len - doff, NULL);
                if (st != KINAGG_ERR_FULL) break;
                kinagg_producer_poll(&p, &next); /* backpressure: the input waits */
                kinagg_producer_wait(&p, next, 50);
            }
            if (st != KINAGG_OK) {
                if (!refused) fprintf(stderr, "kinagg-cat: line %lu refused: %s\n", lines, kinagg_strerror(st));
                refused++;
            }
            if ((lines & 63) == 0) kinagg_producer_poll(&p, &next);
            if (tty && pf.now_ms(NULL) - last_progress >= 250) {
                last_progress = pf.now_ms(NULL);
                fprintf(stderr, "\r%lu lines, %lu delivered, %lu failed, %llu Kinesis records   ", lines, delivered,
                        failed, (unsigned long long)p.stats.kinesis_records);
            }
        }
        if (nfiles) fclose(f);
    }
    while (kinagg_producer_flush(&p, 1000) == KINAGG_ERR_TIMEOUT) {
        if (tty)
            fprintf(stderr, "\r%lu lines, %lu delivered, %lu failed, %lu buffered   ", lines, delivered, failed,
                    (unsigned long)p.stats.buffered_records);
    }
    if (tty) fputc('\n', stderr);
    {
        kinagg_producer_stats s;
        double secs = (double)(pf.now_ms(NULL) - start) / 1000.0;
        kinagg_producer_get_stats(&p, &s);
        fprintf(stderr,
                "kinagg-cat: %lu lines, %lu delivered in %llu Kinesis records (%.1f per record), %llu requests, "
                "%llu retries, %lu failed, %lu refused, %.1f s\n",
                lines, delivered, (unsigned long long)s.kinesis_records,
                s.kinesis_records ? (double)delivered / (double)s.kinesis_records : 0.0,
                (unsigned long long)s.requests, (unsigned long long)s.records_retried, failed, refused, secs);
        if (failed) fprintf(stderr, "kinagg-cat: %lu records failed; the first: %s\n", failed, first_error);
        if (stats_path) {
            FILE *sf = fopen(stats_path, "w");
            if (sf) {
                fprintf(sf,
                        "{\"lines\":%lu,\"user_records\":%llu,\"kinesis_records\":%llu,\"requests\":%llu,"
                        "\"retries\":%llu,\"failed\":%lu,\"refused\":%lu,\"bytes\":%llu,\"wire_bytes\":%llu}\n",
                        lines, (unsigned long long)s.records_delivered, (unsigned long long)s.kinesis_records,
                        (unsigned long long)s.requests, (unsigned long long)s.records_retried, failed, refused,
                        (unsigned long long)s.user_bytes, (unsigned long long)s.wire_bytes);
                fclose(sf);
            }
        }
    }
    kinagg_producer_close(&p);
    free(region_mem);
    free(files);
    return failed || refused ? 1 : 0;
}
