/* kinagg_aws_config.h - credentials, region and endpoint from where AWS
 * users keep them, for POSIX systems.
 *
 * In one file:  #define KINAGG_AWS_CONFIG_IMPLEMENTATION  before including it.
 *
 *   kinagg_aws_config c;
 *   if (kinagg_aws_config_load(&c, NULL) != KINAGG_OK) puts(c.error);
 *   kinagg_credentials cred = kinagg_aws_config_credentials(&c);
 *
 * Looks, in the order the AWS CLI and SDKs use:
 *   keys      AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
 *             else the profile in ~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE),
 *             else in ~/.aws/config (AWS_CONFIG_FILE, section [profile NAME]);
 *   profile   the argument, else AWS_PROFILE, else "default";
 *   region    AWS_REGION, AWS_DEFAULT_REGION, else the profile's region;
 *   endpoint  AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL, else the profile's
 *             endpoint_url (empty: the region's public endpoint).
 * Static memory only: the strings live in the struct.
 */
#ifndef KINAGG_AWS_CONFIG_H
#define KINAGG_AWS_CONFIG_H

#include "../kinagg.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kinagg_aws_config {
    char profile[128];
    char access_key_id[128];
    char secret_access_key[256];
    char session_token[4096];
    char region[64];
    char endpoint_url[512];
    char source[160];   /* where the keys came from, for messages */
    char error[512];
} kinagg_aws_config;

/* Fills *c. KINAGG_ERR_INVALID_ARGUMENT when no keys are found (c->error
 * says where it looked); the region and endpoint may be empty. */
KINAGG_API kinagg_status kinagg_aws_config_load(kinagg_aws_config *c, const char *profile);

/* The credentials, pointing into *c. */
KINAGG_API kinagg_credentials kinagg_aws_config_credentials(const kinagg_aws_config *c);

#ifdef __cplusplus
}
#endif
#endif /* KINAGG_AWS_CONFIG_H */

#if defined(KINAGG_AWS_CONFIG_IMPLEMENTATION) && !defined(KINAGG_AWS_CONFIG_IMPLEMENTATION_DONE)
#define KINAGG_AWS_CONFIG_IMPLEMENTATION_DONE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

static void kinagg__cfg_copy(char *dst, size_t cap, const char *src) {
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static const char *kinagg__cfg_env(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* The path of an AWS file: the variable's value, else ~/.aws/NAME. */
static void kinagg__cfg_path(char *out, size_t cap, const char *var, const char *name) {
    const char *v = kinagg__cfg_env(var), *home = kinagg__cfg_env("HOME");
    if (v) snprintf(out, cap, "%s", v);
    else snprintf(out, cap, "%s/.aws/%s", home ? home : ".", name);
}

static char *kinagg__cfg_trim(char *s) {
    char *e;
    while (*s == ' ' || *s == '\t') s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) *--e = '\0';
    return s;
}

/* Reads key = value pairs of one section of an INI file into the struct's
 * fields (only those still empty). Returns 1 if the section exists. */
static int kinagg__cfg_read(kinagg_aws_config *c, const char *path, const char *section, int keys) {
    FILE *f = fopen(path, "r");
    char line[4608];
    int in = 0, found = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) {
        char *s = kinagg__cfg_trim(line), *eq;
        if (*s == '#' || *s == ';' || !*s) continue;
        if (*s == '[') {
            char *end = strchr(s, ']');
            if (end) *end = '\0';
            in = strcmp(kinagg__cfg_trim(s + 1), section) == 0;
            found |= in;
            continue;
        }
        if (!in || !(eq = strchr(s, '='))) continue;
        *eq = '\0';
        {
            char *k = kinagg__cfg_trim(s), *v = kinagg__cfg_trim(eq + 1);
            if (keys && !strcmp(k, "aws_access_key_id") && !c->access_key_id[0])
                kinagg__cfg_copy(c->access_key_id, sizeof c->access_key_id, v);
            else if (keys && !strcmp(k, "aws_secret_access_key") && !c->secret_access_key[0])
                kinagg__cfg_copy(c->secret_access_key, sizeof c->secret_access_key, v);
            else if (keys && !strcmp(k, "aws_session_token") && !c->session_token[0])
                kinagg__cfg_copy(c->session_token, sizeof c->session_token, v);
            else if (!strcmp(k, "region") && !c->region[0])
                kinagg__cfg_copy(c->region, sizeof c->region, v);
            else if (!strcmp(k, "endpoint_url") && !c->endpoint_url[0])
                kinagg__cfg_copy(c->endpoint_url, sizeof c->endpoint_url, v);
        }
    }
    fclose(f);
    return found;
}

KINAGG_API kinagg_status kinagg_aws_config_load(kinagg_aws_config *c, const char *profile) {
    char creds_path[512], config_path[512], section[160];
    const char *v;
    int env_keys = 0;
    memset(c, 0, sizeof *c);
    v = profile && *profile ? profile : kinagg__cfg_env("AWS_PROFILE");
    kinagg__cfg_copy(c->profile, sizeof c->profile, v ? v : "default");
    kinagg__cfg_path(creds_path, sizeof creds_path, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
    kinagg__cfg_path(config_path, sizeof config_path, "AWS_CONFIG_FILE", "config");
    /* environment first, unless a profile was asked for by name */
    if (!(profile && *profile) && kinagg__cfg_env("AWS_ACCESS_KEY_ID") && kinagg__cfg_env("AWS_SECRET_ACCESS_KEY")) {
        kinagg__cfg_copy(c->access_key_id, sizeof c->access_key_id, kinagg__cfg_env("AWS_ACCESS_KEY_ID"));
        kinagg__cfg_copy(c->secret_access_key, sizeof c->secret_access_key, kinagg__cfg_env("AWS_SECRET_ACCESS_KEY"));
        if ((v = kinagg__cfg_env("AWS_SESSION_TOKEN"))) kinagg__cfg_copy(c->session_token, sizeof c->session_token, v);
        kinagg__cfg_copy(c->source, sizeof c->source, "environment variables");
        env_keys = 1;
    }
    if ((v = kinagg__cfg_env("AWS_REGION")) || (v = kinagg__cfg_env("AWS_DEFAULT_REGION")))
        kinagg__cfg_copy(c->region, sizeof c->region, v);
    if ((v = kinagg__cfg_env("AWS_ENDPOINT_URL_KINESIS")) || (v = kinagg__cfg_env("AWS_ENDPOINT_URL")))
        kinagg__cfg_copy(c->endpoint_url, sizeof c->endpoint_url, v);
    /* the shared files: credentials [NAME], config [profile NAME] / [default] */
    if (kinagg__cfg_read(c, creds_path, c->profile, !env_keys) && !env_keys && c->access_key_id[0])
        snprintf(c->source, sizeof c->source, "%.100s [%.40s]", creds_path, c->profile);
    if (strcmp(c->profile, "default") == 0) snprintf(section, sizeof section, "default");
    else snprintf(section, sizeof section, "profile %.140s", c->profile);
    if (kinagg__cfg_read(c, config_path, section, !env_keys && !c->access_key_id[0]) && !c->source[0] &&
        c->access_key_id[0])
        snprintf(c->source, sizeof c->source, "%.100s [%.40s]", config_path, section);
    if (!c->access_key_id[0] || !c->secret_access_key[0]) {
        snprintf(c->error, sizeof c->error,
                 "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add profile [%.60s] to %.150s",
                 c->profile, creds_path);
        return KINAGG_ERR_INVALID_ARGUMENT;
    }
    return KINAGG_OK;
}

KINAGG_API kinagg_credentials kinagg_aws_config_credentials(const kinagg_aws_config *c) {
    kinagg_credentials k;
    k.access_key_id = kinagg_str_c(c->access_key_id);
    k.secret_access_key = kinagg_str_c(c->secret_access_key);
    k.session_token = kinagg_str_c(c->session_token);
    return k;
}

#ifdef __cplusplus
}
#endif
#endif /* KINAGG_AWS_CONFIG_IMPLEMENTATION */
