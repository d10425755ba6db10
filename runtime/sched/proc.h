/* The scheduler's own data structures: G (coroutine), M (OS thread), P
 * (logical processor) and the global scheduler state. Only runtime/sched
 * includes this; other layers use sched.h. */
#ifndef CORIO_SCHED_PROC_H
#define CORIO_SCHED_PROC_H

#include "ctx.h"
#include "netpoll.h"
#include "sched.h"
#include "stack.h"

/* G status. Transitions:
 *   IDLE -> RUNNABLE (spawn) -> RUNNING -> WAITING (park) -> RUNNABLE (ready)
 *   RUNNING -> SYSCALL -> RUNNING; RUNNING -> DEAD (return) -> IDLE (reused).
 * WAITING -> RUNNABLE is the only transition made by another thread; it is a
 * CAS so that readying a G that is not parked is caught (a fatal error). */
enum { G_IDLE, G_RUNNABLE, G_RUNNING, G_WAITING, G_SYSCALL, G_DEAD };

/* What the context that runs next must finish for the one that switched away
 * (its stack is only free once the switch is done): see after_switch. */
enum { ACT_NONE, ACT_PARK, ACT_YIELD_LOCAL, ACT_YIELD_GLOBAL, ACT_EXIT, ACT_REQUEUE };

typedef struct corio__san {
  void *fake_stack;   /* ASan's fake stack of the context while switched out */
  const void *bottom; /* stack bounds, for ASan */
  size_t size;
  void *tsan_fiber;
} corio__san_t;

/* Field order in G, M, P and sched: what every switch, park and wake-up
 * touches comes first, in one cache line. The kernel's work between two
 * system calls evicts much of the first-level cache, and each line touched
 * again costs about 1.5 ns on the pipe round trip. */
struct corio_g {
  corio__ctx_t ctx;
  _Atomic uint32_t status;
  corio_g_t *schedlink; /* run queue / glist / free list link */
  struct corio__m *m;   /* the M running it, while running */
  const char *waitreason;
  corio__stack_t stack;
  corio_fn_t fn;
  void *arg;
  uint64_t id;
  corio__timer_t timer; /* corio_sleep */
  int64_t sleep_until;
  corio__san_t san;
};

typedef struct corio__m {
  corio__ctx_t g0ctx;
  corio_g_t *curg;
  struct corio__p *p; /* held P, NULL while idle or in a syscall */
  /* Pending work for after_switch, set by the context switching away. */
  int action;
  bool spinning;
  corio_g_t *prevg;
  corio_unlock_fn_t unlockf;
  void *unlockarg;
  int id;
  bool is_m0;
  struct corio__p *nextp; /* P handed over by startm, taken when woken */
  struct corio__p *oldp;  /* P left behind by corio_syscall_enter */
  _Atomic uint32_t park;  /* futex word: 1 while parked in stopm */
  /* SYS_* below: between corio_syscall_enter and _exit, and whether the
   * runtime gave up waiting for the call (syscall.c). Written by the M,
   * claimed by corio_main with a CAS. */
  _Atomic uint32_t insyscall;
  uintptr_t thread;
  struct corio__m *schedlink; /* idle M list, guarded by sched.lock */
  struct corio__m *alllink;   /* all Ms, guarded by sched.lock */
  uint64_t rand;
  corio__san_t g0san;
} corio__m_t;

#define RUNQ_SIZE 256u

enum { P_IDLE, P_RUNNING, P_SYSCALL };

/* corio__m_t.insyscall: OUT -> IN at syscall_enter, IN -> OUT at _exit (a
 * CAS); IN -> ORPHAN by corio_main once the runtime stops and the call has
 * not returned: the M, its coroutine and stack are then left allocated by
 * shutdown, and the thread, when its call returns, finds ORPHAN, says
 * RETURNED and sleeps for good without touching the runtime again. */
enum { SYS_OUT, SYS_IN, SYS_ORPHAN, SYS_RETURNED };
void corio__orphan_claim_all(void); /* syscall.c: corio_main, after the grace period */

typedef struct corio__p {
  int id;
  _Atomic uint32_t status;
  corio__m_t *m;
  uint32_t schedtick; /* owner only */
  uint32_t polls_seen; /* owner only: corio__periodic_poll_due */
  /* Go's lock-free ring: the owner puts at tail, anyone takes at head by CAS. */
  _Atomic uint32_t runqhead;
  _Atomic uint32_t runqtail;
  corio_g_t *_Atomic runnext;
  /* timer0when mirrors the earliest timer of the heap below for lock-free peeks. */
  _Atomic int64_t timer0when;
  _Atomic uint32_t syscalltick;
  struct corio__p *link; /* idle P list, guarded by sched.lock */
  corio_g_t *_Atomic runq[RUNQ_SIZE];
  /* Timer heap, guarded by tlock. */
  corio__lock_t tlock;
  corio__timer_t **timers;
  int ntimers, captimers;
  /* sysmon's view, sysmon only. */
  uint32_t sysmon_tick;
  int64_t sysmon_when;
} corio__p_t;

enum { RT_NONE, RT_INIT, RT_RUNNING, RT_DONE };

typedef struct corio__sched {
  /* Read on every switch, park or poll: one cache line. */
  _Atomic int runqsize;
  _Atomic int npidle;
  _Atomic int nmspinning;
  _Atomic int state;
  _Atomic bool stopping;
  _Atomic bool sysmon_on;
  _Atomic uint32_t npolls; /* netpoll calls by the scheduler, for corio__periodic_poll_due */
  /* Netpoll: lastpoll == 0 while an M blocks in the poller. */
  _Atomic int64_t lastpoll;
  int nprocs;
  corio__p_t *allp;

  corio__lock_t lock; /* guards the global run queue, idle lists, allm */
  corio_g_t *runqhead, *runqtail;
  corio__p_t *pidle;
  corio__m_t *midle;
  corio__m_t *allm;
  corio__m_t *mfailed; /* Ms whose thread could not start, for reuse (sched.lock) */
  _Atomic uint32_t nmfailed; /* how many M starts failed (tests look) */
  int mcount;
  _Atomic uint32_t nmlive; /* see newm in schedule.c */
  _Atomic uint32_t norphans; /* Ms given up on in a system call (syscall.c) */
  /* Free Gs with default-size stacks, reused by spawn. */
  corio__lock_t gfree_lock;
  corio_g_t *gfree;
  /* Every G ever made, for shutdown. */
  corio__lock_t allg_lock;
  corio_g_t **allg;
  size_t nallg, capallg;
  _Atomic uint64_t goidgen;
  _Atomic int64_t poll_until;
  size_t stack_size;
  corio_stack_policy_t stack_policy;
  /* sysmon: started by the first M thread after m0 or the first system call
   * (sysmon.c); sysmon_lock guards the start and sysmon_thread. */
  corio__lock_t sysmon_lock;
  uintptr_t sysmon_thread;
  _Atomic int64_t sysmon_retry; /* after a failed start: not before this time */
  _Atomic uint32_t sysmon_wake;
  /* main */
  int main_status;
  /* Deadlock detection (corio_config_t.detect_deadlock; see
   * corio__check_dead in schedule.c). nsyscall counts coroutines between
   * corio_syscall_enter and the point where they hold a P again or sit on
   * the global queue; kept only when detect_deadlock is set. */
  bool detect_deadlock;
  _Atomic bool deadlocked;
  _Atomic int32_t nsyscall;
  /* Timer slots (timer.c): reserved and the heaps' total capacity. */
  corio__lock_t timer_lock;
  int64_t timer_reserved;      /* guarded by timer_lock */
  _Atomic int64_t timer_cap;   /* changed under the grown heap's tlock */
} corio__sched_t;

extern corio__sched_t corio__sched;

/* The M running the caller. Out of line, so that the compiler cannot keep a
 * thread-local address across a switch: a coroutine can resume on another
 * thread. */
corio__m_t *corio__getm(void);

/* The same, inline, for the hot entry points (park, ready, yield, channel
 * operations). It reads the thread pointer afresh on every call, so it stays
 * right wherever the compiler inlines it, link-time optimization included:
 * an ordinary thread-local access may reuse a thread pointer read before a
 * switch, after which the coroutine may run on another thread. On x86-64 ELF
 * that is one %fs-relative load in a volatile asm, which the compiler may
 * neither merge nor move (initial-exec: the variable is in the static TLS
 * block, also in the shared library); elsewhere it is the out-of-line
 * corio__getm. After a switch, take the M from the switch's return value
 * (see corio__switch): it is already in a register. */
#if defined(__ELF__)
#define CORIO__TLS_MODEL __attribute__((tls_model("initial-exec")))
#else
#define CORIO__TLS_MODEL
#endif
extern _Thread_local corio__m_t *corio__tls_m CORIO__TLS_MODEL;
static inline corio__m_t *corio__getm_entry(void) {
#if defined(__ELF__) && defined(__x86_64__)
  corio__m_t *m;
  __asm__ volatile("movq corio__tls_m@gottpoff(%%rip), %0\n\tmovq %%fs:(%0), %0" : "=r"(m));
  return m;
#else
  return corio__getm();
#endif
}

/* WAITING -> RUNNABLE for a parked G; fatal (msg) if g is not parked.
 * Exactly one waker readies a parked G (whatever it parked on hands it to one
 * waker only), so a load and a store suffice; a locked CAS here was a
 * measurable part of every channel hand-over. The check still catches a G
 * that is running or queued. Acquire: the waker then sees the context the G
 * saved before its status said WAITING. */
static inline void corio__g_wake(corio_g_t *g, const char *msg) {
  if (atomic_load_explicit(&g->status, memory_order_acquire) != G_WAITING) corio__throw(msg);
  atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_relaxed);
}

/* proc.c */
void corio__wakep(void);
void corio__start_idle(int n);
void corio__inject_nop(corio_g_t *first);
void corio__startm(corio__p_t *p, bool spinning);
void corio__handoffp(corio__p_t *p);
void corio__globrunqput(corio_g_t *g); /* sched.lock held */
void corio__globrunqput_locking(corio_g_t *g); /* takes sched.lock itself */
void corio__pidleput(corio__p_t *p);   /* sched.lock held */
corio__p_t *corio__pidleget(void);     /* sched.lock held */
corio__p_t *corio__pidleget_locking(void); /* takes sched.lock itself */
void corio__acquirep(corio__m_t *m, corio__p_t *p);
void corio__mlive_done(void);
void corio__switch_out(corio__m_t *m, corio_g_t *g, int action, bool local_ok);
/* schedule.c: the non-blocking poll of a coroutine parking on I/O whose P
 * has nothing local to run (corio__park_io): a G it readied, to run next, or
 * NULL (nothing polled, or something else comes first: global work, a due
 * timer, shutdown, a poller already blocked). */
corio_g_t *corio__poll_on_park(corio__m_t *m);
void corio__setm(corio__m_t *m);
void corio__after_switch(corio__m_t *m);
int corio__newproc(corio_fn_t fn, void *arg, size_t stack_size, corio_g_t **out);
corio__m_t *corio__newm_m0(void);
void corio__mloop(corio__m_t *m);
void corio__wake_all_idle(void);
/* runtime.c: stop the runtime (every M leaves its loop at its next
 * scheduling point). */
void corio__begin_stop(void);

/* runq.c (the owner's put and get are inline, in runq.h) */
corio_g_t *corio__runqsteal(corio__p_t *p, corio__p_t *p2, bool steal_next);
bool corio__runqempty(corio__p_t *p);

/* timer.c */
int64_t corio__run_timers(corio__p_t *p, int64_t now); /* returns next when, 0 none */
int64_t corio__timers_earliest(void);
void corio__timers_free(corio__p_t *p);

/* switch.c: the sanitizers' part of a context switch. */
void corio__san_switch_start(corio__san_t *fsan, corio__san_t *tsan, bool from_dies);
void corio__switch_finish(corio__san_t *san);

/* Switch from one context to another, telling the sanitizers. m is the M doing
 * the switch; the return value is the M of whoever switched back (a coroutine
 * can resume on another thread), so no TLS read is needed after a switch. */
static inline corio__m_t *corio__switch(corio__ctx_t *from, corio__san_t *fsan, corio__ctx_t *to,
                                        corio__san_t *tsan, bool from_dies, corio__m_t *m) {
#if defined(CORIO_ASAN) || defined(CORIO_TSAN)
  corio__san_switch_start(fsan, tsan, from_dies);
  m = corio__ctx_switch(from, to, m);
  corio__switch_finish(fsan);
  return m;
#else
  (void)fsan;
  (void)tsan;
  (void)from_dies;
  return corio__ctx_switch(from, to, m);
#endif
}
/* Run a G from the scheduler loop (g0); returns when the M is back on g0.
 * Inline into the loop: g0's frames are live across every switch, and each
 * costs a mispredicted return when g0 resumes (rawsys_linux.h). */
static inline void corio__execute(corio__m_t *m, corio_g_t *g) {
  m->curg = g;
  g->m = m;
  m->p->schedtick++;
  atomic_store_explicit(&g->status, G_RUNNING, memory_order_relaxed);
  m->action = ACT_NONE;
  corio__switch(&m->g0ctx, &m->g0san, &g->ctx, &g->san, false, m);
  if (m->action != ACT_NONE) corio__after_switch(m);
}
void corio__san_g_init(corio_g_t *g);
void corio__san_g_fini(corio_g_t *g);
void corio__san_m_init(corio__m_t *m);

/* sysmon.c */
void corio__sysmon_ensure(void);
void corio__sysmon_stop(void);
void corio__sysmon_kick(void);

/* While no sysmon runs, the P's own M polls the network on its 61st passes,
 * or coroutines that keep switching among themselves would starve those
 * waiting on I/O; but only when nobody has polled since the P last looked
 * (npolls): a poll with work already queued only adds to the queue. */
static inline bool corio__periodic_poll_due(corio__p_t *p) {
  if (atomic_load_explicit(&corio__sched.sysmon_on, memory_order_relaxed)) return false;
  uint32_t n = atomic_load_explicit(&corio__sched.npolls, memory_order_relaxed);
  bool due = n == p->polls_seen && corio__netpoll_any_waiters();
  p->polls_seen = n;
  return due;
}

#endif
