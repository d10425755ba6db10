/* The FD's reference count and read / write locks in one atomic word.
 *
 * Layout of corio__fd_mutex_t.state, least significant bit first:
 *
 *   bit  0       closed: set once by incref_and_close; every later lock and
 *                incref fails
 *   bit  1       read lock held
 *   bit  2       write lock held
 *   bits 3..22   references (every incref and every held lock counts one)
 *   bits 23..42  readers sleeping on rsema for the read lock
 *   bits 43..62  writers sleeping on wsema for the write lock
 *   bit  63      unused
 *
 * Handing the lock over: an unlocker that sees waiters removes one from the
 * count and releases the semaphore once; the woken waiter loops and competes
 * for the lock again (a newcomer may win; the loser waits again). Close
 * removes every waiter from the counts and releases the semaphores as many
 * times; the woken waiters see the closed bit and fail. Semaphores count, so
 * a release that comes before its waiter sleeps is not lost.
 *
 * Every update is a compare-and-swap of the whole word. Acquire on success
 * orders the protected operation after taking the lock; release orders it
 * before dropping it; acq_rel serves both for the word's other changes.
 */
#include "fd_mutex.h"

#include "corio/error.h"
#include "corio/sync.h"
#include "sched.h"

#define FIELD_MASK ((uint64_t)CORIO__FDMU_COUNT_MAX)
#define CLOSED CORIO__FDMU_CLOSED
#define RLOCK CORIO__FDMU_RLOCK
#define WLOCK CORIO__FDMU_WLOCK
#define REF_SHIFT CORIO__FDMU_REF_SHIFT
#define RWAIT_SHIFT CORIO__FDMU_RWAIT_SHIFT
#define WWAIT_SHIFT CORIO__FDMU_WWAIT_SHIFT
#define REF CORIO__FDMU_REF
#define REF_MASK CORIO__FDMU_REF_MASK
#define RWAIT ((uint64_t)1 << RWAIT_SHIFT)
#define RWAIT_MASK CORIO__FDMU_RWAIT_MASK
#define WWAIT ((uint64_t)1 << WWAIT_SHIFT)
#define WWAIT_MASK CORIO__FDMU_WWAIT_MASK

static bool cas(corio__fd_mutex_t *mu, uint64_t *old, uint64_t new_state) {
  return atomic_compare_exchange_weak_explicit(&mu->state, old, new_state, memory_order_acq_rel,
                                               memory_order_acquire);
}

int corio__fdmu_incref(corio__fd_mutex_t *mu) {
  uint64_t old = atomic_load_explicit(&mu->state, memory_order_acquire);
  for (;;) {
    if (old & CLOSED) return CORIO_ECLOSING;
    if ((old & REF_MASK) == REF_MASK) return CORIO_ETOOMANY;
    if (cas(mu, &old, old + REF)) return 0;
  }
}

int corio__fdmu_incref_and_close(corio__fd_mutex_t *mu) {
  uint64_t old = atomic_load_explicit(&mu->state, memory_order_acquire);
  for (;;) {
    if (old & CLOSED) return CORIO_ECLOSING;
    if ((old & REF_MASK) == REF_MASK) return CORIO_ETOOMANY;
    /* Closed, one more reference, and no waiters left in the counts: this
     * call now owes each of them one release. */
    uint64_t new_state = ((old | CLOSED) + REF) & ~(RWAIT_MASK | WWAIT_MASK);
    if (cas(mu, &old, new_state)) {
      for (uint64_t n = (old & RWAIT_MASK) >> RWAIT_SHIFT; n > 0; n--)
        corio_sema_release(&mu->rsema);
      for (uint64_t n = (old & WWAIT_MASK) >> WWAIT_SHIFT; n > 0; n--)
        corio_sema_release(&mu->wsema);
      return 0;
    }
  }
}

bool corio__fdmu_decref(corio__fd_mutex_t *mu) {
  uint64_t old = atomic_load_explicit(&mu->state, memory_order_acquire);
  for (;;) {
    if ((old & REF_MASK) == 0) corio__throw("poll: fd_mutex: decref without a reference");
    uint64_t new_state = old - REF;
    if (cas(mu, &old, new_state)) return (new_state & (CLOSED | REF_MASK)) == CLOSED;
  }
}

int corio__fdmu_rwlock_slow(corio__fd_mutex_t *mu, bool read) {
  const uint64_t bit = read ? RLOCK : WLOCK;
  const uint64_t wait = read ? RWAIT : WWAIT;
  const uint64_t mask = read ? RWAIT_MASK : WWAIT_MASK;
  uint32_t *sema = read ? &mu->rsema : &mu->wsema;
  uint64_t old = atomic_load_explicit(&mu->state, memory_order_acquire);
  for (;;) {
    if (old & CLOSED) return CORIO_ECLOSING;
    uint64_t new_state;
    if (!(old & bit)) {
      if ((old & REF_MASK) == REF_MASK) return CORIO_ETOOMANY;
      new_state = (old | bit) + REF;
    } else {
      if ((old & mask) == mask) return CORIO_ETOOMANY;
      /* Only a coroutine can sleep; find out before joining the count,
       * which could not be left again without a release owed to us. */
      if (!corio__getg()) return CORIO_ENOTCORO;
      new_state = old + wait;
    }
    if (!cas(mu, &old, new_state)) continue;
    if (!(old & bit)) return 0;
    if (corio_sema_acquire(sema) != 0) corio__throw("poll: fd_mutex: semaphore wait failed");
    /* Whoever woke us has taken us out of the wait count. */
    old = atomic_load_explicit(&mu->state, memory_order_acquire);
  }
}

bool corio__fdmu_rwunlock_slow(corio__fd_mutex_t *mu, bool read) {
  const uint64_t bit = read ? RLOCK : WLOCK;
  const uint64_t wait = read ? RWAIT : WWAIT;
  const uint64_t mask = read ? RWAIT_MASK : WWAIT_MASK;
  uint32_t *sema = read ? &mu->rsema : &mu->wsema;
  uint64_t old = atomic_load_explicit(&mu->state, memory_order_acquire);
  for (;;) {
    if (!(old & bit) || (old & REF_MASK) == 0)
      corio__throw("poll: fd_mutex: unlock of a lock not held");
    /* Drop the lock and our reference; take one waiter out to wake it. */
    uint64_t new_state = (old & ~bit) - REF;
    if (old & mask) new_state -= wait;
    if (cas(mu, &old, new_state)) {
      if (old & mask) corio_sema_release(sema);
      return (new_state & (CLOSED | REF_MASK)) == CLOSED;
    }
  }
}

corio__fdmu_view_t corio__fdmu_view(corio__fd_mutex_t *mu) {
  uint64_t s = atomic_load_explicit(&mu->state, memory_order_acquire);
  corio__fdmu_view_t v = {
      .closed = (s & CLOSED) != 0,
      .rlocked = (s & RLOCK) != 0,
      .wlocked = (s & WLOCK) != 0,
      .refs = (uint32_t)((s & REF_MASK) >> REF_SHIFT),
      .rwait = (uint32_t)((s & RWAIT_MASK) >> RWAIT_SHIFT),
      .wwait = (uint32_t)((s & WWAIT_MASK) >> WWAIT_SHIFT),
  };
  return v;
}

void corio__fdmu_set_view(corio__fd_mutex_t *mu, const corio__fdmu_view_t *v) {
  uint64_t s = (v->closed ? CLOSED : 0) | (v->rlocked ? RLOCK : 0) | (v->wlocked ? WLOCK : 0) |
               (((uint64_t)v->refs & FIELD_MASK) << REF_SHIFT) |
               (((uint64_t)v->rwait & FIELD_MASK) << RWAIT_SHIFT) |
               (((uint64_t)v->wwait & FIELD_MASK) << WWAIT_SHIFT);
  atomic_store_explicit(&mu->state, s, memory_order_release);
}
