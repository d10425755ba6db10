/* Process-wide state (POSIX): what corio changes for the whole process, and
 * gives back at corio_shutdown (issue 12, item 11). runtime.h lists it. */
#include <signal.h>
#include <stdbool.h>

#include "os.h"

/* SIGPIPE is ignored while a runtime exists, when it was at its default, so
 * that a write to a closed pipe or socket returns EPIPE instead of killing
 * the process (as Go does); an embedder's own handler or SIG_IGN is kept. */
static bool sigpipe_changed;

void corio__os_process_init(void) {
  struct sigaction old;
  sigpipe_changed = false;
  if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
      !(old.sa_flags & SA_SIGINFO)) {
    signal(SIGPIPE, SIG_IGN);
    sigpipe_changed = true;
  }
}

void corio__os_process_fini(void) {
  struct sigaction cur;
  /* Back to the default, unless the embedder has set a disposition of its
   * own since: then theirs stays. */
  if (sigpipe_changed && sigaction(SIGPIPE, NULL, &cur) == 0 && cur.sa_handler == SIG_IGN &&
      !(cur.sa_flags & SA_SIGINFO))
    signal(SIGPIPE, SIG_DFL);
  sigpipe_changed = false;
  corio__os_signals_fini();
}
