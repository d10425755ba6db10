/* Running a whole program: shared by the command (main.c) and the fuzzer. */
#ifndef LANG_RUN_H
#define LANG_RUN_H

#include "lang.h"

/* Initialise corio, parse src, run it as the main task, shut corio down.
 * Returns the exit status. */
int lang_run(source_t *src, int nargs, char **args);

/* The corio configuration for a run (deadlock.c: deadlock detection on). */
void lang_configure(corio_config_t *cfg);
/* Whether corio_main's error r is the runtime's deadlock report, and the
 * language's report of it: every task and where it waits. */
bool lang_is_deadlock(int r);
void lang_report_deadlock(void);

void globals_free(void);

#endif
