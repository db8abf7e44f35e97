/* port/kinagg_aws_config.h as the first include of a file built with plain
 * -std=c99: it must ask for the POSIX it uses itself (make warnings). */
#define KINAGG_IMPLEMENTATION
#define KINAGG_AWS_CONFIG_IMPLEMENTATION
#include "../../port/kinagg_aws_config.h"

int main(void) {
    static kinagg_aws_config c;
    return kinagg_aws_config_load(&c, NULL) == KINAGG_OK ? 0 : 1;
}
