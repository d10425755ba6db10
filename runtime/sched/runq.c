/* Per-P run queues, after Go's runqput/runqget/runqsteal: a 256-slot ring that
 * only the owner P appends to, while the owner and thieves take from the head
 * with a CAS. runnext holds the G readied last by this P (it inherits the time
 * slice, which makes ping-pong between two coroutines cheap). An overflowing
 * ring moves half of its Gs to the global queue. */
#include "proc.h"
#include "runq.h"

/* Move half of the local ring plus g to the global queue. False when a thief
 * raced us; the caller retries the fast path. */
bool corio__runqput_slow(corio__p_t *p, corio_g_t *g, uint32_t h, uint32_t t) {
  enum { HALF = RUNQ_SIZE / 2 };
  corio_g_t *batch[HALF + 1];
  uint32_t n = (t - h) / 2;
  if (n != HALF) corio__throw("runqput_slow: queue is not full");
  for (uint32_t i = 0; i < n; i++) batch[i] = corio__runq_slot_load(p, h + i);
  if (!atomic_compare_exchange_strong_explicit(&p->runqhead, &h, h + n, memory_order_release,
                                               memory_order_relaxed))
    return false;
  batch[n] = g;
  for (uint32_t i = 0; i < n; i++) batch[i]->schedlink = batch[i + 1];
  batch[n]->schedlink = NULL;
  corio__lock(&corio__sched.lock);
  for (uint32_t i = 0; i <= n; i++) corio__globrunqput(batch[i]);
  corio__unlock(&corio__sched.lock);
  return true;
}

bool corio__runqempty(corio__p_t *p) {
  for (;;) {
    uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_acquire);
    corio_g_t *next = atomic_load_explicit(&p->runnext, memory_order_acquire);
    if (t == atomic_load_explicit(&p->runqtail, memory_order_acquire)) return h == t && !next;
  }
}

/* Grab half of p2's Gs into p's ring starting at p's tail. Returns how many. */
static uint32_t runqgrab(corio__p_t *p2, corio__p_t *p, uint32_t dst, bool steal_next) {
  for (;;) {
    uint32_t h = atomic_load_explicit(&p2->runqhead, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&p2->runqtail, memory_order_acquire);
    uint32_t n = t - h;
    n = n - n / 2;
    if (n == 0) {
      if (!steal_next) return 0;
      corio_g_t *next = atomic_load_explicit(&p2->runnext, memory_order_acquire);
      if (!next) return 0;
      if (!atomic_compare_exchange_strong_explicit(&p2->runnext, &next, NULL,
                                                   memory_order_acq_rel, memory_order_relaxed))
        continue;
      corio__runq_slot_store(p, dst, next);
      return 1;
    }
    if (n > RUNQ_SIZE / 2) continue; /* read h and t inconsistently; retry */
    for (uint32_t i = 0; i < n; i++)
      corio__runq_slot_store(p, dst + i, corio__runq_slot_load(p2, h + i));
    if (atomic_compare_exchange_weak_explicit(&p2->runqhead, &h, h + n, memory_order_acq_rel,
                                              memory_order_relaxed))
      return n;
  }
}

corio_g_t *corio__runqsteal(corio__p_t *p, corio__p_t *p2, bool steal_next) {
  uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_relaxed);
  uint32_t n = runqgrab(p2, p, t, steal_next);
  if (n == 0) return NULL;
  n--;
  corio_g_t *g = corio__runq_slot_load(p, t + n);
  if (n == 0) return g;
  uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_acquire);
  if (t - h + n >= RUNQ_SIZE) corio__throw("runqsteal: runq overflow");
  atomic_store_explicit(&p->runqtail, t + n, memory_order_release);
  return g;
}
