#include "os.h"

/* Windows has no SIGPIPE: a write to a broken pipe fails with
 * ERROR_NO_DATA / ERROR_BROKEN_PIPE. Nothing to set up. */
void corio__os_process_init(void) {}
