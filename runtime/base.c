/* The base's out-of-line half (base.h): the one allocation wrapper for
 * runtime objects -- mimalloc by default, the C library when built without
 * it (sanitizer builds, mingw), or the embedder's allocator from
 * corio_config_t; tests make it fail on purpose (base_testing.h) -- and the
 * fatal-error call. */
#include "base.h"
#include "base_testing.h"

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

/* ---- failure injection (base_testing.h) ----
 * Disarmed, it costs one relaxed load and a predicted branch per
 * allocation, so the code the tests run is the code that ships. */
static _Atomic bool fault_on;
static _Atomic uint64_t fault_nth, fault_seen, fault_failed;
static _Atomic uint32_t fault_every;

void corio__fault_alloc_set(uint64_t nth, uint32_t one_in_k) {
  atomic_store(&fault_on, false);
  atomic_store(&fault_nth, nth);
  atomic_store(&fault_every, one_in_k);
  atomic_store(&fault_seen, 0);
  atomic_store(&fault_failed, 0);
  atomic_store(&fault_on, true);
}

void corio__fault_alloc_off(void) { atomic_store(&fault_on, false); }
uint64_t corio__fault_alloc_seen(void) { return atomic_load(&fault_seen); }
uint64_t corio__fault_alloc_failed(void) { return atomic_load(&fault_failed); }

static bool fault_slow(void) {
  uint64_t n = atomic_fetch_add(&fault_seen, 1) + 1;
  uint64_t nth = atomic_load_explicit(&fault_nth, memory_order_relaxed);
  uint32_t k = atomic_load_explicit(&fault_every, memory_order_relaxed);
  bool fail = (nth != 0 && n == nth) || (k != 0 && n % k == 0);
  if (fail) atomic_fetch_add(&fault_failed, 1);
  return fail;
}

static inline bool fault(void) {
  return CORIO__UNLIKELY(atomic_load_explicit(&fault_on, memory_order_relaxed)) && fault_slow();
}

void *corio__malloc(size_t size) {
  if (fault()) return NULL;
  if (size == 0) size = 1;
  return current.malloc ? current.malloc(size, current.ctx) : SYS_MALLOC(size);
}

void *corio__calloc(size_t count, size_t size) {
  if (fault()) return NULL;
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
