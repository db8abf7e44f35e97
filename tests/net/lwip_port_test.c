/* The lwIP port on its own: it compiles with kinagg.h as the only other
 * include (Debian's lwIP headers set LWIP_SOCKET_EXTERNAL_HEADERS, with
 * which lwip/sockets.h does not bring ip_addr_t), and its now_ms widens
 * lwIP's 32-bit sys_now() right: across a wrap, and when tasks share it
 * (one preempted after reading sys_now() returns an older tick than
 * another task's last: no wrap, no step back). sys_now() is this file's.
 *   lwip_port_test */
#define _POSIX_C_SOURCE 200809L /* (Debian's unix port of lwIP needs POSIX types) */
#include <limits.h> /* before lwIP: its arch.h defines ssize_t otherwise */
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#define KINAGG_LWIP_IMPLEMENTATION
#include "../../port/kinagg_lwip.h"
#include "../check.h"

static uint32_t tick;
static int preempt;
static uint32_t preempt_step = 1;
static kinagg_platform pf;
static uint64_t other_task_saw;

u32_t sys_now(void) {
    uint32_t mine = tick; /* this task reads the tick ... */
    if (preempt) {        /* ... and is preempted: another task runs 1 ms later */
        preempt = 0;
        tick += preempt_step;
        other_task_saw = pf.now_ms(pf.ctx);
    }
    return mine;
}
static uint64_t wall(void *ctx) { (void)ctx; return 0; }

/* The tick moved to `to` as a poll loop sees it: calls less than 2^31 ms
 * (24.8 days) apart. */
static void climb_to(uint32_t to) {
    tick = 0x70000000u;
    (void)pf.now_ms(pf.ctx);
    tick = 0xe0000000u;
    (void)pf.now_ms(pf.ctx);
    tick = to;
}

int main(void) {
    uint64_t a, b, c;
    kinagg_lwip_platform(&pf, wall, NULL);
    tick = 1000;
    a = pf.now_ms(pf.ctx);
    preempt = 1;
    b = pf.now_ms(pf.ctx); /* read 1000, after the other task read 1001 */
    tick++;
    c = pf.now_ms(pf.ctx);
    CHECK(a == 1000 && other_task_saw == 1001 && b == 1001 && c == 1002,
          "two tasks: %llu, the other %llu, then %llu and %llu (expected 1000, 1001, 1001, 1002)",
          (unsigned long long)a, (unsigned long long)other_task_saw, (unsigned long long)b, (unsigned long long)c);
    /* a real wrap of the 32-bit tick, 49.7 days after boot (polled
     * along the way: calls come less than 24.8 days apart) */
    climb_to(0xfffffff0u);
    a = pf.now_ms(pf.ctx);
    tick = 0x10;
    b = pf.now_ms(pf.ctx);
    CHECK(b - a == 0x20, "across the wrap: %llu then %llu", (unsigned long long)a, (unsigned long long)b);
    /* a task that read the tick just before the next wrap and was
     * preempted, back after another task saw the wrap */
    climb_to(0xfffffffeu);
    a = pf.now_ms(pf.ctx);
    preempt = 1;
    preempt_step = 4; /* the other task reads 2 */
    b = pf.now_ms(pf.ctx);
    tick++;
    c = pf.now_ms(pf.ctx);
    CHECK(other_task_saw - a == 4 && b == other_task_saw && c - a == 5,
          "a task preempted at the wrap: %llu, the other +%llu, then +%llu and +%llu (expected +4, +4, +5)",
          (unsigned long long)a, (unsigned long long)(other_task_saw - a), (unsigned long long)(b - a),
          (unsigned long long)(c - a));
    return check_summary("lwip-port");
}
