/* The FD's fdMutex word (poll/fd_mutex.c, fd_mutex.h): the closed bit, the
 * read and write lock bits, the reference count and the counts of readers
 * and writers sleeping on rsema / wsema, all in one word changed only by
 * compare-and-swap, raced by readers, a writer and a closer.
 *
 * The word is packed as in the C code (CORIO__FDMU_CLOSED bit 0, _RLOCK bit
 * 1, _WLOCK bit 2, then the reference count, the waiting readers and the
 * waiting writers, each CORIO__FDMU_COUNT_BITS wide), so a count that passed its limit
 * would carry into its neighbour exactly as in C; the model's fields are
 * narrow (-DCORIO__FDMU_COUNT_BITS=1 or 2: CORIO__FDMU_COUNT_MAX 1 or 3) so the limits are
 * reached. The functions are inlines with the C names:
 * corio__fdmu_incref, corio__fdmu_incref_and_close, corio__fdmu_decref,
 * corio__fdmu_rwlock_slow, corio__fdmu_rwunlock_slow (the inline fast paths
 * of fd_mutex.h are their first iteration's compare-and-swap for the
 * uncontended case, with the same effect), corio_sema_acquire /
 * corio_sema_release (a counting semaphore).
 *
 * Checked (safety, and invalid end states: a sleeper nobody will wake is a
 * deadlock):
 *  - mutual exclusion: at most one reader and one writer hold their lock;
 *  - no lost semaphore wake-up, and close wakes every sleeper (each sleeper
 *    returns; none is left on a semaphore);
 *  - destroy exactly once, at the last reference, and only after close: the
 *    caller told to destroy finds the word closed with no reference, nobody
 *    else is told, and a closed FD is always destroyed in the end;
 *  - counts never overflow silently: every compare-and-swap changes exactly
 *    the fields it means to (no carry), else the call fails with
 *    CORIO_ETOOMANY and changes nothing;
 *  - the C code's fatal checks ("decref without a reference", "unlock of a
 *    lock not held"); at the end no count, bit or semaphore release is left
 *    over.
 * Abstracted away: CORIO_ENOTCORO (a caller off a coroutine), memory orders
 * (every change is an acq_rel compare-and-swap of the whole word; spin's
 * interleavings are sequentially consistent).
 */

#ifndef CORIO__FDMU_COUNT_BITS
#define CORIO__FDMU_COUNT_BITS 2
#endif
#ifndef NR
#define NR 2      /* readers */
#endif
#ifndef NWR
#define NWR 1     /* writers */
#endif
#ifndef ROUNDS
#define ROUNDS 1  /* lock/unlock rounds per reader and writer */
#endif

#define CORIO__FDMU_COUNT_MAX ((1 << CORIO__FDMU_COUNT_BITS) - 1)
#define CORIO__FDMU_CLOSED 1
#define CORIO__FDMU_RLOCK 2
#define CORIO__FDMU_WLOCK 4
#define CORIO__FDMU_REF_SHIFT 3
#define CORIO__FDMU_RWAIT_SHIFT (CORIO__FDMU_REF_SHIFT + CORIO__FDMU_COUNT_BITS)
#define CORIO__FDMU_WWAIT_SHIFT (CORIO__FDMU_RWAIT_SHIFT + CORIO__FDMU_COUNT_BITS)
#define CORIO__FDMU_REF (1 << CORIO__FDMU_REF_SHIFT)
#define CORIO__FDMU_RWAIT (1 << CORIO__FDMU_RWAIT_SHIFT)
#define CORIO__FDMU_WWAIT (1 << CORIO__FDMU_WWAIT_SHIFT)
#define CORIO__FDMU_REF_MASK (CORIO__FDMU_COUNT_MAX << CORIO__FDMU_REF_SHIFT)
#define CORIO__FDMU_RWAIT_MASK (CORIO__FDMU_COUNT_MAX << CORIO__FDMU_RWAIT_SHIFT)
#define CORIO__FDMU_WWAIT_MASK (CORIO__FDMU_COUNT_MAX << CORIO__FDMU_WWAIT_SHIFT)
#define TOP_SHIFT (CORIO__FDMU_WWAIT_SHIFT + CORIO__FDMU_COUNT_BITS)

#define REFS(x) (((x) >> CORIO__FDMU_REF_SHIFT) & CORIO__FDMU_COUNT_MAX)
#define RW(x) (((x) >> CORIO__FDMU_RWAIT_SHIFT) & CORIO__FDMU_COUNT_MAX)
#define WW(x) (((x) >> CORIO__FDMU_WWAIT_SHIFT) & CORIO__FDMU_COUNT_MAX)
#define TOP(x) ((x) >> TOP_SHIFT)   /* what a carry out of wwait would reach */

#define OK 0
#define ECLOSING 1
#define ETOOMANY 2

int  state;         /* corio__fd_mutex_t.state */
byte rsema, wsema;  /* the semaphores' counts */

/* ghosts */
byte in_read, in_write;  /* holders of the read / write lock */
byte destroyed;
byte sleeping;           /* callers inside corio_sema_acquire */

/* field-exact changes: d_ref, d_rw, d_ww are the intended deltas */
inline expect_fields(old, new, d_ref, d_rw, d_ww) {
  assert(REFS(new) == REFS(old) + d_ref);
  assert(RW(new) == RW(old) + d_rw);
  assert(WW(new) == WW(old) + d_ww);
  assert(TOP(new) == 0)
}

/* compare-and-swap of the whole word: ok when it took */
inline cas(old, new, ok) {
  atomic {
    if
    :: state == old -> state = new; ok = 1
    :: else -> old = state; ok = 0
    fi
  }
}

inline destroy() {
  atomic {
    destroyed++;
    assert(destroyed == 1);
    assert((state & CORIO__FDMU_CLOSED) && REFS(state) == 0)
  }
}

inline corio__fdmu_incref(res, old, new, ok) {
  old = state;
  do
  :: (old & CORIO__FDMU_CLOSED) -> res = ECLOSING; break
  :: !(old & CORIO__FDMU_CLOSED) && (old & CORIO__FDMU_REF_MASK) == CORIO__FDMU_REF_MASK -> res = ETOOMANY; break
  :: !(old & CORIO__FDMU_CLOSED) && (old & CORIO__FDMU_REF_MASK) != CORIO__FDMU_REF_MASK ->
     new = old + CORIO__FDMU_REF;
     expect_fields(old, new, 1, 0, 0);
     cas(old, new, ok);
     if :: ok -> res = OK; break :: else fi
  od;
  old = 0; new = 0; ok = 0
}

inline corio__fdmu_incref_and_close(res, old, new, ok) {
  old = state;
  do
  :: (old & CORIO__FDMU_CLOSED) -> res = ECLOSING; break
  :: !(old & CORIO__FDMU_CLOSED) && (old & CORIO__FDMU_REF_MASK) == CORIO__FDMU_REF_MASK -> res = ETOOMANY; break
  :: !(old & CORIO__FDMU_CLOSED) && (old & CORIO__FDMU_REF_MASK) != CORIO__FDMU_REF_MASK ->
     /* closed, one more reference, no waiters left in the counts: this call
      * now owes each of them one release */
     new = ((old | CORIO__FDMU_CLOSED) + CORIO__FDMU_REF) & ~(CORIO__FDMU_RWAIT_MASK | CORIO__FDMU_WWAIT_MASK);
     expect_fields(old, new, 1, -RW(old), -WW(old));
     cas(old, new, ok);
     if
     :: ok ->
        do
        :: RW(old) > 0 -> rsema++; old = old - CORIO__FDMU_RWAIT   /* corio_sema_release(&mu->rsema) */
        :: else -> break
        od;
        do
        :: WW(old) > 0 -> wsema++; old = old - CORIO__FDMU_WWAIT
        :: else -> break
        od;
        res = OK;
        break
     :: else
     fi
  od;
  old = 0; new = 0; ok = 0
}

inline corio__fdmu_decref(gone, old, new, ok) {
  old = state;
  do
  :: assert(REFS(old) != 0);  /* "decref without a reference" */
     new = old - CORIO__FDMU_REF;
     expect_fields(old, new, -1, 0, 0);
     cas(old, new, ok);
     if :: ok -> gone = ((new & (CORIO__FDMU_CLOSED | CORIO__FDMU_REF_MASK)) == CORIO__FDMU_CLOSED); break :: else fi
  od;
  old = 0; new = 0; ok = 0
}

/* read: 1 for the read lock, 0 for the write lock */
inline corio__fdmu_rwlock_slow(read, res, old, new, ok) {
  old = state;
  do
  :: (old & CORIO__FDMU_CLOSED) -> res = ECLOSING; break
  :: else ->
     if
     :: !(old & (read -> CORIO__FDMU_RLOCK : CORIO__FDMU_WLOCK)) ->
        if :: (old & CORIO__FDMU_REF_MASK) == CORIO__FDMU_REF_MASK -> res = ETOOMANY; break :: else fi;
        new = (old | (read -> CORIO__FDMU_RLOCK : CORIO__FDMU_WLOCK)) + CORIO__FDMU_REF;
        expect_fields(old, new, 1, 0, 0)
     :: else ->
        if :: (old & (read -> CORIO__FDMU_RWAIT_MASK : CORIO__FDMU_WWAIT_MASK)) == (read -> CORIO__FDMU_RWAIT_MASK : CORIO__FDMU_WWAIT_MASK) -> res = ETOOMANY; break :: else fi;
        new = old + (read -> CORIO__FDMU_RWAIT : CORIO__FDMU_WWAIT);
        if
        :: read -> expect_fields(old, new, 0, 1, 0)
        :: else -> expect_fields(old, new, 0, 0, 1)
        fi
     fi;
     cas(old, new, ok);
     if
     :: ok && !(old & (read -> CORIO__FDMU_RLOCK : CORIO__FDMU_WLOCK)) -> res = OK; break
     :: ok && (old & (read -> CORIO__FDMU_RLOCK : CORIO__FDMU_WLOCK)) ->
        /* corio_sema_acquire: whoever wakes us has taken us out of the count */
        sleeping++;
        if
        :: read -> atomic { rsema > 0 -> rsema--; sleeping-- }
        :: else -> atomic { wsema > 0 -> wsema--; sleeping-- }
        fi;
        old = state
     :: else
     fi
  od;
  old = 0; new = 0; ok = 0
}

inline corio__fdmu_rwunlock_slow(read, gone, old, new, ok) {
  old = state;
  do
  :: assert((old & (read -> CORIO__FDMU_RLOCK : CORIO__FDMU_WLOCK)) && REFS(old) != 0);  /* "unlock of a lock not held" */
     new = (old & ~(read -> CORIO__FDMU_RLOCK : CORIO__FDMU_WLOCK)) - CORIO__FDMU_REF;
     if
     :: (old & (read -> CORIO__FDMU_RWAIT_MASK : CORIO__FDMU_WWAIT_MASK)) ->
        new = new - (read -> CORIO__FDMU_RWAIT : CORIO__FDMU_WWAIT);
        if
        :: read -> expect_fields(old, new, -1, -1, 0)
        :: else -> expect_fields(old, new, -1, 0, -1)
        fi
     :: else ->
        expect_fields(old, new, -1, 0, 0)
     fi;
     cas(old, new, ok);
     if
     :: ok ->
        if
        :: (old & (read -> CORIO__FDMU_RWAIT_MASK : CORIO__FDMU_WWAIT_MASK)) ->
           if :: read -> rsema++ :: else -> wsema++ fi   /* corio_sema_release */
        :: else
        fi;
        gone = ((new & (CORIO__FDMU_CLOSED | CORIO__FDMU_REF_MASK)) == CORIO__FDMU_CLOSED);
        break
     :: else
     fi
  od;
  old = 0; new = 0; ok = 0
}

/* A read or write on the FD: lock, the operation, unlock; destroy when
 * told to. */
proctype Op(bit read) {
  byte k, res;
  int old, new;
  bit ok, gone;
  for (k : 1 .. ROUNDS) {
    corio__fdmu_rwlock_slow(read, res, old, new, ok);
    if
    :: res == OK ->
       if
       :: read -> atomic { in_read++; assert(in_read == 1) }; in_read--
       :: else -> atomic { in_write++; assert(in_write == 1) }; in_write--
       fi;
       corio__fdmu_rwunlock_slow(read, gone, old, new, ok);
       if :: gone -> destroy(); gone = 0 :: else fi
    :: else -> res = 0
    fi
  }
}

/* close(): the closing reference, then (after unblocking the poller) its
 * release. */
proctype Closer() {
  byte res;
  int old, new;
  bit ok, gone;
  corio__fdmu_incref_and_close(res, old, new, ok);
  if
  :: res == OK ->
     corio__fdmu_decref(gone, old, new, ok);
     if :: gone -> destroy() :: else fi
  :: else
  fi
}

/* Something that needs neither lock (a deadline change). */
proctype Ref() {
  byte res;
  int old, new;
  bit ok, gone;
  corio__fdmu_incref(res, old, new, ok);
  if
  :: res == OK ->
     corio__fdmu_decref(gone, old, new, ok);
     if :: gone -> destroy() :: else fi
  :: else
  fi
}

init {
  byte i;
  atomic {
    for (i : 1 .. NR) { run Op(1) }
    for (i : 1 .. NWR) { run Op(0) }
    run Closer();
#ifdef WITH_REF
    run Ref();
#endif
  };
  _nr_pr == 1;
  /* everyone is done: the FD was closed (close cannot fail with these
   * bounds unless a count was full) and destroyed once; nothing is left */
  assert((state & CORIO__FDMU_CLOSED) == 0 || destroyed == 1);
  assert(REFS(state) == 0 && RW(state) == 0 && WW(state) == 0);
  assert((state & (CORIO__FDMU_RLOCK | CORIO__FDMU_WLOCK)) == 0);
  assert(rsema == 0 && wsema == 0 && sleeping == 0)
}
