/* The FD's reference count and read / write locks in one atomic word; the
 * word's layout and the protocol are described in fd_mutex.h. */
#include "fd_mutex.h"
#include "fd_mutex_testing.h"

#include "corio/error.h"
#include "corio/sync.h"
#include "sched.h"

static bool cas(corio__fd_mutex_t *mu, uint64_t *old, uint64_t new_state) {
  return atomic_compare_exchange_weak_explicit(&mu->state, old, new_state, memory_order_acq_rel,
                                               memory_order_acquire);
}

int corio__fdmu_incref(corio__fd_mutex_t *mu) {
  uint64_t old = atomic_load_explicit(&mu->state, memory_order_acquire);
  for (;;) {
    if (old & CORIO__FDMU_CLOSED) return CORIO_ECLOSING;
    if ((old & CORIO__FDMU_REF_MASK) == CORIO__FDMU_REF_MASK) return CORIO_ETOOMANY;
    if (cas(mu, &old, old + CORIO__FDMU_REF)) return 0;
  }
}

int corio__fdmu_incref_and_close(corio__fd_mutex_t *mu) {
  uint64_t old = atomic_load_explicit(&mu->state, memory_order_acquire);
  for (;;) {
    if (old & CORIO__FDMU_CLOSED) return CORIO_ECLOSING;
    if ((old & CORIO__FDMU_REF_MASK) == CORIO__FDMU_REF_MASK) return CORIO_ETOOMANY;
    /* Closed, one more reference, and no waiters left in the counts: this
     * call now owes each of them one release. */
    uint64_t new_state = ((old | CORIO__FDMU_CLOSED) + CORIO__FDMU_REF) &
                         ~(CORIO__FDMU_RWAIT_MASK | CORIO__FDMU_WWAIT_MASK);
    if (cas(mu, &old, new_state)) {
      for (uint64_t n = (old & CORIO__FDMU_RWAIT_MASK) >> CORIO__FDMU_RWAIT_SHIFT; n > 0; n--)
        corio_sema_release(&mu->rsema);
      for (uint64_t n = (old & CORIO__FDMU_WWAIT_MASK) >> CORIO__FDMU_WWAIT_SHIFT; n > 0; n--)
        corio_sema_release(&mu->wsema);
      return 0;
    }
  }
}

bool corio__fdmu_decref(corio__fd_mutex_t *mu) {
  uint64_t old = atomic_load_explicit(&mu->state, memory_order_acquire);
  for (;;) {
    if ((old & CORIO__FDMU_REF_MASK) == 0)
      corio__throw("poll: fd_mutex: decref without a reference");
    uint64_t new_state = old - CORIO__FDMU_REF;
    if (cas(mu, &old, new_state))
      return (new_state & (CORIO__FDMU_CLOSED | CORIO__FDMU_REF_MASK)) == CORIO__FDMU_CLOSED;
  }
}

/* One direction's part of the word: its lock bit, one waiter, the waiter
 * count's mask, and the semaphore its waiters sleep on. */
typedef struct side {
  uint64_t bit, wait, mask;
  uint32_t *sema;
} side_t;

static side_t side_of(corio__fd_mutex_t *mu, bool read) {
  if (read)
    return (side_t){CORIO__FDMU_RLOCK, CORIO__FDMU_RWAIT, CORIO__FDMU_RWAIT_MASK, &mu->rsema};
  return (side_t){CORIO__FDMU_WLOCK, CORIO__FDMU_WWAIT, CORIO__FDMU_WWAIT_MASK, &mu->wsema};
}

int corio__fdmu_rwlock_slow(corio__fd_mutex_t *mu, bool read) {
  const side_t sd = side_of(mu, read);
  const uint64_t bit = sd.bit, wait = sd.wait, mask = sd.mask;
  uint64_t old = atomic_load_explicit(&mu->state, memory_order_acquire);
  for (;;) {
    if (old & CORIO__FDMU_CLOSED) return CORIO_ECLOSING;
    uint64_t new_state;
    if (!(old & bit)) {
      if ((old & CORIO__FDMU_REF_MASK) == CORIO__FDMU_REF_MASK) return CORIO_ETOOMANY;
      new_state = (old | bit) + CORIO__FDMU_REF;
    } else {
      if ((old & mask) == mask) return CORIO_ETOOMANY;
      /* Only a coroutine can sleep; find out before joining the count,
       * which could not be left again without a release owed to us. */
      if (!corio__getg()) return CORIO_ENOTCORO;
      new_state = old + wait;
    }
    if (!cas(mu, &old, new_state)) continue;
    if (!(old & bit)) return 0;
    if (corio_sema_acquire(sd.sema) != 0) corio__throw("poll: fd_mutex: semaphore wait failed");
    /* Whoever woke us has taken us out of the wait count. */
    old = atomic_load_explicit(&mu->state, memory_order_acquire);
  }
}

bool corio__fdmu_rwunlock_slow(corio__fd_mutex_t *mu, bool read) {
  const side_t sd = side_of(mu, read);
  const uint64_t bit = sd.bit, wait = sd.wait, mask = sd.mask;
  uint64_t old = atomic_load_explicit(&mu->state, memory_order_acquire);
  for (;;) {
    if (!(old & bit) || (old & CORIO__FDMU_REF_MASK) == 0)
      corio__throw("poll: fd_mutex: unlock of a lock not held");
    /* Drop the lock and our reference; take one waiter out to wake it. */
    uint64_t new_state = (old & ~bit) - CORIO__FDMU_REF;
    if (old & mask) new_state -= wait;
    if (cas(mu, &old, new_state)) {
      if (old & mask) corio_sema_release(sd.sema);
      return (new_state & (CORIO__FDMU_CLOSED | CORIO__FDMU_REF_MASK)) == CORIO__FDMU_CLOSED;
    }
  }
}

corio__fdmu_view_t corio__fdmu_view(corio__fd_mutex_t *mu) {
  uint64_t s = atomic_load_explicit(&mu->state, memory_order_acquire);
  corio__fdmu_view_t v = {
      .closed = (s & CORIO__FDMU_CLOSED) != 0,
      .rlocked = (s & CORIO__FDMU_RLOCK) != 0,
      .wlocked = (s & CORIO__FDMU_WLOCK) != 0,
      .refs = (uint32_t)((s & CORIO__FDMU_REF_MASK) >> CORIO__FDMU_REF_SHIFT),
      .rwait = (uint32_t)((s & CORIO__FDMU_RWAIT_MASK) >> CORIO__FDMU_RWAIT_SHIFT),
      .wwait = (uint32_t)((s & CORIO__FDMU_WWAIT_MASK) >> CORIO__FDMU_WWAIT_SHIFT),
  };
  return v;
}

void corio__fdmu_set_view(corio__fd_mutex_t *mu, const corio__fdmu_view_t *v) {
  const uint64_t field = CORIO__FDMU_COUNT_MAX;
  uint64_t s = (v->closed ? CORIO__FDMU_CLOSED : 0) | (v->rlocked ? CORIO__FDMU_RLOCK : 0) |
               (v->wlocked ? CORIO__FDMU_WLOCK : 0) |
               (((uint64_t)v->refs & field) << CORIO__FDMU_REF_SHIFT) |
               (((uint64_t)v->rwait & field) << CORIO__FDMU_RWAIT_SHIFT) |
               (((uint64_t)v->wwait & field) << CORIO__FDMU_WWAIT_SHIFT);
  atomic_store_explicit(&mu->state, s, memory_order_release);
}
