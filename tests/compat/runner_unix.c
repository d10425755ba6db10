/* The runner's platform half on Unix (runner_platform.h).
 *
 * The parent forks once per test; the child runs the test directly (no exec)
 * in a process group of its own and ends with _exit:
 *   0              the test function returned and no expectation failed
 *   EXIT_FAILED    an assertion failed (the child printed which)
 *   EXIT_SKIPPED   cr_skip_test
 *   killed by S    a crash, abort() included: reported as signal S
 *   anything else  the test, or a sanitizer, called exit() with that code
 * Passing is 0 because ThreadSanitizer, on its way out through _exit(0),
 * turns a run that found races into its own exit code (66), so a report
 * fails the test even without halt_on_error. The price: a test that calls
 * exit(0) before it finishes counts as passed.
 *
 * The parent waits for the child's end or its timeout in poll() on a pipe
 * its SIGCHLD handler writes to, so a wake-up cannot be lost between
 * checking the child and going to sleep. At the end, timed out or not, the
 * child's whole process group is killed before the child is reaped: nothing
 * the test started outlives it, and the group's id cannot have been reused
 * while the child is an unreaped zombie. A runner ended by SIGINT, SIGTERM or
 * SIGHUP kills the group too, since its own group no longer includes it. */
#include "runner_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Rarely used codes, so that .exit_code can name nearly any other. */
#define EXIT_FAILED 90
#define EXIT_SKIPPED 91

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

void corio__cr_lock(void) { pthread_mutex_lock(&report_lock); }
void corio__cr_unlock(void) { pthread_mutex_unlock(&report_lock); }

double corio__cr_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The parent's state; the child drops it in corio__cr_child_setup. */
static int wake[2] = {-1, -1};      /* SIGCHLD handler -> poll() */
static volatile sig_atomic_t child; /* the running test's pid (its group's id), 0: none */
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP};

/* ---- the child's side ---- */

void corio__cr_child_setup(void) {
  /* Crashes need nothing: default dispositions end the process with the
   * signal, which is what the parent decodes. Undo what the parent set. */
  signal(SIGCHLD, SIG_DFL);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) signal(forwarded[i], SIG_DFL);
  for (int i = 0; i < 2; i++)
    if (wake[i] >= 0) close(wake[i]);
  wake[0] = wake[1] = -1;
  child = 0;
}

/* Ends this process at once: the assertion may have failed on any thread or
 * coroutine, so nothing is unwound and no atexit handler runs. */
void corio__cr_child_end(corio__cr_end_t how) {
  fflush(NULL);
  switch (how) {
  case CORIO_CR_END_PASSED: _exit(0);
  case CORIO_CR_END_FAILED: _exit(EXIT_FAILED);
  case CORIO_CR_END_SKIPPED: _exit(EXIT_SKIPPED);
  case CORIO_CR_END_ABORTED: break;
  }
  /* A real SIGABRT, whatever the test did to its disposition or mask. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGABRT);
  signal(SIGABRT, SIG_DFL);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  raise(SIGABRT);
  _exit(128 + SIGABRT); /* not reached */
}

/* ---- the parent's side ---- */

static void on_sigchld(int sig) {
  (void)sig;
  int saved = errno;
  char b = 0;
  (void)!write(wake[1], &b, 1); /* full pipe: a wake-up is pending anyway */
  errno = saved;
}

static void on_fatal(int sig) {
  if (child > 0) kill(-child, SIGKILL);
  signal(sig, SIG_DFL);
  raise(sig);
}

static void set_handler(int sig, void (*fn)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

void corio__cr_parent_begin(void) {
  if (pipe(wake) == 0) {
    for (int i = 0; i < 2; i++) {
      fcntl(wake[i], F_SETFL, fcntl(wake[i], F_GETFL) | O_NONBLOCK);
      fcntl(wake[i], F_SETFD, FD_CLOEXEC);
    }
  } else {
    wake[0] = wake[1] = -1; /* the wait below then polls every 10 ms */
  }
  set_handler(SIGCHLD, on_sigchld, SA_RESTART | SA_NOCLDSTOP);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) set_handler(forwarded[i], on_fatal, 0);
}

void corio__cr_parent_end(void) {
  signal(SIGCHLD, SIG_DFL);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) signal(forwarded[i], SIG_DFL);
  for (int i = 0; i < 2; i++)
    if (wake[i] >= 0) close(wake[i]);
  wake[0] = wake[1] = -1;
}

static pid_t start(const struct corio_cr_test *t) {
  fflush(NULL); /* or the child would print the parent's buffered output again */
  for (int attempt = 1;; attempt++) {
    pid_t pid = fork();
    if (pid == 0) {
      setpgid(0, 0);
      corio__cr_run_in_process(t);
    }
    if (pid > 0) {
      setpgid(pid, pid); /* also here: the parent may kill before the child ran */
      return pid;
    }
    fprintf(stderr, "[WARN] cannot start the test process (attempt %d): %s\n", attempt, strerror(errno));
    if (errno != EAGAIN || attempt == 3) return -1;
    nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
  }
}

/* True once pid has ended (it stays unreaped), false at the deadline
 * (deadline <= 0: none). */
static bool wait_end(pid_t pid, double deadline) {
  for (;;) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int rc = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
    if ((rc == 0 && si.si_pid == pid) || (rc < 0 && errno != EINTR)) return true;
    int ms = wake[0] >= 0 ? -1 : 10;
    if (deadline > 0) {
      double left = deadline - corio__cr_now();
      if (left <= 0) return false;
      int left_ms = (int)(left * 1000.0) + 1;
      if (ms < 0 || left_ms < ms) ms = left_ms;
    }
    struct pollfd p = {.fd = wake[0], .events = POLLIN};
    poll(&p, wake[0] >= 0 ? 1 : 0, ms);
    char buf[64];
    if (wake[0] >= 0)
      while (read(wake[0], buf, sizeof buf) > 0) {
      }
  }
}

static void decode(int status, corio__cr_outcome_t *out) {
  if (WIFSIGNALED(status)) {
    out->result = CORIO_CR_SIGNALED;
    out->code = (unsigned long)WTERMSIG(status);
    return;
  }
  int code = WEXITSTATUS(status);
  out->code = (unsigned long)code;
  out->result = code == 0              ? CORIO_CR_PASSED
                : code == EXIT_FAILED  ? CORIO_CR_FAILED
                : code == EXIT_SKIPPED ? CORIO_CR_SKIPPED
                                       : CORIO_CR_EXITED;
}

void corio__cr_run_child(const struct corio_cr_test *t, double timeout, corio__cr_outcome_t *out) {
  pid_t pid = start(t);
  if (pid < 0) {
    out->result = CORIO_CR_NOT_STARTED;
    return;
  }
  child = pid;
  bool ended = wait_end(pid, timeout > 0 ? corio__cr_now() + timeout : 0);
  kill(-pid, SIGKILL);
  int status = 0;
  pid_t rc;
  while ((rc = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  child = 0;
  if (!ended) {
    out->result = CORIO_CR_TIMED_OUT;
  } else if (rc == pid) {
    decode(status, out);
  } else {
    /* Lost (someone else reaped it): never a pass. Exit code 0 is judged
     * as "ended before the test finished". */
    fprintf(stderr, "[WARN] cannot wait for the test process: %s\n", strerror(errno));
    out->result = CORIO_CR_EXITED;
    out->code = 0;
  }
}
