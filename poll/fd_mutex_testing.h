/* poll/fd_mutex_testing.h: test-only views of the fdMutex word (defined in
 * fd_mutex.c). Tests include this; production code never does. */
#ifndef CORIO_POLL_FD_MUTEX_TESTING_H
#define CORIO_POLL_FD_MUTEX_TESTING_H

#include "fd_mutex.h"

/* The word's fields, decoded. */
typedef struct corio__fdmu_view {
  bool closed, rlocked, wlocked;
  uint32_t refs, rwait, wwait;
} corio__fdmu_view_t;
corio__fdmu_view_t corio__fdmu_view(corio__fd_mutex_t *mu);
/* Overwrite the word (e.g. preset a count near its limit). */
void corio__fdmu_set_view(corio__fd_mutex_t *mu, const corio__fdmu_view_t *v);

#endif
