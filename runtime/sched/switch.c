/* Every stack switch goes through corio__switch (proc.h) and here so that
 * the sanitizers know about it: ASan must learn the new stack's bounds (or it
 * reports false stack overflows and use-after-returns), TSan must switch its
 * fiber (or it mixes the shadow state of coroutines that share a thread). */
#include "os.h"
#include "proc.h"

#ifdef CORIO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef CORIO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

unsigned char corio__ctx_fp_env;

void corio__san_switch_start(corio__san_t *fsan, corio__san_t *tsan, bool from_dies) {
#ifdef CORIO_ASAN
  if (from_dies) {
    /* The dying coroutine's live frames never return, so their redzones would
     * stay poisoned, and its stack goes to the next coroutine spawned: clear
     * the shadow from here (the deepest frame still live) to the top. */
    char *lo = __builtin_frame_address(0), *hi = (char *)fsan->bottom + fsan->size;
    if (lo >= (const char *)fsan->bottom && lo < hi)
      __asan_unpoison_memory_region(lo, (size_t)(hi - lo));
  }
  /* A dying context passes NULL so ASan frees its fake stack. */
  __sanitizer_start_switch_fiber(from_dies ? NULL : &fsan->fake_stack, tsan->bottom, tsan->size);
#endif
#ifdef CORIO_TSAN
  __tsan_switch_to_fiber(tsan->tsan_fiber, 0);
#endif
  (void)fsan;
  (void)from_dies;
  (void)tsan;
}

void corio__switch_finish(corio__san_t *san) {
#ifdef CORIO_ASAN
  __sanitizer_finish_switch_fiber(san->fake_stack, NULL, NULL);
#endif
  (void)san;
}

void corio__san_g_init(corio_g_t *g) {
  g->san.fake_stack = NULL;
  g->san.bottom = g->stack.lo;
  g->san.size = g->stack.size;
#ifdef CORIO_TSAN
  if (!g->san.tsan_fiber) g->san.tsan_fiber = __tsan_create_fiber(0);
#endif
}

void corio__san_g_fini(corio_g_t *g) {
#ifdef CORIO_TSAN
  if (g->san.tsan_fiber) __tsan_destroy_fiber(g->san.tsan_fiber);
#endif
  g->san.tsan_fiber = NULL;
}

void corio__san_m_init(corio__m_t *m) {
  void *lo;
  size_t size;
  corio__os_thread_stack_bounds(&lo, &size);
  m->g0san.fake_stack = NULL;
  m->g0san.bottom = lo;
  m->g0san.size = size;
#ifdef CORIO_TSAN
  m->g0san.tsan_fiber = __tsan_get_current_fiber();
#else
  m->g0san.tsan_fiber = NULL;
#endif
}
