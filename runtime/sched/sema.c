/* Semaphores keyed by address, after Go's runtime/sema.go.
 *
 * A semaphore is any uint32_t holding a count of tokens. Coroutines that find
 * it at zero wait in a table of SEMTAB_ROOTS roots, chosen by hashing the
 * address. Each root has a short lock, a count of waiters and a list of
 * address queues: the head waiter of each distinct address is linked into the
 * root's list (anext/aprev) and heads a FIFO of the other waiters on that
 * address (next/prev, with the last one in head->tail). A release therefore
 * costs a walk over the distinct addresses that hash to the root, not over
 * every waiter.
 *
 * The count and nwait form a Dekker pair: an acquirer increments nwait and
 * then re-reads the count; a releaser increments the count and then reads
 * nwait. Both sides use sequentially consistent operations, so at least one
 * of them sees the other and no wake-up is lost.
 *
 * A deadline is a timer whose callback runs in scheduler context, possibly
 * after the waiter has returned; the waiter and its timer therefore live in a
 * heap block with two references (the waiter's and the armed timer's), and
 * whoever drops the last one frees it.
 */
#include <stdalign.h>
#include <stddef.h>

#include "corio/sync.h"
#include "sched.h"
#include "sema_internal.h"

#define SEMTAB_ROOTS 251

typedef struct semwaiter semwaiter_t;
struct semwaiter {
  uint32_t *addr;
  corio_g_t *g;
  /* All links and flags below are guarded by the root's lock, except ticket,
   * written by the releaser that dequeued this waiter before it readies g. */
  semwaiter_t *prev, *next;   /* FIFO of waiters on addr */
  semwaiter_t *tail;          /* head only: the last waiter on addr */
  semwaiter_t *aprev, *anext; /* head only: the root's list of heads */
  bool queued;                /* in a queue now */
  bool expired;               /* the deadline's timer has fired */
  bool ticket;                /* a hand-off release took the token for us */
};

typedef struct semroot {
  alignas(64) corio__lock_t lock;
  _Atomic uint32_t nwait; /* waiters queued or about to queue; see the Dekker note */
  semwaiter_t *heads;     /* guarded by lock */
} semroot_t;

static semroot_t semtable[SEMTAB_ROOTS];

typedef struct semtimed {
  semwaiter_t w;
  corio__timer_t timer;
  _Atomic int refs;
} semtimed_t;

static semroot_t *root_for(const uint32_t *addr) {
  return &semtable[((uintptr_t)addr >> 3) % SEMTAB_ROOTS];
}

/* Take a token if there is one. */
static bool can_acquire(uint32_t *addr) {
  uint32_t v = __atomic_load_n(addr, __ATOMIC_SEQ_CST);
  while (v > 0) {
    if (__atomic_compare_exchange_n(addr, &v, v - 1, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
      return true;
  }
  return false;
}

static semwaiter_t *find_head(semroot_t *r, const uint32_t *addr) {
  for (semwaiter_t *h = r->heads; h != NULL; h = h->anext)
    if (h->addr == addr)
      return h;
  return NULL;
}

/* Put to in from's place in the root's list of heads. */
static void replace_head(semroot_t *r, semwaiter_t *from, semwaiter_t *to) {
  to->aprev = from->aprev;
  to->anext = from->anext;
  if (to->aprev != NULL)
    to->aprev->anext = to;
  else
    r->heads = to;
  if (to->anext != NULL)
    to->anext->aprev = to;
}

static void queue(semroot_t *r, semwaiter_t *s, bool lifo) {
  semwaiter_t *h = find_head(r, s->addr);
  s->queued = true;
  s->prev = s->next = NULL;
  if (h == NULL) {
    s->tail = s;
    s->aprev = NULL;
    s->anext = r->heads;
    if (r->heads != NULL)
      r->heads->aprev = s;
    r->heads = s;
  } else if (lifo) {
    replace_head(r, h, s);
    s->tail = h->tail;
    s->next = h;
    h->prev = s;
  } else {
    h->tail->next = s;
    s->prev = h->tail;
    h->tail = s;
  }
}

static void unqueue(semroot_t *r, semwaiter_t *s) {
  s->queued = false;
  if (s->prev != NULL) { /* not the head: an ordinary list removal */
    semwaiter_t *h = find_head(r, s->addr);
    s->prev->next = s->next;
    if (s->next != NULL)
      s->next->prev = s->prev;
    else
      h->tail = s->prev;
    return;
  }
  semwaiter_t *nx = s->next;
  if (nx != NULL) { /* the next waiter becomes the head */
    replace_head(r, s, nx);
    nx->tail = s->tail;
    nx->prev = NULL;
    return;
  }
  if (s->aprev != NULL)
    s->aprev->anext = s->anext;
  else
    r->heads = s->anext;
  if (s->anext != NULL)
    s->anext->aprev = s->aprev;
}

static void timed_unref(semtimed_t *t) {
  if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
    corio__free(t);
}

/* Timer callback, scheduler context: the deadline passed. */
static void sema_timeout(void *arg, uintptr_t seq) {
  semtimed_t *t = arg;
  semroot_t *r = root_for(t->w.addr);
  corio_g_t *g = NULL;
  corio__lock(&r->lock);
  t->w.expired = true;
  if (t->w.queued) {
    unqueue(r, &t->w);
    atomic_fetch_sub_explicit(&r->nwait, 1, memory_order_seq_cst);
    g = t->w.g;
  }
  corio__unlock(&r->lock);
  if (g != NULL)
    corio__ready(g);
  timed_unref(t);
}

static bool unlock_root(corio_g_t *g, void *arg) {
  corio__unlock(&((semroot_t *)arg)->lock);
  return true;
}

/* The wait loop: a waiter woken without a ticket may lose the token to a
 * newcomer, and then queues again, as in Go. expired is read under the lock
 * because the timer writes it there. */
static int wait_loop(semroot_t *r, semwaiter_t *s, bool lifo) {
  for (;;) {
    corio__lock(&r->lock);
    atomic_fetch_add_explicit(&r->nwait, 1, memory_order_seq_cst);
    int rc = 1;
    if (can_acquire(s->addr))
      rc = 0;
    else if (s->expired)
      rc = CORIO_ETIMEOUT;
    if (rc != 1) {
      atomic_fetch_sub_explicit(&r->nwait, 1, memory_order_seq_cst);
      corio__unlock(&r->lock);
      return rc;
    }
    queue(r, s, lifo);
    corio__park(unlock_root, r, "semacquire");
    if (s->ticket || can_acquire(s->addr))
      return 0;
  }
}

int corio__sema_acquire(uint32_t *addr, bool lifo, int64_t deadline) {
  if (can_acquire(addr))
    return 0;
  if (deadline != 0 && deadline <= corio__nanotime())
    return CORIO_ETIMEOUT;
  semroot_t *r = root_for(addr);
  if (deadline == 0) {
    semwaiter_t w = {.addr = addr, .g = corio__getg()};
    return wait_loop(r, &w, lifo);
  }
  semtimed_t *t = corio__calloc(1, sizeof *t);
  if (t == NULL)
    return CORIO_ENOMEM;
  t->w.addr = addr;
  t->w.g = corio__getg();
  atomic_init(&t->refs, 2); /* ours and the armed timer's */
  corio__timer_init(&t->timer, sema_timeout, t);
  corio__timer_reset(&t->timer, deadline, 0);
  int rc = wait_loop(r, &t->w, lifo);
  if (corio__timer_stop(&t->timer))
    timed_unref(t); /* it will never fire: drop its reference for it */
  timed_unref(t);
  return rc;
}

void corio__sema_release(uint32_t *addr, bool handoff) {
  semroot_t *r = root_for(addr);
  __atomic_fetch_add(addr, 1, __ATOMIC_SEQ_CST);
  if (atomic_load_explicit(&r->nwait, memory_order_seq_cst) == 0)
    return; /* nobody waits: the Dekker pair makes this check safe */
  corio__lock(&r->lock);
  if (atomic_load_explicit(&r->nwait, memory_order_seq_cst) == 0) {
    corio__unlock(&r->lock);
    return;
  }
  semwaiter_t *h = find_head(r, addr);
  if (h != NULL) {
    unqueue(r, h);
    atomic_fetch_sub_explicit(&r->nwait, 1, memory_order_seq_cst);
  }
  corio__unlock(&r->lock);
  if (h == NULL)
    return;
  /* h is ours alone now: it is dequeued, and only its dequeuer readies it. */
  corio_g_t *g = h->g;
  if (handoff && can_acquire(addr))
    h->ticket = true;
  corio__ready(g);
}

void corio__sema_forget_all(void) {
  for (int i = 0; i < SEMTAB_ROOTS; i++) {
    semroot_t *r = &semtable[i];
    corio__lock(&r->lock);
    r->heads = NULL; /* the entries are on freed stacks: never touch them */
    atomic_store_explicit(&r->nwait, 0, memory_order_seq_cst);
    corio__unlock(&r->lock);
  }
}

int corio_sema_acquire(uint32_t *addr) {
  if (addr == NULL)
    return CORIO_EINVAL;
  if (corio__getg() == NULL)
    return CORIO_ENOTCORO;
  return corio__sema_acquire(addr, false, 0);
}

int corio_sema_acquire_until(uint32_t *addr, int64_t deadline) {
  if (addr == NULL)
    return CORIO_EINVAL;
  if (corio__getg() == NULL)
    return CORIO_ENOTCORO;
  if (deadline < 0)
    deadline = 1; /* long past: poll */
  return corio__sema_acquire(addr, false, deadline);
}

void corio_sema_release(uint32_t *addr) {
  if (addr != NULL)
    corio__sema_release(addr, false);
}
