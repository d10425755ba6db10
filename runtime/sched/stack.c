/* Stack allocation. Memory comes straight from the OS (never the allocator),
 * is reserved without commit charge and touched lazily. */
#include "stack.h"

#include "corio/runtime.h"
#include "os.h"
#include "sched.h"
#include "vg.h"

/* Unguarded stacks of one size are carved CHUNK_STACKS at a time from one
 * mapping; free slots are kept on a list and reused, and chunks are released
 * only by corio__stack_fini. The list link lives at the top of each slot, in
 * the page a coroutine touches first anyway: a link at the bottom would make
 * every stack cost one more resident page. */
#define CHUNK_STACKS 64

typedef struct chunk {
  struct chunk *next;
  void *map;
  size_t len;
} chunk_t;

typedef struct slot {
  struct slot *next;
} slot_t;

static corio__lock_t pool_lock = CORIO__LOCK_INIT;
static chunk_t *chunks;
static slot_t *free_slots;
static size_t slot_size; /* the size the pool serves; 0 before first use */

static size_t round_pages(size_t n) {
  size_t pg = corio__os_page_size();
  return (n + pg - 1) & ~(pg - 1);
}

static int guarded_alloc(corio__stack_t *s, size_t size) {
  size_t guard = corio__os_page_size();
  /* NULL: corio__os_reserve sets it on success only, which the compiler
   * cannot always see (a consumer's -Wall with link-time optimization). */
  void *map = NULL;
  int rc = corio__os_reserve(size + guard, &map);
  if (rc) return rc;
  rc = corio__os_commit((char *)map + guard, size);
  if (rc) {
    corio__os_release(map, size + guard);
    return rc;
  }
  s->map = map;
  s->maplen = size + guard;
  s->lo = (char *)map + guard;
  s->hi = (char *)map + guard + size;
  s->size = size;
  return 0;
}

static int pool_refill(size_t size) {
  size_t len = size * CHUNK_STACKS;
  void *map = NULL;
  int rc = corio__os_reserve(len, &map);
  if (rc) return rc;
  rc = corio__os_commit(map, len);
  chunk_t *c = rc ? NULL : corio__malloc(sizeof *c);
  if (!c) {
    corio__os_release(map, len);
    return rc ? rc : CORIO_ENOMEM;
  }
  c->map = map;
  c->len = len;
  c->next = chunks;
  chunks = c;
  for (int i = CHUNK_STACKS - 1; i >= 0; i--) {
    slot_t *sl = (slot_t *)((char *)map + (size_t)(i + 1) * size - sizeof(slot_t));
    sl->next = free_slots;
    free_slots = sl;
  }
  return 0;
}

static int unguarded_alloc(corio__stack_t *s, size_t size) {
  corio__lock(&pool_lock);
  if (slot_size == 0) slot_size = size;
  if (size != slot_size) {
    /* Odd sizes get a mapping of their own, still without a guard page. */
    corio__unlock(&pool_lock);
    void *map = NULL;
    int rc = corio__os_reserve(size, &map);
    if (rc) return rc;
    if ((rc = corio__os_commit(map, size))) {
      corio__os_release(map, size);
      return rc;
    }
    *s = (corio__stack_t){.lo = map, .hi = (char *)map + size, .map = map, .maplen = size,
                          .size = size};
    return 0;
  }
  int rc = free_slots ? 0 : pool_refill(size);
  if (rc) {
    corio__unlock(&pool_lock);
    return rc;
  }
  slot_t *sl = free_slots;
  free_slots = sl->next;
  corio__unlock(&pool_lock);
  char *hi = (char *)(sl + 1);
  *s = (corio__stack_t){.lo = hi - size, .hi = hi, .map = NULL, .maplen = 0, .size = size};
  return 0;
}

int corio__stack_alloc(corio__stack_t *s, size_t size, int policy) {
  size = round_pages(size);
  int rc = policy == CORIO_STACK_UNGUARDED ? unguarded_alloc(s, size) : guarded_alloc(s, size);
  if (rc == 0) s->vg_id = corio__vg_stack_register(s->lo, s->hi);
  return rc;
}

void corio__stack_free(corio__stack_t *s) {
  if (!s->lo) return;
  corio__vg_stack_deregister(s->vg_id);
  if (s->map) {
    corio__os_release(s->map, s->maplen);
  } else {
    slot_t *sl = (slot_t *)s->hi - 1;
    corio__lock(&pool_lock);
    sl->next = free_slots;
    free_slots = sl;
    corio__unlock(&pool_lock);
  }
  s->lo = s->hi = s->map = NULL;
}

void corio__stack_forget(void) {
  corio__lock(&pool_lock);
  while (chunks) {
    chunk_t *c = chunks;
    chunks = c->next;
    corio__free(c);
  }
  free_slots = NULL;
  slot_size = 0;
  corio__unlock(&pool_lock);
}

void corio__stack_fini(void) {
  corio__lock(&pool_lock);
  while (chunks) {
    chunk_t *c = chunks;
    chunks = c->next;
    corio__os_release(c->map, c->len);
    corio__free(c);
  }
  free_slots = NULL;
  slot_size = 0;
  corio__unlock(&pool_lock);
}
