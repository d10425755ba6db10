/* Machine context switch, one assembly file per ABI:
 *   arch/switch_amd64_sysv.S  (x86-64 System V: rbx rbp r12-r15, mxcsr, x87 cw)
 *   arch/switch_amd64_win.S   (x86-64 Windows: also rsi rdi xmm6-xmm15, and the
 *                              TEB's StackBase, StackLimit, DeallocationStack,
 *                              exception list and GuaranteedStackBytes)
 * and the matching corio__ctx_make in ctx_unix.c / ctx_windows.c.
 * Sanitizer annotations are done by the caller (switch.c), not here. */
#ifndef CORIO_SCHED_CTX_H
#define CORIO_SCHED_CTX_H

typedef struct corio__ctx {
  void *sp; /* saved stack pointer; everything else lives on that stack */
} corio__ctx_t;

/* Nonzero: switch MXCSR and the x87 control word with the context. Set at
 * corio_init from corio_config_t.fp_env_per_coroutine, while no coroutine
 * exists (a context saved without them must not be resumed with them). */
extern unsigned char corio__ctx_fp_env;

/* The first code a context runs: arg as given to corio__ctx_make, pass as
 * given to the corio__ctx_switch that started it. */
typedef void (*corio__ctx_entry_t)(void *arg, void *pass);

/* Prepare ctx so that the first corio__ctx_switch to it calls entry(arg, pass)
 * on the stack [lo, hi) (hi is the high end; 16-byte aligned). entry never
 * returns. */
void corio__ctx_make(corio__ctx_t *ctx, void *lo, void *hi, corio__ctx_entry_t entry, void *arg);

/* Save the callee-saved state on the current stack, store sp in from->sp, load
 * to->sp and restore. Returns when something switches back to from, with the
 * pass value that switch gave. */
void *corio__ctx_switch(corio__ctx_t *from, corio__ctx_t *to, void *pass);

#endif
