/* kinagg-tail: print the user records of a Kinesis stream, deaggregated.
 *
 *   kinagg-tail --stream logs --from latest --follow --grep ' 500 '
 *
 * Reads every shard (or one), parents before children, so records of a key
 * come out in order across a resharding; exits once caught up unless
 * following. */
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
#include <regex.h>

static const char usage[] =
    "usage: kinagg-tail --stream NAME [options]\n"
    "Prints the user records of a Kinesis stream, one per line, unpacking KPL\n"
    "aggregates.\n\n"
    "Options:\n" TOOL_COMMON_HELP
    "  --from trim_horizon|latest  where to start (default trim_horizon)\n"
    "  --follow               keep reading new records (else exit once caught up)\n"
    "  --grep PATTERN         only records matching the extended regular expression\n"
    "  --shard ID             only this shard\n"
    "  --with-key             print SHARD<TAB>PARTITION-KEY<TAB>DATA\n"
    "Exit status: 0 when the stream was read, 1 on an error.\n";

#define MAX_SHARDS 1024
enum { S_NEW, S_READING, S_DONE };

static kinagg_shard shards[MAX_SHARDS];
static int state[MAX_SHARDS];
static char iters[MAX_SHARDS][600];
static size_t nshards;
static kinagg_kinesis k;
static unsigned char sbuf[16384], rbuf[12u << 20];
static kinagg_record recs[2000];
static regex_t re;
static int grep, with_key;
static unsigned long printed;
static char line[(10u << 20) + 1];

static int done_shard(const char *id) {
    size_t i;
    if (!id[0]) return 1;
    for (i = 0; i < nshards; i++)
        if (!strcmp(shards[i].shard_id, id)) return state[i] == S_DONE;
    return 1; /* a parent no longer listed (past the retention period) */
}

static void emit(const char *shard, const char *pk, size_t pk_len, const unsigned char *d, size_t n) {
    if (grep) {
        memcpy(line, d, n);
        line[n] = '\0';
        if (regexec(&re, line, 0, NULL, 0) != 0) return;
    }
    if (with_key) printf("%s\t%.*s\t", shard, (int)pk_len, pk);
    fwrite(d, 1, n, stdout);
    if (!n || d[n - 1] != '\n') putchar('\n');
    printed++;
}

int main(int argc, char **argv) {
    tool_opts o;
    kinagg_aws_config cfg;
    kinagg_endpoint ep;
    kinagg_credentials cred;
    static tool_conn conn;
    kinagg_transport tp;
    kinagg_platform pf;
    const char *from = "trim_horizon", *only = NULL;
    int follow = 0, i;
    char region[64];
    kinagg_status st;
    memset(&o, 0, sizeof o);
    for (i = 1; i < argc; i++) {
        int r = tool_common_option(&o, argc, argv, &i);
        if (r < 0) { fprintf(stderr, "kinagg-tail: %s needs a value (see --help)\n", argv[i]); return 2; }
        if (r) continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(usage, stdout); return 0; }
        else if (!strcmp(argv[i], "--from") && i + 1 < argc) from = argv[++i];
        else if (!strcmp(argv[i], "--follow")) follow = 1;
        else if (!strcmp(argv[i], "--grep") && i + 1 < argc) {
            if (regcomp(&re, argv[++i], REG_EXTENDED | REG_NOSUB) != 0) {
                fprintf(stderr, "kinagg-tail: bad pattern %s\n", argv[i]);
                return 2;
            }
            grep = 1;
        } else if (!strcmp(argv[i], "--shard") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--with-key")) with_key = 1;
        else { fprintf(stderr, "kinagg-tail: unknown option %s (see --help)\n", argv[i]); return 2; }
    }
    if (strcmp(from, "trim_horizon") && strcmp(from, "latest")) {
        fprintf(stderr, "kinagg-tail: --from trim_horizon or latest\n");
        return 2;
    }
    if (!tool_setup("kinagg-tail", &o, &cfg, &ep, &cred, region, sizeof region, &conn, 1, &tp, &pf)) return 2;
    kinagg_kinesis_init(&k, &ep, kinagg_str_c(region), &cred, o.protocol, &tp, &pf, sbuf, sizeof sbuf, rbuf,
                        sizeof rbuf);
    for (;;) {
        size_t s, n = 0;
        int progress = 0, all_caught_up = 1;
        /* the shard list: new shards (children) join as NEW */
        {
            static kinagg_shard fresh[MAX_SHARDS];
            size_t j, m;
            st = kinagg_list_shards(&k, tool_stream(&o), fresh, MAX_SHARDS, &n, 0);
            if (st != KINAGG_OK) {
                fprintf(stderr, "kinagg-tail: ListShards: %s %s %s %s\n", kinagg_strerror(st), k.error_type,
                        k.error_message, k.http.error_detail ? k.http.error_detail : "");
                return 1;
            }
            for (j = 0; j < n; j++) {
                for (m = 0; m < nshards && strcmp(shards[m].shard_id, fresh[j].shard_id); m++) {}
                if (m == nshards && nshards < MAX_SHARDS) state[nshards] = S_NEW, nshards++;
                if (m < MAX_SHARDS) shards[m] = fresh[j];
            }
        }
        for (s = 0; s < nshards; s++) {
            size_t got = 0, r;
            uint64_t behind = 0;
            char next[600];
            if (state[s] == S_DONE || (only && strcmp(only, shards[s].shard_id))) continue;
            if (state[s] == S_NEW) { /* a shard starts when its parents are read */
                int latest = !strcmp(from, "latest");
                if (!done_shard(shards[s].parent_shard_id) || !done_shard(shards[s].adjacent_parent_shard_id)) {
                    all_caught_up = 0;
                    continue;
                }
                if (latest && !shards[s].open) { state[s] = S_DONE; continue; }
                st = kinagg_get_shard_iterator(&k, tool_stream(&o), kinagg_str_c(shards[s].shard_id),
                                               kinagg_str_c(latest ? "LATEST" : "TRIM_HORIZON"), kinagg_str_c(""),
                                               iters[s], sizeof iters[s]);
                if (st != KINAGG_OK) {
                    fprintf(stderr, "kinagg-tail: GetShardIterator %s: %s %s\n", shards[s].shard_id,
                            kinagg_strerror(st), k.error_type);
                    return 1;
                }
                state[s] = S_READING;
            }
            st = kinagg_get_records(&k, iters[s], recs, sizeof recs / sizeof recs[0], &got, next, sizeof next, &behind);
            if (st != KINAGG_OK) {
                fprintf(stderr, "kinagg-tail: GetRecords %s: %s %s %s\n", shards[s].shard_id, kinagg_strerror(st),
                        k.error_type, k.error_message);
                return 1;
            }
            for (r = 0; r < got; r++) {
                kinagg_deagg it;
                kinagg_user_record u;
                kinagg_deagg_init(&it, recs[r].data, recs[r].data_len);
                while (kinagg_deagg_next(&it, &u))
                    emit(shards[s].shard_id, u.partition_key ? u.partition_key : recs[r].partition_key.ptr,
                         u.partition_key ? u.partition_key_len : recs[r].partition_key.len, u.data, u.data_len);
            }
            if (got) progress = 1;
            if (!next[0]) { /* closed and read to its end: its children may start */
                state[s] = S_DONE;
                progress = 1;
            } else {
                memcpy(iters[s], next, sizeof next);
                if (got || behind > 0) all_caught_up = 0;
            }
        }
        fflush(stdout);
        if (!follow && all_caught_up && !progress) break;
        if (!progress) pf.sleep_ms(NULL, follow ? 1000 : 200);
    }
    fprintf(stderr, "kinagg-tail: %lu records\n", printed);
    kinagg_http_close(&k.http);
    return 0;
}
