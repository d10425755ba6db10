/* Coroutines: spawn, the switch-out paths (park, yield, exit) and ready.
 *
 * A coroutine that stops running never finishes its own bookkeeping: its stack
 * is still in use until the switch is complete. Instead it leaves an action in
 * its M (m->action, m->prevg) and whatever context runs next (another
 * coroutine, switched to directly when the P's local queue has one, or the M's
 * scheduler loop) calls after_switch, which parks, requeues or frees it. This
 * is Go's mcall(park_m) turned into a direct G-to-G switch. */
#include "netpoll.h"
#include "os.h"
#include "proc.h"
#include "runq.h"
#include "sched_testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Alignas(64) corio__sched_t corio__sched;

/* used: getm_entry reads it from asm, which link-time optimization does not see. */
__attribute__((used)) _Thread_local corio__m_t *corio__tls_m CORIO__TLS_MODEL;

__attribute__((noinline)) corio__m_t *corio__getm(void) {
  /* Keep the compiler from caching the TLS address across a switch. */
  corio__m_t *m;
  __asm__ volatile("" ::: "memory");
  m = corio__tls_m;
  return m;
}

void corio__setm(corio__m_t *m) { corio__tls_m = m; }

__attribute__((noinline)) corio_g_t *corio__getg(void) {
  corio__m_t *m = corio__getm();
  return m ? m->curg : NULL;
}

corio_g_t *corio_current(void) { return corio__getg(); }
uint64_t corio_g_id(const corio_g_t *g) { return g ? g->id : 0; }

/* sched_testing.h. Acquire: the wait reason was written before the release
 * store that made the G WAITING (after_switch). */
const char *corio__g_debug_state(corio_g_t *g) {
  uint32_t st = atomic_load_explicit(&g->status, memory_order_acquire);
  if (st == G_SYSCALL) return "syscall";
  return st == G_WAITING ? g->waitreason : NULL;
}

/* ---- G allocation ---- */

static void gentry(void *arg, void *pass);

/* Record a new G (for shutdown) with the timer slot it may use (timer.c).
 * 0 or CORIO_ENOMEM (nothing recorded). The table grows with no lock held. */
static int allg_add(corio_g_t *g) {
  if (corio__timer_reserve(1) != 0) return CORIO_ENOMEM;
  corio__sched_t *s = &corio__sched;
  corio__lock(&s->allg_lock);
  while (s->nallg == s->capallg) {
    size_t cap = s->capallg ? s->capallg * 2 : 1024;
    corio__unlock(&s->allg_lock);
    corio_g_t **n = corio__malloc(cap * sizeof *n);
    if (!n) {
      corio__timer_unreserve(1);
      return CORIO_ENOMEM;
    }
    corio__lock(&s->allg_lock);
    if (s->capallg >= cap) { /* grown meanwhile */
      corio__free(n);
      continue;
    }
    if (s->nallg) memcpy(n, s->allg, s->nallg * sizeof *n);
    corio__free(s->allg);
    s->allg = n;
    s->capallg = cap;
  }
  s->allg[s->nallg++] = g;
  corio__unlock(&s->allg_lock);
  return 0;
}

static corio_g_t *gfget(size_t stack_size) {
  if (stack_size != corio__sched.stack_size) return NULL;
  corio__lock(&corio__sched.gfree_lock);
  corio_g_t *g = corio__sched.gfree;
  if (g) corio__sched.gfree = g->schedlink;
  corio__unlock(&corio__sched.gfree_lock);
  return g;
}

/* A dead G keeps its stack for reuse when it has the default size. */
static void gfput(corio_g_t *g) {
  atomic_store_explicit(&g->status, G_IDLE, memory_order_relaxed);
  if (g->stack.size != corio__sched.stack_size) {
    corio__stack_free(&g->stack);
    g->stack.size = 0;
  }
  corio__lock(&corio__sched.gfree_lock);
  g->schedlink = corio__sched.gfree;
  corio__sched.gfree = g;
  corio__unlock(&corio__sched.gfree_lock);
}

static int galloc(size_t stack_size, corio_g_t **out) {
  corio_g_t *g = gfget(stack_size);
  if (!g) {
    corio__lock(&corio__sched.gfree_lock);
    /* A free G whose stack was dropped can take a stack of any size. */
    corio_g_t **pp = &corio__sched.gfree;
    while (*pp && (*pp)->stack.lo) pp = &(*pp)->schedlink;
    g = *pp;
    if (g) *pp = g->schedlink;
    corio__unlock(&corio__sched.gfree_lock);
  }
  if (!g) {
    g = corio__calloc(1, CORIO__LINE_SIZE(sizeof *g));
    if (!g) return CORIO_ENOMEM;
    if (allg_add(g) != 0) {
      corio__free(g);
      return CORIO_ENOMEM;
    }
  }
  if (!g->stack.lo) {
    int rc = corio__stack_alloc(&g->stack, stack_size, corio__sched.stack_policy);
    if (rc) {
      gfput(g); /* recorded in allg: kept for reuse, stackless */
      return rc;
    }
  }
  corio__san_g_init(g);
  *out = g;
  return 0;
}

/* ---- spawn ---- */

int corio__newproc(corio_fn_t fn, void *arg, size_t stack_size, corio_g_t **out) {
  corio_g_t *g;
  if (stack_size == 0) stack_size = corio__sched.stack_size;
  int rc = galloc(stack_size, &g);
  if (rc) return rc;
  g->fn = fn;
  g->arg = arg;
  g->waitreason = NULL;
  g->m = NULL;
  g->id = atomic_fetch_add_explicit(&corio__sched.goidgen, 1, memory_order_relaxed) + 1;
  corio__timer_init(&g->timer, NULL, NULL);
  corio__ctx_make(&g->ctx, g->stack.lo, g->stack.hi, gentry, g);
  atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_release);
  if (out) *out = g;
  return 0;
}

/* Queue a runnable G: on the current P when there is one (as runnext, so it
 * runs soon, like Go's newproc and goready), else on the global queue. */
static void runnable_put(corio__m_t *m, corio_g_t *g, bool next) {
  if (m && m->p) {
    corio__runqput(m->p, g, next);
  } else {
    corio__globrunqput_locking(g);
  }
  if (atomic_load_explicit(&corio__sched.state, memory_order_acquire) == RT_RUNNING)
    corio__wakep();
}

int corio_spawn_stack(corio_fn_t fn, void *arg, size_t stack_size) {
  int st = atomic_load_explicit(&corio__sched.state, memory_order_acquire);
  if (st == RT_NONE) return CORIO_ENOTINIT;
  if (st == RT_DONE || atomic_load_explicit(&corio__sched.stopping, memory_order_acquire))
    return CORIO_ESHUTDOWN;
  if (!fn) return CORIO_EINVAL;
  if (stack_size == 0) stack_size = corio__sched.stack_size;
  if (stack_size < CORIO_MIN_STACK || stack_size > CORIO_MAX_STACK) return CORIO_EINVAL;
  corio_g_t *g;
  int rc = corio__newproc(fn, arg, stack_size, &g);
  if (rc) return rc;
  runnable_put(corio__getm(), g, true);
  return 0;
}

int corio_spawn(corio_fn_t fn, void *arg) { return corio_spawn_stack(fn, arg, 0); }

/* ---- switching out and back in ---- */

/* Pick the next G without going through the scheduler loop: only from the
 * local queue, and only when the loop has nothing more urgent to do (a due
 * timer, the periodic look at the global queue and, while no sysmon runs to
 * do it, at the network (see corio__periodic_poll_due), shutdown). */
__attribute__((always_inline)) static inline corio_g_t *pick_local(corio__m_t *m) {
  corio__p_t *p = m->p;
  if (!p || atomic_load_explicit(&corio__sched.stopping, memory_order_relaxed)) return NULL;
  if (p->schedtick % 61 == 0 &&
      (atomic_load_explicit(&corio__sched.runqsize, memory_order_relaxed) ||
       corio__periodic_poll_due(p)))
    return NULL;
  int64_t w = atomic_load_explicit(&p->timer0when, memory_order_relaxed);
  if (w != 0 && w <= corio__nanotime()) return NULL;
  corio_g_t *g = corio__runqget(p);
  if (g) p->schedtick++;
  return g;
}

/* Inline into yield and park, the hot callers: one call level less on the
 * path of every switch. poll_ok: a wait on the netpoller, which may poll on
 * its way out (corio__poll_on_park). */
__attribute__((always_inline)) static inline void switch_out(corio__m_t *m, corio_g_t *g,
                                                             int action, bool local_ok,
                                                             bool poll_ok) {
  m->prevg = g;
  m->action = action;
  corio_g_t *next = local_ok ? pick_local(m) : NULL;
  if (poll_ok && !next) next = corio__poll_on_park(m);
  bool dies = action == ACT_EXIT;
  if (next) {
    if (action == ACT_YIELD_GLOBAL) m->action = ACT_YIELD_LOCAL;
    m->curg = next;
    next->m = m;
    atomic_store_explicit(&next->status, G_RUNNING, memory_order_relaxed);
    m = corio__switch(&g->ctx, &g->san, &next->ctx, &next->san, dies, m);
  } else {
    m->curg = NULL;
    m = corio__switch(&g->ctx, &g->san, &m->g0ctx, &m->g0san, dies, m);
  }
  /* Resumed, maybe on another M: m is the one that switched back to g. The
   * yield ping-pong's requeue is done here, the rest out of line. */
  if (m->action == ACT_YIELD_LOCAL) {
    corio_g_t *prev = m->prevg;
    m->action = ACT_NONE;
    m->prevg = NULL;
    atomic_store_explicit(&prev->status, G_RUNNABLE, memory_order_release);
    corio__runqput_back(m->p, prev);
  } else if (m->action != ACT_NONE) {
    corio__after_switch(m);
  }
}

CORIO__HOT void corio__after_switch(corio__m_t *m) {
  corio_g_t *g = m->prevg;
  int action = m->action;
  m->action = ACT_NONE;
  m->prevg = NULL;
  /* Parking first, outside the switch: it is the common case, and a jump
   * table is one more cache line to fetch. */
  if (CORIO__LIKELY(action == ACT_PARK)) {
    corio_unlock_fn_t f = m->unlockf;
    void *arg = m->unlockarg;
    m->unlockf = NULL;
    m->unlockarg = NULL;
    /* Release: whoever readies g after unlock publishes it must see its saved
     * context. */
    atomic_store_explicit(&g->status, G_WAITING, memory_order_release);
    if (f && !f(g, arg)) corio__ready(g);
    return;
  }
  switch (action) {
  case ACT_NONE:
    break;
  case ACT_YIELD_LOCAL:
    atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_release);
    corio__runqput(m->p, g, false);
    break;
  case ACT_YIELD_GLOBAL:
  case ACT_REQUEUE:
    atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_release);
    corio__globrunqput_locking(g);
    if (action == ACT_REQUEUE) {
      /* A coroutine back from a system call without a P (syscall.c): queued
       * now, so it leaves the deadlock check's syscall count. This M holds
       * no P: start one for it (handshake, see wakep). */
      if (corio__sched.detect_deadlock)
        atomic_fetch_sub_explicit(&corio__sched.nsyscall, 1, memory_order_seq_cst);
      corio__start_idle(1);
    }
    break;
  case ACT_EXIT:
    atomic_store_explicit(&g->status, G_DEAD, memory_order_relaxed);
    gfput(g);
    break;
  default:
    corio__throw("after_switch: bad action");
  }
}

void corio__switch_out(corio__m_t *m, corio_g_t *g, int action, bool local_ok) {
  switch_out(m, g, action, local_ok, false);
}

static void gentry(void *arg, void *pass) {
  corio_g_t *g = arg;
  corio__switch_finish(&g->san);
  corio__after_switch(pass);
  g->fn(g->arg);
  corio__m_t *m = corio__getm();
  corio__switch_out(m, m->curg, ACT_EXIT, true);
  corio__throw("a dead coroutine was resumed");
}

/* ---- park / ready / yield ---- */

__attribute__((always_inline)) static inline void park(corio_unlock_fn_t unlock, void *arg,
                                                       const char *reason, bool poll_ok) {
  corio__m_t *m = corio__getm_entry();
  corio_g_t *g = m ? m->curg : NULL;
  if (!g) corio__throw("corio__park called outside a coroutine");
  g->waitreason = reason;
  m->unlockf = unlock;
  m->unlockarg = arg;
  switch_out(m, g, ACT_PARK, true, poll_ok);
}

CORIO__HOT void corio__park(corio_unlock_fn_t unlock, void *arg, const char *reason) {
  park(unlock, arg, reason, false);
}

CORIO__HOT void corio__park_io(corio_unlock_fn_t unlock, void *arg, const char *reason) {
  park(unlock, arg, reason, true);
}

int corio_park(corio_unlock_fn_t unlock, void *arg, const char *reason) {
  if (!corio__getg()) return CORIO_ENOTCORO;
  corio__park(unlock, arg, reason ? reason : "park");
  return 0;
}

CORIO__HOT void corio__ready(corio_g_t *g) {
  corio__g_wake(g, "ready of a coroutine that is not parked");
  /* A coroutine readying another hands it the rest of its time slice
   * (runnext); the scheduler's own wake-ups (timers) keep FIFO order. */
  corio__m_t *m = corio__getm_entry();
  runnable_put(m, g, m && m->curg);
}

void corio_ready(corio_g_t *g) {
  if (!g) corio__throw("corio_ready(NULL)");
  corio__ready(g);
}

CORIO__HOT int corio_yield(void) {
  corio__m_t *m = corio__getm_entry();
  if (!m || !m->curg) return CORIO_ENOTCORO;
  switch_out(m, m->curg, ACT_YIELD_GLOBAL, true, false);
  return 0;
}

/* ---- glists ---- */

void corio__glist_push(corio__glist_t *l, corio_g_t *g) {
  g->schedlink = NULL;
  if (l->tail) l->tail->schedlink = g;
  else l->head = g;
  l->tail = g;
  l->n++;
}

void corio__inject_glist(corio__glist_t *l) {
  corio_g_t *g = l->head;
  corio__m_t *m = corio__getm();
  if (!m || !m->p) {
    /* sysmon, a foreign thread: start idle Ps for them (handshake). */
    if (g) corio__inject_nop(g);
    l->head = l->tail = NULL;
    l->n = 0;
    return;
  }
  while (g) {
    corio_g_t *next = g->schedlink;
    corio__ready(g);
    g = next;
  }
  l->head = l->tail = NULL;
  l->n = 0;
}

/* ---- time and sleep ---- */

int64_t corio__nanotime(void) { return corio__os_nanotime(); }
int64_t corio_nanotime(void) { return corio__os_nanotime(); }

static void sleep_fire(void *arg, uintptr_t seq) {
  (void)seq;
  corio__ready(arg);
}

/* Arm the timer only once the G is parked, so it cannot fire early. */
static bool sleep_commit(corio_g_t *g, void *arg) {
  (void)arg;
  corio__timer_reset(&g->timer, g->sleep_until, 0);
  return true;
}

int corio_sleep_until(int64_t deadline) {
  corio_g_t *g = corio__getg();
  if (!g) return CORIO_ENOTCORO;
  if (deadline <= corio__nanotime()) return corio_yield();
  g->sleep_until = deadline;
  corio__timer_init(&g->timer, sleep_fire, g);
  corio__park(sleep_commit, NULL, "sleep");
  return 0;
}

int corio_sleep(int64_t ns) {
  if (!corio__getg()) return CORIO_ENOTCORO;
  if (ns <= 0) return corio_yield();
  return corio_sleep_until(corio__time_add(corio__nanotime(), ns));
}
