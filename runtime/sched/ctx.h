/* Machine context switch, one assembly file per ABI:
 *   arch/switch_amd64_sysv.S  (x86-64 System V: rbx rbp r12-r15, mxcsr, x87 cw)
 *   arch/switch_amd64_win.S   (x86-64 Windows: also rsi rdi xmm6-xmm15, and the
 *                              TEB's StackBase, StackLimit, DeallocationStack)
 * and the matching corio__ctx_make in ctx_unix.c / ctx_windows.c.
 * Sanitizer annotations are done by the caller (switch.c), not here. */
#ifndef CORIO_SCHED_CTX_H
#define CORIO_SCHED_CTX_H

typedef struct corio__ctx {
  void *sp; /* saved stack pointer; everything else lives on that stack */
} corio__ctx_t;

/* Prepare ctx so that the first corio__ctx_switch to it calls entry(arg) on the
 * stack [lo, hi) (hi is the high end; 16-byte aligned). entry never returns. */
void corio__ctx_make(corio__ctx_t *ctx, void *lo, void *hi, void (*entry)(void *), void *arg);

/* Save the callee-saved state on the current stack, store sp in from->sp, load
 * to->sp and restore. Returns when something switches back to from. */
void corio__ctx_switch(corio__ctx_t *from, corio__ctx_t *to);

#endif
