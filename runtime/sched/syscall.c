/* Blocking OS calls: corio_syscall_enter leaves the P in state SYSCALL so
 * sysmon can hand it to another M if the call takes long; corio_syscall_exit
 * takes it back, or another idle P, or queues the coroutine and parks the M. */
#include "proc.h"

/* A coroutine leaves the syscall count once it holds a P again (or, without
 * one, once it is on the global queue): at every moment it is visible to the
 * deadlock check as one or the other. */
static void syscall_uncount(void) {
  if (corio__sched.detect_deadlock)
    atomic_fetch_sub_explicit(&corio__sched.nsyscall, 1, memory_order_seq_cst);
}

/* An M the runtime gave up on (insyscall ORPHAN) is back from its call: its
 * coroutine was abandoned and the runtime may be gone or a new one running.
 * Touch nothing but the M (left allocated for it) and sleep for good. */
_Noreturn static void orphan_sleep(corio__m_t *m) {
  atomic_store_explicit(&m->insyscall, SYS_RETURNED, memory_order_release);
  for (;;) corio__os_futex_wait(&m->insyscall, SYS_RETURNED, -1);
}

/* corio_main, the runtime stopping and its grace period over: every M still
 * in a system call is given up on (issue 12, item 8), so that corio_main
 * returns although a coroutine is blocked in the kernel for good. */
void corio__orphan_claim_all(void) {
  corio__lock(&corio__sched.lock);
  for (corio__m_t *m = corio__sched.allm; m; m = m->alllink) {
    uint32_t in = SYS_IN;
    if (!m->is_m0 && atomic_compare_exchange_strong_explicit(&m->insyscall, &in, SYS_ORPHAN,
                                                             memory_order_acq_rel,
                                                             memory_order_relaxed))
      atomic_fetch_add_explicit(&corio__sched.norphans, 1, memory_order_acq_rel);
  }
  corio__unlock(&corio__sched.lock);
}

int corio_syscall_enter(void) {
  corio__m_t *m = corio__getm();
  if (!m || !m->curg) return CORIO_ENOTCORO;
  if (m->oldp) corio__throw("corio_syscall_enter: already in a system call");
  atomic_store_explicit(&m->insyscall, SYS_IN, memory_order_relaxed);
  corio__sysmon_ensure(); /* a no-op once it runs: one load */
  corio__p_t *p = m->p;
  m->oldp = p;
  m->p = NULL;
  atomic_store_explicit(&m->curg->status, G_SYSCALL, memory_order_relaxed);
  /* Counted before the P can go idle (the deadlock check reads it under
   * sched.lock once every P is idle). */
  if (corio__sched.detect_deadlock)
    atomic_fetch_add_explicit(&corio__sched.nsyscall, 1, memory_order_seq_cst);
  atomic_fetch_add_explicit(&p->syscalltick, 1, memory_order_relaxed);
  /* Release: if sysmon takes p, it sees everything this M did with it. */
  atomic_store_explicit(&p->status, P_SYSCALL, memory_order_release);
  /* No kick for sysmon here: a futex wake would double the cost of a short
   * call, and a sysmon in its deep sleep retakes within 10-20 ms, as Go's
   * does. But coroutines queued behind this call need not wait that long
   * when a P is idle: a spinning M steals them now. */
  if (!corio__runqempty(p)) corio__wakep();
  return 0;
}

int corio_syscall_exit(void) {
  corio__m_t *m = corio__getm();
  if (!m || !m->curg) return CORIO_ENOTCORO;
  /* A CAS, not a store: corio_main may have given up on this call. */
  uint32_t in = SYS_IN;
  if (CORIO__UNLIKELY(!atomic_compare_exchange_strong_explicit(
          &m->insyscall, &in, SYS_OUT, memory_order_acq_rel, memory_order_acquire)) &&
      in == SYS_ORPHAN)
    orphan_sleep(m);
  corio__p_t *p = m->oldp;
  if (!p) corio__throw("corio_syscall_exit without corio_syscall_enter");
  m->oldp = NULL;
  corio_g_t *g = m->curg;
  uint32_t st = P_SYSCALL;
  if (atomic_compare_exchange_strong_explicit(&p->status, &st, P_RUNNING, memory_order_acq_rel,
                                              memory_order_relaxed)) {
    m->p = p;
    p->m = m;
    atomic_fetch_add_explicit(&p->syscalltick, 1, memory_order_relaxed);
    atomic_store_explicit(&g->status, G_RUNNING, memory_order_relaxed);
    syscall_uncount();
    return 0;
  }
  /* sysmon handed our P to another M. Try an idle one. */
  corio__p_t *p2 = corio__pidleget_locking();
  if (p2) {
    corio__acquirep(m, p2);
    atomic_store_explicit(&g->status, G_RUNNING, memory_order_relaxed);
    syscall_uncount();
    return 0;
  }
  /* No P: queue the coroutine globally and let this M sleep. At shutdown the
   * coroutine is abandoned like every other one. It stays counted in
   * nsyscall until after_switch has queued it (ACT_REQUEUE). */
  atomic_store_explicit(&g->status, G_RUNNING, memory_order_relaxed);
  if (atomic_load_explicit(&corio__sched.stopping, memory_order_acquire)) {
    syscall_uncount();
    m->unlockf = NULL;
    corio__switch_out(m, g, ACT_PARK, false);
  } else {
    corio__switch_out(m, g, ACT_REQUEUE, false);
  }
  return 0;
}
