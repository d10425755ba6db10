/* Poll descriptors: the portable half of the netpoller (Go's runtime/netpoll.go
 * is the model; the contract is in netpoll.h). A descriptor parks at most one
 * reader and one writer, wakes them on OS readiness or completion, on a
 * deadline, or on close, and never hands a stale wake-up to a later user of
 * the same memory.
 *
 * Why one file of about 600 lines: the waiter-slot state machine, the info
 * word and the hang-up hint are argued together (each memory-order argument
 * below names operations in block(), unblock_slot(), corio__pd_reset and the
 * delivery), and every function that changes a slot is here, beside them.
 * Split, the arguments would point into other files. */
#include <stdalign.h>
#include <string.h>

#include "netpoll.h"

/* ---- Waiter slots (rg, wg) ----
 * Each slot is a binary semaphore holding one of:
 *   PD_NIL    nothing pending, nobody waiting.
 *   PD_READY  an I/O notification is pending; the next waiter consumes it
 *             (READY -> NIL) and returns at once without parking.
 *   PD_WAIT   a coroutine is about to park but has not parked yet. It commits
 *             by a CAS WAIT -> its waiter record, made after it has switched
 *             away (the park unlock callback). Meanwhile an I/O notification
 *             may change WAIT -> READY, or a timeout / close WAIT -> NIL; the
 *             CAS then fails and the coroutine resumes at once. Without this
 *             intermediate state a notification arriving between "slot is
 *             empty" and "G is parked" would be lost.
 *   waiter    the coroutine is parked: the address of its waiter_t, on its
 *             stack, which names the G. An I/O notification, a timeout or a
 *             close takes it out and readies the G.
 * The coroutine, when it runs again, learns why from its waiter_t: "the
 * handle became ready", or "woken for another reason; look at the closing
 * flag and the deadline". A READY that arrives after its wake-up stays
 * pending for its next wait. Waiter addresses are always greater than
 * PD_WAIT.
 *
 * A waiter is changed only by wakers (the G is parked), and every waker
 * holds pd->lock (unblock_slot). So waking a parked G is a plain store of
 * NIL, the reason goes into the waiter_t, and the G, when it runs, need not
 * take the slot's value with a locked exchange. (A locked instruction costs
 * 15 to 20 cycles here, more than anything else on this path: the kernel
 * leaves the store buffer full.) Every other change is an atomic
 * read-modify-write:
 * NIL and WAIT are changed by the waiter and by wakers at once; and although
 * only the waiter side takes a READY away, a plain load and store there
 * would let a hang-up notification arriving in between be absorbed into the
 * READY being taken, unseen (the hang-up hint, pd->hup).
 */
enum { PD_NIL = 0, PD_READY = 1, PD_WAIT = 2 };

/* ---- The info word ----
 * The bits wait and reset need, readable without the lock (the waiter re-reads
 * them after publishing PD_WAIT; closers and timers write the fields under the
 * lock, publish this word, then look at the slots: with both sides using
 * sequentially consistent atomics, one of them sees the other).
 *   bit 0       closing
 *   bit 1       event error (the only copy of this flag)
 *   bit 2       read deadline expired (rd < 0)
 *   bit 3       write deadline expired (wd < 0)
 *   bits 4..31  low 28 bits of fdseq, so a late event-error report for an
 *               earlier user of the descriptor changes nothing. */
#define INFO_CLOSING (1u << 0)
#define INFO_EVENT_ERR (1u << 1)
#define INFO_RD_EXPIRED (1u << 2)
#define INFO_WD_EXPIRED (1u << 3)
#define INFO_SEQ_SHIFT 4
#define INFO_SEQ_MASK ((1u << 28) - 1)

struct corio__pd {
  /* Lock-free fields: the slots, the info word and fdseq are read by waiters
   * and backends without the lock. Aligned to a cache line, which also gives
   * the tagged references their six free low bits. */
  alignas(64) _Atomic uintptr_t rg; /* read waiter slot */
  _Atomic uintptr_t wg;             /* write waiter slot */
  _Atomic uint32_t info;
  /* The hang-up hint: the backend has reported, since this open, an event of
   * the hang-up class (corio__netpoll_ready_event, CORIO__PD_EV_HUP). Only
   * ever goes false -> true while the descriptor is open; cleared by open.
   * Written under the lock, after the sequence check, and before the slots
   * are looked at; read without the lock (corio__pd_hup_seen).
   *
   * Why a reader that took or dropped the READY of a hang-up notification
   * sees the hint: the hint's store H is seq_cst and precedes the backend's
   * look at the slot B (unblock_slot) in program order. If B woke the reader
   * parked in the slot, the reader learns of the readiness from its waiter_t,
   * written by B and published by the wake-up: H happens before its load of
   * the hint L. Otherwise the reader's slot operation R (the CAS or exchange
   * in block(), the exchange in corio__pd_reset) and L are seq_cst, R before
   * L. Either R reads the READY that B wrote with a CAS: R synchronizes with
   * B, so H happens before L. Or B found READY already there and left it:
   * B's seq_cst load then precedes R in the total order S of seq_cst
   * operations (had R come first, B would have read R's NIL, R being a
   * read-modify-write), so H precedes L in S. Either way L reads true. The
   * hang-up class events all ready the 'r' slot, the one readers look at. */
  _Atomic bool hup;
  /* Bumped (under lock) each time the descriptor goes back to the cache;
   * registrations carry it so late events are recognised. Atomic because
   * backends pre-check it without the lock. */
  _Atomic uintptr_t fdseq;
  /* Guards everything below. In the first cache line with the slots: a
   * delivery touches that line only. */
  corio__lock_t lock;

  uintptr_t handle;
  bool closing;
  bool rt_armed, wt_armed; /* the timer has been reset and has not fired or been stopped */
  /* Timer sequences: bumped whenever a deadline moves or the descriptor is
   * closed or reused, so a timer firing for an older setting does nothing. */
  uintptr_t rseq, wseq;
  int64_t rd, wd; /* 0 none, > 0 absolute monotonic ns, -1 expired */
  corio__timer_t rt, wt;
  corio__pd_t *link; /* free list, guarded by cache.lock */
};

/* ---- The type-stable cache ----
 * Descriptors are carved from blocks that live until corio__netpoll_fini: an
 * epoll event or a completion key may name a descriptor long after its close. */
typedef struct pd_block {
  struct pd_block *next;
} pd_block_t;

#define PD_BLOCK_BYTES (16 * 1024)

static struct {
  corio__lock_t lock;
  corio__pd_t *first;
  pd_block_t *blocks;
} cache = {CORIO__LOCK_INIT, NULL, NULL};

/* Events dropped because their descriptor was closed since (tests look). */
static _Atomic uint64_t stale_events;

/* The waiter count (netpoll.h). waiters_plain: the runtime has one P, so the
 * count is changed by one thread at a time (set by corio__netpoll_init). */
_Atomic int32_t corio__netpoll_waiters;
static bool waiters_plain;

CORIO__HOT static inline void waiters_add(int32_t delta) {
  _Atomic int32_t *c = &corio__netpoll_waiters;
  if (waiters_plain) /* only the single P's holder writes; others only read */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + delta,
                          memory_order_relaxed);
  else
    atomic_fetch_add_explicit(c, delta, memory_order_relaxed);
}

static void read_deadline_fired(void *arg, uintptr_t seq);
static void write_deadline_fired(void *arg, uintptr_t seq);

static bool cache_grow(void) {
  size_t n = (PD_BLOCK_BYTES - sizeof(pd_block_t) - 64) / sizeof(corio__pd_t);
  if (n == 0)
    n = 1;
  /* Heap slots for every descriptor's two deadline timers, reserved now:
   * a deadline is armed under pd->lock, where no memory can be asked for
   * (timer.c). Descriptors live until corio__netpoll_fini, and so do the
   * slots. */
  if (corio__timer_reserve(2 * (int)n) != 0)
    return false;
  pd_block_t *b = corio__malloc(sizeof(pd_block_t) + 63 + n * sizeof(corio__pd_t));
  if (b == NULL) {
    corio__timer_unreserve(2 * (int)n);
    return false;
  }
  uintptr_t p = ((uintptr_t)(b + 1) + 63) & ~(uintptr_t)63;
  corio__pd_t *pds = (corio__pd_t *)p;
  memset(pds, 0, n * sizeof(corio__pd_t));
  for (size_t i = 0; i < n; i++) {
    corio__pd_t *pd = &pds[i];
    atomic_init(&pd->fdseq, 1);
    corio__timer_init(&pd->rt, read_deadline_fired, pd);
    corio__timer_init(&pd->wt, write_deadline_fired, pd);
    pd->link = cache.first;
    cache.first = pd;
  }
  b->next = cache.blocks;
  cache.blocks = b;
  return true;
}

static corio__pd_t *cache_alloc(void) {
  corio__lock(&cache.lock);
  if (cache.first == NULL && !cache_grow()) {
    corio__unlock(&cache.lock);
    return NULL;
  }
  corio__pd_t *pd = cache.first;
  cache.first = pd->link;
  corio__unlock(&cache.lock);
  return pd;
}

/* Under pd->lock: recompute the info word from the locked fields, keeping the
 * event-error bit, which only lives there. */
static void publish_info(corio__pd_t *pd) {
  uint32_t v = 0;
  if (pd->closing)
    v |= INFO_CLOSING;
  if (pd->rd < 0)
    v |= INFO_RD_EXPIRED;
  if (pd->wd < 0)
    v |= INFO_WD_EXPIRED;
  v |= (uint32_t)(atomic_load_explicit(&pd->fdseq, memory_order_relaxed) & INFO_SEQ_MASK)
       << INFO_SEQ_SHIFT;
  uint32_t x = atomic_load(&pd->info);
  /* seq_cst: this store must be ordered before the slot loads that follow it
   * in unblock_slot (the closer's half of the Dekker pattern with block()). */
  while (!atomic_compare_exchange_weak(&pd->info, &x, (x & INFO_EVENT_ERR) | v)) {
  }
}

static void cache_free(corio__pd_t *pd) {
  corio__lock(&pd->lock);
  /* Late events and timers carry the old sequence and are dropped from now on. */
  atomic_store_explicit(&pd->fdseq, atomic_load_explicit(&pd->fdseq, memory_order_relaxed) + 1,
                        memory_order_release);
  pd->rseq++;
  pd->wseq++;
  publish_info(pd);
  corio__unlock(&pd->lock);

  corio__lock(&cache.lock);
  pd->link = cache.first;
  cache.first = pd;
  corio__unlock(&cache.lock);
}

static _Atomic uintptr_t *slot(corio__pd_t *pd, int mode) {
  if (mode == 'r')
    return &pd->rg;
  if (mode == 'w')
    return &pd->wg;
  corio__throw("runtime: poll descriptor mode is not 'r' or 'w'");
}

/* Why an I/O attempt or a wait in mode must not proceed (CORIO__POLL_*). */
static int check_err(corio__pd_t *pd, int mode) {
  uint32_t info = atomic_load(&pd->info); /* seq_cst: the waiter's half, see block() */
  if (info & INFO_CLOSING)
    return CORIO__POLL_ERR_CLOSING;
  if ((mode == 'r' && (info & INFO_RD_EXPIRED)) || (mode == 'w' && (info & INFO_WD_EXPIRED)))
    return CORIO__POLL_ERR_TIMEOUT;
  /* An event error is reported to readers only; a writer's next write call
   * reports the precise error itself (as in Go). */
  if (mode == 'r' && (info & INFO_EVENT_ERR))
    return CORIO__POLL_ERR_NOT_POLLABLE;
  return CORIO__POLL_OK;
}

/* What a parked coroutine leaves in its slot: on its stack, valid while it
 * is parked. Filled by block() and commit(); io by its waker. */
typedef struct waiter {
  _Atomic uintptr_t *gpp;
  corio_g_t *g;
  bool committed; /* the commit CAS published us; read by the G after it resumes */
  bool io;        /* woken because the handle became ready (unblock_slot) */
} waiter_t;

/* Under pd->lock: move the slot of mode towards READY (ioready: the OS said
 * so) or NIL (a timeout or close) and return the G parked there, if any. A
 * pending READY stays; NIL stays NIL unless ioready, since a waiter checks
 * deadlines and closing before it parks. */
static corio_g_t *unblock_slot(corio__pd_t *pd, int mode, bool ioready) {
  _Atomic uintptr_t *gpp = slot(pd, mode);
  uintptr_t next = ioready ? PD_READY : PD_NIL;
  uintptr_t old = atomic_load(gpp); /* seq_cst: the closer's half, see block() */
  for (;;) {
    if (old == PD_READY)
      return NULL;
    if (old == PD_NIL && !ioready)
      return NULL;
    if (old > PD_WAIT) {
      /* A parked G: only wakers change the slot now, and they hold the lock,
       * so a store will do. The slot goes back to NIL and the G learns the
       * reason from its waiter_t (block()), which spares it a locked exchange
       * when it runs. Both are published to it by the wake-up itself. */
      waiter_t *w = (waiter_t *)old;
      w->io = ioready;
      atomic_store_explicit(gpp, PD_NIL, memory_order_release);
      return w->g;
    }
    if (atomic_compare_exchange_weak(gpp, &old, next))
      return NULL;
  }
}

/* The park unlock callback (Go's netpollblockcommit), run on the scheduler
 * once the G has switched away: publish the waiter in its slot unless a
 * notification, timeout or close got there first. The waiter count goes up
 * before the CAS, so once the G is visible to wakers it is already counted. */
CORIO__HOT static bool commit(corio_g_t *g, void *arg) {
  waiter_t *w = arg;
  waiters_add(1);
  /* Written before the CAS: after a successful CAS the G may run at once. */
  w->committed = true;
  w->g = g;
  uintptr_t expect = PD_WAIT;
  if (atomic_compare_exchange_strong(w->gpp, &expect, (uintptr_t)w))
    return true;
  w->committed = false;
  waiters_add(-1);
  return false;
}

/* Wait for a notification in mode. true: the handle became ready; false:
 * woken by a timeout or close, or did not park because one is in force.
 * waitio: park even if closing or expired (wait_canceled). */
static bool block(corio__pd_t *pd, int mode, bool waitio) {
  _Atomic uintptr_t *gpp = slot(pd, mode);
  /* A load first: a CAS is a locked instruction even when it fails, and a
   * waiter usually finds the slot NIL. Only the CASes decide. */
  uintptr_t v = atomic_load(gpp);
  for (;;) {
    if (v == PD_READY && atomic_compare_exchange_strong(gpp, &v, PD_NIL))
      return true; /* consumed a pending notification */
    if (v == PD_NIL && atomic_compare_exchange_strong(gpp, &v, PD_WAIT))
      break;
    if (v != PD_NIL && v != PD_READY)
      corio__throw("runtime: double wait on a poll descriptor");
  }
  /* The slot says WAIT now; re-check closing and deadlines, which closers and
   * timers change before they look at the slot (both sides seq_cst). */
  waiter_t w = {gpp, NULL, false, false};
  if (waitio || check_err(pd, mode) == CORIO__POLL_OK)
    corio__park_io(commit, &w, "io wait");
  if (CORIO__LIKELY(w.committed)) {
    waiters_add(-1);
    /* Our waker took us out of the slot, left NIL there and said why in w
     * (unblock_slot): no locked instruction to take the slot's value. A
     * notification that came after it is pending as READY, for the next
     * wait. */
    return w.io;
  }
  /* We did not park, or a waker got there before our commit: exchange, not
   * store, so that a READY that arrived meanwhile is not lost. */
  uintptr_t old = atomic_exchange(gpp, PD_NIL);
  if (old > PD_WAIT)
    corio__throw("runtime: corrupted poll descriptor");
  return old == PD_READY;
}

/* ---- Deadlines ---- */

/* Under pd->lock: set one deadline and keep its timer in step. */
static void set_one_deadline(corio__pd_t *pd, int64_t *dl, corio__timer_t *t, uintptr_t *seq,
                             bool *armed, int64_t d) {
  int64_t old = *dl;
  *dl = d;
  if (!*armed) {
    if (d > 0) {
      *armed = true;
      corio__timer_reset(t, d, *seq);
    }
    return;
  }
  if (d == old)
    return;
  (*seq)++; /* a firing of the old setting, already under way, does nothing */
  if (d > 0) {
    corio__timer_reset(t, d, *seq);
  } else {
    corio__timer_stop(t);
    *armed = false;
  }
}

void corio__pd_set_deadline(corio__pd_t *pd, int64_t deadline, int mode) {
  if (mode != 'r' && mode != 'w' && mode != 'r' + 'w')
    corio__throw("runtime: bad poll descriptor deadline mode");
  if (deadline != 0 && deadline <= corio__nanotime())
    deadline = -1;
  corio__lock(&pd->lock);
  if (pd->closing) {
    corio__unlock(&pd->lock);
    return;
  }
  if (mode != 'w')
    set_one_deadline(pd, &pd->rd, &pd->rt, &pd->rseq, &pd->rt_armed, deadline);
  if (mode != 'r')
    set_one_deadline(pd, &pd->wd, &pd->wt, &pd->wseq, &pd->wt_armed, deadline);
  publish_info(pd); /* before unblock_slot: a waiter that sees NIL must see the expiry */
  corio_g_t *rg = pd->rd < 0 ? unblock_slot(pd, 'r', false) : NULL;
  corio_g_t *wg = pd->wd < 0 ? unblock_slot(pd, 'w', false) : NULL;
  corio__unlock(&pd->lock);
  if (rg)
    corio__ready(rg);
  if (wg)
    corio__ready(wg);
}

/* A deadline timer fired (scheduler context). */
static void deadline_fired(corio__pd_t *pd, uintptr_t seq, int mode) {
  corio__lock(&pd->lock);
  bool r = mode == 'r';
  if (seq != (r ? pd->rseq : pd->wseq)) {
    corio__unlock(&pd->lock); /* moved, closed or reused since it was armed */
    return;
  }
  int64_t *dl = r ? &pd->rd : &pd->wd;
  bool *armed = r ? &pd->rt_armed : &pd->wt_armed;
  if (*dl <= 0 || !*armed)
    corio__throw("runtime: inconsistent poll descriptor deadline");
  *dl = -1;
  *armed = false;
  publish_info(pd);
  corio_g_t *g = unblock_slot(pd, mode, false);
  corio__unlock(&pd->lock);
  if (g)
    corio__ready(g);
}

static void read_deadline_fired(void *arg, uintptr_t seq) { deadline_fired(arg, seq, 'r'); }
static void write_deadline_fired(void *arg, uintptr_t seq) { deadline_fired(arg, seq, 'w'); }

/* ---- Descriptor operations ---- */

int corio__pd_open(uintptr_t handle, corio__pd_t **out) {
  *out = NULL;
  corio__pd_t *pd = cache_alloc();
  if (pd == NULL)
    return CORIO_ENOMEM;
  corio__lock(&pd->lock);
  uintptr_t rg = atomic_load(&pd->rg), wg = atomic_load(&pd->wg);
  if ((rg != PD_NIL && rg != PD_READY) || (wg != PD_NIL && wg != PD_READY))
    corio__throw("runtime: blocked waiter on a free poll descriptor");
  pd->handle = handle;
  pd->closing = false;
  pd->rseq++;
  pd->wseq++;
  atomic_store(&pd->rg, PD_NIL);
  atomic_store(&pd->wg, PD_NIL);
  pd->rd = 0;
  pd->wd = 0;
  atomic_store(&pd->hup, false);
  /* A fresh word: no flags, the current sequence, the event error cleared. */
  atomic_store(&pd->info, (uint32_t)(atomic_load_explicit(&pd->fdseq, memory_order_relaxed) &
                                     INFO_SEQ_MASK)
                              << INFO_SEQ_SHIFT);
  /* The poller learns of pd from the kernel, which orders nothing for the C
   * memory model (nor for race detectors): its first acquire load of fdseq
   * reads this release store, which publishes the initialisation above and
   * that of a freshly carved block. */
  atomic_store_explicit(&pd->fdseq, atomic_load_explicit(&pd->fdseq, memory_order_relaxed),
                        memory_order_release);
  corio__unlock(&pd->lock);

  int err = corio__netpoll_open(handle, pd);
  if (err != 0) {
    cache_free(pd);
    return err;
  }
  *out = pd;
  return 0;
}

void corio__pd_close(corio__pd_t *pd) {
  if (!(atomic_load(&pd->info) & INFO_CLOSING))
    corio__throw("runtime: close of a poll descriptor without unblock");
  uintptr_t rg = atomic_load(&pd->rg), wg = atomic_load(&pd->wg);
  if ((rg != PD_NIL && rg != PD_READY) || (wg != PD_NIL && wg != PD_READY))
    corio__throw("runtime: close of a poll descriptor with a waiter");
  /* An earlier unregistration by the caller makes this one fail harmlessly. */
  (void)corio__netpoll_close(pd->handle);
  cache_free(pd);
}

CORIO__HOT int corio__pd_reset(corio__pd_t *pd, int mode) {
  int err = check_err(pd, mode);
  if (err != CORIO__POLL_OK)
    return err;
  /* Usually there is nothing to forget, and a load is much cheaper than a
   * locked exchange. When there is, an exchange, not a store: as it drops
   * a READY it reads from it, so the hang-up hint published before that
   * READY is visible to the caller afterwards, although the notification
   * itself is gone (see pd->hup). A READY that lands after the load was not
   * dropped: it stays pending, which is all a later wait needs. */
  _Atomic uintptr_t *gpp = slot(pd, mode);
  if (atomic_load(gpp) != PD_NIL)
    (void)atomic_exchange(gpp, PD_NIL);
  return CORIO__POLL_OK;
}

CORIO__HOT int corio__pd_wait(corio__pd_t *pd, int mode) {
  int err = check_err(pd, mode);
  if (err != CORIO__POLL_OK)
    return err;
  /* Only a coroutine can park: a foreign thread (or the embedder's thread
   * outside corio_main) gets an error, not the scheduler's fatal one. */
  if (CORIO__UNLIKELY(corio__getg() == NULL))
    return CORIO__POLL_ERR_NOTCORO;
  while (!block(pd, mode, false)) {
    err = check_err(pd, mode);
    if (err != CORIO__POLL_OK)
      return err;
    /* Woken by a deadline that was moved again before we ran: wait on. */
  }
  return CORIO__POLL_OK;
}

void corio__pd_wait_canceled(corio__pd_t *pd, int mode) {
  /* Only the completion ends this wait; closes and deadlines are ignored. */
  while (!block(pd, mode, true)) {
  }
}

void corio__pd_unblock(corio__pd_t *pd) {
  corio__lock(&pd->lock);
  if (pd->closing)
    corio__throw("runtime: unblock of a closing poll descriptor");
  pd->closing = true;
  pd->rseq++;
  pd->wseq++;
  publish_info(pd);
  corio_g_t *rg = unblock_slot(pd, 'r', false);
  corio_g_t *wg = unblock_slot(pd, 'w', false);
  if (pd->rt_armed) {
    corio__timer_stop(&pd->rt);
    pd->rt_armed = false;
  }
  if (pd->wt_armed) {
    corio__timer_stop(&pd->wt);
    pd->wt_armed = false;
  }
  corio__unlock(&pd->lock);
  if (rg)
    corio__ready(rg);
  if (wg)
    corio__ready(wg);
}

uintptr_t corio__pd_seq(const corio__pd_t *pd) {
  return atomic_load_explicit(&((corio__pd_t *)pd)->fdseq, memory_order_acquire);
}

/* Set the event-error bit to b if the info word still carries seq. */
__attribute__((noinline)) static void set_event_err_to(corio__pd_t *pd, uintptr_t seq, bool b) {
  uint32_t want = (uint32_t)(seq & INFO_SEQ_MASK);
  uint32_t x = atomic_load(&pd->info);
  for (;;) {
    if (((x >> INFO_SEQ_SHIFT) & INFO_SEQ_MASK) != want)
      return;
    if (((x & INFO_EVENT_ERR) != 0) == b)
      return;
    if (atomic_compare_exchange_weak(&pd->info, &x, x ^ INFO_EVENT_ERR))
      return;
  }
}

/* ---- Backend side ---- */

uint64_t corio__pd_tagged(corio__pd_t *pd, uint32_t tag) {
  uint64_t a = (uint64_t)(uintptr_t)pd;
  if (tag >> CORIO__PD_TAG_BITS)
    corio__throw("runtime: poll descriptor tag too wide");
  if ((a & 63) != 0 || (a >> 48) != 0)
    corio__throw("runtime: poll descriptor address does not fit a tagged reference");
  return (a >> 6) << CORIO__PD_TAG_BITS | tag;
}

bool corio__pd_current(corio__pd_t *pd, uint32_t seq_tag, int tag_bits) {
  uintptr_t mask = ((uintptr_t)1 << tag_bits) - 1;
  if ((atomic_load_explicit(&pd->fdseq, memory_order_acquire) & mask) == seq_tag)
    return true;
  atomic_fetch_add_explicit(&stale_events, 1, memory_order_relaxed);
  return false;
}

CORIO__HOT bool corio__pd_hup_seen(corio__pd_t *pd) {
  /* seq_cst, the L of the argument above pd->hup. On x86-64 and aarch64 it
   * costs what an acquire load does. */
  return atomic_load(&pd->hup);
}

/* Laid out for the common case (a current descriptor, no flag to change, a
 * reader to wake): straight-line code touches fewer instruction cache lines,
 * which the kernel evicts between two polls. */
CORIO__HOT bool corio__netpoll_ready_event(corio__pd_t *pd, uint32_t seq_tag, int tag_bits, int mode,
                                           unsigned ev, corio__glist_t *out) {
  uintptr_t mask = ((uintptr_t)1 << tag_bits) - 1;
  /* A cheap look first: most stale events are dropped without the lock. */
  if (CORIO__UNLIKELY(!corio__pd_current(pd, seq_tag, tag_bits)))
    return false;
  /* Under the lock, cache_free cannot bump the sequence (nor pd_open reuse
   * the descriptor) between the check and the delivery. */
  corio__lock(&pd->lock);
  uintptr_t seq = atomic_load_explicit(&pd->fdseq, memory_order_relaxed);
  if (CORIO__UNLIKELY((seq & mask) != seq_tag)) {
    corio__unlock(&pd->lock);
    atomic_fetch_add_explicit(&stale_events, 1, memory_order_relaxed);
    return false;
  }
  bool err = (ev & CORIO__PD_EV_ERR) != 0;
  if (CORIO__UNLIKELY(((atomic_load(&pd->info) & INFO_EVENT_ERR) != 0) != err))
    set_event_err_to(pd, seq, err);
  /* The hint goes before the slots are looked at (H before B, see pd->hup). */
  if (CORIO__UNLIKELY(ev & CORIO__PD_EV_HUP) && !atomic_load_explicit(&pd->hup, memory_order_relaxed))
    atomic_store(&pd->hup, true);
  corio_g_t *rg = mode != 'w' ? unblock_slot(pd, 'r', true) : NULL;
  corio_g_t *wg = mode != 'r' ? unblock_slot(pd, 'w', true) : NULL;
  corio__unlock(&pd->lock);
  if (rg)
    corio__glist_push(out, rg);
  if (wg)
    corio__glist_push(out, wg);
  return true;
}

/* ---- Poller life ---- */

int corio__netpoll_init(int nprocs) {
  /* No coroutine runs yet: nobody waits, nobody reads. */
  atomic_store_explicit(&corio__netpoll_waiters, 0, memory_order_relaxed);
  waiters_plain = nprocs == 1;
  return corio__netpoll_backend_init();
}

void corio__netpoll_fini(void) {
  corio__netpoll_backend_fini();
  /* No M runs. Descriptors left open by abandoned coroutines may still have
   * deadline timers in the timer heaps; the heaps are dropped without being
   * walked (corio__timers_free), so freeing the blocks is safe. */
  corio__lock(&cache.lock);
  pd_block_t *b = cache.blocks;
  cache.blocks = NULL;
  cache.first = NULL;
  corio__unlock(&cache.lock);
  while (b) {
    pd_block_t *next = b->next;
    corio__free(b);
    b = next;
  }
}

/* ---- Capabilities ---- */

static _Atomic uint32_t caps_mask = ~0u; /* tests mask capabilities off */

uint32_t corio__netpoll_caps(void) {
  return corio__netpoll_backend_caps() & atomic_load_explicit(&caps_mask, memory_order_relaxed);
}

/* ---- For tests (netpoll_testing.h) ---- */

void corio__netpoll_debug_mask_caps(uint32_t mask) {
  atomic_store_explicit(&caps_mask, mask, memory_order_relaxed);
}

uintptr_t corio__pd_debug_slot(const corio__pd_t *pd, int mode) {
  uintptr_t v = atomic_load(slot((corio__pd_t *)pd, mode));
  /* A parked waiter's G (the waiter_t is on its stack, alive while parked). */
  return v > PD_WAIT ? (uintptr_t)((waiter_t *)v)->g : v;
}

int corio__netpoll_debug_waiters(void) { return atomic_load(&corio__netpoll_waiters); }

uint64_t corio__netpoll_debug_stale_events(void) { return atomic_load(&stale_events); }
