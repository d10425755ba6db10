/* Coroutine stacks: guarded (a PROT_NONE page below each, two kernel mappings)
 * or unguarded (carved from large reservations, no extra mapping). Stacks never
 * move: a parked coroutine's stack may hold a buffer the kernel writes to. */
#ifndef CORIO_SCHED_STACK_H
#define CORIO_SCHED_STACK_H

#include <stddef.h>
#include <stdint.h>

typedef struct corio__stack {
  void *lo;    /* usable range [lo, hi) */
  void *hi;
  void *map;   /* what to release: NULL for a slot of an unguarded chunk */
  size_t maplen;
  size_t size; /* usable size */
  unsigned vg_id; /* valgrind's name for the stack (vg.h) */
} corio__stack_t;

/* 0 or CORIO_ENOMEM / CORIO_EMAPLIMIT. */
int corio__stack_alloc(corio__stack_t *s, size_t size, int policy);
void corio__stack_free(corio__stack_t *s);
/* Release every unguarded chunk (shutdown, after all stacks are freed). */
void corio__stack_fini(void);
/* As fini, but the mappings stay (a blocked system call of an abandoned
 * coroutine still uses a stack in them); only the records go. */
void corio__stack_forget(void);

#endif
