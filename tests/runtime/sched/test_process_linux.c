/* Process-wide state (issue 12, item 11): what corio_init changes for the
 * whole process (runtime.h's list) is given back by corio_shutdown, and an
 * embedder's own settings are never touched. Before, SIGPIPE stayed ignored
 * and the SIGSEGV handler installed after shutdown, and the thread that ran
 * corio_main kept a 1 ns timer slack. */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/prctl.h>

#include "check.h"
#include "corio/runtime.h"

static void (*handler_of(int sig))(int) {
  struct sigaction sa;
  sigaction(sig, NULL, &sa);
  return (sa.sa_flags & SA_SIGINFO) ? (void (*)(int))(void *)sa.sa_sigaction : sa.sa_handler;
}

static int sigpipe_ignored_main(void *arg) {
  (void)arg;
  return handler_of(SIGPIPE) == SIG_IGN ? 0 : 1;
}

Test(process, sigpipe_and_sigsegv_are_given_back_at_shutdown) {
  signal(SIGPIPE, SIG_DFL);
  signal(SIGSEGV, SIG_DFL);
  for (int procs = 1; procs <= 2; procs++) {
    run_program(procs, sigpipe_ignored_main, NULL);
    cr_assert(handler_of(SIGPIPE) == SIG_DFL, "SIGPIPE left changed after shutdown");
    cr_assert(handler_of(SIGSEGV) == SIG_DFL, "SIGSEGV handler left installed after shutdown");
  }
}

static void own_handler(int sig) { (void)sig; }

static int sigpipe_kept_main(void *arg) {
  (void)arg;
  return handler_of(SIGPIPE) == own_handler ? 0 : 1;
}

Test(process, an_embedders_sigpipe_handler_is_kept) {
  signal(SIGPIPE, own_handler);
  run_program(2, sigpipe_kept_main, NULL);
  cr_assert(handler_of(SIGPIPE) == own_handler);
  signal(SIGPIPE, SIG_IGN);
  run_program(1, sigpipe_ignored_main, NULL);
  cr_assert(handler_of(SIGPIPE) == SIG_IGN, "an embedder's SIG_IGN was reset");
  signal(SIGPIPE, SIG_DFL);
}

static int set_own_during_main(void *arg) {
  (void)arg;
  signal(SIGPIPE, own_handler);
  return 0;
}

Test(process, a_handler_set_while_the_runtime_runs_is_kept) {
  signal(SIGPIPE, SIG_DFL);
  run_program(1, set_own_during_main, NULL);
  cr_assert(handler_of(SIGPIPE) == own_handler);
  signal(SIGPIPE, SIG_DFL);
}

Test(process, the_main_threads_timer_slack_is_given_back) {
  cr_assert_eq(prctl(PR_SET_TIMERSLACK, 50000UL, 0, 0, 0), 0);
  run_program(1, sigpipe_ignored_main, NULL);
  cr_assert_eq(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), 50000);
}
