/* Channels, after Go's runtime/chan.go.
 *
 * A channel is a ring buffer of cap elements plus two FIFO queues of blocked
 * coroutines (sudogs), all under one short lock. Invariants, with the lock
 * held: recvq is non-empty only when the buffer is empty, sendq only when the
 * buffer is full (for cap 0 it is always "full"), and both are empty once the
 * channel is closed. A sender that finds a receiver waiting copies straight
 * into the receiver's element, and a receiver finding a sender waiting copies
 * straight out of the sender's: parked stacks do not move, so no extra copy
 * through the buffer is needed.
 */
#include <string.h>

#include "chan_internal.h"
#include "proc.h"

corio_chan_t *corio_chan_create(size_t elem_size, size_t capacity) {
  if (elem_size > CORIO_CHAN_MAX_ELEM)
    return NULL;
  if (elem_size != 0 && capacity > (SIZE_MAX - sizeof(corio_chan_t)) / elem_size)
    return NULL;
  corio_chan_t *c = corio__calloc(1, sizeof *c);
  if (c == NULL)
    return NULL;
  if (elem_size != 0 && capacity != 0) {
    c->buf = corio__malloc(elem_size * capacity);
    if (c->buf == NULL) {
      corio__free(c);
      return NULL;
    }
  }
  c->elem_size = elem_size;
  c->cap = capacity;
  return c;
}

void corio_chan_destroy(corio_chan_t *c) {
  if (c == NULL)
    return;
  corio__lock(&c->lock);
  bool waiters = c->recvq.first != NULL || c->sendq.first != NULL;
  corio__unlock(&c->lock);
  /* Without a runtime, waiters can only be coroutines abandoned at shutdown:
   * their stacks are gone and nothing will touch the queues again. */
  if (waiters && corio_procs() != 0)
    corio__throw("corio_chan_destroy: coroutines are blocked on the channel");
  corio__free(c->buf);
  corio__free(c);
}

/* ---- wait queues ---- */

void corio__waitq_push(corio__waitq_t *q, corio__sudog_t *sg) {
  sg->next = NULL;
  sg->prev = q->last;
  if (q->last != NULL)
    q->last->next = sg;
  else
    q->first = sg;
  q->last = sg;
  sg->queued = true;
}

void corio__waitq_remove(corio__waitq_t *q, corio__sudog_t *sg) {
  if (!sg->queued)
    return;
  if (sg->prev != NULL)
    sg->prev->next = sg->next;
  else
    q->first = sg->next;
  if (sg->next != NULL)
    sg->next->prev = sg->prev;
  else
    q->last = sg->prev;
  sg->prev = sg->next = NULL;
  sg->queued = false;
}

corio__sudog_t *corio__waitq_pop(corio__waitq_t *q) {
  for (;;) {
    corio__sudog_t *sg = q->first;
    if (sg == NULL)
      return NULL;
    corio__waitq_remove(q, sg);
    if (sg->sel == NULL)
      return sg;
    /* A select: win it, or skip a sudog whose select another case or the
     * timer has already won. Acq_rel: the winner's writes to the sudog must
     * be visible to the selecting coroutine, which re-reads state. */
    uint32_t st = SEL_PARKED;
    if (atomic_compare_exchange_strong_explicit(&sg->sel->state, &st, SEL_DONE,
                                                memory_order_acq_rel,
                                                memory_order_acquire)) {
      sg->sel->winner = sg;
      return sg;
    }
    if (st == SEL_ENQUEUED)
      corio__throw("corio select: waker saw a select that is not parked");
  }
}

/* ---- the non-blocking steps ---- */

static unsigned char *slot(corio_chan_t *c, size_t i) { return c->buf + i * c->elem_size; }

static void copy_elem(corio_chan_t *c, void *dst, const void *src) {
  if (dst != NULL && c->elem_size != 0)
    memcpy(dst, src, c->elem_size);
}

static void zero_elem(corio_chan_t *c, void *dst) {
  if (dst != NULL && c->elem_size != 0)
    memset(dst, 0, c->elem_size);
}

static size_t next_index(corio_chan_t *c, size_t i) { return i + 1 == c->cap ? 0 : i + 1; }

int corio__chan_send_locked(corio_chan_t *c, const void *elem, corio_g_t **wake) {
  *wake = NULL;
  if (c->closed)
    return CORIO_ECHANCLOSED;
  corio__sudog_t *sg = corio__waitq_pop(&c->recvq);
  if (sg != NULL) { /* a receiver waits, so the buffer is empty: hand it over */
    copy_elem(c, sg->elem, elem);
    sg->success = true;
    *wake = sg->g;
    return 0;
  }
  if (c->count < c->cap) {
    copy_elem(c, slot(c, c->sendx), elem);
    c->sendx = next_index(c, c->sendx);
    c->count++;
    return 0;
  }
  return CORIO_EWOULDBLOCK;
}

int corio__chan_recv_locked(corio_chan_t *c, void *elem, bool *ok, corio_g_t **wake) {
  *wake = NULL;
  corio__sudog_t *sg = corio__waitq_pop(&c->sendq);
  if (sg != NULL) {
    if (c->cap == 0) {
      copy_elem(c, elem, sg->elem);
    } else {
      /* The buffer is full: take its head and put the sender's value at the
       * tail, which is the slot just freed, so FIFO order holds. */
      copy_elem(c, elem, slot(c, c->recvx));
      copy_elem(c, slot(c, c->recvx), sg->elem);
      c->recvx = next_index(c, c->recvx);
      c->sendx = c->recvx;
    }
    sg->success = true;
    *wake = sg->g;
    *ok = true;
    return 0;
  }
  if (c->count > 0) {
    copy_elem(c, elem, slot(c, c->recvx));
    c->recvx = next_index(c, c->recvx);
    c->count--;
    *ok = true;
    return 0;
  }
  if (c->closed) {
    zero_elem(c, elem);
    *ok = false;
    return 0;
  }
  return CORIO_EWOULDBLOCK;
}

/* ---- the public operations ---- */

static bool unlock_chan(corio_g_t *g, void *arg) {
  corio__unlock(&((corio_chan_t *)arg)->lock);
  return true;
}

static int send(corio_chan_t *c, const void *elem, bool block) {
  if (c == NULL || (elem == NULL && c->elem_size != 0))
    return CORIO_EINVAL;
  corio__m_t *m = block ? corio__getm_entry() : NULL; /* before the park only */
  corio_g_t *self = m ? m->curg : NULL;
  if (block && self == NULL)
    return CORIO_ENOTCORO;
  corio_g_t *wake;
  corio__lock(&c->lock);
  int rc = corio__chan_send_locked(c, elem, &wake);
  if (rc != CORIO_EWOULDBLOCK || !block) {
    corio__unlock(&c->lock);
    if (wake != NULL)
      corio__ready(wake);
    return rc;
  }
  corio__sudog_t sg = {.g = self, .elem = (void *)elem, .c = c};
  corio__waitq_push(&c->sendq, &sg);
  corio__park(unlock_chan, c, "chan send");
  /* A receiver or close dequeued us and set success before readying us. */
  return sg.success ? 0 : CORIO_ECHANCLOSED;
}

static int recv(corio_chan_t *c, void *elem, bool *ok, bool block) {
  if (c == NULL)
    return CORIO_EINVAL;
  corio__m_t *m = block ? corio__getm_entry() : NULL; /* before the park only */
  corio_g_t *self = m ? m->curg : NULL;
  if (block && self == NULL)
    return CORIO_ENOTCORO;
  bool got = false;
  corio_g_t *wake;
  corio__lock(&c->lock);
  int rc = corio__chan_recv_locked(c, elem, &got, &wake);
  if (rc != CORIO_EWOULDBLOCK || !block) {
    corio__unlock(&c->lock);
    if (wake != NULL)
      corio__ready(wake);
    if (rc == 0 && ok != NULL)
      *ok = got;
    return rc;
  }
  corio__sudog_t sg = {.g = self, .elem = elem, .c = c};
  corio__waitq_push(&c->recvq, &sg);
  corio__park(unlock_chan, c, "chan receive");
  /* A sender filled elem (success), or close zeroed it. */
  if (ok != NULL)
    *ok = sg.success;
  return 0;
}

int corio_chan_send(corio_chan_t *c, const void *elem) { return send(c, elem, true); }
int corio_chan_try_send(corio_chan_t *c, const void *elem) { return send(c, elem, false); }
int corio_chan_recv(corio_chan_t *c, void *elem, bool *ok) { return recv(c, elem, ok, true); }
int corio_chan_try_recv(corio_chan_t *c, void *elem, bool *ok) {
  return recv(c, elem, ok, false);
}

int corio_chan_close(corio_chan_t *c) {
  if (c == NULL)
    return CORIO_EINVAL;
  corio__glist_t woken = {0};
  corio__sudog_t *sg;
  corio__lock(&c->lock);
  if (c->closed) {
    corio__unlock(&c->lock);
    return CORIO_ECHANCLOSED;
  }
  c->closed = true;
  while ((sg = corio__waitq_pop(&c->recvq)) != NULL) {
    zero_elem(c, sg->elem);
    sg->success = false;
    corio__glist_push(&woken, sg->g);
  }
  while ((sg = corio__waitq_pop(&c->sendq)) != NULL) {
    sg->success = false;
    corio__glist_push(&woken, sg->g);
  }
  corio__unlock(&c->lock);
  /* The sudogs may be gone as soon as their coroutines run; the list links
   * the parked Gs themselves. */
  corio__inject_glist(&woken);
  return 0;
}

size_t corio_chan_len(corio_chan_t *c) {
  if (c == NULL)
    return 0;
  corio__lock(&c->lock);
  size_t n = c->count;
  corio__unlock(&c->lock);
  return n;
}

size_t corio_chan_cap(const corio_chan_t *c) { return c == NULL ? 0 : c->cap; }
