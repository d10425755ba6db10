/* Select over several channel operations, after Go's runtime/select.go.
 *
 * 1. Shuffle the cases (the poll order) so that, when several are ready, each
 *    is equally likely to fire; sort the distinct channels by address (the
 *    lock order), so that two selects over the same channels cannot deadlock.
 * 2. Lock every channel and try each case in poll order; the first that can
 *    proceed fires.
 * 3. Otherwise (unless polling) queue a sudog on every case's channel, park,
 *    and let the park callback drop the locks once the coroutine is off its
 *    stack. The first waker wins the select (see corio__selwait_t).
 * 4. On waking, lock every channel again and take the losing sudogs off their
 *    queues.
 */
#include <string.h>

#include "chan_internal.h"

#define STACK_CASES 16 /* scratch arrays for this many cases live on the stack */

typedef struct scratch {
  int *pollorder;            /* indices of the cases with a channel, shuffled */
  corio_chan_t **lockorder;  /* the distinct channels, by address */
  corio__sudog_t *sudogs;    /* one per case */
  int npoll, nlock;
} scratch_t;

/* Per-thread xorshift. Not inlined and never used across a park, so a thread
 * switch cannot leave a stale thread-local address behind (see DESIGN.md). */
__attribute__((noinline)) static uint32_t fastrand(void) {
  static _Thread_local uint32_t x;
  if (x == 0)
    x = (uint32_t)((uintptr_t)&x >> 4) ^ (uint32_t)corio__nanotime() ^ 0x9e3779b9u;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

static void shuffle(int *a, int n) {
  for (int i = n - 1; i > 0; i--) {
    int j = (int)(fastrand() % (uint32_t)(i + 1));
    int t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

static void sift_down(corio_chan_t **a, int root, int n) {
  for (;;) {
    int child = 2 * root + 1;
    if (child >= n)
      return;
    if (child + 1 < n && (uintptr_t)a[child + 1] > (uintptr_t)a[child])
      child++;
    if ((uintptr_t)a[root] >= (uintptr_t)a[child])
      return;
    corio_chan_t *t = a[root];
    a[root] = a[child];
    a[child] = t;
    root = child;
  }
}

/* Heap sort by address, then drop duplicates. Returns the distinct count. */
static int sort_unique(corio_chan_t **a, int n) {
  for (int i = n / 2 - 1; i >= 0; i--)
    sift_down(a, i, n);
  for (int end = n - 1; end > 0; end--) {
    corio_chan_t *t = a[0];
    a[0] = a[end];
    a[end] = t;
    sift_down(a, 0, end);
  }
  int m = 0;
  for (int i = 0; i < n; i++)
    if (m == 0 || a[m - 1] != a[i])
      a[m++] = a[i];
  return m;
}

static void lock_all(const scratch_t *s) {
  for (int i = 0; i < s->nlock; i++)
    corio__lock(&s->lockorder[i]->lock);
}

static void unlock_all(const scratch_t *s) {
  for (int i = s->nlock - 1; i >= 0; i--)
    corio__unlock(&s->lockorder[i]->lock);
}

typedef struct parkarg {
  const scratch_t *s;
  corio__selwait_t *sw;
} parkarg_t;

/* Park callback (scheduler context). Once PARKED is published a timer may
 * ready the coroutine, which then blocks on the first channel lock we still
 * hold; so we only read the lock order (which it does not write) and touch
 * nothing of its stack after the last unlock. */
static bool select_commit(corio_g_t *g, void *arg) {
  parkarg_t *p = arg;
  corio_chan_t **locks = p->s->lockorder;
  int n = p->s->nlock;
  uint32_t st = SEL_ENQUEUED;
  bool park = atomic_compare_exchange_strong_explicit(
      &p->sw->state, &st, SEL_PARKED, memory_order_acq_rel, memory_order_acquire);
  for (int i = n - 1; i >= 0; i--)
    corio__unlock(&locks[i]->lock);
  return park; /* false: the timer won before we switched; run on at once */
}

static void selwait_unref(corio__selwait_t *sw) {
  if (atomic_fetch_sub_explicit(&sw->refs, 1, memory_order_acq_rel) == 1)
    corio__free(sw);
}

/* Timer callback (scheduler context): the select's deadline passed. */
static void select_timeout(void *arg, uintptr_t seq) {
  corio__selwait_t *sw = arg;
  uint32_t st = atomic_load_explicit(&sw->state, memory_order_acquire);
  for (;;) {
    if (st != SEL_ENQUEUED && st != SEL_PARKED)
      break; /* a channel operation won */
    uint32_t from = st;
    if (atomic_compare_exchange_strong_explicit(&sw->state, &st, SEL_TIMEDOUT,
                                                memory_order_acq_rel,
                                                memory_order_acquire)) {
      if (from == SEL_PARKED)
        corio__ready(sw->g); /* from ENQUEUED, select_commit lets it run */
      break;
    }
  }
  selwait_unref(sw);
}

/* Try every case in poll order with all locks held. Returns the fired case or
 * -1; *wake as for corio__chan_*_locked. */
static int poll_cases(corio_select_case_t *cases, const scratch_t *s, corio_g_t **wake) {
  for (int i = 0; i < s->npoll; i++) {
    int k = s->pollorder[i];
    corio_select_case_t *cs = &cases[k];
    int rc;
    if (cs->dir == CORIO_SELECT_SEND) {
      rc = corio__chan_send_locked(cs->chan, cs->elem, wake);
      cs->ok = rc == 0;
    } else {
      rc = corio__chan_recv_locked(cs->chan, cs->elem, &cs->ok, wake);
    }
    if (rc != CORIO_EWOULDBLOCK)
      return k;
  }
  return -1;
}

static int check_cases(const corio_select_case_t *cases, int n, int *live) {
  if (n < 0 || n > CORIO_SELECT_MAX || (cases == NULL && n > 0))
    return CORIO_EINVAL;
  *live = 0;
  for (int i = 0; i < n; i++) {
    const corio_select_case_t *cs = &cases[i];
    if (cs->dir != CORIO_SELECT_SEND && cs->dir != CORIO_SELECT_RECV)
      return CORIO_EINVAL;
    if (cs->chan == NULL)
      continue;
    if (cs->dir == CORIO_SELECT_SEND && cs->elem == NULL && cs->chan->elem_size != 0)
      return CORIO_EINVAL;
    (*live)++;
  }
  return 0;
}

static int alloc_scratch(scratch_t *s, int n, void **heap) {
  size_t bytes = (size_t)n * (sizeof(int) + sizeof(corio_chan_t *) + sizeof(corio__sudog_t));
  *heap = corio__malloc(bytes);
  if (*heap == NULL)
    return CORIO_ENOMEM;
  s->sudogs = *heap; /* most aligned first */
  s->lockorder = (corio_chan_t **)(s->sudogs + n);
  s->pollorder = (int *)(s->lockorder + n);
  return 0;
}

static void fill_scratch(scratch_t *s, const corio_select_case_t *cases, int n) {
  s->npoll = 0;
  for (int i = 0; i < n; i++) {
    if (cases[i].chan == NULL)
      continue;
    s->pollorder[s->npoll] = i;
    s->lockorder[s->npoll] = cases[i].chan;
    s->npoll++;
  }
  shuffle(s->pollorder, s->npoll);
  s->nlock = sort_unique(s->lockorder, s->npoll);
}

/* Step 3 and 4: block until a case fires or the deadline passes. Called with
 * every lock held; returns with none held. */
static int block(corio_select_case_t *cases, scratch_t *s, int64_t deadline) {
  corio__selwait_t local = {.g = corio__getg()};
  corio__selwait_t *sw = &local;
  if (deadline != 0) {
    sw = corio__calloc(1, sizeof *sw);
    if (sw == NULL) {
      unlock_all(s);
      return CORIO_ENOMEM;
    }
    sw->g = local.g;
    atomic_init(&sw->refs, 2); /* ours and the armed timer's */
    corio__timer_init(&sw->timer, select_timeout, sw);
  }
  for (int i = 0; i < s->npoll; i++) {
    int k = s->pollorder[i];
    corio__sudog_t *sg = &s->sudogs[k];
    *sg = (corio__sudog_t){.g = sw->g, .elem = cases[k].elem, .c = cases[k].chan, .sel = sw};
    corio__waitq_push(cases[k].dir == CORIO_SELECT_SEND ? &sg->c->sendq : &sg->c->recvq, sg);
  }
  if (deadline != 0)
    corio__timer_reset(&sw->timer, deadline, 0);
  parkarg_t pa = {s, sw};
  corio__park(select_commit, &pa, "select");

  lock_all(s);
  uint32_t st = atomic_load_explicit(&sw->state, memory_order_acquire);
  corio__sudog_t *winner = st == SEL_DONE ? sw->winner : NULL;
  for (int i = 0; i < s->npoll; i++) {
    int k = s->pollorder[i];
    corio__sudog_t *sg = &s->sudogs[k];
    corio__waitq_remove(cases[k].dir == CORIO_SELECT_SEND ? &sg->c->sendq : &sg->c->recvq, sg);
  }
  unlock_all(s);
  if (deadline != 0) {
    if (corio__timer_stop(&sw->timer))
      selwait_unref(sw); /* it will never fire: drop its reference for it */
    selwait_unref(sw);
  }
  if (winner == NULL)
    return CORIO_ETIMEOUT;
  int k = (int)(winner - s->sudogs);
  cases[k].ok = winner->success;
  return k;
}

int corio_select(corio_select_case_t *cases, int n, int64_t deadline) {
  int live;
  int rc = check_cases(cases, n, &live);
  if (rc != 0)
    return rc;
  if (deadline < 0)
    deadline = 1; /* long past: poll */
  bool polling = deadline != 0 && deadline <= corio__nanotime();
  if (!polling && corio__getg() == NULL)
    return CORIO_ENOTCORO;
  if (live == 0) { /* nothing can ever fire: wait out the deadline */
    if (deadline == 0)
      return CORIO_EINVAL;
    if (!polling)
      corio_sleep_until(deadline);
    return CORIO_ETIMEOUT;
  }

  int pollorder[STACK_CASES];
  corio_chan_t *lockorder[STACK_CASES];
  corio__sudog_t sudogs[STACK_CASES];
  scratch_t s = {pollorder, lockorder, sudogs, 0, 0};
  void *heap = NULL;
  if (n > STACK_CASES && (rc = alloc_scratch(&s, n, &heap)) != 0)
    return rc;
  fill_scratch(&s, cases, n);

  corio_g_t *wake = NULL;
  lock_all(&s);
  rc = poll_cases(cases, &s, &wake);
  if (rc >= 0 || polling) {
    unlock_all(&s);
    if (wake != NULL)
      corio__ready(wake);
    if (rc < 0)
      rc = CORIO_ETIMEOUT;
  } else {
    rc = block(cases, &s, deadline);
  }
  if (heap != NULL)
    corio__free(heap);
  return rc;
}
