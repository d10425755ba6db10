/* Test-only views of os_windows.c. Only tests include this; production code
 * never does. */
#ifndef CORIO_SCHED_OS_WINDOWS_TESTING_H
#define CORIO_SCHED_OS_WINDOWS_TESTING_H

#include <stdbool.h>

/* Whether the monitor's short sleeps wait on a high-resolution waitable
 * timer (false: the system has none; they use WaitOnAddress). */
bool corio__os_sysmon_high_res(void);

#endif
