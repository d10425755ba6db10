/* Test-only views of netpoll_windows.c (like Go's export_test.go). Only
 * tests include this; production code never does. */
#ifndef CORIO_NETPOLL_WINDOWS_TESTING_H
#define CORIO_NETPOLL_WINDOWS_TESTING_H

#include <winsock2.h>
#include <windows.h>

#include <stdint.h>

#include "netpoll.h"

/* How many packets were dropped since the process started because their
 * OVERLAPPED was not a corio operation of the key's (current) descriptor:
 * a caller's own overlapped call whose packet came to the runtime's port. */
uint64_t corio__netpoll_debug_foreign_packets(void);

/* The completion key under which a handle opened on pd now (at pd's current
 * sequence) sits on the runtime's port: a test posts packets with it to play
 * the OS's part, e.g. the packet real Windows still queues for a call that
 * returned a warning (ERROR_MORE_DATA) at once, which nobody waits for. */
uint64_t corio__netpoll_debug_io_key(corio__pd_t *pd);

/* The port wait's timeout, in ms, for a poll of delay ns (rounded down; 1 for
 * a delay under a millisecond; INFINITE for delay < 0). */
DWORD corio__netpoll_debug_wait_ms(int64_t delay);

#endif
