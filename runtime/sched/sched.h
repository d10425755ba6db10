/* Internal scheduler interface for the other runtime layers (sync primitives,
 * netpoll) and for poll/: the running coroutine, park and ready, timers and
 * the clock. Nothing here is public; embedders use corio/runtime.h. What
 * every layer uses (allocation, throw, short locks, hot-path macros) is in
 * runtime/base.h, which this includes.
 *
 * Context rules:
 * - "coroutine context": code running on a G's stack (corio__getg() != NULL).
 * - "scheduler context": an M's own thread stack (timer callbacks, unlock
 *   callbacks of corio__park, netpoll delivery). No parking there.
 * - corio__lock_t (base.h) is a short OS-level lock; it blocks the thread,
 *   never parks a coroutine. Hold it only for a few instructions' worth of work.
 */
#ifndef CORIO_SCHED_H
#define CORIO_SCHED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"
#include "corio/runtime.h"

/* ---- the running coroutine ----
 * Never inlined: a coroutine may resume on another thread, and a compiler may
 * keep a thread-local address computed before a switch (see DESIGN.md). */
corio_g_t *corio__getg(void);

/* Same as corio_park / corio_ready; corio__park must be called on a G. */
void corio__park(corio_unlock_fn_t unlock, void *arg, const char *reason);
/* corio__park for a wait on the netpoller. When the P has nothing else to
 * run, it polls the network (without blocking) before it switches away and
 * runs a coroutine the poll readied, as findrunnable would have after a
 * switch to the scheduler loop, one switch sooner. So unlock must not hold a
 * lock that delivering an event takes (a descriptor's), and the poll uses
 * about 2 KB more of the coroutine's stack. */
void corio__park_io(corio_unlock_fn_t unlock, void *arg, const char *reason);
void corio__ready(corio_g_t *g);

/* An intrusive list of Gs (through the G's scheduler link). */
typedef struct corio__glist {
  corio_g_t *head;
  corio_g_t *tail;
  int n;
} corio__glist_t;
void corio__glist_push(corio__glist_t *l, corio_g_t *g);
/* Make every G of the list runnable (each must be parked) and empty the list. */
void corio__inject_glist(corio__glist_t *l);

/* ---- timers ----
 * Per-P heaps. fn(arg, seq) runs in scheduler context on some M once the
 * monotonic clock reaches when; it must not block (corio__ready and short locks
 * are fine). A timer's memory must stay valid while it is armed and while its
 * callback may run: owners that stop a timer and free it must make the callback
 * tolerate a late call (netpoll checks seq) or not free it.
 */
typedef void (*corio__timer_fn)(void *arg, uintptr_t seq);
typedef struct corio__timer {
  int64_t when;
  corio__timer_fn fn;
  void *arg;
  uintptr_t seq;
  struct corio__p *_Atomic heap; /* the P whose heap holds it, NULL when not armed */
  int32_t idx;                   /* index in that heap, guarded by the heap's lock */
} corio__timer_t;

void corio__timer_init(corio__timer_t *t, corio__timer_fn fn, void *arg);
/* Arm or move the timer (when: absolute monotonic ns; seq is passed to fn). */
void corio__timer_reset(corio__timer_t *t, int64_t when, uintptr_t seq);
/* Disarm. true: it was armed and now will not fire; false: it was not armed, or
 * has already fired or is firing. */
bool corio__timer_stop(corio__timer_t *t);
/* Reserve heap slots for n timers that may later be armed at once (timer.c
 * says who reserves what), so that arming never needs memory it cannot get.
 * 0 or CORIO_ENOMEM (nothing reserved). unreserve gives n back. */
int corio__timer_reserve(int n);
void corio__timer_unreserve(int n);

int64_t corio__nanotime(void);

/* t + d for a time and a duration, saturated to [INT64_MIN, INT64_MAX]: a
 * deadline that would overflow is "never" (INT64_MAX), which the timers
 * treat as a time that is never reached (a sleep of INT64_MAX lasts until
 * shutdown). Every sum of a time and a caller's duration goes through it. */
static inline int64_t corio__time_add(int64_t t, int64_t d) {
  if (d > 0 && t > INT64_MAX - d) return INT64_MAX;
  if (d < 0 && t < INT64_MIN - d) return INT64_MIN;
  return t + d;
}

#endif
