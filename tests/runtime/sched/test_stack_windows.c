/* Coroutine stacks commit on demand on Windows (issue 13, item 1), as fibers'
 * do: a parked coroutine's stack is reserved, not committed, below the part
 * it touched; a deep recursion grows it through the guard page, with the
 * TEB's StackLimit following; an overflow is still reported (test_ctx_windows
 * and test_sched check that). Checked with VirtualQuery, under Wine too. */
#include <winsock2.h>
#include <windows.h>

#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <psapi.h>

#include "corio/runtime.h"
#include "ctx.h"
#include "os.h"
#include "stack.h"

static uintptr_t teb_limit(void) {
  uintptr_t v;
  __asm__ volatile("movq %%gs:0x10, %0" : "=r"(v));
  return v;
}

/* How the page holding addr is mapped. */
static DWORD page_state(uintptr_t addr) {
  MEMORY_BASIC_INFORMATION mi;
  cr_assert_neq(VirtualQuery((void *)addr, &mi, sizeof mi), 0);
  return mi.State;
}

/* Committed bytes of [lo, hi), page by page. */
static size_t committed(uintptr_t lo, uintptr_t hi) {
  size_t n = 0;
  for (uintptr_t a = lo; a < hi;) {
    MEMORY_BASIC_INFORMATION mi;
    cr_assert_neq(VirtualQuery((void *)a, &mi, sizeof mi), 0);
    uintptr_t end = (uintptr_t)mi.BaseAddress + mi.RegionSize;
    if (end > hi) end = hi;
    if (mi.State == MEM_COMMIT) n += end - a;
    a = end;
  }
  return n;
}

static corio__ctx_t main_ctx, co_ctx;
static uintptr_t co_sp, co_deep_sp, co_limit_before, co_limit_after;

static int __attribute__((noinline)) dig(volatile char *prev, int depth) {
  volatile char buf[1024];
  buf[0] = (char)depth;
  if (prev) buf[1] = prev[0];
  if (depth == 0) {
    co_deep_sp = (uintptr_t)buf;
    co_limit_after = teb_limit();
    return buf[0];
  }
  return dig(buf, depth - 1) + buf[0];
}

static void grow_co(void *arg, void *pass) {
  volatile char here = 0;
  co_sp = (uintptr_t)&here;
  co_limit_before = teb_limit();
  corio__ctx_switch(&co_ctx, &main_ctx, NULL); /* parked, shallow */
  dig(NULL, (int)(intptr_t)arg);               /* about 1 KiB a level */
  for (;;) corio__ctx_switch(&co_ctx, &main_ctx, NULL);
}

Test(stack_windows, parked_stack_is_reserved_below_what_it_touched_and_grows) {
  corio__os_thread_setup();
  corio__stack_t s;
  size_t size = 256 * 1024;
  cr_assert_eq(corio__stack_alloc(&s, size, CORIO_STACK_GUARDED), 0);
  uintptr_t lo = (uintptr_t)s.lo, hi = (uintptr_t)s.hi;
  corio__ctx_make(&co_ctx, s.lo, s.hi, grow_co, (void *)(intptr_t)150);
  corio__ctx_switch(&main_ctx, &co_ctx, NULL);
  size_t shallow = committed(lo, hi);
  printf("stack_windows: a parked coroutine's 256 KiB stack has %zu KiB committed "
         "(StackLimit %zu KiB below the top)\n", shallow / 1024, (hi - co_limit_before) / 1024);
  cr_assert_eq(page_state(co_sp), MEM_COMMIT);
  cr_assert_eq(page_state(lo), MEM_RESERVE, "the bottom is not committed");
  cr_assert_eq(page_state(hi - 64 * 1024), MEM_RESERVE, "64 KiB down is not committed");
  cr_assert_lt(shallow, (size_t)32 * 1024);
  cr_assert_leq(co_limit_before, co_sp);
  /* A recursion of about 150 KiB commits its way down. */
  corio__ctx_switch(&main_ctx, &co_ctx, NULL);
  size_t deep = committed(lo, hi);
  printf("stack_windows: after a recursion of about 150 KiB, %zu KiB committed, StackLimit "
         "%zu KiB below the top\n", deep / 1024, (hi - co_limit_after) / 1024);
  cr_assert_eq(page_state(co_deep_sp), MEM_COMMIT);
  cr_assert_geq(deep, (size_t)150 * 1024);
  cr_assert_lt(deep, size);
  cr_assert_leq(co_limit_after, co_deep_sp, "StackLimit followed the growth");
  cr_assert_eq(page_state(lo), MEM_RESERVE, "still reserved at the bottom");
  corio__stack_free(&s);
}

/* Through the scheduler: 10000 parked coroutines on default (256 KiB,
 * guarded) stacks commit a few pages each, not 256 KiB: about 2.5 GiB of
 * commit charge before, a few tens of MiB now. The process's commit charge
 * (PrivateUsage) is printed where the system reports it. */
#define MANY 10000
static corio_g_t *parked[MANY];
static atomic_int nparked, ndone;
static uintptr_t spots[MANY];

static bool note(corio_g_t *g, void *arg) {
  parked[(intptr_t)arg] = g;
  atomic_fetch_add(&nparked, 1);
  return true;
}

static void parker(void *arg) {
  volatile char here = 0;
  spots[(intptr_t)arg] = (uintptr_t)&here;
  corio_park(note, arg, "test");
  atomic_fetch_add(&ndone, 1);
}

static size_t private_usage(void) {
  PROCESS_MEMORY_COUNTERS_EX pmc = {.cb = sizeof pmc};
  return GetProcessMemoryInfo(GetCurrentProcess(), (PROCESS_MEMORY_COUNTERS *)&pmc, sizeof pmc)
             ? pmc.PrivateUsage
             : 0;
}

static size_t many_committed, many_usage_before, many_usage_after;
static int many_reserved_bad;

static int many_main(void *arg) {
  (void)arg;
  many_usage_before = private_usage();
  for (int i = 0; i < MANY; i++)
    if (corio_spawn(parker, (void *)(intptr_t)i) != 0) return 1;
  while (atomic_load(&nparked) < MANY) corio_yield();
  many_usage_after = private_usage();
  /* 200 KiB below each parked frame: reserved, not committed. */
  for (int i = 0; i < MANY; i++) {
    uintptr_t bottom = spots[i] - 200 * 1024;
    MEMORY_BASIC_INFORMATION mi;
    if (!VirtualQuery((void *)bottom, &mi, sizeof mi) || mi.State != MEM_RESERVE) many_reserved_bad++;
    many_committed += committed(bottom, spots[i]);
  }
  for (int i = 0; i < MANY; i++) corio_ready(parked[i]);
  while (atomic_load(&ndone) < MANY) corio_yield();
  return 0;
}

Test(stack_windows, ten_thousand_parked_coroutines_commit_a_few_pages_each, .timeout = 120) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = 2;
  int st = -1;
  cr_assert_eq(corio_run(&cfg, many_main, NULL, &st), 0);
  cr_assert_eq(st, 0);
  printf("stack_windows: %d parked coroutines on 256 KiB stacks: %zu KiB committed below their "
         "frames in all; commit charge (PrivateUsage) %zu KiB before, %zu KiB with them parked\n",
         MANY, many_committed / 1024, many_usage_before / 1024, many_usage_after / 1024);
  fflush(stdout);
  cr_assert_eq(many_reserved_bad, 0, "every stack reserved 200 KiB below its frame");
  cr_assert_lt(many_committed, (size_t)MANY * 16 * 1024);
  if (many_usage_after > many_usage_before)
    cr_assert_lt(many_usage_after - many_usage_before, (size_t)MANY * 64 * 1024);
}
