// kinagg.h compiled as C++ (as a game server would): aggregate, deaggregate,
// sign. Prints "cxx: N passed, N failed".
#define KINAGG_IMPLEMENTATION
#include "../kinagg.h"
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

int main() {
    int passed = 0, failed = 0;
    std::vector<unsigned char> buf(64 * 1024);
    kinagg_agg agg;
    kinagg_agg_init(&agg, buf.data(), buf.size(), nullptr);
    std::vector<std::string> payloads;
    for (int i = 0; i < 100; i++) payloads.push_back("event " + std::to_string(i));
    for (const std::string &p : payloads) {
        std::string key = "player-" + std::to_string(p.size() % 7);
        if (kinagg_agg_add(&agg, key.data(), key.size(), nullptr, 0, p.data(), p.size()) == KINAGG_OK) passed++;
        else failed++;
    }
    const unsigned char *out;
    size_t out_len;
    kinagg_agg_finish(&agg, &out, &out_len);
    kinagg_deagg it;
    kinagg_deagg_init(&it, out, out_len);
    kinagg_user_record r;
    size_t i = 0;
    while (kinagg_deagg_next(&it, &r)) {
        bool same = i < payloads.size() && r.data_len == payloads[i].size() &&
                    std::memcmp(r.data, payloads[i].data(), r.data_len) == 0;
        (same ? passed : failed)++;
        i++;
    }
    (i == payloads.size() ? passed : failed)++;
    std::printf("cxx: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
