/* What the Windows halves of the scheduler share about coroutine stacks
 * (os_windows.c commits them, ctx_windows.c describes them in the TEB). */
#ifndef CORIO_SCHED_OS_WINDOWS_H
#define CORIO_SCHED_OS_WINDOWS_H

#include <stdint.h>

/* Pages committed at the top of a fresh stack by corio__os_commit_stack, with
 * one PAGE_GUARD page below them; the rest is committed as the coroutine grows
 * into it. Two pages hold corio__ctx_start's frame and the first calls. */
#define CORIO__OS_STACK_COMMIT_PAGES 2

/* The StackLimit (lowest committed byte) of a stack [lo, hi) committed by
 * corio__os_commit_stack. A stack carved from a chunk is committed in full,
 * and one reused may have more committed below: a limit above the committed
 * bottom is harmless (the system only moves it down, at the guard page). */
uintptr_t corio__os_stack_limit(uintptr_t lo, uintptr_t hi);

#endif
