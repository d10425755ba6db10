/* The OS half of error naming: one file per platform implements these. */
#ifndef CORIO_RUNTIME_ERROR_OS_H
#define CORIO_RUNTIME_ERROR_OS_H
#include <stdint.h>
const char *corio__os_errno_message(int e);        /* never NULL */
const char *corio__os_errno_name(int e);           /* NULL when unknown */
const char *corio__os_win32_message(uint32_t code); /* never NULL */
#endif
