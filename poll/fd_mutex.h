/* poll/fd_mutex.h: the FD's reference count and its read and write locks, in
 * one 64-bit word (after Go's internal/poll fdMutex).
 *
 * Every operation on an FD holds a reference for its duration; a read also
 * holds the read lock, a write the write lock, so that at most one read and
 * one write run at a time while closing and deadline changes stay concurrent.
 * Close sets the closed bit: from then on every lock and incref fails, every
 * waiter is woken and fails, and the FD is destroyed by whoever drops the
 * last reference.
 *
 * The functions return 0, CORIO_ECLOSING (the closed bit is set; the FD layer
 * turns it into the file or network flavour) or CORIO_ETOOMANY (a count would
 * pass 2^20 - 1; the word is left unchanged rather than wrapped). rwlock may
 * also return what the semaphore returns (CORIO_ENOTCORO off a coroutine);
 * it has then given its waiter slot back.
 */
#ifndef CORIO_POLL_FD_MUTEX_H
#define CORIO_POLL_FD_MUTEX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct corio__fd_mutex {
  _Atomic uint64_t state; /* layout below ("The word") */
  uint32_t rsema;         /* readers waiting for the read lock sleep here */
  uint32_t wsema;         /* writers waiting for the write lock sleep here */
} corio__fd_mutex_t;

#define CORIO__FD_MUTEX_INIT {0, 0, 0}

/* Take a reference (for operations that need neither lock). */
int corio__fdmu_incref(corio__fd_mutex_t *mu);
/* Take a reference and set the closed bit, waking every waiter. CORIO_ECLOSING
 * when already closed (a second close). */
int corio__fdmu_incref_and_close(corio__fd_mutex_t *mu);
/* Drop a reference. true when the FD is closed and this was the last
 * reference: the caller must destroy it. */
bool corio__fdmu_decref(corio__fd_mutex_t *mu);
/* Take the read (read == true) or write lock and a reference, sleeping while
 * another holds the lock. */
static inline int corio__fdmu_rwlock(corio__fd_mutex_t *mu, bool read);
/* Release the lock and the reference; wakes one waiter if any. true as for
 * decref. */
static inline bool corio__fdmu_rwunlock(corio__fd_mutex_t *mu, bool read);

/* ---- The word ----
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
 * The masks are built from the shifts; fd_mutex.c and the inline fast paths
 * below use these names and no others. */
#define CORIO__FDMU_COUNT_BITS 20
#define CORIO__FDMU_COUNT_MAX ((1u << CORIO__FDMU_COUNT_BITS) - 1)
#define CORIO__FDMU_CLOSED ((uint64_t)1 << 0)
#define CORIO__FDMU_RLOCK ((uint64_t)1 << 1)
#define CORIO__FDMU_WLOCK ((uint64_t)1 << 2)
#define CORIO__FDMU_REF_SHIFT 3
#define CORIO__FDMU_RWAIT_SHIFT (CORIO__FDMU_REF_SHIFT + CORIO__FDMU_COUNT_BITS)
#define CORIO__FDMU_WWAIT_SHIFT (CORIO__FDMU_RWAIT_SHIFT + CORIO__FDMU_COUNT_BITS)
#define CORIO__FDMU_REF ((uint64_t)1 << CORIO__FDMU_REF_SHIFT)
#define CORIO__FDMU_RWAIT ((uint64_t)1 << CORIO__FDMU_RWAIT_SHIFT)
#define CORIO__FDMU_WWAIT ((uint64_t)1 << CORIO__FDMU_WWAIT_SHIFT)
#define CORIO__FDMU_REF_MASK ((uint64_t)CORIO__FDMU_COUNT_MAX << CORIO__FDMU_REF_SHIFT)
#define CORIO__FDMU_RWAIT_MASK ((uint64_t)CORIO__FDMU_COUNT_MAX << CORIO__FDMU_RWAIT_SHIFT)
#define CORIO__FDMU_WWAIT_MASK ((uint64_t)CORIO__FDMU_COUNT_MAX << CORIO__FDMU_WWAIT_SHIFT)

/* The general cases: waiting, waking, closed, a count at its limit. */
int corio__fdmu_rwlock_slow(corio__fd_mutex_t *mu, bool read);
bool corio__fdmu_rwunlock_slow(corio__fd_mutex_t *mu, bool read);

/* Every read and write takes and drops a lock: the uncontended case is one
 * compare-and-swap each, inline (out of line it was a call with six saved
 * registers around it, a tenth of a pipe round trip's own work). */
static inline int corio__fdmu_rwlock(corio__fd_mutex_t *mu, bool read) {
  const uint64_t bit = read ? CORIO__FDMU_RLOCK : CORIO__FDMU_WLOCK;
  uint64_t old = atomic_load_explicit(&mu->state, memory_order_relaxed);
  if (!(old & (CORIO__FDMU_CLOSED | bit)) &&
      (old & CORIO__FDMU_REF_MASK) != CORIO__FDMU_REF_MASK &&
      atomic_compare_exchange_strong_explicit(&mu->state, &old, (old | bit) + CORIO__FDMU_REF,
                                              memory_order_acq_rel, memory_order_relaxed))
    return 0;
  return corio__fdmu_rwlock_slow(mu, read);
}

static inline bool corio__fdmu_rwunlock(corio__fd_mutex_t *mu, bool read) {
  const uint64_t bit = read ? CORIO__FDMU_RLOCK : CORIO__FDMU_WLOCK;
  const uint64_t waiting = read ? CORIO__FDMU_RWAIT_MASK : CORIO__FDMU_WWAIT_MASK;
  uint64_t old = atomic_load_explicit(&mu->state, memory_order_relaxed);
  /* Held, with our reference, nobody to wake, not closed: nothing but the
   * word to change. */
  if ((old & (bit | waiting | CORIO__FDMU_CLOSED)) == bit && (old & CORIO__FDMU_REF_MASK) != 0 &&
      atomic_compare_exchange_strong_explicit(&mu->state, &old, (old & ~bit) - CORIO__FDMU_REF,
                                              memory_order_acq_rel, memory_order_relaxed))
    return false;
  return corio__fdmu_rwunlock_slow(mu, read);
}

/* Whether the closed bit is set: close has begun (a snapshot; it never
 * goes back once set). */
static inline bool corio__fdmu_closed(corio__fd_mutex_t *mu) {
  return (atomic_load_explicit(&mu->state, memory_order_acquire) & CORIO__FDMU_CLOSED) != 0;
}

#endif
