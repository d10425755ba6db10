/* Channel internals shared by chan.c and select.c (after Go's hchan, sudog and
 * selectgo). Private to runtime/sched. */
#ifndef CORIO_CHAN_INTERNAL_H
#define CORIO_CHAN_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "corio/sync.h"
#include "sched.h"

typedef struct corio__selwait corio__selwait_t;

/* A coroutine blocked on one channel operation (Go's sudog). It lives on the
 * blocked coroutine's stack, which stays put while it is parked, so elem may
 * point there too. Every field is guarded by c->lock, and once a waker has
 * dequeued it (and won its select), it belongs to that waker until it readies
 * g. */
typedef struct corio__sudog {
  corio_g_t *g;
  void *elem;                 /* the value to send, or where to receive (may be NULL) */
  corio_chan_t *c;
  struct corio__sudog *prev, *next;
  corio__selwait_t *sel;      /* NULL for a plain send or receive */
  bool queued;                /* in one of c's wait queues */
  bool success;               /* the operation happened; false: woken by close */
} corio__sudog_t;

typedef struct corio__waitq {
  corio__sudog_t *first, *last;
} corio__waitq_t;

struct corio_chan {
  corio__lock_t lock;
  size_t elem_size;           /* immutable */
  size_t cap;                 /* immutable */
  size_t count;               /* values in buf; guarded by lock */
  size_t sendx, recvx;        /* ring indices; guarded by lock */
  bool closed;                /* guarded by lock */
  corio__waitq_t recvq, sendq; /* guarded by lock */
  unsigned char *buf;         /* cap * elem_size bytes, NULL when that is 0 */
};

/* A select's wait, shared by all its sudogs. state is the select's state
 * machine; only the one transition out of PARKED (or, for the timer, out of
 * ENQUEUED) that succeeds may wake the coroutine:
 *
 *   ENQUEUED  sudogs are queued, the coroutine still holds every case's
 *             channel lock and has not switched out yet
 *   PARKED    set by the park callback before it drops the channel locks; a
 *             waker (who holds a channel lock, so it can only see PARKED,
 *             DONE or TIMEDOUT) moves it to DONE, records its sudog as winner
 *             and readies the coroutine
 *   DONE      a channel operation fired (winner says which)
 *   TIMEDOUT  the deadline's timer won. From PARKED the timer readies the
 *             coroutine; from ENQUEUED (it fired before the switch) it does
 *             not, and the park callback, failing its ENQUEUED -> PARKED
 *             move, returns false so the coroutine runs on at once.
 *
 * Wakers that lose the race skip the sudog (it is already off their queue);
 * the coroutine removes the rest of its sudogs under every channel lock.
 * Without a deadline it lives on the selecting stack; with one it is on the
 * heap with two references (the coroutine's and the armed timer's), because
 * the timer callback may run after select has returned. */
enum { SEL_ENQUEUED = 0, SEL_PARKED = 1, SEL_DONE = 2, SEL_TIMEDOUT = 3 };

struct corio__selwait {
  _Atomic uint32_t state;
  corio__sudog_t *winner; /* written by the waker that moved state to DONE */
  corio_g_t *g;
  corio__timer_t timer;   /* only with a deadline */
  _Atomic int refs;       /* only with a deadline */
};

void corio__waitq_push(corio__waitq_t *q, corio__sudog_t *sg);
/* The first sudog whose operation can still happen (a select's that it wins),
 * off the queue; NULL when none. */
corio__sudog_t *corio__waitq_pop(corio__waitq_t *q);
/* Take sg off q if it is still there. */
void corio__waitq_remove(corio__waitq_t *q, corio__sudog_t *sg);

/* One step of a send or receive with c->lock held, never blocking. Returns 0
 * when it happened (*ok for a receive as corio_chan_recv), CORIO_ECHANCLOSED
 * for a send on a closed channel, CORIO_EWOULDBLOCK otherwise. *wake receives
 * a coroutine to ready after c->lock is dropped, or NULL. */
int corio__chan_send_locked(corio_chan_t *c, const void *elem, corio_g_t **wake);
int corio__chan_recv_locked(corio_chan_t *c, void *elem, bool *ok, corio_g_t **wake);

#endif
