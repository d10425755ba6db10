/* "all tasks are asleep: deadlock": corio's deadlock detection tells us
 * that no coroutine can run again (corio_main returns CORIO_EDEADLOCK); we
 * then print every live task with what it waits on and its frames, as Go
 * prints its goroutines. Every task is parked at that point, so their value
 * stacks and frames can be read without the VM lock. Built only when the
 * corio headers have CORIO_EDEADLOCK (deadlock_none.c otherwise). */
#include <stdlib.h>

#include "run.h"

static int by_id(const void *a, const void *b) {
  uint64_t x = (*(task_t *const *)a)->id, y = (*(task_t *const *)b)->id;
  return x < y ? -1 : x > y;
}

void lang_configure(corio_config_t *cfg) { cfg->detect_deadlock = true; }

bool lang_is_deadlock(int r) { return r == CORIO_EDEADLOCK; }

void lang_report_deadlock(void) {
  fputs("all tasks are asleep: deadlock\n", stderr);
  size_t n = 0, i = 0;
  for (task_t *t = g_vm.live; t; t = t->next_live) n += t->running;
  task_t **all = malloc((n ? n : 1) * sizeof *all);
  if (!all) return;
  for (task_t *t = g_vm.live; t; t = t->next_live)
    if (t->running) all[i++] = t;
  qsort(all, n, sizeof *all, by_id); /* oldest first, as Go lists goroutines */
  for (i = 0; i < n; i++) {
    task_t *t = all[i];
    fprintf(stderr, "\ntask %llu%s [%s]:\n", (unsigned long long)t->id, t->id == 1 ? " (main)" : "",
            t->waiting ? t->waiting : "runnable");
    for (int f = t->nframes - 1; f >= 0; f--)
      fprintf(stderr, "  in %s (%s:%d)\n", t->frames[f].proto->name, g_vm.src->name, t->frames[f].line);
  }
  free(all);
}
