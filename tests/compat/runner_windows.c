/* The runner's platform half on Windows (runner_platform.h).
 *
 * The parent starts its own executable once per test with --run suite/name
 * and judges the child's exit code:
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
 * Passing takes the runner's own code, not 0: under Wine a process that dies
 * outside Windows' control (its Unix side aborting) reports exit code 0.
 * Children belong to a job object that is closed with the parent, so a
 * runner killed by CTest's timeout takes its test with it. */
#define __USE_MINGW_ANSI_STDIO 1
#include "runner_platform.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>

#define EXIT_PASSED 0x43520000u
#define EXIT_FAILED 0x43520001u
#define EXIT_SKIPPED 0x43520002u
#define EXIT_ABORTED 0x43520003u

static SRWLOCK report_lock = SRWLOCK_INIT;

void corio__cr_lock(void) { AcquireSRWLockExclusive(&report_lock); }
void corio__cr_unlock(void) { ReleaseSRWLockExclusive(&report_lock); }

double corio__cr_now(void) {
  LARGE_INTEGER f, t;
  QueryPerformanceFrequency(&f);
  QueryPerformanceCounter(&t);
  return (double)t.QuadPart / (double)f.QuadPart;
}

/* ---- the child's side ---- */

/* Ends this process at once: the assertion may have failed on any thread or
 * coroutine, so nothing is unwound and no atexit handler runs. */
static __attribute__((noreturn)) void end_process(UINT code) {
  fflush(NULL);
  TerminateProcess(GetCurrentProcess(), code);
  ExitProcess(code); /* not reached */
}

void corio__cr_child_end(corio__cr_end_t how) {
  static const UINT codes[] = {
      [CORIO_CR_END_PASSED] = EXIT_PASSED,
      [CORIO_CR_END_FAILED] = EXIT_FAILED,
      [CORIO_CR_END_SKIPPED] = EXIT_SKIPPED,
      [CORIO_CR_END_ABORTED] = EXIT_ABORTED,
  };
  end_process(codes[how]);
}

static void on_sigabrt(int sig) {
  (void)sig;
  corio__cr_child_end(CORIO_CR_END_ABORTED);
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

void corio__cr_child_setup(void) {
  SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX | SEM_NOOPENFILEERRORBOX);
  SetUnhandledExceptionFilter(on_unhandled);
  signal(SIGABRT, on_sigabrt);
}

/* ---- the parent's side ---- */

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

static void decode(DWORD code, corio__cr_outcome_t *out) {
  int sig = crash_signal(code);
  out->code = code;
  if (code == EXIT_PASSED) {
    out->result = CORIO_CR_PASSED;
  } else if (code == EXIT_FAILED) {
    out->result = CORIO_CR_FAILED;
  } else if (code == EXIT_SKIPPED) {
    out->result = CORIO_CR_SKIPPED;
  } else if (sig) {
    out->result = CORIO_CR_SIGNALED;
    out->code = (unsigned long)sig;
    snprintf(out->raw, sizeof out->raw, " (exit code 0x%08lX)", (unsigned long)code);
  } else {
    /* Code 0 included: the portable judge calls it an early end. */
    out->result = CORIO_CR_EXITED;
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

void corio__cr_parent_begin(void) {
  make_job();
  inheritable(STD_INPUT_HANDLE);
  inheritable(STD_OUTPUT_HANDLE);
  inheritable(STD_ERROR_HANDLE);
}

void corio__cr_parent_end(void) {
  if (job) CloseHandle(job);
  job = NULL;
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

void corio__cr_run_child(const struct corio_cr_test *t, double timeout, corio__cr_outcome_t *out) {
  HANDLE h = spawn(t);
  if (!h) {
    out->result = CORIO_CR_NOT_STARTED;
    return;
  }
  DWORD ms = timeout > 0 ? (DWORD)(timeout * 1000.0) : INFINITE;
  if (WaitForSingleObject(h, ms) == WAIT_TIMEOUT) {
    TerminateProcess(h, 0xC000013Au); /* STATUS_CONTROL_C_EXIT */
    WaitForSingleObject(h, INFINITE);
    out->result = CORIO_CR_TIMED_OUT;
  } else {
    DWORD code = 0;
    GetExitCodeProcess(h, &code);
    decode(code, out);
  }
  CloseHandle(h);
}
