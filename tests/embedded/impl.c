/* The implementation alone, as a firmware build compiles it: for the
 * Cortex-M4 size and stack report (make size) and the cross-compile check. */
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
