/* The scheduler loop of each M: find a runnable G and run it, after Go's
 * schedule/findrunnable. An M without work gives its P back and sleeps on a
 * futex (stopm); at most one idle M blocks in the netpoller instead, until the
 * next timer, so timers and I/O wake the runtime. wakep starts a spinning M
 * when new work appears and Ps are idle. */
#include "netpoll.h"
#include "os.h"
#include "proc.h"
#include "runq.h"
#include "sched_testing.h"

void (*corio__sched_test_hook)(int where);

/* ---- global queue and idle lists (sched.lock held) ---- */

void corio__globrunqput(corio_g_t *g) {
  g->schedlink = NULL;
  if (corio__sched.runqtail) corio__sched.runqtail->schedlink = g;
  else corio__sched.runqhead = g;
  corio__sched.runqtail = g;
  /* seq_cst: the submit half of the wake-up handshake (see wakep). */
  atomic_fetch_add_explicit(&corio__sched.runqsize, 1, memory_order_seq_cst);
}

/* Take a batch for p: return one G, put up to max-1 more on p's local queue. */
static corio_g_t *globrunqget(corio__p_t *p, int max) {
  int size = atomic_load_explicit(&corio__sched.runqsize, memory_order_relaxed);
  if (size == 0) return NULL;
  int n = size / corio__sched.nprocs + 1;
  if (n > size) n = size;
  if (max > 0 && n > max) n = max;
  if (n > (int)RUNQ_SIZE / 2) n = RUNQ_SIZE / 2;
  atomic_fetch_sub_explicit(&corio__sched.runqsize, n, memory_order_relaxed);
  corio_g_t *g = corio__sched.runqhead;
  corio__sched.runqhead = g->schedlink;
  while (--n > 0) {
    corio_g_t *g1 = corio__sched.runqhead;
    corio__sched.runqhead = g1->schedlink;
    corio__runqput(p, g1, false);
  }
  if (!corio__sched.runqhead) corio__sched.runqtail = NULL;
  return g;
}

void corio__pidleput(corio__p_t *p) {
  atomic_store_explicit(&p->status, P_IDLE, memory_order_relaxed);
  p->m = NULL;
  p->link = corio__sched.pidle;
  corio__sched.pidle = p;
  atomic_fetch_add_explicit(&corio__sched.npidle, 1, memory_order_release);
}

void corio__globrunqput_locking(corio_g_t *g) {
  corio__lock(&corio__sched.lock);
  corio__globrunqput(g);
  corio__unlock(&corio__sched.lock);
}

corio__p_t *corio__pidleget_locking(void) {
  corio__lock(&corio__sched.lock);
  corio__p_t *p = corio__pidleget();
  corio__unlock(&corio__sched.lock);
  return p;
}

corio__p_t *corio__pidleget(void) {
  corio__p_t *p = corio__sched.pidle;
  if (p) {
    corio__sched.pidle = p->link;
    atomic_fetch_sub_explicit(&corio__sched.npidle, 1, memory_order_release);
  }
  return p;
}

void corio__acquirep(corio__m_t *m, corio__p_t *p) {
  m->p = p;
  p->m = m;
  atomic_store_explicit(&p->status, P_RUNNING, memory_order_release);
}

static corio__p_t *releasep(corio__m_t *m) {
  corio__p_t *p = m->p;
  p->m = NULL;
  m->p = NULL;
  return p;
}

/* ---- starting and stopping Ms ---- */

static void mstart(void *arg);

static corio__m_t *newm_alloc(void) {
  corio__lock(&corio__sched.lock);
  corio__m_t *m = corio__sched.mfailed; /* a record whose thread failed to start */
  if (m) corio__sched.mfailed = m->schedlink;
  corio__unlock(&corio__sched.lock);
  if (m) return m;
  m = corio__calloc(1, CORIO__LINE_SIZE(sizeof *m));
  if (!m) return NULL;
  corio__lock(&corio__sched.lock);
  m->id = corio__sched.mcount++;
  m->alllink = corio__sched.allm;
  corio__sched.allm = m;
  corio__unlock(&corio__sched.lock);
  m->rand = 0x9E3779B97F4A7C15ull * (uint64_t)(m->id + 1);
  return m;
}

corio__m_t *corio__newm_m0(void) { return newm_alloc(); }

/* No memory or no thread for a new M (issue 12, items 2 and 4): nobody
 * called for it, so nobody can be told. The runtime runs on with the Ms it
 * has: the P goes back to the idle list and the spinning count taken for
 * the M is given back (under sched.lock, as startm does); the work that
 * asked for an M stays queued, where the existing Ms find it (every P's M
 * looks at the global queue before it lets go, spinning Ms steal local
 * work, sysmon hands over the P of an M stuck in a system call). The M's
 * record, when it was made, stays on allm with no thread (shutdown joins
 * only Ms with one) and is reused by the next newm. */
static void newm_failed(corio__p_t *p, bool spinning, corio__m_t *m) {
  corio__lock(&corio__sched.lock);
  if (m) {
    m->nextp = NULL;
    m->spinning = false;
    m->schedlink = corio__sched.mfailed;
    corio__sched.mfailed = m;
  }
  corio__pidleput(p);
  if (spinning) atomic_fetch_sub_explicit(&corio__sched.nmspinning, 1, memory_order_seq_cst);
  corio__unlock(&corio__sched.lock);
  atomic_fetch_add_explicit(&corio__sched.nmfailed, 1, memory_order_relaxed);
  corio__mlive_done(); /* the thread that was not made */
  corio__mlive_done(); /* the creator */
}

/* nmlive counts M threads that may still run, plus creators that have not
 * yet stored the new thread's handle: shutdown joins every handle once the
 * count is zero (a creator may be a foreign thread, so it counts itself). */
static void newm(corio__p_t *p, bool spinning) {
  corio__lock(&corio__sched.lock);
  if (atomic_load_explicit(&corio__sched.stopping, memory_order_acquire)) {
    corio__pidleput(p);
    corio__unlock(&corio__sched.lock);
    if (spinning) atomic_fetch_sub_explicit(&corio__sched.nmspinning, 1, memory_order_acq_rel);
    return;
  }
  atomic_fetch_add_explicit(&corio__sched.nmlive, 2, memory_order_acq_rel);
  corio__unlock(&corio__sched.lock);
  corio__m_t *m = newm_alloc();
  if (CORIO__UNLIKELY(!m)) {
    newm_failed(p, spinning, NULL);
    return;
  }
  m->nextp = p;
  m->spinning = spinning;
  corio__sysmon_ensure();
  uintptr_t t;
  if (CORIO__UNLIKELY(corio__os_thread_start(&t, mstart, m) != 0)) {
    newm_failed(p, spinning, m);
    return;
  }
  corio__lock(&corio__sched.lock);
  m->thread = t;
  corio__unlock(&corio__sched.lock);
  corio__mlive_done();
}

void corio__mlive_done(void) {
  if (atomic_fetch_sub_explicit(&corio__sched.nmlive, 1, memory_order_acq_rel) == 1)
    corio__os_futex_wake((_Atomic uint32_t *)&corio__sched.nmlive, -1);
}

/* Start an M to run p (or an idle P when p is NULL). spinning: the caller
 * already counted the new M in nmspinning. */
void corio__startm(corio__p_t *p, bool spinning) {
  corio__lock(&corio__sched.lock);
  if (!p) {
    p = corio__pidleget();
    if (!p) {
      /* The spinning count wakep took goes back under sched.lock: a
       * submitter that saw it and woke nobody put its work on the global
       * queue under this lock before us, when no P was idle, so the M of
       * some P will see that work before it drops its P (handshake, case 3). */
      if (spinning) atomic_fetch_sub_explicit(&corio__sched.nmspinning, 1, memory_order_seq_cst);
      corio__unlock(&corio__sched.lock);
      return;
    }
  }
  corio__m_t *m = corio__sched.midle;
  if (m) corio__sched.midle = m->schedlink;
  corio__unlock(&corio__sched.lock);
  if (!m) {
    newm(p, spinning);
    return;
  }
  m->spinning = spinning;
  m->nextp = p;
  atomic_store_explicit(&m->park, 0, memory_order_release);
  corio__os_futex_wake(&m->park, 1);
}

/* The wake-up handshake ("queue work, then wake an M" against "drop the P,
 * re-check, sleep"), after Go's proc.go "Worker thread parking/unparking".
 * The models/ check of this protocol follows these steps by name.
 *
 * Submit (every path that makes a G runnable or arms a timer):
 *   S1  publish the work: local run queue (the P's holder), global queue
 *       (globrunqput under sched.lock, seq_cst add to runqsize), a timer
 *       (timer0when, then a seq_cst fence in wake_for_timer);
 *   S2  wakep: seq_cst loads of npidle, then nmspinning; when both allow,
 *       CAS nmspinning 0 -> 1 and startm a spinning M on an idle P.
 * Work on the submitter's own local queue or heap needs no wake-up to be
 * run: the submitter's M runs or hands over its P before it sleeps (a P in
 * a system call is retaken by sysmon, whose handoffp sees the work). Work
 * submitted without a P goes to the global queue (or an idle P's heap).
 *
 * Drop (findrunnable, the only place an M with a P goes to sleep):
 *   D1  under sched.lock: take global work if runqsize != 0, else put the P
 *       on the idle list (npidle + 1);
 *   D2  if spinning: nmspinning - 1 (seq_cst), then look again: the global
 *       queue (seq_cst load of runqsize; taken under sched.lock with an idle
 *       P), every P's local queue;
 *   D3  read the timers (corio__timers_earliest) for the poller's timeout;
 *   D4  block in the poller, or stopm.
 * Why nothing is lost, for a submitter without a P (global queue):
 *   1. its S1 is under sched.lock before our D1: D1 sees runqsize != 0.
 *   2. after D1: its S2 sees npidle > 0 (same lock). If it sees nmspinning
 *      == 0 it starts an M; if it sees a spinner, that spinner's D2
 *      decrement comes after S2's load in the seq_cst order, hence after
 *      S1's add, and D2's load sees the work. (Before the fix D2 looked
 *      only at local queues: issue 12's lost wake-up, the M then blocked
 *      in epoll_wait(-1) with a G on the global queue and a P idle.)
 *   3. the spinning count was taken by a wakep that found no idle P
 *      (startm): it gives the count back under sched.lock, see there.
 * Gs that an M without a P takes from the poller (take_polled, sysmon)
 * also start idle Ps directly, one per G, as Go's injectglist does
 * (start_idle), without relying on the spinning count at all. Timers: D3
 * comes after D2's seq_cst decrement and wake_for_timer fences after
 * publishing timer0when, so one of the two sees the other. */
void corio__wakep(void) {
  if (atomic_load_explicit(&corio__sched.npidle, memory_order_seq_cst) == 0) return;
  int zero = 0;
  if (atomic_load_explicit(&corio__sched.nmspinning, memory_order_seq_cst) != 0 ||
      !atomic_compare_exchange_strong_explicit(&corio__sched.nmspinning, &zero, 1,
                                               memory_order_seq_cst, memory_order_relaxed))
    return;
  corio__startm(NULL, true);
}

/* Start up to n idle Ps for n Gs just put on the global queue by an M
 * without a P (Go's injectglist): not through wakep, which does nothing
 * while another M spins. */
void corio__start_idle(int n) {
  for (int i = 0; i < n; i++) {
    corio__p_t *p = corio__pidleget_locking();
    if (!p) break;
    corio__startm(p, false);
  }
}

/* Hand off a P whose M is blocked (or gone): start an M for it if anything
 * could need it, else put it on the idle list. */
void corio__handoffp(corio__p_t *p) {
  if (!corio__runqempty(p) || atomic_load_explicit(&corio__sched.runqsize, memory_order_acquire) ||
      atomic_load_explicit(&p->timer0when, memory_order_acquire) ||
      atomic_load_explicit(&corio__sched.stopping, memory_order_acquire)) {
    corio__startm(p, false);
    return;
  }
  if (atomic_load_explicit(&corio__sched.nmspinning, memory_order_acquire) == 0 &&
      atomic_load_explicit(&corio__sched.npidle, memory_order_acquire) == 0) {
    /* No one else is looking for work: make sure someone does. */
    int zero = 0;
    if (atomic_compare_exchange_strong_explicit(&corio__sched.nmspinning, &zero, 1,
                                                memory_order_acq_rel, memory_order_relaxed)) {
      corio__startm(p, true);
      return;
    }
  }
  corio__lock(&corio__sched.lock);
  corio__pidleput(p);
  corio__unlock(&corio__sched.lock);
  /* Someone may be waiting on I/O with nobody polling. */
  if (corio__netpoll_any_waiters() &&
      atomic_load_explicit(&corio__sched.lastpoll, memory_order_acquire) != 0)
    corio__wakep();
}

/* Park the M until startm hands it a P (or shutdown). */
static void stopm(corio__m_t *m) {
  corio__lock(&corio__sched.lock);
  if (atomic_load_explicit(&corio__sched.stopping, memory_order_acquire)) {
    corio__unlock(&corio__sched.lock);
    return;
  }
  atomic_store_explicit(&m->park, 1, memory_order_relaxed);
  m->schedlink = corio__sched.midle;
  corio__sched.midle = m;
  corio__unlock(&corio__sched.lock);
  while (atomic_load_explicit(&m->park, memory_order_acquire) == 1)
    corio__os_futex_wait(&m->park, 1, -1);
  if (m->nextp) {
    corio__acquirep(m, m->nextp);
    m->nextp = NULL;
  }
}

/* Wake every idle M (shutdown). */
void corio__wake_all_idle(void) {
  corio__lock(&corio__sched.lock);
  corio__m_t *m = corio__sched.midle;
  corio__sched.midle = NULL;
  corio__unlock(&corio__sched.lock);
  while (m) {
    corio__m_t *next = m->schedlink;
    m->nextp = NULL;
    atomic_store_explicit(&m->park, 0, memory_order_release);
    corio__os_futex_wake(&m->park, 1);
    m = next;
  }
}

/* ---- finding work ---- */

static uint32_t fastrand(corio__m_t *m) {
  m->rand ^= m->rand << 13;
  m->rand ^= m->rand >> 7;
  m->rand ^= m->rand << 17;
  return (uint32_t)m->rand;
}

static void set_spinning(corio__m_t *m, bool on) {
  if (m->spinning == on) return;
  m->spinning = on;
  /* seq_cst: D2 of the handshake (wakep). */
  if (on) atomic_fetch_add_explicit(&corio__sched.nmspinning, 1, memory_order_seq_cst);
  else atomic_fetch_sub_explicit(&corio__sched.nmspinning, 1, memory_order_seq_cst);
}

static void poll_network(int64_t delay, corio__glist_t *l) {
  /* Not a locked add: npolls only tells a P whether anyone polled since it
   * last looked, and a count lost to a race costs one extra poll. */
  uint32_t n = atomic_load_explicit(&corio__sched.npolls, memory_order_relaxed);
  atomic_store_explicit(&corio__sched.npolls, n + 1, memory_order_relaxed);
  corio__netpoll(delay, l);
}

/* Make a chain of parked Gs (through schedlink) runnable from a thread that
 * holds no P: all to the global queue under one lock, then an idle P
 * started for each (handshake: Go's injectglist). */
void corio__inject_nop(corio_g_t *first) {
  int n = 0;
  corio__lock(&corio__sched.lock);
  for (corio_g_t *g = first, *next; g; g = next) {
    next = g->schedlink;
    corio__g_wake(g, "a coroutine made runnable is not parked");
    corio__globrunqput(g);
    n++;
  }
  corio__unlock(&corio__sched.lock);
  if (atomic_load_explicit(&corio__sched.state, memory_order_acquire) == RT_RUNNING)
    corio__start_idle(n);
}

/* Make the Gs of a netpoll list (not empty) runnable; return one to run now
 * (when the M holds a P) and queue the others. */
CORIO__HOT static corio_g_t *take_polled(corio__m_t *m, corio__glist_t *l) {
  corio_g_t *first = l->head;
  l->head = l->tail = NULL;
  l->n = 0;
  if (CORIO__UNLIKELY(!m->p)) {
    corio__inject_nop(first);
    return NULL;
  } else {
    corio__g_wake(first, "netpoll returned a coroutine that is not parked");
    for (corio_g_t *g = first->schedlink, *next; g; g = next) {
      next = g->schedlink;
      corio__g_wake(g, "netpoll returned a coroutine that is not parked");
      corio__runqput(m->p, g, false);
    }
  }
  /* wakep's own first test, inline: with no idle P there is no one to wake. */
  if (atomic_load_explicit(&corio__sched.npidle, memory_order_acquire) != 0) corio__wakep();
  return first;
}

CORIO__HOT corio_g_t *corio__poll_on_park(corio__m_t *m) {
  corio__p_t *p = m->p;
  /* findrunnable's order: local queue, global queue, then the poll. */
  if (!p || !corio__runqempty_owner(p) ||
      atomic_load_explicit(&corio__sched.runqsize, memory_order_acquire) ||
      atomic_load_explicit(&corio__sched.stopping, memory_order_acquire) ||
      !corio__netpoll_any_waiters() ||
      atomic_load_explicit(&corio__sched.lastpoll, memory_order_acquire) == 0)
    return NULL;
  int64_t w = atomic_load_explicit(&p->timer0when, memory_order_relaxed);
  if (w != 0 && w <= corio__nanotime()) return NULL;
  corio__glist_t l = {0};
  poll_network(0, &l);
  corio_g_t *g = l.head ? take_polled(m, &l) : NULL;
  if (g) p->schedtick++;
  return g;
}

static corio_g_t *steal_work(corio__m_t *m, int64_t now) {
  corio__p_t *p = m->p;
  int n = corio__sched.nprocs;
  for (int round = 0; round < 4; round++) {
    uint32_t start = fastrand(m) % (uint32_t)n;
    for (int i = 0; i < n; i++) {
      corio__p_t *p2 = &corio__sched.allp[(start + (uint32_t)i) % (uint32_t)n];
      if (p2 == p) continue;
      /* Run other Ps' due timers too: their Ms may be busy or gone. */
      corio__run_timers(p2, now);
      corio_g_t *g = corio__runqget(p);
      if (g) return g;
      g = corio__runqsteal(p, p2, round == 3);
      if (g) return g;
    }
  }
  return NULL;
}

/* Deadlock detection (corio_config_t.detect_deadlock), Go's checkdead. Called
 * with sched.lock held by the M that has just put the last P on the idle
 * list. With every P idle no coroutine runs and no M runs timers or takes
 * from a queue; a coroutine can then only run again if something outside
 * the Ps readies it, and each such source is counted where the check sees it:
 * - a coroutine in a system call: nsyscall, until it holds a P or sits on
 *   the global queue (syscall.c, after_switch's ACT_REQUEUE);
 * - the netpoller: its waiter count (corio__netpoll_any_waiters) holds every
 *   coroutine from its commit until it runs again, so one readied by a poll
 *   but not yet run still counts; it is changed by Ps' holders, so the last
 *   change is seen here through sched.lock;
 * - timers: a pending one shows in its P's timer0when; a firing one is
 *   being run by an M that holds a P;
 * - queued work: the global queue and every P's local queue.
 * What remains is a thread outside the runtime calling corio_ready or
 * corio_spawn, which the embedder promised not to do by setting the flag. */
static bool check_dead(void) {
  corio__sched_t *s = &corio__sched;
  if (!s->detect_deadlock) return false;
  if (atomic_load_explicit(&s->npidle, memory_order_seq_cst) != s->nprocs) return false;
  if (atomic_load_explicit(&s->runqsize, memory_order_seq_cst) != 0) return false;
  if (atomic_load_explicit(&s->nsyscall, memory_order_seq_cst) != 0) return false;
  if (corio__netpoll_any_waiters()) return false;
  if (corio__timers_earliest() != 0) return false;
  for (int i = 0; i < s->nprocs; i++)
    if (!corio__runqempty(&s->allp[i])) return false;
  if (atomic_load_explicit(&s->state, memory_order_acquire) != RT_RUNNING) return false;
  return true;
}

/* Block until there is a G to run; NULL when the runtime is stopping. */
static corio_g_t *findrunnable(corio__m_t *m) {
  corio_g_t *g;
top:
  if (!m->p) {
    if (atomic_load_explicit(&corio__sched.stopping, memory_order_acquire)) return NULL;
    stopm(m);
    goto top;
  }
  corio__p_t *p = m->p;
  if (atomic_load_explicit(&corio__sched.stopping, memory_order_acquire)) return NULL;
  /* The clock is read only when a timer is armed here or before stealing (it
   * costs about as much as the rest of a pass that finds work at once). */
  int64_t now = 0;
  if (atomic_load_explicit(&p->timer0when, memory_order_relaxed) != 0) {
    now = corio__nanotime();
    corio__run_timers(p, now);
  }

  if (p->schedtick % 61 == 0) {
    /* The periodic poll first: a coroutine that yields in a loop sits in the
     * global queue, and taking it would skip the poll every time. */
    if (corio__periodic_poll_due(p) &&
        atomic_load_explicit(&corio__sched.lastpoll, memory_order_acquire) != 0) {
      corio__glist_t l = {0};
      poll_network(0, &l);
      if (l.head && (g = take_polled(m, &l))) return g;
    }
    if (atomic_load_explicit(&corio__sched.runqsize, memory_order_acquire)) {
      corio__lock(&corio__sched.lock);
      g = globrunqget(p, 1);
      corio__unlock(&corio__sched.lock);
      if (g) return g;
    }
  }
  if ((g = corio__runqget(p))) return g;
  if (atomic_load_explicit(&corio__sched.runqsize, memory_order_acquire)) {
    corio__lock(&corio__sched.lock);
    g = globrunqget(p, 0);
    corio__unlock(&corio__sched.lock);
    if (g) return g;
  }
  /* Non-blocking poll, unless another M is already blocked in the poller. */
  if (corio__netpoll_any_waiters() &&
      atomic_load_explicit(&corio__sched.lastpoll, memory_order_acquire) != 0) {
    corio__glist_t l = {0};
    poll_network(0, &l);
    if (l.head && (g = take_polled(m, &l))) return g;
  }
  /* Steal, if not too many Ms are at it already. */
  int busy = corio__sched.nprocs - atomic_load_explicit(&corio__sched.npidle, memory_order_acquire);
  if (m->spinning || 2 * atomic_load_explicit(&corio__sched.nmspinning, memory_order_acquire) < busy) {
    set_spinning(m, true);
    if (now == 0) now = corio__nanotime();
    if ((g = steal_work(m, now))) return g;
  }

  /* Nothing: give up the P. */
  corio__lock(&corio__sched.lock);
  if (atomic_load_explicit(&corio__sched.stopping, memory_order_acquire)) {
    corio__unlock(&corio__sched.lock);
    return NULL;
  }
  if (atomic_load_explicit(&corio__sched.runqsize, memory_order_relaxed)) {
    g = globrunqget(p, 0);
    corio__unlock(&corio__sched.lock);
    return g;
  }
  corio__pidleput(releasep(m));
  if (CORIO__UNLIKELY(corio__sched.detect_deadlock) && check_dead()) {
    atomic_store_explicit(&corio__sched.deadlocked, true, memory_order_release);
    corio__unlock(&corio__sched.lock);
    set_spinning(m, false);
    corio__begin_stop();
    return NULL;
  }
  corio__unlock(&corio__sched.lock);

  if (CORIO__UNLIKELY(corio__sched_test_hook != NULL)) corio__sched_test_hook(CORIO__HOOK_P_DROPPED);

  /* D2 of the handshake (wakep): a spinning M must look once more after
   * dropping its P, at the global queue and every local one: work
   * submitted meanwhile saw nmspinning > 0 and did not wake anyone. */
  bool was_spinning = m->spinning;
  set_spinning(m, false);
  if (was_spinning) {
    if (atomic_load_explicit(&corio__sched.runqsize, memory_order_seq_cst) != 0) {
      corio__lock(&corio__sched.lock);
      corio__p_t *p2 = NULL;
      if (atomic_load_explicit(&corio__sched.runqsize, memory_order_relaxed) != 0)
        p2 = corio__pidleget();
      g = p2 ? globrunqget(p2, 0) : NULL;
      corio__unlock(&corio__sched.lock);
      if (p2) {
        corio__acquirep(m, p2);
        set_spinning(m, true);
        return g; /* not NULL: taken under the lock that saw runqsize != 0 */
      }
      /* No idle P: every P has an M that looks at the global queue (D1)
       * before it lets go. */
    }
    for (int i = 0; i < corio__sched.nprocs; i++) {
      if (!corio__runqempty(&corio__sched.allp[i])) {
        corio__p_t *p2 = corio__pidleget_locking();
        if (p2) {
          corio__acquirep(m, p2);
          set_spinning(m, true);
          goto top;
        }
        break;
      }
    }
  }

  /* Block in the poller until the next timer, if nobody else does. */
  int64_t until = corio__timers_earliest();
  int64_t last = atomic_load_explicit(&corio__sched.lastpoll, memory_order_acquire);
  if ((corio__netpoll_any_waiters() || until != 0) && last != 0 &&
      atomic_compare_exchange_strong_explicit(&corio__sched.lastpoll, &last, 0,
                                              memory_order_acq_rel, memory_order_relaxed)) {
    atomic_store_explicit(&corio__sched.poll_until, until, memory_order_release);
    int64_t delay = -1;
    if (until != 0) {
      delay = until - corio__nanotime();
      if (delay < 0) delay = 0;
    }
    if (atomic_load_explicit(&corio__sched.stopping, memory_order_acquire)) delay = 0;
    corio__glist_t l = {0};
    poll_network(delay, &l);
    atomic_store_explicit(&corio__sched.poll_until, 0, memory_order_release);
    atomic_store_explicit(&corio__sched.lastpoll, corio__nanotime(), memory_order_release);
    corio__p_t *p2 = corio__pidleget_locking();
    if (p2) corio__acquirep(m, p2);
    if (l.head && (g = take_polled(m, &l))) return g;
    if (p2) goto top;
    /* No P for us: the polled Gs went to the global queue, with idle Ps
     * started for them (corio__inject_nop). */
  } else if (until != 0 && last == 0) {
    int64_t pu = atomic_load_explicit(&corio__sched.poll_until, memory_order_acquire);
    if (pu == 0 || until < pu) corio__netpoll_break();
  }
  stopm(m);
  goto top;
}

static void reset_spinning(corio__m_t *m) {
  set_spinning(m, false);
  /* We were the last spinner and found work: there may be more. */
  if (atomic_load_explicit(&corio__sched.nmspinning, memory_order_acquire) == 0) corio__wakep();
}

/* The scheduler loop, on the M's own stack (g0). Returns at shutdown. */
void corio__mloop(corio__m_t *m) {
  for (;;) {
    corio_g_t *g = findrunnable(m);
    if (!g) break;
    if (m->spinning) reset_spinning(m);
    corio__execute(m, g);
  }
  set_spinning(m, false);
  if (m->p) {
    corio__lock(&corio__sched.lock);
    corio__pidleput(releasep(m));
    corio__unlock(&corio__sched.lock);
  }
}

static void mstart(void *arg) {
  corio__m_t *m = arg;
  corio__setm(m);
  corio__os_thread_setup();
  corio__san_m_init(m);
  if (m->nextp) {
    corio__acquirep(m, m->nextp);
    m->nextp = NULL;
  }
  corio__mloop(m);
  corio__os_thread_teardown();
  corio__setm(NULL);
  corio__mlive_done();
}
