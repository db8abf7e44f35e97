/* A text corpus of aggregated records and the user records each must decode
 * to, shared by the C checkers (kinagg, protobuf-c, nanopb) and the Node one
 * (aws-kinesis-agg):
 *     A <aggregate hex>
 *     R <partition key hex> <explicit hash key | -> <data hex | ->
 *     E
 * Test code: it uses the heap freely. */
#ifndef KINAGG_TEST_CORPUS_H
#define KINAGG_TEST_CORPUS_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct corpus_rec {
    unsigned char *pk;
    size_t pk_len;
    char *ehk; /* NULL when absent */
    unsigned char *data;
    size_t data_len;
} corpus_rec;

typedef struct corpus_agg {
    unsigned char *bytes;
    size_t len;
    corpus_rec *recs;
    size_t nrec, caprec;
} corpus_agg;

static inline void corpus_hex_out(FILE *f, const unsigned char *p, size_t n) {
    static const char d[] = "0123456789abcdef";
    size_t i;
    if (!n) { fputc('-', f); return; }
    for (i = 0; i < n; i++) { fputc(d[p[i] >> 4], f); fputc(d[p[i] & 15], f); }
}
static inline void corpus_write_agg(FILE *f, const unsigned char *p, size_t n) {
    fputs("A ", f);
    corpus_hex_out(f, p, n);
    fputc('\n', f);
}
static inline void corpus_write_rec(FILE *f, const void *pk, size_t pk_len, const char *ehk, size_t ehk_len,
                             const void *data, size_t data_len) {
    fputs("R ", f);
    corpus_hex_out(f, (const unsigned char *)pk, pk_len);
    fputc(' ', f);
    if (ehk) fwrite(ehk, 1, ehk_len, f); else fputc('-', f);
    fputc(' ', f);
    corpus_hex_out(f, (const unsigned char *)data, data_len);
    fputc('\n', f);
}
static inline void corpus_write_end(FILE *f) { fputs("E\n", f); }

static inline int corpus_nib(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}
/* Decodes the hex token at *p (or "-" for empty), advancing past it. */
static inline unsigned char *corpus_hex_in(char **p, size_t *len) {
    char *s = *p, *e = s;
    unsigned char *out;
    size_t i;
    while (*e && *e != ' ' && *e != '\n') e++;
    *p = *e ? e + 1 : e;
    if (e - s == 1 && *s == '-') { *len = 0; return (unsigned char *)malloc(1); }
    *len = (size_t)(e - s) / 2;
    out = (unsigned char *)malloc(*len + 1);
    for (i = 0; i < *len; i++) out[i] = (unsigned char)(corpus_nib(s[2 * i]) * 16 + corpus_nib(s[2 * i + 1]));
    return out;
}

/* Loads a corpus; returns the aggregate count, or -1. */
static inline long corpus_load(const char *path, corpus_agg **out) {
    FILE *f = fopen(path, "rb");
    char *text, *p;
    long size, n = 0, cap = 16;
    corpus_agg *aggs;
    if (!f) { perror(path); return -1; }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = (char *)malloc((size_t)size + 1);
    if (fread(text, 1, (size_t)size, f) != (size_t)size) { fclose(f); return -1; }
    text[size] = 0;
    fclose(f);
    aggs = (corpus_agg *)calloc((size_t)cap, sizeof *aggs);
    for (p = text; *p;) {
        char kind = *p;
        p += 2;
        if (kind == 'A') {
            if (n == cap) {
                aggs = (corpus_agg *)realloc(aggs, (size_t)(cap *= 2) * sizeof *aggs);
                memset(aggs + n, 0, (size_t)(cap - n) * sizeof *aggs);
            }
            aggs[n].bytes = corpus_hex_in(&p, &aggs[n].len);
            n++;
        } else if (kind == 'R') {
            corpus_agg *a = &aggs[n - 1];
            corpus_rec *r;
            char *e;
            if (a->nrec == a->caprec) {
                a->caprec = a->caprec ? a->caprec * 2 : 64;
                a->recs = (corpus_rec *)realloc(a->recs, a->caprec * sizeof *a->recs);
            }
            r = &a->recs[a->nrec++];
            r->pk = corpus_hex_in(&p, &r->pk_len);
            e = strchr(p, ' ');
            *e = 0;
            r->ehk = NULL;
            if (strcmp(p, "-") != 0) {
                r->ehk = (char *)malloc(strlen(p) + 1);
                strcpy(r->ehk, p);
            }
            p = e + 1;
            r->data = corpus_hex_in(&p, &r->data_len);
        } else {
            p = strchr(p - 2, '\n');
            p = p ? p + 1 : p;
            if (!p) break;
        }
    }
    free(text);
    *out = aggs;
    return n;
}

static inline void corpus_free(corpus_agg *aggs, long n) {
    long i;
    size_t k;
    for (i = 0; i < n; i++) {
        for (k = 0; k < aggs[i].nrec; k++) {
            free(aggs[i].recs[k].pk);
            free(aggs[i].recs[k].ehk);
            free(aggs[i].recs[k].data);
        }
        free(aggs[i].recs);
        free(aggs[i].bytes);
    }
    free(aggs);
}

/* Compares one decoded user record with the expected one; prints why not. */
static inline int corpus_same(const corpus_rec *want, const void *pk, size_t pk_len, const char *ehk, size_t ehk_len,
                       const void *data, size_t data_len, const char *where) {
    if (pk_len != want->pk_len || memcmp(pk, want->pk, pk_len) != 0) {
        fprintf(stderr, "%s: partition key differs\n", where);
        return 0;
    }
    if ((ehk != NULL) != (want->ehk != NULL)) {
        fprintf(stderr, "%s: explicit hash key %s, want %s\n", where, ehk ? "present" : "absent",
                want->ehk ? "present" : "absent");
        return 0;
    }
    if (ehk && (ehk_len != strlen(want->ehk) || memcmp(ehk, want->ehk, ehk_len) != 0)) {
        fprintf(stderr, "%s: explicit hash key differs\n", where);
        return 0;
    }
    if (data_len != want->data_len || (data_len && memcmp(data, want->data, data_len) != 0)) {
        fprintf(stderr, "%s: data differs (%lu bytes, want %lu)\n", where, (unsigned long)data_len,
                (unsigned long)want->data_len);
        return 0;
    }
    return 1;
}
#endif
