/* The standard streams' handles on POSIX systems. */
#include <unistd.h>

#include "stream.h"

corio_handle_t std_handle(int which) { return (corio_handle_t)which; }
bool std_is_tty(int which) { return isatty(which) == 1; }
