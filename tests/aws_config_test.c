/* Tests of port/kinagg_aws_config.h with a throwaway HOME: environment
 * variables over files, named profiles in ~/.aws/credentials and in
 * ~/.aws/config ([profile NAME]), region and endpoint precedence, session
 * tokens, and a clear error when there are no keys. */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../kinagg.h"
#define KINAGG_AWS_CONFIG_IMPLEMENTATION
#include "../port/kinagg_aws_config.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void clear_env(void) {
    static const char *const vars[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                       "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
                                       "AWS_ENDPOINT_URL_KINESIS", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"};
    size_t i;
    for (i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
}

int main(void) {
    char home[] = "/tmp/kinagg-home-XXXXXX", path[256];
    kinagg_aws_config c;
    kinagg_credentials k;
    if (!mkdtemp(home)) return 1;
    clear_env();
    setenv("HOME", home, 1);
    snprintf(path, sizeof path, "%s/.aws", home);
    mkdir(path, 0700);

    /* nothing anywhere: an error that says where to put keys */
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_ERR_INVALID_ARGUMENT && strstr(c.error, "AWS_ACCESS_KEY_ID") &&
              strstr(c.error, "[default]"),
          "no keys: %s", c.error);

    snprintf(path, sizeof path, "%s/.aws/credentials", home);
    write_file(path, "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key=secret/default\n\n"
                     "[work]\naws_access_key_id = AKIDWORK \naws_secret_access_key = secret+work\n"
                     "aws_session_token = token-work\n");
    snprintf(path, sizeof path, "%s/.aws/config", home);
    write_file(path, "[default]\nregion = eu-west-1\n[profile work]\nregion = ap-south-1\n"
                     "endpoint_url = http://127.0.0.1:4567\n[profile cfgonly]\naws_access_key_id = AKIDCFG\n"
                     "aws_secret_access_key = secret-cfg\nregion = us-west-2\n");

    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.access_key_id, "AKIDDEFAULT") &&
              !strcmp(c.secret_access_key, "secret/default") && !c.session_token[0] && !strcmp(c.region, "eu-west-1"),
          "default profile: %s %s %s", c.access_key_id, c.region, c.error);
    setenv("AWS_PROFILE", "work", 1);
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.access_key_id, "AKIDWORK") &&
              !strcmp(c.session_token, "token-work") && !strcmp(c.region, "ap-south-1") &&
              !strcmp(c.endpoint_url, "http://127.0.0.1:4567"),
          "AWS_PROFILE=work: %s %s %s %s", c.access_key_id, c.session_token, c.region, c.endpoint_url);
    k = kinagg_aws_config_credentials(&c);
    CHECK(k.session_token.len == 10 && k.access_key_id.len == 8, "credentials view");
    CHECK(kinagg_aws_config_load(&c, "cfgonly") == KINAGG_OK && !strcmp(c.access_key_id, "AKIDCFG") &&
              !strcmp(c.region, "us-west-2"),
          "keys in ~/.aws/config: %s %s", c.access_key_id, c.region);
    CHECK(kinagg_aws_config_load(&c, "nosuch") == KINAGG_ERR_INVALID_ARGUMENT && strstr(c.error, "[nosuch]"),
          "unknown profile: %s", c.error);

    /* the environment wins, for keys, region and endpoint */
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret-env", 1);
    setenv("AWS_SESSION_TOKEN", "token-env", 1);
    setenv("AWS_DEFAULT_REGION", "sa-east-1", 1);
    setenv("AWS_ENDPOINT_URL", "http://general:1", 1);
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.access_key_id, "AKIDENV") &&
              !strcmp(c.session_token, "token-env") && !strcmp(c.region, "sa-east-1") &&
              !strcmp(c.endpoint_url, "http://general:1") && strstr(c.source, "environment"),
          "environment: %s %s %s %s", c.access_key_id, c.region, c.endpoint_url, c.source);
    setenv("AWS_REGION", "ca-central-1", 1);
    setenv("AWS_ENDPOINT_URL_KINESIS", "http://kinesis:2", 1);
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.region, "ca-central-1") &&
              !strcmp(c.endpoint_url, "http://kinesis:2"),
          "AWS_REGION over AWS_DEFAULT_REGION, the service's endpoint over the general one: %s %s", c.region,
          c.endpoint_url);
    /* a profile named explicitly takes its own keys */
    CHECK(kinagg_aws_config_load(&c, "work") == KINAGG_OK && !strcmp(c.access_key_id, "AKIDWORK"),
          "explicit profile over the environment: %s", c.access_key_id);
    /* other file locations */
    clear_env();
    snprintf(path, sizeof path, "%s/elsewhere", home);
    write_file(path, "[default]\naws_access_key_id = AKIDELSEWHERE\naws_secret_access_key = s\n");
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.access_key_id, "AKIDELSEWHERE"),
          "AWS_SHARED_CREDENTIALS_FILE: %s", c.access_key_id);
    return check_summary("aws-config");
}
