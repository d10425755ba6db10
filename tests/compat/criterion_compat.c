/* The runner behind compat/criterion/criterion.h, the portable half.
 *
 *   test                      run every test, each in a child process
 *   test --filter suite/name  only the tests matching the pattern ('*' and
 *                             '?' wildcards), as Criterion's --filter
 *   test --list               print the tests
 *   test --run suite/name     run one test in this process (the Windows
 *                             runner starts its children this way)
 * Criterion's -jN, --short-filename and --verbose are accepted and change
 * nothing: tests run one at a time.
 *
 * The parent runs each test in a child process of its own (runner_platform.h
 * says how), waits for it at most the test's .timeout and judges how it
 * ended: a test passes when it returned with no failed expectation, when it
 * crashed with the signal it expects (.signal), or when it exited with the
 * code it expects (.exit_code). A timeout, a failed check, an unexpected exit
 * code (a sanitizer's report included) or a return where a crash or an exit
 * was expected fails it; any other crash counts as "Crashing". */
#define __USE_MINGW_ANSI_STDIO 1 /* C99 printf formats with mingw-w64; no effect elsewhere */
#include "runner_platform.h"

#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct corio_cr_test *tests;
static struct corio_cr_suite *suites;
static int ntests;

/* The test this process runs, for messages. */
static const struct corio_cr_test *current;
static atomic_int expect_failed;

void corio_cr_register_test(struct corio_cr_test *t) {
  t->next = tests;
  tests = t;
  ntests++;
}

void corio_cr_register_suite(struct corio_cr_suite *s) {
  s->next = suites;
  suites = s;
}

/* ---- value formatting for failed comparisons ---- */

void corio_cr_fmt_i(char *buf, size_t n, long long v) { snprintf(buf, n, "%lld", v); }
void corio_cr_fmt_u(char *buf, size_t n, unsigned long long v) { snprintf(buf, n, "%llu", v); }
void corio_cr_fmt_f(char *buf, size_t n, long double v) { snprintf(buf, n, "%.17Lg", v); }
void corio_cr_fmt_p(char *buf, size_t n, const volatile void *v) {
  if (v)
    snprintf(buf, n, "%p", (void *)(uintptr_t)v);
  else
    snprintf(buf, n, "NULL");
}
void corio_cr_fmt_s(char *buf, size_t n, const char *v) {
  if (v)
    snprintf(buf, n, "\"%s\"", v);
  else
    snprintf(buf, n, "NULL");
}

/* ---- the child's side ---- */

static void vreport(const char *fmt, va_list ap) {
  char msg[2048];
  vsnprintf(msg, sizeof msg, fmt, ap);
  /* One line per "[----]", as Criterion prints multi-line messages. */
  for (char *line = msg, *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
    nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    fprintf(stderr, "[----]   %s\n", line);
    if (!nl) break;
  }
}

/* A fatal failure ends the process with the lock held: no other thread's
 * report may start after it. */
void corio_cr_fail(bool fatal, const char *file, int line, const char *expr, const char *lhs,
                   const char *rhs, const char *fmt, ...) {
  corio__cr_lock();
  fprintf(stderr, "[----] %s:%d: %s\n", file, line, fatal ? "Assertion Failed" : "Expectation Failed");
  if (fmt && *fmt) {
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
  }
  if (expr) fprintf(stderr, "[----]   The expression %s is false.\n", expr);
  if (lhs && rhs)
    fprintf(stderr, "[----]   (left: %s, right: %s)\n", lhs, rhs);
  else if (lhs)
    fprintf(stderr, "[----]   (value: %s)\n", lhs);
  fflush(stderr);
  atomic_store(&expect_failed, 1);
  if (fatal) corio__cr_child_end(CORIO_CR_END_FAILED);
  corio__cr_unlock();
}

void corio_cr_skip(const char *file, int line, const char *fmt, ...) {
  corio__cr_lock();
  fprintf(stderr, "[----] %s:%d: skipped\n", file, line);
  if (fmt && *fmt) {
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
  }
  corio__cr_child_end(CORIO_CR_END_SKIPPED);
}

void corio_cr_log(const char *level, const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  corio__cr_lock();
  fprintf(stderr, "%s%s\n", level, msg);
  fflush(stderr);
  corio__cr_unlock();
}

static const struct corio_cr_suite *suite_of(const struct corio_cr_test *t) {
  for (const struct corio_cr_suite *s = suites; s; s = s->next)
    if (strcmp(s->name, t->suite) == 0) return s;
  return NULL;
}

void corio__cr_run_in_process(const struct corio_cr_test *t) {
  const struct corio_cr_suite *s = suite_of(t);
  void (*init)(void) = t->init ? t->init : s ? s->init : NULL;
  void (*fini)(void) = t->fini ? t->fini : s ? s->fini : NULL;
  current = t;
  corio__cr_child_setup();
  if (init) init();
  t->fn();
  if (fini) fini();
  corio__cr_child_end(atomic_load(&expect_failed) ? CORIO_CR_END_FAILED : CORIO_CR_END_PASSED);
}

/* ---- the parent's side ---- */

static bool glob_match(const char *p, const char *s) {
  for (; *p; p++, s++) {
    if (*p == '*') {
      for (p++; ; s++) {
        if (glob_match(p, s)) return true;
        if (!*s) return false;
      }
    }
    if (!*s || (*p != '?' && *p != *s)) return false;
  }
  return *s == '\0';
}

static bool selected(const struct corio_cr_test *t, const char *filter) {
  if (!filter) return true;
  char full[512];
  snprintf(full, sizeof full, "%s/%s", t->suite, t->name);
  return glob_match(filter, full);
}

static int compare_tests(const void *a, const void *b) {
  const struct corio_cr_test *x = *(const struct corio_cr_test *const *)a;
  const struct corio_cr_test *y = *(const struct corio_cr_test *const *)b;
  int c = strcmp(x->suite, y->suite);
  return c ? c : strcmp(x->name, y->name);
}

/* Criterion's name for a signal. Numbers, not macros, for the ones mingw-w64's
 * <signal.h> lacks; their numbers are the same on Linux and the BSDs. */
static const char *signal_name(int sig, char *buf, size_t n) {
  switch (sig) {
  case SIGABRT: return "SIGABRT";
  case SIGSEGV: return "SIGSEGV";
  case SIGILL: return "SIGILL";
  case SIGFPE: return "SIGFPE";
  case SIGTERM: return "SIGTERM";
  case 5: return "SIGTRAP";
  case 9: return "SIGKILL";
  default:
    snprintf(buf, n, "signal %d", sig);
    return buf;
  }
}

typedef enum { PASSED, FAILED, CRASHED, SKIPPED } verdict_t;

static verdict_t judge(const struct corio_cr_test *t, double timeout, const corio__cr_outcome_t *o,
                       char *why, size_t n) {
  const struct corio_cr_suite *s = suite_of(t);
  int want_signal = t->signal ? t->signal : s ? s->signal : 0;
  int want_exit = t->exit_code ? t->exit_code : s ? s->exit_code : 0;
  char want_buf[24], got_buf[24];
  const char *want_name = signal_name(want_signal, want_buf, sizeof want_buf);
  why[0] = '\0';
  switch (o->result) {
  case CORIO_CR_SKIPPED:
    return SKIPPED;
  case CORIO_CR_FAILED:
    return FAILED;
  case CORIO_CR_PASSED:
    if (want_signal)
      snprintf(why, n, "expected %s, the test returned", want_name);
    else if (want_exit)
      snprintf(why, n, "expected exit code %d, the test returned", want_exit);
    return want_signal || want_exit ? FAILED : PASSED;
  case CORIO_CR_SIGNALED:
    if ((int)o->code == want_signal) return PASSED;
    snprintf(why, n, "CRASH! %s%s", signal_name((int)o->code, got_buf, sizeof got_buf), o->raw);
    return CRASHED;
  case CORIO_CR_TIMED_OUT:
    snprintf(why, n, "Timed out. (%.2fs)", timeout);
    return FAILED;
  case CORIO_CR_NOT_STARTED:
    snprintf(why, n, "could not start the test process");
    return CRASHED;
  case CORIO_CR_EXITED:
    break;
  }
  /* Windows under Wine: a process whose Unix side died reports code 0. */
  if (o->code == 0) {
    snprintf(why, n, "the test process ended with code 0 before the test finished");
    return CRASHED;
  }
  if ((int)o->code == want_exit && !want_signal) return PASSED;
  if (want_signal)
    snprintf(why, n, "expected %s, the test exited with code %lu", want_name, o->code);
  else
    snprintf(why, n, "exited with code %lu, expected %d", o->code, want_exit);
  return FAILED;
}

static verdict_t run_one(const struct corio_cr_test *t) {
  const struct corio_cr_suite *s = suite_of(t);
  double timeout = t->timeout > 0 ? t->timeout : s && s->timeout > 0 ? s->timeout : 0;
  char why[160];
  corio__cr_outcome_t o;
  memset(&o, 0, sizeof o);
  double t0 = corio__cr_now();
  corio__cr_run_child(t, timeout, &o);
  double secs = corio__cr_now() - t0;
  verdict_t v = judge(t, timeout, &o, why, sizeof why);
  static const char *tag[] = {"[PASS]", "[FAIL]", "[FAIL]", "[SKIP]"};
  fprintf(stderr, "%s %s::%s: (%.2fs)%s%s\n", tag[v], t->suite, t->name, secs, why[0] ? " " : "", why);
  fflush(stderr);
  return v;
}

static int run_all(const char *filter) {
  struct corio_cr_test **list = calloc((size_t)ntests + 1, sizeof *list);
  int n = 0;
  for (struct corio_cr_test *t = tests; t; t = t->next)
    if (selected(t, filter)) list[n++] = t;
  qsort(list, (size_t)n, sizeof *list, compare_tests);
  corio__cr_parent_begin();
  int tested = 0, passing = 0, failing = 0, crashing = 0;
  for (int i = 0; i < n; i++) {
    const struct corio_cr_suite *s = suite_of(list[i]);
    if (list[i]->disabled || (s && s->disabled)) {
      fprintf(stderr, "[SKIP] %s::%s: test is disabled\n", list[i]->suite, list[i]->name);
      continue;
    }
    verdict_t v = run_one(list[i]);
    if (v == SKIPPED) continue;
    tested++;
    passing += v == PASSED;
    failing += v == FAILED;
    crashing += v == CRASHED;
  }
  free(list);
  fprintf(stderr, "[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | Crashing: %d\n", tested,
          passing, failing, crashing);
  fflush(stderr);
  corio__cr_parent_end();
  return failing || crashing ? 1 : 0;
}

static const struct corio_cr_test *find_test(const char *full) {
  for (const struct corio_cr_test *t = tests; t; t = t->next) {
    size_t ls = strlen(t->suite);
    if (strncmp(full, t->suite, ls) == 0 && full[ls] == '/' && strcmp(full + ls + 1, t->name) == 0)
      return t;
  }
  return NULL;
}

static int usage(const char *argv0) {
  fprintf(stderr, "usage: %s [--filter suite/name] [--list]\n", argv0);
  return 2;
}

int main(int argc, char **argv) {
  const char *filter = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--run") == 0 && i + 1 < argc) {
      const struct corio_cr_test *t = find_test(argv[i + 1]);
      if (!t) {
        fprintf(stderr, "[ERR ] no test %s\n", argv[i + 1]);
        return 2;
      }
      corio__cr_run_in_process(t);
    } else if (strcmp(a, "--filter") == 0 && i + 1 < argc) {
      filter = argv[++i];
    } else if (strncmp(a, "--filter=", 9) == 0) {
      filter = a + 9;
    } else if (strcmp(a, "--list") == 0) {
      for (const struct corio_cr_test *t = tests; t; t = t->next)
        printf("%s/%s%s\n", t->suite, t->name, t->disabled ? " (disabled)" : "");
      return 0;
    } else if (strncmp(a, "-j", 2) == 0 || strcmp(a, "--short-filename") == 0 ||
               strcmp(a, "--verbose") == 0) {
      /* Criterion's options that change nothing here. */
    } else {
      return usage(argv[0]);
    }
  }
  return run_all(filter);
}
