/* Test-only views of fd_windows.c (like Go's export_test.go). Only tests
 * include this; production code never does. */
#ifndef CORIO_POLL_FD_WINDOWS_TESTING_H
#define CORIO_POLL_FD_WINDOWS_TESTING_H

#include <stdbool.h>
#include <stdint.h>

#include "fd_windows.h"

/* Whether synchronous completions skip the port
 * (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS took). */
bool corio__fd_win_skips_sync(corio__fd_t *fd);
/* The io word (fd_windows.h: CORIO__FD_IO_*). */
uint32_t corio__fd_win_io_word(corio__fd_t *fd);
/* How many overlapped submissions on regular files were made with the P
 * handed on (the syscall handoff), since the process started. */
uint64_t corio__fd_win_debug_file_handoffs(void);

#endif
