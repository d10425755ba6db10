#ifndef CORIO_RUNTIME_ALLOC_INTERNAL_H
#define CORIO_RUNTIME_ALLOC_INTERNAL_H
#include "corio/runtime.h"
/* Install the embedder's allocator (NULL: the default). Only while no runtime
 * object is allocated: at corio_init and after corio_shutdown. */
void corio__alloc_set(const corio_allocator_t *a);
#endif
