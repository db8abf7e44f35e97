/* Tests of port/kinagg_aws_config.h with a throwaway HOME: environment
 * variables over files, named profiles in ~/.aws/credentials and in
 * ~/.aws/config ([profile NAME], [profile default]), region and endpoint precedence, session
 * tokens, a clear error when there are no keys, sub-settings (s3 = ...) that
 * are not the profile's, the services section's Kinesis endpoint, and the CA
 * bundle (AWS_CA_BUNDLE, ca_bundle). */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../kinagg.h"
#define KINAGG_AWS_CONFIG_IMPLEMENTATION
#include "../port/kinagg_aws_config.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void clear_env(void) {
    static const char *const vars[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                       "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
                                       "AWS_ENDPOINT_URL_KINESIS", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
                                       "AWS_CA_BUNDLE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                                       "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_DEFAULT_PROFILE",
                                       "AWS_SECURITY_TOKEN"};
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
    /* the older AWS_DEFAULT_PROFILE comes first, as in botocore */
    unsetenv("AWS_PROFILE");
    setenv("AWS_DEFAULT_PROFILE", "work", 1);
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.access_key_id, "AKIDWORK"),
          "AWS_DEFAULT_PROFILE=work: %s %s", c.access_key_id, c.error);
    setenv("AWS_PROFILE", "cfgonly", 1);
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.access_key_id, "AKIDWORK"),
          "AWS_DEFAULT_PROFILE over AWS_PROFILE: %s %s", c.access_key_id, c.error);
    unsetenv("AWS_DEFAULT_PROFILE");
    setenv("AWS_PROFILE", "work", 1);
    CHECK(kinagg_aws_config_load(&c, "cfgonly") == KINAGG_OK && !strcmp(c.access_key_id, "AKIDCFG") &&
              !strcmp(c.region, "us-west-2"),
          "keys in ~/.aws/config: %s %s", c.access_key_id, c.region);
    CHECK(kinagg_aws_config_load(&c, "nosuch") == KINAGG_ERR_INVALID_ARGUMENT && c.broken &&
              strstr(c.error, "(nosuch) could not be found") && !c.region[0],
          "unknown profile: %s", c.error);
    CHECK(kinagg_aws_config_load(&c, "work") == KINAGG_OK && c.keys_from == KINAGG_AWS_KEYS_FROM_CREDENTIALS_FILE &&
              !c.broken,
          "keys from the credentials file: %d", c.keys_from);
    CHECK(kinagg_aws_config_load(&c, "cfgonly") == KINAGG_OK && c.keys_from == KINAGG_AWS_KEYS_FROM_CONFIG_FILE,
          "keys from the config file: %d", c.keys_from);
    /* AWS_PROFILE must name a profile too (the AWS CLI: "The config profile
     * (NAME) could not be found"), even with keys in the environment */
    setenv("AWS_PROFILE", "nosuch", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret-env", 1);
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_ERR_INVALID_ARGUMENT && c.broken &&
              strstr(c.error, "(nosuch) could not be found") && !c.access_key_id[0],
          "AWS_PROFILE=nosuch with the environment's keys: %s", c.error);
    unsetenv("AWS_PROFILE");
    /* the environment's token: AWS_SECURITY_TOKEN (older) first, as in botocore */
    setenv("AWS_SESSION_TOKEN", "new-token", 1);
    setenv("AWS_SECURITY_TOKEN", "old-token", 1);
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.session_token, "old-token"),
          "AWS_SECURITY_TOKEN first: %s %s", c.session_token, c.error);
    unsetenv("AWS_SECURITY_TOKEN");
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.session_token, "new-token"),
          "AWS_SESSION_TOKEN: %s %s", c.session_token, c.error);
    unsetenv("AWS_SESSION_TOKEN");
    /* half of the environment's keys: an error, not the profile's instead */
    unsetenv("AWS_SECRET_ACCESS_KEY");
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_ERR_INVALID_ARGUMENT && c.broken &&
              strstr(c.error, "AWS_SECRET_ACCESS_KEY is not") && !c.access_key_id[0],
          "AWS_ACCESS_KEY_ID alone: %s", c.error);
    CHECK(kinagg_aws_config_load(&c, "work") == KINAGG_OK && !strcmp(c.access_key_id, "AKIDWORK"),
          "a profile named by argument: the environment not looked at: %s", c.error);
    unsetenv("AWS_ACCESS_KEY_ID");
    setenv("AWS_SECRET_ACCESS_KEY", "secret-env", 1);
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.access_key_id, "AKIDDEFAULT"),
          "AWS_SECRET_ACCESS_KEY alone is not looked at (as botocore): %s %s", c.access_key_id, c.error);
    unsetenv("AWS_SECRET_ACCESS_KEY");
    setenv("AWS_PROFILE", "work", 1);

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
    /* a leading ~ is HOME, as the AWS CLI has it */
    write_file(path, "[default]\naws_access_key_id = AKIDTILDE\naws_secret_access_key = s\n");
    snprintf(path, sizeof path, "%s/elsewhere.config", home);
    write_file(path, "[default]\nregion = me-south-1\n");
    setenv("AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere", 1);
    setenv("AWS_CONFIG_FILE", "~/elsewhere.config", 1);
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.access_key_id, "AKIDTILDE") &&
              !strcmp(c.region, "me-south-1") && strstr(c.source, home),
          "~/ in AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE: %s %s %s", c.access_key_id, c.region, c.source);

    /* indented lines after "s3 =" are s3's sub-settings, not the profile's */
    clear_env();
    snprintf(path, sizeof path, "%s/.aws/config", home);
    write_file(path, "[default]\ns3 =\n    endpoint_url = http://127.0.0.1:1\n    region = eu-west-1\n"
                     "region = us-east-1\n[profile nested]\nendpoint_url = http://own:3\nkinesis =\n"
                     "  endpoint_url = http://nested:4\n  region = eu-north-1\nregion = eu-central-1\n"
                     "[profile cont]\nregion = ap-east-1\nnote = a value\n  endpoint_url = http://continued:5\n"
                     "[profile indented]\n  region = us-west-2\n  endpoint_url = http://indented:6\n"
                     "  s3 =\n    region = eu-west-3\n  ca_bundle = /x.pem\n");
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.region, "us-east-1") && !c.endpoint_url[0],
          "s3's sub-settings ignored: region %s endpoint %s", c.region, c.endpoint_url);
    (void)kinagg_aws_config_load(&c, "nested"); /* no keys there */
    CHECK(!strcmp(c.region, "eu-central-1") &&
              !strcmp(c.endpoint_url, "http://own:3"),
          "kinesis = in a profile (not a services section) ignored: region %s endpoint %s", c.region, c.endpoint_url);
    (void)kinagg_aws_config_load(&c, "indented"); /* no keys there */
    CHECK(!strcmp(c.region, "us-west-2") && !strcmp(c.endpoint_url, "http://indented:6") &&
              !strcmp(c.ca_bundle, "/x.pem"),
          "keys indented alike are all the profile's (deeper ones are sub-settings): region %s endpoint %s ca %s",
          c.region, c.endpoint_url, c.ca_bundle);
    (void)kinagg_aws_config_load(&c, "cont"); /* no keys there */
    CHECK(!strcmp(c.region, "ap-east-1") && !c.endpoint_url[0],
          "a value's continuation line is not a setting: region %s endpoint %s", c.region, c.endpoint_url);

    /* services = NAME: [services NAME]'s kinesis = / endpoint_url, over the profile's endpoint_url */
    write_file(path, "[default]\nregion = us-east-1\nservices = local\nendpoint_url = http://general:6\n"
                     "[services local]\ns3 =\n  endpoint_url = http://s3:7\nkinesis =\n"
                     "  endpoint_url = http://127.0.0.1:4568\n  region = eu-west-3\n"
                     "[services other]\nkinesis =\n  endpoint_url = http://other:8\n"
                     "[profile s3only]\nservices = s3only\nendpoint_url = http://general:9\n"
                     "[services s3only]\ns3 =\n  endpoint_url = http://s3:10\nendpoint_url = http://top:11\n");
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.endpoint_url, "http://127.0.0.1:4568") &&
              !strcmp(c.region, "us-east-1"),
          "services section: %s %s", c.endpoint_url, c.region);
    (void)kinagg_aws_config_load(&c, "s3only"); /* no keys there */
    CHECK(!strcmp(c.endpoint_url, "http://general:9"),
          "a services section without kinesis: the profile's endpoint_url: %s", c.endpoint_url);
    setenv("AWS_ENDPOINT_URL", "http://env:12", 1);
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.endpoint_url, "http://env:12"),
          "AWS_ENDPOINT_URL over the services section: %s", c.endpoint_url);
    setenv("AWS_ENDPOINT_URL_KINESIS", "http://env-kinesis:13", 1);
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.endpoint_url, "http://env-kinesis:13"),
          "AWS_ENDPOINT_URL_KINESIS first: %s", c.endpoint_url);
    clear_env();
    setenv("HOME", home, 1);
    /* services = NAME without its section: botocore's error (unless the
     * environment gives the endpoint, or configured endpoints are ignored) */
    write_file(path, "[default]\nregion = us-east-1\nservices = local-kinesis\n"
                     "[services local-kinesi]\nkinesis =\n  endpoint_url = http://127.0.0.1:4568\n");
    (void)kinagg_aws_config_load(&c, NULL);
    CHECK(!c.broken && !strcmp(c.services_missing, "local-kinesis") && !c.endpoint_url[0],
          "services = a section that is not there: said in services_missing, not broken: %s %s", c.services_missing,
          c.error);
    setenv("AWS_ENDPOINT_URL", "http://env:14", 1);
    (void)kinagg_aws_config_load(&c, NULL);
    CHECK(!c.broken && !c.services_missing[0] && !strcmp(c.endpoint_url, "http://env:14"), "... with AWS_ENDPOINT_URL: %s %s",
          c.endpoint_url, c.error);
    unsetenv("AWS_ENDPOINT_URL");
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    (void)kinagg_aws_config_load(&c, NULL);
    CHECK(!c.broken && !c.services_missing[0] && !c.endpoint_url[0], "... with configured endpoints ignored: %s %s",
          c.endpoint_url, c.error);
    clear_env();
    setenv("HOME", home, 1);
    /* the CA bundle: AWS_CA_BUNDLE, else the profile's ca_bundle */
    clear_env();
    setenv("HOME", home, 1);
    snprintf(path, sizeof path, "%s/.aws/config", home);
    write_file(path, "[default]\nca_bundle = /etc/profile-ca.pem\ns3 =\n  ca_bundle = /etc/s3-ca.pem\n"
                     "[profile work]\nregion = ap-south-1\n");
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.ca_bundle, "/etc/profile-ca.pem"),
          "the profile's ca_bundle: %s", c.ca_bundle);
    CHECK(kinagg_aws_config_load(&c, "work") == KINAGG_OK && !c.ca_bundle[0], "no ca_bundle: %s", c.ca_bundle);
    setenv("AWS_CA_BUNDLE", "/etc/env-ca.pem", 1);
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.ca_bundle, "/etc/env-ca.pem"),
          "AWS_CA_BUNDLE over the profile's ca_bundle: %s", c.ca_bundle);
    CHECK(kinagg_aws_config_load(&c, "work") == KINAGG_OK && !strcmp(c.ca_bundle, "/etc/env-ca.pem"),
          "AWS_CA_BUNDLE with a named profile: %s", c.ca_bundle);
    /* keys in any case and "key: value", as the AWS CLI reads them */
    clear_env();
    setenv("HOME", home, 1);
    snprintf(path, sizeof path, "%s/.aws/credentials", home);
    write_file(path, "[default]\nAWS_Access_Key_ID = AKIDUPPER\nAWS_SECRET_ACCESS_KEY: secret/upper\n");
    snprintf(path, sizeof path, "%s/.aws/config", home);
    write_file(path, "[default]\nRegion: sa-east-1\nEndpoint_URL = http://upper:14\n");
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.access_key_id, "AKIDUPPER") &&
              !strcmp(c.secret_access_key, "secret/upper") && !strcmp(c.region, "sa-east-1") &&
              !strcmp(c.endpoint_url, "http://upper:14"),
          "keys in capitals, key: value: key %s secret %s region %s endpoint %s", c.access_key_id, c.secret_access_key,
          c.region, c.endpoint_url);
    /* AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, else the profile's setting: no endpoint from env or files */
    setenv("AWS_ENDPOINT_URL", "http://env:15", 1);
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE", 1);
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !c.endpoint_url[0], "ignored endpoints: %s", c.endpoint_url);
    write_file(path, "[default]\nregion = sa-east-1\nendpoint_url = http://upper:14\n"
                     "ignore_configured_endpoint_urls = true\n");
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false", 1);
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.endpoint_url, "http://env:15"),
          "the variable over the profile's ignore_configured_endpoint_urls: %s", c.endpoint_url);
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !c.endpoint_url[0],
          "the profile's ignore_configured_endpoint_urls: %s", c.endpoint_url);
    /* [profile default] in the config file is the default profile too, as
     * the AWS CLI reads it */
    clear_env();
    setenv("HOME", home, 1);
    write_file(path, "[profile default]\nregion = ap-east-1\nendpoint_url = http://profile-default:16\n"
                     "aws_access_key_id = AKIDPROFILEDEFAULT\naws_secret_access_key = secret/pd\n");
    snprintf(path, sizeof path, "%s/.aws/credentials", home);
    remove(path);
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.region, "ap-east-1") &&
              !strcmp(c.endpoint_url, "http://profile-default:16") && !strcmp(c.access_key_id, "AKIDPROFILEDEFAULT"),
          "[profile default] in the config file: region %s endpoint %s key %s (%s)", c.region, c.endpoint_url,
          c.access_key_id, c.error);
    /* a section twice, or a key twice in a section: the AWS CLI refuses
     * the file ("Unable to parse config file"), and so does the load;
     * sub-settings (s3 =) and [default] beside [profile default] are not
     * repeats */
    snprintf(path, sizeof path, "%s/.aws/credentials", home);
    write_file(path, "[default]\naws_access_key_id = AKIDOLD\naws_secret_access_key = old\n\n"
                     "[default]\naws_access_key_id = AKIDNEW\naws_secret_access_key = new\n");
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_ERR_INVALID_ARGUMENT && c.broken &&
              strstr(c.error, "[default] appears twice") && strstr(c.error, path) && !c.access_key_id[0],
          "[default] twice: %s", c.error);
    write_file(path, "[other]\nregion = x\n[default]\naws_access_key_id = AKIDNEW\naws_secret_access_key = new\n"
                     "[other]\nregion = y\n");
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_ERR_INVALID_ARGUMENT && c.broken &&
              strstr(c.error, "[other] appears twice"),
          "another section twice: %s", c.error);
    write_file(path, "[default]\naws_access_key_id = AKIDOLD\naws_secret_access_key = old\n"
                     "Aws_Access_Key_Id = AKIDNEW\n");
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_ERR_INVALID_ARGUMENT && c.broken &&
              strstr(c.error, "aws_access_key_id appears twice"),
          "a key twice (in any case): %s", c.error);
    write_file(path, "[default]\naws_access_key_id = AKIDNEW\naws_secret_access_key = new\n"
                     "[work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = w\n");
    snprintf(path, sizeof path, "%s/.aws/config", home);
    write_file(path, "[default]\nregion = eu-west-1\ns3 =\n  max_concurrent_requests = 1\n"
                     "  max_concurrent_requests = 2\ndynamodb =\n  max_concurrent_requests = 3\n"
                     "[profile default]\nregion = eu-west-2\n");
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !c.broken && !strcmp(c.access_key_id, "AKIDNEW") &&
              !strcmp(c.region, "eu-west-2"),
          "the same key in two sections, sub-settings; [default] then [profile default]: the later, whole (%s) %s",
          c.region, c.error);
    write_file(path, "[profile default]\nregion = eu-west-2\nendpoint_url = http://pd:1\n[default]\nregion = eu-west-1\n");
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.region, "eu-west-1") && !c.endpoint_url[0],
          "[profile default] then [default]: the later, whole: %s %s", c.region, c.endpoint_url);
    /* lines the AWS CLI cannot parse: the file is refused */
    {
        static const char *const bad[] = {"region = x\n[default]\n", "[default]\nregion x\n", "[default]\n= x\n",
                                          "[]\nregion = x\n", "[default\nregion = x\n"};
        static const char *const says[] = {"before any [section]", "neither", "without a name", "neither", "neither"};
        size_t b;
        for (b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            write_file(path, bad[b]);
            CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_ERR_INVALID_ARGUMENT && c.broken &&
                      strstr(c.error, says[b]) && strstr(c.error, "line "),
                  "unparsable config %lu: %s", (unsigned long)b, c.error);
        }
    }
    /* sections named as botocore splits them (like a shell), the header up
     * to the last ], and [DEFAULT] twice is no repeat */
    write_file(path, "[profile  spaced]\nregion = r-spaced\n[profile \"quoted\"]\nregion = r-quoted\n"
                     "[profile a]b]\nregion = r-ab\n[profile a]\nregion = r-a\n[DEFAULT]\n[DEFAULT]\n"
                     "[profile two words]\nregion = r-two\n");
    (void)kinagg_aws_config_load(&c, "spaced"); /* no keys here: the region tells */
    CHECK(!c.broken && !strcmp(c.region, "r-spaced"), "[profile  spaced]: %s",
          c.error);
    (void)kinagg_aws_config_load(&c, "quoted"); /* no keys here: the region tells */
    CHECK(!c.broken && !strcmp(c.region, "r-quoted"),
          "[profile \"quoted\"]: %s", c.error);
    (void)kinagg_aws_config_load(&c, "a"); /* no keys here: the region tells */
    CHECK(!c.broken && !strcmp(c.region, "r-a"), "[profile a]b] is not [profile a]: %s %s",
          c.region, c.error);
    CHECK(kinagg_aws_config_load(&c, "two words") == KINAGG_ERR_INVALID_ARGUMENT && c.broken,
          "[profile two words] is no profile for botocore: %s", c.error);
    /* aws_security_token, the older name, wins over aws_session_token, in
     * either order (botocore reads it first) */
    snprintf(path, sizeof path, "%s/.aws/credentials", home);
    write_file(path, "[default]\naws_access_key_id = ASIAOLD\naws_secret_access_key = s\n"
                     "aws_session_token = token-new\naws_security_token = token-old\n");
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.session_token, "token-old"),
          "aws_security_token after aws_session_token: %s", c.session_token);
    write_file(path, "[default]\naws_access_key_id = ASIAOLD\naws_secret_access_key = s\n"
                     "aws_security_token = token-old\n");
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.session_token, "token-old"),
          "aws_security_token alone: %s", c.session_token);
    /* ... but only with the keys of its file: a credentials file without a
     * key leaves the config file's keys and token */
    write_file(path, "[default]\naws_security_token = token-stray\n");
    snprintf(path, sizeof path, "%s/.aws/config", home);
    write_file(path, "[default]\naws_access_key_id = ASIACONFIG\naws_secret_access_key = s\n"
                     "aws_session_token = token-config\n");
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.session_token, "token-config"),
          "a credentials file with aws_security_token and no key: the config file's token, got \"%s\"",
          c.session_token);
    snprintf(path, sizeof path, "%s/.aws/credentials", home);
    unlink(path);
    snprintf(path, sizeof path, "%s/.aws/config", home);
    /* keys are one file's: never a key of one file with a secret or a token
     * of the other */
    write_file(path, "[default]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = secret-config\n");
    snprintf(path, sizeof path, "%s/.aws/credentials", home);
    write_file(path, "[default]\naws_session_token = token-creds\naws_secret_access_key = secret-creds\n");
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_OK && !strcmp(c.access_key_id, "AKIDCONFIG") &&
              !strcmp(c.secret_access_key, "secret-config") && !c.session_token[0],
          "the config file's keys without the credentials file's secret and token: %s %s", c.secret_access_key,
          c.session_token);
    write_file(path, "[default]\naws_secret_access_key = secret-creds\n");
    snprintf(path, sizeof path, "%s/.aws/config", home);
    write_file(path, "[default]\naws_access_key_id = AKIDCONFIG\n");
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_ERR_INVALID_ARGUMENT && !c.broken,
          "a key in one file and a secret in the other are no keys: %s %s", c.access_key_id, c.error);
    /* AWS_PROFILE set but empty names the profile "" (as botocore reads it) */
    setenv("AWS_PROFILE", "", 1);
    CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_ERR_INVALID_ARGUMENT && c.broken &&
              strstr(c.error, "profile () could not be found"),
          "AWS_PROFILE empty: %s", c.error);
    unsetenv("AWS_PROFILE");
    /* no HOME (a cron job, a service): the password database's home
     * directory, never the working directory's .aws */
    {
        char here[1024], cwd_aws[200];
        snprintf(cwd_aws, sizeof cwd_aws, "%s/cwd", home);
        mkdir(cwd_aws, 0700);
        snprintf(cwd_aws, sizeof cwd_aws, "%s/cwd/.aws", home);
        mkdir(cwd_aws, 0700);
        snprintf(path, sizeof path, "%s/credentials", cwd_aws);
        write_file(path, "[default]\naws_access_key_id = AKIDFROMCWD\naws_secret_access_key = cwd\n");
        snprintf(cwd_aws, sizeof cwd_aws, "%s/cwd", home);
        if (getcwd(here, sizeof here) && chdir(cwd_aws) == 0) {
            unsetenv("HOME");
            (void)kinagg_aws_config_load(&c, NULL);
            CHECK(strcmp(c.access_key_id, "AKIDFROMCWD") != 0 && !strstr(c.error, "./.aws"),
                  "no HOME: not the working directory's keys: %s %s", c.access_key_id, c.error);
            CHECK(chdir(here) == 0, "back to %s", here);
        }
    }
    clear_env();
    setenv("HOME", home, 1);

    /* FIPS and dual-stack endpoints, as botocore 1.43 resolves them (region,
     * fips, dual-stack: host, signing region; "" where it refuses) */
    {
        static const char *const cases[][5] = {
            {"us-east-1", "0", "1", "kinesis.us-east-1.api.aws", "us-east-1"},
            {"us-east-1", "1", "0", "kinesis-fips.us-east-1.amazonaws.com", "us-east-1"},
            {"us-east-1", "1", "1", "kinesis-fips.us-east-1.api.aws", "us-east-1"},
            {"cn-north-1", "0", "1", "kinesis.cn-north-1.api.amazonwebservices.com.cn", "cn-north-1"},
            {"cn-north-1", "1", "0", "kinesis-fips.cn-north-1.amazonaws.com.cn", "cn-north-1"},
            {"us-gov-west-1", "1", "0", "kinesis.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
            {"us-gov-west-1", "1", "1", "kinesis-fips.us-gov-west-1.api.aws", "us-gov-west-1"},
            {"us-iso-east-1", "1", "0", "kinesis-fips.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
            {"us-isob-east-1", "0", "1", "kinesis.us-isob-east-1.api.aws", "us-isob-east-1"},
            {"eusc-de-east-1", "0", "1", "kinesis.eusc-de-east-1.api.amazonwebservices.eu", "eusc-de-east-1"},
            {"eu-isoe-west-1", "0", "1", "", ""},
            {"us-isof-south-1", "1", "1", "", ""},
            {"us-east-1-fips", "0", "0", "kinesis-fips.us-east-1.amazonaws.com", "us-east-1"},
            {"fips-us-east-1", "0", "1", "kinesis-fips.us-east-1.api.aws", "us-east-1"},
            {"ap-southeast-7", "0", "0", "kinesis.ap-southeast-7.amazonaws.com", "ap-southeast-7"}};
        size_t i;
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            kinagg_endpoint ep;
            char signing[64] = "";
            kinagg_status st;
            memset(&c, 0, sizeof c);
            c.use_fips = cases[i][1][0] == '1';
            c.use_dualstack = cases[i][2][0] == '1';
            st = kinagg_aws_config_endpoint(&c, cases[i][0], &ep, signing);
            CHECK(cases[i][3][0] ? st == KINAGG_OK && !strcmp(ep.host, cases[i][3]) && !strcmp(signing, cases[i][4])
                                 : st == KINAGG_ERR_ENDPOINT,
                  "endpoint of %s fips %s dual-stack %s: %s %s", cases[i][0], cases[i][1], cases[i][2],
                  st == KINAGG_OK ? ep.host : kinagg_strerror(st), signing);
        }
        /* the settings: the environment over the profile */
        snprintf(path, sizeof path, "%s/.aws/config", home);
        write_file(path, "[default]\nregion = us-east-1\nuse_fips_endpoint = true\nuse_dualstack_endpoint = TRUE\n");
        (void)kinagg_aws_config_load(&c, NULL);
        CHECK(c.use_fips && c.use_dualstack, "the profile's use_fips_endpoint and use_dualstack_endpoint");
        setenv("AWS_USE_FIPS_ENDPOINT", "false", 1);
        (void)kinagg_aws_config_load(&c, NULL);
        CHECK(!c.use_fips && c.use_dualstack, "AWS_USE_FIPS_ENDPOINT=false over the profile");
        setenv("AWS_USE_DUALSTACK_ENDPOINT", "", 1); /* set but empty: false, as botocore reads it */
        (void)kinagg_aws_config_load(&c, NULL);
        CHECK(!c.use_dualstack, "AWS_USE_DUALSTACK_ENDPOINT= (empty) over the profile");
    }
    clear_env();
    setenv("HOME", home, 1);
    { /* configparser's [DEFAULT]: its settings are those of every section
       * there is, under the section's own (botocore 1.43's answers) */
        snprintf(path, sizeof path, "%s/.aws/credentials", home);
        write_file(path, "[DEFAULT]\naws_access_key_id = AKIDDEF\naws_secret_access_key = secretdef\n"
                         "[dev]\naws_secret_access_key = secretdev\n");
        snprintf(path, sizeof path, "%s/.aws/config", home);
        write_file(path, "[DEFAULT]\nregion = eu-west-3\n[profile dev]\nregion = us-east-2\n[profile foo]\noutput = json\n"
                         "[default]\noutput = text\n");
        CHECK(kinagg_aws_config_load(&c, "dev") == KINAGG_OK && !strcmp(c.access_key_id, "AKIDDEF") &&
                  !strcmp(c.secret_access_key, "secretdev") && !strcmp(c.region, "us-east-2"),
              "[DEFAULT] under [dev]: %s %s %s %s", c.access_key_id, c.secret_access_key, c.region, c.error);
        CHECK(kinagg_aws_config_load(&c, "foo") == KINAGG_ERR_INVALID_ARGUMENT && !c.broken && !c.access_key_id[0] &&
                  !strcmp(c.region, "eu-west-3"),
              "[DEFAULT] only for sections there are (no [foo] in the credentials file): %s %s %s", c.access_key_id,
              c.region, c.error);
        CHECK(kinagg_aws_config_load(&c, NULL) == KINAGG_ERR_INVALID_ARGUMENT && !strcmp(c.region, "eu-west-3"),
              "[DEFAULT] under [default]: %s %s", c.region, c.error);
        CHECK(kinagg_aws_config_load(&c, "DEFAULT") == KINAGG_ERR_INVALID_ARGUMENT && c.broken &&
                  strstr(c.error, "(DEFAULT) could not be found"),
              "[DEFAULT] is no profile: %s", c.error);
        /* a key the section sets, even to nothing, is the section's */
        write_file(path, "[DEFAULT]\nregion = eu-west-1\n[profile dev]\nregion =\n");
        (void)kinagg_aws_config_load(&c, "dev");
        CHECK(!c.broken && !c.region[0], "region = (empty) over [DEFAULT]'s: %s %s", c.region, c.error);
        /* [DEFAULT] twice with one key: configparser's DuplicateOptionError */
        write_file(path, "[DEFAULT]\nregion = eu-west-1\n[profile dev]\noutput = json\n[DEFAULT]\nregion = eu-west-2\n");
        CHECK(kinagg_aws_config_load(&c, "dev") == KINAGG_ERR_INVALID_ARGUMENT && c.broken &&
                  strstr(c.error, "appears twice"),
              "a key twice in [DEFAULT]s: %s", c.error);
        /* [DEFAULT]'s kinesis endpoint is every [services NAME]'s */
        write_file(path, "[DEFAULT]\nkinesis =\n  endpoint_url = http://127.0.0.1:4599\n[profile dev]\nservices = loc\n"
                         "region = us-east-1\n[services loc]\ns3 =\n  endpoint_url = http://x:1\n");
        (void)kinagg_aws_config_load(&c, "dev");
        CHECK(!strcmp(c.endpoint_url, "http://127.0.0.1:4599"), "[DEFAULT]'s kinesis endpoint_url: %s %s",
              c.endpoint_url, c.error);
    }
    clear_env();
    return check_summary("aws-config");
}
