/* Helpers shared by the test suites. */
#ifndef CORIO_TEST_UTIL_H
#define CORIO_TEST_UTIL_H

#include <stdlib.h>

#include "corio/runtime.h"

#if defined(CORIO_ASAN) || defined(CORIO_TSAN)
#define CORIO_TEST_SANITIZED 1
#else
#define CORIO_TEST_SANITIZED 0
#endif

/* Run fn as the main coroutine on a runtime with procs Ps; returns its status. */
static inline int corio_test_run(int procs, corio_main_fn_t fn, void *arg) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = procs;
  int status = -12345;
  int rc = corio_run(&cfg, fn, arg, &status);
  if (rc != 0) return rc;
  return status;
}

#endif
