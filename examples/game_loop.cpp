// A game server's loop with kinagg, in C++: every frame emits gameplay
// events with put() and calls poll() (again while it has work left, up to 4
// times). Neither ever blocks, so the frame rate does not depend on the
// network. Events of one match share a partition key, so they stay in
// order; the producer aggregates them per shard.
//
//   game_loop ENDPOINT_URL STREAM [FRAMES]
// Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
// (/ AWS_SESSION_TOKEN); the region from AWS_REGION (default us-east-1).
// Exits 0 when every event was delivered.
#define KINAGG_IMPLEMENTATION
#include "../kinagg.h"
#define KINAGG_POSIX_IMPLEMENTATION
#include "../port/kinagg_posix.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Telemetry {
    unsigned long delivered = 0, failed = 0;
    static void on_complete(void *ctx, const kinagg_completion *c) {
        auto *t = static_cast<Telemetry *>(ctx);
        if (c->status == KINAGG_OK) t->delivered++;
        else {
            t->failed++;
            std::fprintf(stderr, "event lost: %s %.*s\n", kinagg_strerror(c->status), (int)c->error_code.len,
                         c->error_code.ptr);
        }
    }
};

const char *env(const char *name, const char *fallback) {
    const char *v = std::getenv(name);
    return v && *v ? v : fallback;
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: game_loop ENDPOINT_URL STREAM [FRAMES]\n");
        return 2;
    }
    const int frames = argc > 3 ? std::atoi(argv[3]) : 600;
    // The producer's memory: fixed at start-up, never grown.
    std::vector<unsigned char> region(8u << 20);

    kinagg_credentials creds;
    creds.access_key_id = kinagg_str_c(env("AWS_ACCESS_KEY_ID", ""));
    creds.secret_access_key = kinagg_str_c(env("AWS_SECRET_ACCESS_KEY", ""));
    creds.session_token = kinagg_str_c(env("AWS_SESSION_TOKEN", ""));
    kinagg_endpoint endpoint;
    if (kinagg_endpoint_from_url(&endpoint, kinagg_str_c(argv[1])) != KINAGG_OK) {
        std::fprintf(stderr, "bad endpoint %s\n", argv[1]);
        return 2;
    }
    kinagg_posix_socket socket;
    kinagg_transport transport;
    kinagg_platform platform;
    kinagg_posix_socket_init(&socket, &transport);
    kinagg_posix_platform(&platform);

    Telemetry telemetry;
    kinagg_producer_config cfg;
    kinagg_producer_config_defaults(&cfg);
    cfg.stream.name = kinagg_str_c(argv[2]);
    cfg.stream.arn = kinagg_str_c("");
    cfg.on_complete = &Telemetry::on_complete;
    cfg.on_complete_ctx = &telemetry;
    static kinagg_producer producer;
    kinagg_status st = kinagg_producer_init(&producer, region.data(), region.size(), &cfg, &endpoint,
                                            kinagg_str_c(env("AWS_REGION", "us-east-1")), &creds,
                                            KINAGG_PROTOCOL_JSON, &transport, &platform);
    if (st != KINAGG_OK) {
        std::fprintf(stderr, "producer: %s\n", kinagg_strerror(st));
        return 1;
    }

    unsigned long emitted = 0, dropped = 0;
    for (int frame = 0; frame < frames; frame++) {
        // gameplay: a few matches, a handful of events each per frame
        for (int match = 0; match < 8; match++) {
            const std::string key = "match-" + std::to_string(match);
            for (int e = 0; e < 5; e++) {
                const std::string event = "{\"frame\":" + std::to_string(frame) + ",\"match\":" +
                                          std::to_string(match) + ",\"event\":\"hit\",\"seq\":" +
                                          std::to_string(emitted) + "}";
                st = kinagg_producer_put(&producer, key.data(), key.size(), nullptr, 0, event.data(), event.size(),
                                         nullptr);
                if (st == KINAGG_OK) emitted++;
                else dropped++; // full: a real game would sample or count these
            }
        }
        // never blocks; each poll does at most poll_work_bytes (32 KiB) of
        // work, which counts a record's bytes several times (aggregated,
        // hashed, sent, completed), so while there is more (next is now)
        // poll again, up to 4 times a frame
        uint64_t next = 0;
        for (int polls = 0; polls < 4; polls++) {
            kinagg_producer_poll(&producer, &next);
            if (next > platform.now_ms(platform.ctx)) break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2)); // the rest of the frame
    }
    // shutdown: give buffered events up to 10 s, then give up the rest, so
    // that every event put has its completion (failed, for those) before close
    st = kinagg_producer_flush(&producer, 10000);
    if (st != KINAGG_OK) {
        size_t left = kinagg_producer_abandon(&producer);
        std::printf("game_loop: flush: %s; %lu events given up\n", kinagg_strerror(st), (unsigned long)left);
    }
    kinagg_producer_stats s;
    kinagg_producer_get_stats(&producer, &s);
    std::printf("game_loop: %d frames, %lu events put (%lu refused while full), %lu delivered in %llu Kinesis "
                "records, %lu failed\n",
                frames, emitted, dropped, telemetry.delivered, (unsigned long long)s.kinesis_records, telemetry.failed);
    kinagg_producer_close(&producer);
    return st == KINAGG_OK && telemetry.delivered == emitted && telemetry.failed == 0 ? 0 : 1;
}
