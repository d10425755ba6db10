/* void *corio__ctx_switch(from = rcx, to = rdx, pass = r8) for the x64
 * Windows ABI. Returns, in the context switched to, the pass value of whoever
 * switched back into it.
 *
 * Saves what a callee must preserve on Windows (rbx rbp rdi rsi r12-r15,
 * xmm6-xmm15, MXCSR and the x87 control word) on the current stack, together
 * with the four TEB fields that belong to a stack, stores rsp in from->sp,
 * loads to->sp and restores the same from there.
 *
 * The TEB fields must follow the stack: Windows (and Wine) check every frame
 * of an SEH dispatch against StackBase (gs:0x08) and StackLimit (gs:0x10), and
 * Wine refuses to dispatch an exception at all, killing the thread, when rsp is
 * outside [DeallocationStack (gs:0x1478), StackBase]. The kernel also grows a
 * stack through its PAGE_GUARD page only inside those bounds.
 * ExceptionList (gs:0x00) is unused by 64-bit Windows itself, but Wine keeps
 * its own exception frames there and calls every one lying below the
 * faulting frame's rsp first: the thread's frames would run before the
 * coroutine's handlers. SwitchToFiber swaps it for the same reason.
 *
 * MXCSR and the x87 control word are switched only when corio__ctx_fp_env is
 * set (corio_config_t.fp_env_per_coroutine; by default they belong to the
 * thread, as in Go), and then loaded only when they differ from the current
 * thread's: loading them is slow and they almost never differ.
 *
 * GuaranteedStackBytes (gs:0x1748, what SetThreadStackGuarantee sets: the
 * room the system leaves below a stack overflow for its handlers) is a
 * property of a stack too, so it follows the coroutine as well: one
 * coroutine's guarantee does not shrink another's stack nor vanish when it
 * moves to another thread.
 *
 * The frame, from the saved sp upwards (288 bytes with the return address):
 *   [sp+0]    xmm6 .. xmm15        (10 x 16, 16-byte aligned)
 *   [sp+160]  mxcsr (4) | x87 cw (2) | 2 unused
 *   [sp+168]  StackBase
 *   [sp+176]  StackLimit
 *   [sp+184]  DeallocationStack
 *   [sp+192]  ExceptionList
 *   [sp+200]  GuaranteedStackBytes (4) | 12 unused
 *   [sp+216]  r15, r14, r13, r12, rsi, rdi, rbx, rbp
 *   [sp+280]  return address
 * corio__ctx_make (ctx_windows.c) builds the same frame for a new coroutine
 * with corio__ctx_start as the return address, entry in r12 and arg in r13.
 */
	.text

	.globl	corio__ctx_switch
	.def	corio__ctx_switch; .scl 2; .type 32; .endef
	.p2align 4
corio__ctx_switch:
	.seh_proc corio__ctx_switch
	pushq	%rbp
	.seh_pushreg %rbp
	pushq	%rbx
	.seh_pushreg %rbx
	pushq	%rdi
	.seh_pushreg %rdi
	pushq	%rsi
	.seh_pushreg %rsi
	pushq	%r12
	.seh_pushreg %r12
	pushq	%r13
	.seh_pushreg %r13
	pushq	%r14
	.seh_pushreg %r14
	pushq	%r15
	.seh_pushreg %r15
	subq	$216, %rsp
	.seh_stackalloc 216
	movaps	%xmm6, 0(%rsp)
	.seh_savexmm %xmm6, 0
	movaps	%xmm7, 16(%rsp)
	.seh_savexmm %xmm7, 16
	movaps	%xmm8, 32(%rsp)
	.seh_savexmm %xmm8, 32
	movaps	%xmm9, 48(%rsp)
	.seh_savexmm %xmm9, 48
	movaps	%xmm10, 64(%rsp)
	.seh_savexmm %xmm10, 64
	movaps	%xmm11, 80(%rsp)
	.seh_savexmm %xmm11, 80
	movaps	%xmm12, 96(%rsp)
	.seh_savexmm %xmm12, 96
	movaps	%xmm13, 112(%rsp)
	.seh_savexmm %xmm13, 112
	movaps	%xmm14, 128(%rsp)
	.seh_savexmm %xmm14, 128
	movaps	%xmm15, 144(%rsp)
	.seh_savexmm %xmm15, 144
	.seh_endprologue
	cmpb	$0, corio__ctx_fp_env(%rip)
	je	4f
	stmxcsr	160(%rsp)
	fnstcw	164(%rsp)
	movl	160(%rsp), %r9d
	movzwl	164(%rsp), %r10d
4:
	movq	%gs:0x08, %rax
	movq	%rax, 168(%rsp)
	movq	%gs:0x10, %rax
	movq	%rax, 176(%rsp)
	movq	%gs:0x1478, %rax
	movq	%rax, 184(%rsp)
	movq	%gs:0x00, %rax
	movq	%rax, 192(%rsp)
	movl	%gs:0x1748, %eax
	movl	%eax, 200(%rsp)

	movq	%rsp, (%rcx)
	movq	(%rdx), %rsp
	movq	%r8, %rax

	movq	168(%rsp), %r11
	movq	%r11, %gs:0x08
	movq	176(%rsp), %r11
	movq	%r11, %gs:0x10
	movq	184(%rsp), %r11
	movq	%r11, %gs:0x1478
	movq	192(%rsp), %r11
	movq	%r11, %gs:0x00
	movl	200(%rsp), %r11d
	movl	%r11d, %gs:0x1748
	cmpb	$0, corio__ctx_fp_env(%rip)
	je	2f
	cmpl	160(%rsp), %r9d
	jne	1f
	cmpw	164(%rsp), %r10w
	jne	1f
2:
	movaps	0(%rsp), %xmm6
	movaps	16(%rsp), %xmm7
	movaps	32(%rsp), %xmm8
	movaps	48(%rsp), %xmm9
	movaps	64(%rsp), %xmm10
	movaps	80(%rsp), %xmm11
	movaps	96(%rsp), %xmm12
	movaps	112(%rsp), %xmm13
	movaps	128(%rsp), %xmm14
	movaps	144(%rsp), %xmm15
	addq	$216, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rsi
	popq	%rdi
	popq	%rbx
	popq	%rbp
	ret
1:	ldmxcsr	160(%rsp)
	fldcw	164(%rsp)
	jmp	2b
	.seh_endproc

/* First code a new coroutine runs: entry(arg, pass), entry never returns.
 *
 * The switch "returns" here with rsp 16-byte aligned and a zero return address
 * at [rsp]; the unwind data below describes that slot as this function's
 * return address, so a stack walk ends here. Reserving 32 bytes keeps rsp
 * aligned and gives entry its shadow space.
 *
 * This frame plays the role RtlUserThreadStart plays for a thread: its
 * exception handler (corio__ctx_unhandled, ctx_windows.c) passes an exception
 * nothing on the coroutine handled to UnhandledExceptionFilter, so that the
 * process's top-level filter runs and the process ends with the exception
 * code, as it would for an unhandled exception on a thread. */
	.globl	corio__ctx_start
	.def	corio__ctx_start; .scl 2; .type 32; .endef
	.p2align 4
corio__ctx_start:
	.seh_proc corio__ctx_start
	.seh_handler corio__ctx_unhandled, @except
	subq	$32, %rsp
	.seh_stackalloc 32
	.seh_endprologue
	movq	%r13, %rcx
	movq	%rax, %rdx
	callq	*%r12
	ud2
	.seh_endproc
