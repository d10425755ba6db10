/* Test helpers for the sync suites: checks made inside coroutines, reported
 * by the test body once corio_run has returned.
 *
 * Criterion's assertions must not run on a coroutine (a failing cr_assert
 * unwinds the test thread's stack), so coroutine code records the first
 * failed CHECK here and returns; run_program asserts on the test thread. */
#ifndef CORIO_TESTS_SYNC_CHECK_H
#define CORIO_TESTS_SYNC_CHECK_H

#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>

#include "corio/runtime.h"
#include "corio/sync.h"

static _Atomic int check_failed;
static char check_msg[512];

static inline void check_fail(const char *file, int line, const char *what) {
  int expected = 0;
  if (atomic_compare_exchange_strong(&check_failed, &expected, 1))
    snprintf(check_msg, sizeof check_msg, "%s:%d: %s", file, line, what);
}

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond))                                                               \
      check_fail(__FILE__, __LINE__, "CHECK(" #cond ")");                      \
  } while (0)

#define CHECK_EQ(a, b)                                                         \
  do {                                                                         \
    long long a_ = (long long)(a), b_ = (long long)(b);                        \
    if (a_ != b_) {                                                            \
      char m_[256];                                                            \
      snprintf(m_, sizeof m_, "%s == %s (%lld vs %lld)", #a, #b, a_, b_);     \
      check_fail(__FILE__, __LINE__, m_);                                      \
    }                                                                          \
  } while (0)

#define MS ((int64_t)1000000)

/* Run fn as the main coroutine on procs Ps; fn returns 0 on success. */
static inline void run_program(int procs, corio_main_fn_t fn, void *arg) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = procs;
  int status = -1;
  int rc = corio_run(&cfg, fn, arg, &status);
  cr_assert_eq(rc, 0, "corio_run: %s", corio_strerror(rc));
  cr_assert(!atomic_load(&check_failed), "%s", check_msg);
  cr_assert_eq(status, 0, "main coroutine returned %d", status);
}

/* Yield until *flag reaches want, at most about two seconds (then CHECK fails). */
static inline void wait_for(_Atomic int *flag, int want) {
  int64_t give_up = corio_nanotime() + 2000 * MS;
  while (atomic_load(flag) != want && corio_nanotime() < give_up)
    corio_yield();
  CHECK_EQ(atomic_load(flag), want);
}

#endif
