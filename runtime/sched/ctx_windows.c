/* Initial frame for arch/switch_amd64_win.S (layout described there), and the
 * TEB stack fields a coroutine's stack is described by.
 *
 * A Windows thread stack is a reservation whose top part is committed, with a
 * PAGE_GUARD page right below the committed part and more reserved pages below
 * that. The TEB names the three boundaries: StackBase (top), StackLimit (lowest
 * committed byte) and DeallocationStack (bottom of the reservation). When code
 * touches the guard page the system commits further down, or, when too little
 * reserve is left, raises STATUS_STACK_OVERFLOW on the same stack while a few
 * pages are still free for the exception dispatch and its handlers.
 *
 * A coroutine stack is shaped the same way, so that it grows on demand and
 * its overflow is reported like a thread's: corio__os_commit_stack
 * (os_windows.c) commits only its top pages, with a PAGE_GUARD page below;
 * corio__os_reserve leaves spare reserved pages below every reservation; and
 * corio__ctx_make points StackLimit at the committed bottom and
 * DeallocationStack at the bottom of the reservation (the allocator's guard
 * page and the spare pages included), so the system grows the stack through
 * its guard page down to there. Without the spare pages there would be no
 * room to dispatch the overflow exception (Wine then silently ends the
 * thread). A stack carved from a shared reservation next to a neighbour has
 * DeallocationStack at its own bottom. */
#include "ctx.h"
#include "os.h"
#include "os_windows.h"

#include <stdint.h>
#include <windows.h>

void corio__ctx_start(void);
EXCEPTION_DISPOSITION corio__ctx_unhandled(EXCEPTION_RECORD *rec, void *frame, CONTEXT *ctx,
                                          void *dispatch);

/* The most DeallocationStack may lie below lo: the allocator's guard page and
 * the spare pages os_windows.c reserves under it, with room to spare. */
#define MAX_GUARD_SPAN ((uintptr_t)64 * 1024)

/* The bottom of the inaccessible pages right below lo that belong to the same
 * reservation as lo, or lo itself when lo - 1 is ordinary memory (a stack
 * carved from a shared reservation, next to its neighbour's top). */
static uintptr_t guard_bottom(uintptr_t lo) {
  MEMORY_BASIC_INFORMATION here, below;
  if (!VirtualQuery((void *)lo, &here, sizeof here)) return lo;
  if (!VirtualQuery((void *)(lo - 1), &below, sizeof below)) return lo;
  if (below.AllocationBase != here.AllocationBase) return lo;
  if (below.State != MEM_RESERVE &&
      !(below.State == MEM_COMMIT && (below.Protect & (PAGE_GUARD | PAGE_NOACCESS))))
    return lo;
  uintptr_t bottom = (uintptr_t)here.AllocationBase;
  return lo - bottom > MAX_GUARD_SPAN ? lo - MAX_GUARD_SPAN : bottom;
}

/* corio__ctx_make runs at every spawn, mostly on reused stacks, and
 * guard_bottom costs two system calls: its answer is kept in the stack's top
 * word, which nothing writes while the stack is in use (it lies above
 * corio__ctx_start's return slot). The tag in the high 16 bits, never set in a
 * user-space address, tells it from the zeros of a fresh stack and from the
 * free-list link the stack allocator may have left there. */
#define CACHE_TAG ((uint64_t)0xC0C0 << 48)
#define CACHE_VALUE_MASK (((uint64_t)1 << 48) - 1)

static uintptr_t deallocation_stack(uintptr_t lo, uintptr_t top) {
  uint64_t cached = *(uint64_t *)(top - 8);
  if ((cached & ~CACHE_VALUE_MASK) == CACHE_TAG && (cached & CACHE_VALUE_MASK) <= MAX_GUARD_SPAN)
    return lo - (uintptr_t)(cached & CACHE_VALUE_MASK);
  return guard_bottom(lo);
}

void corio__ctx_make(corio__ctx_t *ctx, void *lo, void *hi, corio__ctx_entry_t entry, void *arg) {
  uintptr_t top = (uintptr_t)hi & ~(uintptr_t)15;
  uintptr_t dealloc = deallocation_stack((uintptr_t)lo, top);
  /* The return slot sits at top-24, so rsp is 16-byte aligned after the ret
   * into corio__ctx_start, as its unwind data assumes; the slot above holds
   * the zero "return address" that ends a stack walk. */
  uint64_t *sp = (uint64_t *)(top - 304);
  for (int i = 0; i < 20; i++) sp[i] = 0;              /* xmm6 .. xmm15 */
  sp[20] = 0x1F80 | ((uint64_t)0x027F << 32);          /* default MXCSR, x87 cw */
  sp[21] = (uint64_t)top;                              /* StackBase */
  sp[22] = (uint64_t)corio__os_stack_limit((uintptr_t)lo, (uintptr_t)hi); /* StackLimit */
  sp[23] = (uint64_t)dealloc;                          /* DeallocationStack */
  sp[24] = UINT64_MAX;                                 /* ExceptionList: empty (-1) */
  sp[25] = 0;                                          /* GuaranteedStackBytes: none */
  sp[26] = 0;                                          /* unused */
  sp[27] = 0;                                          /* r15 */
  sp[28] = 0;                                          /* r14 */
  sp[29] = (uint64_t)(uintptr_t)arg;                   /* r13 */
  sp[30] = (uint64_t)(uintptr_t)entry;                 /* r12 */
  sp[31] = 0;                                          /* rsi */
  sp[32] = 0;                                          /* rdi */
  sp[33] = 0;                                          /* rbx */
  sp[34] = 0;                                          /* rbp */
  sp[35] = (uint64_t)(uintptr_t)corio__ctx_start;      /* return address */
  sp[36] = 0;                                          /* corio__ctx_start's "return address" */
  sp[37] = CACHE_TAG | ((uintptr_t)lo - dealloc);      /* see deallocation_stack */
  ctx->sp = sp;
}

/* The exception handler of corio__ctx_start's frame: an exception that no
 * frame of the coroutine handled. Like RtlUserThreadStart's filter, ask
 * UnhandledExceptionFilter (which runs the top-level filter the embedder
 * installed, or Windows Error Reporting) and end the process with the
 * exception code unless it says to continue. With a debugger attached the
 * filter answers "search on" so that the debugger gets its second chance:
 * then the search goes on past this frame, the last one (the zero return
 * address above it ends the walk), the dispatch finds no handler and the
 * system reports the exception to the debugger a second time, as it does for
 * a thread's. */
EXCEPTION_DISPOSITION corio__ctx_unhandled(EXCEPTION_RECORD *rec, void *frame, CONTEXT *ctx,
                                          void *dispatch) {
  (void)frame;
  (void)dispatch;
  if (rec->ExceptionFlags & (EXCEPTION_UNWINDING | EXCEPTION_EXIT_UNWIND))
    return ExceptionContinueSearch;
  EXCEPTION_POINTERS ptrs = {rec, ctx};
  LONG r = UnhandledExceptionFilter(&ptrs);
  if (r == EXCEPTION_CONTINUE_EXECUTION)
    return ExceptionContinueExecution;
  if (r == EXCEPTION_CONTINUE_SEARCH && IsDebuggerPresent())
    return ExceptionContinueSearch; /* the debugger's second chance */
  TerminateProcess(GetCurrentProcess(), rec->ExceptionCode);
  return ExceptionContinueSearch; /* not reached */
}
