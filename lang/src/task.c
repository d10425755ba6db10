/* Tasks (one corio coroutine each), the VM lock, and the blocking built-ins
 * that are not I/O: sleep, join, wait groups, mutexes.
 *
 * The VM lock is a corio mutex: a task holds it while it interprets and
 * releases it around every call that can park (vm_unlock / vm_relock), so
 * with any number of Ps one task interprets at a time and the others are
 * parked in corio, or waiting for the lock, at safe points. A task that
 * computes for a long time offers the lock every BUDGET statements
 * (interp.c). Wait groups and mutexes keep their counters in the language
 * object, under the VM lock, and report misuse as language errors; corio's
 * own checks for those misuses are fatal, as Go's are.
 */
#include <stdlib.h>
#include <string.h>

#include "lang.h"


typedef struct wg_obj {
  obj_t h;
  int64_t count;
  uint32_t sema;     /* waiters sleep here; released one token per waiter at zero */
  uint32_t waiters;  /* under the VM lock */
} wg_obj_t;

typedef struct mutex_obj {
  obj_t h;
  corio_mutex_t m;
  bool locked; /* under the VM lock: set once the locker holds the VM lock again */
} mutex_obj_t;

void vm_unlock(task_t *t, const char *waiting) {
  t->waiting = waiting;
  corio_mutex_unlock(&g_vm.lock);
}

void vm_relock(task_t *t) {
  corio_mutex_lock(&g_vm.lock);
  t->waiting = NULL;
}

static void live_add(task_t *t) {
  t->next_live = g_vm.live;
  if (g_vm.live) g_vm.live->prev_live = t;
  g_vm.live = t;
}

static void live_remove(task_t *t) {
  if (t->prev_live) t->prev_live->next_live = t->next_live;
  else if (g_vm.live == t) g_vm.live = t->next_live;
  if (t->next_live) t->next_live->prev_live = t->prev_live;
  t->prev_live = t->next_live = NULL;
}

task_t *task_new(void) {
  task_t *t = gc_alloc(T_TASK, sizeof *t);
  t->id = ++g_vm.next_id;
  t->budget = 2000;
  t->running = true;
  live_add(t);
  g_vm.ntasks++;
  return t;
}

void task_release(task_t *t) {
  if (t->running || t->failed) live_remove(t);
}

static void task_entry(void *arg) {
  task_t *t = arg;
  char here;
  t->cstack_top = &here;
  corio_mutex_lock(&g_vm.lock);
  int nargs = (int)t->sp - 1;
  int st = call_value(t, nargs, current_line(t));
  if (st == ST_OK) {
    t->result = pop(t);
  } else if (st == ST_ERR) {
    t->failed = true;
    t->result = t->err;
    t->err = V_NIL;
  } else if (st == ST_EXIT && !g_fuzzing) {
    stdout_flush(t);
    fflush(NULL);
    _Exit(g_vm.exit_code);
  }
  t->running = false;
  t->done = true;
  free(t->stack);
  t->stack = NULL;
  t->sp = t->cap = 0;
  free(t->frames);
  t->frames = NULL;
  t->nframes = t->capframes = 0;
  if (!t->failed) live_remove(t); /* a failed task stays a root until joined */
  g_vm.ntasks--;
  corio_wg_done(&t->join_wg);
  corio_mutex_unlock(&g_vm.lock);
}

int task_spawn(task_t *parent, int nargs, int line) {
  value_t f = *peek(parent, nargs);
  if (f.t != T_FUNC && f.t != T_BUILTIN) return raise(parent, "cannot spawn a %s", type_name(f));
  task_t *t = task_new();
  t->spawn_line = line;
  stack_grow(t, (size_t)nargs + 1);
  memcpy(t->stack, &parent->stack[parent->sp - (size_t)nargs - 1], ((size_t)nargs + 1) * sizeof(value_t));
  t->sp = (size_t)nargs + 1;
  parent->sp -= (size_t)nargs + 1;
  push(parent, V_OBJ(T_TASK, t));
  corio_wg_add(&t->join_wg, 1);
  int r = corio_spawn_stack(task_entry, t, LANG_TASK_STACK);
  if (r < 0) {
    live_remove(t);
    g_vm.ntasks--;
    t->running = false;
    t->done = true;
    corio_wg_done(&t->join_wg);
    return raise_corio(parent, r, "spawn");
  }
  return ST_OK;
}

/* ---- methods of tasks, wait groups and mutexes ---- */
static int task_join(task_t *t, task_t *j) {
  if (j == t) return raise(t, "a task cannot join itself");
  if (!j->done) {
    vm_unlock(t, "join");
    corio_wg_wait(&j->join_wg);
    vm_relock(t);
  }
  if (j->failed) {
    if (!j->observed) {
      j->observed = true;
      live_remove(j);
    }
    t->err = j->result;
    return ST_ERR;
  }
  t->ret = j->result;
  return ST_OK;
}

static int wg_wait(task_t *t, wg_obj_t *w) {
  if (w->count == 0) return ST_OK;
  w->waiters++;
  vm_unlock(t, "waitgroup wait");
  corio_sema_acquire(&w->sema);
  vm_relock(t);
  return ST_OK;
}

static int wg_add(task_t *t, wg_obj_t *w, int64_t d) {
  if (w->count + d < 0) return raise(t, "negative wait group counter");
  w->count += d;
  if (w->count == 0) {
    for (; w->waiters; w->waiters--) corio_sema_release(&w->sema);
  }
  return ST_OK;
}

int task_method(task_t *t, int mid, int nargs, bool *handled) {
  value_t r = *peek(t, nargs);
  *handled = true;
  if (r.t == T_TASK) {
    task_t *j = AS_TASK(r);
    if (mid == M_JOIN && nargs == 0) return task_join(t, j);
    if (mid == M_ID && nargs == 0) { t->ret = V_INT((int64_t)j->id); return ST_OK; }
  } else if (r.t == T_WG) {
    wg_obj_t *w = (wg_obj_t *)r.u.o;
    if (mid == M_ADD && nargs <= 1) {
      value_t d = nargs ? *arg(t, nargs, 0) : V_INT(1);
      if (d.t != T_INT) return raise(t, "wrong type: waitgroup.add needs an int");
      return wg_add(t, w, d.u.i);
    }
    if (mid == M_DONE && nargs == 0) return wg_add(t, w, -1);
    if (mid == M_WAIT && nargs == 0) return wg_wait(t, w);
  } else if (r.t == T_MUTEX) {
    mutex_obj_t *m = (mutex_obj_t *)r.u.o;
    if (mid == M_LOCK && nargs == 0) {
      if (corio_mutex_trylock(&m->m) != 0) {
        vm_unlock(t, "mutex lock");
        corio_mutex_lock(&m->m);
        vm_relock(t);
      }
      m->locked = true;
      return ST_OK;
    }
    if (mid == M_UNLOCK && nargs == 0) {
      if (!m->locked) return raise(t, "unlock of unlocked mutex");
      m->locked = false;
      corio_mutex_unlock(&m->m);
      return ST_OK;
    }
  }
  *handled = false;
  return ST_OK;
}

/* ---- built-ins ---- */
int64_t ms_to_deadline(value_t ms, bool *ok) {
  *ok = true;
  if (ms.t == T_NIL) return 0;
  double d;
  if (ms.t == T_INT) d = (double)ms.u.i;
  else if (ms.t == T_FLOAT) d = ms.u.f;
  else { *ok = false; return 0; }
  if (d == 0) return 0;
  if (d < 0) return 1; /* already past */
  if (d > 1e12) d = 1e12;
  if (g_fuzzing && d > 1) d = 1;
  return corio_nanotime() + (int64_t)(d * 1e6);
}

static int b_sleep(task_t *t, int nargs) {
  value_t ms = *arg(t, nargs, 0);
  double d;
  if (ms.t == T_INT) d = (double)ms.u.i;
  else if (ms.t == T_FLOAT) d = ms.u.f;
  else return raise(t, "wrong type: sleep needs milliseconds, not a %s", type_name(ms));
  if (d > 1e12) d = 1e12;
  if (g_fuzzing && d > 1) d = 1;
  vm_unlock(t, "sleep");
  corio_sleep((int64_t)(d * 1e6));
  vm_relock(t);
  return ST_OK;
}

static int b_yield(task_t *t, int nargs) {
  (void)nargs;
  vm_unlock(t, "yield");
  corio_yield();
  vm_relock(t);
  return ST_OK;
}

static int b_now(task_t *t, int nargs) {
  (void)nargs;
  t->ret = V_FLOAT((double)corio_nanotime() / 1e6);
  return ST_OK;
}

static int b_waitgroup(task_t *t, int nargs) {
  (void)nargs;
  t->ret = V_OBJ(T_WG, gc_alloc(T_WG, sizeof(wg_obj_t)));
  return ST_OK;
}

static int b_mutex(task_t *t, int nargs) {
  (void)nargs;
  mutex_obj_t *m = gc_alloc(T_MUTEX, sizeof *m);
  m->m = (corio_mutex_t)CORIO_MUTEX_INIT;
  t->ret = V_OBJ(T_MUTEX, m);
  return ST_OK;
}

static int b_join(task_t *t, int nargs) {
  value_t j = *arg(t, nargs, 0);
  if (j.t != T_TASK) return raise(t, "wrong type: join needs a task, not a %s", type_name(j));
  return task_join(t, AS_TASK(j));
}

static int b_tasks(task_t *t, int nargs) {
  (void)nargs;
  t->ret = V_INT((int64_t)g_vm.ntasks);
  return ST_OK;
}

static int b_procs(task_t *t, int nargs) {
  (void)nargs;
  t->ret = V_INT(corio_procs());
  return ST_OK;
}

static const builtin_t task_builtins[] = {
  {"sleep", b_sleep, 1, 1},
  {"yield", b_yield, 0, 0},
  {"now", b_now, 0, 0},
  {"waitgroup", b_waitgroup, 0, 0},
  {"mutex", b_mutex, 0, 0},
  {"join", b_join, 1, 1},
  {"tasks", b_tasks, 0, 0},
  {"procs", b_procs, 0, 0},
};

void task_init(void) { builtins_register(task_builtins, (int)(sizeof task_builtins / sizeof task_builtins[0])); }
