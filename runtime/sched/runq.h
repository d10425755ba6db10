/* The owner's side of the per-P run queue (runq.c), inline: it is on the
 * path of every yield, park and ready. */
#ifndef CORIO_SCHED_RUNQ_H
#define CORIO_SCHED_RUNQ_H

#include "proc.h"

static inline corio_g_t *corio__runq_slot_load(corio__p_t *p, uint32_t i) {
  return atomic_load_explicit(&p->runq[i % RUNQ_SIZE], memory_order_relaxed);
}

static inline void corio__runq_slot_store(corio__p_t *p, uint32_t i, corio_g_t *g) {
  atomic_store_explicit(&p->runq[i % RUNQ_SIZE], g, memory_order_relaxed);
}

/* p's queue is empty (owner only: thieves only ever take, so what the owner
 * sees empty stays empty until it puts). */
static inline bool corio__runqempty_owner(corio__p_t *p) {
  return atomic_load_explicit(&p->runqhead, memory_order_acquire) ==
             atomic_load_explicit(&p->runqtail, memory_order_relaxed) &&
         !atomic_load_explicit(&p->runnext, memory_order_relaxed);
}

/* Move half of a full ring plus g to the global queue. False when a thief
 * raced us; the caller retries the fast path. */
bool corio__runqput_slow(corio__p_t *p, corio_g_t *g, uint32_t h, uint32_t t);

/* Put g on p's queue (owner only): as runnext when next (the G it displaces
 * goes to the ring), else at the ring's tail. */
static inline void corio__runqput(corio__p_t *p, corio_g_t *g, bool next) {
  if (next) {
    /* Only the owner makes runnext non-NULL, so an empty runnext can be
     * filled with a plain store; a full one must be swapped atomically, as a
     * thief may be taking it. */
    if (!atomic_load_explicit(&p->runnext, memory_order_relaxed)) {
      atomic_store_explicit(&p->runnext, g, memory_order_release);
      return;
    }
    g = atomic_exchange_explicit(&p->runnext, g, memory_order_acq_rel);
    if (!g) return;
  }
  for (;;) {
    uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_relaxed);
    if (t - h < RUNQ_SIZE) {
      corio__runq_slot_store(p, t, g);
      /* Release: a thief that sees the new tail sees the slot. */
      atomic_store_explicit(&p->runqtail, t + 1, memory_order_release);
      return;
    }
    if (corio__runqput_slow(p, g, h, t)) return;
  }
}

/* Put g at the back of p's queue (owner only). When the queue is empty that
 * is runnext, which the next runqget reads with one load fewer than the ring:
 * it shortens the chain of dependent loads on every switch of a yield
 * ping-pong. Only the owner makes runnext non-NULL, so the plain store is safe
 * against thieves (they only take it). */
static inline void corio__runqput_back(corio__p_t *p, corio_g_t *g) {
  if (!atomic_load_explicit(&p->runnext, memory_order_relaxed) &&
      atomic_load_explicit(&p->runqhead, memory_order_relaxed) ==
          atomic_load_explicit(&p->runqtail, memory_order_relaxed)) {
    atomic_store_explicit(&p->runnext, g, memory_order_release);
    return;
  }
  corio__runqput(p, g, false);
}

/* Take the next G from p's queue (owner only): runnext first, then the ring's
 * head. Both are taken by CAS because thieves take from them too, except in a
 * runtime with one P, which has no thieves (steal_work skips its own P): there
 * plain loads and stores do, and a yield or a park saves a locked
 * instruction (5 to 7 ns here). */
static inline corio_g_t *corio__runqget(corio__p_t *p) {
  if (corio__sched.nprocs == 1) {
    corio_g_t *g = atomic_load_explicit(&p->runnext, memory_order_relaxed);
    if (g) {
      atomic_store_explicit(&p->runnext, NULL, memory_order_relaxed);
      return g;
    }
    uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_relaxed);
    if (h == atomic_load_explicit(&p->runqtail, memory_order_relaxed)) return NULL;
    g = corio__runq_slot_load(p, h);
    atomic_store_explicit(&p->runqhead, h + 1, memory_order_release);
    return g;
  }
  corio_g_t *next = atomic_load_explicit(&p->runnext, memory_order_relaxed);
  if (next && atomic_compare_exchange_strong_explicit(&p->runnext, &next, NULL,
                                                      memory_order_acquire, memory_order_relaxed))
    return next;
  for (;;) {
    uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_relaxed);
    if (t == h) return NULL;
    corio_g_t *g = corio__runq_slot_load(p, h);
    if (atomic_compare_exchange_weak_explicit(&p->runqhead, &h, h + 1, memory_order_release,
                                              memory_order_relaxed))
      return g;
  }
}

#endif
