/* Kinesis response shapes: feeds the corpus written by tests/responses/gen.js
 * to kinagg's calls over a scripted transport that answers every request
 * with a canned HTTP response, and checks
 *   - each base response gives what the corpus says (worked out in Node
 *     from the response itself), field by field;
 *   - every variant of it (nulls, order, unknown members, number and string
 *     spellings, CBOR lengths, tags, heads, floats) gives the same fields as
 *     the base;
 *   - every malformed response, and every proper prefix of the base and of
 *     its variant "all", is refused with KINAGG_ERR_JSON / KINAGG_ERR_CBOR
 *     (an error response's body that is malformed gives neither type nor
 *     message: "HTTP <status>").
 * Usage: response_test CORPUS. Test code: it uses the heap freely. */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../kinagg.h"
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a transport that answers with one canned response ---------------- */

#include "canned_transport.h"

static void respond(int status, int cbor, const unsigned char *body, size_t len) {
    int n = snprintf((char *)answer, sizeof answer,
                     "HTTP/1.1 %d X\r\nContent-Type: application/x-amz-%s-1.1\r\nContent-Length: %u\r\n\r\n", status,
                     cbor ? "cbor" : "json", (unsigned)len);
    if (len > sizeof answer - (size_t)n) { fprintf(stderr, "response too large\n"); exit(2); }
    if (len) memcpy(answer + n, body, len);
    answer_len = (size_t)n + len;
}

/* ---- what a call reported, as named fields ------------------------------ */

typedef struct field {
    char name[48];
    unsigned char *value;
    size_t len;
} field;
typedef struct fields {
    field *f;
    size_t n, cap;
} fields;

static void fields_clear(fields *fs) {
    size_t i;
    for (i = 0; i < fs->n; i++) free(fs->f[i].value);
    fs->n = 0;
}
static void add(fields *fs, const char *name, const void *value, size_t len) {
    field *f;
    if (fs->n == fs->cap) {
        fs->cap = fs->cap ? fs->cap * 2 : 64;
        fs->f = (field *)realloc(fs->f, fs->cap * sizeof *fs->f);
    }
    f = &fs->f[fs->n++];
    snprintf(f->name, sizeof f->name, "%s", name);
    f->value = (unsigned char *)malloc(len + 1);
    if (len) memcpy(f->value, value, len);
    f->value[len] = '\0';
    f->len = len;
}
static void add_str(fields *fs, const char *name, kinagg_str s) { add(fs, name, s.ptr, s.len); }
static void add_c(fields *fs, const char *name, const char *s) { add(fs, name, s, strlen(s)); }
static void add_u64(fields *fs, const char *name, uint64_t v) {
    char t[24];
    snprintf(t, sizeof t, "%llu", (unsigned long long)v);
    add_c(fs, name, t);
}
static const char *status_name(kinagg_status st) {
    static char other[32];
    switch (st) {
    case KINAGG_OK: return "OK";
    case KINAGG_ERR_SERVICE: return "ERR_SERVICE";
    case KINAGG_ERR_JSON: return "ERR_JSON";
    case KINAGG_ERR_CBOR: return "ERR_CBOR";
    default: snprintf(other, sizeof other, "%s", kinagg_strerror(st)); return other;
    }
}

/* ---- running one call on a response -------------------------------------- */

#define MAX_ENTRIES 500
#define MAX_ITEMS 64
static kinagg_kinesis k;
static unsigned char sbuf[8192], rbuf[1 << 17];
static kinagg_put_entry entries[MAX_ENTRIES];
static kinagg_put_result results[MAX_ENTRIES];
static kinagg_shard shards[MAX_ITEMS];
static kinagg_record records[MAX_ITEMS];
static size_t calls;

static void client(int cbor) {
    if (canned_client(&k, "http://127.0.0.1:4567", cbor, sbuf, sizeof sbuf, rbuf, sizeof rbuf) != KINAGG_OK) {
        fprintf(stderr, "init failed\n");
        exit(2);
    }
}

/* Answers call with the body and collects what kinagg reported. */
static kinagg_status run(const char *call, int status, size_t count, int cbor, const unsigned char *body, size_t len,
                         fields *fs) {
    kinagg_stream_ref s;
    kinagg_status st;
    char name[64], text[1024];
    size_t i, n = 0;
    client(cbor);
    respond(status, cbor, body, len);
    calls++;
    fields_clear(fs);
    s.name = kinagg_str_c("s");
    s.arn = kinagg_str_c("");
    if (strcmp(call, "put") == 0) {
        size_t failed = 0;
        if (count > MAX_ENTRIES) { fprintf(stderr, "too many entries\n"); exit(2); }
        for (i = 0; i < count; i++) {
            entries[i].data = (const unsigned char *)"x";
            entries[i].data_len = 1;
            entries[i].partition_key = kinagg_str_c("k");
            entries[i].explicit_hash_key = kinagg_str_c("");
        }
        st = kinagg_put_records(&k, s, entries, count, results, &failed);
        add_c(fs, "result", status_name(st));
        if (st != KINAGG_OK) return st;
        add_u64(fs, "failed", failed);
        add_u64(fs, "count", count);
        for (i = 0; i < count; i++) {
            snprintf(name, sizeof name, "records[%u].shard_id", (unsigned)i); add_str(fs, name, results[i].shard_id);
            snprintf(name, sizeof name, "records[%u].sequence_number", (unsigned)i); add_str(fs, name, results[i].sequence_number);
            snprintf(name, sizeof name, "records[%u].error_code", (unsigned)i); add_str(fs, name, results[i].error_code);
            snprintf(name, sizeof name, "records[%u].error_message", (unsigned)i); add_str(fs, name, results[i].error_message);
        }
    } else if (strcmp(call, "list") == 0) {
        text[0] = '\0';
        st = kinagg_list_shards_page(&k, s, text, sizeof text, shards, MAX_ITEMS, &n, 0);
        add_c(fs, "result", status_name(st));
        if (st != KINAGG_OK) return st;
        add_c(fs, "next_token", text);
        add_u64(fs, "count", n);
        for (i = 0; i < n; i++) {
            char key[KINAGG_HASH_KEY_DECIMAL_MAX + 1];
            snprintf(name, sizeof name, "shards[%u].shard_id", (unsigned)i); add_c(fs, name, shards[i].shard_id);
            snprintf(name, sizeof name, "shards[%u].parent_shard_id", (unsigned)i); add_c(fs, name, shards[i].parent_shard_id);
            snprintf(name, sizeof name, "shards[%u].adjacent_parent_shard_id", (unsigned)i);
            add_c(fs, name, shards[i].adjacent_parent_shard_id);
            snprintf(name, sizeof name, "shards[%u].start", (unsigned)i);
            add(fs, name, key, kinagg_hash_key_format(&shards[i].start, key));
            snprintf(name, sizeof name, "shards[%u].end", (unsigned)i);
            add(fs, name, key, kinagg_hash_key_format(&shards[i].end, key));
            snprintf(name, sizeof name, "shards[%u].open", (unsigned)i); add_u64(fs, name, (uint64_t)shards[i].open);
        }
    } else if (strcmp(call, "iter") == 0) {
        st = kinagg_get_shard_iterator(&k, s, kinagg_str_c("shardId-000000000000"), kinagg_str_c("TRIM_HORIZON"),
                                       kinagg_str_c(""), text, sizeof text);
        add_c(fs, "result", status_name(st));
        if (st != KINAGG_OK) return st;
        add_c(fs, "iterator", text);
    } else if (strcmp(call, "get") == 0) {
        uint64_t behind = 12345;
        st = kinagg_get_records(&k, "iterator", records, MAX_ITEMS, &n, text, sizeof text, &behind);
        add_c(fs, "result", status_name(st));
        if (st != KINAGG_OK) return st;
        add_c(fs, "next_iterator", text);
        add_u64(fs, "millis_behind", behind);
        add_u64(fs, "count", n);
        for (i = 0; i < n; i++) {
            snprintf(name, sizeof name, "records[%u].sequence_number", (unsigned)i); add_str(fs, name, records[i].sequence_number);
            snprintf(name, sizeof name, "records[%u].partition_key", (unsigned)i); add_str(fs, name, records[i].partition_key);
            snprintf(name, sizeof name, "records[%u].data", (unsigned)i); add(fs, name, records[i].data, records[i].data_len);
            snprintf(name, sizeof name, "records[%u].arrival_ms", (unsigned)i); add_u64(fs, name, records[i].arrival_ms);
        }
    } else if (strcmp(call, "summary") == 0) {
        unsigned open = 12345;
        st = kinagg_describe_stream_summary(&k, s, text, sizeof text, &open);
        add_c(fs, "result", status_name(st));
        if (st != KINAGG_OK) return st;
        add_c(fs, "status", text);
        add_u64(fs, "open_shards", open);
    } else if (strcmp(call, "create") == 0) {
        st = kinagg_create_stream(&k, kinagg_str_c("s"), 1);
        add_c(fs, "result", status_name(st));
    } else if (strcmp(call, "error") == 0) {
        st = kinagg_describe_stream_summary(&k, s, text, sizeof text, NULL);
        add_c(fs, "result", status_name(st));
        if (st != KINAGG_ERR_SERVICE) return st;
        add_u64(fs, "http_status", (uint64_t)k.http_status);
        add_c(fs, "error_type", k.error_type);
        add_c(fs, "error_message", k.error_message);
    } else {
        fprintf(stderr, "unknown call %s\n", call);
        exit(2);
    }
    return st;
}

/* ---- comparing ---------------------------------------------------------------- */

static void show(FILE *f, const unsigned char *p, size_t n) {
    size_t i;
    fputc('"', f);
    for (i = 0; i < n && i < 160; i++)
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') fputc(p[i], f);
        else fprintf(f, "\\x%02x", p[i]);
    fputs(i < n ? "\"..." : "\"", f);
}

/* Field by field: same names, same values, same number. */
static void compare(const char *what, const fields *want, const fields *got) {
    size_t i;
    for (i = 0; i < want->n || i < got->n; i++) {
        const field *w = i < want->n ? &want->f[i] : NULL, *g = i < got->n ? &got->f[i] : NULL;
        int same = w && g && strcmp(w->name, g->name) == 0 && w->len == g->len && memcmp(w->value, g->value, w->len) == 0;
        CHECK(same, "%s: field %s", what, w ? w->name : g->name);
        if (!same) {
            fputs("    want ", stderr);
            if (w) { fprintf(stderr, "%s=", w->name); show(stderr, w->value, w->len); } else fputs("(none)", stderr);
            fputs("\n    got  ", stderr);
            if (g) { fprintf(stderr, "%s=", g->name); show(stderr, g->value, g->len); } else fputs("(none)", stderr);
            fputc('\n', stderr);
            return; /* the rest would only repeat it */
        }
    }
}

/* What a malformed response must give. */
static void refused(const char *what, const char *call, int status, int cbor, kinagg_status st, const fields *got) {
    if (strcmp(call, "error") == 0) {
        char type[32];
        snprintf(type, sizeof type, "HTTP %d", status);
        CHECK(st == KINAGG_ERR_SERVICE && got->n == 4 && strcmp((const char *)got->f[2].value, type) == 0 &&
                  got->f[3].len == 0,
              "%s: a malformed error body gave %s, type %s", what, status_name(st),
              got->n == 4 ? (const char *)got->f[2].value : "-");
        return;
    }
    CHECK(st == (cbor ? KINAGG_ERR_CBOR : KINAGG_ERR_JSON), "%s: gave %s, not %s", what, status_name(st),
          cbor ? "ERR_CBOR" : "ERR_JSON");
}

/* ---- the corpus -------------------------------------------------------------- */

static int nib(int c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; }
static unsigned char *unhex(const char *s, size_t *len) {
    size_t n = strcspn(s, " \n"), i;
    unsigned char *out = (unsigned char *)malloc(n / 2 + 1);
    if (n == 1 && s[0] == '-') { *len = 0; return out; }
    for (i = 0; i + 1 < n; i += 2) {
        int a = nib(s[i]), b = nib(s[i + 1]);
        if (a < 0 || b < 0) { fprintf(stderr, "bad hex in corpus\n"); exit(2); }
        out[i / 2] = (unsigned char)(a << 4 | b);
    }
    *len = n / 2;
    return out;
}

/* Every proper prefix of body must be refused (trailing JSON white space
 * aside; an empty CreateStream body is its right answer); of a long body,
 * every step-th prefix. */
static size_t prefixes(const char *what, const char *call, int status, size_t count, int cbor, const unsigned char *body,
                       size_t len, size_t step, fields *got) {
    size_t end = len, cut, n = 0;
    char name[160];
    if (!cbor)
        while (end && (body[end - 1] == ' ' || body[end - 1] == '\t' || body[end - 1] == '\r' || body[end - 1] == '\n')) end--;
    cut = 0;
    if (strcmp(call, "create") == 0) { /* no body, or only white space, is a right answer */
        while (!cbor && cut < end && (body[cut] == ' ' || body[cut] == '\t' || body[cut] == '\r' || body[cut] == '\n')) cut++;
        cut++;
    }
    for (; cut < end; cut += step) {
        kinagg_status st = run(call, status, count, cbor, body, cut, got);
        snprintf(name, sizeof name, "%s, first %u bytes", what, (unsigned)cut);
        refused(name, call, status, cbor, st, got);
        n++;
    }
    return n;
}

int main(int argc, char **argv) {
    FILE *f;
    char *line = NULL, call[16] = "", base_name[64] = "";
    size_t cap = 0, count = 0, variants = 0, malformed = 0, cut = 0, bases = 0;
    int status = 200;
    fields want = {0, 0, 0}, base[2] = {{0, 0, 0}, {0, 0, 0}}, got = {0, 0, 0};
    int have_base[2] = {0, 0};
    if (argc != 2 || !(f = fopen(argv[1], "r"))) {
        fprintf(stderr, "usage: response_test CORPUS (from node tests/responses/gen.js CORPUS)\n");
        return 2;
    }
    while (getline(&line, &cap, f) > 0) {
        char what[200], proto, vname[64];
        if (line[0] == 'B') {
            unsigned st, n;
            if (sscanf(line, "B %15s %u %u %63s", call, &st, &n, base_name) != 4) { fprintf(stderr, "bad line: %s", line); return 2; }
            status = (int)st;
            count = n;
            have_base[0] = have_base[1] = 0;
            bases++;
        } else if (line[0] == 'E') { /* name=hex ... */
            char *p = line + 1;
            fields_clear(&want);
            while (*p == ' ') p++;
            while (*p && *p != '\n') {
                char *eq = strchr(p, '='), name[48];
                unsigned char *v;
                size_t len = 0;
                if (!eq || (size_t)(eq - p) >= sizeof name) { fprintf(stderr, "bad E line: %s", line); return 2; }
                memcpy(name, p, (size_t)(eq - p));
                name[eq - p] = '\0';
                if (eq[1] == ' ' || eq[1] == '\n' || eq[1] == '\0') { v = (unsigned char *)malloc(1); len = 0; }
                else v = unhex(eq + 1, &len);
                add(&want, name, v, len);
                free(v);
                p = eq + 1 + strcspn(eq + 1, " \n");
                while (*p == ' ') p++;
            }
        } else if (line[0] == 'V' || line[0] == 'M') {
            unsigned char *body;
            size_t len;
            int cbor, off = 0;
            kinagg_status st;
            if (sscanf(line + 2, "%c %63s %n", &proto, vname, &off) != 2 || !off) { fprintf(stderr, "bad line: %s", line); return 2; }
            cbor = proto == 'c';
            body = unhex(line + 2 + off, &len);
            snprintf(what, sizeof what, "%s %s %s", base_name, cbor ? "cbor" : "json", vname);
            st = run(call, status, count, cbor, body, len, &got);
            if (line[0] == 'M') {
                refused(what, call, status, cbor, st, &got);
                malformed++;
            } else if (strcmp(vname, "aws") == 0) { /* the base: as the corpus says */
                compare(what, &want, &got);
                fields_clear(&base[cbor]);
                { size_t i; for (i = 0; i < got.n; i++) add(&base[cbor], got.f[i].name, got.f[i].value, got.f[i].len); }
                have_base[cbor] = 1;
                cut += prefixes(what, call, status, count, cbor, body, len, 1, &got);
                variants++;
            } else { /* a variant: as its base */
                if (!have_base[cbor]) { fprintf(stderr, "%s: no base before it\n", what); return 2; }
                compare(what, &base[cbor], &got);
                if (strcmp(vname, "all") == 0) /* about 1000 of them, at odd steps */
                    cut += prefixes(what, call, status, count, cbor, body, len, len / 1000 | 1, &got);
                variants++;
            }
            free(body);
        }
    }
    fclose(f);
    free(line);
    fields_clear(&want); fields_clear(&got); fields_clear(&base[0]); fields_clear(&base[1]);
    free(want.f); free(got.f); free(base[0].f); free(base[1].f);
    printf("responses: checked %u base responses, %u variants, %u malformed, %u truncated; %u calls\n", (unsigned)bases,
           (unsigned)variants, (unsigned)malformed, (unsigned)cut, (unsigned)calls);
    {   /* AWS's CBOR timestamps: epoch milliseconds, under tag 1 (the AWS SDKs' CBOR protocol);
         * kinesalite's: float seconds. Both mean the same instant. */
        static const unsigned char ms[] = {0xa1, 0x67, 'R', 'e', 'c', 'o', 'r', 'd', 's', 0x81, 0xa3,
            0x6e, 'S', 'e', 'q', 'u', 'e', 'n', 'c', 'e', 'N', 'u', 'm', 'b', 'e', 'r', 0x61, '1',
            0x64, 'D', 'a', 't', 'a', 0x41, 'x',
            0x78, 0x1b, 'A', 'p', 'p', 'r', 'o', 'x', 'i', 'm', 'a', 't', 'e', 'A', 'r', 'r', 'i', 'v', 'a', 'l',
            'T', 'i', 'm', 'e', 's', 't', 'a', 'm', 'p', 0xc1, 0x1b, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b};
        static const unsigned char sec[] = {0xa1, 0x67, 'R', 'e', 'c', 'o', 'r', 'd', 's', 0x81, 0xa3,
            0x6e, 'S', 'e', 'q', 'u', 'e', 'n', 'c', 'e', 'N', 'u', 'm', 'b', 'e', 'r', 0x61, '1',
            0x64, 'D', 'a', 't', 'a', 0x41, 'x',
            0x78, 0x1b, 'A', 'p', 'p', 'r', 'o', 'x', 'i', 'm', 'a', 't', 'e', 'A', 'r', 'r', 'i', 'v', 'a', 'l',
            'T', 'i', 'm', 'e', 's', 't', 'a', 'm', 'p', 0xfb, 0x41, 0xd9, 0x54, 0xfc, 0x40, 0x07, 0xdf, 0x3b};
        /* 1700000000123 ms; 1700000000.123 s as a double */
        size_t n = 0;
        char it[8];
        kinagg_status st;
        client(1);
        respond(200, 1, ms, sizeof ms);
        st = kinagg_get_records(&k, "i", records, MAX_ITEMS, &n, it, sizeof it, NULL);
        CHECK(st == KINAGG_OK && n == 1 && records[0].arrival_ms == 1700000000123ull,
              "CBOR tag 1 over milliseconds: %s, %llu", kinagg_strerror(st),
              (unsigned long long)(n ? records[0].arrival_ms : 0));
        respond(200, 1, sec, sizeof sec);
        st = kinagg_get_records(&k, "i", records, MAX_ITEMS, &n, it, sizeof it, NULL);
        CHECK(st == KINAGG_OK && n == 1 && records[0].arrival_ms == 1700000000123ull,
              "CBOR float seconds: %s, %llu", kinagg_strerror(st), (unsigned long long)(n ? records[0].arrival_ms : 0));
    }
    {   /* shard ids of the API's 128 characters are kept; a longer one does
         * not fit the table (too small, not a malformed answer) */
        size_t idlen;
        for (idlen = 127; idlen <= 129; idlen++) {
            char body[512], id[200], text[64] = "";
            kinagg_stream_ref s;
            size_t n = 0;
            int blen;
            kinagg_status st;
            memset(id, 'i', idlen);
            id[idlen] = '\0';
            blen = snprintf(body, sizeof body, "{\"Shards\":[{\"ShardId\":\"%s\",\"ParentShardId\":\"%s\","
                            "\"HashKeyRange\":{\"StartingHashKey\":\"0\",\"EndingHashKey\":\"9\"}}]}", id, id);
            s.name = kinagg_str_c("s");
            s.arn = kinagg_str_c("");
            client(0);
            respond(200, 0, (const unsigned char *)body, (size_t)blen);
            st = kinagg_list_shards_page(&k, s, text, sizeof text, shards, MAX_ITEMS, &n, 0);
            if (idlen <= 128)
                CHECK(st == KINAGG_OK && n == 1 && strcmp(shards[0].shard_id, id) == 0 &&
                      strcmp(shards[0].parent_shard_id, id) == 0,
                      "a shard id of %u characters: %s", (unsigned)idlen, kinagg_strerror(st));
            else
                CHECK(st == KINAGG_ERR_BUFFER_TOO_SMALL, "a shard id of %u characters: %s", (unsigned)idlen,
                      kinagg_strerror(st));
        }
    }
    return check_summary("responses");
}
