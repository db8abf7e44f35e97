/* The board under the firmware tests: QEMU's mps2-an386 (Cortex-M4 with
 * FPU, CMSDK APB UARTs, 25 MHz). Start-up, a millisecond clock from
 * SysTick, semihosting (console, command line, exit code) and a small
 * text formatter, with no heap and no stdio. */
#ifndef FW_BOARD_H
#define FW_BOARD_H
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#define FW_CPU_HZ 25000000u

/* CMSDK APB UART (ARM DDI 0479): a one-byte buffer each way. */
typedef struct fw_uart_regs {
    volatile uint32_t data;
    volatile uint32_t state;    /* bit 0 TX full, bit 1 RX full */
    volatile uint32_t ctrl;     /* bit 0 TX enable, bit 1 RX enable, bit 3 RX interrupt */
    volatile uint32_t intstatus;/* write 1 to clear */
    volatile uint32_t bauddiv;
} fw_uart_regs;
#define FW_UART0 ((fw_uart_regs *)0x40004000u)
#define FW_UART_TXFULL 1u
#define FW_UART_RXFULL 2u
#define FW_UART0_RX_IRQ 0  /* combined UART0 RX interrupt, NVIC line 0 */

/* The application's main, called by the reset handler; its return value
 * is the exit code given to the host by semihosting. */
int fw_main(int argc, char **argv);

/* Milliseconds since reset. */
uint64_t fw_now_ms(void);
/* Sleeps until the next interrupt (SysTick once a millisecond, or UART). */
void fw_idle(void);
void fw_irq_enable(unsigned line);
/* UART0's receive interrupt handler (a weak default clears it). */
void fw_uart0_rx_irq(void);

/* Semihosting. */
void fw_write(const char *s, size_t len);   /* to the host's console */
__attribute__((noreturn)) void fw_exit(int code);

/* printf-like: %s %.*s %c %d %u %lu %llu %zu %x %%, with a width for
 * numbers (%8zu); no floating point. */
size_t fw_vformat(char *out, size_t cap, const char *fmt, va_list ap);
size_t fw_format(char *out, size_t cap, const char *fmt, ...);
void fw_printf(const char *fmt, ...);

/* RAM as laid out by mps2.ld: the sizes of .data, .bss and the stack, and
 * the stack's high-water mark (bytes ever used, from the paint at reset). */
typedef struct fw_ram {
    size_t total, data, bss, stack, stack_used, free;
} fw_ram;
void fw_ram_usage(fw_ram *r);

#endif
