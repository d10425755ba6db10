/* The base's out-of-line half (base.h): the one allocation wrapper for
 * runtime objects -- mimalloc by default, the C library when built without
 * it (sanitizer builds, mingw), or the embedder's allocator from
 * corio_config_t; tests inject failures through the embedder allocator --
 * and the fatal-error call. */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef CORIO_HAVE_MIMALLOC
#include <mimalloc.h>
#define SYS_MALLOC mi_malloc
#define SYS_CALLOC mi_calloc
#define SYS_FREE mi_free
#else
#define SYS_MALLOC malloc
#define SYS_CALLOC calloc
#define SYS_FREE free
#endif

static corio_allocator_t current; /* set by corio_init, cleared by shutdown */

void corio__alloc_set(const corio_allocator_t *a) {
  if (a) current = *a;
  else memset(&current, 0, sizeof current);
}

void *corio__malloc(size_t size) {
  if (size == 0) size = 1;
  return current.malloc ? current.malloc(size, current.ctx) : SYS_MALLOC(size);
}

void *corio__calloc(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  if (count == 0 || size == 0) count = size = 1;
  if (current.calloc) return current.calloc(count, size, current.ctx);
  if (current.malloc) {
    void *p = current.malloc(count * size, current.ctx);
    if (p) memset(p, 0, count * size);
    return p;
  }
  return SYS_CALLOC(count, size);
}

void corio__free(void *ptr) {
  if (!ptr) return;
  if (current.free) current.free(ptr, current.ctx);
  else SYS_FREE(ptr);
}

_Noreturn void corio__throw(const char *msg) {
  fprintf(stderr, "corio: fatal error: %s\n", msg);
  fflush(stderr);
  abort();
}
