/* Fault injection (fault.h): the counters behind corio__fault_check. */
#include "runtime/fault.h"

#ifdef CORIO_FAULT_INJECTION

corio__fault_seam_t corio__fault_seams[CORIO__FAULT_SEAMS];

void corio__fault_arm(int seam, uint32_t mask, uint64_t nth, uint64_t every, int err) {
  corio__fault_seam_t *s = &corio__fault_seams[seam];
  atomic_store_explicit(&s->armed, false, memory_order_relaxed);
  atomic_store_explicit(&s->mask, mask, memory_order_relaxed);
  atomic_store_explicit(&s->nth, nth, memory_order_relaxed);
  atomic_store_explicit(&s->every, every, memory_order_relaxed);
  atomic_store_explicit(&s->err, err > 0 ? err : EIO, memory_order_relaxed);
  atomic_store_explicit(&s->calls, 0, memory_order_relaxed);
  atomic_store_explicit(&s->fired, 0, memory_order_relaxed);
  /* Release: a check that sees armed sees the plan. */
  atomic_store_explicit(&s->armed, true, memory_order_release);
}

void corio__fault_disarm(int seam) {
  atomic_store_explicit(&corio__fault_seams[seam].armed, false, memory_order_release);
}

uint64_t corio__fault_calls(int seam) {
  return atomic_load_explicit(&corio__fault_seams[seam].calls, memory_order_relaxed);
}

uint64_t corio__fault_fired(int seam) {
  return atomic_load_explicit(&corio__fault_seams[seam].fired, memory_order_relaxed);
}

int corio__fault_hit(int seam, uint32_t site) {
  corio__fault_seam_t *s = &corio__fault_seams[seam];
  if (!(atomic_load_explicit(&s->mask, memory_order_relaxed) & site)) return 0;
  uint64_t n = atomic_fetch_add_explicit(&s->calls, 1, memory_order_relaxed) + 1;
  uint64_t nth = atomic_load_explicit(&s->nth, memory_order_relaxed);
  uint64_t every = atomic_load_explicit(&s->every, memory_order_relaxed);
  if (n != nth && (every == 0 || n % every != 0)) return 0;
  atomic_fetch_add_explicit(&s->fired, 1, memory_order_relaxed);
  return atomic_load_explicit(&s->err, memory_order_relaxed);
}

#endif
