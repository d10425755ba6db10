/* Test helpers for the poll and os suites: checks made inside coroutines are
 * recorded and reported by the test body after corio_run has returned (a
 * failing Criterion assertion must not unwind a coroutine's stack). */
#ifndef CORIO_TESTS_FD_CHECK_H
#define CORIO_TESTS_FD_CHECK_H

#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>

#include "corio/runtime.h"

static _Atomic int check_failed;
static char check_msg[512];

static void check_fail(const char *file, int line, const char *what) {
  int expected = 0;
  if (atomic_compare_exchange_strong(&check_failed, &expected, 1))
    snprintf(check_msg, sizeof check_msg, "%s:%d: %s", file, line, what);
}

#define CHECK(cond)                                                                          \
  do {                                                                                       \
    if (!(cond)) check_fail(__FILE__, __LINE__, "CHECK(" #cond ")");                         \
  } while (0)

/* Compares as long long; names corio errors on a mismatch. */
#define CHECK_EQ(a, b)                                                                       \
  do {                                                                                       \
    long long a_ = (long long)(a), b_ = (long long)(b);                                      \
    if (a_ != b_) {                                                                          \
      char m_[320];                                                                          \
      snprintf(m_, sizeof m_, "%s == %s (%lld [%s] vs %lld [%s])", #a, #b, a_,               \
               corio_err_name((int)a_), b_, corio_err_name((int)b_));                        \
      check_fail(__FILE__, __LINE__, m_);                                                    \
    }                                                                                        \
  } while (0)

#define MS ((int64_t)1000000)

/* Run fn as the main coroutine on procs Ps; fn returns 0 on success. */
static void run_program(int procs, corio_main_fn_t fn, void *arg) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = procs;
  int status = -1;
  int rc = corio_run(&cfg, fn, arg, &status);
  cr_assert_eq(rc, 0, "corio_run: %s", corio_strerror(rc));
  cr_assert(!atomic_load(&check_failed), "%s", check_msg);
  cr_assert_eq(status, 0, "main coroutine returned %d", status);
}

/* Yield until *v reaches want; gives up (and fails) after about five seconds. */
static void wait_for(_Atomic int *v, int want) {
  int64_t give_up = corio_nanotime() + 5000 * MS;
  while (atomic_load(v) != want && corio_nanotime() < give_up) corio_yield();
  CHECK_EQ(atomic_load(v), want);
}

#endif
