/* "all tasks are asleep: deadlock": corio's deadlock detection tells us
 * that no coroutine can run again (corio_main returns CORIO_EDEADLOCK); we
 * then print every live task with what it waits on and its frames, as Go
 * prints its goroutines. Every task is parked at that point, so their value
 * stacks and frames can be read without the VM lock. Built only when the
 * corio headers have CORIO_EDEADLOCK (deadlock_none.c otherwise). */
#include "run.h"

void lang_configure(corio_config_t *cfg) { cfg->detect_deadlock = true; }

bool lang_is_deadlock(int r) { return r == CORIO_EDEADLOCK; }

void lang_report_deadlock(void) {
  fputs("all tasks are asleep: deadlock\n", stderr);
  for (task_t *t = g_vm.live; t; t = t->next_live) {
    if (!t->running) continue;
    fprintf(stderr, "\ntask %llu%s [%s]:\n", (unsigned long long)t->id, t->id == 1 ? " (main)" : "",
            t->waiting ? t->waiting : "runnable");
    for (int i = t->nframes - 1; i >= 0; i--)
      fprintf(stderr, "  in %s (%s:%d)\n", t->frames[i].proto->name, g_vm.src->name, t->frames[i].line);
  }
}
