/* The raw x64 Windows context switch (arch/switch_amd64_win.S, ctx_windows.c),
 * without the scheduler: two stacks from the stack allocator and the thread's
 * own stack, switched between by hand. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <windows.h>

#include "corio/runtime.h"
#include "ctx.h"
#include "os.h"
#include "stack.h"

#define STACK_SIZE ((size_t)64 * 1024)

static corio__ctx_t main_ctx;

/* ---- the TEB's stack fields ---- */

typedef struct {
  uintptr_t base, limit, dealloc, except;
} teb_stack_t;

static teb_stack_t teb_stack(void) {
  teb_stack_t t;
  __asm__ volatile("movq %%gs:0x08, %0\n\tmovq %%gs:0x10, %1\n\tmovq %%gs:0x1478, %2\n\t"
                   "movq %%gs:0x00, %3"
                   : "=r"(t.base), "=r"(t.limit), "=r"(t.dealloc), "=r"(t.except));
  return t;
}

static void new_stack(corio__stack_t *s) {
  cr_assert_eq(corio__stack_alloc(s, STACK_SIZE, CORIO_STACK_GUARDED), 0);
}

/* ---- ping-pong ---- */

#define ROUNDS 10000

static corio__ctx_t ctx_a, ctx_b;
static volatile int turn; /* who ran last: 0 main, 1 a, 2 b */
static volatile int errors;

/* a and b hand control around in a ring main -> a -> b -> main. */
static void ping(void *arg, void *pass) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    if (turn != 0) errors++;
    turn = 1;
    corio__ctx_switch(&ctx_a, &ctx_b, NULL);
  }
  for (;;) corio__ctx_switch(&ctx_a, &main_ctx, NULL);
}

static void pong(void *arg, void *pass) {
  int *count = arg;
  for (;;) {
    if (turn != 1) errors++;
    turn = 2;
    ++*count;
    corio__ctx_switch(&ctx_b, &main_ctx, NULL);
  }
}

Test(ctx_windows, ping_pong_between_two_stacks) {
  corio__stack_t sa, sb;
  new_stack(&sa);
  new_stack(&sb);
  int count = 0;
  corio__ctx_make(&ctx_a, sa.lo, sa.hi, ping, NULL);
  corio__ctx_make(&ctx_b, sb.lo, sb.hi, pong, &count);
  for (int i = 0; i < ROUNDS; i++) {
    turn = 0;
    corio__ctx_switch(&main_ctx, &ctx_a, NULL);
    cr_assert_eq(turn, 2);
    cr_assert_eq(count, i + 1);
  }
  cr_assert_eq(errors, 0);
  corio__stack_free(&sa);
  corio__stack_free(&sb);
}

/* ---- callee-saved registers ----
 * regs_switch(from, to, in, out) loads every register the Windows ABI makes
 * callee-saved (and MXCSR and the x87 control word) from in, switches, and
 * when control comes back stores them to out, then restores its caller's. The
 * other side loads different values before it switches back, so out equals in
 * only if the switch saved and restored each register. */
typedef struct {
  uint64_t gpr[8];     /* rbx rbp rdi rsi r12 r13 r14 r15 */
  uint8_t xmm[10][16]; /* xmm6 .. xmm15 */
  uint32_t mxcsr;
  uint16_t fcw;
  uint16_t pad;
} regs_t;

void regs_switch(corio__ctx_t *from, corio__ctx_t *to, const regs_t *in, regs_t *out);

__asm__(".text\n"
        ".globl regs_switch\n"
        ".def regs_switch; .scl 2; .type 32; .endef\n"
        ".p2align 4\n"
        "regs_switch:\n"
        ".seh_proc regs_switch\n"
        "  pushq %rbp\n .seh_pushreg %rbp\n"
        "  pushq %rbx\n .seh_pushreg %rbx\n"
        "  pushq %rdi\n .seh_pushreg %rdi\n"
        "  pushq %rsi\n .seh_pushreg %rsi\n"
        "  pushq %r12\n .seh_pushreg %r12\n"
        "  pushq %r13\n .seh_pushreg %r13\n"
        "  pushq %r14\n .seh_pushreg %r14\n"
        "  pushq %r15\n .seh_pushreg %r15\n"
        /* [rsp] shadow space, [rsp+32] the caller's xmm6-15, [rsp+192] out,
         * [rsp+200] the caller's mxcsr and x87 cw. */
        "  subq $216, %rsp\n .seh_stackalloc 216\n"
        "  movaps %xmm6, 32(%rsp)\n .seh_savexmm %xmm6, 32\n"
        "  movaps %xmm7, 48(%rsp)\n .seh_savexmm %xmm7, 48\n"
        "  movaps %xmm8, 64(%rsp)\n .seh_savexmm %xmm8, 64\n"
        "  movaps %xmm9, 80(%rsp)\n .seh_savexmm %xmm9, 80\n"
        "  movaps %xmm10, 96(%rsp)\n .seh_savexmm %xmm10, 96\n"
        "  movaps %xmm11, 112(%rsp)\n .seh_savexmm %xmm11, 112\n"
        "  movaps %xmm12, 128(%rsp)\n .seh_savexmm %xmm12, 128\n"
        "  movaps %xmm13, 144(%rsp)\n .seh_savexmm %xmm13, 144\n"
        "  movaps %xmm14, 160(%rsp)\n .seh_savexmm %xmm14, 160\n"
        "  movaps %xmm15, 176(%rsp)\n .seh_savexmm %xmm15, 176\n"
        ".seh_endprologue\n"
        "  movq %r9, 192(%rsp)\n"
        "  stmxcsr 200(%rsp)\n"
        "  fnstcw 204(%rsp)\n"
        "  movq 0(%r8), %rbx\n  movq 8(%r8), %rbp\n  movq 16(%r8), %rdi\n  movq 24(%r8), %rsi\n"
        "  movq 32(%r8), %r12\n  movq 40(%r8), %r13\n  movq 48(%r8), %r14\n  movq 56(%r8), %r15\n"
        "  movups 64(%r8), %xmm6\n  movups 80(%r8), %xmm7\n  movups 96(%r8), %xmm8\n"
        "  movups 112(%r8), %xmm9\n  movups 128(%r8), %xmm10\n  movups 144(%r8), %xmm11\n"
        "  movups 160(%r8), %xmm12\n  movups 176(%r8), %xmm13\n  movups 192(%r8), %xmm14\n"
        "  movups 208(%r8), %xmm15\n"
        "  ldmxcsr 224(%r8)\n  fldcw 228(%r8)\n"
        "  callq corio__ctx_switch\n"
        "  movq 192(%rsp), %rax\n"
        "  movq %rbx, 0(%rax)\n  movq %rbp, 8(%rax)\n  movq %rdi, 16(%rax)\n  movq %rsi, 24(%rax)\n"
        "  movq %r12, 32(%rax)\n  movq %r13, 40(%rax)\n  movq %r14, 48(%rax)\n  movq %r15, 56(%rax)\n"
        "  movups %xmm6, 64(%rax)\n  movups %xmm7, 80(%rax)\n  movups %xmm8, 96(%rax)\n"
        "  movups %xmm9, 112(%rax)\n  movups %xmm10, 128(%rax)\n  movups %xmm11, 144(%rax)\n"
        "  movups %xmm12, 160(%rax)\n  movups %xmm13, 176(%rax)\n  movups %xmm14, 192(%rax)\n"
        "  movups %xmm15, 208(%rax)\n"
        "  stmxcsr 224(%rax)\n  fnstcw 228(%rax)\n"
        "  ldmxcsr 200(%rsp)\n  fldcw 204(%rsp)\n"
        "  movaps 32(%rsp), %xmm6\n  movaps 48(%rsp), %xmm7\n  movaps 64(%rsp), %xmm8\n"
        "  movaps 80(%rsp), %xmm9\n  movaps 96(%rsp), %xmm10\n  movaps 112(%rsp), %xmm11\n"
        "  movaps 128(%rsp), %xmm12\n  movaps 144(%rsp), %xmm13\n  movaps 160(%rsp), %xmm14\n"
        "  movaps 176(%rsp), %xmm15\n"
        "  addq $216, %rsp\n"
        "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n"
        "  popq %rsi\n  popq %rdi\n  popq %rbx\n  popq %rbp\n"
        "  ret\n"
        ".seh_endproc\n");

static regs_t in_main, out_main, in_co, out_co;
static corio__ctx_t ctx_regs;

static void fill(regs_t *r, uint8_t seed, uint32_t mxcsr, uint16_t fcw) {
  memset(r, 0, sizeof *r);
  for (int i = 0; i < 8; i++) r->gpr[i] = 0x0101010101010101ull * (uint64_t)(seed + i) ^ 0x8000000000000001ull;
  for (int i = 0; i < 10; i++)
    for (int j = 0; j < 16; j++) r->xmm[i][j] = (uint8_t)(seed * 7 + i * 16 + j);
  r->mxcsr = mxcsr;
  r->fcw = fcw;
}

static void regs_co(void *arg, void *pass) {
  (void)arg;
  /* Round toward zero and single precision here, nearest and double precision
   * on the main side: each side must get its own modes back. */
  regs_switch(&ctx_regs, &main_ctx, &in_co, &out_co);
  for (;;) corio__ctx_switch(&ctx_regs, &main_ctx, NULL);
}

static void check_regs(const regs_t *want, const regs_t *got, const char *side) {
  for (int i = 0; i < 8; i++)
    cr_assert_eq(got->gpr[i], want->gpr[i], "%s: general register %d", side, i);
  for (int i = 0; i < 10; i++)
    cr_assert_arr_eq(got->xmm[i], want->xmm[i], 16, "%s: xmm%d", side, i + 6);
  cr_assert_eq(got->mxcsr & 0xFFC0, want->mxcsr & 0xFFC0, "%s: MXCSR control bits", side);
  cr_assert_eq(got->fcw & 0x1F3F, want->fcw & 0x1F3F, "%s: x87 control word", side);
}

Test(ctx_windows, callee_saved_registers_survive_switches) {
  corio__stack_t s;
  new_stack(&s);
  corio__ctx_fp_env = 1; /* the control words too (corio_config_t.fp_env_per_coroutine) */
  fill(&in_main, 0x11, 0x1F80, 0x027F);
  fill(&in_co, 0xA5, 0x7F80, 0x007F);
  corio__ctx_make(&ctx_regs, s.lo, s.hi, regs_co, NULL);
  /* main -> co: co loads in_co and switches back; main finds in_main again. */
  regs_switch(&main_ctx, &ctx_regs, &in_main, &out_main);
  check_regs(&in_main, &out_main, "main");
  /* main -> co again with other values: co finds in_co. */
  fill(&in_main, 0x5A, 0x3F80, 0x037F);
  regs_switch(&main_ctx, &ctx_regs, &in_main, &out_main);
  check_regs(&in_co, &out_co, "coroutine");
  check_regs(&in_main, &out_main, "main, second round");
  corio__ctx_fp_env = 0;
  corio__stack_free(&s);
}

/* ---- the first frame ---- */

uintptr_t entry_rsp; /* written by probe_entry (assembly) */
static uint32_t entry_mxcsr;
static uint16_t entry_fcw;
static corio__ctx_t ctx_probe;

void probe_entry(void *arg, void *pass);
void probe_body(void *arg, void *pass);
/* Records rsp as entry(arg) finds it, then runs probe_body. */
__asm__(".text\n"
        ".globl probe_entry\n"
        ".def probe_entry; .scl 2; .type 32; .endef\n"
        "probe_entry:\n"
        "  movq %rsp, entry_rsp(%rip)\n"
        "  jmp probe_body\n");

void probe_body(void *arg, void *pass) {
  (void)arg;
  __asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(entry_mxcsr), "=m"(entry_fcw));
  for (;;) corio__ctx_switch(&ctx_probe, &main_ctx, NULL);
}

Test(ctx_windows, entry_gets_aligned_stack_shadow_space_and_default_fp_modes) {
  corio__stack_t s;
  new_stack(&s);
  corio__ctx_fp_env = 1; /* a new context starts with the default modes */
  corio__ctx_make(&ctx_probe, s.lo, s.hi, probe_entry, NULL);
  corio__ctx_switch(&main_ctx, &ctx_probe, NULL);
  corio__ctx_fp_env = 0;
  /* After a call rsp is 8 mod 16 (the return address), and the 32 bytes above
   * the return address are the callee's shadow space. */
  cr_assert_eq(entry_rsp % 16, 8);
  cr_assert_leq(entry_rsp + 8 + 32, (uintptr_t)s.hi);
  cr_assert_gt(entry_rsp, (uintptr_t)s.hi - 512);
  cr_assert_eq(entry_mxcsr & 0xFFC0, 0x1F80);
  cr_assert_eq(entry_fcw & 0x1F3F, 0x027F & 0x1F3F);
  corio__stack_free(&s);
}

/* ---- TEB stack fields ---- */

static teb_stack_t teb_in_a, teb_in_b, teb_in_a_again;
static corio__ctx_t ctx_ta, ctx_tb;

static void teb_a(void *arg, void *pass) {
  (void)arg;
  teb_in_a = teb_stack();
  corio__ctx_switch(&ctx_ta, &ctx_tb, NULL);
  teb_in_a_again = teb_stack();
  for (;;) corio__ctx_switch(&ctx_ta, &main_ctx, NULL);
}

static void teb_b(void *arg, void *pass) {
  (void)arg;
  teb_in_b = teb_stack();
  corio__ctx_switch(&ctx_tb, &ctx_ta, NULL);
  for (;;) corio__ctx_switch(&ctx_tb, &main_ctx, NULL);
}

static void check_teb(teb_stack_t t, const corio__stack_t *s, const char *who) {
  size_t page = corio__os_page_size();
  cr_assert_eq(t.base, (uintptr_t)s->hi, "%s: StackBase", who);
  cr_assert_eq(t.limit, (uintptr_t)s->lo, "%s: StackLimit", who);
  cr_assert_eq(t.except, UINTPTR_MAX, "%s: ExceptionList starts empty", who);
  /* DeallocationStack: below the guard page, inside the same reservation. */
  cr_assert_leq(t.dealloc, (uintptr_t)s->lo - page, "%s: DeallocationStack", who);
  cr_assert_geq(t.dealloc, (uintptr_t)s->lo - 64 * 1024, "%s: DeallocationStack", who);
  MEMORY_BASIC_INFORMATION mi;
  cr_assert_neq(VirtualQuery((void *)t.dealloc, &mi, sizeof mi), 0);
  cr_assert_eq((uintptr_t)mi.AllocationBase, t.dealloc, "%s: DeallocationStack is the reservation", who);
  /* The page right below the stack is its guard. */
  cr_assert_neq(VirtualQuery((char *)s->lo - page, &mi, sizeof mi), 0);
  cr_assert(mi.State == MEM_COMMIT && (mi.Protect & PAGE_GUARD), "%s: guard page (state %lx protect %lx)",
            who, (unsigned long)mi.State, (unsigned long)mi.Protect);
}

Test(ctx_windows, teb_stack_fields_follow_the_stack) {
  corio__stack_t sa, sb;
  new_stack(&sa);
  new_stack(&sb);
  teb_stack_t before = teb_stack();
  corio__ctx_make(&ctx_ta, sa.lo, sa.hi, teb_a, NULL);
  corio__ctx_make(&ctx_tb, sb.lo, sb.hi, teb_b, NULL);
  corio__ctx_switch(&main_ctx, &ctx_ta, NULL); /* main -> a -> b -> a -> main */
  teb_stack_t after = teb_stack();
  check_teb(teb_in_a, &sa, "a");
  check_teb(teb_in_b, &sb, "b");
  check_teb(teb_in_a_again, &sa, "a, resumed");
  cr_assert_eq(after.base, before.base);
  cr_assert_eq(after.limit, before.limit);
  cr_assert_eq(after.dealloc, before.dealloc);
  cr_assert_eq(after.except, before.except);
  uintptr_t here = (uintptr_t)&after;
  cr_assert(here > after.limit && here < after.base, "main's own stack is described again");
  corio__stack_free(&sa);
  corio__stack_free(&sb);
}

/* corio__ctx_make remembers DeallocationStack in the stack's top word; a
 * reused stack must get the same answer, and a stack carved from a shared
 * reservation (unguarded) has no guard of its own: its neighbour's memory is
 * not stack space for it. */
static corio__ctx_t ctx_tr;

static void teb_report(void *arg, void *pass) {
  teb_stack_t *out = arg;
  for (;;) {
    *out = teb_stack();
    corio__ctx_switch(&ctx_tr, &main_ctx, NULL);
  }
}

static teb_stack_t teb_on(const corio__stack_t *s) {
  teb_stack_t t;
  corio__ctx_make(&ctx_tr, s->lo, s->hi, teb_report, &t);
  corio__ctx_switch(&main_ctx, &ctx_tr, NULL);
  return t;
}

static void check_carved(const corio__stack_t *s) {
  teb_stack_t t = teb_on(s);
  MEMORY_BASIC_INFORMATION mi;
  cr_assert_neq(VirtualQuery((char *)s->lo - 1, &mi, sizeof mi), 0);
  cr_assert_eq(t.base, (uintptr_t)s->hi);
  if (mi.State == MEM_COMMIT && mi.Protect == PAGE_READWRITE)
    cr_assert_eq(t.dealloc, (uintptr_t)s->lo, "a neighbour below: no guard area");
  else
    cr_assert_leq(t.dealloc, (uintptr_t)s->lo - corio__os_page_size(), "the chunk's bottom: guarded");
}

Test(ctx_windows, deallocation_stack_of_reused_and_carved_stacks) {
  corio__stack_t g;
  new_stack(&g);
  teb_stack_t first = teb_on(&g), again = teb_on(&g);
  cr_assert_eq(again.dealloc, first.dealloc);
  cr_assert_eq(again.limit, first.limit);
  cr_assert_eq(again.base, first.base);
  corio__stack_free(&g);

  corio__stack_t u1, u2;
  cr_assert_eq(corio__stack_alloc(&u1, STACK_SIZE, CORIO_STACK_UNGUARDED), 0);
  cr_assert_eq(corio__stack_alloc(&u2, STACK_SIZE, CORIO_STACK_UNGUARDED), 0);
  check_carved(&u1);
  check_carved(&u2);
  /* Freed and taken again: the allocator's free-list link now sits in the
   * top word and must not pass for a remembered answer. */
  void *lo2 = u2.lo;
  corio__stack_free(&u2);
  cr_assert_eq(corio__stack_alloc(&u2, STACK_SIZE, CORIO_STACK_UNGUARDED), 0);
  cr_assert_eq(u2.lo, lo2, "the pool hands the same slot back");
  check_carved(&u2);
  corio__stack_free(&u1);
  corio__stack_free(&u2);
  corio__stack_fini();
}

/* ---- SEH on a coroutine stack ---- */

static corio__ctx_t ctx_seh;
static corio__stack_t seh_stack;
static volatile int seh_bad_null, seh_bad_valid, seh_steps, seh_saw_start, seh_off_stack;
static volatile DWORD64 seh_last_rip;
void corio__ctx_start(void);

/* Walk this coroutine's stack with the unwinder the exception dispatcher uses:
 * every frame must lie on the coroutine stack, and the walk must end (a zero
 * return address) right after corio__ctx_start's frame. */
static void walk_stack(void) {
  CONTEXT c;
  RtlCaptureContext(&c);
  uintptr_t start = (uintptr_t)corio__ctx_start;
  while (c.Rip && seh_steps < 64) {
    if (c.Rsp < (uintptr_t)seh_stack.lo || c.Rsp >= (uintptr_t)seh_stack.hi) seh_off_stack++;
    if (c.Rip > start && c.Rip < start + 64) seh_saw_start = 1;
    DWORD64 image;
    PRUNTIME_FUNCTION fn = RtlLookupFunctionEntry(c.Rip, &image, NULL);
    if (fn) {
      void *handler_data;
      DWORD64 frame;
      RtlVirtualUnwind(UNW_FLAG_NHANDLER, image, c.Rip, fn, &c, &handler_data, &frame, NULL);
    } else { /* a leaf function: the return address is at rsp */
      c.Rip = *(DWORD64 *)c.Rsp;
      c.Rsp += 8;
    }
    seh_steps++;
  }
  seh_last_rip = c.Rip;
}

/* seh_guarded_call(fn) calls fn in a frame whose language handler,
 * seh_test_handler, continues after TEST_SEH_CODE: frame-based SEH as a C
 * compiler's __try would set it up. The dispatcher accepts the frame only if
 * it lies between the TEB's StackLimit and StackBase. */
#define TEST_SEH_CODE 0xE0000123u
static volatile int seh_handled;

EXCEPTION_DISPOSITION seh_test_handler(EXCEPTION_RECORD *rec, void *frame, CONTEXT *ctx, void *dispatch);
EXCEPTION_DISPOSITION seh_test_handler(EXCEPTION_RECORD *rec, void *frame, CONTEXT *ctx, void *dispatch) {
  (void)frame;
  (void)ctx;
  (void)dispatch;
  if (rec->ExceptionCode != TEST_SEH_CODE || (rec->ExceptionFlags & EXCEPTION_UNWINDING))
    return ExceptionContinueSearch;
  seh_handled++;
  return ExceptionContinueExecution;
}

void seh_guarded_call(void (*fn)(void));
__asm__(".text\n"
        ".globl seh_guarded_call\n"
        ".def seh_guarded_call; .scl 2; .type 32; .endef\n"
        "seh_guarded_call:\n"
        ".seh_proc seh_guarded_call\n"
        ".seh_handler seh_test_handler, @except\n"
        "  subq $40, %rsp\n .seh_stackalloc 40\n"
        ".seh_endprologue\n"
        "  callq *%rcx\n"
        "  nop\n"
        "  addq $40, %rsp\n"
        "  ret\n"
        ".seh_endproc\n");

static void raise_test_exception(void) { RaiseException(TEST_SEH_CODE, 0, 0, NULL); }

static void seh_co(void *arg, void *pass) {
  (void)arg;
  seh_guarded_call(raise_test_exception);
  /* IsBadReadPtr catches the access violation of its probe inside the system
   * DLLs. */
  static int valid;
  seh_bad_null = IsBadReadPtr(NULL, 1);
  seh_bad_valid = IsBadReadPtr(&valid, sizeof valid);
  walk_stack();
  for (;;) corio__ctx_switch(&ctx_seh, &main_ctx, NULL);
}

Test(ctx_windows, seh_works_on_a_coroutine_stack) {
  new_stack(&seh_stack);
  corio__ctx_make(&ctx_seh, seh_stack.lo, seh_stack.hi, seh_co, NULL);
  corio__ctx_switch(&main_ctx, &ctx_seh, NULL);
  cr_assert_eq(seh_handled, 1, "the frame handler on the coroutine stack ran once");
  cr_assert_eq(seh_bad_null, 1, "IsBadReadPtr(NULL, 1)");
  cr_assert_eq(seh_bad_valid, 0, "IsBadReadPtr(valid)");
  cr_assert_eq(seh_last_rip, 0, "the walk ends with a zero return address");
  cr_assert(seh_saw_start, "the walk passes corio__ctx_start");
  cr_assert_eq(seh_off_stack, 0, "frames outside the coroutine stack");
  cr_assert_lt(seh_steps, 16);
  corio__stack_free(&seh_stack);
}

/* ---- unhandled exceptions and overflow ---- */

static corio__ctx_t ctx_crash;
#define TEST_EXCEPTION 0xE0C0FFEEu

static LONG WINAPI exit_42_on_test_exception(EXCEPTION_POINTERS *ep) {
  if (ep->ExceptionRecord->ExceptionCode == TEST_EXCEPTION) TerminateProcess(GetCurrentProcess(), 42);
  return EXCEPTION_CONTINUE_SEARCH;
}

static void raise_co(void *arg, void *pass) {
  (void)arg;
  RaiseException(TEST_EXCEPTION, 0, 0, NULL);
  for (;;) corio__ctx_switch(&ctx_crash, &main_ctx, NULL);
}

/* An exception nothing on the coroutine handles reaches the process's
 * top-level filter, as one on a thread does. */
Test(ctx_windows, unhandled_exception_reaches_the_top_level_filter, .exit_code = 42) {
  corio__stack_t s;
  new_stack(&s);
  SetUnhandledExceptionFilter(exit_42_on_test_exception);
  corio__ctx_make(&ctx_crash, s.lo, s.hi, raise_co, NULL);
  corio__ctx_switch(&main_ctx, &ctx_crash, NULL);
  cr_assert_fail("the exception was ignored");
}

static int recurse(volatile char *prev, int depth) {
  volatile char buf[512];
  buf[0] = (char)depth;
  if (prev) buf[1] = prev[0];
  return recurse(buf, depth + 1) + buf[0];
}

static void overflow_co(void *arg, void *pass) {
  (void)arg;
  recurse(NULL, 0);
  for (;;) corio__ctx_switch(&ctx_crash, &main_ctx, NULL);
}

/* The guard page below a coroutine stack turns an overflow into
 * STATUS_STACK_OVERFLOW, which the runtime reports before ending the process:
 * a crash, not a silently dead thread. */
Test(ctx_windows, stack_overflow_is_reported_as_a_crash, .signal = SIGSEGV) {
  corio__os_thread_setup();
  corio__stack_t s;
  new_stack(&s);
  corio__ctx_make(&ctx_crash, s.lo, s.hi, overflow_co, NULL);
  corio__ctx_switch(&main_ctx, &ctx_crash, NULL);
  cr_assert_fail("recursion without end returned");
}
