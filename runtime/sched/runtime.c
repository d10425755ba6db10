/* Runtime life cycle: corio_init, corio_main, corio_shutdown. */
#include "netpoll.h"
#include "os.h"
#include "proc.h"
#include "sema_internal.h"

#include <stdlib.h>
#include <string.h>


static int procs_from_env(int *out) {
  const char *s = corio__os_getenv("CORIO_PROCS");
  if (!s || !*s) return 0;
  char *end;
  long v = strtol(s, &end, 10);
  if (*end != '\0' || v < 1 || v > CORIO_MAX_PROCS) return CORIO_EINVAL;
  *out = (int)v;
  return 0;
}

static int check_config(const corio_config_t *cfg, int *procs) {
  if (cfg->procs < 0 || cfg->procs > CORIO_MAX_PROCS) return CORIO_EINVAL;
  if (cfg->stack_size != 0 &&
      (cfg->stack_size < CORIO_MIN_STACK || cfg->stack_size > CORIO_MAX_STACK))
    return CORIO_EINVAL;
  if (cfg->stack_policy != CORIO_STACK_GUARDED && cfg->stack_policy != CORIO_STACK_UNGUARDED)
    return CORIO_EINVAL;
  if (cfg->allocator && (!cfg->allocator->malloc || !cfg->allocator->free)) return CORIO_EINVAL;
  *procs = cfg->procs;
  if (*procs == 0) {
    int rc = procs_from_env(procs);
    if (rc) return rc;
  }
  if (*procs == 0) *procs = corio__os_ncpu();
  if (*procs > CORIO_MAX_PROCS) *procs = CORIO_MAX_PROCS;
  return 0;
}

int corio_init(const corio_config_t *cfg) {
  static const corio_config_t defaults = CORIO_CONFIG_INIT;
  if (!cfg) cfg = &defaults;
  int expect = RT_NONE;
  if (atomic_load(&corio__sched.state) != RT_NONE) return CORIO_EALREADY;
  int procs;
  int rc = check_config(cfg, &procs);
  if (rc) return rc;
  corio__sched_t *s = &corio__sched;
  memset(s, 0, sizeof *s);
  corio__alloc_set(cfg->allocator);
  s->stack_size = cfg->stack_size ? cfg->stack_size : CORIO_DEFAULT_STACK;
  s->stack_policy = cfg->stack_policy;
  corio__ctx_fp_env = cfg->fp_env_per_coroutine ? 1 : 0;
  s->nprocs = procs;
  s->detect_deadlock = cfg->detect_deadlock;
  s->allp = corio__calloc((size_t)procs, sizeof *s->allp);
  if (!s->allp) {
    corio__alloc_set(NULL);
    return CORIO_ENOMEM;
  }
  for (int i = procs - 1; i >= 0; i--) {
    s->allp[i].id = i;
    corio__pidleput(&s->allp[i]);
  }
  atomic_store(&s->lastpoll, corio__nanotime());
  corio__os_process_init();
  rc = corio__netpoll_init(procs);
  if (rc) {
    corio__os_process_fini();
    corio__free(s->allp);
    s->allp = NULL;
    corio__alloc_set(NULL);
    return rc;
  }
  if (!atomic_compare_exchange_strong(&s->state, &expect, RT_INIT)) return CORIO_EALREADY;
  return 0;
}

typedef struct {
  corio_main_fn_t fn;
  void *arg;
} main_args_t;

/* How long corio_main waits for a coroutine's system call to return once
 * the runtime stops, and how long corio_shutdown waits for such a call
 * before it reports CORIO_EBLOCKED (runtime.h). */
#define ORPHAN_GRACE_NS (10 * 1000000LL)
#define ORPHAN_SHUTDOWN_WAIT_NS (100 * 1000000LL)

static bool is_orphan(corio__m_t *m) {
  uint32_t st = atomic_load_explicit(&m->insyscall, memory_order_acquire);
  return st == SYS_ORPHAN || st == SYS_RETURNED;
}

/* The coroutine an orphan M was running (its stack is still in use by the
 * blocked call). */
static bool g_of_orphan(corio_g_t *g) {
  for (corio__m_t *m = corio__sched.allm; m; m = m->alllink)
    if (is_orphan(m) && m->curg == g) return true;
  return false;
}

/* Shutdown: wait a bounded time for orphans' calls to return; true if some
 * are still blocked in the kernel. */
static bool orphans_still_blocked(void) {
  if (atomic_load(&corio__sched.norphans) == 0) return false;
  int64_t end = corio__time_add(corio__nanotime(), ORPHAN_SHUTDOWN_WAIT_NS);
  for (;;) {
    bool blocked = false;
    for (corio__m_t *m = corio__sched.allm; m; m = m->alllink)
      if (atomic_load_explicit(&m->insyscall, memory_order_acquire) == SYS_ORPHAN) blocked = true;
    if (!blocked || corio__nanotime() >= end) return blocked;
    _Atomic uint32_t nap = 0;
    corio__os_futex_wait(&nap, 0, 1000000); /* 1 ms */
  }
}

/* Stop the runtime: every M leaves its loop at its next scheduling point. */
void corio__begin_stop(void) {
  atomic_store_explicit(&corio__sched.stopping, true, memory_order_release);
  corio__wake_all_idle();
  corio__netpoll_break();
  corio__sysmon_kick();
}

static void main_trampoline(void *arg) {
  main_args_t *ma = arg;
  corio__sched.main_status = ma->fn(ma->arg);
  corio__begin_stop();
}

int corio_main(corio_main_fn_t fn, void *arg, int *exit_status) {
  corio__sched_t *s = &corio__sched;
  int st = atomic_load(&s->state);
  if (st == RT_NONE) return CORIO_ENOTINIT;
  if (st != RT_INIT) return CORIO_EALREADY;
  if (!fn) return CORIO_EINVAL;
  if (corio__getm()) return CORIO_EALREADY; /* called from inside the runtime */
  main_args_t ma = {fn, arg};
  corio_g_t *g;
  int rc = corio__newproc(main_trampoline, &ma, 0, &g);
  if (rc) return rc;
  corio__m_t *m0 = corio__newm_m0();
  if (!m0) return CORIO_ENOMEM;
  m0->is_m0 = true;
  corio__lock(&s->lock);
  corio__globrunqput(g);
  corio__p_t *p = corio__pidleget();
  corio__unlock(&s->lock);
  corio__setm(m0);
  corio__os_thread_setup();
  corio__san_m_init(m0);
  corio__acquirep(m0, p);
  atomic_store(&s->state, RT_RUNNING);
  /* Coroutines spawned before main are queued; let other Ms take them. */
  corio__wakep();
  corio__mloop(m0);

  /* Every other M leaves its loop too: wait until none can still run, then
   * join them all. Wake-ups are repeated: an M may go idle or start polling
   * after an earlier one. An M inside a system call that has not returned
   * after the grace period is given up on (syscall.c): like a Go program's
   * exit, main's return does not wait for a coroutine blocked in the
   * kernel. */
  corio__sysmon_stop();
  int64_t grace_end = corio__time_add(corio__nanotime(), ORPHAN_GRACE_NS);
  for (;;) {
    uint32_t live = atomic_load_explicit(&s->nmlive, memory_order_acquire);
    if (live == atomic_load_explicit(&s->norphans, memory_order_acquire)) break;
    if (corio__nanotime() >= grace_end) {
      corio__orphan_claim_all();
      if (live == atomic_load_explicit(&s->norphans, memory_order_acquire)) break;
    }
    corio__wake_all_idle();
    corio__netpoll_break();
    corio__os_futex_wait((_Atomic uint32_t *)&s->nmlive, live, 1000000);
  }
  corio__lock(&s->lock);
  corio__m_t *all = s->allm;
  corio__unlock(&s->lock);
  for (corio__m_t *m = all; m; m = m->alllink) {
    if (m->thread && !is_orphan(m)) {
      corio__os_thread_join(m->thread);
      m->thread = 0;
    }
  }
  corio__os_thread_teardown();
  corio__setm(NULL);
  atomic_store(&s->state, RT_DONE);
  if (atomic_load(&s->deadlocked)) return CORIO_EDEADLOCK;
  if (exit_status) *exit_status = s->main_status;
  return 0;
}

int corio_shutdown(void) {
  corio__sched_t *s = &corio__sched;
  int st = atomic_load(&s->state);
  if (st == RT_NONE) return CORIO_ENOTINIT;
  if (st == RT_RUNNING) return CORIO_EALREADY;
  if (corio__getm()) return CORIO_EALREADY;
  bool blocked = orphans_still_blocked();
  /* Semaphore queues may still link waiters that live on abandoned stacks. */
  corio__sema_forget_all();
  /* Abandoned coroutines: their stacks and G records go; nothing of theirs
   * runs. Those of orphan Ms stay: a blocked call still uses the stack. */
  for (size_t i = 0; i < s->nallg; i++) {
    corio_g_t *g = s->allg[i];
    if (CORIO__UNLIKELY(g_of_orphan(g))) continue;
    corio__san_g_fini(g);
    corio__stack_free(&g->stack);
    corio__free(g);
  }
  corio__free(s->allg);
  corio__netpoll_fini();
  for (int i = 0; i < s->nprocs; i++) corio__timers_free(&s->allp[i]);
  corio__free(s->allp);
  for (corio__m_t *m = s->allm; m;) {
    corio__m_t *next = m->alllink;
    if (!is_orphan(m)) corio__free(m); /* an orphan's thread still reads its M */
    m = next;
  }
  /* Unguarded stacks are carved from shared mappings: with an orphan's stack
   * among them, the mappings stay (leaked with it), the pool is forgotten. */
  if (atomic_load(&s->norphans) == 0) corio__stack_fini();
  else corio__stack_forget();
  corio__os_process_fini();
  memset(s, 0, sizeof *s);
  corio__alloc_set(NULL);
  return blocked ? CORIO_EBLOCKED : 0;
}

int corio_run(const corio_config_t *cfg, corio_main_fn_t fn, void *arg, int *exit_status) {
  int rc = corio_init(cfg);
  if (rc) return rc;
  rc = corio_main(fn, arg, exit_status);
  int rc2 = corio_shutdown();
  return rc ? rc : rc2;
}

int corio_procs(void) {
  return atomic_load(&corio__sched.state) == RT_NONE ? 0 : corio__sched.nprocs;
}
