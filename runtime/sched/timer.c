/* Timers: a binary min-heap per P, guarded by the P's tlock. A timer lives in
 * at most one heap; t->heap names it (written under that heap's lock, read
 * without it to find the lock to take, then re-checked). timer0when mirrors the
 * heap's earliest deadline so schedulers can peek without locking. Callbacks
 * run without any lock held, on whichever M finds them due. */
#include "netpoll.h"
#include "proc.h"

static void heap_set(corio__p_t *p, int i, corio__timer_t *t) {
  p->timers[i] = t;
  t->idx = i;
}

static void sift_up(corio__p_t *p, int i) {
  corio__timer_t *t = p->timers[i];
  while (i > 0) {
    int parent = (i - 1) / 2;
    if (p->timers[parent]->when <= t->when) break;
    heap_set(p, i, p->timers[parent]);
    i = parent;
  }
  heap_set(p, i, t);
}

static void sift_down(corio__p_t *p, int i) {
  corio__timer_t *t = p->timers[i];
  int n = p->ntimers;
  for (;;) {
    int c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && p->timers[c + 1]->when < p->timers[c]->when) c++;
    if (t->when <= p->timers[c]->when) break;
    heap_set(p, i, p->timers[c]);
    i = c;
  }
  heap_set(p, i, t);
}

static void update_when0(corio__p_t *p) {
  atomic_store_explicit(&p->timer0when, p->ntimers ? p->timers[0]->when : 0,
                        memory_order_release);
}

static void heap_remove(corio__p_t *p, corio__timer_t *t) {
  int i = t->idx;
  int last = --p->ntimers;
  if (i != last) {
    corio__timer_t *moved = p->timers[last];
    heap_set(p, i, moved);
    sift_down(p, i);
    sift_up(p, moved->idx);
  }
  t->idx = -1;
  atomic_store_explicit(&t->heap, NULL, memory_order_release);
}

/* ---- slots reserved ahead ----
 * Arming a timer must not fail: the sleep and the poll descriptors' deadline
 * timers are armed where no caller could be told (an unlock callback, a
 * deadline move under a lock). So whoever may arm timers reserves their
 * slots first, where an error can still be returned: one per G record (at
 * most one of a G's timers -- sleep, semaphore or select deadline -- is
 * armed at a time) when the record is made, two per poll descriptor when its
 * block is carved. The heaps' total capacity is kept at least the total
 * reserved (sched.timer_reserved <= sched.timer_cap, both under
 * sched.timer_lock), so an insertion always finds a heap with room: its
 * own P's, grown if it can be, else another's. */

/* Grow p's heap to at least want slots. 0 or CORIO_ENOMEM. The array is
 * allocated with no lock held. */
static int heap_grow(corio__p_t *p, int want) {
  for (;;) {
    corio__lock(&p->tlock);
    int cap = p->captimers;
    corio__unlock(&p->tlock);
    if (cap >= want) return 0;
    int ncap = cap ? cap * 2 : 64;
    while (ncap < want) ncap *= 2;
    corio__timer_t **nt = corio__malloc((size_t)ncap * sizeof *nt);
    if (!nt) return CORIO_ENOMEM;
    corio__lock(&p->tlock);
    if (p->captimers != cap) { /* grown meanwhile: look again */
      corio__unlock(&p->tlock);
      corio__free(nt);
      continue;
    }
    for (int i = 0; i < p->ntimers; i++) nt[i] = p->timers[i];
    corio__timer_t **old = p->timers;
    p->timers = nt;
    p->captimers = ncap;
    atomic_fetch_add_explicit(&corio__sched.timer_cap, ncap - cap, memory_order_relaxed);
    corio__unlock(&p->tlock);
    corio__free(old);
    return 0;
  }
}

static corio__p_t *own_heap(void) {
  corio__m_t *m = corio__getm();
  return (m && m->p) ? m->p : &corio__sched.allp[0];
}

int corio__timer_reserve(int n) {
  corio__sched_t *s = &corio__sched;
  corio__lock(&s->timer_lock);
  int64_t want = s->timer_reserved + n;
  corio__p_t *p = own_heap();
  while (atomic_load_explicit(&s->timer_cap, memory_order_relaxed) < want) {
    int64_t missing = want - atomic_load_explicit(&s->timer_cap, memory_order_relaxed);
    corio__lock(&p->tlock);
    int cap = p->captimers;
    corio__unlock(&p->tlock);
    if (missing > INT32_MAX / 4 || heap_grow(p, cap + (int)missing) != 0) {
      corio__unlock(&s->timer_lock);
      return CORIO_ENOMEM;
    }
  }
  s->timer_reserved = want;
  corio__unlock(&s->timer_lock);
  return 0;
}

void corio__timer_unreserve(int n) {
  corio__lock(&corio__sched.timer_lock);
  corio__sched.timer_reserved -= n;
  corio__unlock(&corio__sched.timer_lock);
}

/* A heap with a free slot, locked: p's own (grown if it can be), else any
 * other; one exists while the reservations hold (see above). */
static corio__p_t *lock_heap_with_room(corio__p_t *p) {
  corio__lock(&p->tlock);
  if (p->ntimers < p->captimers) return p;
  int cap = p->captimers;
  corio__unlock(&p->tlock);
  (void)heap_grow(p, cap + 1); /* failure is fine: another heap has room */
  corio__lock(&p->tlock);
  if (p->ntimers < p->captimers) return p;
  corio__unlock(&p->tlock);
  for (int i = 0; i < corio__sched.nprocs; i++) {
    corio__p_t *q = &corio__sched.allp[i];
    corio__lock(&q->tlock);
    if (q->ntimers < q->captimers) return q;
    corio__unlock(&q->tlock);
  }
  corio__throw("timer armed without a reserved slot");
}

/* Lock the heap holding t, or return NULL (t not armed) with nothing locked. */
static corio__p_t *lock_heap_of(corio__timer_t *t) {
  for (;;) {
    corio__p_t *p = atomic_load_explicit(&t->heap, memory_order_acquire);
    if (!p) return NULL;
    corio__lock(&p->tlock);
    if (atomic_load_explicit(&t->heap, memory_order_relaxed) == p) return p;
    corio__unlock(&p->tlock);
  }
}

void corio__timer_init(corio__timer_t *t, corio__timer_fn fn, void *arg) {
  t->when = 0;
  t->fn = fn;
  t->arg = arg;
  t->seq = 0;
  atomic_store_explicit(&t->heap, NULL, memory_order_relaxed);
  t->idx = -1;
}

/* Tell whoever waits for the earliest timer that there is an earlier one:
 * break the poller if it sleeps past when; otherwise make sure an M looks. */
static void wake_for_timer(int64_t when) {
  /* S1 -> S2 of the wake-up handshake (schedule.c, wakep): timer0when is
   * published before lastpoll, npidle and nmspinning are read. */
  atomic_thread_fence(memory_order_seq_cst);
  if (atomic_load_explicit(&corio__sched.lastpoll, memory_order_acquire) == 0) {
    int64_t until = atomic_load_explicit(&corio__sched.poll_until, memory_order_acquire);
    if (until == 0 || until > when) corio__netpoll_break();
  } else {
    corio__wakep();
  }
}

void corio__timer_reset(corio__timer_t *t, int64_t when, uintptr_t seq) {
  corio__p_t *p = lock_heap_of(t);
  if (p) {
    t->when = when;
    t->seq = seq;
    sift_down(p, t->idx);
    sift_up(p, t->idx);
  } else {
    p = lock_heap_with_room(own_heap());
    t->when = when;
    t->seq = seq;
    atomic_store_explicit(&t->heap, p, memory_order_release);
    heap_set(p, p->ntimers++, t);
    sift_up(p, t->idx);
  }
  int64_t old0 = atomic_load_explicit(&p->timer0when, memory_order_relaxed);
  update_when0(p);
  bool earliest = p->timers[0] == t;
  corio__unlock(&p->tlock);
  if (earliest && (old0 == 0 || when < old0)) wake_for_timer(when);
}

bool corio__timer_stop(corio__timer_t *t) {
  corio__p_t *p = lock_heap_of(t);
  if (!p) return false;
  heap_remove(p, t);
  update_when0(p);
  corio__unlock(&p->tlock);
  return true;
}

int64_t corio__run_timers(corio__p_t *p, int64_t now) {
  int64_t w = atomic_load_explicit(&p->timer0when, memory_order_acquire);
  if (w == 0 || w > now) return w;
  corio__lock(&p->tlock);
  while (p->ntimers > 0 && p->timers[0]->when <= now) {
    corio__timer_t *t = p->timers[0];
    /* Read the timer before heap_remove publishes it as unarmed: from then on
     * another thread may re-arm it and rewrite these fields. */
    corio__timer_fn fn = t->fn;
    void *arg = t->arg;
    uintptr_t seq = t->seq;
    heap_remove(p, t);
    update_when0(p);
    corio__unlock(&p->tlock);
    fn(arg, seq);
    corio__lock(&p->tlock);
  }
  update_when0(p);
  w = p->ntimers ? p->timers[0]->when : 0;
  corio__unlock(&p->tlock);
  return w;
}

int64_t corio__timers_earliest(void) {
  int64_t best = 0;
  for (int i = 0; i < corio__sched.nprocs; i++) {
    int64_t w = atomic_load_explicit(&corio__sched.allp[i].timer0when, memory_order_acquire);
    if (w != 0 && (best == 0 || w < best)) best = w;
  }
  return best;
}

/* Shutdown: the timers themselves may live in Gs already freed; only the heap
 * array is ours to release. */
void corio__timers_free(corio__p_t *p) {
  corio__free(p->timers);
  p->timers = NULL;
  p->ntimers = p->captimers = 0;
  atomic_store_explicit(&p->timer0when, 0, memory_order_relaxed);
}
