/* The producer configuration of the firmware test (producer_fw.c), shared
 * with make size's region report (region_sizes.c). */
#ifndef FW_CONFIG_H
#define FW_CONFIG_H
#include "../../kinagg.h"

/* The producer's region: everything the producer keeps, records included. */
#ifndef FW_REGION_SIZE
#define FW_REGION_SIZE (56u * 1024u)
#endif

#define FW_MAX_RECORD_SIZE 2048

static void fw_producer_config(kinagg_producer_config *c, const char *stream) {
    kinagg_producer_config_defaults(c);
    c->stream.name = kinagg_str_c(stream);
    c->connections = 1;
    c->max_shards = 4;              /* the stream has 4 */
    c->collection_max_count = 16;   /* entries per PutRecords */
    c->max_record_size = FW_MAX_RECORD_SIZE; /* a user record, and so an aggregate */
    c->aggregation_max_size = FW_MAX_RECORD_SIZE;
    c->collection_max_size = 16 * 1024;
    c->request_buffer_size = 8 * 1024; /* the aggregates of one request */
    c->send_buffer_size = 1024;     /* a request head */
    c->recv_buffer_size = 4096;     /* a response: 16 entries, or ListShards of 4 shards */
    c->record_ttl_ms = 60000;
}
#endif
