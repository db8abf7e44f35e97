/* Compiler and platform glue for lwIP on Cortex-M4 with newlib. */
#ifndef KINAGG_TEST_LWIP_CC_H
#define KINAGG_TEST_LWIP_CC_H
#include <stdint.h>
#include <stdlib.h>
#define LWIP_PLATFORM_DIAG(x) do { } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { abort(); } while (0)
#define BYTE_ORDER LITTLE_ENDIAN
#define LWIP_RAND() ((uint32_t)rand())
#endif
