/* agg_demo: what KPL aggregation does to a web access log, offline.
 *
 * Each line is a user record whose partition key is the client address (so
 * one client's lines stay in order on one shard). For a stream of SHARDS
 * shards with evenly split hash ranges, records go to one open aggregate per
 * shard, as the KCL requires: an aggregate must never hold records of two
 * shards. Aggregates are capped at 50 KiB, the KPL's default. Every
 * aggregate is then decoded again and checked against the input.
 *
 * usage: agg_demo [LOGFILE] */
#define KINAGG_IMPLEMENTATION
#include "../kinagg.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS 4
#define AGG_MAX 51200 /* KPL AggregationMaxSize default */

static unsigned char agg_mem[SHARDS][AGG_MAX];
static kinagg_agg aggs[SHARDS];
static char line[65536];
static unsigned long lines, line_bytes, kinesis_records, decoded, decoded_bytes, errors;

/* Shard i of n owns hash keys [i * 2^128 / n, (i + 1) * 2^128 / n - 1]; for
 * a power of two the top bits of the hash key pick the shard. */
static int shard_of(const kinagg_hash_key *k) { return k->be[0] / (256 / SHARDS); }

static void ship(int shard) {
    const unsigned char *out;
    size_t len, n = kinagg_agg_count(&aggs[shard]);
    kinagg_deagg it;
    kinagg_user_record u;
    if (n == 0) return;
    kinagg_agg_finish(&aggs[shard], &out, &len);
    kinesis_records++;
    /* decode what would be sent, as a consumer would */
    kinagg_deagg_init(&it, out, len);
    if (!kinagg_deagg_is_aggregated(&it) || kinagg_deagg_count(&it) != n) errors++;
    while (kinagg_deagg_next(&it, &u)) {
        kinagg_hash_key k;
        kinagg_hash_key_of_partition_key(u.partition_key, u.partition_key_len, &k);
        if (shard_of(&k) != shard) errors++; /* the KCL would drop the aggregate */
        decoded++;
        decoded_bytes += u.data_len;
    }
    kinagg_agg_reset(&aggs[shard]);
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "examples/sample-access.log";
    FILE *f = fopen(path, "r");
    kinagg_agg_limits lim;
    int s;
    if (!f) { perror(path); return 1; }
    lim.max_record_size = AGG_MAX + 1; /* aggregate of 50 KiB plus its outer key "a" */
    lim.outer_key_len = 1;
    for (s = 0; s < SHARDS; s++) kinagg_agg_init(&aggs[s], agg_mem[s], AGG_MAX, &lim);
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n"), key_len = strcspn(line, " ");
        kinagg_hash_key k;
        kinagg_status st;
        if (len == 0) continue;
        lines++;
        line_bytes += len;
        kinagg_hash_key_of_partition_key(line, key_len, &k);
        s = shard_of(&k);
        st = kinagg_agg_add(&aggs[s], line, key_len, NULL, 0, line, len);
        if (st == KINAGG_ERR_AGGREGATE_FULL) { /* ship it, start the next one */
            ship(s);
            st = kinagg_agg_add(&aggs[s], line, key_len, NULL, 0, line, len);
        }
        if (st != KINAGG_OK) {
            fprintf(stderr, "line %lu: %s\n", lines, kinagg_strerror(st));
            errors++;
        }
    }
    fclose(f);
    for (s = 0; s < SHARDS; s++) ship(s);

    printf("%s: %lu log lines, %lu bytes\n", path, lines, line_bytes);
    printf("  without aggregation: %lu Kinesis records (one per line)\n", lines);
    printf("  with aggregation:    %lu Kinesis records (%d shards, aggregates up to %d bytes)\n", kinesis_records,
           SHARDS, AGG_MAX);
    if (kinesis_records)
        printf("  %.1f log lines per Kinesis record: %.0fx fewer records against the 1000 records/s shard limit\n",
               (double)lines / (double)kinesis_records, (double)lines / (double)kinesis_records);
    printf("  decoded back: %lu records, %lu bytes, %s\n", decoded, decoded_bytes,
           decoded == lines && decoded_bytes == line_bytes && !errors ? "all intact" : "MISMATCH");
    return decoded == lines && decoded_bytes == line_bytes && !errors ? 0 : 1;
}
