/* The lwIP port as a firmware compiles it (make size: Cortex-M4). */
#include "lwip/opt.h"
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#define KINAGG_LWIP_IMPLEMENTATION
#include "../../port/kinagg_lwip.h"
