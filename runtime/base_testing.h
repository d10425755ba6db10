/* Test-only seam of the allocation wrapper (base.c): make corio__malloc and
 * corio__calloc fail on purpose, as an allocator that refuses would, so that
 * every allocation's error path runs in the tests. Only tests include this.
 * The counting starts at each set and covers every thread's allocations. */
#ifndef CORIO_BASE_TESTING_H
#define CORIO_BASE_TESTING_H

#include <stdint.h>

/* Fail the nth allocation from now (1-based; 0: none) and, when one_in_k is
 * not 0, every allocation whose number is a multiple of one_in_k. */
void corio__fault_alloc_set(uint64_t nth, uint32_t one_in_k);
/* Stop failing (and counting). */
void corio__fault_alloc_off(void);
/* Allocations counted since the last set / of those, how many failed. */
uint64_t corio__fault_alloc_seen(void);
uint64_t corio__fault_alloc_failed(void);

#endif
