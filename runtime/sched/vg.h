/* Valgrind needs to be told where coroutine stacks are, or it takes every
 * switch for a huge stack-pointer move and reports nonsense. The client
 * requests cost a few instructions outside valgrind; builds without its header
 * get empty functions. */
#ifndef CORIO_SCHED_VG_H
#define CORIO_SCHED_VG_H

#ifdef CORIO_HAVE_VALGRIND
#include <valgrind/valgrind.h>
static inline unsigned corio__vg_stack_register(void *lo, void *hi) {
  return VALGRIND_STACK_REGISTER(lo, hi);
}
static inline void corio__vg_stack_deregister(unsigned id) { VALGRIND_STACK_DEREGISTER(id); }
#else
static inline unsigned corio__vg_stack_register(void *lo, void *hi) {
  (void)lo;
  (void)hi;
  return 0;
}
static inline void corio__vg_stack_deregister(unsigned id) { (void)id; }
#endif

#endif
