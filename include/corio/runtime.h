/* corio runtime: the coroutine scheduler (G/M/P, after Go's runtime).
 *
 * Life cycle (one runtime per process at a time; init may follow shutdown):
 *
 *     corio_config_t cfg = CORIO_CONFIG_INIT;   // or zero it: zeros are defaults
 *     corio_init(&cfg);
 *     int status;
 *     corio_main(my_main, arg, &status);         // runs until my_main returns
 *     corio_shutdown();
 *
 * corio_main turns the calling thread into the first M and returns when the main
 * coroutine returns. Like a Go program whose main returns, coroutines still parked
 * or runnable at that point are abandoned: they never run again, and
 * corio_shutdown releases their stacks and descriptors without unwinding them
 * (resources they hold are not released for them). A coroutine blocked in
 * the kernel (inside corio_syscall_enter/exit, e.g. a read in blocking mode)
 * does not hold corio_main back either: after a grace period of about 10 ms
 * the runtime gives up on its thread, which never returns into corio (when
 * its call returns it sleeps for good); corio_shutdown then waits at most
 * about 100 ms for such calls and reports CORIO_EBLOCKED if some are still
 * blocked. Exception: when the thread that called corio_main is itself the
 * one blocked in a coroutine's system call, corio_main returns once that
 * call does. With
 * detect_deadlock set, corio_main also returns (CORIO_EDEADLOCK) when every
 * coroutine is blocked for good; those are abandoned in the same way.
 *
 * Process-wide effects, all given back by corio_shutdown:
 * - POSIX: SIGPIPE is ignored from corio_init to corio_shutdown when it was
 *   at its default (SIG_DFL), so that a write to a closed pipe or socket
 *   fails with EPIPE instead of killing the process; a handler or SIG_IGN
 *   the embedder set is left alone, and so is one set while the runtime
 *   runs. Linux: a SIGSEGV handler (reporting a coroutine stack overflow,
 *   then the default action) is installed when SIGSEGV was at its default,
 *   and removed again if it is still the process's handler.
 * - Threads: the runtime's own threads (one per extra M, and a monitor) block
 *   every signal, so signals go to the embedder's threads. The thread calling
 *   corio_main runs with a 1 ns timer slack (Linux) and an alternate signal
 *   stack unless it has one, both restored when corio_main returns.
 * - Descriptors: the poller's (Linux: an epoll descriptor and an eventfd,
 *   close-on-exec; Windows: a completion port), closed by corio_shutdown.
 * - Memory: coroutine stacks are mapped from the OS (two mappings each when
 *   guarded); runtime objects come from the configured allocator.
 * Nothing else: no atexit handler, no change to the locale, the
 * environment, resource limits or other signals.
 *
 * Times are monotonic nanoseconds (corio_nanotime()). Deadlines are absolute.
 */
#ifndef CORIO_RUNTIME_H
#define CORIO_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corio/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_g corio_g_t; /* a coroutine; opaque */

/* Stack policies. Guarded stacks cost two kernel mappings each (Linux allows
 * about 65k mappings by default, so about 32k guarded stacks); unguarded stacks
 * are carved from large reservations and scale to millions, but an overflow
 * corrupts the neighbouring stack instead of faulting. */
typedef enum corio_stack_policy {
  CORIO_STACK_GUARDED = 0,
  CORIO_STACK_UNGUARDED = 1
} corio_stack_policy_t;

/* The allocator for runtime objects (Gs, timers, channels, poll descriptors).
 * Stacks always come from the OS. NULL members: the default (mimalloc where
 * built with it, else the C library). */
typedef struct corio_allocator {
  void *(*malloc)(size_t size, void *ctx);
  void *(*calloc)(size_t count, size_t size, void *ctx);
  void (*free)(void *ptr, void *ctx);
  void *ctx;
} corio_allocator_t;

typedef struct corio_config {
  int procs;                       /* number of Ps; 0: $CORIO_PROCS, else the CPU count */
  size_t stack_size;               /* default coroutine stack; 0: CORIO_DEFAULT_STACK */
  corio_stack_policy_t stack_policy;
  const corio_allocator_t *allocator; /* NULL: the default */
  /* The floating-point control state (rounding mode, exception masks: MXCSR
   * and the x87 control word) belongs to the OS thread by default, as in Go:
   * a coroutine that changes it must restore it before it can be switched out
   * (a yield, a park, any blocking corio call), or others running on that
   * thread inherit it. true: each coroutine keeps its own across switches, as
   * a function call keeps it for its caller, at about 4 ns more per switch. */
  bool fp_env_per_coroutine;
  /* Deadlock detection, as Go's "all goroutines are asleep". true: when no
   * coroutine can ever run again (none runnable or running, none between
   * corio_syscall_enter and corio_syscall_exit, none waiting on the netpoller
   * for I/O or an I/O deadline, no timer pending: sleep, deadline, select or
   * semaphore timeout), corio_main returns CORIO_EDEADLOCK at once and every
   * coroutine still parked is abandoned as when the main coroutine returns.
   * By setting it the embedder promises that no thread outside the runtime
   * will call corio_ready or corio_spawn later (nothing the runtime could
   * see). false (the default): a deadlocked program blocks for good. */
  bool detect_deadlock;
} corio_config_t;

#define CORIO_CONFIG_INIT {0, 0, CORIO_STACK_GUARDED, NULL, false, false}
#define CORIO_DEFAULT_STACK ((size_t)256 * 1024)
#define CORIO_MIN_STACK ((size_t)16 * 1024)
#define CORIO_MAX_STACK ((size_t)1024 * 1024 * 1024)
#define CORIO_MAX_PROCS 256

typedef void (*corio_fn_t)(void *arg);
typedef int (*corio_main_fn_t)(void *arg);

/* Initialise the runtime. cfg may be NULL (all defaults).
 * Errors: CORIO_EALREADY (already initialised), CORIO_EINVAL (procs < 0 or >
 * CORIO_MAX_PROCS, stack size outside [CORIO_MIN_STACK, CORIO_MAX_STACK], bad
 * policy, allocator missing malloc or free, $CORIO_PROCS not a number in range),
 * CORIO_ENOMEM, or an OS error from creating the poller. */
CORIO_API int corio_init(const corio_config_t *cfg);

/* Run fn(arg) as the main coroutine on the calling thread and the runtime's
 * other threads; return when it returns, storing its result in *exit_status
 * (may be NULL). Errors: CORIO_ENOTINIT, CORIO_EALREADY (main already ran or is
 * running; call corio_shutdown and corio_init again), CORIO_EINVAL (fn NULL),
 * CORIO_ENOMEM, CORIO_EMAPLIMIT, OS errors from thread creation,
 * CORIO_EDEADLOCK (detect_deadlock set and every coroutine, main included,
 * blocked for good; *exit_status is not written; call corio_shutdown, which
 * releases the abandoned coroutines, as after a normal return). */
CORIO_API int corio_main(corio_main_fn_t fn, void *arg, int *exit_status);

/* Release everything; see the life-cycle note above. Must not be called from a
 * coroutine. Errors: CORIO_ENOTINIT, CORIO_EALREADY (corio_main still running),
 * CORIO_EBLOCKED (threads of abandoned coroutines are still blocked in system
 * calls after a bounded wait of about 100 ms: everything else is released and
 * corio_init may be called again; those threads, their coroutines' stacks and
 * a few hundred bytes each stay allocated, and each sleeps for good once its
 * call returns, without touching any runtime). */
CORIO_API int corio_shutdown(void);

/* corio_init + corio_main + corio_shutdown. */
CORIO_API int corio_run(const corio_config_t *cfg, corio_main_fn_t fn, void *arg, int *exit_status);

/* Start fn(arg) as a new coroutine. Callable from a coroutine, from any other
 * thread, and between corio_init and corio_main.
 * Errors: CORIO_ENOTINIT, CORIO_EINVAL (fn NULL, bad stack size), CORIO_ESHUTDOWN
 * (main has returned), CORIO_ENOMEM, CORIO_EMAPLIMIT (the kernel's mapping
 * limit, see corio_stack_policy_t). */
CORIO_API int corio_spawn(corio_fn_t fn, void *arg);
/* As corio_spawn with an explicit stack size (0: the configured default). */
CORIO_API int corio_spawn_stack(corio_fn_t fn, void *arg, size_t stack_size);

/* Let other coroutines run. Errors: CORIO_ENOTCORO. */
CORIO_API int corio_yield(void);

/* Monotonic clock, nanoseconds. */
CORIO_API int64_t corio_nanotime(void);

/* Sleep ns nanoseconds (<= 0: just yield) / until an absolute time. The
 * end of a duration saturates instead of overflowing: corio_sleep(INT64_MAX)
 * and corio_sleep_until(INT64_MAX) last until the runtime stops (the
 * coroutine is then abandoned, see the life-cycle note). The same holds for
 * every deadline corio takes: INT64_MAX is never reached.
 * Errors: CORIO_ENOTCORO. */
CORIO_API int corio_sleep(int64_t ns);
CORIO_API int corio_sleep_until(int64_t deadline);

/* The running coroutine, or NULL on a thread that is not running one. */
CORIO_API corio_g_t *corio_current(void);
/* A small id, unique for the runtime's lifetime (main is 1). */
CORIO_API uint64_t corio_g_id(const corio_g_t *g);

/* gopark: park the running coroutine. After it has been switched out (its stack
 * no longer in use), unlock(g, arg) runs on the scheduler; if it returns false
 * the coroutine is made runnable again at once. unlock may be NULL. reason is a
 * static string for diagnostics. Someone must later call corio_ready(g).
 * Errors: CORIO_ENOTCORO. */
typedef bool (*corio_unlock_fn_t)(corio_g_t *g, void *arg);
CORIO_API int corio_park(corio_unlock_fn_t unlock, void *arg, const char *reason);

/* goready: make a parked coroutine runnable. Callable from anywhere (a
 * coroutine, a foreign thread, an unlock callback). Readying a coroutine that is
 * not parked is a fatal runtime error, as in Go. */
CORIO_API void corio_ready(corio_g_t *g);

/* Bracket an OS call that may block: the P is handed to another thread if the
 * call takes long (a monitor thread retakes it after about 20 us), so other
 * coroutines keep running. Between the two calls do not use corio's blocking
 * calls. Outside a coroutine both are no-ops returning CORIO_ENOTCORO. */
CORIO_API int corio_syscall_enter(void);
CORIO_API int corio_syscall_exit(void);

/* The number of Ps of the running runtime (0 when not initialised). */
CORIO_API int corio_procs(void);

#ifdef __cplusplus
}
#endif
#endif
