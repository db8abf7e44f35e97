/* Start-up and services of the mps2-an386 board for the firmware tests
 * (see board.h). */
#include "board.h"
#include <string.h>

extern uint32_t __stack_limit[], __stack_top[], __data_start[], __data_end[], __data_load[], __bss_start[],
    __bss_end[], __ram_start[], __ram_end[];

#define FW_PAINT 0xA5A5A5A5u

/* ---- semihosting: BKPT 0xAB with the operation in r0, its argument in r1 */
enum { SYS_OPEN = 0x01, SYS_WRITE = 0x05, SYS_GET_CMDLINE = 0x15, SYS_EXIT_EXTENDED = 0x20 };

static uintptr_t fw_semihost(uintptr_t op, const void *arg) {
    register uintptr_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static uintptr_t fw_console, fw_console_open; /* zero-initialised: no .data */

void fw_write(const char *s, size_t len) {
    uintptr_t a[3];
    if (!fw_console_open) { /* ":tt" opened for writing is the host's stdout */
        a[0] = (uintptr_t)":tt";
        a[1] = 4;
        a[2] = 3;
        fw_console = fw_semihost(SYS_OPEN, a);
        fw_console_open = 1;
    }
    a[0] = fw_console;
    a[1] = (uintptr_t)s;
    a[2] = len;
    if (len) fw_semihost(SYS_WRITE, a);
}

void fw_exit(int code) {
    uintptr_t a[2];
    a[0] = 0x20026; /* ADP_Stopped_ApplicationExit */
    a[1] = (uintptr_t)code;
    for (;;) fw_semihost(SYS_EXIT_EXTENDED, a);
}

/* ---- a small formatter -------------------------------------------------- */
typedef struct fw_sink {
    char *out;
    size_t cap, len;
} fw_sink;

static void fw_put(fw_sink *s, char c) {
    if (s->len + 1 < s->cap) s->out[s->len] = c;
    s->len++;
}

static void fw_put_u(fw_sink *s, unsigned long long v, unsigned base, int neg, int width) {
    char d[24];
    int n = 0;
    do {
        d[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg) d[n++] = '-';
    while (width-- > n) fw_put(s, ' ');
    while (n) fw_put(s, d[--n]);
}

size_t fw_vformat(char *out, size_t cap, const char *f, va_list ap) {
    fw_sink s;
    s.out = out;
    s.cap = cap;
    s.len = 0;
    for (; *f; f++) {
        int lng = 0, prec = -1, width = 0;
        if (*f != '%') {
            fw_put(&s, *f);
            continue;
        }
        f++;
        while (*f >= '0' && *f <= '9') width = width * 10 + (*f++ - '0');
        if (*f == '.' && f[1] == '*') {
            prec = va_arg(ap, int);
            f += 2;
        }
        while (*f == 'l' || *f == 'z') lng += *f++ == 'l' ? 1 : 3;
        switch (*f) {
        case 's': {
            const char *p = va_arg(ap, const char *);
            int i;
            if (!p) p = "(null)";
            for (i = 0; p[i] && (prec < 0 || i < prec); i++) fw_put(&s, p[i]);
            break;
        }
        case 'c': fw_put(&s, (char)va_arg(ap, int)); break;
        case 'd': {
            long long v = lng >= 2 ? va_arg(ap, long long) : lng == 1 ? va_arg(ap, long) : va_arg(ap, int);
            fw_put_u(&s, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v, 10, v < 0, width);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long long v = lng == 2 ? va_arg(ap, unsigned long long)
                                   : lng == 1 ? va_arg(ap, unsigned long)
                                   : lng == 3 ? va_arg(ap, size_t)
                                              : va_arg(ap, unsigned);
            fw_put_u(&s, v, *f == 'x' ? 16 : 10, 0, width);
            break;
        }
        case '%': fw_put(&s, '%'); break;
        default: fw_put(&s, '?'); break;
        }
    }
    if (cap) out[s.len < cap ? s.len : cap - 1] = '\0';
    return s.len;
}

size_t fw_format(char *out, size_t cap, const char *fmt, ...) {
    va_list ap;
    size_t n;
    va_start(ap, fmt);
    n = fw_vformat(out, cap, fmt, ap);
    va_end(ap);
    return n;
}

void fw_printf(const char *fmt, ...) {
    char line[256];
    va_list ap;
    size_t n;
    va_start(ap, fmt);
    n = fw_vformat(line, sizeof line, fmt, ap);
    va_end(ap);
    fw_write(line, n < sizeof line ? n : sizeof line - 1);
}

/* ---- the clock --------------------------------------------------------- */
/* Time comes from the FPGA's free-running counter (AN386 FPGAIO COUNTER,
 * counted from the 25 MHz clock through PRESCALE), which QEMU derives from
 * its virtual clock: SysTick interrupts are dropped when the host is busy,
 * so counting them runs slow. SysTick only wakes the CPU from WFI once a
 * millisecond. */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define FPGA_COUNTER (*(volatile uint32_t *)0x40028018u)
#define FPGA_PRESCALE (*(volatile uint32_t *)0x4002801Cu)

static uint32_t fw_count_last, fw_count_wraps; /* the 32-bit counter, extended */

uint64_t fw_now_ms(void) {
    uint32_t c = FPGA_COUNTER;
    if (c < fw_count_last) fw_count_wraps++; /* called far more often than every 49 days */
    fw_count_last = c;
    return ((uint64_t)fw_count_wraps << 32) | c;
}

static void fw_systick(void) {}

void fw_idle(void) { __asm__ volatile("dsb\n\twfi" ::: "memory"); }

void fw_irq_enable(unsigned line) { NVIC_ISER0 = 1u << line; }

/* UART0's receive interrupt: the transport that uses the UART defines it */
__attribute__((weak)) void fw_uart0_rx_irq(void) { FW_UART0->intstatus = 2u; }

/* ---- faults: say where, and end the run (with a small frame: it may come
 * at the deepest point of the stack) ---------------------------------------- */
static void fw_fault(void) {
    char hex[9];
    uint32_t v = SCB_CFSR;
    int i;
    for (i = 7; i >= 0; i--, v >>= 4) hex[i] = "0123456789abcdef"[v & 15];
    hex[8] = '\n';
    fw_write("firmware: fault, CFSR ", 22);
    fw_write(hex, 9);
    fw_write("firmware: 0 passed, 1 failed\n", 29);
    fw_exit(3);
}

/* ---- RAM ---------------------------------------------------------------- */
void fw_ram_usage(fw_ram *r) {
    const uint32_t *w = __stack_limit;
    while (w < __stack_top && *w == FW_PAINT) w++;
    r->total = (size_t)((char *)__ram_end - (char *)__ram_start);
    r->data = (size_t)((char *)__data_end - (char *)__data_start);
    r->bss = (size_t)((char *)__bss_end - (char *)__bss_start);
    r->stack = (size_t)((char *)__stack_top - (char *)__stack_limit);
    r->stack_used = (size_t)((char *)__stack_top - (char *)w);
    r->free = (size_t)((char *)__ram_end - (char *)__bss_end);
}

/* ---- reset -------------------------------------------------------------- */
static int fw_get_cmdline(char *buf, size_t cap) {
    uintptr_t a[2];
    a[0] = (uintptr_t)buf;
    a[1] = cap;
    return fw_semihost(SYS_GET_CMDLINE, a) == 0 ? 0 : -1;
}

__attribute__((noreturn)) void fw_reset(void);

static char fw_cmdline[160];

void fw_reset(void) {
    char *argv[8];
    int argc = 0;
    char *c;
    uint32_t *w;
    /* paint the stack below this frame, to find its high-water mark later */
    __asm__ volatile("mov %0, sp" : "=r"(w));
    for (w -= 16; w >= __stack_limit; w--) *w = FW_PAINT;
    memcpy(__data_start, __data_load, (size_t)((char *)__data_end - (char *)__data_start));
    memset(__bss_start, 0, (size_t)((char *)__bss_end - (char *)__bss_start));
    SCB_CPACR |= 0xFu << 20; /* the FPU (CP10, CP11): the code is built for it */
    __asm__ volatile("dsb\n\tisb");
    FPGA_PRESCALE = FW_CPU_HZ / 1000u - 1u; /* COUNTER counts milliseconds */
    SYST_RVR = FW_CPU_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7; /* core clock, interrupt, enable */
    if (fw_get_cmdline(fw_cmdline, sizeof fw_cmdline) == 0) {
        for (c = fw_cmdline; *c && argc < 8;) {
            while (*c == ' ') *c++ = '\0';
            if (!*c) break;
            argv[argc++] = c;
            while (*c && *c != ' ') c++;
        }
    }
    fw_exit(fw_main(argc, argv));
}

/* The vector table: initial stack pointer, reset, faults, SysTick, and
 * the external interrupts up to UART0's receive line. */
typedef void (*fw_vector)(void);
__attribute__((section(".vectors"), used)) static const fw_vector fw_vectors[16 + 1] = {
    (fw_vector)(uintptr_t)__stack_top,
    fw_reset,
    fw_fault, /* NMI */
    fw_fault, /* HardFault */
    fw_fault, /* MemManage */
    fw_fault, /* BusFault */
    fw_fault, /* UsageFault */
    0, 0, 0, 0,
    fw_fault, /* SVCall */
    fw_fault, /* DebugMonitor */
    0,
    fw_fault, /* PendSV */
    fw_systick,
    fw_uart0_rx_irq, /* IRQ 0: UART0 RX */
};
