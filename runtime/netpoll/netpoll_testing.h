/* Test-only views of netpoll.c internals (like Go's export_test.go). Only
 * tests include this. */
#ifndef CORIO_NETPOLL_TESTING_H
#define CORIO_NETPOLL_TESTING_H

#include <stdint.h>

#include "netpoll.h"

/* The waiter slot of mode: 0 empty, 1 ready, 2 about to park, or the parked
 * G's address (the slot holds the G's waiter record; read it only while the
 * G stays parked). */
uintptr_t corio__pd_debug_slot(const corio__pd_t *pd, int mode);
/* The waiter count behind corio__netpoll_any_waiters. */
int corio__netpoll_debug_waiters(void);
/* Keep only the capabilities in mask from now on (~0u: all of the backend's
 * again): corio__netpoll_caps as a backend without the others would answer. */
void corio__netpoll_debug_mask_caps(uint32_t mask);
/* How many backend events were dropped as stale since the process started. */
uint64_t corio__netpoll_debug_stale_events(void);

#endif
