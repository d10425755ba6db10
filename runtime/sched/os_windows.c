/* The scheduler's OS layer for Windows (and Wine). */
#include "os.h"
#include "os_windows.h"

#include "corio/error.h"

#include <stdlib.h>
#include <windows.h>

/* Every reservation gets this much extra address space below what the caller
 * sees, reserved and never committed, so that a coroutine stack overflow finds
 * room to dispatch its exception (see ctx_windows.c). corio__os_release
 * subtracts it again. */
#define SPARE_PAGES 2

/* The TEB's stack fields on x64 (DeallocationStack is not in NT_TIB). Read
 * through gs directly: NtCurrentTeb() trips GCC 12's -Warray-bounds. */
#define TEB_STACK_BASE 0x08
#define TEB_STACK_LIMIT 0x10
#define TEB_DEALLOCATION_STACK 0x1478

static inline uintptr_t teb_word(uintptr_t offset) {
  uintptr_t v;
  __asm__ volatile("movq %%gs:(%1), %0" : "=r"(v) : "r"(offset));
  return v;
}

int64_t corio__os_nanotime(void) {
  static int64_t freq;
  LARGE_INTEGER now;
  if (!freq) {
    LARGE_INTEGER f;
    QueryPerformanceFrequency(&f);
    freq = f.QuadPart; /* racing first callers store the same value */
  }
  QueryPerformanceCounter(&now);
  /* Split so that ticks * 1e9 cannot overflow. */
  int64_t sec = now.QuadPart / freq, rem = now.QuadPart % freq;
  return sec * 1000000000 + rem * 1000000000 / freq;
}

int corio__os_ncpu(void) {
  DWORD_PTR proc, sys;
  if (GetProcessAffinityMask(GetCurrentProcess(), &proc, &sys) && proc) {
    int n = 0;
    for (; proc; proc &= proc - 1) n++;
    return n;
  }
  DWORD n = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
  if (n > 0) return (int)n;
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  return si.dwNumberOfProcessors > 0 ? (int)si.dwNumberOfProcessors : 1;
}

const char *corio__os_getenv(const char *name) { return getenv(name); }

typedef struct {
  void (*fn)(void *);
  void *arg;
} thread_start_t;

static DWORD WINAPI thread_main(void *p) {
  thread_start_t s = *(thread_start_t *)p;
  free(p);
  s.fn(s.arg);
  return 0;
}

int corio__os_thread_start(uintptr_t *t, void (*fn)(void *), void *arg) {
  thread_start_t *s = malloc(sizeof *s);
  if (!s) return CORIO_ENOMEM;
  s->fn = fn;
  s->arg = arg;
  /* The scheduler's own stack (g0) needs little; coroutines have their own. */
  HANDLE h = CreateThread(NULL, 256 * 1024, thread_main, s, STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
  if (!h) {
    DWORD err = GetLastError();
    free(s);
    return err == ERROR_NOT_ENOUGH_MEMORY ? CORIO_ENOMEM : corio_err_from_win32(err);
  }
  *t = (uintptr_t)h;
  return 0;
}

void corio__os_thread_join(uintptr_t t) {
  WaitForSingleObject((HANDLE)t, INFINITE);
  CloseHandle((HANDLE)t);
}

void corio__os_futex_wait(_Atomic uint32_t *addr, uint32_t val, int64_t ns) {
  DWORD ms = INFINITE;
  if (ns >= 0) {
    /* Round up: a wait shorter than asked would only cost another round. */
    int64_t m = ns / 1000000 + (ns % 1000000 != 0); /* no overflow near INT64_MAX */
    ms = m >= (int64_t)INFINITE ? INFINITE - 1 : (DWORD)m;
  }
  WaitOnAddress((volatile void *)addr, &val, sizeof val, ms);
}

void corio__os_futex_wake(_Atomic uint32_t *addr, int n) {
  if (n < 0 || n > 8) {
    WakeByAddressAll((void *)addr);
    return;
  }
  for (int i = 0; i < n; i++) WakeByAddressSingle((void *)addr);
}

/* ---- the monitor's sleep ----
 * One monitor runs at a time, so one timer and one wake event serve it. A
 * sleep too short for WaitOnAddress's millisecond timeout at the system tick
 * (below about two ticks) is a wait for both: the high-resolution timer
 * (CREATE_WAITABLE_TIMER_HIGH_RESOLUTION, Windows 10 1803 and later) ends
 * it on time, the event when corio__os_sysmon_wake is called. Where that
 * timer is absent, or for longer sleeps, WaitOnAddress, whose lateness is
 * small beside them. Wine has the timer, at about 1 ms resolution. */
#ifndef CREATE_WAITABLE_TIMER_HIGH_RESOLUTION
#define CREATE_WAITABLE_TIMER_HIGH_RESOLUTION 0x00000002
#endif
#define SYSMON_TIMER_BELOW (32 * (int64_t)1000000) /* two ticks of 15.6 ms */

static INIT_ONCE sysmon_once = INIT_ONCE_STATIC_INIT;
static HANDLE sysmon_timer, sysmon_event;

static BOOL CALLBACK sysmon_timer_init(PINIT_ONCE once, void *param, void **ctx) {
  HANDLE t = CreateWaitableTimerExW(NULL, NULL, CREATE_WAITABLE_TIMER_HIGH_RESOLUTION,
                                    TIMER_ALL_ACCESS);
  HANDLE e = t ? CreateEventW(NULL, FALSE, FALSE, NULL) : NULL; /* auto-reset */
  if (!e && t) CloseHandle(t);
  sysmon_timer = e ? t : NULL;
  sysmon_event = e;
  return TRUE;
}

/* Whether short monitor sleeps use the high-resolution timer
 * (os_windows_testing.h). */
bool corio__os_sysmon_high_res(void) {
  InitOnceExecuteOnce(&sysmon_once, sysmon_timer_init, NULL, NULL);
  return sysmon_timer != NULL;
}

void corio__os_sysmon_sleep(_Atomic uint32_t *addr, uint32_t val, int64_t ns) {
  if (ns <= 0 || ns >= SYSMON_TIMER_BELOW || !corio__os_sysmon_high_res()) {
    corio__os_futex_wait(addr, val, ns);
    return;
  }
  LARGE_INTEGER due;
  due.QuadPart = -(ns / 100 > 0 ? ns / 100 : 1); /* relative, 100 ns units */
  if (!SetWaitableTimer(sysmon_timer, &due, 0, NULL, NULL, FALSE)) {
    corio__os_futex_wait(addr, val, ns);
    return;
  }
  /* A wake between the caller's load of val and here set the event (or
   * changed *addr): nothing is lost. */
  if (atomic_load_explicit(addr, memory_order_acquire) != val) return;
  HANDLE hs[2] = {sysmon_timer, sysmon_event};
  WaitForMultipleObjects(2, hs, FALSE, (DWORD)(ns / 1000000) + 100); /* a net below */
}

void corio__os_sysmon_wake(_Atomic uint32_t *addr) {
  corio__os_futex_wake(addr, 1);
  if (corio__os_sysmon_high_res()) SetEvent(sysmon_event);
}

size_t corio__os_page_size(void) {
  static size_t page;
  if (!page) {
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    page = si.dwPageSize;
  }
  return page;
}

static int mem_error(void) {
  DWORD err = GetLastError();
  if (err == ERROR_NOT_ENOUGH_MEMORY || err == ERROR_COMMITMENT_LIMIT || err == ERROR_OUTOFMEMORY)
    return CORIO_ENOMEM;
  return corio_err_from_win32(err);
}

int corio__os_reserve(size_t size, void **out) {
  size_t spare = SPARE_PAGES * corio__os_page_size();
  /* Reserved read-write (still inaccessible until committed): a page the
   * system commits as it grows a stack then gets that protection. Wine needs
   * it to chain its guard pages down a stack that is not its own. */
  char *p = VirtualAlloc(NULL, size + spare, MEM_RESERVE, PAGE_READWRITE);
  if (!p) return mem_error();
  *out = p + spare;
  return 0;
}

/* A stack commits on demand, as a fiber's does: on Windows commit is charged
 * against RAM plus page file for every committed page, touched or not, so a
 * fully committed 256 KiB stack per coroutine would run 100k coroutines into
 * ERROR_COMMITMENT_LIMIT at about 25 GiB. Only the top pages are committed,
 * with a PAGE_GUARD page right below them; the rest stays reserved. When the
 * coroutine touches the guard page the system commits it, moves the guard
 * one page down and lowers the TEB's StackLimit, exactly as for a thread's
 * stack, because the TEB's stack fields follow the coroutine (ctx_windows.c:
 * DeallocationStack at the bottom of the reservation, StackLimit at the
 * committed bottom, corio__os_stack_limit). Near the bottom the system
 * raises STATUS_STACK_OVERFLOW instead, with the spare pages below (see
 * SPARE_PAGES) left for its dispatch. Stacks carved from a shared chunk
 * (CORIO_STACK_UNGUARDED) are committed in full by corio__os_commit: growth
 * needs a guard page per stack, and under Wine every such page is a kernel
 * mapping of its own (Linux caps a process at about 65530), which is what
 * unguarded stacks exist to avoid. */
int corio__os_commit(void *addr, size_t size) {
  return VirtualAlloc(addr, size, MEM_COMMIT, PAGE_READWRITE) ? 0 : mem_error();
}

int corio__os_commit_stack(void *addr, size_t size) {
  size_t pg = corio__os_page_size(), top = CORIO__OS_STACK_COMMIT_PAGES * pg;
  if (size <= top + pg)
    return VirtualAlloc(addr, size, MEM_COMMIT, PAGE_READWRITE) ? 0 : mem_error();
  char *limit = (char *)addr + size - top;
  if (!VirtualAlloc(limit, top, MEM_COMMIT, PAGE_READWRITE)) return mem_error();
  if (!VirtualAlloc(limit - pg, pg, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD)) {
    int err = mem_error();
    VirtualFree(limit, top, MEM_DECOMMIT);
    return err;
  }
  return 0;
}

uintptr_t corio__os_stack_limit(uintptr_t lo, uintptr_t hi) {
  size_t pg = corio__os_page_size(), top = CORIO__OS_STACK_COMMIT_PAGES * pg;
  return hi - lo <= top + pg ? lo : hi - top;
}

/* addr is what corio__os_reserve returned; the whole reservation goes. */
void corio__os_release(void *addr, size_t size) {
  (void)size;
  VirtualFree((char *)addr - SPARE_PAGES * corio__os_page_size(), 0, MEM_RELEASE);
}

/* ---- coroutine stack overflow reporting ----
 * A vectored handler sees an exception before any frame handler. When the
 * thread runs on a coroutine stack (the TEB's StackBase is not the thread's
 * own) and the exception is a stack overflow or a fault in the guard area
 * below the stack, it says so on stderr and ends the process with
 * STATUS_STACK_OVERFLOW. It runs on what is left of the overflowed stack (a
 * few KB), so it formats by hand and writes with WriteFile. */

static _Thread_local uintptr_t own_stack_base;
static volatile LONG handler_installed;

static char *put_str(char *p, const char *s) {
  while (*s) *p++ = *s++;
  return p;
}

static char *put_hex(char *p, uintptr_t v) {
  p = put_str(p, "0x");
  for (int shift = 60; shift >= 0; shift -= 4) *p++ = "0123456789abcdef"[(v >> shift) & 15];
  return p;
}

/* Commit the coroutine stack down to the page holding addr, with a guard
 * page below it, and lower StackLimit: the growth the system does at a
 * stack's guard page. Real Windows does it in the kernel for every touch of
 * the guard page, so this runs only for a frame that jumped over it; Wine
 * grows a stack that is not its own by one page only, and then reports
 * the next touch as an access violation, which lands here. false when addr
 * is in the spare pages at the bottom (an overflow) or a commit fails. */
static bool grow_stack(uintptr_t addr, uintptr_t bottom, uintptr_t limit) {
  uintptr_t pg = corio__os_page_size(), page = addr & ~(pg - 1);
  uintptr_t floor = bottom + SPARE_PAGES * pg;
  if (page < floor || page >= limit) return false;
  DWORD old;
  if (!VirtualAlloc((void *)page, limit - page, MEM_COMMIT, PAGE_READWRITE) ||
      !VirtualProtect((void *)page, limit - page, PAGE_READWRITE, &old))
    return false;
  if (page - pg >= floor) VirtualAlloc((void *)(page - pg), pg, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);
  __asm__ volatile("movq %0, %%gs:(%1)" : : "r"(page), "r"((uintptr_t)TEB_STACK_LIMIT) : "memory");
  return true;
}

static LONG CALLBACK overflow_handler(EXCEPTION_POINTERS *ep) {
  EXCEPTION_RECORD *rec = ep->ExceptionRecord;
  uintptr_t base = teb_word(TEB_STACK_BASE), limit = teb_word(TEB_STACK_LIMIT);
  uintptr_t bottom = teb_word(TEB_DEALLOCATION_STACK);
  if (!own_stack_base || base == own_stack_base) return EXCEPTION_CONTINUE_SEARCH;
  uintptr_t addr = rec->NumberParameters >= 2 ? (uintptr_t)rec->ExceptionInformation[1] : 0;
  int guard_fault = (rec->ExceptionCode == EXCEPTION_ACCESS_VIOLATION ||
                     rec->ExceptionCode == EXCEPTION_GUARD_PAGE) &&
                    addr >= bottom && addr < base;
  if (guard_fault && addr >= limit) {
    /* Above StackLimit: committed memory, unless the system lowered the
     * limit onto a page it left inaccessible (Wine): grow there. */
    MEMORY_BASIC_INFORMATION mi;
    if (VirtualQuery((void *)addr, &mi, sizeof mi) &&
        (mi.State == MEM_RESERVE ||
         (mi.State == MEM_COMMIT && (mi.Protect & (PAGE_NOACCESS | PAGE_GUARD)))) &&
        grow_stack(addr, bottom, (addr | (corio__os_page_size() - 1)) + 1))
      return EXCEPTION_CONTINUE_EXECUTION;
    return EXCEPTION_CONTINUE_SEARCH;
  }
  if (guard_fault && grow_stack(addr, bottom, limit)) return EXCEPTION_CONTINUE_EXECUTION;
  if (rec->ExceptionCode != EXCEPTION_STACK_OVERFLOW && !guard_fault)
    return EXCEPTION_CONTINUE_SEARCH;
  char msg[160], *p = msg;
  p = put_str(p, "corio: fatal: coroutine stack overflow (stack ");
  p = put_hex(p, bottom);
  p = put_str(p, "-");
  p = put_hex(p, base);
  if (addr) {
    p = put_str(p, ", fault at ");
    p = put_hex(p, addr);
  }
  p = put_str(p, ")\r\n");
  DWORD written;
  WriteFile(GetStdHandle(STD_ERROR_HANDLE), msg, (DWORD)(p - msg), &written, NULL);
  TerminateProcess(GetCurrentProcess(), (UINT)EXCEPTION_STACK_OVERFLOW);
  return EXCEPTION_CONTINUE_SEARCH; /* not reached */
}

void corio__os_thread_setup(void) {
  own_stack_base = teb_word(TEB_STACK_BASE);
  if (InterlockedCompareExchange(&handler_installed, 1, 0) == 0)
    AddVectoredExceptionHandler(1, overflow_handler);
}

void corio__os_thread_teardown(void) { own_stack_base = 0; }

void corio__os_thread_stack_bounds(void **lo, size_t *size) {
  uintptr_t bottom = teb_word(TEB_DEALLOCATION_STACK);
  *lo = (void *)bottom;
  *size = (size_t)(teb_word(TEB_STACK_BASE) - bottom);
}
