/* yield_rt floor: a bare register switch between two stacks.
 *
 * The switch saves the six callee-saved registers of the x86-64 System V ABI
 * on the old stack, swaps stack pointers and restores them from the new stack:
 * the least any stackful coroutine switch can do (no signal mask, no FPU
 * control words, no scheduler). A round trip is two switches: main -> other ->
 * main, which is what a yield round trip between two coroutines costs at least.
 *
 * Methodology: one sample times P_BATCH round trips (a clock read per round
 * trip would cost more than the switch); P_SMALL_WARM batches of warm-up, then
 * P_YIELD_SAMPLES samples; the value per sample is the batch time / P_BATCH.
 */
#include <stdint.h>
#include <stdlib.h>

#include "floor.h"

#if defined(__x86_64__)

/* void floor_switch(void **save_sp, void *load_sp) */
__asm__(".text\n"
        ".globl floor_switch\n"
        ".type floor_switch,@function\n"
        "floor_switch:\n"
        "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
        "  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n"
        "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
        "  ret\n"
        ".size floor_switch, .-floor_switch\n");
void floor_switch(void **save_sp, void *load_sp);

static void *main_sp, *other_sp;
static volatile uint64_t other_turns;

static void other_entry(void) {
  for (;;) { /* never returns: main simply stops switching to it */
    other_turns++;
    floor_switch(&other_sp, main_sp);
  }
}

/* A fresh stack whose first switch "returns" into other_entry with the
 * alignment a called function expects (rsp % 16 == 8 at entry). */
static void *make_stack(size_t size) {
  char *base = malloc(size);
  if (!base)
    bench_die("out of memory");
  uintptr_t top = ((uintptr_t)(base + size) & ~(uintptr_t)15) - 8;
  void **sp = (void **)top;
  *--sp = (void *)other_entry; /* return address */
  for (int i = 0; i < 6; i++)
    *--sp = NULL; /* rbp rbx r12 r13 r14 r15 */
  return sp;
}

void floor_yield_rt(const bench_opts_t *o) {
  int warm = BENCH_PICK(o, P_SMALL_WARM), n = BENCH_PICK(o, P_YIELD_SAMPLES);
  bench_samples_t s;
  bench_samples_init(&s, (size_t)n);
  other_sp = make_stack(64 * 1024);
  for (int i = -warm; i < n; i++) {
    int64_t t0 = bench_now_ns();
    for (int j = 0; j < P_BATCH; j++)
      floor_switch(&main_sp, other_sp);
    int64_t t1 = bench_now_ns();
    if (i >= 0) {
      bench_samples_add(&s, t1 - t0, P_BATCH);
      bench_progress(FLOOR_IMPL, "round trips", (uint64_t)i + 1, (uint64_t)n);
    }
  }
  if (other_turns != (uint64_t)(warm + n) * P_BATCH)
    bench_die("switch lost turns");
  bench_emit_ns(o, FLOOR_IMPL, &s, -1, "bare callee-saved register switch, 2 per round trip");
  bench_samples_free(&s);
}

#else

void floor_yield_rt(const bench_opts_t *o) {
  bench_emit_skip(o, FLOOR_IMPL, "bare switch written for x86-64 only");
}

#endif
