/* Initial frame for arch/switch_amd64_sysv.S (layout described there). */
#include "ctx.h"

#include <stdint.h>

void corio__ctx_trampoline(void);

void corio__ctx_make(corio__ctx_t *ctx, void *lo, void *hi, corio__ctx_entry_t entry, void *arg) {
  (void)lo;
  uintptr_t top = (uintptr_t)hi & ~(uintptr_t)15;
  /* The return slot sits at top-24 so that rsp is 16-byte aligned after the
   * ret into the trampoline, as the ABI wants before its call. */
  uint64_t *sp = (uint64_t *)(top - 80);
  sp[0] = 0x1F80 | ((uint64_t)0x037F << 32); /* default MXCSR, x87 control word */
  sp[1] = 0;                                 /* r15 */
  sp[2] = 0;                                 /* r14 */
  sp[3] = (uint64_t)(uintptr_t)entry;        /* r13 */
  sp[4] = (uint64_t)(uintptr_t)arg;          /* r12 */
  sp[5] = 0;                                 /* rbx */
  sp[6] = 0;                                 /* rbp */
  sp[7] = (uint64_t)(uintptr_t)corio__ctx_trampoline;
  sp[8] = 0; /* a zero "return address" above the trampoline ends backtraces */
  ctx->sp = sp;
}
