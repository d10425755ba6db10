/* corio_selftest: the checks of corio's Windows backend that Wine cannot run,
 * for whoever has a real Windows machine (issue 13, item 10). Build it with
 * the mingw build (it is selftest/corio_selftest.exe there) and run it from
 * a console window (cmd or PowerShell, not redirected) so that the console
 * check runs too. It prints one line per check, PASS, FAIL or SKIP with the
 * reason, then "N passed, N failed, N skipped"; the exit code is the number
 * failed (0: all passed). Under Wine the checks Wine cannot execute are
 * skipped, each saying why; the rest run (CTest runs it there).
 *
 * Only corio's public API and Win32 are used. */
#include <winsock2.h>
#include <windows.h>
#include <psapi.h>

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "corio/corio.h"

static int passed, failed, skipped;

static void pass(const char *name, const char *detail) {
  passed++;
  printf("PASS  %s%s%s\n", name, detail ? ": " : "", detail ? detail : "");
}
static void fail(const char *name, const char *why) {
  failed++;
  printf("FAIL  %s: %s\n", name, why);
}
static void skip(const char *name, const char *why) {
  skipped++;
  printf("SKIP  %s: %s\n", name, why);
}

static bool under_wine(void) {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll && GetProcAddress(ntdll, "wine_get_version") != NULL;
}

/* ---- 1. detaching a handle from the runtime's port ---- */

/* corio_file_fd_ex on a pipe's read end: 0, and the handle then joins a port
 * of the caller's own and completes I/O there. */
static void check_detach(void) {
  const char *name = "detach: corio_file_fd_ex returns 0, I/O completes on the caller's port";
  corio_file_t *r, *w;
  if (corio_file_pipe(&r, &w) != 0) {
    fail(name, "corio_file_pipe failed");
    return;
  }
  corio_handle_t h;
  int err = corio_file_fd_ex(r, &h);
  if (err == CORIO_ENOTSUP) {
    skip(name, "this system cannot detach a handle from a completion port (NtSetInformationFile "
               "with FileReplaceCompletionInformation is not implemented; Wine 8 lacks it, "
               "Windows 8.1 and later have it)");
  } else if (err != 0) {
    char why[160];
    snprintf(why, sizeof why, "corio_file_fd_ex returned %d (%s)", err, corio_strerror(err));
    fail(name, why);
  } else {
    HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
    OVERLAPPED ov = {0};
    char buf[8];
    DWORD n = 0;
    ULONG_PTR key = 0;
    OVERLAPPED *got = NULL;
    if (!CreateIoCompletionPort((HANDLE)h, port, 77, 0)) {
      fail(name, "the detached handle could not join a new port");
    } else if (ReadFile((HANDLE)h, buf, sizeof buf, NULL, &ov) || GetLastError() != ERROR_IO_PENDING) {
      fail(name, "a read on the empty pipe did not pend");
    } else if (corio_file_write(w, "abc", 3) != 3) {
      fail(name, "the write end failed");
    } else if (!GetQueuedCompletionStatus(port, &n, &key, &got, 5000) || key != 77 || got != &ov ||
               n != 3 || memcmp(buf, "abc", 3) != 0) {
      fail(name, "no completion with the caller's key on the caller's port");
    } else if (corio_file_set_read_deadline(r, corio_nanotime() + 1000000) != CORIO_ENODEADLINE) {
      fail(name, "deadlines still apply after the detach");
    } else {
      pass(name, NULL);
    }
    CloseHandle(port);
  }
  corio_file_free(r);
  corio_file_free(w);
}

/* ---- 2. a detach while I/O is pending ---- */

typedef struct pending_read {
  corio_file_t *r;
  _Atomic int state;
  ptrdiff_t got;
} pending_read_t;

static void reader(void *arg) {
  pending_read_t *p = arg;
  char b[8];
  atomic_store(&p->state, 1);
  p->got = corio_file_read(p->r, b, sizeof b);
  atomic_store(&p->state, 2);
}

static void check_detach_pending(void) {
  const char *name = "detach with a read pending: CORIO_EINPROGRESS, the handle stays attached";
  corio_file_t *r, *w;
  if (corio_file_pipe(&r, &w) != 0) {
    fail(name, "corio_file_pipe failed");
    return;
  }
  pending_read_t p = {.r = r};
  corio_spawn(reader, &p);
  while (atomic_load(&p.state) == 0) corio_yield();
  corio_sleep(20 * 1000000); /* the read is in the kernel, pending, by now */
  corio_handle_t h;
  int err = corio_file_fd_ex(r, &h);
  corio_file_write(w, "zz", 2);
  while (atomic_load(&p.state) != 2) corio_sleep(1000000);
  char why[160];
  if (err != CORIO_EINPROGRESS) {
    snprintf(why, sizeof why, "corio_file_fd_ex returned %d (%s)", err, corio_strerror(err));
    fail(name, why);
  } else if (p.got != 2) {
    fail(name, "the pending read did not complete with the data");
  } else if (corio_file_set_read_deadline(r, 0) != 0) {
    fail(name, "the handle is no longer on the runtime's port");
  } else {
    pass(name, NULL);
  }
  corio_file_free(r);
  corio_file_free(w);
}

/* ---- 3. a synchronous warning with skip-on-success ---- */

/* A message longer than the read: the read returns ERROR_MORE_DATA at once,
 * and Windows still queues a packet for that warning although synchronous
 * successes skip the port. The FD must not take that stale packet for the
 * completion of its next operation. */
static void check_more_data(void) {
  const char *name = "ERROR_MORE_DATA at once with skip-on-success: no stale packet confuses "
                     "the next reads";
  wchar_t pname[64];
  _snwprintf(pname, 64, L"\\\\.\\pipe\\corio-selftest-%lu", GetCurrentProcessId());
  pname[63] = 0;
  HANDLE hs = CreateNamedPipeW(pname, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                               PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE, 1, 4096, 4096, 0, NULL);
  HANDLE hc = CreateFileW(pname, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                          FILE_FLAG_OVERLAPPED, NULL);
  corio_file_t *s = NULL, *c = NULL;
  if (hs == INVALID_HANDLE_VALUE || hc == INVALID_HANDLE_VALUE ||
      corio_file_new((corio_handle_t)hs, "server", &s) != 0 ||
      corio_file_new((corio_handle_t)hc, "client", &c) != 0) {
    fail(name, "could not make the message pipe");
    return;
  }
  bool ok = true;
  char b[16];
  for (int round = 0; round < 100 && ok; round++) {
    ok = corio_file_write(c, "0123456789", 10) == 10 && corio_file_read(s, b, 4) == 4 &&
         memcmp(b, "0123", 4) == 0 && corio_file_read(s, b, sizeof b) == 6 &&
         memcmp(b, "456789", 6) == 0;
  }
  /* And a read that pends after those: it must wait for its own data. */
  pending_read_t p = {.r = s};
  if (ok) {
    corio_spawn(reader, &p);
    while (atomic_load(&p.state) == 0) corio_yield();
    corio_sleep(20 * 1000000);
    ok = atomic_load(&p.state) == 1 && corio_file_write(c, "xy", 2) == 2;
    while (ok && atomic_load(&p.state) != 2) corio_sleep(1000000);
    ok = ok && p.got == 2;
  }
  if (ok) pass(name, under_wine() ? "(under Wine: the stale packet real Windows queues for the "
                                    "warning may not exist here)"
                                  : NULL);
  else fail(name, "a read returned the wrong data or count");
  corio_file_free(s);
  corio_file_free(c);
}

/* ---- 4. commit charge of parked coroutines ---- */

#define MANY 10000
static corio_g_t *parked[MANY];
static _Atomic int nparked, ndone;

static bool note(corio_g_t *g, void *arg) {
  parked[(intptr_t)arg] = g;
  atomic_fetch_add(&nparked, 1);
  return true;
}

static void parker(void *arg) {
  corio_park(note, arg, "selftest");
  atomic_fetch_add(&ndone, 1);
}

static size_t commit_charge(void) {
  PROCESS_MEMORY_COUNTERS_EX pmc = {.cb = sizeof pmc};
  if (!GetProcessMemoryInfo(GetCurrentProcess(), (PROCESS_MEMORY_COUNTERS *)&pmc, sizeof pmc))
    return 0;
  return pmc.PrivateUsage;
}

static void check_commit(void) {
  const char *name = "10000 parked coroutines on 256 KiB stacks commit a few pages each";
  size_t before = commit_charge();
  int spawned = 0;
  for (; spawned < MANY; spawned++)
    if (corio_spawn(parker, (void *)(intptr_t)spawned) != 0) break;
  while (atomic_load(&nparked) < spawned) corio_yield();
  size_t after = commit_charge();
  for (int i = 0; i < spawned; i++) corio_ready(parked[i]);
  while (atomic_load(&ndone) < spawned) corio_yield();
  char why[200];
  if (spawned < MANY) {
    snprintf(why, sizeof why, "only %d coroutines could be spawned", spawned);
    fail(name, why);
  } else if (before == 0 && after == 0) {
    skip(name, "the system reports no commit charge (PrivateUsage is 0: Wine)");
  } else {
    size_t per = after > before ? (after - before) / MANY : 0;
    snprintf(why, sizeof why, "%zu KiB of commit each (%zu MiB in all; fully committed stacks "
             "would be 256 KiB each)", per / 1024, (after - before) >> 20);
    if (per < 64 * 1024) pass(name, why);
    else fail(name, why);
  }
}

/* ---- 5. console UTF-8 ---- */

static void check_console(void) {
  const char *name = "console: UTF-8 written through corio appears as those characters";
  HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
  DWORD mode;
  CONSOLE_SCREEN_BUFFER_INFO info;
  if (!GetConsoleMode(out, &mode) || !GetConsoleScreenBufferInfo(out, &info)) {
    skip(name, "standard output is not a console (run it in a console window, not redirected; "
               "under Wine's test run it is a pipe)");
    return;
  }
  HANDLE dup;
  if (!DuplicateHandle(GetCurrentProcess(), out, GetCurrentProcess(), &dup, 0, FALSE,
                       DUPLICATE_SAME_ACCESS)) {
    fail(name, "DuplicateHandle failed");
    return;
  }
  corio_file_t *f;
  if (corio_file_new((corio_handle_t)dup, "console", &f) != 0) {
    fail(name, "corio_file_new on the console failed");
    return;
  }
  /* "caf\u00e9 \u20ac" with the e-acute's two bytes split across writes. */
  static const char part1[] = "      caf\xc3", part2[] = "\xa9 \xe2\x82\xac";
  COORD at = info.dwCursorPosition;
  bool ok = corio_file_write(f, part1, sizeof part1 - 1) == (ptrdiff_t)(sizeof part1 - 1) &&
            corio_file_write(f, part2, sizeof part2 - 1) == (ptrdiff_t)(sizeof part2 - 1);
  wchar_t cells[16] = {0};
  DWORD n = 0;
  ok = ok && ReadConsoleOutputCharacterW(out, cells, 12, at, &n) && n == 12;
  corio_file_write(f, "\r", 1);
  corio_file_free(f);
  static const wchar_t want[] = L"      caf\u00e9 \u20ac";
  if (ok && memcmp(cells, want, 12 * sizeof(wchar_t)) == 0) pass(name, NULL);
  else fail(name, "the console shows other characters");
}

static int selftest_main(void *arg) {
  (void)arg;
  printf("corio_selftest: %s\n", under_wine() ? "running under Wine: checks Wine cannot run are "
                                                "skipped"
                                              : "running on Windows");
  check_detach();
  check_detach_pending();
  check_more_data();
  check_commit();
  check_console();
  printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  fflush(stdout);
  return failed;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = 2;
  int status = 0;
  int err = corio_run(&cfg, selftest_main, NULL, &status);
  if (err) {
    printf("corio_run failed: %d (%s)\n", err, corio_strerror(err));
    return 100;
  }
  return status;
}
