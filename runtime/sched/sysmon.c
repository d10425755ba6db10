/* sysmon: a thread without a P that retakes Ps stuck in system calls and
 * polls the network when nobody has for a while (Go's sysmon, minus
 * preemption: corio is cooperative). Its sleep follows Go's ladder: 20 us
 * while it finds work, doubling after about 1 ms without any up to 10 ms, so a
 * long system call (a coroutine waiting on stdin) does not keep it spinning.
 *
 * It starts with the second thread the runtime makes or with the first
 * corio_syscall_enter, whichever comes first, not with the runtime: until then
 * there is no system call to retake and the runtime is a single thread, which
 * the kernel serves faster (a process whose descriptor table no other thread
 * shares skips reference counting on every read, write and poll: about 170 ns
 * of a 2 us pipe round trip here). The network is then polled by the only M
 * itself (pick_local and findrunnable, on 61st passes when nobody else has;
 * see corio__periodic_poll_due). */
#include "netpoll.h"
#include "os.h"
#include "proc.h"

#define SHORT_SLEEP 20000LL      /* 20 us */
#define LONG_SLEEP 10000000LL    /* 10 ms */
#define POLL_STALE 10000000LL    /* poll if nobody has for 10 ms */

/* Returns how many Ps were taken or are about to be (in a system call, seen
 * once): both keep sysmon on its short sleep. */
static int retake(int64_t now) {
  int n = 0;
  for (int i = 0; i < corio__sched.nprocs; i++) {
    corio__p_t *p = &corio__sched.allp[i];
    if (atomic_load_explicit(&p->status, memory_order_acquire) != P_SYSCALL) continue;
    uint32_t t = atomic_load_explicit(&p->syscalltick, memory_order_relaxed);
    if (p->sysmon_tick != t) {
      /* First sight of this system call: give it one tick. */
      p->sysmon_tick = t;
      p->sysmon_when = now;
      n++;
      continue;
    }
    /* Don't bother when there is nothing for the P to do and others are idle. */
    if (corio__runqempty(p) && atomic_load_explicit(&corio__sched.runqsize, memory_order_relaxed) == 0 &&
        atomic_load_explicit(&p->timer0when, memory_order_relaxed) == 0 &&
        atomic_load_explicit(&corio__sched.nmspinning, memory_order_relaxed) +
                atomic_load_explicit(&corio__sched.npidle, memory_order_relaxed) > 0 &&
        now - p->sysmon_when < LONG_SLEEP)
      continue;
    uint32_t st = P_SYSCALL;
    if (atomic_compare_exchange_strong_explicit(&p->status, &st, P_IDLE, memory_order_acq_rel,
                                                memory_order_relaxed)) {
      atomic_fetch_add_explicit(&p->syscalltick, 1, memory_order_relaxed);
      p->sysmon_tick = t + 1;
      corio__handoffp(p);
      n++;
    }
  }
  return n;
}

static void poll_if_stale(int64_t now) {
  int64_t last = atomic_load_explicit(&corio__sched.lastpoll, memory_order_acquire);
  if (last == 0 || now - last < POLL_STALE || !corio__netpoll_any_waiters()) return;
  if (!atomic_compare_exchange_strong_explicit(&corio__sched.lastpoll, &last, now,
                                               memory_order_acq_rel, memory_order_relaxed))
    return;
  corio__glist_t l = {0};
  corio__netpoll(0, &l);
  corio__inject_glist(&l); /* no P here: to the global queue, and an M is woken */
}

static void sysmon(void *arg) {
  (void)arg;
  corio__os_thread_setup();
  int64_t delay = SHORT_SLEEP;
  int idle = 0;
  while (!atomic_load_explicit(&corio__sched.stopping, memory_order_acquire)) {
    uint32_t w = atomic_load_explicit(&corio__sched.sysmon_wake, memory_order_acquire);
    corio__os_futex_wait(&corio__sched.sysmon_wake, w, delay);
    bool kicked = atomic_load_explicit(&corio__sched.sysmon_wake, memory_order_acquire) != w;
    int64_t now = corio__nanotime();
    if (retake(now) || kicked) {
      idle = 0;
      delay = SHORT_SLEEP;
    } else if (++idle > 50 && delay < LONG_SLEEP) {
      delay *= 2;
      if (delay > LONG_SLEEP) delay = LONG_SLEEP;
    }
    poll_if_stale(now);
  }
  corio__os_thread_teardown();
}

/* When the thread cannot be made (issue 12, item 4: a thread limit, the
 * mapping limit), the runtime runs on without it, as before its first
 * start: the Ms poll the network themselves (corio__periodic_poll_due), and
 * a P stays with its M through a system call, as with no sysmon. The start
 * is tried again, at most once per SYSMON_RETRY, so that a failing
 * thread creation does not cost every system call. */
#define SYSMON_RETRY 10000000LL /* 10 ms */

void corio__sysmon_ensure(void) {
  if (atomic_load_explicit(&corio__sched.sysmon_on, memory_order_acquire)) return;
  int64_t retry = atomic_load_explicit(&corio__sched.sysmon_retry, memory_order_relaxed);
  if (CORIO__UNLIKELY(retry != 0) && corio__nanotime() < retry) return;
  corio__lock(&corio__sched.sysmon_lock);
  /* Not once the runtime stops: corio__sysmon_stop may have looked already. */
  if (!atomic_load_explicit(&corio__sched.sysmon_on, memory_order_relaxed) &&
      !atomic_load_explicit(&corio__sched.stopping, memory_order_acquire)) {
    if (corio__os_thread_start(&corio__sched.sysmon_thread, sysmon, NULL) == 0) {
      atomic_store_explicit(&corio__sched.sysmon_on, true, memory_order_release);
    } else {
      corio__sched.sysmon_thread = 0;
      atomic_store_explicit(&corio__sched.sysmon_retry, corio__time_add(corio__nanotime(), SYSMON_RETRY),
                            memory_order_relaxed);
    }
  }
  corio__unlock(&corio__sched.sysmon_lock);
}

void corio__sysmon_kick(void) {
  atomic_fetch_add_explicit(&corio__sched.sysmon_wake, 1, memory_order_acq_rel);
  corio__os_futex_wake(&corio__sched.sysmon_wake, 1);
}

/* After stopping is set: no start can follow (ensure checks it under the lock). */
void corio__sysmon_stop(void) {
  corio__lock(&corio__sched.sysmon_lock);
  uintptr_t t = corio__sched.sysmon_thread;
  corio__sched.sysmon_thread = 0;
  corio__unlock(&corio__sched.sysmon_lock);
  if (!t) return;
  corio__sysmon_kick();
  corio__os_thread_join(t);
}
