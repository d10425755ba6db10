/* void *corio__ctx_switch(from = rdi, to = rsi, pass = rdx) for x86-64 System V.
 * Saves the callee-saved integer registers on the current stack, stores rsp in
 * from->sp, loads to->sp and restores. Returns, in the context switched to,
 * the pass value of whoever switched back into it (the scheduler hands over
 * its M that way, without a TLS read after the switch).
 *
 * MXCSR and the x87 control word (rounding modes, exception masks) are only
 * switched when corio__ctx_fp_env is set (corio_config_t.fp_env_per_coroutine):
 * storing them costs about as much as the rest of the switch, and by default
 * they belong to the thread, as in Go. When switched, they are loaded only
 * when they differ from the current ones (loading is the slow part).
 *
 * The frame, from the saved sp upwards (the same whether or not the control
 * words are switched, so ctx_make has one layout):
 *   [sp+0]  mxcsr (4 bytes) | x87 cw (2 bytes), when switched
 *   [sp+8]  r15, r14, r13, r12, rbx, rbp
 *   [sp+56] return address
 * corio__ctx_make (ctx_unix.c) builds the same frame for a new coroutine, with
 * corio__ctx_trampoline as the return address, entry in r13 and arg in r12. */
	.text
	.hidden	corio__ctx_fp_env
	.globl	corio__ctx_switch
	.hidden	corio__ctx_switch
	.type	corio__ctx_switch, @function
	.p2align 4
corio__ctx_switch:
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$8, %rsp
	cmpb	$0, corio__ctx_fp_env(%rip)
	jne	3f
	movq	%rsp, (%rdi)
	movq	(%rsi), %rsp
	movq	%rdx, %rax
2:	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
3:	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movl	(%rsp), %r8d
	movzwl	4(%rsp), %r9d
	movq	%rsp, (%rdi)
	movq	(%rsi), %rsp
	movq	%rdx, %rax
	cmpl	(%rsp), %r8d
	jne	1f
	cmpw	4(%rsp), %r9w
	je	2b
1:	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	jmp	2b
	.cfi_endproc
	.size	corio__ctx_switch, .-corio__ctx_switch

/* First code a new coroutine runs: entry(arg, pass). entry never returns. */
	.globl	corio__ctx_trampoline
	.hidden	corio__ctx_trampoline
	.type	corio__ctx_trampoline, @function
	.p2align 4
corio__ctx_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	xorl	%ebp, %ebp
	movq	%r12, %rdi
	movq	%rax, %rsi
	callq	*%r13
	ud2
	.cfi_endproc
	.size	corio__ctx_trampoline, .-corio__ctx_trampoline

	.section .note.GNU-stack,"",@progbits
