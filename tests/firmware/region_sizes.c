/* make size: the smallest producer region (kinagg_producer_region_size) of
 * sample configurations, computed on the Cortex-M4 itself (run under QEMU),
 * and where its bytes go, found by changing one setting at a time. */
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#include "board.h"
#include "fw_config.h"

static size_t region(const kinagg_producer_config *c) { return kinagg_producer_region_size(c); }
/* the producer's room for credentials: no more than its send buffer */
static size_t cred_room(const kinagg_producer_config *c, size_t max) {
    return c->send_buffer_size < max ? c->send_buffer_size : max;
}

/* The smallest sensible settings for a producer of 1 KiB records. */
static void small_config(kinagg_producer_config *c) {
    kinagg_producer_config_defaults(c);
    c->stream.name = kinagg_str_c("s");
    c->connections = 1;
    c->max_shards = 4;
    c->collection_max_count = 16;
    c->max_record_size = 1024;
    c->aggregation_max_size = 1024;
    c->collection_max_size = 16 * 1024;
    c->send_buffer_size = 1024;
    c->recv_buffer_size = 4096;
}

static void row(const char *what, size_t bytes, const char *note) {
    fw_printf("%8zu  %s%s\n", bytes, what, note);
}

int fw_main(int argc, char **argv) {
    kinagg_producer_config d, s, f, t;
    size_t rs, per_conn, per_entry, per_shard, slot, records, fixed;
    (void)argc;
    (void)argv;
    kinagg_producer_config_defaults(&d);
    d.stream.name = kinagg_str_c("s");
    small_config(&s);
    fw_producer_config(&f, "s");
    fw_printf("producer region (kinagg_producer_region_size on the Cortex-M4, bytes):\n");
    row("defaults: 1 connection, 64 shards, 500 entries, 1 MiB records, 16 KiB send, 128 KiB receive", region(&d), "");
    rs = region(&s);
    row("1 connection, 4 shards, 16 entries, 1 KiB records, 1 KiB send, 4 KiB receive", rs,
        rs <= 16384 ? " (target 16384: met)" : " (target 16384: over)");
    fw_printf("%8zu  firmware test: 1 connection, %zu shards, %zu entries, %zu B records and aggregates, %zu B send,\n"
              "          %zu B receive, %zu B request buffer; built with KINAGG_PRODUCER_CREDENTIALS_MAX 256: %zu\n",
              region(&f), f.max_shards, f.collection_max_count, f.max_record_size, f.send_buffer_size,
              f.recv_buffer_size, f.request_buffer_size, region(&f) - cred_room(&f, KINAGG_PRODUCER_CREDENTIALS_MAX) + cred_room(&f, 256));
    /* a line of its own: fw_printf writes at most 255 bytes a call */
    fw_printf("          (its region is %u B: the rest holds records)\n", (unsigned)FW_REGION_SIZE);
    /* where the 1 KiB configuration's bytes go: one setting changed at a time */
    t = s;
    t.connections = 2;
    per_conn = region(&t) - rs;
    t = s;
    t.collection_max_count = 116;
    per_entry = (region(&t) - rs) / 100;
    t = s;
    t.max_shards = 104;
    per_shard = (region(&t) - rs) / 100;
    /* the records: the least ring and its headers, against a ring of 1072
     * bytes (one record of 1024 + 39) with one header */
    t = s;
    t.record_buffer_size = 1072;
    t.max_records = 101;
    slot = region(&t);
    t.max_records = 1;
    slot = (slot - region(&t)) / 100;
    records = rs - (region(&t) - 1072 - ((slot + 15) & ~(size_t)15));
    fw_printf("where the 1 KiB configuration's %zu bytes go (by changing one setting at a time):\n", rs);
    row("a connection, all of it", per_conn, "");
    row("  of which the send and receive buffers", s.send_buffer_size + s.recv_buffer_size, "");
    row("  of which the aggregate buffer (aggregation_max_size)", s.aggregation_max_size, "");
    row("  of which 16 entries' tables", per_entry * 16, "");
    fw_printf("%8zu    of which the rest: sizeof(kinagg_kinesis) is %zu\n",
              per_conn - s.send_buffer_size - s.recv_buffer_size - s.aggregation_max_size - per_entry * 16,
              sizeof(kinagg_kinesis));
    row("a PutRecords entry's tables, each", per_entry, "");
    row("shard tables: two (the map and the next), of max_shards + 1", per_shard * 5, "");
    row("  per shard, in both", per_shard, "");
    row("credentials (KINAGG_PRODUCER_CREDENTIALS_MAX, at most send_buffer_size)",
        cred_room(&s, KINAGG_PRODUCER_CREDENTIALS_MAX), "");
    row("records: the ring (one 1 KiB record at least) and their headers", records, "");
    fw_printf("%8zu    a record's header, each\n", slot);
    fixed = rs - per_conn - per_shard * 5 - cred_room(&s, KINAGG_PRODUCER_CREDENTIALS_MAX) - records;
    row("the rest (stream name, alignment)", fixed, "");
    fw_printf("outside the region: sizeof(kinagg_producer) %zu\n", sizeof(kinagg_producer));
    return 0;
}
