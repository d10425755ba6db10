/* The runner behind compat/criterion/criterion.h (Windows).
 *
 *   test.exe                      run every test, each in a child process
 *   test.exe --filter suite/name  only the tests matching the pattern ('*' and
 *                                 '?' wildcards), as Criterion's --filter
 *   test.exe --list               print the tests
 *   test.exe --run suite/name     (internal) run one test in this process
 *
 * The parent starts itself once per test with --run, waits for it (at most
 * the test's .timeout) and judges the exit code:
 *   EXIT_PASSED        the test function returned and no expectation failed
 *   EXIT_FAILED        an assertion failed (the child printed which)
 *   EXIT_SKIPPED       cr_skip_test
 *   EXIT_ABORTED       abort() / SIGABRT (the child's SIGABRT handler)
 *   an NTSTATUS error  an unhandled exception: access violation and stack
 *                      overflow count as SIGSEGV, illegal instruction as
 *                      SIGILL, arithmetic faults as SIGFPE, fail-fast as
 *                      SIGABRT
 *   0                  the process ended before the test finished
 *   anything else      the test called exit() with that code
 * A crash whose signal the test expects (.signal) passes, as does an exit
 * with the expected .exit_code; every other crash counts as "Crashing".
 * Passing takes the runner's own code, not 0: under Wine a process that dies
 * outside Windows' control (its Unix side aborting) reports exit code 0.
 * Children belong to a job object that is closed with the parent, so a
 * runner killed by CTest's timeout takes its test with it. */
#define __USE_MINGW_ANSI_STDIO 1
#include "criterion/criterion.h"

#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>

#define EXIT_PASSED 0x43520000u
#define EXIT_FAILED 0x43520001u
#define EXIT_SKIPPED 0x43520002u
#define EXIT_ABORTED 0x43520003u

static struct corio_cr_test *tests;
static struct corio_cr_suite *suites;
static int ntests;

/* The test this process runs (--run), for messages. */
static const struct corio_cr_test *current;
static atomic_int expect_failed;
static SRWLOCK report_lock = SRWLOCK_INIT;

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

/* Ends this process at once: the assertion may have failed on any thread or
 * coroutine, so nothing is unwound and no atexit handler runs. */
static __attribute__((noreturn)) void end_process(UINT code) {
  fflush(NULL);
  TerminateProcess(GetCurrentProcess(), code);
  ExitProcess(code); /* not reached */
}

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

void corio_cr_fail(bool fatal, const char *file, int line, const char *expr, const char *lhs,
                   const char *rhs, const char *fmt, ...) {
  AcquireSRWLockExclusive(&report_lock);
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
  if (fatal) end_process(EXIT_FAILED);
  ReleaseSRWLockExclusive(&report_lock);
}

void corio_cr_skip(const char *file, int line, const char *fmt, ...) {
  AcquireSRWLockExclusive(&report_lock);
  fprintf(stderr, "[----] %s:%d: skipped\n", file, line);
  if (fmt && *fmt) {
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
  }
  end_process(EXIT_SKIPPED);
}

void corio_cr_log(const char *level, const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  AcquireSRWLockExclusive(&report_lock);
  fprintf(stderr, "%s%s\n", level, msg);
  fflush(stderr);
  ReleaseSRWLockExclusive(&report_lock);
}

static void on_sigabrt(int sig) {
  (void)sig;
  end_process(EXIT_ABORTED);
}

/* The process's top-level filter: an exception nothing handled, on a thread
 * or (through the coroutine start frame) on a coroutine. It may run on a
 * nearly exhausted stack, so it formats by hand. */
static LONG WINAPI on_unhandled(EXCEPTION_POINTERS *ep) {
  static const char hex[] = "0123456789abcdef";
  char msg[96] = "[----] unhandled exception 0x";
  size_t n = strlen(msg);
  DWORD code = ep->ExceptionRecord->ExceptionCode;
  for (int shift = 28; shift >= 0; shift -= 4) msg[n++] = hex[(code >> shift) & 15];
  msg[n++] = '\r';
  msg[n++] = '\n';
  DWORD written;
  WriteFile(GetStdHandle(STD_ERROR_HANDLE), msg, (DWORD)n, &written, NULL);
  TerminateProcess(GetCurrentProcess(), code);
  return EXCEPTION_EXECUTE_HANDLER;
}

static const struct corio_cr_suite *suite_of(const struct corio_cr_test *t) {
  for (const struct corio_cr_suite *s = suites; s; s = s->next)
    if (strcmp(s->name, t->suite) == 0) return s;
  return NULL;
}

static __attribute__((noreturn)) void run_in_process(const struct corio_cr_test *t) {
  const struct corio_cr_suite *s = suite_of(t);
  void (*init)(void) = t->init ? t->init : s ? s->init : NULL;
  void (*fini)(void) = t->fini ? t->fini : s ? s->fini : NULL;
  current = t;
  SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX | SEM_NOOPENFILEERRORBOX);
  SetUnhandledExceptionFilter(on_unhandled);
  signal(SIGABRT, on_sigabrt);
  if (init) init();
  t->fn();
  if (fini) fini();
  end_process(atomic_load(&expect_failed) ? EXIT_FAILED : EXIT_PASSED);
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

/* The signal Criterion would report for a crash with this exit code, 0 if
 * the code is not a crash. */
static int crash_signal(DWORD code) {
  switch (code) {
  case EXIT_ABORTED:
  case 0xC0000409: /* STATUS_STACK_BUFFER_OVERRUN: __fastfail */
  case 0xC0000602: /* STATUS_FAIL_FAST_EXCEPTION */
    return SIGABRT;
  case 0xC0000005: /* access violation */
  case 0xC0000006: /* in-page error */
  case 0xC00000FD: /* stack overflow */
  case 0x80000001: /* guard page */
  case 0x80000002: /* datatype misalignment */
    return SIGSEGV;
  case 0xC000001D: /* illegal instruction */
  case 0xC0000096: /* privileged instruction */
    return SIGILL;
  case 0xC000008C: case 0xC000008D: case 0xC000008E: case 0xC000008F:
  case 0xC0000090: case 0xC0000091: case 0xC0000092: case 0xC0000093:
  case 0xC0000094: case 0xC0000095: case 0x802B0000: /* arithmetic */
    return SIGFPE;
  case 0x80000003: /* breakpoint */
  case 0x80000004: /* single step */
    return 5;        /* SIGTRAP */
  default:
    return (code & 0xC0000000u) == 0xC0000000u ? SIGSEGV : 0;
  }
}

static const char *signal_name(int sig) {
  switch (sig) {
  case SIGABRT: return "SIGABRT";
  case SIGSEGV: return "SIGSEGV";
  case SIGILL: return "SIGILL";
  case SIGFPE: return "SIGFPE";
  case 5: return "SIGTRAP";
  default: return "signal";
  }
}

static HANDLE job;

static void make_job(void) {
  job = CreateJobObjectW(NULL, NULL);
  if (!job) return;
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION info;
  memset(&info, 0, sizeof info);
  info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &info, sizeof info)) {
    CloseHandle(job);
    job = NULL;
  }
}

static void inheritable(DWORD which) {
  HANDLE h = GetStdHandle(which);
  if (h && h != INVALID_HANDLE_VALUE) SetHandleInformation(h, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
}

/* Start this executable with --run suite/name; NULL on failure. */
static HANDLE spawn(const struct corio_cr_test *t) {
  wchar_t exe[MAX_PATH * 2], cmd[MAX_PATH * 2 + 600];
  DWORD n = GetModuleFileNameW(NULL, exe, MAX_PATH * 2);
  if (n == 0 || n >= MAX_PATH * 2) return NULL;
  /* "exe" --run suite/name (test names are C identifiers: no quoting). */
  char tail[600];
  snprintf(tail, sizeof tail, " --run %s/%s", t->suite, t->name);
  size_t len = wcslen(exe);
  cmd[0] = L'"';
  memcpy(cmd + 1, exe, len * sizeof *exe);
  cmd[len + 1] = L'"';
  if (!MultiByteToWideChar(CP_UTF8, 0, tail, -1, cmd + len + 2, (int)(sizeof cmd / sizeof cmd[0] - len - 2)))
    return NULL;
  STARTUPINFOW si;
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
  si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  PROCESS_INFORMATION pi;
  /* Wine now and then fails a CreateProcess with ERROR_INTERNAL_ERROR; a
   * second attempt succeeds. Say so, since it is not the test's doing. */
  for (int attempt = 1;; attempt++) {
    if (CreateProcessW(exe, cmd, NULL, NULL, TRUE, CREATE_SUSPENDED, NULL, NULL, &si, &pi)) break;
    DWORD err = GetLastError();
    fprintf(stderr, "[WARN] cannot start %ls (attempt %d): error %lu\n", exe, attempt, err);
    if (attempt == 3) return NULL;
    Sleep(100);
  }
  if (job) AssignProcessToJobObject(job, pi.hProcess);
  ResumeThread(pi.hThread);
  CloseHandle(pi.hThread);
  return pi.hProcess;
}

typedef enum { PASSED, FAILED, CRASHED, SKIPPED } verdict_t;

static verdict_t judge(const struct corio_cr_test *t, DWORD code, char *why, size_t n) {
  const struct corio_cr_suite *s = suite_of(t);
  int want_signal = t->signal ? t->signal : s ? s->signal : 0;
  int want_exit = t->exit_code ? t->exit_code : s ? s->exit_code : 0;
  int sig = crash_signal(code);
  why[0] = '\0';
  if (code == EXIT_SKIPPED) return SKIPPED;
  if (code == EXIT_FAILED) return FAILED;
  if (code == EXIT_PASSED) {
    if (want_signal)
      snprintf(why, n, "expected %s, the test returned", signal_name(want_signal));
    else if (want_exit)
      snprintf(why, n, "expected exit code %d, the test returned", want_exit);
    return want_signal || want_exit ? FAILED : PASSED;
  }
  if (sig) {
    if (sig == want_signal) return PASSED;
    snprintf(why, n, "CRASH! %s (exit code 0x%08lX)", signal_name(sig), (unsigned long)code);
    return CRASHED;
  }
  if (code == 0) {
    snprintf(why, n, "the test process ended with code 0 before the test finished");
    return CRASHED;
  }
  if ((int)code == want_exit && !want_signal) return PASSED;
  if (want_signal)
    snprintf(why, n, "expected %s, the test exited with code %lu", signal_name(want_signal),
             (unsigned long)code);
  else
    snprintf(why, n, "exited with code %lu, expected %d", (unsigned long)code, want_exit);
  return FAILED;
}

static verdict_t run_child(const struct corio_cr_test *t, double *secs) {
  const struct corio_cr_suite *s = suite_of(t);
  double timeout = t->timeout > 0 ? t->timeout : s && s->timeout > 0 ? s->timeout : 0;
  char why[160] = "";
  verdict_t v;
  LARGE_INTEGER f, t0, t1;
  QueryPerformanceFrequency(&f);
  QueryPerformanceCounter(&t0);
  HANDLE h = spawn(t);
  if (!h) {
    v = CRASHED;
    snprintf(why, sizeof why, "could not start the test process");
  } else {
    DWORD ms = timeout > 0 ? (DWORD)(timeout * 1000.0) : INFINITE;
    if (WaitForSingleObject(h, ms) == WAIT_TIMEOUT) {
      TerminateProcess(h, 0xC000013Au);
      WaitForSingleObject(h, INFINITE);
      v = FAILED;
      snprintf(why, sizeof why, "Timed out. (%.2fs)", timeout);
    } else {
      DWORD code = 0;
      GetExitCodeProcess(h, &code);
      v = judge(t, code, why, sizeof why);
    }
    CloseHandle(h);
  }
  QueryPerformanceCounter(&t1);
  *secs = (double)(t1.QuadPart - t0.QuadPart) / (double)f.QuadPart;
  static const char *tag[] = {"[PASS]", "[FAIL]", "[FAIL]", "[SKIP]"};
  fprintf(stderr, "%s %s::%s: (%.2fs)%s%s\n", tag[v], t->suite, t->name, *secs, why[0] ? " " : "", why);
  fflush(stderr);
  return v;
}

static int run_all(const char *filter) {
  struct corio_cr_test **list = calloc((size_t)ntests + 1, sizeof *list);
  int n = 0;
  for (struct corio_cr_test *t = tests; t; t = t->next)
    if (selected(t, filter)) list[n++] = t;
  qsort(list, (size_t)n, sizeof *list, compare_tests);
  make_job();
  inheritable(STD_INPUT_HANDLE);
  inheritable(STD_OUTPUT_HANDLE);
  inheritable(STD_ERROR_HANDLE);
  int tested = 0, passing = 0, failing = 0, crashing = 0;
  for (int i = 0; i < n; i++) {
    const struct corio_cr_suite *s = suite_of(list[i]);
    if (list[i]->disabled || (s && s->disabled)) {
      fprintf(stderr, "[SKIP] %s::%s: test is disabled\n", list[i]->suite, list[i]->name);
      continue;
    }
    double secs;
    verdict_t v = run_child(list[i], &secs);
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
  if (job) CloseHandle(job);
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
      run_in_process(t);
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
