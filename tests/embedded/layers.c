/* make size: a program that uses some of kinagg's layers through their
 * public functions only. Linked for the Cortex-M4 with --gc-sections and
 * newlib-nano, it shows what that combination costs in flash: kinagg.o's
 * sections plus the libc and libgcc members they pull in (size_report.js
 * counts them in the link map; this file's own code is left out). It is
 * never run. LAYERS:
 *   1  the aggregator
 *   2  + the SigV4 signer
 *   3  + the HTTP client and Kinesis PutRecords (KINAGG_PROTOCOL_DEFAULT),
 *      poll-driven
 *   4  the whole producer */
#include "../../kinagg.h"

#ifndef LAYERS
#define LAYERS 4
#endif

/* Arguments the compiler cannot see through. */
volatile uintptr_t layers_in;
volatile size_t layers_out;
#define ANY(type) ((type)(void *)layers_in)

int main(void) {
#if LAYERS <= 3
    kinagg_agg *agg = ANY(kinagg_agg *);
    const unsigned char *out;
    size_t len;
    kinagg_agg_init(agg, ANY(void *), 4096, ANY(const kinagg_agg_limits *));
    layers_out = kinagg_agg_add(agg, ANY(const char *), 8, ANY(const char *), 8, ANY(const void *), 8);
    layers_out = kinagg_agg_size_if_added(agg, ANY(const char *), 8, ANY(const char *), 8, 8);
    layers_out = kinagg_agg_count(agg) + kinagg_agg_size(agg);
    layers_out = kinagg_agg_finish(agg, &out, &len);
    kinagg_agg_reset(agg);
#endif
#if LAYERS == 2 || LAYERS == 3
    {
        kinagg_sigv4_signer *signer = ANY(kinagg_sigv4_signer *);
        char date[17];
        kinagg_sigv4_init(signer, ANY(const kinagg_credentials *));
        layers_out = kinagg_sigv4_sign(signer, ANY(const kinagg_sigv4_request *), ANY(char *), 512, &len, NULL);
        kinagg_sigv4_amz_date(layers_in, date);
        layers_out = (size_t)date[3];
    }
#endif
#if LAYERS == 3
    {
        kinagg_kinesis *k = ANY(kinagg_kinesis *);
        kinagg_put_request *req = ANY(kinagg_put_request *);
        kinagg_stream_ref stream;
        unsigned events;
        uint64_t wake;
        size_t failed;
        stream.name = kinagg_str_c(ANY(const char *));
        stream.arn = kinagg_str_c(NULL);
        layers_out = kinagg_endpoint_from_url(ANY(kinagg_endpoint *), stream.name);
        layers_out = kinagg_kinesis_init(k, ANY(const kinagg_endpoint *), stream.name, ANY(const kinagg_credentials *),
                                         KINAGG_PROTOCOL_DEFAULT, ANY(const kinagg_transport *),
                                         ANY(const kinagg_platform *), ANY(void *), 1024, ANY(void *), 4096);
        layers_out = kinagg_put_records_begin(k, req, stream, ANY(const kinagg_put_entry *), 16);
        layers_out = kinagg_kinesis_poll(k, &events, &wake);
        layers_out = kinagg_put_records_finish(k, ANY(kinagg_put_result *), 16, &failed);
    }
#endif
#if LAYERS == 4
    {
        kinagg_producer *p = ANY(kinagg_producer *);
        kinagg_producer_config *cfg = ANY(kinagg_producer_config *);
        kinagg_producer_stats stats;
        uint64_t next;
        kinagg_producer_config_defaults(cfg);
        layers_out = kinagg_producer_region_size(cfg);
        layers_out = kinagg_endpoint_from_url(ANY(kinagg_endpoint *), kinagg_str_c(ANY(const char *)));
        layers_out = kinagg_producer_init(p, ANY(void *), 65536, cfg, ANY(const kinagg_endpoint *),
                                          kinagg_str_c(ANY(const char *)), ANY(const kinagg_credentials *),
                                          KINAGG_PROTOCOL_DEFAULT, ANY(const kinagg_transport *),
                                          ANY(const kinagg_platform *));
        layers_out = kinagg_producer_set_credentials(p, ANY(const kinagg_credentials *));
        layers_out = kinagg_producer_put(p, ANY(const char *), 8, NULL, 0, ANY(const void *), 8, NULL);
        layers_out = kinagg_producer_poll(p, &next);
        kinagg_producer_wait(p, next, 10);
        layers_out = kinagg_producer_flush(p, 1000);
        layers_out = kinagg_producer_abandon(p);
        kinagg_producer_get_stats(p, &stats);
        layers_out = (size_t)stats.records_put + (size_t)*kinagg_producer_last_error(p);
        kinagg_producer_close(p);
    }
#endif
    return 0;
}
