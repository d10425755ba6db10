/* The scheduler's OS layer for Linux (the futex is in runtime/futex_linux.c). */
#include "os.h"

#include "corio/error.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

int64_t corio__os_nanotime(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int corio__os_ncpu(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

const char *corio__os_getenv(const char *name) { return getenv(name); }

typedef struct {
  void (*fn)(void *);
  void *arg;
} thread_start_t;

static void *thread_main(void *p) {
  thread_start_t s = *(thread_start_t *)p;
  free(p);
  s.fn(s.arg);
  return NULL;
}

int corio__os_thread_start(uintptr_t *t, void (*fn)(void *), void *arg) {
  thread_start_t *s = malloc(sizeof *s);
  if (!s) return CORIO_ENOMEM;
  s->fn = fn;
  s->arg = arg;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  /* The scheduler's own stack (g0) needs little; coroutines have their own. */
  pthread_attr_setstacksize(&attr, 256 * 1024);
  /* Signals are for the embedder's threads, not the runtime's. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t th;
  int rc = pthread_create(&th, &attr, thread_main, s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    free(s);
    return corio_err_from_errno(rc);
  }
  *t = (uintptr_t)th;
  return 0;
}

void corio__os_thread_join(uintptr_t t) { pthread_join((pthread_t)t, NULL); }

size_t corio__os_page_size(void) {
  static size_t page;
  if (!page) page = (size_t)sysconf(_SC_PAGESIZE);
  return page;
}

/* ENOMEM from mmap/mprotect means either memory or vm.max_map_count; tell them
 * apart by counting our mappings, since the remedy differs. */
static int map_error(void) {
  int err = errno;
  if (err != ENOMEM) return corio_err_from_errno(err);
  long limit = 65530;
  FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
  if (f) {
    if (fscanf(f, "%ld", &limit) != 1) limit = 65530;
    fclose(f);
  }
  long lines = 0;
  f = fopen("/proc/self/maps", "r");
  if (f) {
    int c;
    while ((c = fgetc(f)) != EOF)
      if (c == '\n') lines++;
    fclose(f);
  }
  return lines + 64 >= limit ? CORIO_EMAPLIMIT : CORIO_ENOMEM;
}

int corio__os_reserve(size_t size, void **out) {
  void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return map_error();
  *out = p;
  return 0;
}

int corio__os_commit(void *addr, size_t size) {
  return mprotect(addr, size, PROT_READ | PROT_WRITE) == 0 ? 0 : map_error();
}

void corio__os_release(void *addr, size_t size) { munmap(addr, size); }

/* A guard-page hit runs the SIGSEGV handler on an alternate stack, which says
 * what happened before the default action kills the process with SIGSEGV. */
static _Thread_local void *altstack;
/* The thread's timer slack before thread_setup changed it (0: unchanged):
 * m0 is the embedder's thread, which gets its own back at teardown. */
static _Thread_local unsigned long old_slack;
static _Atomic bool segv_installed; /* our handler is the process's */

static void segv_handler(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  static const char msg[] = "corio: fatal: segmentation fault (coroutine stack overflow?)\n";
  if (write(2, msg, sizeof msg - 1) < 0) {
  }
  (void)si;
  signal(sig, SIG_DFL);
  raise(sig);
}

void corio__os_thread_setup(void) {
  /* 1 ns timer slack: a 1 ms poll overshoots by ~28 us instead of ~87 us. */
  int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  if (slack > 1 && prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0) == 0) old_slack = (unsigned long)slack;
  size_t sz = 64 * 1024;
  stack_t cur;
  /* An embedder's thread may have an alternate stack of its own: keep it. */
  bool has_own = sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE);
  if (!altstack && !has_own) {
    altstack = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (altstack == MAP_FAILED) {
      altstack = NULL;
      return;
    }
    stack_t ss = {.ss_sp = altstack, .ss_size = sz, .ss_flags = 0};
    sigaltstack(&ss, NULL);
  }
  struct sigaction old;
  if (sigaction(SIGSEGV, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
      !(old.sa_flags & SA_SIGINFO)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) == 0) atomic_store(&segv_installed, true);
  }
}

void corio__os_signals_fini(void) {
  struct sigaction cur;
  if (atomic_exchange(&segv_installed, false) && sigaction(SIGSEGV, NULL, &cur) == 0 &&
      (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == segv_handler)
    signal(SIGSEGV, SIG_DFL);
}

void corio__os_thread_teardown(void) {
  if (old_slack) {
    prctl(PR_SET_TIMERSLACK, old_slack, 0, 0, 0);
    old_slack = 0;
  }
  if (altstack) {
    stack_t ss = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    munmap(altstack, 64 * 1024);
    altstack = NULL;
  }
}

void corio__os_thread_stack_bounds(void **lo, size_t *size) {
  pthread_attr_t attr;
  *lo = NULL;
  *size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, lo, size);
    pthread_attr_destroy(&attr);
  }
}
