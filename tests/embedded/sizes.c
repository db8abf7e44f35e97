/* One of each context struct, so that make size can print their sizes on
 * the target (arm-none-eabi-nm -S). */
#include "../../kinagg.h"
kinagg_agg size_of_kinagg_agg;
kinagg_deagg size_of_kinagg_deagg;
kinagg_sigv4_signer size_of_kinagg_sigv4_signer;
kinagg_http_client size_of_kinagg_http_client;
kinagg_kinesis size_of_kinagg_kinesis;
kinagg_put_request size_of_kinagg_put_request;
kinagg_shard size_of_kinagg_shard;
