/* Checks made on coroutines, asserted on the test thread.
 *
 * A failing Criterion assertion must not run on a coroutine (it unwinds the
 * test thread's stack from under the scheduler), so coroutine code records
 * the first failed CHECK here and carries on; run_program, or a test that
 * drives the runtime itself, asserts it once corio_run has returned.
 *
 * Every suite that runs coroutines includes this header: CHECK, CHECK_EQ,
 * check_fail for a failure in words, wait_for, MS, run_program. */
#ifndef CORIO_TESTS_CHECK_H
#define CORIO_TESTS_CHECK_H

#include <criterion/criterion.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "corio/error.h"
#include "corio/runtime.h"

#define MS ((int64_t)1000000)

/* How long wait_for yields before it gives up and fails. A suite may define
 * its own bound before including this header. */
#ifndef CHECK_WAIT_MS
#define CHECK_WAIT_MS 5000
#endif

/* The first failure wins: set once (by CAS) from any thread, read by the test
 * thread after corio_run has returned. */
static _Atomic int check_failed;
static char check_msg[512];

static inline void check_fail(const char *file, int line, const char *what) {
  int expected = 0;
  if (atomic_compare_exchange_strong(&check_failed, &expected, 1))
    snprintf(check_msg, sizeof check_msg, "%s:%d: %s", file, line, what);
}

#define CHECK(cond)                                                                          \
  do {                                                                                       \
    if (!(cond)) check_fail(__FILE__, __LINE__, "CHECK(" #cond ")");                         \
  } while (0)

/* v as a number, followed by its corio error name ("CORIO_ETIMEOUT", "EPIPE",
 * "OK") when named is set and v can be an error (zero or a negative int). */
static inline void check_describe(char *buf, size_t len, long long v, bool named) {
  if (named && v <= 0 && v >= INT_MIN)
    snprintf(buf, len, "%lld [%s]", v, corio_err_name((int)v));
  else
    snprintf(buf, len, "%lld", v);
}

/* CHECK_EQ's failure: both expressions and values; when either value is an
 * error, both are named. */
static inline void check_eq_fail(const char *file, int line, const char *a_expr,
                                 const char *b_expr, long long a, long long b) {
  bool named = a < 0 || b < 0;
  /* One buffer per side: corio_err_name may reuse its own between calls. */
  char as[64], bs[64], m[320];
  check_describe(as, sizeof as, a, named);
  check_describe(bs, sizeof bs, b, named);
  snprintf(m, sizeof m, "%s == %s (%s vs %s)", a_expr, b_expr, as, bs);
  check_fail(file, line, m);
}

/* Compares as long long. */
#define CHECK_EQ(a, b)                                                                       \
  do {                                                                                       \
    long long a_ = (long long)(a), b_ = (long long)(b);                                      \
    if (a_ != b_) check_eq_fail(__FILE__, __LINE__, #a, #b, a_, b_);                         \
  } while (0)

/* Yield until *flag reaches want; after CHECK_WAIT_MS, fail at the caller's
 * line with what the flag holds. */
#define wait_for(flag, want) wait_for_at(__FILE__, __LINE__, #flag, (flag), (want))

static inline void wait_for_at(const char *file, int line, const char *expr, _Atomic int *flag,
                               int want) {
  int64_t give_up = corio_nanotime() + CHECK_WAIT_MS * MS;
  while (atomic_load(flag) != want && corio_nanotime() < give_up) corio_yield();
  int got = atomic_load(flag);
  if (got != want) {
    char m[256];
    snprintf(m, sizeof m, "wait_for(%s, %d): still %d after %d ms", expr, want, got,
             CHECK_WAIT_MS);
    check_fail(file, line, m);
  }
}

/* On the test thread: no CHECK failed. */
static inline void assert_checks_passed(void) {
  cr_assert(!atomic_load(&check_failed), "%s", check_msg);
}

/* On the test thread, after corio_run: it succeeded, no CHECK failed, and
 * the main coroutine returned 0. */
static inline void assert_run_ok(int rc, int status) {
  cr_assert_eq(rc, 0, "corio_run: %s", corio_strerror(rc));
  assert_checks_passed();
  cr_assert_eq(status, 0, "main coroutine returned %d", status);
}

/* Run fn as the main coroutine on procs Ps; fn returns 0 on success. */
static inline void run_program(int procs, corio_main_fn_t fn, void *arg) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = procs;
  int status = -1;
  int rc = corio_run(&cfg, fn, arg, &status);
  assert_run_ok(rc, status);
}

#endif
