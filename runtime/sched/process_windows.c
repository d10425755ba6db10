#include "os.h"

/* Windows has no SIGPIPE: a write to a broken pipe fails with
 * ERROR_NO_DATA / ERROR_BROKEN_PIPE. Nothing to set up or give back. */
void corio__os_process_init(void) {}
void corio__os_process_fini(void) {}
