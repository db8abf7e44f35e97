/* Answers hash key questions line by line, for hashkeys.js to check:
 *   pk <hex of UTF-8 key>   -> decimal hash key of the partition key
 *   dec <decimal>           -> the parsed value formatted again, or ERR
 *   range <start> <end> <k> -> 1 if start <= k <= end, else 0 */
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#include <stdio.h>
#include <string.h>

static char line[1 << 16];

int main(void) {
    while (fgets(line, sizeof line, stdin)) {
        char *arg = strchr(line, ' '), out[40];
        kinagg_hash_key k, a, b;
        size_t n = strcspn(line, "\n");
        line[n] = 0;
        if (!arg) { puts("ERR"); continue; }
        *arg++ = 0;
        if (strcmp(line, "pk") == 0) {
            unsigned char key[1 << 15];
            size_t i, len = strlen(arg) / 2;
            for (i = 0; i < len; i++) {
                unsigned v;
                sscanf(arg + 2 * i, "%2x", &v);
                key[i] = (unsigned char)v;
            }
            kinagg_hash_key_of_partition_key((const char *)key, len, &k);
            kinagg_hash_key_format(&k, out);
            puts(out);
        } else if (strcmp(line, "dec") == 0) {
            if (kinagg_hash_key_parse(arg, strlen(arg), &k) != KINAGG_OK) { puts("ERR"); continue; }
            kinagg_hash_key_format(&k, out);
            puts(out);
        } else if (strcmp(line, "range") == 0) {
            char *s2 = strchr(arg, ' '), *s3 = s2 ? strchr(s2 + 1, ' ') : NULL;
            if (!s3) { puts("ERR"); continue; }
            *s2++ = 0;
            *s3++ = 0;
            if (kinagg_hash_key_parse(arg, strlen(arg), &a) || kinagg_hash_key_parse(s2, strlen(s2), &b) ||
                kinagg_hash_key_parse(s3, strlen(s3), &k)) { puts("ERR"); continue; }
            puts(kinagg_hash_key_in_range(&k, &a, &b) ? "1" : "0");
        } else {
            puts("ERR");
        }
    }
    return 0;
}
